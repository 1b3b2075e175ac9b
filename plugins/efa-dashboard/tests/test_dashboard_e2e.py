"""End to end: the fake OZG-Dashboard API -> dashboard connector -> SyncEngine -> SQLite."""

from __future__ import annotations

import logging

import pytest
from efa_dashboard import plugin as dashboard_plugin
from efa_dashboard.testing import DashboardApiFake

from efa_core.config import parse_config
from efa_core.store import open_store
from efa_core.sync import SyncEngine

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
        "http": {"initial_backoff": 0.0, "max_backoff": 0.0},
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


class _HostileDashboard(DashboardApiFake):
    """The fake with Spring's page facts removed or paging ignored (issue 16 §1)."""

    mode = "normal"

    def handle(self, method, path, query, headers):
        status, content_type, body, extra = super().handle(method, path, query, headers)
        if status == 200 and isinstance(body, dict) and "content" in body:
            if self.mode == "no-page-facts":
                body = {k: v for k, v in body.items() if k not in ("totalPages", "last")}
            elif self.mode == "string-facts":
                body = {**body, "totalPages": str(body["totalPages"]), "last": str(body["last"])}
            elif self.mode == "ignore-page":
                first = super().handle(method, path, [("size", dict(query)["size"])], headers)
                body = first[2]
        return status, content_type, body, extra


def _engine(tmp_path, registry, base_url):
    table = {
        "type": "dashboard",
        "base_url": base_url,
        "scopes": ["16"],
        "page_size": 1,
        "areas": False,
        "http": {"initial_backoff": 0.0, "max_backoff": 0.0},
    }
    store = open_store(f"sqlite:///{tmp_path / 'efa.db'}")
    return SyncEngine(store, registry, parse_config({"connectors": {"dash": table}}))


@pytest.mark.parametrize("mode", ["no-page-facts", "ignore-page"])
def test_pages_that_cannot_prove_the_end_fail_the_run_and_delete_nothing(
    tmp_path, registry, efa_serve_asgi, mode
) -> None:
    fake = _HostileDashboard()
    for n in range(5):
        fake.add_row(HUND, f"1605{n}0000000", url=f"https://k{n}.example/hund")
    sync = _engine(tmp_path, registry, efa_serve_asgi(fake))
    assert sync.run()["dash"].added == 5
    fake.mode = mode
    report = sync.run()["dash"]
    assert not report.ok
    assert report.deleted == 0
    assert len(list(sync.store.records(source="dash", kind="availability"))) == 5
    if mode == "ignore-page":
        assert "loop: page 1 repeats the items of page 0" in report.error


def test_page_facts_sent_as_strings_read_every_page(tmp_path, registry, efa_serve_asgi) -> None:
    fake = _HostileDashboard()
    fake.mode = "string-facts"
    for n in range(3):
        fake.add_row(HUND, f"1605{n}0000000", url=f"https://k{n}.example/hund")
    report = _engine(tmp_path, registry, efa_serve_asgi(fake)).run()["dash"]
    assert report.ok, report.error
    assert report.added == 3


def test_spec_valid_rows_are_normalised_and_kept_with_their_names(
    tmp_path, registry, efa_serve_asgi, caplog
) -> None:
    fake = DashboardApiFake()
    fake.add_row(
        HUND,
        "160550000000",
        url="www.weimar.example/hund",
        ozgid=0,
        ars_name="Weimar, Stadt",
        ozg_bezeichnung="Hundehaltung",
    )
    sync = _engine(tmp_path, registry, efa_serve_asgi(fake))
    caplog.set_level(logging.DEBUG, logger="efa_dashboard")
    report = sync.run()["dash"]
    assert report.ok, report.error
    assert (report.added, report.quarantined) == (1, 0)
    [row] = sync.store.records(source="dash", kind="availability")
    record = row.to_record()
    assert record.url == "https://www.weimar.example/hund"
    assert record.ozg_id is None
    assert (record.ozg_name, record.area_name, str(record.land)) == (
        "Hundehaltung",
        "Weimar, Stadt",
        "16",
    )
    # each row is in the debug log; a warning per row would flood a national sync's log
    assert "has no scheme; stored as 'https://www.weimar.example/hund'" in caplog.text
    assert "ozgid 0 names no OZG-Leistung" in caplog.text
    assert not [
        r
        for r in caplog.records
        if r.name.startswith("efa_dashboard") and r.levelno >= logging.WARNING
    ]
    # ... and the run says so, one line per kind of change, counted
    [run] = sync.store.runs(source="dash")
    assert [w for w in run.warnings if "row" in w] == [
        "dashboard connector 'dash': 1 row with a url without scheme, stored with https:// "
        "(first: data 16 page 0 item 1)",
        "dashboard connector 'dash': 1 row with ozgid 0, stored without an OZG-Leistung "
        "(first: data 16 page 0 item 1)",
    ]


class _Moved:
    """The dashboard moved: ``/old/...`` redirects (308) to ``/...`` on the same host."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/old/"):
            query = scope["query_string"].decode()
            location = scope["path"][len("/old") :] + (f"?{query}" if query else "")
            headers = [(b"location", location.encode()), (b"content-length", b"0")]
            await send({"type": "http.response.start", "status": 308, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return
        await self.app(scope, receive, send)


def test_a_followed_redirect_and_its_final_url_are_kept_on_the_run(
    tmp_path, registry, efa_serve_asgi
) -> None:
    fake = DashboardApiFake()
    for n in range(3):
        fake.add_row(HUND, f"1605{n}0000000", url=f"https://k{n}.example/hund")
    base_url = efa_serve_asgi(_Moved(fake))
    sync = _engine(tmp_path, registry, base_url + "/old")
    report = sync.run()["dash"]
    assert report.ok, report.error
    assert report.added == 3
    [run] = sync.store.runs(source="dash")
    redirects = [w for w in run.warnings if "was redirected to" in w]
    assert len(redirects) == 1  # once per run, not once per page
    assert f"GET {base_url}/old/v1/data/" in redirects[0]
    assert f"redirected to {base_url}/v1/data/" in redirects[0]
