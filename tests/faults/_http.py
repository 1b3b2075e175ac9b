"""HTTP faults for the fault campaign: an ASGI middleware in front of the plugins' fakes.

Not a test module.  :class:`FaultInjector` wraps any ASGI app (the fakes of
``efa_pvog.testing``, ``efa_fitconnect.testing`` and ``efa_dashboard.testing``) and, while
:attr:`FaultInjector.rate` is above zero, answers that share of the HTTP requests with a
fault instead of (or on top of) the app's answer:

* ``401``: ``WWW-Authenticate: Bearer error="invalid_token"`` (an expired token; fatal
  for a source without authentication);
* ``429``: with ``Retry-After`` of 0 or 1 seconds;
* ``5xx``: 500, 502, 503 or 504;
* ``timeout``: no answer for longer than the client's read timeout;
* ``truncated``: the app's answer with its full ``Content-Length``, cut off after part of
  the body (the connection closes);
* ``stalled``: the app's answer, part of the body, then nothing for longer than the client's
  read timeout.

The choice of fault comes from a seeded :class:`random.Random`; what was injected is
counted in :attr:`FaultInjector.counts`.
"""

from __future__ import annotations

import asyncio
import json
import random
import threading
from collections import Counter
from collections.abc import MutableMapping
from typing import Any

from efa_core.testing.fakes import Receive, Scope, Send
from efa_core.testing.servers import ASGIApp

#: The faults :class:`FaultInjector` injects.
KINDS = ("401", "429", "5xx", "timeout", "truncated", "stalled")


class FaultInjector:
    """ASGI middleware answering a share (:attr:`rate`) of requests with a fault.

    :param app: the app behind (a fake).
    :param rng: the seeded source of every choice.
    :param stall: seconds a ``timeout`` or ``stalled`` fault waits (above the client's
        read timeout).
    """

    def __init__(self, app: ASGIApp, rng: random.Random, *, stall: float) -> None:
        self.app = app
        self.rng = rng
        self.stall = stall
        #: Share of requests that get a fault (0: none, the undisturbed run).
        self.rate = 0.0
        #: Faults injected, by kind.
        self.counts: Counter[str] = Counter()
        #: Requests seen while faults were on, and requests answered by the app untouched.
        self.requests = 0
        self._lock = threading.Lock()

    def _choose(self) -> str | None:
        with self._lock:
            if self.rate <= 0:
                return None
            self.requests += 1
            if self.rng.random() >= self.rate:
                return None
            kind = self.rng.choice(KINDS)
            self.counts[kind] += 1
            return kind

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI connection, perhaps with a fault."""
        kind = self._choose() if scope["type"] == "http" else None
        if kind is None:
            await self.app(scope, receive, send)
        elif kind == "401":
            await _answer(
                send,
                401,
                {"error": "invalid_token", "error_description": "token expired"},
                [(b"www-authenticate", b'Bearer error="invalid_token"')],
            )
        elif kind == "429":
            wait = self.rng.choice(["0", "0", "0", "1"])
            await _answer(send, 429, {"error": "slow down"}, [(b"retry-after", wait.encode())])
        elif kind == "5xx":
            status = self.rng.choice([500, 502, 503, 504])
            await _answer(send, status, {"error": "injected", "status": status})
        elif kind == "timeout":
            await asyncio.sleep(self.stall)  # the client gave up; answer nothing
        else:
            await self._cut(kind, scope, receive, send)

    async def _cut(self, kind: str, scope: Scope, receive: Receive, send: Send) -> None:
        """Send the app's answer with its full length but only part of its body."""
        start: MutableMapping[str, Any] = {}
        body = bytearray()

        async def capture(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                body.extend(message.get("body", b""))

        await self.app(scope, receive, capture)
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": start["status"], "headers": headers})
        with self._lock:
            cut = self.rng.randrange(len(body)) if body else 0
        await send({"type": "http.response.body", "body": bytes(body[:cut]), "more_body": True})
        if kind == "stalled":
            await asyncio.sleep(self.stall)
        # returning without the rest: the server closes the connection mid-body


async def _answer(
    send: Send, status: int, payload: Any, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    body = json.dumps(payload).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
