"""Tests of the dashboard connector against the fake OZG-Dashboard API on a real socket."""

from __future__ import annotations

import importlib.metadata
from typing import Any

import pytest
from efa_dashboard import DashboardConfig, DashboardConnector, read_padded_ars
from efa_dashboard.testing import DashboardApiFake

from efa_core.config import build_connector, parse_config
from efa_core.connectors import Batch, pull_sync
from efa_core.errors import ConnectorError
from efa_core.http import HttpError, HttpSettings
from efa_core.ids import Ars, OzgId
from efa_core.model import Area, Availability, Coverage
from efa_core.plugins import PluginRegistry
from efa_core.testing.conformance import ConnectorConformance
from efa_core.testing.contract import OpenApiContract
from efa_core.testing.fakes import RateLimit

HUND = "99041006017000"
KFZ = "99036004001000"


def make(base_url: str, attempts: int = 4, **options: Any) -> DashboardConnector:
    options.setdefault("scopes", ("16",))
    options.setdefault(
        "http",
        HttpSettings(
            attempts=attempts, initial_backoff=0.0, max_backoff=0.0, rate_limit_per_second=None
        ),
    )
    return DashboardConnector(DashboardConfig(base_url=base_url, **options), name="dashboard")


def populated(**kwargs: Any) -> DashboardApiFake:
    fake = DashboardApiFake(**kwargs)
    fake.add_area("160000000000", "Thüringen")
    fake.add_area("160510000000", "Erfurt")
    fake.add_area("160550000000", "Weimar")
    fake.add_area("010510000000", "Dithmarschen")
    fake.add_row(HUND, "160550000000", url="https://weimar.example/hund", ars_name="Weimar")
    fake.add_row(
        HUND,
        "160510000000",
        url="https://erfurt.example/hund",
        online_status="nicht ok",
        aktiv="nein",
        art_flaechendeckung="kreisweit flächendeckend",
        leika_bezeichnung="Hundesteuer Anmeldung",
        ozgid=10357,
    )
    fake.add_row(
        KFZ,
        "160000000000",
        url="https://th.example/kfz",
        art_flaechendeckung="landesweit flächendeckend",
    )
    fake.add_row("123", "160680000000")  # invalid LeiKa key: quarantined
    fake.add_row(HUND, "010510000000", url="https://sh.example/hund")  # another Land
    return fake


def records(batches: list[Batch]) -> list[Any]:
    return [c.record for b in batches for c in b.changes]


def assert_contract(fake: DashboardApiFake, contract: OpenApiContract, allow=()) -> None:
    assert fake.exchanges
    for ex in fake.exchanges:
        contract.check_request(ex.method, ex.path, ex.query)
        contract.check_response(
            ex.method, ex.path, ex.status, ex.content_type, ex.body, allow_undocumented=allow
        )


class TestConformance(ConnectorConformance):
    @pytest.fixture
    def fake(self) -> DashboardApiFake:
        return populated()

    @pytest.fixture
    def connector(self, efa_serve_asgi, fake) -> DashboardConnector:
        return make(efa_serve_asgi(fake), page_size=2)

    @pytest.fixture
    def failing_connector(self, efa_serve_asgi) -> DashboardConnector:
        broken = DashboardApiFake()
        broken.fail(500, times=50)
        return make(efa_serve_asgi(broken), attempts=1)

    def test_every_exchange_matches_the_spec(self, connector, fake, dashboard_contract) -> None:
        list(pull_sync(connector))
        assert_contract(fake, dashboard_contract)


def test_rows_become_availability_and_areas(efa_serve_asgi) -> None:
    fake = populated()
    batches = list(pull_sync(make(efa_serve_asgi(fake), page_size=2)))

    assert [(b.cursor, b.complete) for b in batches] == [
        ("ars:0", False),
        ("ars:end", False),
        ("data:16:0", False),
        ("data:16:end", True),
    ]
    areas = [r for r in records(batches) if isinstance(r, Area)]
    assert [(str(a.ars), a.name) for a in areas] == [
        ("16", "Thüringen"),
        ("16051", "Erfurt"),
        ("16055", "Weimar"),
    ]
    rows = [r for r in records(batches) if isinstance(r, Availability)]
    assert [r.natural_key for r in rows] == [
        f"{HUND}@16055->https://weimar.example/hund",
        f"{HUND}@16051->https://erfurt.example/hund",
        f"{KFZ}@16->https://th.example/kfz",
    ]
    weimar, erfurt, land = rows
    assert (weimar.online, weimar.active, weimar.coverage) == (True, True, Coverage.KOMMUNE)
    assert (erfurt.online, erfurt.active, erfurt.coverage) == (False, False, Coverage.KREISWEIT)
    assert erfurt.ozg_id == OzgId("10357")
    assert erfurt.name == "Hundesteuer Anmeldung"
    assert land.coverage is Coverage.LANDESWEIT
    [rejected] = [r for b in batches for r in b.rejected]
    assert rejected.position == "data 16 page 1 item 2"
    assert rejected.problems[0][0] == "$.leika_key"
    data = [e for e in fake.exchanges if e.path.startswith("/v1/data/")]
    assert {e.path for e in data} == {"/v1/data/160000000000"}
    assert {(dict(e.query)["includeBelow"], dict(e.query)["includeAbove"]) for e in data} == {
        ("true", "false")
    }
    assert all(e.headers["accept"] == "application/json" for e in fake.exchanges)


