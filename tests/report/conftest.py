"""Fixtures of the report tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from efa_core.plugins import PluginRegistry
from efa_core.store import Store, open_store

from .helpers import build_small_store


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """The URL of a fresh SQLite store in the test's directory."""
    return f"sqlite:///{tmp_path / 'efa.db'}"


@pytest.fixture
def small_store(db_url: str) -> Iterator[Store]:
    """A store filled by :func:`build_small_store`."""
    with open_store(db_url) as store:
        build_small_store(store)
        yield store


@pytest.fixture
def registry() -> PluginRegistry:
    """A registry with the bundled plugins only (built-in rules; no connector plugins)."""
    return PluginRegistry(entrypoints=False)
