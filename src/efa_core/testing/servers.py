"""Serve an ASGI app on a real socket for tests that need real HTTP.

:func:`serve_asgi` runs the app with uvicorn (the ``testing`` extra) in a background thread
and yields its base URL::

    async def app(scope, receive, send): ...

    with serve_asgi(app) as base_url:   # "http://127.0.0.1:<port>"
        async with create_client(base_url=base_url) as client:
            ...

uvicorn is imported only when :func:`serve_asgi` is called.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from typing import Any, Literal, TypeAlias

__all__ = ["ASGIApp", "serve_asgi"]

#: An ASGI 3 application, i.e. ``async def app(scope, receive, send)``.
ASGIApp: TypeAlias = Callable[
    [
        MutableMapping[str, Any],
        Callable[[], Awaitable[MutableMapping[str, Any]]],
        Callable[[MutableMapping[str, Any]], Awaitable[None]],
    ],
    Awaitable[None],
]


@contextlib.contextmanager
def serve_asgi(
    app: ASGIApp,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    lifespan: Literal["auto", "on", "off"] = "auto",
    startup_timeout: float = 10.0,
) -> Iterator[str]:
    """Run *app* with uvicorn on *host*:*port* in a thread and yield its base URL.

    :param port: 0 picks a free port.
    :param lifespan: uvicorn's lifespan mode; hand-written apps that ignore the lifespan
        scope work with ``"auto"``.
    :param startup_timeout: seconds to wait for the server to accept connections.
    :raises RuntimeError: if uvicorn is missing or the server does not start.

    The server stops (open connections are closed) when the block ends.
    """
    try:
        import uvicorn
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise RuntimeError("serve_asgi needs uvicorn: pip install 'efa-core[testing]'") from exc

    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        lifespan=lifespan,
        ws="none",
        log_level="warning",
        access_log=False,
    )
    server = uvicorn.Server(config)
    failures: list[BaseException] = []

    def run() -> None:
        try:
            server.run()
        except BaseException as exc:  # uvicorn exits with SystemExit on errors
            failures.append(exc)

    thread = threading.Thread(target=run, name=f"serve_asgi({host}:{port})", daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if not thread.is_alive():
            cause = failures[0] if failures else None
            raise RuntimeError(
                f"the ASGI server on {host}:{port} failed to start ({cause!r}; see uvicorn's log)"
            ) from cause
        if time.monotonic() > deadline:
            server.should_exit = True
            thread.join(startup_timeout)
            raise RuntimeError(
                f"the ASGI server on {host}:{port} did not start within {startup_timeout:g} s"
            )
        time.sleep(0.01)
    try:
        bound_port = server.servers[0].sockets[0].getsockname()[1]
        url_host = f"[{host}]" if ":" in host else host
        yield f"http://{url_host}:{bound_port}"
    finally:
        server.should_exit = True
        thread.join(startup_timeout)
        if thread.is_alive():  # pragma: no cover - only if the app hangs
            server.force_exit = True
            thread.join(startup_timeout)
