"""Tests of efa_core.testing.servers.serve_asgi."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from efa_core.testing.servers import serve_asgi


async def hello(scope: Any, receive: Any, send: Any) -> None:
    assert scope["type"] == "http"  # fails the lifespan scope: "auto" mode must cope
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": scope["path"].encode()})


def test_serves_on_a_free_local_port_and_stops() -> None:
    with serve_asgi(hello) as base_url:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", base_url)
        assert httpx.get(f"{base_url}/ping").text == "/ping"
        with serve_asgi(hello) as second:  # two servers at once get different ports
            assert second != base_url
            assert httpx.get(f"{second}/pong").text == "/pong"
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{base_url}/ping")


def test_lifespan_events_reach_the_app() -> None:
    events: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                events.append(message["type"])
                await send({"type": message["type"] + ".complete"})
                if message["type"] == "lifespan.shutdown":
                    return
        await hello(scope, receive, send)

    with serve_asgi(app, lifespan="on") as base_url:
        assert httpx.get(base_url).status_code == 200
        assert events == ["lifespan.startup"]
    assert events == ["lifespan.startup", "lifespan.shutdown"]


def test_port_in_use_is_reported() -> None:
    with serve_asgi(hello) as base_url:
        port = int(base_url.rsplit(":", 1)[1])
        server = serve_asgi(hello, port=port)
        with pytest.raises(RuntimeError, match=f"127.0.0.1:{port} failed to start"):
            server.__enter__()
