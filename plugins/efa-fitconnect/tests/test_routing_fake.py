"""The fake Routing API that efa-fitconnect ships for tests (efa_fitconnect.testing)."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from efa_fitconnect.testing import RoutingApiFake

from efa_core.testing.contract import OpenApiContract
from efa_core.testing.fakes import RateLimit

KEY = "99123456760610"
UA = {"User-Agent": "efa-core-tests/1"}


def sync_get(fake, path: str, params=None, headers=UA) -> httpx.Response:
    # httpx.ASGITransport is async only: drive the app through the async client.
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


@pytest.fixture
def routing_fake() -> RoutingApiFake:
    fake = RoutingApiFake(page_limit=2)
    for n in range(5):
        fake.add_route(KEY, "16055", name=f"Amt {n}")
    fake.add_route(KEY, ags="16055000", name="by AGS")
    fake.add_route(KEY, area_id="1024", name="by area id")
    fake.add_area("1024", "Halle (Saale)", "Kreisfreie Stadt", zips=["06108"])
    return fake


def test_routes_are_paged_by_offset(routing_fake, routing_contract) -> None:
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
    check_all(routing_fake, routing_contract)


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
    routing_fake, routing_contract, params, detail, schema_catches_it
) -> None:
    response = sync_get(routing_fake, "/routes", params)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert detail in response.json()["detail"]
    routing_contract.check_response(
        "GET", "/routes", 400, response.headers["content-type"], response.json()
    )
    assert bool(routing_contract.request_problems("GET", "/routes", params)) is schema_catches_it


def test_rate_limit_headers_and_429(routing_contract, routing_fake) -> None:
    routing_fake.rate_limit = RateLimit(limit=2, retry_after=7)
    query = {"leikaKey": KEY, "ars": "16055"}
    answers = [sync_get(routing_fake, "/routes", query) for _ in range(4)]
    assert [r.status_code for r in answers] == [200, 200, 429, 200]
    assert [r.headers["RateLimit-Remaining"] for r in answers] == ["1", "0", "0", "1"]
    assert answers[2].headers["Retry-After"] == "7"
    assert answers[0].headers["RateLimit-Limit"] == "2"
    check_all(routing_fake, routing_contract)


def test_faults_are_injected_per_path(routing_contract, routing_fake) -> None:
    routing_fake.fail(500, path="/routes")
    assert sync_get(routing_fake, "/info").status_code == 200
    failed = sync_get(routing_fake, "/routes", {"leikaKey": KEY, "ars": "16055"})
    assert failed.status_code == 500
    assert failed.json()["status"] == 500
    assert sync_get(routing_fake, "/routes", {"leikaKey": KEY, "ars": "16055"}).status_code == 200
    check_all(routing_fake, routing_contract)


def test_area_search(routing_contract, routing_fake) -> None:
    routing_fake.add_area("1025", "Saalekreis", "Landkreis")
    found = sync_get(routing_fake, "/areas", [("areaSearchexpression", "Saale*")]).json()
    assert [a["name"] for a in found["areas"]] == ["Halle (Saale)", "Saalekreis"]
    zip_ = sync_get(routing_fake, "/areas", [("areaSearchexpression", "06108")]).json()
    assert [a["id"] for a in zip_["areas"]] == ["1024"]
    both = [("areaSearchexpression", "Halle"), ("areaSearchexpression", "Saale*")]
    assert sync_get(routing_fake, "/areas", both).json()["totalCount"] == 1
    check_all(routing_fake, routing_contract)
    assert sync_get(routing_fake, "/areas", {}).status_code == 400


def test_requests_without_user_agent_are_refused(routing_fake) -> None:
    response = sync_get(routing_fake, "/info", headers={"User-Agent": ""})
    assert response.status_code == 403
