"""Building blocks for local fake servers that speak the real formats of remote systems.

Each bundled plugin ships the fake of its own system beside it (``efa_fitconnect.testing``,
``efa_dashboard.testing``, ``efa_pvog.testing``); this module holds what they share, for
third-party plugins too:

* the ASGI type aliases and :func:`serve_lifespan` for hand-written ASGI apps;
* :class:`FakeApi`, a JSON API fake that records every exchange (:class:`Exchange`),
  answers queued faults (:class:`Fault`) and counts requests against a rate limit
  (:class:`RateLimit`); a subclass implements :meth:`FakeApi.handle`.

Serve a fake on a real socket with :func:`efa_core.testing.servers.serve_asgi` (or the
``efa_serve_asgi`` fixture), and check its answers against an OpenAPI spec with
:mod:`efa_core.testing.contract`.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any, TypeAlias
from urllib.parse import parse_qsl

import attrs

__all__ = [
    "Exchange",
    "FakeApi",
    "Fault",
    "RateLimit",
    "Receive",
    "Scope",
    "Send",
    "serve_lifespan",
]

_PROBLEM = "application/problem+json"
_JSON = "application/json"

#: The ASGI connection scope.
Scope: TypeAlias = MutableMapping[str, Any]
#: The ASGI ``receive`` callable.
Receive: TypeAlias = Callable[[], Awaitable[MutableMapping[str, Any]]]
#: The ASGI ``send`` callable.
Send: TypeAlias = Callable[[MutableMapping[str, Any]], Awaitable[None]]


async def serve_lifespan(scope: Scope, receive: Receive, send: Send) -> bool:
    """Acknowledge ASGI lifespan events; return ``False`` for any other connection type.

    A fake's ``__call__`` starts with ``if await serve_lifespan(...) : return``; it then
    serves only what is not a lifespan connection.
    """
    if scope["type"] != "lifespan":
        return False
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return True


@attrs.define
class Exchange:
    """One request the fake answered and its response (for contract checks)."""

    method: str
    path: str
    #: The query as ``(name, value)`` pairs, in order.
    query: list[tuple[str, str]]
    headers: dict[str, str]
    status: int
    content_type: str | None
    #: The decoded JSON body (``None`` for other bodies).
    body: Any


@attrs.define
class Fault:
    """A queued fault: answer the next request to *path* (``None``: any) with *status*."""

    status: int = 500
    path: str | None = None
    #: Extra response headers (e.g. ``{"Retry-After": "0"}``).
    headers: Mapping[str, str] = attrs.field(factory=dict)
    #: The body; ``None``: an RFC 7807 problem (Routing API) or a Spring error (dashboard).
    body: Any = None
    content_type: str | None = None


@attrs.define
class RateLimit:
    """Request-counted rate limit: *limit* requests per window, then one 429."""

    limit: int = 100
    #: ``Retry-After`` and ``RateLimit-Reset`` of a 429, in seconds.
    retry_after: int = 0
    #: Requests answered in the current window.
    used: int = 0


class FakeApi:
    """Shared machinery of the fake servers: recording, faults, rate limits, responses.

    Subclasses implement :meth:`handle`, returning ``(status, content type, body)``.
    """

    #: The content type of error bodies made from :class:`Fault` without a body.
    error_content_type = _PROBLEM

    def __init__(self, *, rate_limit: RateLimit | None = None) -> None:
        self.rate_limit = rate_limit
        #: Every exchange, in order.
        self.exchanges: list[Exchange] = []
        self.faults: list[Fault] = []
        #: How many requests were answered with 429.
        self.throttled = 0

    def fail(
        self, status: int = 500, *, path: str | None = None, times: int = 1, **kw: Any
    ) -> None:
        """Queue *times* faults: the next matching requests get *status*."""
        self.faults.extend(Fault(status=status, path=path, **kw) for _ in range(times))

    def error_body(self, status: int, title: str, detail: str, path: str) -> Any:
        """Return the body of an error answer (RFC 7807 problem by default)."""
        return {
            "type": "about:blank",
            "title": title,
            "status": status,
            "detail": detail,
            "instance": "https://fake.example" + path,
        }

    def handle(
        self, method: str, path: str, query: list[tuple[str, str]], headers: Mapping[str, str]
    ) -> tuple[int, str, Any, Mapping[str, str]]:
        """Answer one request: ``(status, content type, body, extra headers)``."""
        raise NotImplementedError

    def _ratelimit_headers(self) -> dict[str, str]:
        if self.rate_limit is None:
            return {}
        return {
            "RateLimit-Limit": str(self.rate_limit.limit),
            "RateLimit-Remaining": str(max(self.rate_limit.limit - self.rate_limit.used, 0)),
            "RateLimit-Reset": str(self.rate_limit.retry_after),
        }

    def respond(
        self, method: str, path: str, query: list[tuple[str, str]], headers: Mapping[str, str]
    ) -> tuple[int, str, Any, dict[str, str]]:
        """Answer one request with faults and rate limits applied, and record it."""
        extra: dict[str, str] = {}
        limit = self.rate_limit
        if limit is not None and limit.used >= limit.limit:
            limit.used = 0
            self.throttled += 1
            status, content_type, body = 429, _JSON, {"message": "Too Many Requests"}
            extra = {"Retry-After": str(limit.retry_after), **self._ratelimit_headers()}
            extra["RateLimit-Remaining"] = "0"
        else:
            if limit is not None:
                limit.used += 1
            fault = next((f for f in self.faults if f.path in (None, path)), None)
            if fault is not None:
                self.faults.remove(fault)
                status = fault.status
                content_type = fault.content_type or self.error_content_type
                body = fault.body
                if body is None:
                    body = self.error_body(status, "Injected fault", "fault injected by test", path)
                extra = dict(fault.headers)
            else:
                status, content_type, body, more = self.handle(method, path, query, headers)
                extra = dict(more)
            extra = {**self._ratelimit_headers(), **extra}
        self.exchanges.append(
            Exchange(method, path, list(query), dict(headers), status, content_type, body)
        )
        return status, content_type, body, extra

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI connection (HTTP and lifespan)."""
        if await serve_lifespan(scope, receive, send):
            return
        if scope["type"] != "http":
            return
        query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        status, content_type, body, extra = self.respond(
            scope["method"], scope["path"], query, headers
        )
        if isinstance(body, (bytes, str)):
            payload = body.encode() if isinstance(body, str) else body
        else:
            payload = json.dumps(body).encode()
        raw_headers = [(b"content-type", content_type.encode())]
        raw_headers += [(k.lower().encode(), v.encode()) for k, v in extra.items()]
        await send({"type": "http.response.start", "status": status, "headers": raw_headers})
        await send({"type": "http.response.body", "body": payload})
