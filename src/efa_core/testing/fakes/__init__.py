"""Local fake servers that speak the real formats of remote systems, for tests.

Each module serves one system as an ASGI app (run it with
:func:`efa_core.testing.servers.serve_asgi`): generated data, paging, and injectable faults.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, TypeAlias

__all__ = ["Receive", "Scope", "Send", "serve_lifespan"]

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
