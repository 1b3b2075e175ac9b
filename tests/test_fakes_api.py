"""The shared fake-server kit (efa_core.testing.fakes) and the OpenAPI contract checker.

The fakes of the bundled plugins' systems live beside their plugins
(``efa_fitconnect.testing``, ``efa_dashboard.testing``, ``efa_pvog.testing``) and are
tested there.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest

from efa_core.testing.contract import (
    ContractViolation,
    OpenApiContract,
    find_fixtures_dir,
    find_spec_fixture,
)
from efa_core.testing.fakes import FakeApi, RateLimit

ROUTING = "fit-connect-routing-api.v2.0.0.yaml"
DASHBOARD = "ozg-dashboard-digitale-verwaltung-api.openapi.yaml"
KEY = "99123456760610"


@pytest.fixture(scope="module")
def routing() -> OpenApiContract:
    return OpenApiContract.load(find_spec_fixture(ROUTING, Path(__file__)))


@pytest.fixture(scope="module")
def dashboard() -> OpenApiContract:
    return OpenApiContract.load(find_spec_fixture(DASHBOARD, Path(__file__)))


def get(app: Any, path: str, params: Any = None) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://fake") as client:
            return await client.get(path, params=params)

    return asyncio.run(go())


class Items(FakeApi):
    """The smallest FakeApi: ``GET /items`` answers the query back, everything else 404."""

    def handle(
        self, method: str, path: str, query: list[tuple[str, str]], headers: Mapping[str, str]
    ) -> tuple[int, str, Any, Mapping[str, str]]:
        if path != "/items":
            return 404, self.error_content_type, self.error_body(404, "Not Found", path, path), {}
        return 200, "application/json", {"query": query}, {"X-Items": "1"}


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


# -- FakeApi: recording, faults, rate limits --------------------------------------------------


def test_exchanges_are_recorded_with_query_and_headers() -> None:
    fake = Items()
    answer = get(fake, "/items", [("a", "1"), ("a", "2")])
    assert answer.status_code == 200
    assert answer.json() == {"query": [["a", "1"], ["a", "2"]]}
    assert answer.headers["x-items"] == "1"
    assert get(fake, "/nothing").status_code == 404
    first, second = fake.exchanges
    assert (first.method, first.path, first.query, first.status) == (
        "GET",
        "/items",
        [("a", "1"), ("a", "2")],
        200,
    )
    assert first.headers["host"] == "fake"
    assert (second.status, second.content_type) == (404, "application/problem+json")
    assert second.body["status"] == 404


def test_faults_are_injected_per_path_in_order() -> None:
    fake = Items()
    fake.fail(503, path="/items", times=2, headers={"Retry-After": "0"})
    fake.fail(418, body="teapot", content_type="text/plain")
    assert get(fake, "/other").status_code == 418  # the path-less fault takes any path
    first = get(fake, "/items")
    assert (first.status_code, first.headers["retry-after"]) == (503, "0")
    assert first.json()["title"] == "Injected fault"
    assert get(fake, "/items").status_code == 503
    assert get(fake, "/items").status_code == 200
    assert fake.faults == []


def test_rate_limit_counts_requests_and_answers_one_429() -> None:
    fake = Items(rate_limit=RateLimit(limit=2, retry_after=7))
    answers = [get(fake, "/items") for _ in range(4)]
    assert [r.status_code for r in answers] == [200, 200, 429, 200]
    assert [r.headers["RateLimit-Remaining"] for r in answers] == ["1", "0", "0", "1"]
    assert answers[2].headers["Retry-After"] == "7"
    assert answers[0].headers["RateLimit-Limit"] == "2"
    assert fake.throttled == 1


def test_lifespan_events_are_acknowledged() -> None:
    sent: list[str] = []
    messages = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])

    async def receive() -> dict[str, str]:
        return next(messages)

    async def send(message: Any) -> None:
        sent.append(message["type"])

    asyncio.run(Items()({"type": "lifespan"}, receive, send))
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]


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
