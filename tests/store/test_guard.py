"""Snapshot safety (issue 10 §1): input not understood, the shrink guard, skipped input.

A snapshot that the connector did not understand, that would delete more than
``max_delete_share`` of the source's live records, or that delivered nothing where records
are stored, deletes nothing and fails the run, on both backends, also across a crash.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from efa_core.config import parse_config
from efa_core.connectors import Rejected, Skipped
from efa_core.errors import ConfigError, SourceNotUnderstood
from efa_core.plugins import PluginRegistry
from efa_core.store import RunStatus, Store, open_store
from efa_core.sync import SyncEngine

from .helpers import SCRIPTS, Recorder, Script, area, config, mirror_state, registry

CODES = ["01", "02", "03", "04", "05", "06", "07", "08", "09", "10"]
WORKER = Path(__file__).with_name("crash_worker.py")


@pytest.fixture(autouse=True)
def _clean_scripts():
    yield
    SCRIPTS.clear()


def engine(store: Store, *listeners: object, **sources: tuple) -> SyncEngine:
    return SyncEngine(store, registry(*listeners), config(**sources), lock_timeout=5)


def ten(store: Store, **extra: object) -> SyncEngine:
    """A snapshot source synced once with ten areas."""
    SCRIPTS["s"] = Script([[area(c) for c in CODES[:5]], [area(c) for c in CODES[5:]]])
    eng = engine(store, snap=("test-snapshot", "s", dict(extra)))
    assert eng.run()["snap"].ok
    return eng


def live(store: Store) -> list[str]:
    return sorted(r.natural_key for r in store.records("snap"))


def test_source_not_understood_fails_and_deletes_nothing(store: Store) -> None:
    eng = ten(store)
    SCRIPTS["s"] = Script(
        [[area("01", "new")]],
        fail_at=0,
        error=SourceNotUnderstood(
            "root element 'leistungsbericht.030108' of XZuFi 2.1.0 is not supported",
            source="snap",
            where="export.xml",
        ),
    )
    report = eng.run()["snap"]
    assert report.status is RunStatus.FAILED
    assert report.error == (
        "source 'snap', export.xml: root element 'leistungsbericht.030108' of XZuFi 2.1.0 "
        "is not supported"
    )
    assert report.deleted == 0
    assert live(store) == CODES
    [state] = store.source_states()
    assert state.last_run is not None
    assert state.last_run.error == report.error


@pytest.mark.parametrize("delivered", [4, 3])
def test_a_shrink_beyond_the_share_is_refused_and_keeps_the_upserts(
    store: Store, delivered: int
) -> None:
    recorder = Recorder()
    SCRIPTS["s"] = Script([[area(c) for c in CODES]])
    eng = engine(store, recorder, snap=("test-snapshot", "s"))
    eng.run()
    history = len(list(store.history()))
    SCRIPTS["s"] = Script([[area("01", "renamed"), *(area(c) for c in CODES[1:delivered])]])
    report = eng.run()["snap"]
    missing = 10 - delivered
    assert report.status is RunStatus.FAILED
    assert report.error is not None
    assert f"would delete {missing} of 10 live records ({missing * 10}%)" in report.error
    assert "max_delete_share = 0.5" in report.error
    assert "'efa sync --allow-shrink snap'" in report.error
    assert "[connectors.snap]" in report.error
    assert "the run's 1 new and changed records are kept" in report.error
    assert report.snapshot is not None
    assert (report.snapshot.delivered, report.snapshot.live, report.snapshot.missing) == (
        delivered,
        10,
        missing,
    )
    assert report.snapshot.refused
    assert (report.changed, report.deleted) == (1, 0)
    assert live(store) == CODES, "nothing deleted"
    renamed = store.get("snap", "area", "01")
    assert renamed is not None
    assert renamed.payload["name"] == "renamed", "the run's upserts stay"
    assert len(list(store.history())) == history + 1
    assert store.check_integrity() == []
    [state] = store.source_states()
    assert not state.snapshot_in_progress
    assert state.cursor is None, "a refused snapshot is over: the next run takes a new one"
    assert recorder.finished[-1][2] == "failed"

    again = eng.run()["snap"]
    assert again.snapshot is not None
    assert again.snapshot.refused
    assert live(store) == CODES

    allowed = eng.run(allow_shrink=["snap"])["snap"]
    assert allowed.ok, allowed.error
    assert allowed.deleted == missing
    assert live(store) == CODES[:delivered]
    assert store.check_integrity() == []


def test_a_shrink_within_the_share_goes_through(store: Store) -> None:
    eng = ten(store)
    SCRIPTS["s"] = Script([[area(c) for c in CODES[:5]]])
    report = eng.run()["snap"]
    assert report.ok, report.error
    assert report.deleted == 5
    assert report.snapshot is not None
    assert report.snapshot.share == 0.5


def test_max_delete_share_is_an_option_of_every_source(store: Store) -> None:
    eng = ten(store, max_delete_share=0.7)
    SCRIPTS["s"] = Script([[area(c) for c in CODES[:4]]])
    report = eng.run()["snap"]
    assert report.ok, report.error
    assert report.deleted == 6
    SCRIPTS["s"] = Script([[area("01")]])
    refused = eng.run()["snap"]
    assert refused.error is not None
    assert "would delete 3 of 4 live records (75%), more than max_delete_share = 0.7" in (
        refused.error
    )


def test_records_added_by_the_snapshot_do_not_dilute_the_share(store: Store) -> None:
    eng = ten(store)
    # The whole old content replaced by new keys: 10 of the 10 records alive before it.
    SCRIPTS["s"] = Script([[area(c) for c in ["11", "12", "13", "14", "15", "16"]] * 1])
    report = eng.run()["snap"]
    assert report.snapshot is not None
    assert (report.snapshot.live, report.snapshot.missing) == (10, 10)
    assert report.snapshot.refused
    assert report.added == 6
    assert len(live(store)) == 16


def test_an_empty_snapshot_is_refused_whatever_the_share(store: Store) -> None:
    eng = ten(store, max_delete_share=1.0)
    SCRIPTS["s"] = Script([[]], rejected={0: [Rejected("area", "line 1", "{}", [("$", "bad")])]})
    report = eng.run()["snap"]
    assert report.status is RunStatus.FAILED
    assert report.error is not None
    assert "delivered no records, but the store holds 10 live records" in report.error
    assert "'efa sync --allow-shrink snap'" in report.error
    assert report.quarantined == 1
    assert live(store) == CODES
    allowed = eng.run(allow_shrink=True)["snap"]
    assert allowed.ok
    assert allowed.deleted == 10
    assert allowed.warnings == (
        "the snapshot of source 'snap' delivered no records (an empty source, or an input "
        "that is empty or holds only a header)",
    )
    [run] = store.runs("snap", limit=1)
    assert run.warnings == allowed.warnings


def test_a_first_empty_snapshot_succeeds_with_a_warning(store: Store) -> None:
    SCRIPTS["s"] = Script([[]])
    report = engine(store, snap=("test-snapshot", "s")).run()["snap"]
    assert report.ok
    assert report.warnings
    assert "delivered no records" in report.warnings[0]


def test_a_dry_run_shows_the_refusal(store: Store) -> None:
    eng = ten(store)
    before = mirror_state(store), len(store.runs())
    SCRIPTS["s"] = Script([[area("01", "x"), area("02")]])
    report = eng.run(dry_run=True)
    source = report["snap"]
    assert not report.ok
    assert source.snapshot is not None
    assert source.snapshot.refused
    assert "would delete 8 of 10 live records (80%)" in (source.error or "")
    assert source.plan is not None
    assert (source.plan.kinds["area"].changed, source.plan.kinds["area"].deleted) == (1, 0)
    assert (mirror_state(store), len(store.runs())) == before
    allowed = eng.run(dry_run=True, allow_shrink=["snap"])["snap"]
    assert allowed.ok
    assert allowed.plan is not None
    assert allowed.plan.kinds["area"].deleted == 8
    assert (mirror_state(store), len(store.runs())) == before


def test_allow_shrink_must_name_configured_sources(store: Store) -> None:
    eng = ten(store)
    with pytest.raises(ConfigError, match="'snp'"):
        eng.run(allow_shrink=["snp"])


@pytest.mark.parametrize("value", [-0.1, 1.5, "half", True])
def test_max_delete_share_is_checked(value: object) -> None:
    table = {"type": "test-snapshot", "script": "s", "max_delete_share": value}
    with pytest.raises(ConfigError, match=r"\[connectors.snap\]: key 'max_delete_share'"):
        parse_config({"connectors": {"snap": table}}, env={})


def test_skipped_input_is_counted_per_kind_and_reason(store: Store) -> None:
    SCRIPTS["s"] = Script(
        [[area("01"), area("02")], [area("03")]],
        skipped={
            0: [Skipped("footer-line", "summary line", 1, "export.csv:line 9")],
            1: [
                Skipped("footer-line", "summary line", 2, "export.csv:line 12"),
                Skipped("area", "outside the configured Land", 3),
            ],
        },
        rejected={1: [Rejected("area", "line 4", "{}", [("$.ars", "bad")])]},
    )
    report = engine(store, snap=("test-snapshot", "s")).run()["snap"]
    assert report.ok
    assert (report.added, report.quarantined, report.skipped) == (3, 1, 6)
    assert report.by_kind == {
        "area": {"added": 3, "quarantined": 1, "skipped": 3},
        "footer-line": {"skipped": 3},
    }
    assert [(s.kind, s.reason, s.count, s.position) for s in report.skipped_reasons] == [
        ("area", "outside the configured Land", 3, None),
        ("footer-line", "summary line", 3, "export.csv:line 9"),
    ]
    assert report.run_id is not None
    details = store.run_details(report.run_id)
    assert details.by_kind == report.by_kind
    assert details.skipped == report.skipped_reasons
    [run] = store.runs("snap")
    assert run.counts["skipped"] == 6


def _records_file(path: Path, codes: list[str]) -> None:
    path.write_text(
        "".join(json.dumps({"kind": "area", "ars": c, "name": f"A {c}"}) + "\n" for c in codes),
        encoding="utf-8",
    )


def _file_sync(url: str, path: Path, *, allow: bool = False) -> object:
    cfg = parse_config(
        {"connectors": {"notes": {"type": "records-file", "path": str(path), "batch_size": 5}}},
        env={},
    )
    with open_store(url) as store:
        engine = SyncEngine(store, PluginRegistry(entrypoints=False, env={}), cfg)
        return engine.run(allow_shrink=allow)["notes"]


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_a_refused_snapshot_stays_refused_across_a_crash(store_url: str, tmp_path: Path) -> None:
    codes = [f"{land:02d}{kreis:03d}" for land in range(1, 11) for kreis in range(1, 11)]
    path = tmp_path / "notes.jsonl"
    _records_file(path, codes)
    first = _file_sync(store_url, path)
    assert getattr(first, "ok", False)
    kept = codes[:30]  # 70 % gone
    _records_file(path, kept)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen(
        [sys.executable, str(WORKER), store_url, str(path), "5", "0.5"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == b"ready"
    for _ in range(4):  # started + three committed batches
        assert proc.stdout.readline()
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    proc.stdout.close()
    with open_store(store_url) as store:
        assert store.cursor("notes") == "15", "killed in the middle of the snapshot"
        assert store.count("notes") == 100
    resumed = _file_sync(store_url, path)
    check = getattr(resumed, "snapshot", None)
    assert check is not None
    assert (check.delivered, check.live, check.missing, check.refused) == (30, 100, 70, True)
    with open_store(store_url) as store:
        assert store.count("notes") == 100
        assert store.cursor("notes") is None
        assert store.check_integrity() == []
    allowed = _file_sync(store_url, path, allow=True)
    assert getattr(allowed, "deleted", None) == 70
    with open_store(store_url) as store:
        assert sorted(r.natural_key for r in store.records("notes")) == kept
        assert store.check_integrity() == []
