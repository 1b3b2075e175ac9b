"""The fake Routing and Dashboard APIs, checked against their OpenAPI specs, and the checker."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from efa_core.testing.contract import (
    ContractViolation,
    OpenApiContract,
    find_fixtures_dir,
    find_spec_fixture,
)
from efa_core.testing.fakes.dashboard import DashboardApiFake, significant
from efa_core.testing.fakes.routing import RateLimit, RoutingApiFake

ROUTING = "fit-connect-routing-api.v2.0.0.yaml"
DASHBOARD = "ozg-dashboard-digitale-verwaltung-api.openapi.yaml"
KEY = "99123456760610"
UA = {"User-Agent": "efa-core-tests/1"}


@pytest.fixture(scope="module")
def routing() -> OpenApiContract:
    return OpenApiContract.load(find_spec_fixture(ROUTING, Path(__file__)))


@pytest.fixture(scope="module")
def dashboard() -> OpenApiContract:
    return OpenApiContract.load(find_spec_fixture(DASHBOARD, Path(__file__)))


def sync_get(fake, path: str, params=None, headers=UA) -> httpx.Response:
    # httpx.ASGITransport is async only: drive the app through the async client.
    import asyncio

    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=fake)
        async with httpx.AsyncClient(transport=transport, base_url="http://fake") as c:
            response = await c.get(path, params=params, headers=headers)
            await response.aread()
            return response

    return asyncio.run(go())


def check_all(fake, contract: OpenApiContract, allow=()) -> None:
    for ex in fake.exchanges:
        contract.check_request(ex.method, ex.path, ex.query)
        contract.check_response(
            ex.method, ex.path, ex.status, ex.content_type, ex.body, allow_undocumented=allow
        )


# -- locating the specs ---------------------------------------------------------------------


def test_fixtures_are_found_next_to_the_repository() -> None:
    folder = find_fixtures_dir(__file__)
    assert (folder / ROUTING).is_file()
    assert folder.parts[-2:] == ("shared", "fixtures")


def test_missing_fixtures_fail_clearly(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("EFA_SPEC_FIXTURES", raising=False)
    with pytest.raises(FileNotFoundError, match="no 'shared/fixtures' folder found above"):
        find_fixtures_dir(tmp_path)
    with pytest.raises(FileNotFoundError, match=r"spec fixture 'nope\.yaml' not found"):
        find_spec_fixture("nope.yaml", __file__)
    monkeypatch.setenv("EFA_SPEC_FIXTURES", str(tmp_path / "absent"))
    with pytest.raises(FileNotFoundError, match="EFA_SPEC_FIXTURES="):
        find_fixtures_dir(__file__)


# -- the Routing API fake -------------------------------------------------------------------


@pytest.fixture
def routing_fake() -> RoutingApiFake:
    fake = RoutingApiFake(page_limit=2)
    for n in range(5):
        fake.add_route(KEY, "16055", name=f"Amt {n}")
    fake.add_route(KEY, ags="16055000", name="by AGS")
    fake.add_route(KEY, area_id="1024", name="by area id")
    fake.add_area("1024", "Halle (Saale)", "Kreisfreie Stadt", zips=["06108"])
    return fake


def test_routes_are_paged_by_offset(routing_fake, routing) -> None:
    names = []
    offset = 0
    while True:
        body = sync_get(
            routing_fake, "/v1/routes", {"leikaKey": KEY, "ars": "16055", "offset": offset}
        ).json()
        assert body["totalCount"] == 5
        names += [r["destinationName"] for r in body["routes"]]
        offset += body["count"]
        if not body["count"] or offset >= body["totalCount"]:
            break
    assert names == [f"Amt {n}" for n in range(5)]
    one = sync_get(routing_fake, "/routes", {"leikaKey": KEY, "ags": "16055000"}).json()
    assert [r["destinationName"] for r in one["routes"]] == ["by AGS"]
    two = sync_get(routing_fake, "/routes", {"leikaKey": KEY, "areaId": "1024"}).json()
    assert [r["destinationName"] for r in two["routes"]] == ["by area id"]
    check_all(routing_fake, routing)


@pytest.mark.parametrize(
    ("params", "detail", "schema_catches_it"),
    [
        # "exactly one area parameter" is prose in the spec, not schema: only the fake knows.
        ({"leikaKey": KEY}, "exactly one of ars, ags and areaId must be given (got none)", False),
        ({"leikaKey": KEY, "ars": "16", "ags": "16"}, "(got ars, ags)", False),
        ({"leikaKey": "12", "ars": "16"}, "leikaKey must match", True),
        ({"leikaKey": KEY, "ars": "16", "limit": "501"}, "limit 1 to 500", True),
    ],
)
def test_bad_requests_get_problem_json(
    routing_fake, routing, params, detail, schema_catches_it
) -> None:
    response = sync_get(routing_fake, "/routes", params)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert detail in response.json()["detail"]
    routing.check_response("GET", "/routes", 400, response.headers["content-type"], response.json())
    assert bool(routing.request_problems("GET", "/routes", params)) is schema_catches_it


def test_rate_limit_headers_and_429(routing, routing_fake) -> None:
    routing_fake.rate_limit = RateLimit(limit=2, retry_after=7)
    query = {"leikaKey": KEY, "ars": "16055"}
    answers = [sync_get(routing_fake, "/routes", query) for _ in range(4)]
    assert [r.status_code for r in answers] == [200, 200, 429, 200]
    assert [r.headers["RateLimit-Remaining"] for r in answers] == ["1", "0", "0", "1"]
    assert answers[2].headers["Retry-After"] == "7"
    assert answers[0].headers["RateLimit-Limit"] == "2"
    check_all(routing_fake, routing)


def test_faults_are_injected_per_path(routing, routing_fake) -> None:
    routing_fake.fail(500, path="/routes")
    assert sync_get(routing_fake, "/info").status_code == 200
    failed = sync_get(routing_fake, "/routes", {"leikaKey": KEY, "ars": "16055"})
    assert failed.status_code == 500
    assert failed.json()["status"] == 500
    assert sync_get(routing_fake, "/routes", {"leikaKey": KEY, "ars": "16055"}).status_code == 200
    check_all(routing_fake, routing)


def test_area_search(routing, routing_fake) -> None:
    routing_fake.add_area("1025", "Saalekreis", "Landkreis")
    found = sync_get(routing_fake, "/areas", [("areaSearchexpression", "Saale*")]).json()
    assert [a["name"] for a in found["areas"]] == ["Halle (Saale)", "Saalekreis"]
    zip_ = sync_get(routing_fake, "/areas", [("areaSearchexpression", "06108")]).json()
    assert [a["id"] for a in zip_["areas"]] == ["1024"]
    both = [("areaSearchexpression", "Halle"), ("areaSearchexpression", "Saale*")]
    assert sync_get(routing_fake, "/areas", both).json()["totalCount"] == 1
    check_all(routing_fake, routing)
    assert sync_get(routing_fake, "/areas", {}).status_code == 400


def test_requests_without_user_agent_are_refused(routing_fake) -> None:
    response = sync_get(routing_fake, "/info", headers={"User-Agent": ""})
    assert response.status_code == 403


# -- the Dashboard API fake -----------------------------------------------------------------


@pytest.fixture
def dashboard_fake() -> DashboardApiFake:
    fake = DashboardApiFake()
    fake.add_area("160000000000", "Thüringen")
    fake.add_area("160550000000", "Weimar")
    fake.add_row("99041006017000", "160550000000", ars_name="Weimar")
    fake.add_row("99041006017000", "160510000000", ars_name="Erfurt")
    fake.add_row("99036004001000", "160000000000", art_flaechendeckung="landesweit flächendeckend")
    fake.add_row("99036004001000", "010510000000")
    return fake


def test_spring_pages(dashboard, dashboard_fake) -> None:
    first = sync_get(dashboard_fake, "/v1/data", {"page": "0", "size": "3"}).json()
    second = sync_get(dashboard_fake, "/api/v1/data", {"page": "1", "size": "3"}).json()
    assert (first["totalPages"], first["totalElements"], first["first"], first["last"]) == (
        2,
        4,
        True,
        False,
    )
    assert (second["number"], second["numberOfElements"], second["last"]) == (1, 1, True)
    assert second["pageable"]["offset"] == 3
    desc = sync_get(dashboard_fake, "/v1/data", {"order": "desc", "size": "1"}).json()
    assert desc["content"][0]["ars"] == "010510000000"
    areas = sync_get(dashboard_fake, "/v1/ars").json()
    assert [a["arsName"] for a in areas["content"]] == ["Thüringen", "Weimar"]
    check_all(dashboard_fake, dashboard)


def test_data_by_ars_above_and_below(dashboard, dashboard_fake) -> None:
    json = {"Accept": "application/json", **UA}

    def ars_of(ars: str, **params: str) -> list[str]:
        body = sync_get(dashboard_fake, f"/v1/data/{ars}", params, headers=json).json()
        return [row["ars"] for row in body["content"]]

    assert ars_of("160000000000", includeAbove="false") == [
        "160550000000",
        "160510000000",
        "160000000000",
    ]
    assert ars_of("160000000000", includeBelow="false", includeAbove="false") == ["160000000000"]
    assert ars_of("160550000000", includeBelow="false") == ["160550000000", "160000000000"]
    assert ars_of("160550000000") == ["160550000000", "160000000000"]
    csv = sync_get(dashboard_fake, "/v1/data/160550000000", {"includeAbove": "false"})
    assert csv.headers["content-type"] == "application/octet-stream"
    assert csv.text.splitlines()[0].startswith("leika_key;leika_name;ars")
    check_all(dashboard_fake, dashboard)
    bad = sync_get(dashboard_fake, "/v1/data/16", headers=json)
    assert bad.status_code == 400
    assert "12 digits" in bad.json()["message"]
    assert dashboard.request_problems("GET", "/v1/data/16")  # the checker agrees


def test_significant_strips_zero_filled_groups() -> None:
    assert significant("160550000000") == "16055"
    assert significant("160000000000") == "16"
    assert significant("120645410000") == "120645410"
    assert significant("160551234567") == "160551234567"


def test_dashboard_faults_and_rate_limits(dashboard, dashboard_fake) -> None:
    dashboard_fake.fail(500)
    failed = sync_get(dashboard_fake, "/v1/ars")
    assert failed.status_code == 500
    assert failed.json()["error"] == "Injected fault"
    dashboard_fake.rate_limit = RateLimit(limit=1, retry_after=3)
    assert [sync_get(dashboard_fake, "/v1/ars").status_code for _ in range(3)] == [200, 429, 200]
    # The dashboard's spec documents no 429: the checker says so unless told to allow it.
    with pytest.raises(ContractViolation, match="status 429 is not declared"):
        check_all(dashboard_fake, dashboard)
    check_all(dashboard_fake, dashboard, allow={429})


# -- the checker catches drift --------------------------------------------------------------


def test_a_wrong_response_is_rejected(routing, dashboard) -> None:
    good = {"count": 0, "offset": 0, "totalCount": 0, "routes": []}
    routing.check_response("GET", "/routes", 200, "application/json; charset=utf-8", good)
    drifted = {
        "count": 1,
        "offset": 0,
        "totalCount": "1",
        "routes": [{"destinationId": "3fa85f64-5717-4562-b3fc-2c963f66afa6"}],
    }
    with pytest.raises(ContractViolation) as raised:
        routing.check_response("GET", "/routes", 200, "application/json", drifted)
    problems = raised.value.problems
    assert "GET /routes 200 body.totalCount: '1' is not of type 'integer'" in problems
    assert (
        "GET /routes 200 body.routes[0]: 'destinationSignature' is a required property" in problems
    )
    with pytest.raises(ContractViolation, match="content type 'text/html' is not declared"):
        routing.check_response("GET", "/routes", 200, "text/html", good)
    with pytest.raises(ContractViolation, match="status 404 is not declared"):
        routing.check_response("GET", "/routes", 404, "application/json", {})
    row = {"leika_key": "99041006017000", "ars": None, "aktiv": None, "online_status": "kaputt"}
    problems = dashboard.response_problems(
        "GET", "/v1/data", 200, "application/json", {"content": [row]}
    )
    # aktiv is nullable, ars is not; online_status is an enum.
    assert problems == [
        "GET /v1/data 200 body.content[0].ars: None is not of type 'string'",
        "GET /v1/data 200 body.content[0].online_status: 'kaputt' is not one of ['ok', 'nicht ok']",
    ]


def test_a_wrong_request_is_rejected(routing) -> None:
    routing.check_request("GET", "/v1/routes", {"leikaKey": KEY, "ars": "16055", "limit": "500"})
    with pytest.raises(ContractViolation) as raised:
        routing.check_request("GET", "/routes", {"leika": KEY, "ars": "1605", "limit": "0"})
    assert raised.value.problems == (
        "GET /routes: query parameter 'leikaKey' is required but missing",
        "GET /routes: query parameter 'ars': '1605' does not match "
        "'^(\\\\d{2}|\\\\d{3}|\\\\d{5}|\\\\d{9}|\\\\d{12})$'",
        "GET /routes: query parameter 'limit': 0 is less than the minimum of 1",
        "GET /routes: query parameter 'leika' is not declared "
        "(declared: ags, areaId, ars, leikaKey, limit, offset)",
    )
    assert routing.request_problems("POST", "/routes") == [
        "POST is not declared for /routes (only ['GET'])"
    ]
    assert routing.request_problems("GET", "/destinations")[0].startswith(
        "path /destinations matches no path"
    )
    lenient = OpenApiContract(routing.spec, strict=False)
    assert lenient.request_problems("GET", "/routes", {"leikaKey": KEY, "x": "1"}) == []


def test_check_exchange_takes_httpx_responses(routing) -> None:
    request = httpx.Request("GET", "https://api.example/v1/info")
    routing.check_exchange(
        httpx.Response(200, json={"version": {"major": 2, "minor": 0, "patch": 0}}, request=request)
    )
    with pytest.raises(ContractViolation, match="'patch' is a required property"):
        routing.check_exchange(
            httpx.Response(200, json={"version": {"major": 2, "minor": 0}}, request=request)
        )


def test_only_openapi_3_0_is_supported() -> None:
    with pytest.raises(ValueError, match=r"only OpenAPI 3\.0"):
        OpenApiContract({"openapi": "3.1.0"}, name="x")
