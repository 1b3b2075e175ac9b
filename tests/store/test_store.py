"""The store's write and read semantics, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from efa_core.connectors import Delete
from efa_core.errors import ConfigError
from efa_core.model import Area
from efa_core.serialization import content_hash, record_from_dict
from efa_core.store import (
    Operation,
    Quarantined,
    RunMode,
    RunStatus,
    Store,
    mask_url,
    open_store,
)
from efa_core.store._backend import sqlite_path
from efa_core.store._prepare import prepare

from .helpers import area, mirror_state, replay_history, service

SNAP, FEED = RunMode.SNAPSHOT, RunMode.CHANGE_FEED


def apply(store: Store, run_id: str, source: str, *changes, mode=SNAP, complete=False, cursor="c"):
    return store.apply(
        run_id, source, [prepare(c) for c in changes], cursor=cursor, complete=complete, mode=mode
    )


def test_new_store_is_empty_and_at_latest_version(store: Store) -> None:
    from efa_core.store import LATEST_VERSION

    assert store.schema_version() == LATEST_VERSION
    assert list(store.records()) == []
    assert store.source_states() == []
    assert store.check_integrity() == []


def test_add_change_unchanged_delete_orphan(store: Store) -> None:
    run = store.begin_run("feed", FEED).run_id
    first = apply(
        store, run, "feed", area("16", "Thüringen"), area("15", "Sachsen-Anhalt"), mode=FEED
    )
    assert (first.added, first.changed, first.unchanged) == (2, 0, 0)
    second = apply(
        store,
        run,
        "feed",
        area("16", "Thüringen"),  # same content
        area("15", "Sachsen-Anhalt!"),  # changed
        Delete("area", "16"),
        Delete("area", "01"),  # never seen
        mode=FEED,
    )
    assert second.counts() == {
        "added": 0,
        "changed": 1,
        "unchanged": 1,
        "deleted": 1,
        "orphan_deletes": 1,
        "quarantined": 0,
        "skipped": 0,
    }
    assert [type(c).__name__ for c in second.applied] == ["Upsert", "Delete"]
    gone = store.get("feed", "area", "16", include_deleted=True)
    assert gone is not None
    assert gone.deleted
    assert store.get("feed", "area", "16") is None
    assert gone.to_record() == Area(ars=gone.to_record().ars, name="Thüringen")
    # a tombstone that is deleted again is an orphan delete; an upsert brings it back
    third = apply(store, run, "feed", Delete("area", "16"), area("16", "Thüringen"), mode=FEED)
    assert (third.orphan_deletes, third.added) == (1, 1)
    assert store.get("feed", "area", "16") is not None
    ops = [(h.natural_key, h.op, h.old_hash is None) for h in store.history()]
    assert ops == [
        ("16", Operation.UPSERT, True),
        ("15", Operation.UPSERT, True),
        ("15", Operation.UPSERT, False),
        ("16", Operation.DELETE, False),
        ("16", Operation.UPSERT, True),
    ]
    store.finish_run(run, RunStatus.SUCCEEDED)
    assert store.run(run).counts["orphan_deletes"] == 2
    assert store.check_integrity() == []
    assert replay_history(store) == mirror_state(store)


def test_key_twice_in_one_batch_keeps_the_last_and_every_step_in_history(store: Store) -> None:
    run = store.begin_run("feed", FEED).run_id
    result = apply(
        store,
        run,
        "feed",
        area("16", "a"),
        area("16", "b"),
        Delete("area", "16"),
        area("02", "x"),
        Delete("area", "02"),
        mode=FEED,
    )
    assert (result.added, result.changed, result.deleted) == (2, 1, 2)
    assert [(h.natural_key, h.op.value) for h in store.history()] == [
        ("16", "upsert"),
        ("16", "upsert"),
        ("16", "delete"),
        ("02", "upsert"),
        ("02", "delete"),
    ]
    row = store.get("feed", "area", "16", include_deleted=True)
    assert row is not None
    assert row.deleted
    assert row.payload["name"] == "b"
    assert store.check_integrity() == []
    assert replay_history(store) == mirror_state(store)


def test_payload_hash_and_typed_columns(store: Store) -> None:
    run = store.begin_run("s", FEED).run_id
    change = service("anmeldung", leika="99115005104000")
    apply(store, run, "s", change, area("16055", "Weimar"), mode=FEED)
    row = store.get("s", "service", "anmeldung")
    assert row is not None
    assert row.content_hash == content_hash(change.record)
    assert record_from_dict(row.payload) == change.record
    assert row.leika_key == "99115005104000"
    weimar = store.get("s", "area", "16055")
    assert weimar is not None
    assert weimar.ars == "16055"
    assert weimar.leika_key is None
    assert [r.natural_key for r in store.records(leika_key="99115005104000")] == ["anmeldung"]
    assert [r.natural_key for r in store.records(ars="16055")] == ["16055"]


def test_completed_snapshot_tombstones_what_it_did_not_contain(store: Store) -> None:
    run = store.begin_run("snap", SNAP).run_id
    apply(store, run, "snap", area("16"), area("15"), cursor="1")
    apply(store, run, "snap", area("01"), cursor="2", complete=True)
    store.finish_run(run, RunStatus.SUCCEEDED)
    assert store.count("snap") == 3

    run2 = store.begin_run("snap", SNAP)
    assert run2.cursor_before is None  # a completed snapshot resets the cursor
    apply(store, run2.run_id, "snap", area("16"), cursor="1")
    assert store.count("snap") == 3, "nothing is deleted before the snapshot completes"
    done = apply(store, run2.run_id, "snap", area("02"), cursor="2", complete=True)
    assert (done.added, done.deleted, done.snapshot_deleted) == (1, 2, 2)
    assert sorted(r.natural_key for r in store.records("snap")) == ["02", "16"]
    deletes = list(store.history(op=Operation.DELETE))
    assert sorted(d.natural_key for d in deletes) == ["01", "15"]
    assert all(d.run_id == run2.run_id and d.old_hash for d in deletes)
    assert done.snapshot_history_after is not None
    assert all(d.id > done.snapshot_history_after for d in deletes)
    assert store.check_integrity() == []
    assert replay_history(store) == mirror_state(store)


@pytest.mark.parametrize("where", ["same batch", "earlier batch", "earlier run"])
def test_snapshot_that_deleted_a_key_it_saw_still_tombstones_what_it_missed(
    store: Store, where: str
) -> None:
    # Completing a snapshot skips comparing the live rows when it saw as many distinct keys
    # as there are live rows (issue 15).  That holds only if every key it saw is still
    # live: here it sees 16 and a new 01, deletes 01 again and never sees 15, so it saw two
    # keys and two rows are live, yet 15 is missing.
    run = store.begin_run("snap", SNAP).run_id
    apply(store, run, "snap", area("16"), area("15"), cursor="1", complete=True)
    store.finish_run(run, RunStatus.SUCCEEDED)
    run = store.begin_run("snap", SNAP).run_id
    if where == "same batch":
        done = apply(
            store, run, "snap", area("16"), area("01"), Delete("area", "01"), complete=True
        )
    else:
        apply(store, run, "snap", area("16"), area("01"), cursor="1")
        if where == "earlier run":
            store.finish_run(run, RunStatus.FAILED, "boom")
            run = store.begin_run("snap", SNAP).run_id
        apply(store, run, "snap", Delete("area", "01"), cursor="2")
        done = apply(store, run, "snap", cursor="3", complete=True)
    assert done.snapshot is not None
    assert (done.snapshot.delivered, done.snapshot.missing) == (2, 1)
    assert [r.natural_key for r in store.records("snap")] == ["16"]
    assert store.check_integrity() == []
    assert replay_history(store) == mirror_state(store)


def test_snapshot_that_saw_every_live_key_deletes_nothing(store: Store) -> None:
    run = store.begin_run("snap", SNAP).run_id
    apply(store, run, "snap", area("16"), area("15"), cursor="1", complete=True)
    run = store.begin_run("snap", SNAP).run_id
    apply(store, run, "snap", area("15"), area("16"), cursor="1")
    done = apply(store, run, "snap", area("16"), area("01"), cursor="2", complete=True)
    assert done.snapshot is not None
    assert (done.snapshot.delivered, done.snapshot.live, done.snapshot.missing) == (3, 2, 0)
    assert (done.added, done.deleted) == (1, 0)
    assert sorted(r.natural_key for r in store.records("snap")) == ["01", "15", "16"]


def test_status_tells_a_running_snapshot_from_an_open_one(tmp_path: Path) -> None:
    # `efa status` said "snapshot in progress" after a failed run, as if a sync were running.
    from click.testing import CliRunner

    from efa_core.cli import main
    from efa_core.plugins import PluginRegistry

    def status(*args: str) -> str:
        registry = PluginRegistry(entrypoints=False, env={})
        result = CliRunner().invoke(main, ["status", "--db", str(db), *args], obj=registry)
        assert result.exit_code == 0, result.output
        return result.output

    db = tmp_path / "efa.db"
    with open_store(str(db)) as store:
        run = store.begin_run("snap", SNAP).run_id
        apply(store, run, "snap", area("16"), cursor="1")
        assert "Vollabzug läuft" in status()  # the run has not ended
        assert "snapshot in progress" in status("--lang", "en")
        store.finish_run(run, RunStatus.FAILED, "boom")
        out = status()
        assert "Vollabzug offen: der nächste Sync setzt ihn fort" in out
        assert "läuft" not in out
        assert "snapshot open: the next sync resumes it" in status("--lang", "en")
        resumed = store.begin_run("snap", SNAP).run_id
        apply(store, resumed, "snap", area("15"), cursor="2", complete=True)
        store.finish_run(resumed, RunStatus.SUCCEEDED)
        out = status()
        assert "offen" not in out
        assert "läuft" not in out


def test_snapshots_of_one_source_do_not_touch_another(store: Store) -> None:
    a = store.begin_run("a", SNAP).run_id
    apply(store, a, "a", area("16"), complete=True)
    b = store.begin_run("b", SNAP).run_id
    apply(store, b, "b", area("15"), complete=True)
    assert store.count("a") == 1
    assert store.count("b") == 1


def test_unfinished_snapshot_resumes_with_its_seen_keys(store: Store) -> None:
    run = store.begin_run("snap", SNAP).run_id
    apply(store, run, "snap", area("16"), area("15"), area("01"), cursor="1", complete=True)
    store.finish_run(run, RunStatus.SUCCEEDED)
    # a snapshot that fails after one batch ...
    failed = store.begin_run("snap", SNAP).run_id
    apply(store, failed, "snap", area("16"), cursor="1")
    store.finish_run(failed, RunStatus.FAILED, "boom")
    assert store.cursor("snap") == "1"
    assert store.source_states()[0].snapshot_in_progress
    # ... is resumed by the next run, which remembers that "16" was seen
    resumed = store.begin_run("snap", SNAP)
    assert resumed.cursor_before == "1"
    done = apply(store, resumed.run_id, "snap", area("15"), cursor="2", complete=True)
    assert done.deleted == 1
    assert sorted(r.natural_key for r in store.records("snap")) == ["15", "16"]
    assert not store.source_states()[0].snapshot_in_progress


def test_snapshot_restarted_from_scratch_forgets_stale_seen_keys(store: Store) -> None:
    run = store.begin_run("snap", SNAP).run_id
    apply(store, run, "snap", area("16"), area("15"), cursor="1", complete=True)
    partial = store.begin_run("snap", SNAP).run_id
    apply(store, partial, "snap", area("16"), cursor=None)  # not resumable
    restart = store.begin_run("snap", SNAP)
    assert restart.cursor_before is None
    done = apply(store, restart.run_id, "snap", area("15"), cursor="1", complete=True)
    assert done.deleted == 1
    assert [r.natural_key for r in store.records("snap")] == ["15"]


def test_stale_running_runs_are_marked_interrupted(store: Store) -> None:
    dead = store.begin_run("snap", SNAP).run_id
    live = store.begin_run("snap", SNAP).run_id
    assert store.run(dead).status is RunStatus.INTERRUPTED
    assert store.run(live).status is RunStatus.RUNNING


def test_last_seen_is_derived_from_the_last_completed_snapshot(store: Store) -> None:
    run = store.begin_run("snap", SNAP).run_id
    apply(store, run, "snap", area("16"), area("15"), complete=True)
    first = store.get("snap", "area", "16")
    assert first is not None
    run2 = store.begin_run("snap", SNAP).run_id
    result = apply(store, run2, "snap", area("16"), complete=True)
    assert result.unchanged == 1
    again = store.get("snap", "area", "16")
    assert again is not None
    snapshot_at = store.source_states()[0].last_snapshot_at
    assert snapshot_at is not None
    assert again.last_seen == snapshot_at > first.last_seen
    assert again.fetched_at == first.fetched_at, "an unchanged row is not rewritten"
    assert again.first_seen == first.first_seen
    gone = store.get("snap", "area", "15", include_deleted=True)
    assert gone is not None
    assert gone.deleted
    assert gone.last_seen == first.last_seen  # last contained in the first snapshot


def test_as_of_answers_what_was_known_then(store: Store) -> None:
    run = store.begin_run("feed", FEED).run_id
    apply(store, run, "feed", area("16", "old"), area("15"), mode=FEED)
    middle = max(h.changed_at for h in store.history())
    apply(store, run, "feed", area("16", "new"), Delete("area", "15"), area("01"), mode=FEED)
    before = datetime(2000, 1, 1, tzinfo=timezone.utc)
    assert list(store.as_of(before)) == []
    then = {h.natural_key: h.to_record() for h in store.as_of(middle)}
    assert sorted(then) == ["15", "16"]
    assert then["16"].name == "old"
    now = {h.natural_key: h.payload["name"] for h in store.as_of(middle + timedelta(days=1))}
    assert now == {"16": "new", "01": "Area"}
    assert [h.natural_key for h in store.as_of(middle, kind="service")] == []


def test_history_filters(store: Store) -> None:
    run = store.begin_run("feed", FEED).run_id
    apply(store, run, "feed", area("16055"), area("16056"), area("15"), mode=FEED)
    apply(store, run, "feed", area("16055", "x"), mode=FEED)
    assert [h.natural_key for h in store.history("16055")] == ["16055", "16055"]
    assert sorted({h.natural_key for h in store.history(key_prefix="160")}) == ["16055", "16056"]
    assert len(list(store.history(limit=2))) == 2
    first = next(store.history())
    assert next(h.id for h in store.history(after_id=first.id)) > first.id
    assert list(store.history(source="other")) == []


def test_quarantine_and_source_states(store: Store) -> None:
    run = store.begin_run("feed", FEED).run_id
    bad = Quarantined(
        kind="area",
        position="line 3",
        raw='{"kind": "area"}',
        problems=(("$.ars", "required field missing"),),
    )
    result = store.apply(
        run, "feed", [prepare(area("16"))], cursor="7", mode=FEED, quarantined=[bad]
    )
    assert result.quarantined == 1
    store.finish_run(run, RunStatus.SUCCEEDED)
    [entry] = list(store.quarantine("feed"))
    assert (entry.kind, entry.position, entry.run_id) == ("area", "line 3", run)
    assert entry.problems == (("$.ars", "required field missing"),)
    [state] = store.source_states()
    assert (state.source, state.cursor, state.live_records, state.quarantined) == (
        "feed",
        "7",
        1,
        1,
    )
    assert state.last_run is not None
    assert state.last_run.status is RunStatus.SUCCEEDED
    assert state.last_run.counts["quarantined"] == 1
    assert state.last_run.duration is not None
    assert state.last_run.duration >= 0


def test_dry_run_transaction_rolls_back_everything(store: Store) -> None:
    store.begin()
    run = store.begin_run("snap", SNAP).run_id
    apply(store, run, "snap", area("16"), complete=True)
    assert store.count("snap") == 1
    store.rollback()
    assert store.count() == 0
    assert store.sources() == []
    assert list(store.history()) == []


def test_integrity_check_finds_a_mirror_that_disagrees_with_history(store: Store) -> None:
    run = store.begin_run("feed", FEED).run_id
    apply(store, run, "feed", area("16"), mode=FEED)
    with store.transaction():
        store.backend.execute("UPDATE records SET content_hash = 'tampered'")
    problems = store.check_integrity()
    assert any("disagrees" in p for p in problems)


def test_reopening_keeps_data_and_version(store_url: str) -> None:
    with open_store(store_url) as store:
        run = store.begin_run("feed", FEED).run_id
        apply(store, run, "feed", area("16"), mode=FEED)
    with open_store(store_url) as store:
        assert store.migrate() == []
        assert store.count() == 1


def test_url_handling(tmp_path) -> None:
    assert mask_url("postgresql://efa:s3cret@db/efa") == "postgresql://efa:***@db/efa"
    assert sqlite_path("sqlite:///efa.db") == "efa.db"
    assert sqlite_path("sqlite:////var/lib/efa.db") == "/var/lib/efa.db"
    assert sqlite_path("sqlite://") == ":memory:"
    with pytest.raises(ConfigError, match="unknown scheme 'mysql'"):
        open_store("mysql://x@y/z")
    with open_store(str(tmp_path / "plain.db")) as store:
        assert store.url.endswith("plain.db")


def test_memory_store_works() -> None:
    with open_store("sqlite://") as store:
        run = store.begin_run("feed", FEED).run_id
        apply(store, run, "feed", area("16"), mode=FEED)
        assert store.try_lock_source("feed")
        assert store.count() == 1


def test_naive_datetimes_are_rejected(store: Store) -> None:
    with pytest.raises(ValueError, match="naive datetime"):
        list(store.as_of(datetime(2024, 1, 1)))


def test_prepare_rejects_unknown_kinds() -> None:
    from efa_core.errors import ValidationError

    with pytest.raises(ValidationError, match="unknown kind 'nope'"):
        prepare(Delete("nope", "x"))
    with pytest.raises(ValidationError, match="non-blank"):
        prepare(Delete("area", " "))
