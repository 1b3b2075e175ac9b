"""The pytest plugin of efa-core: fixtures for testing plugins and connectors.

pytest loads it automatically when efa-core is installed (entry point ``pytest11``).  It
imports only pytest at load time; efa-core itself is imported when a fixture is used.

Fixtures:

``efa_registry``
    A fresh :class:`~efa_core.plugins.PluginRegistry` with the bundled plugins only (see
    :func:`efa_core.testing.isolated_registry`).  Register the plugin under test with
    ``efa_registry.register(module)``; nothing leaks into other tests.
``efa_mock_transport``
    A :class:`efa_core.testing.RecordingTransport`: add routes with
    ``efa_mock_transport.add("GET", "/path", json=...)``, pass it as ``transport=`` to
    :func:`efa_core.http.create_client`, inspect ``.requests`` afterwards.
``efa_serve_asgi``
    A function ``serve(app) -> base_url`` that serves an ASGI app on 127.0.0.1 until the
    test ends (:func:`efa_core.testing.servers.serve_asgi`; needs uvicorn).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from efa_core.plugins import PluginRegistry
    from efa_core.testing import RecordingTransport
    from efa_core.testing.servers import ASGIApp

__all__ = ["efa_mock_transport", "efa_registry", "efa_serve_asgi"]


@pytest.fixture
def efa_registry() -> PluginRegistry:
    """Return a new, isolated plugin registry: bundled plugins only, no installed ones.

    Each test gets its own registry, so plugins registered in one test never leak into
    another.
    """
    from efa_core.testing import isolated_registry

    return isolated_registry()


@pytest.fixture
def efa_mock_transport() -> RecordingTransport:
    """Return a recording mock transport for httpx clients (no network)."""
    from efa_core.testing import RecordingTransport

    return RecordingTransport()


@pytest.fixture
def efa_serve_asgi() -> Iterator[Callable[[ASGIApp], str]]:
    """Yield ``serve(app) -> base_url``; every server started stops when the test ends."""
    from efa_core.testing.servers import serve_asgi

    with contextlib.ExitStack() as stack:

        def serve(app: ASGIApp, **options: Any) -> str:
            base_url: str = stack.enter_context(serve_asgi(app, **options))
            return base_url

        yield serve
