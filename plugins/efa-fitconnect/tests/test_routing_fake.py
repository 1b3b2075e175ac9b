"""The fake Routing API that efa-fitconnect ships for tests (efa_fitconnect.testing)."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest
from efa_fitconnect.testing import _SEARCH_TERM, RoutingApiFake
from hypothesis import given
from hypothesis import strategies as st

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
    one = sync_get(routing_fake, "/v1/routes", {"leikaKey": KEY, "ags": "16055000"}).json()
    assert [r["destinationName"] for r in one["routes"]] == ["by AGS"]
    two = sync_get(routing_fake, "/v1/routes", {"leikaKey": KEY, "areaId": "1024"}).json()
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
    response = sync_get(routing_fake, "/v1/routes", params)
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
    answers = [sync_get(routing_fake, "/v1/routes", query) for _ in range(4)]
    assert [r.status_code for r in answers] == [200, 200, 429, 200]
    assert [r.headers["RateLimit-Remaining"] for r in answers] == ["1", "0", "0", "1"]
    assert answers[2].headers["Retry-After"] == "7"
    assert answers[0].headers["RateLimit-Limit"] == "2"
    check_all(routing_fake, routing_contract)


def test_faults_are_injected_per_path(routing_contract, routing_fake) -> None:
    routing_fake.fail(500, path="/v1/routes")
    assert sync_get(routing_fake, "/v1/info").status_code == 200
    failed = sync_get(routing_fake, "/v1/routes", {"leikaKey": KEY, "ars": "16055"})
    assert failed.status_code == 500
    assert failed.json()["status"] == 500
    assert (
        sync_get(routing_fake, "/v1/routes", {"leikaKey": KEY, "ars": "16055"}).status_code == 200
    )
    check_all(routing_fake, routing_contract)


def test_area_search(routing_contract, routing_fake) -> None:
    routing_fake.add_area("1025", "Saalekreis", "Landkreis")
    found = sync_get(routing_fake, "/v1/areas", [("areaSearchexpression", "Saale*")]).json()
    assert [a["name"] for a in found["areas"]] == ["Halle (Saale)", "Saalekreis"]
    zip_ = sync_get(routing_fake, "/v1/areas", [("areaSearchexpression", "06108")]).json()
    assert [a["id"] for a in zip_["areas"]] == ["1024"]
    both = [("areaSearchexpression", "Halle"), ("areaSearchexpression", "Saale*")]
    assert sync_get(routing_fake, "/v1/areas", both).json()["totalCount"] == 1
    check_all(routing_fake, routing_contract)
    assert sync_get(routing_fake, "/v1/areas", {}).status_code == 400


def test_requests_without_user_agent_are_refused(routing_fake) -> None:
    response = sync_get(routing_fake, "/v1/info", headers={"User-Agent": ""})
    assert response.status_code == 403


# -- what the spec says, where the fake used to differ (issue 16 §5) --------------------------


def test_only_paths_under_v1_are_served(routing_fake) -> None:
    assert sync_get(routing_fake, "/v1/info").status_code == 200
    for path in ("/info", "/routes", "/v2/info", "/v1", "/v1/info/x"):
        assert sync_get(routing_fake, path).status_code == 404, path


def test_other_methods_get_405_with_allow(routing_fake) -> None:
    async def post() -> httpx.Response:
        transport = httpx.ASGITransport(app=routing_fake)
        async with httpx.AsyncClient(transport=transport, base_url="http://fake") as c:
            return await c.post("/v1/routes", headers=UA)

    answer = asyncio.run(post())
    assert (answer.status_code, answer.headers["allow"]) == (405, "GET")
    assert answer.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("offset", "status"),
    [("2147483647", 200), ("2147483648", 400), ("99999999999999999999", 400), ("-1", 400)],
)
def test_offset_is_a_32_bit_integer(routing_fake, offset, status) -> None:
    query = {"leikaKey": KEY, "ars": "16055", "offset": offset}
    answer = sync_get(routing_fake, "/v1/routes", query)
    assert answer.status_code == status
    if status == 200:
        assert answer.json()["routes"] == []


@pytest.mark.parametrize(
    "params",
    [
        {"leikaKey": "99١٢٣٤٥٦٧٦٠٦١٠", "ars": "16055"},  # Arabic-Indic digits
        {"leikaKey": KEY, "ars": "١٦٠٥٥"},
        {"leikaKey": KEY, "ags": "１６０５５０００"},  # fullwidth digits
        {"leikaKey": KEY, "areaId": "٧"},
        {"leikaKey": KEY, "ars": "16055", "limit": "１０"},
        {"leikaKey": KEY, "ars": "16055", "offset": "1_0"},
    ],
)
def test_digits_are_ascii_digits(routing_fake, params) -> None:
    assert sync_get(routing_fake, "/v1/routes", params).status_code == 400


@pytest.mark.parametrize(
    ("term", "ok"),
    [
        ("Saale*", True),
        ("*aale", True),
        ("Halle**Saale", True),
        ("06108", True),
        ("a", False),
        ("*", False),
        ("Sa***le", False),
        ("**Saale", False),
        ("Saale*a", False),
    ],
)
def test_search_terms_follow_the_spec_pattern(routing_fake, routing_contract, term, ok) -> None:
    answer = sync_get(routing_fake, "/v1/areas", {"areaSearchexpression": term})
    assert answer.status_code == (200 if ok else 400)
    spec_says = not routing_contract.request_problems(
        "GET", "/v1/areas", {"areaSearchexpression": term}
    )
    assert spec_says is ok


@given(st.text(alphabet="*ab ä1", max_size=12))
def test_the_search_term_check_is_the_spec_pattern(term: str) -> None:
    # The spec's pattern as written (nested quantifiers) against the fake's linear one.
    spec = re.fullmatch(r"(\*?([^\*]{2,})\*?)*", term) is not None
    assert (_SEARCH_TERM.fullmatch(term) is not None) is spec
