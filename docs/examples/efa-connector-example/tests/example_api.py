"""A tiny ASGI app that plays the example API in tests (no framework needed)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qs

API_KEY = "example-key-4711"

ITEMS: list[Any] = [
    {"leika_key": "99115005104000", "ars": "16055", "url": "https://erfurt.example/anmeldung"},
    {"leika_key": "99115005104000", "ars": "16053", "url": "https://jena.example/anmeldung"},
    {"leika_key": "99115005104000", "ars": "16052", "online": False},
    {"leika_key": "123", "ars": "16051"},  # invalid LeiKa key: rejected, the rest goes on
    {"leika_key": "99102007000000", "ars": "16", "url": "https://th.example/kfz"},
]

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    """Serve ``GET /availability?page=&per_page=`` over :data:`ITEMS`."""
    if scope["type"] != "http":
        return
    headers = dict(scope["headers"])
    query = parse_qs(scope["query_string"].decode())
    if headers.get(b"x-api-key") != API_KEY.encode():
        status, body = 401, {"title": "invalid API key"}
    elif scope["path"] != "/availability":
        status, body = 404, {"title": "not found"}
    else:
        page = int(query.get("page", ["1"])[0])
        per_page = int(query.get("per_page", ["100"])[0])
        start = (page - 1) * per_page
        more = start + per_page < len(ITEMS)
        status = 200
        body = {"items": ITEMS[start : start + per_page], "next_page": page + 1 if more else None}
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": json.dumps(body).encode()})
