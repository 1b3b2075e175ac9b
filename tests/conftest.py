"""Shared fixtures for the core's tests."""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

# The CI machine is shared and noisy: a property test must fail on a wrong answer, never on a
# slow example (hypothesis' default 200 ms deadline made CI flaky). Locally the default holds.
settings.register_profile("ci", deadline=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture
def anyio_backend() -> str:
    """Run async tests on asyncio only (the library targets asyncio)."""
    return "asyncio"
