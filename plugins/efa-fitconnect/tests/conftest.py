"""Fixtures of the efa-fitconnect tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from efa_core.testing.contract import OpenApiContract, find_spec_fixture

SPEC = "fit-connect-routing-api.v2.0.0.yaml"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def routing_contract() -> OpenApiContract:
    """The Routing API's OpenAPI spec, found in ../shared/fixtures next to the repository."""
    return OpenApiContract.load(find_spec_fixture(SPEC, Path(__file__)))