def test_weimar_reads_at_the_scopes_level(efa_serve_asgi) -> None:
    fake = populated()
    kreis = records(list(pull_sync(make(efa_serve_asgi(fake), scopes=("16055",), areas=False))))
    gemeinde = records(
        list(pull_sync(make(efa_serve_asgi(fake), scopes=("160550000000",), areas=False)))
    )
    assert [str(r.ars) for r in kreis] == ["16055"]
    assert [str(r.ars) for r in gemeinde] == ["160550000000"]
    assert [e.path for e in fake.exchanges if e.path.startswith("/v1/data")] == [
        "/v1/data/160550000000",
        "/v1/data/160550000000",
    ]


def test_read_padded_ars() -> None:
    assert read_padded_ars("160550000000", [Ars("16")]) == Ars("16055")
    assert read_padded_ars("160550000000", [Ars("160550000000")]) == Ars("160550000000")
    assert read_padded_ars("120645410000", [Ars("12")]) == Ars("120645410")
    assert read_padded_ars("010510000000", [Ars("16")]) is None


def test_several_scopes_one_snapshot(efa_serve_asgi) -> None:
    fake = populated()
    batches = list(pull_sync(make(efa_serve_asgi(fake), scopes=("16", "01"), areas=False)))
    assert [b.cursor for b in batches] == ["data:01:end", "data:16:end"]
    assert [b.complete for b in batches] == [False, True]
    assert [str(r.ars) for r in records(batches)] == ["01051", "16055", "16051", "16"]


def test_429_and_500_are_retried(efa_serve_asgi, dashboard_contract) -> None:
    fake = populated(rate_limit=RateLimit(limit=2, retry_after=0))
    fake.fail(500, path="/v1/data/160000000000")
    batches = list(pull_sync(make(efa_serve_asgi(fake), page_size=2)))

    assert len([r for r in records(batches) if isinstance(r, Availability)]) == 3
    assert fake.throttled >= 1
    assert [e.status for e in fake.exchanges].count(500) == 1
    # 429 is not in the dashboard's spec; everything else is.
    assert_contract(fake, dashboard_contract, allow={429})


def test_errors_name_status_and_detail(efa_serve_asgi) -> None:
    fake = populated()
    fake.fail(400, times=2, body={"status": 400, "error": "Bad Request", "message": "size zu groß"})
    with pytest.raises(HttpError) as raised:
        list(pull_sync(make(efa_serve_asgi(fake))))
    assert raised.value.status == 400
    assert "size zu groß" in str(raised.value)


def test_invalid_cursor_is_named(efa_serve_asgi) -> None:
    connector = make(efa_serve_asgi(populated()))
    with pytest.raises(ConnectorError, match="invalid cursor 'data:15:0'"):
        list(pull_sync(connector, "data:15:0"))


def test_config_needs_valid_scopes() -> None:
    with pytest.raises(ValueError, match="at least one ARS"):
        DashboardConfig(scopes=())
    with pytest.raises(ValueError, match="scopes: ARS '1605'"):
        DashboardConfig(scopes=("1605",))


def test_configured_from_efa_toml(efa_registry, efa_serve_asgi) -> None:
    import efa_dashboard.plugin

    efa_registry.register(efa_dashboard.plugin, name="dashboard")
    table = {"type": "dashboard", "base_url": efa_serve_asgi(populated()), "scopes": ["16051"]}
    config = parse_config({"connectors": {"dash": table}})
    connector = build_connector(efa_registry, "dash", config)
    assert isinstance(connector, DashboardConnector)
    assert [str(r.ars) for r in records(list(pull_sync(connector)))] == ["16051", "16051"]


def test_discovered_through_its_entry_point() -> None:
    if not importlib.metadata.entry_points(group="efa_core", name="dashboard"):
        pytest.skip("efa-dashboard is not installed (pip install -e .)")
    registry = PluginRegistry(strict=True, env={})
    assert registry.connector_class("dashboard") is DashboardConnector


def test_every_row_and_area_is_accounted_for_on_a_messy_answer(efa_serve_asgi) -> None:
    """Issue 10 §4: stored + quarantined + skipped = the objects the API answered."""
    from efa_core.testing.accounting import assert_accounted

    fake = DashboardApiFake()
    fake.add_area("160000000000", "Thüringen")
    fake.add_area("160550000000", "Weimar")
    fake.add_area("160550000000", "Weimar")  # the same area twice
    fake.add_area("160510000000", "   ")  # blank name: quarantined
    fake.add_area("010510000000", "Dithmarschen")  # outside the scope: skipped
    fake.add_row(HUND, "160550000000", url="https://weimar.example/hund")
    fake.add_row(HUND, "160550000000", url="https://weimar.example/hund")  # duplicate
    fake.add_row(HUND, "160510000000", url="www.erfurt.example/hund", ozgid=0)  # normalised
    fake.add_row("12345", "160510000000")  # not a LeiKa key: quarantined
    fake.add_row(KFZ, "160510000000", online_status="vielleicht")  # quarantined
    fake.add_row(KFZ, "010510000000")  # another Land: not in the answer for scope 16
    answered_rows = sum(1 for row in fake.rows if row["ars"].startswith("16"))
    accounting = assert_accounted(
        make(efa_serve_asgi(fake), page_size=2),
        {"area": len(fake.area_list), "availability": answered_rows},
    )
    assert accounting.stored == {"area": 2, "availability": 2}
    assert accounting.quarantined == {"area": 1, "availability": 2}
    assert accounting.skipped == {"area": 2, "availability": 1}
