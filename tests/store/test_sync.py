"""The sync engine: batches, snapshots, change feeds, failures, dry runs, hooks, locks."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, ClassVar

import pytest

from efa_core.config import parse_config
from efa_core.connectors import Batch, Delete, Rejected
from efa_core.errors import ConfigError, EfaError
from efa_core.hookspecs import hookimpl
from efa_core.model import Area
from efa_core.store import RunStatus, Store, open_store
from efa_core.sync import SyncEngine, SyncProgress

from .helpers import (
    SCRIPTS,
    Recorder,
    Script,
    ScriptedSnapshot,
    area,
    config,
    mirror_state,
    registry,
    replay_history,
    service,
)


@pytest.fixture(autouse=True)
def _clean_scripts():
    yield
    SCRIPTS.clear()


def engine(store: Store, *listeners, **sources) -> SyncEngine:
    return SyncEngine(store, registry(*listeners), config(**sources), lock_timeout=5)


def test_snapshot_sync_counts_and_idempotent_rerun(store: Store) -> None:
    SCRIPTS["s"] = Script([[area("16"), area("15")], [service("anmeldung")]])
    eng = engine(store, snap=("test-snapshot", "s"))
    report = eng.run()
    assert report.ok
    assert list(report) == ["snap"]
    first = report["snap"]
    assert first.counts() == {
        "added": 3,
        "changed": 0,
        "unchanged": 0,
        "deleted": 0,
        "orphan_deletes": 0,
        "quarantined": 0,
        "skipped": 0,
    }
    assert (first.batches, first.cursor_before, first.cursor_after) == (2, None, None)
    state = mirror_state(store)
    history = len(list(store.history()))
    again = eng.run()["snap"]
    assert again.counts()["unchanged"] == 3
    assert (again.added, again.changed, again.deleted) == (0, 0, 0)
    assert mirror_state(store) == state
    assert len(list(store.history())) == history, "a no-op re-sync writes no history"
    assert SCRIPTS["s"].pulls == [None, None]


def test_snapshot_deletes_what_is_gone(store: Store) -> None:
    SCRIPTS["s"] = Script([[area("16"), area("15")], [area("01"), area("03")]])
    eng = engine(store, snap=("test-snapshot", "s"))
    eng.run()
    SCRIPTS["s"].batches = [[area("16", "renamed")], [area("02"), area("03")]]
    report = eng.run()["snap"]
    assert (report.added, report.changed, report.deleted) == (1, 1, 2)
    assert report.snapshot is not None
    assert (report.snapshot.live, report.snapshot.missing) == (4, 2)
    assert sorted(r.natural_key for r in store.records()) == ["02", "03", "16"]
    assert store.check_integrity() == []
    assert replay_history(store) == mirror_state(store)


def test_failed_snapshot_deletes_nothing_and_next_run_resumes(store: Store) -> None:
    SCRIPTS["s"] = Script([[area("16")], [area("15")], [area("01")]])
    eng = engine(store, snap=("test-snapshot", "s"))
    eng.run()
    SCRIPTS["s"] = Script([[area("16", "x")], [area("15", "y")], [area("02")]], fail_at=2)
    failed = eng.run()["snap"]
    assert failed.status is RunStatus.FAILED
    assert "scripted failure at batch 2" in (failed.error or "")
    assert (failed.changed, failed.deleted, failed.cursor_after) == (2, 0, "2")
    assert store.count() == 3
    assert store.runs("snap", limit=1)[0].status is RunStatus.FAILED
    SCRIPTS["s"].fail_at = None
    resumed = eng.run()["snap"]
    assert resumed.ok
    assert resumed.cursor_before == "2"
    assert SCRIPTS["s"].pulls[-1] == "2"
    assert (resumed.added, resumed.deleted) == (1, 1)
    assert sorted(r.natural_key for r in store.records()) == ["02", "15", "16"]


def test_snapshot_pull_that_ends_early_is_not_complete(store: Store) -> None:
    SCRIPTS["s"] = Script([[area("16")], [area("15")]])
    eng = engine(store, snap=("test-snapshot", "s"))
    eng.run()
    SCRIPTS["s"] = Script([[area("16")], [area("01")]], stop_at=1)
    report = eng.run()["snap"]
    assert report.status is RunStatus.FAILED
    assert "before its snapshot was complete" in (report.error or "")
    assert report.deleted == 0
    assert store.count() == 2


def test_change_feed_applies_deletes_and_counts_orphans(store: Store) -> None:
    SCRIPTS["f"] = Script([[area("16"), area("15")]])
    eng = engine(store, feed=("test-feed", "f"))
    assert eng.run()["feed"].added == 2
    assert store.cursor("feed") == "1", "a change feed keeps its cursor when caught up"
    SCRIPTS["f"].batches.append([Delete("area", "15"), Delete("area", "99"), area("01")])
    report = eng.run()["feed"]
    assert SCRIPTS["f"].pulls == [None, "1"]
    assert (report.added, report.deleted, report.orphan_deletes) == (1, 1, 1)
    assert sorted(r.natural_key for r in store.records()) == ["01", "16"]
    # a feed never deletes what it does not mention
    assert eng.run()["feed"].deleted == 0
    assert store.count() == 2


def test_invalid_records_are_quarantined_and_the_rest_goes_on(store: Store) -> None:
    rejected = Rejected(
        "area",
        "file.jsonl:line 2",
        {"kind": "area", "ars": "1"},
        [("$.ars", "ARS '1' has 1 digit")],
    )
    SCRIPTS["f"] = Script([[area("16"), Delete("nope", "x")]], rejected={0: [rejected]})
    report = engine(store, feed=("test-feed", "f")).run()["feed"]
    assert report.ok
    assert (report.added, report.quarantined) == (1, 2)
    entries = list(store.quarantine("feed"))
    assert [e.position for e in entries] == ["file.jsonl:line 2", "feed batch 1 item 1"]
    assert json.loads(entries[0].raw or "") == {"kind": "area", "ars": "1"}
    assert "unknown kind 'nope'" in entries[1].problems[0][1]


def test_dry_run_returns_the_plan_and_writes_nothing(store: Store) -> None:
    SCRIPTS["s"] = Script([[area("16"), area("15")], [area("01"), area("02")]])
    recorder = Recorder()
    eng = engine(store, recorder, snap=("test-snapshot", "s"))
    eng.run()
    before = (mirror_state(store), len(list(store.history())), len(store.runs()))
    recorder.changes.clear()
    recorder.finished.clear()
    SCRIPTS["s"].batches = [[area("16", "new"), area("02")], [area("03")]]
    report = eng.run(dry_run=True)
    assert report.dry_run
    plan = report["snap"].plan
    assert plan is not None
    assert not plan.empty
    area_plan = plan.kinds["area"]
    assert (area_plan.added, area_plan.changed, area_plan.deleted) == (1, 1, 2)
    assert area_plan.examples == {
        "added": ("03",),
        "changed": ("16",),
        "deleted": ("15", "01"),
    }
    assert (mirror_state(store), len(list(store.history())), len(store.runs())) == before
    assert store.cursor("snap") is None
    assert recorder.changes == []
    assert recorder.finished == []


def test_hooks_get_committed_changes_and_the_end_of_each_run(store: Store) -> None:
    recorder = Recorder()
    SCRIPTS["s"] = Script([[area("16"), area("15")], [area("15")]])
    eng = engine(store, recorder, snap=("test-snapshot", "s"))
    first = eng.run()["snap"]
    assert [len(c) for _, _, c in recorder.changes] == [2]
    assert recorder.finished == [("snap", first.run_id, "succeeded", first.counts(), None)]
    SCRIPTS["s"].batches = [[area("16", "x")]]
    second = eng.run()["snap"]
    changes = [
        c for _, run_id, batch in recorder.changes[1:] for c in batch if run_id == second.run_id
    ]
    assert changes[0].record == Area(ars=changes[0].record.ars, name="x")
    assert changes[1] == Delete("area", "15")
    assert recorder.finished[-1][2:4] == ("succeeded", second.counts())


def test_failed_run_is_reported_to_hooks(store: Store) -> None:
    recorder = Recorder()
    SCRIPTS["s"] = Script([[area("16")]], fail_at=0)
    report = engine(store, recorder, snap=("test-snapshot", "s")).run()["snap"]
    assert recorder.finished[0][2] == "failed"
    assert "scripted failure" in (recorder.finished[0][4] or "")
    assert report.run_id == recorder.finished[0][1]


def test_several_sources_concurrently(store: Store) -> None:
    for n in range(4):
        SCRIPTS[f"s{n}"] = Script([[area(code, f"n{n}")] for code in ("16", "15", "01")])
    SCRIPTS["f"] = Script([[area("16")], [Delete("area", "16")]])
    sources = {f"snap{n}": ("test-snapshot", f"s{n}") for n in range(4)}
    events: list[SyncProgress] = []
    eng = SyncEngine(
        store, registry(), config(**sources, feed=("test-feed", "f")), progress=events.append
    )
    report = eng.run()
    assert report.ok
    assert len(report) == 5
    assert all(report[f"snap{n}"].added == 3 for n in range(4))
    assert store.count() == 12
    assert {e.event for e in events} == {"started", "batch", "finished"}
    assert [e.source for e in events if e.event == "finished"].count("feed") == 1
    assert store.check_integrity() == []
    only = eng.run(["feed"])
    assert list(only) == ["feed"]


def test_records_file_source(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "notes.jsonl"
    rows = [{"kind": "area", "ars": code, "name": "x"} for code in ("16", "15", "01", "02")]
    rows.insert(2, {"kind": "area", "ars": "1"})
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    eng = engine(store, notes=("records-file", str(path)))
    report = eng.run()["notes"]
    assert (report.added, report.quarantined, report.batches) == (4, 1, 2)
    path.write_text("\n".join(json.dumps(r) for r in rows[:2]) + "\n", encoding="utf-8")
    assert eng.run()["notes"].deleted == 2


def test_unknown_source_is_a_config_error(store: Store) -> None:
    eng = engine(store, snap=("test-snapshot", "s"))
    with pytest.raises(ConfigError, match="no connector named 'nope'"):
        eng.run(["nope"])


def test_run_refuses_a_running_loop(store: Store) -> None:
    eng = engine(store)

    async def main() -> None:
        eng.run()

    with pytest.raises(EfaError, match="arun"):
        asyncio.run(main())


@pytest.mark.anyio
async def test_arun_in_async_code(store: Store) -> None:
    SCRIPTS["s"] = Script([[area("16")]])
    report = await engine(store, snap=("test-snapshot", "s")).arun()
    assert report.ok


def test_a_source_locked_by_another_process_waits_then_fails_clearly(store_url: str) -> None:
    SCRIPTS["s"] = Script([[area("16")]])
    with open_store(store_url) as holder, open_store(store_url) as store:
        assert holder.try_lock_source("snap")
        eng = SyncEngine(store, registry(), config(snap=("test-snapshot", "s")), lock_timeout=0.3)
        report = eng.run()["snap"]
        assert report.status is RunStatus.FAILED
        assert "being synced by another process" in (report.error or "")
        assert report.run_id is None
        assert store.count() == 0
        holder.unlock_source("snap")
        assert eng.run()["snap"].ok


class _Broken:
    @hookimpl
    def efa_on_changes(self, source, run_id, changes):
        raise RuntimeError("listener down")


def test_a_failing_listener_does_not_fail_the_sync(store: Store) -> None:
    SCRIPTS["s"] = Script([[area("16")]])
    report = engine(store, _Broken(), snap=("test-snapshot", "s")).run()["snap"]
    assert report.ok
    assert store.count() == 1


def test_engine_lends_its_store_to_connectors(store: Store) -> None:
    """A connector can ask what the store already knows, from inside the engine's run."""
    seen: list[list[str]] = []

    class Asking(ScriptedSnapshot):
        type_name: ClassVar[str] = "test-asking"

        async def pull_batches(self, cursor: str | None) -> AsyncIterator[Batch]:
            assert self.store is not None
            seen.append(sorted(r.natural_key for r in self.store.records(kind="area")))
            yield Batch((), cursor=None, complete=True)

    class _AskingPlugin:
        @hookimpl
        def efa_register_connectors(self, register: Any) -> None:
            register(Asking)

    SCRIPTS["s"] = Script([[area("16"), area("15")]])
    reg = registry()
    reg.register(_AskingPlugin(), name="asking")
    cfg = parse_config(
        {
            "connectors": {
                "snap": {"type": "test-snapshot", "script": "s"},
                "ask": {"type": "test-asking", "script": "s"},
            }
        },
        env={},
    )
    assert SyncEngine(store, reg, cfg).run(["snap"]).ok
    assert SyncEngine(store, reg, cfg).run(["ask"]).ok
    assert seen == [["15", "16"]]
