"""The test kit for efa-core plugins and applications.

Usable with or without pytest:

* :func:`isolated_registry`: a fresh :class:`~efa_core.plugins.PluginRegistry` with the
  bundled plugins only (no installed ones), so tests do not depend on the environment;
* :func:`registered`: register a plugin for the duration of a ``with`` block;
* :class:`RecordingTransport`: an HTTP transport for httpx clients that answers from
  registered routes and records every request (no network).

With pytest, the plugin :mod:`efa_core.testing.pytest_plugin` (loaded automatically when
efa-core is installed) turns them into the fixtures ``efa_registry``,
``efa_mock_transport`` and ``efa_serve_asgi``.  :mod:`efa_core.testing.conformance` holds
the connector conformance suite; :mod:`efa_core.testing.servers` serves ASGI apps on a real
socket.

This module imports no HTTP or plugin machinery until it is used, so loading the pytest
plugin stays cheap.
"""

from __future__ import annotations

import contextlib
import inspect
import json as _json
from collections.abc import Awaitable, Callable, Iterator, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Union

if TYPE_CHECKING:
    import httpx

    from efa_core.plugins import PluginRegistry

    _AsyncTransport = httpx.AsyncBaseTransport
    _SyncTransport = httpx.BaseTransport
else:
    # The real base classes would import httpx; httpx checks transports by duck typing.
    class _AsyncTransport:
        pass

    class _SyncTransport:
        pass


__all__ = [
    "Handler",
    "MockRoute",
    "RecordingTransport",
    "UnmatchedRequestError",
    "isolated_registry",
    "registered",
]

#: A route handler: takes the request, returns a response (or an awaitable of one).
Handler = Callable[["httpx.Request"], Union["httpx.Response", Awaitable["httpx.Response"]]]


def isolated_registry(**kwargs: Any) -> PluginRegistry:
    """Return a new plugin registry with the bundled plugins only.

    Installed plugins (entry points) and the ``EFA_*`` environment variables are ignored,
    so the result is the same on every machine.  Keyword arguments go to
    :class:`~efa_core.plugins.PluginRegistry` (e.g. ``strict=False``).
    """
    from efa_core.plugins import PluginRegistry

    options: dict[str, Any] = {"entrypoints": False, "strict": True, "trace": False, "env": {}}
    options.update(kwargs)
    return PluginRegistry(**options)


@contextlib.contextmanager
def registered(registry: PluginRegistry, plugin: object, name: str | None = None) -> Iterator[str]:
    """Register *plugin* in *registry* inside the ``with`` block; yield its name.

    The plugin is unregistered on exit, even if the block fails, so it never leaks into
    other tests.
    """
    registered_name = registry.register(plugin, name)
    if registered_name is None:
        raise ValueError(f"plugin name {name!r} is blocked in {registry!r}")
    try:
        yield registered_name
    finally:
        registry.unregister(registered_name)


class UnmatchedRequestError(AssertionError):
    """A :class:`RecordingTransport` received a request that no route matches."""


class MockRoute:
    """One route of a :class:`RecordingTransport`; :attr:`calls` lists matched requests."""

    def __init__(
        self,
        method: str,
        path: str,
        params: Mapping[str, str] | None,
        respond: Handler,
    ) -> None:
        #: The HTTP method, upper-case (``"*"`` matches any method).
        self.method = method.upper()
        #: The URL path to match exactly (without query string).
        self.path = path
        #: Query parameters that must be present with these values (others may be too).
        self.params = dict(params or {})
        self._respond = respond
        #: The requests this route answered, in order.
        self.calls: list[httpx.Request] = []

    def __repr__(self) -> str:
        query = f" {self.params}" if self.params else ""
        return f"<MockRoute {self.method} {self.path}{query} calls={len(self.calls)}>"

    def matches(self, request: httpx.Request) -> bool:
        """Return whether *request* matches the method, path and required parameters."""
        if self.method not in ("*", request.method):
            return False
        if request.url.path != self.path:
            return False
        return all(request.url.params.get(k) == v for k, v in self.params.items())


