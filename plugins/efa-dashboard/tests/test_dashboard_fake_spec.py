"""The fake OZG-Dashboard API against the real spec, by a property-based API tester.

schemathesis sends the fake what the published spec allows (and, in negative mode, what it
forbids) and checks every answer against the spec: status codes, content types, bodies,
405 with ``Allow`` for undeclared methods, schema-valid requests accepted.  So the fake
cannot drift from the API the connector is written for (issue 16 §5).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from efa_dashboard.testing import DashboardApiFake
from hypothesis import HealthCheck, settings

from efa_core.testing.contract import find_spec_fixture
from efa_core.testing.servers import serve_asgi

SPEC = "ozg-dashboard-digitale-verwaltung-api.openapi.yaml"

schema = schemathesis.openapi.from_path(find_spec_fixture(SPEC, Path(__file__)))


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    fake = DashboardApiFake(max_size=50)
    fake.add_area("160000000000", "Thüringen")
    fake.add_area("160550000000", "Weimar")
    for n in range(7):
        fake.add_row(f"9904100601700{n}", "160550000000", ars_name="Weimar")
    fake.add_row("99036004001000", "160000000000", art_flaechendeckung="landesweit flächendeckend")
    with serve_asgi(fake) as url:
        yield url + "/api"


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_fake_answers_as_the_spec_says(case: schemathesis.Case, base_url: str) -> None:
    case.call_and_validate(base_url=base_url)
