"""Fixtures of the efa-pvog tests: the fake PVOG server and connectors pointed at it."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from efa_pvog import PvogConnector
from efa_pvog.testing import FakePvog, PvogDataset

sys.path.insert(0, str(Path(__file__).parent))

from pvog_support import make_config


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def fake() -> FakePvog:
    return FakePvog(PvogDataset(seed=3, invalid=2), page_size=20, retry_after=0, stall_seconds=1.5)


@pytest.fixture
def base_url(fake: FakePvog, efa_serve_asgi: Callable[..., str]) -> str:
    return efa_serve_asgi(fake)


@pytest.fixture
def make(fake: FakePvog, base_url: str) -> Callable[..., PvogConnector]:
    def build(name: str = "pvog-test", **options: Any) -> PvogConnector:
        return PvogConnector(make_config(fake, base_url, **options), name=name)

    return build
