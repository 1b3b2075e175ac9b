"""End to end: the fake OZG-Dashboard API -> dashboard connector -> SyncEngine -> SQLite."""

from __future__ import annotations

import pytest
from efa_dashboard import plugin as dashboard_plugin

from efa_core.config import parse_config
from efa_core.store import open_store
from efa_core.sync import SyncEngine
from efa_core.testing.fakes.dashboard import DashboardApiFake

HUND = "99041006017000"


@pytest.fixture
def registry(efa_registry):
    efa_registry.register(dashboard_plugin, name="dashboard")
    return efa_registry


def test_sync_scope_and_tombstone_what_vanished(tmp_path, registry, efa_serve_asgi) -> None:
    fake = DashboardApiFake()
    fake.add_area("160550000000", "Weimar")
    fake.add_area("160510000000", "Erfurt")
    fake.add_area("010510000000", "Dithmarschen")
    fake.add_row(HUND, "160550000000", url="https://weimar.example/hund")
    erfurt = fake.add_row(HUND, "160510000000", url="https://erfurt.example/hund")
    fake.add_row(HUND, "010510000000", url="https://sh.example/hund")
    fake.add_row("123", "160510000000")  # quarantined
    table = {
        "type": "dashboard",
        "base_url": efa_serve_asgi(fake),
        "scopes": ["16"],
        "page_size": 1,
        "initial_backoff": 0.0,
        "max_backoff": 0.0,
    }
    store = open_store(f"sqlite:///{tmp_path / 'efa.db'}")
    sync = SyncEngine(store, registry, parse_config({"connectors": {"dash-th": table}}))

    first = sync.run()["dash-th"]
    assert first.ok, first.error
    assert (first.added, first.quarantined) == (4, 1)  # 2 areas + 2 rows in Thüringen
    keys = {r.natural_key for r in store.records(source="dash-th", kind="availability")}
    assert keys == {
        f"{HUND}@16055->https://weimar.example/hund",
        f"{HUND}@16051->https://erfurt.example/hund",
    }
    assert {r.natural_key for r in store.records(source="dash-th", kind="area")} == {
        "16055",
        "16051",
    }

    erfurt["online_status"] = "nicht ok"
    fake.rows = [r for r in fake.rows if r["url"] != "https://weimar.example/hund"]
    second = sync.run()["dash-th"]
    assert second.ok, second.error
    assert (second.added, second.changed, second.deleted) == (0, 1, 1)
    [row] = store.records(source="dash-th", kind="availability")
    assert row.to_record().online is False
