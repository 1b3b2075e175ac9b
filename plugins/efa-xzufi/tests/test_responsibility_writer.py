"""The ``xzufi-2.2.0`` writer of Zuständigkeiten that efa-xzufi registers for ``efa plan``."""

from __future__ import annotations

from pathlib import Path

from efa_xzufi import parse_transfer_message, plugin

from efa_core.connectors import Upsert
from efa_core.ids import Ars, LeikaKey
from efa_core.model import Responsibility, TargetKind
from efa_core.plugins import PluginRegistry


def test_the_plugin_registers_the_writer() -> None:
    registry = PluginRegistry(bundled=(), entrypoints=False, env={})
    registry.register(plugin, name="efa_xzufi.plugin")
    assert dict(registry.responsibility_writers()) == {"xzufi-2.2.0": plugin.write_responsibilities}


def test_one_message_that_parses_back(tmp_path: Path) -> None:
    records = [
        Responsibility(
            leika_key=LeikaKey("99115005104000"),
            ars=Ars(ars),
            target_kind=TargetKind.ONLINEDIENST,
            target_id="S16000_Onlinedienst_OD-EWA",
        )
        for ars in ("160550000000", "160615001001")
    ]
    [path] = plugin.write_responsibilities(records, directory=tmp_path, sender="Roll-In TH")
    assert path == tmp_path / "zustaendigkeiten.xml"
    back = [c.record for c in parse_transfer_message(path) if isinstance(c, Upsert)]
    assert {(r.leika_key, r.ars, r.target_id) for r in back if isinstance(r, Responsibility)} == {
        (r.leika_key, r.ars, r.target_id) for r in records
    }
