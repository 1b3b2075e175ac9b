"""Fixtures of the efa-dashboard tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from efa_core.testing.contract import OpenApiContract, find_spec_fixture

SPEC = "ozg-dashboard-digitale-verwaltung-api.openapi.yaml"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def dashboard_contract() -> OpenApiContract:
    """The OZG-Dashboard API's OpenAPI spec (../shared/fixtures next to the repository)."""
    return OpenApiContract.load(find_spec_fixture(SPEC, Path(__file__)))
