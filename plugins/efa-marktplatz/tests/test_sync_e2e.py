"""End to end: efa.toml → SyncEngine → SQLite store, from the sample exports."""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path

import pytest
from efa_marktplatz import plugin

from efa_core.config import parse_config
from efa_core.plugins import PluginRegistry
from efa_core.store import Store, open_store
from efa_core.sync import SyncEngine
from efa_core.testing import isolated_registry, registered

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


@pytest.fixture
def store(tmp_path: Path):
    store = open_store(f"sqlite:///{tmp_path / 'efa.db'}")
    yield store
    store.close()


@pytest.fixture
def registry():
    registry = isolated_registry()
    with registered(registry, plugin, "marktplatz"):
        yield registry


def efa_toml(data: Path, xlsx: Path) -> str:
    return f"""
[connectors.marktplatz]
type = "marktplatz"
offers = "{data / "marktplatz_angebote_semikolon_bom.csv"}"
agreements = "{data / "marktplatz_interessen_komma.csv"}"
batch_size = 4

[connectors.fit-store]
type = "marktplatz"
registry = "fit-store"
offers = "{data / "fitstore_angebote_cp1252.csv"}"
agreements = "{data / "fitstore_interessen_cp1252.csv"}"

[connectors.marktplatz-xlsx]
type = "marktplatz"
offers = "{xlsx}"
agreements = "{xlsx}"
offers_sheet = "Angebote"
agreements_sheet = "Interessen"
columns = {{ subscriber_ars = "Regionalschlüssel" }}

[connectors.own]
type = "local"
path = "{data / "local.yaml"}"
"""


def keys(store: Store, source: str, kind: str) -> set[str]:
    return {r.natural_key for r in store.records(source, kind)}


def test_sync_sample_exports_into_the_store(
    data: Path, xlsx_export: Path, store: Store, registry: PluginRegistry
):
    config = parse_config(tomllib.loads(efa_toml(data, xlsx_export)), env={})
    report = SyncEngine(store, registry, config, lock_timeout=5).run()
    assert report.ok, {name: r.error for name, r in report.items()}

    marktplatz = report["marktplatz"]
    assert marktplatz.batches > 1
    assert marktplatz.quarantined == 7  # 3 offer rows, 4 agreement rows
    # optional cells dropped with a warning reach the run report and the store's run
    (date_warning,) = [w for w in marktplatz.warnings if "column 'Datum'" in w]
    assert "marktplatz_interessen_komma.csv:row 8 '31.02.2024'" in date_warning
    [run] = store.runs("marktplatz", limit=1)
    assert date_warning in run.warnings
    assert keys(store, "marktplatz", "service") == {"MP-001", "MP-002", "MP-005"}
    assert keys(store, "marktplatz", "agreement") == {
        "MP-001@ars:160510000000",
        "MP-002@ars:16",
        "MP-002@ars:160530000000#IB-2024-7",
        "MP-005@ars:16",
    }
    wohnsitz = store.get("marktplatz", "service", "MP-001")
    assert wohnsitz is not None
    assert wohnsitz.payload["price"] == "1234.56"  # exact, as a string
    assert wohnsitz.payload["price_model"] == "Pauschale je Einwohner"
    assert wohnsitz.to_record().price == Decimal("1234.56")
    stored = store.get("marktplatz", "agreement", "MP-002@ars:160530000000#IB-2024-7")
    assert stored is not None
    assert stored.payload["state"] == "withdrawn"
    quarantine = list(store.quarantine("marktplatz"))
    positions = {q.position for q in quarantine}
    assert str(data / "marktplatz_angebote_semikolon_bom.csv") + ":row 5" in positions
    lifecycle = [q for q in quarantine if any(m.startswith("lifecycle: ") for _, m in q.problems)]
    assert [q.position for q in lifecycle] == [
        str(data / "marktplatz_interessen_komma.csv") + ":row 7"
    ]
    assert lifecycle[0].kind == "agreement"
    assert "Vertragsschluss" in (lifecycle[0].raw or "")

    assert report["fit-store"].quarantined == 0
    gera = store.get("fit-store", "agreement", "gewerbeanmeldung@ars:160520000000")
    assert gera is not None
    assert (gera.payload["state"], gera.payload["channel"]) == ("contracted", "fit_store")

    assert "MP-010@ars:010020000000" in keys(store, "marktplatz-xlsx", "agreement")
    assert report["marktplatz-xlsx"].quarantined == 2
    assert "MP-001@ars:160550000000#VA-TH-3" in keys(store, "own", "agreement")
    kickoff = store.get("own", "note", "2024-05-12-kickoff-with-the-pilot-municipality")
    assert kickoff is not None
    assert kickoff.payload["agreement_key"] == "MP-001@ars:160550000000"

    # a second sync of unchanged files changes nothing
    again = SyncEngine(store, registry, config, lock_timeout=5).run()
    assert again.ok
    assert all(r.added == r.changed == r.deleted == 0 for r in again.values())


def test_snapshot_tombstones_rows_removed_from_the_export(
    data: Path, store: Store, registry: PluginRegistry
):
    offers = data / "marktplatz_angebote_semikolon_bom.csv"
    config = parse_config(
        {"connectors": {"mp": {"type": "marktplatz", "offers": str(offers), "batch_size": 2}}},
        env={},
    )
    assert SyncEngine(store, registry, config, lock_timeout=5).run().ok
    assert keys(store, "mp", "service") == {"MP-001", "MP-002", "MP-005"}
    text = offers.read_bytes().decode("utf-8-sig")
    kept = [line for line in text.split("\r\n") if not line.startswith("MP-002")]
    offers.write_bytes("\r\n".join(kept).encode("utf-8-sig"))
    report = SyncEngine(store, registry, config, lock_timeout=5).run()["mp"]
    assert report.ok
    assert report.deleted == 2  # the service and its operator Governikus
    assert keys(store, "mp", "service") == {"MP-001", "MP-005"}
    history = [h.op.value for h in store.history("MP-002", source="mp", kind="service")]
    assert history[0] == "upsert"
    assert history[-1] == "delete"


def test_a_broken_export_fails_the_run_and_deletes_nothing(
    data: Path, store: Store, registry: PluginRegistry
):
    offers = data / "marktplatz_angebote_semikolon_bom.csv"
    config = parse_config({"connectors": {"mp": {"type": "marktplatz", "offers": str(offers)}}})
    assert SyncEngine(store, registry, config, lock_timeout=5).run().ok
    offers.write_text("Titel;Schlüssel\r\nA;1\r\n", encoding="utf-8")
    report = SyncEngine(store, registry, config, lock_timeout=5).run()["mp"]
    assert not report.ok
    assert "no column for service_name" in (report.error or "")
    assert keys(store, "mp", "service") == {"MP-001", "MP-002", "MP-005"}


def test_installed_plugin_is_found_through_its_entry_point():
    registry = PluginRegistry(env={})
    connectors = registry.connectors()
    assert connectors["marktplatz"].__module__ == "efa_marktplatz.connector"
    assert connectors["local"].__module__ == "efa_marktplatz.local"
