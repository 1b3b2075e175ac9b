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
