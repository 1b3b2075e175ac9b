"""Shared fixtures for the core's tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def anyio_backend() -> str:
    """Run async tests on asyncio only (the library targets asyncio)."""
    return "asyncio"