class RecordingTransport(_AsyncTransport, _SyncTransport):
    """An httpx transport (sync and async) that answers from routes and records requests.

    Pass it where a client takes a transport, e.g.
    ``efa_core.http.create_client(base_url=..., transport=mock)`` or
    ``httpx.AsyncClient(transport=mock)``::

        mock = RecordingTransport()
        mock.add("GET", "/items", json={"items": []})
        mock.add("GET", "/items", params={"page": "2"}, json={"items": [1]})
        mock.add("POST", "/items", handler=lambda request: httpx.Response(201))

    The most recently added matching route wins, so specific routes can be added after
    general ones.  A request no route matches raises :class:`UnmatchedRequestError` (through the
    client call), listing the routes.  :attr:`requests` holds every request received, with
    its body read.

    :param handler: optional fallback for requests no route matches.
    """

    def __init__(self, handler: Handler | None = None) -> None:
        #: Every request received, in order (matched or not).
        self.requests: list[httpx.Request] = []
        #: The registered routes, in the order they were added.
        self.routes: list[MockRoute] = []
        self._fallback = handler

    def __repr__(self) -> str:
        return f"<RecordingTransport routes={len(self.routes)} requests={len(self.requests)}>"

    def add(
        self,
        method: str,
        path: str,
        *,
        status: int = 200,
        json: Any = None,
        text: str | None = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        handler: Handler | None = None,
    ) -> MockRoute:
        """Answer ``method path`` with a fixed response, or with *handler*.

        :param json: response body as JSON (mutually exclusive with *text*/*content*).
        :param params: query parameters the request must carry (e.g. ``{"page": "2"}``).
        :param handler: computes the response from the request instead (then *status*,
            *json*, *text*, *content* and *headers* must not be given).
        :returns: the route; its :attr:`MockRoute.calls` lists the requests it answered.
        """
        bodies = [b for b in (json, text, content) if b is not None]
        if len(bodies) > 1:
            raise ValueError("give at most one of json, text and content")
        if handler is not None:
            if bodies or headers is not None or status != 200:
                raise ValueError("give either handler or a fixed response, not both")
            respond = handler
        else:

            def respond(request: httpx.Request) -> httpx.Response:
                import httpx

                if json is not None:
                    return httpx.Response(status, json=json, headers=headers)
                return httpx.Response(status, text=text, content=content, headers=headers)

        route = MockRoute(method, path, params, respond)
        self.routes.append(route)
        return route

    def reset(self) -> None:
        """Forget the recorded requests (routes stay)."""
        self.requests.clear()
        for route in self.routes:
            route.calls.clear()

    def _route(self, request: httpx.Request) -> Handler:
        self.requests.append(request)
        for route in reversed(self.routes):
            if route.matches(request):
                route.calls.append(request)
                return route._respond
        if self._fallback is not None:
            return self._fallback
        known = "\n".join(f"  {r.method} {r.path} {r.params or ''}".rstrip() for r in self.routes)
        raise UnmatchedRequestError(
            f"no mock route for {request.method} {request.url}; routes:\n{known or '  (none)'}"
        )

    def _check(self, response: object) -> httpx.Response:
        import httpx

        if not isinstance(response, httpx.Response):
            raise TypeError(f"a mock handler returned {response!r}, not an httpx.Response")
        return response

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Answer *request* (async clients)."""
        await request.aread()
        response = self._route(request)(request)
        if inspect.isawaitable(response):
            response = await response
        checked = self._check(response)
        await checked.aread()
        return checked

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Answer *request* (sync clients); handlers must not be async here."""
        request.read()
        response = self._route(request)(request)
        if inspect.isawaitable(response):
            raise TypeError("an async mock handler cannot answer a sync client")
        checked = self._check(response)
        checked.read()
        return checked

    def json_bodies(self) -> list[Any]:
        """Return the JSON bodies of the recorded requests (``None`` where there is none)."""
        return [_json.loads(r.content) if r.content else None for r in self.requests]

    # httpx calls these on both transport kinds.
    def close(self) -> None:
        """Nothing to release (sync clients)."""

    async def aclose(self) -> None:
        """Nothing to release (async clients)."""

    def __enter__(self) -> RecordingTransport:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc: BaseException | None = None,
        tb: TracebackType | None = None,
    ) -> None:
        self.close()

    async def __aenter__(self) -> RecordingTransport:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc: BaseException | None = None,
        tb: TracebackType | None = None,
    ) -> None:
        await self.aclose()
