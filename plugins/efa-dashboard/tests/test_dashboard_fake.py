"""The fake OZG-Dashboard API that efa-dashboard ships for tests (efa_dashboard.testing)."""

from __future__ import annotations

import asyncio
import io

import httpx
import openpyxl
import pytest
from efa_dashboard.testing import DashboardApiFake, significant

from efa_core.testing.contract import ContractViolation, OpenApiContract
from efa_core.testing.fakes import RateLimit

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
def dashboard_fake() -> DashboardApiFake:
    fake = DashboardApiFake()
    fake.add_area("160000000000", "Thüringen")
    fake.add_area("160550000000", "Weimar")
    fake.add_row("99041006017000", "160550000000", ars_name="Weimar")
    fake.add_row("99041006017000", "160510000000", ars_name="Erfurt")
    fake.add_row("99036004001000", "160000000000", art_flaechendeckung="landesweit flächendeckend")
    fake.add_row("99036004001000", "010510000000")
    return fake


def test_spring_pages(dashboard_contract, dashboard_fake) -> None:
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
    check_all(dashboard_fake, dashboard_contract)


def test_data_by_ars_above_and_below(dashboard_contract, dashboard_fake) -> None:
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
    check_all(dashboard_fake, dashboard_contract)
    bad = sync_get(dashboard_fake, "/v1/data/16", headers=json)
    assert bad.status_code == 400
    assert "12 digits" in bad.json()["message"]
    assert dashboard_contract.request_problems("GET", "/v1/data/16")  # the checker agrees


def test_significant_strips_zero_filled_groups() -> None:
    assert significant("160550000000") == "16055"
    assert significant("160000000000") == "16"
    assert significant("120645410000") == "120645410"
    assert significant("160551234567") == "160551234567"


def test_dashboard_faults_and_rate_limits(dashboard_contract, dashboard_fake) -> None:
    dashboard_fake.fail(500)
    failed = sync_get(dashboard_fake, "/v1/ars")
    assert failed.status_code == 500
    assert failed.json()["error"] == "Injected fault"
    dashboard_fake.rate_limit = RateLimit(limit=1, retry_after=3)
    assert [sync_get(dashboard_fake, "/v1/ars").status_code for _ in range(3)] == [200, 429, 200]
    # The dashboard's spec documents no 429: the checker says so unless told to allow it.
    with pytest.raises(ContractViolation, match="status 429 is not declared"):
        check_all(dashboard_fake, dashboard_contract)
    check_all(dashboard_fake, dashboard_contract, allow={429})


# -- what the spec says, where the fake used to differ (issue 16 §5) --------------------------


@pytest.mark.parametrize(
    ("page", "size", "number", "expected_size"),
    [
        ("1", "2", 1, 2),
        ("eins", "2", 0, 2),  # not a number: Spring's default page
        ("-3", "2", 0, 2),  # negative: page 0
        ("0", "zwei", 0, 100),  # not a number: the default size
        ("0", "0", 0, 100),
        ("0", "99999", 0, 2000),  # capped at the maximum
        ("99999999999", "2", 0, 2),  # beyond int32
        ("١", "2", 0, 2),  # non-ASCII digits
    ],
)
def test_page_and_size_are_strings_read_as_spring_reads_them(
    dashboard_contract, dashboard_fake, page, size, number, expected_size
) -> None:
    answer = sync_get(dashboard_fake, "/v1/data", {"page": page, "size": size})
    assert answer.status_code == 200
    body = answer.json()
    assert (body["number"], body["size"]) == (number, expected_size)
    check_all(dashboard_fake, dashboard_contract)


def test_other_methods_get_405_with_allow(dashboard_fake) -> None:
    async def delete() -> httpx.Response:
        transport = httpx.ASGITransport(app=dashboard_fake)
        async with httpx.AsyncClient(transport=transport, base_url="http://fake") as c:
            return await c.delete("/api/v1/ars")

    answer = asyncio.run(delete())
    assert (answer.status_code, answer.headers["allow"]) == (405, "GET")
    assert sync_get(dashboard_fake, "/v1/nothing").status_code == 404


def test_xlsx_is_served(dashboard_contract, dashboard_fake) -> None:
    answer = sync_get(
        dashboard_fake, "/api/v1/data/160000000000", {"filetype": "xlsx", "includeAbove": "false"}
    )
    assert answer.headers["content-type"] == "application/octet-stream"
    sheet = openpyxl.load_workbook(io.BytesIO(answer.content), read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("leika_key", "leika_name", "ars")
    assert [row[2] for row in rows[1:]] == ["160550000000", "160510000000", "160000000000"]
    assert rows[1][7] == 10000  # ozgid is a number, as in the dashboard's own files
    check_all(dashboard_fake, dashboard_contract)
    bad = sync_get(dashboard_fake, "/v1/data/160000000000", {"filetype": "pdf"})
    assert bad.status_code == 400
