"""End to end: xzufi-dir -> SyncEngine -> SQLite store.

An unchanged export synced again changes nothing, even when it writes and deletes the same
object or writes an id twice; an export that stops being understood fails the run and
deletes nothing.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import efa_xzufi.plugin
import pytest

from efa_core.config import parse_config
from efa_core.store import RunStatus, Store, open_store
from efa_core.sync import SyncEngine
from efa_core.testing import isolated_registry

MESSY = Path(__file__).parent / "fixtures" / "messy-export"
SOURCE = "lrs-bb"


@pytest.fixture
def export(tmp_path: Path) -> Path:
    target = tmp_path / "export"
    shutil.copytree(MESSY, target)
    return target


@pytest.fixture
def store(tmp_path: Path) -> Any:
    opened = open_store(f"sqlite:///{tmp_path / 'efa.db'}")
    yield opened
    opened.close()


def engine(store: Store, export: Path) -> SyncEngine:
    registry = isolated_registry()
    registry.register(efa_xzufi.plugin, name="xzufi")
    config = parse_config(
        {"connectors": {SOURCE: {"type": "xzufi-dir", "path": str(export), "batch_size": 5}}},
        env={},
    )
    return SyncEngine(store, registry, config)


def live(store: Store) -> dict[tuple[str, str], Any]:
    return {(r.kind, r.natural_key): dict(r.payload) for r in store.records(source=SOURCE)}


def test_an_unchanged_export_synced_again_is_a_no_op(store, export):
    first = engine(store, export).run()[SOURCE]
    assert first.ok, first.error
    assert first.deleted == 0
    assert first.quarantined == 6
    # the run report says what was resolved within the export
    assert any(w.startswith("2 duplicate id(s)") for w in first.warnings)
    assert any(w.startswith("1 object(s) written and deleted again") for w in first.warnings)
    state = live(store)
    assert ("responsibility", "S12000_ZustaendigkeitOnlinedienst_Z-12") not in state
    assert state[("responsibility", "S12000_ZustaendigkeitOnlinedienst_Z-11")]["role"] == "02"
    history = len(list(store.history(source=SOURCE)))
    for _ in range(2):
        again = engine(store, export).run()[SOURCE]
        assert again.ok, again.error
        assert (again.added, again.changed, again.deleted) == (0, 0, 0)
        assert again.unchanged == first.added
        assert live(store) == state
        assert len(list(store.history(source=SOURCE))) == history


def test_an_export_no_longer_understood_fails_and_deletes_nothing(store, export):
    assert engine(store, export).run()[SOURCE].ok
    state = live(store)
    (export / "XZUFI20261105020000000000004712.xml").write_bytes(
        b'<?xml version="1.0"?>\n<html xmlns="http://www.w3.org/1999/xhtml"><body>Wartung'
        b"</body></html>"
    )
    report = engine(store, export).run()[SOURCE]
    assert report.status is RunStatus.FAILED
    assert report.error is not None
    assert "source 'lrs-bb', XZUFI20261105020000000000004712.xml:line 2: is a web page" in (
        report.error
    )
    assert (report.added, report.changed, report.deleted) == (0, 0, 0)
    assert live(store) == state
    assert store.runs(SOURCE, limit=1)[0].error == report.error


def engine_with(store: Store, export: Path, **options: Any) -> SyncEngine:
    registry = isolated_registry()
    registry.register(efa_xzufi.plugin, name="xzufi")
    table = {"type": "xzufi-dir", "path": str(export), "batch_size": 5, **options}
    return SyncEngine(store, registry, parse_config({"connectors": {SOURCE: table}}, env={}))


def full_history(store: Store) -> list[tuple[str, str, str, Any]]:
    return [(h.kind, h.natural_key, h.op.value, h.payload) for h in store.history(source=SOURCE)]


def test_fingerprints_skip_unchanged_objects_and_end_like_a_sync_without(tmp_path, export):
    """The same sequence of exports, synced with and without source fingerprints."""
    second = export / "XZUFI20261105020000000000004712.xml"
    original = second.read_bytes()
    # one Zuständigkeit changes its role; one Leistung its LeiKa key, which changes the
    # records of Zuständigkeiten whose own bytes stay the same (Z-15 in the other file)
    edited = original.replace(b"<rolle><code>02</code>", b"<rolle><code>03</code>").replace(
        b"<code>99115005104000</code>", b"<code>99115005104001</code>"
    )
    reports: dict[bool, list[Any]] = {}
    stores = {}
    for fingerprints in (True, False):
        store = stores[fingerprints] = open_store(f"sqlite:///{tmp_path / f'{fingerprints}.db'}")
        second.write_bytes(original)
        runs = []
        for content in (original, original, edited, edited):
            second.write_bytes(content)
            report = engine_with(store, export, fingerprints=fingerprints).run()[SOURCE]
            assert report.ok, report.error
            runs.append(report)
        reports[fingerprints] = runs
    try:
        first, again, changed, unchanged = reports[True]
        assert (again.added, again.changed, again.deleted) == (0, 0, 0)
        assert again.unchanged == first.added  # every record skipped by its fingerprint
        assert again.quarantined == first.quarantined  # bad parts are looked at again
        assert (changed.added, changed.changed, changed.deleted) == (0, 5, 0)
        assert changed.unchanged == first.added - 5
        assert (unchanged.changed, unchanged.unchanged) == (0, first.added)
        for with_fp, without in zip(reports[True], reports[False], strict=True):
            counts = ("added", "changed", "deleted", "unchanged", "quarantined")
            assert [getattr(with_fp, c) for c in counts] == [getattr(without, c) for c in counts]
        assert live(stores[True]) == live(stores[False])
        assert full_history(stores[True]) == full_history(stores[False])
    finally:
        for store in stores.values():
            store.close()
