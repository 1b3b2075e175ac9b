"""Tests of efa_core.http (client factory, retries, rate limits, OAuth2, pagination, redaction)."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import email.utils
import gzip
import json
import logging
import socket
import threading
import urllib.parse
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, ClassVar

import attrs
import httpx
import pytest
import stamina

from efa_core import __version__
from efa_core.connectors import Batch, Capability
from efa_core.errors import ConfigError, ConnectorError
from efa_core.http import (
    IDEMPOTENT_EXTENSION,
    STREAM_EXTENSION,
    Clock,
    HttpConnector,
    HttpError,
    HttpSettings,
    OAuth2ClientCredentials,
    create_client,
    raise_for_status,
    redact_headers,
    redact_text,
    redact_url,
    user_agent,
)
from efa_core.secret import MASK, Secret
from efa_core.testing.servers import serve_asgi

pytestmark = pytest.mark.anyio

#: No backoff between retries, so the tests never wait; attempts come from the settings.
FAST = HttpSettings(attempts=3, initial_backoff=0, max_backoff=0)
CLIENT_SECRET = "s3cr3t-client-XYZ"


@pytest.fixture(autouse=True)
def _stamina_not_in_testing_mode() -> Iterator[None]:
    """Count attempts as configured even if a global fixture enabled stamina's testing mode."""
    with stamina.set_testing(False):
        yield


class FakeClock:
    """Monotonic and wall clock that only advance when slept on; records every sleep."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.wall_now = 1_700_000_000.0
        self.sleeps: list[float] = []

    def advance(self, seconds: float) -> None:
        self.now += seconds
        self.wall_now += seconds

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.advance(seconds)
        await asyncio.sleep(0)

    @property
    def clock(self) -> Clock:
        return Clock(monotonic=lambda: self.now, wall=lambda: self.wall_now, sleep=self.sleep)


@pytest.fixture
def fake() -> FakeClock:
    return FakeClock()


Handler = Callable[[httpx.Request], Any]


def scripted(*responses: httpx.Response | Exception) -> tuple[httpx.MockTransport, list[bytes]]:
    """A transport answering with *responses* in order (the last one repeats).

    Returns the transport and the list of request bodies it received, one per attempt.
    """
    bodies: list[bytes] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(await request.aread())
        item = responses[min(len(bodies), len(responses)) - 1]
        if isinstance(item, Exception):
            raise item
        return item

    return httpx.MockTransport(handler), bodies


# --------------------------------------------------------------------------- ASGI helpers


async def read_body(receive: Any) -> bytes:
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            return body


async def send_response(
    send: Any,
    status: int,
    data: Any = None,
    *,
    headers: list[tuple[bytes, bytes]] | None = None,
    content_type: bytes = b"application/json",
) -> None:
    body = b"" if data is None else json.dumps(data).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", content_type), *(headers or [])],
        }
    )
    await send({"type": "http.response.body", "body": body})


def header_map(scope: dict[str, Any]) -> dict[str, str]:
    return {k.decode().lower(): v.decode() for k, v in scope["headers"]}


class OAuthServer:
    """Token endpoint (/token) and a protected resource (/data) in one ASGI app."""

    def __init__(self, *, expires_in: int | None = 300, client_auth: str = "form") -> None:
        self.expires_in = expires_in
        self.client_auth = client_auth
        self.token_requests: list[tuple[dict[str, str], dict[str, str]]] = []
        self.valid_token: str | None = None
        self.data_requests = 0
        self.always_401 = False

    def client_credentials(self, headers: dict[str, str], form: dict[str, str]) -> tuple[str, str]:
        if self.client_auth == "basic":
            scheme, _, encoded = headers.get("authorization", "").partition(" ")
            assert scheme == "Basic"
            user, _, password = base64.b64decode(encoded).decode().partition(":")
            return urllib.parse.unquote(user), urllib.parse.unquote(password)
        return form.get("client_id", ""), form.get("client_secret", "")

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = await read_body(receive)
        headers = header_map(scope)
        if scope["path"] == "/token":
            form = dict(urllib.parse.parse_qsl(body.decode()))
            self.token_requests.append((headers, form))
            client_id, secret = self.client_credentials(headers, form)
            if form.get("grant_type") != "client_credentials" or (client_id, secret) != (
                "efa-client",
                CLIENT_SECRET,
            ):
                await send_response(
                    send, 401, {"error": "invalid_client", "error_description": "unknown client"}
                )
                return
            self.valid_token = f"tok-{len(self.token_requests)}-SECRETTOKEN"
            payload: dict[str, Any] = {"access_token": self.valid_token, "token_type": "bearer"}
            if self.expires_in is not None:
                payload["expires_in"] = self.expires_in
            await send_response(send, 200, payload)
        elif scope["path"] == "/data":
            self.data_requests += 1
            if self.always_401 or headers.get("authorization") != f"Bearer {self.valid_token}":
                await send_response(
                    send,
                    401,
                    {"title": "Unauthorized", "detail": "token expired or invalid"},
                    content_type=b"application/problem+json",
                )
                return
            await send_response(send, 200, {"ok": True, "echo": json.loads(body or b"null")})
        else:
            await send_response(send, 404, {"title": "Not Found"})


@pytest.fixture
def oauth_server() -> Iterator[tuple[OAuthServer, str]]:
    server = OAuthServer()
    with serve_asgi(server) as base_url:
        yield server, base_url


def make_auth(base_url: str, fake: FakeClock, **kwargs: Any) -> OAuth2ClientCredentials:
    return OAuth2ClientCredentials(
        token_url=f"{base_url}/token",
        client_id="efa-client",
        client_secret=Secret(CLIENT_SECRET),
        clock=fake.clock,
        **kwargs,
    )


# --------------------------------------------------------------------------- client basics


async def echo_headers(scope: Any, receive: Any, send: Any) -> None:
    if scope["type"] == "http":
        await send_response(send, 200, header_map(scope))


async def test_user_agent_is_sent_over_a_real_socket() -> None:
    with serve_asgi(echo_headers) as base_url:
        async with create_client(base_url=base_url) as client:
            plain = (await client.get("/")).json()
        settings = HttpSettings(user_agent_suffix="efa-connector-pvog/1.2")
        async with create_client(base_url=base_url, settings=settings) as client:
            suffixed = (await client.get("/")).json()
    assert plain["user-agent"] == f"efa-core/{__version__}"
    assert suffixed["user-agent"] == f"efa-core/{__version__} efa-connector-pvog/1.2"
    assert user_agent("x/1") == f"efa-core/{__version__} x/1"


async def test_client_uses_settings_and_extra_headers() -> None:
    transport, _ = scripted(httpx.Response(200))
    settings = HttpSettings(connect_timeout=3, read_timeout=7, write_timeout=8, pool_timeout=9)
    async with create_client(
        base_url="https://example.invalid/api/",
        settings=settings,
        transport=transport,
        headers={"Accept": "application/xml"},
    ) as client:
        assert client.timeout == httpx.Timeout(connect=3, read=7, write=8, pool=9)
        response = await client.get("items")
    assert response.request.url == "https://example.invalid/api/items"
    assert response.request.headers["accept"] == "application/xml"
    assert response.request.headers["user-agent"].startswith("efa-core/")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("max_connections", 9),
        ("max_connections", 0),
        ("attempts", 0),
        ("read_timeout", 0),
        ("rate_limit_per_second", -1.0),
        ("user_agent_suffix", "bad\nsuffix"),
        ("user_agent_suffix", "   "),
    ],
)
def test_invalid_settings_are_config_errors(field: str, value: Any) -> None:
    with pytest.raises(ConfigError, match=f"HttpSettings.{field}"):
        HttpSettings(**{field: value})


# --------------------------------------------------------------------------- retries


@pytest.mark.parametrize("status", [408, 429, 500, 501, 502, 503, 504])
async def test_retryable_status_is_retried(status: int) -> None:
    transport, bodies = scripted(httpx.Response(status), httpx.Response(200, json={"ok": 1}))
    async with create_client(base_url="https://x.invalid", settings=FAST, transport=transport) as c:
        response = await c.get("/r")
    assert response.status_code == 200
    assert response.json() == {"ok": 1}
    assert len(bodies) == 2


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422])
async def test_client_errors_are_not_retried(status: int) -> None:
    transport, bodies = scripted(httpx.Response(status), httpx.Response(200))
    async with create_client(base_url="https://x.invalid", settings=FAST, transport=transport) as c:
        response = await c.get("/r")
    assert response.status_code == status
    assert len(bodies) == 1


async def test_exhausted_retries_return_last_response_and_raise_for_status_reports_it() -> None:
    problem = {"type": "about:blank", "title": "Service Unavailable", "detail": "maintenance"}
    transport, bodies = scripted(
        httpx.Response(503, json=problem, headers={"content-type": "application/problem+json"})
    )
    async with create_client(base_url="https://x.invalid", settings=FAST, transport=transport) as c:
        response = await c.get("/routes", params={"leikaKey": "99123456760610"})
        with pytest.raises(HttpError) as info:
            await raise_for_status(response)
    assert len(bodies) == 3
    err = info.value
    assert isinstance(err, ConnectorError)
    assert err.status == 503
    assert err.method == "GET"
    assert err.detail == "maintenance"
    assert str(err) == (
        "GET https://x.invalid/routes?leikaKey=99123456760610: failed with 503 "
        "Service Unavailable after 3 attempts: maintenance"
    )


async def test_streamed_request_body_is_replayed_on_retry() -> None:
    async def body() -> AsyncIterator[bytes]:
        yield b'{"a": '
        yield b"1}"

    transport, bodies = scripted(httpx.Response(503), httpx.Response(200))
    async with create_client(base_url="https://x.invalid", settings=FAST, transport=transport) as c:
        response = await c.put("/doc", content=body())
    assert response.status_code == 200
    assert bodies == [b'{"a": 1}', b'{"a": 1}']


async def test_post_is_not_retried_on_5xx_unless_marked_idempotent() -> None:
    transport, bodies = scripted(httpx.Response(500), httpx.Response(500), httpx.Response(200))
    async with create_client(base_url="https://x.invalid", settings=FAST, transport=transport) as c:
        assert (await c.post("/s", json={"n": 1})).status_code == 500
        assert len(bodies) == 1
        response = await c.post("/s", json={"n": 1}, extensions={IDEMPOTENT_EXTENSION: True})
    assert response.status_code == 200
    assert bodies == [b'{"n":1}'] * 3


async def test_post_is_retried_on_429() -> None:
    transport, bodies = scripted(httpx.Response(429), httpx.Response(201))
    async with create_client(base_url="https://x.invalid", settings=FAST, transport=transport) as c:
        response = await c.post("/s", data={"q": "1"})
    assert response.status_code == 201
    assert bodies == [b"q=1", b"q=1"]


async def test_connect_errors_are_retried() -> None:
    transport, bodies = scripted(
        httpx.ConnectError("refused"), httpx.ConnectTimeout("slow"), httpx.Response(200)
    )
    async with create_client(base_url="https://x.invalid", settings=FAST, transport=transport) as c:
        response = await c.post("/s", content=b"payload")
    assert response.status_code == 200
    assert bodies == [b"payload"] * 3


async def test_read_error_is_retried_for_get_but_not_for_post() -> None:
    transport, bodies = scripted(httpx.ReadError("reset"), httpx.Response(200))
    async with create_client(base_url="https://x.invalid", settings=FAST, transport=transport) as c:
        assert (await c.get("/g")).status_code == 200
        assert len(bodies) == 2
        bodies.clear()
        with pytest.raises(HttpError, match="ReadError"):
            await c.post("/p")
    assert len(bodies) == 1


async def test_unreachable_server_raises_http_error_after_all_attempts() -> None:
    with socket.socket() as sock:  # a port that nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    async with create_client(base_url=f"http://127.0.0.1:{port}", settings=FAST) as client:
        with pytest.raises(HttpError) as info:
            await client.get("/x", params={"token": "TOPSECRET"})
    message = str(info.value)
    assert message.startswith(f"GET http://127.0.0.1:{port}/x?token={MASK}: ConnectError after 3")
    assert "TOPSECRET" not in message
    assert info.value.status is None
    assert isinstance(info.value.__cause__, httpx.ConnectError)


async def test_attempts_1_disables_retries() -> None:
    transport, bodies = scripted(httpx.Response(503), httpx.Response(200))
    settings = HttpSettings(attempts=1)
    async with create_client(
        base_url="https://x.invalid", settings=settings, transport=transport
    ) as c:
        assert (await c.get("/")).status_code == 503
    assert len(bodies) == 1


# --------------------------------------------------------------------------- body errors

PAYLOAD = b'{"items": [' + b",".join(b'"item-%04d"' % i for i in range(400)) + b"]}"


class ChunkStream(httpx.AsyncByteStream):
    """A response body in *chunks*, then *error* (if any); counts the chunks pulled."""

    def __init__(self, chunks: list[bytes], error: Exception | None = None) -> None:
        self.chunks = chunks
        self.error = error
        self.pulled = 0
        self.closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            self.pulled += 1
            yield chunk
        if self.error is not None:
            raise self.error

    async def aclose(self) -> None:
        self.closed = True


def cut_off(error: Exception | None = None) -> httpx.Response:
    """A 200 response whose body stops half-way with *error* (a read error by default)."""
    half = PAYLOAD[: len(PAYLOAD) // 2]
    return httpx.Response(
        200,
        headers={"content-type": "application/json", "content-length": str(len(PAYLOAD))},
        stream=ChunkStream([half], error or httpx.ReadError("connection reset mid-body")),
    )


def whole() -> httpx.Response:
    return httpx.Response(
        200, headers={"content-type": "application/json"}, stream=ChunkStream([PAYLOAD])
    )


class BodyFaults:
    """ASGI app: the first *faults* requests get a broken body, the rest the whole one.

    ``mode="truncate"`` announces the full Content-Length, sends half and closes;
    ``mode="stall"`` sends half and then waits *stall* seconds (past the read timeout).
    Paths starting with ``/gated`` send the first half, then wait until :attr:`gate` is set
    before sending the rest (proves the client reads the body while it arrives).
    """

    def __init__(self, faults: int | None, *, mode: str = "truncate", stall: float = 2.0) -> None:
        self.faults = faults
        self.mode = mode
        self.stall = stall
        self.requests: list[tuple[str, str]] = []
        self.gate = threading.Event()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        await read_body(receive)
        self.requests.append((scope["method"], scope["path"]))
        broken = self.faults is None or len(self.requests) <= self.faults
        half = len(PAYLOAD) // 2
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(PAYLOAD)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": PAYLOAD[:half], "more_body": True})
        if scope["path"].startswith("/gated"):
            for _ in range(500):  # at most 5 s; the test opens the gate long before
                if self.gate.is_set():
                    break
                await asyncio.sleep(0.01)
        elif broken and self.mode == "truncate":
            return  # uvicorn closes the connection: the body is cut off
        elif broken:
            await asyncio.sleep(self.stall)
        await send({"type": "http.response.body", "body": PAYLOAD[half:]})


async def test_cut_off_body_is_retried_with_client_get() -> None:
    transport, bodies = scripted(cut_off(), cut_off(httpx.ReadTimeout("stalled")), whole())
    async with create_client(base_url="https://x.invalid", settings=FAST, transport=transport) as c:
        response = await c.get("/big")
    assert len(bodies) == 3
    assert response.status_code == 200
    assert response.content == PAYLOAD
    assert response.json()["items"][-1] == "item-0399"
    assert response.extensions["efa_core.attempts"] == 3
    assert response.is_closed
    assert response.elapsed >= dt.timedelta(0)  # the client timed and closed it as usual


async def test_cut_off_body_is_retried_with_client_stream() -> None:
    transport, bodies = scripted(cut_off(), whole(), whole())
    async with create_client(base_url="https://x.invalid", settings=FAST, transport=transport) as c:
        async with c.stream("GET", "/big") as response:
            raw = b"".join([chunk async for chunk in response.aiter_raw()])
        async with c.stream("GET", "/big") as again:
            text = "".join([part async for part in again.aiter_text()])
    assert len(bodies) == 3  # cut off, whole, whole
    assert raw == PAYLOAD
    assert text == PAYLOAD.decode()


async def test_gzip_body_is_decoded_once_after_buffering() -> None:
    compressed = gzip.compress(PAYLOAD)
    transport, bodies = scripted(
        httpx.Response(
            200,
            headers={"content-encoding": "gzip"},
            stream=ChunkStream([compressed[:10]], httpx.ReadError("reset")),
        ),
        httpx.Response(200, headers={"content-encoding": "gzip"}, stream=ChunkStream([compressed])),
    )
    async with create_client(base_url="https://x.invalid", settings=FAST, transport=transport) as c:
        response = await c.get("/gz")
    assert len(bodies) == 2
    assert response.content == PAYLOAD


async def test_truncated_body_over_a_real_socket_is_retried() -> None:
    app = BodyFaults(faults=2)
    with serve_asgi(app) as base_url:
        async with create_client(base_url=base_url, settings=FAST) as client:
            response = await client.get("/export")
            assert response.content == PAYLOAD
            assert len(app.requests) == 3
            app.requests.clear()
            app.faults = 1
            async with client.stream("GET", "/export") as streamed:
                assert await streamed.aread() == PAYLOAD
            assert len(app.requests) == 2


async def test_stalled_body_over_a_real_socket_is_retried() -> None:
    app = BodyFaults(faults=1, mode="stall")
    settings = HttpSettings(attempts=3, initial_backoff=0, max_backoff=0, read_timeout=0.3)
    with serve_asgi(app) as base_url:
        async with create_client(base_url=base_url, settings=settings) as client:
            response = await client.get("/export")
    assert response.content == PAYLOAD
    assert len(app.requests) == 2


async def test_exhausted_body_retries_raise_http_error_naming_the_redacted_url() -> None:
    app = BodyFaults(faults=None)
    with serve_asgi(app) as base_url:
        async with create_client(base_url=base_url, settings=FAST) as client:
            with pytest.raises(HttpError) as info:
                await client.get("/export", params={"token": "TOPSECRET", "page": "2"})
    assert len(app.requests) == 3
    err = info.value
    message = str(err)
    assert message.startswith(
        f"GET {base_url}/export?token={MASK}&page=2: RemoteProtocolError while reading the "
        "body after 3 attempts: "
    )
    assert "TOPSECRET" not in message
    assert err.status is None
    assert isinstance(err.__cause__, httpx.RemoteProtocolError)


async def test_post_is_not_retried_on_body_errors_unless_marked_idempotent() -> None:
    transport, bodies = scripted(cut_off(), whole())
    async with create_client(base_url="https://x.invalid", settings=FAST, transport=transport) as c:
        with pytest.raises(HttpError) as info:
            await c.post("/s", json={"n": 1})
        assert len(bodies) == 1
        assert str(info.value) == (
            "POST https://x.invalid/s: ReadError while reading the body: connection reset mid-body"
        )
    transport, bodies = scripted(cut_off(), whole())
    async with create_client(base_url="https://x.invalid", settings=FAST, transport=transport) as c:
        response = await c.post("/s", json={"n": 1}, extensions={IDEMPOTENT_EXTENSION: True})
    assert response.content == PAYLOAD
    assert bodies == [b'{"n":1}'] * 2


async def test_post_body_error_over_a_real_socket_is_not_retried() -> None:
    app = BodyFaults(faults=1)
    with serve_asgi(app) as base_url:
        async with create_client(base_url=base_url, settings=FAST) as client:
            with pytest.raises(HttpError, match="RemoteProtocolError while reading the body"):
                await client.post("/submit", json={"n": 1})
    assert app.requests == [("POST", "/submit")]


async def test_retryable_status_with_a_cut_off_body_is_still_reported() -> None:
    transport, bodies = scripted(
        *[
            httpx.Response(503, stream=ChunkStream([b"maint"], httpx.ReadError("reset")))
            for _ in range(3)  # one response object per attempt: a stream is read once
        ]
    )
    async with create_client(base_url="https://x.invalid", settings=FAST, transport=transport) as c:
        response = await c.get("/r")
        with pytest.raises(HttpError, match="failed with 503 Service Unavailable after 3"):
            await raise_for_status(response)
    assert len(bodies) == 3


async def test_streaming_requests_are_not_buffered() -> None:
    stream = ChunkStream([b"part-1,", b"part-2,", b"part-3"])
    transport, bodies = scripted(httpx.Response(200, stream=stream))
    seen = []
    async with (
        create_client(base_url="https://x.invalid", settings=FAST, transport=transport) as c,
        c.stream("GET", "/file", extensions={STREAM_EXTENSION: True}) as response,
    ):
        assert stream.pulled == 0  # nothing read before the caller asks
        async for chunk in response.aiter_bytes():
            seen.append((chunk, stream.pulled))
    assert seen == [(b"part-1,", 1), (b"part-2,", 2), (b"part-3", 3)]
    assert stream.closed
    assert len(bodies) == 1


async def test_streamed_body_arrives_while_the_server_still_sends() -> None:
    app = BodyFaults(faults=0)
    settings = HttpSettings(attempts=3, initial_backoff=0, max_backoff=0, read_timeout=10)
    received: list[bytes] = []
    with serve_asgi(app) as base_url:
        async with (
            create_client(base_url=base_url, settings=settings) as client,
            client.stream("GET", "/gated", extensions={STREAM_EXTENSION: True}) as response,
        ):
            async for chunk in response.aiter_bytes():
                received.append(chunk)
                app.gate.set()  # the rest is sent only after the first part arrived
    # Buffered, the first part would only come with the rest, after the 5 s gate limit,
    # and the gate would never have been opened by the client.
    assert app.gate.is_set()
    assert b"".join(received) == PAYLOAD
    assert len(received) >= 2
    assert len(app.requests) == 1


async def test_streamed_body_errors_reach_the_caller_without_retry() -> None:
    app = BodyFaults(faults=None)
    received: list[bytes] = []

    async def consume(response: httpx.Response) -> None:
        async for chunk in response.aiter_bytes():
            received.append(chunk)

    with serve_asgi(app) as base_url:
        async with (
            create_client(base_url=base_url, settings=FAST) as client,
            client.stream("GET", "/export", extensions={STREAM_EXTENSION: True}) as response,
        ):
            assert response.status_code == 200
            with pytest.raises(httpx.RemoteProtocolError):
                await consume(response)
    assert b"".join(received) == PAYLOAD[: len(PAYLOAD) // 2]
    assert len(app.requests) == 1


# --------------------------------------------------------------------------- Retry-After


async def test_retry_after_seconds_is_waited_for(fake: FakeClock) -> None:
    transport, bodies = scripted(
        httpx.Response(429, headers={"Retry-After": "7"}), httpx.Response(200)
    )
    async with create_client(
        base_url="https://x.invalid", settings=FAST, transport=transport, clock=fake.clock
    ) as c:
        assert (await c.get("/")).status_code == 200
    assert fake.sleeps == [7.0]
    assert len(bodies) == 2


async def test_retry_after_http_date_is_waited_for(fake: FakeClock) -> None:
    when = dt.datetime.fromtimestamp(fake.wall_now + 120, tz=dt.timezone.utc)
    header = email.utils.format_datetime(when, usegmt=True)
    transport, _ = scripted(
        httpx.Response(503, headers={"Retry-After": header}), httpx.Response(200)
    )
    async with create_client(
        base_url="https://x.invalid", settings=FAST, transport=transport, clock=fake.clock
    ) as c:
        assert (await c.get("/")).status_code == 200
    assert fake.sleeps == [120.0]


async def test_retry_after_in_the_past_or_garbage_does_not_wait(fake: FakeClock) -> None:
    past = email.utils.format_datetime(
        dt.datetime.fromtimestamp(fake.wall_now - 60, tz=dt.timezone.utc), usegmt=True
    )
    transport, bodies = scripted(
        httpx.Response(503, headers={"Retry-After": past}),
        httpx.Response(503, headers={"Retry-After": "soon-ish"}),
        httpx.Response(200),
    )
    async with create_client(
        base_url="https://x.invalid", settings=FAST, transport=transport, clock=fake.clock
    ) as c:
        assert (await c.get("/")).status_code == 200
    assert fake.sleeps == []
    assert len(bodies) == 3


async def test_no_wait_after_the_last_attempt(fake: FakeClock) -> None:
    transport, bodies = scripted(httpx.Response(503, headers={"Retry-After": "5"}))
    async with create_client(
        base_url="https://x.invalid", settings=FAST, transport=transport, clock=fake.clock
    ) as c:
        assert (await c.get("/")).status_code == 503
    assert len(bodies) == 3
    assert fake.sleeps == [5.0, 5.0]


async def test_too_large_retry_after_fails_clearly(fake: FakeClock) -> None:
    transport, bodies = scripted(
        httpx.Response(429, headers={"Retry-After": "7200"}, text="slow down"), httpx.Response(200)
    )
    settings = HttpSettings(initial_backoff=0, max_backoff=0, max_retry_after=300)
    async with create_client(
        base_url="https://x.invalid", settings=settings, transport=transport, clock=fake.clock
    ) as c:
        with pytest.raises(HttpError) as info:
            await c.get("/busy")
    assert str(info.value) == (
        "GET https://x.invalid/busy: answered 429 with Retry-After '7200' (7200 s), longer "
        "than max_retry_after (300 s); giving up: slow down"
    )
    assert info.value.status == 429
    assert fake.sleeps == []
    assert len(bodies) == 1


# --------------------------------------------------------------------------- rate limiting


async def test_ratelimit_remaining_zero_waits_until_reset(fake: FakeClock) -> None:
    transport, bodies = scripted(
        httpx.Response(200, headers={"RateLimit-Remaining": "0", "RateLimit-Reset": "5"}),
        httpx.Response(200, headers={"RateLimit-Remaining": "99", "RateLimit-Reset": "60"}),
    )
    async with create_client(
        base_url="https://x.invalid", settings=FAST, transport=transport, clock=fake.clock
    ) as c:
        await c.get("/a")
        assert fake.sleeps == []  # the limit only affects the *next* request
        await c.get("/b")
        assert fake.sleeps == [5.0]
        await c.get("/c")  # remaining > 0: no further wait
        await c.get("https://other.invalid/d")  # another host is not throttled
    assert fake.sleeps == [5.0]
    assert len(bodies) == 4


async def test_ratelimit_headers_over_a_real_socket(fake: FakeClock) -> None:
    async def limited(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            await send_response(
                send, 200, {}, headers=[(b"ratelimit-remaining", b"0"), (b"ratelimit-reset", b"3")]
            )

    with serve_asgi(limited) as base_url:
        async with create_client(base_url=base_url, settings=FAST, clock=fake.clock) as c:
            await c.get("/")
            await c.get("/")
    assert fake.sleeps == [3.0]


async def test_429_with_ratelimit_reset_waits_before_retrying(fake: FakeClock) -> None:
    transport, bodies = scripted(
        httpx.Response(429, headers={"RateLimit-Remaining": "0", "RateLimit-Reset": "4"}),
        httpx.Response(200),
    )
    async with create_client(
        base_url="https://x.invalid", settings=FAST, transport=transport, clock=fake.clock
    ) as c:
        assert (await c.get("/")).status_code == 200
    assert fake.sleeps == [4.0]
    assert len(bodies) == 2


async def test_too_long_ratelimit_reset_fails_clearly(fake: FakeClock) -> None:
    transport, bodies = scripted(
        httpx.Response(200, headers={"RateLimit-Remaining": "0", "RateLimit-Reset": "86400"})
    )
    async with create_client(
        base_url="https://x.invalid", settings=FAST, transport=transport, clock=fake.clock
    ) as c:
        await c.get("/")
        with pytest.raises(HttpError, match=r"resets in 86400 s, longer than max_retry_after"):
            await c.get("/")
    assert len(bodies) == 1
    assert fake.sleeps == []


async def test_rate_limit_per_second_spaces_requests_per_host(fake: FakeClock) -> None:
    transport, bodies = scripted(httpx.Response(200))
    settings = HttpSettings(rate_limit_per_second=2, rate_limit_burst=1)
    async with create_client(
        base_url="https://x.invalid", settings=settings, transport=transport, clock=fake.clock
    ) as c:
        await asyncio.gather(*(c.get(f"/{i}") for i in range(3)))
        await c.get("https://other.invalid/")
    assert fake.sleeps == [0.5, 0.5]
    assert len(bodies) == 4


# --------------------------------------------------------------------------- OAuth2


async def test_oauth_token_is_fetched_once_and_cached(
    oauth_server: tuple[OAuthServer, str], fake: FakeClock
) -> None:
    server, base_url = oauth_server
    auth = make_auth(base_url, fake)
    async with create_client(base_url=base_url, settings=FAST, auth=auth) as client:
        for n in range(3):
            response = await client.post("/data", json={"n": n})
            assert response.json() == {"ok": True, "echo": {"n": n}}
    assert len(server.token_requests) == 1
    headers, form = server.token_requests[0]
    assert form == {
        "grant_type": "client_credentials",
        "client_id": "efa-client",
        "client_secret": CLIENT_SECRET,
    }
    assert "authorization" not in headers
    assert headers["user-agent"] == f"efa-core/{__version__}"


async def test_oauth_basic_client_auth_and_scope(fake: FakeClock) -> None:
    server = OAuthServer(client_auth="basic")
    with serve_asgi(server) as base_url:
        auth = make_auth(base_url, fake, client_auth="basic", scope=["a", "b"])
        async with create_client(base_url=base_url, settings=FAST, auth=auth) as client:
            assert (await client.get("/data")).status_code == 200
    _, form = server.token_requests[0]
    assert form == {"grant_type": "client_credentials", "scope": "a b"}


async def test_oauth_token_is_refreshed_before_expiry(
    oauth_server: tuple[OAuthServer, str], fake: FakeClock
) -> None:
    server, base_url = oauth_server
    server.expires_in = 100
    auth = make_auth(base_url, fake, leeway=30)
    async with create_client(base_url=base_url, settings=FAST, auth=auth) as client:
        await client.get("/data")
        fake.advance(69)  # 31 s left: still good
        await client.get("/data")
        assert len(server.token_requests) == 1
        fake.advance(2)  # 29 s left: inside the leeway
        assert (await client.get("/data")).status_code == 200
    assert len(server.token_requests) == 2
    assert server.data_requests == 3  # refreshed proactively, no 401 round trip


async def test_concurrent_requests_share_one_token_refresh(
    oauth_server: tuple[OAuthServer, str], fake: FakeClock
) -> None:
    server, base_url = oauth_server
    server.expires_in = 60
    auth = make_auth(base_url, fake)
    async with create_client(base_url=base_url, settings=FAST, auth=auth) as client:
        await client.get("/data")
        fake.advance(3600)
        responses = await asyncio.gather(*(client.get("/data") for _ in range(10)))
    assert [r.status_code for r in responses] == [200] * 10
    assert len(server.token_requests) == 2


async def test_concurrent_requests_share_one_token_request_in_memory(fake: FakeClock) -> None:
    token_requests = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal token_requests
        if request.url.path == "/token":
            token_requests += 1
            for _ in range(5):  # let the other requests run into the lock
                await asyncio.sleep(0)
            return httpx.Response(200, json={"access_token": "t", "expires_in": 60})
        assert request.headers["authorization"] == "Bearer t"
        return httpx.Response(200)

    auth = OAuth2ClientCredentials(
        token_url="https://auth.invalid/token",
        client_id="c",
        client_secret=Secret("s"),
        clock=fake.clock,
    )
    async with create_client(
        base_url="https://api.invalid", transport=httpx.MockTransport(handler), auth=auth
    ) as client:
        await asyncio.gather(*(client.get("/data") for _ in range(10)))
        assert token_requests == 1
        fake.advance(3600)
        await asyncio.gather(*(client.get("/data") for _ in range(10)))
    assert token_requests == 2


async def test_401_refreshes_the_token_once_and_retries(
    oauth_server: tuple[OAuthServer, str], fake: FakeClock
) -> None:
    server, base_url = oauth_server
    server.expires_in = None  # the server does not say; the client learns from 401
    auth = make_auth(base_url, fake)
    async with create_client(base_url=base_url, settings=FAST, auth=auth) as client:
        await client.get("/data")
        server.valid_token = "revoked-by-the-server"
        response = await client.put("/data", json={"x": 1})
    assert response.status_code == 200
    assert response.json()["echo"] == {"x": 1}  # the body was sent again
    assert len(server.token_requests) == 2
    assert server.data_requests == 3


async def test_second_401_raises_http_error(
    oauth_server: tuple[OAuthServer, str], fake: FakeClock
) -> None:
    server, base_url = oauth_server
    server.always_401 = True
    auth = make_auth(base_url, fake)
    async with create_client(base_url=base_url, settings=FAST, auth=auth) as client:
        with pytest.raises(HttpError) as info:
            await client.get("/data")
    assert info.value.status == 401
    assert str(info.value) == (
        f"GET {base_url}/data: failed with 401 Unauthorized even with a freshly fetched "
        "access token: token expired or invalid"
    )
    assert len(server.token_requests) == 2
    assert server.data_requests == 2


async def test_rejected_token_request_raises_http_error_without_secret(fake: FakeClock) -> None:
    server = OAuthServer()
    with serve_asgi(server) as base_url:
        auth = OAuth2ClientCredentials(
            token_url=f"{base_url}/token",
            client_id="efa-client",
            client_secret=Secret("wrong-" + CLIENT_SECRET),
            clock=fake.clock,
        )
        async with create_client(base_url=base_url, settings=FAST, auth=auth) as client:
            with pytest.raises(HttpError) as info:
                await client.get("/data")
    assert str(info.value) == (
        f"POST {base_url}/token: token request for client 'efa-client' failed with 401 "
        "Unauthorized: unknown client"
    )
    assert CLIENT_SECRET not in repr(info.value.args)
    assert server.data_requests == 0


async def test_token_response_without_access_token_is_an_error(fake: FakeClock) -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json={"token": "x"}))
    auth = OAuth2ClientCredentials(
        token_url="https://auth.invalid/token", client_id="c", client_secret=Secret("s")
    )
    async with create_client(base_url="https://a.invalid", transport=transport, auth=auth) as c:
        with pytest.raises(HttpError, match="token response for client 'c' has no access_token"):
            await c.get("/")


def test_oauth_config_is_checked() -> None:
    with pytest.raises(ConfigError, match="client_secret must be a Secret"):
        OAuth2ClientCredentials(token_url="https://a/t", client_id="c", client_secret="s")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="client_auth must be 'form' or 'basic'"):
        OAuth2ClientCredentials(
            token_url="https://a/t",
            client_id="c",
            client_secret=Secret("s"),
            client_auth="header",  # type: ignore[arg-type]
        )


# --------------------------------------------------------------------------- redaction


def test_redact_url_masks_secret_parameters_and_password() -> None:
    url = "https://user:pw123@h.invalid/p?access_token=AT&x=1&Client_Secret=CS&token=T&ok=2"
    redacted = redact_url(url)
    assert redacted == (
        f"https://user:{MASK}@h.invalid/p?access_token={MASK}&x=1&Client_Secret={MASK}"
        f"&token={MASK}&ok=2"
    )


def test_redact_text_and_headers() -> None:
    text = (
        '{"access_token": "AT1", "refresh_token":"RT\\"1", "n": 1} '
        "client_secret=CS1&grant_type=client_credentials Authorization: Bearer BT1 "
        "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln"
    )
    redacted = redact_text(text)
    for secret in ("AT1", "RT", "CS1", "BT1", "eyJ"):
        assert secret not in redacted
    assert '"n": 1' in redacted
    assert "grant_type=client_credentials" in redacted
    assert redact_headers({"Authorization": "Basic abc", "Accept": "x"}) == {
        "authorization": MASK,
        "accept": "x",
    }


async def test_error_messages_never_contain_tokens() -> None:
    body = {"error": "invalid_token", "access_token": "LEAKED-AT"}
    transport, _ = scripted(httpx.Response(400, text=json.dumps(body)))
    async with create_client(base_url="https://x.invalid", transport=transport) as c:
        response = await c.get("/r", params={"access_token": "URL-AT", "q": "1"})
        with pytest.raises(HttpError) as info:
            await raise_for_status(response)
    message = str(info.value)
    assert "LEAKED-AT" not in message
    assert "URL-AT" not in message
    assert message.startswith(f"GET https://x.invalid/r?access_token={MASK}&q=1: failed with 400")
    assert info.value.url == f"https://x.invalid/r?access_token={MASK}&q=1"


def test_auth_repr_hides_secret_and_token() -> None:
    auth = OAuth2ClientCredentials(
        token_url="https://auth.invalid/token?client_secret=INURL",
        client_id="efa-client",
        client_secret=Secret(CLIENT_SECRET),
    )
    text = repr(auth)
    assert CLIENT_SECRET not in text
    assert "INURL" not in text
    assert "efa-client" in text


async def test_logs_contain_no_secret_or_token(
    oauth_server: tuple[OAuthServer, str], fake: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    server, base_url = oauth_server
    caplog.set_level(logging.DEBUG)
    auth = make_auth(base_url, fake)
    async with create_client(base_url=base_url, settings=FAST, auth=auth) as client:
        await client.get("/data", params={"access_token": "QUERY-TOKEN-123"})
        server.valid_token = "revoked"
        await client.get("/data")
    assert len(server.token_requests) == 2
    logged = caplog.text + "".join(r.getMessage() for r in caplog.records)
    assert "efa_core.http" in {r.name for r in caplog.records}
    assert "httpx" in {r.name for r in caplog.records}
    for secret in (CLIENT_SECRET, "SECRETTOKEN", "QUERY-TOKEN-123"):
        assert secret not in logged


# --------------------------------------------------------------------------- log redaction of httpx


async def test_httpx_own_log_lines_are_redacted(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="httpx")
    transport, _ = scripted(httpx.Response(200))
    async with create_client(base_url="https://x.invalid", transport=transport) as client:
        await client.get("/r", params={"client_secret": "SHOULD-NOT-LEAK"})
    lines = [r.getMessage() for r in caplog.records if r.name == "httpx"]
    assert lines == [
        f'HTTP Request: GET https://x.invalid/r?client_secret={MASK} "HTTP/1.1 200 OK"'
    ]


async def test_retry_logs_contain_no_query_token(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    transport, bodies = scripted(
        httpx.Response(503, text='{"access_token": "BODY-TOKEN"}'),
        httpx.ReadError("reset"),
        httpx.Response(200),
    )
    async with create_client(base_url="https://x.invalid", settings=FAST, transport=transport) as c:
        response = await c.get("/r", params={"token": "QUERY-TOKEN", "page": "2"})
    assert response.status_code == 200
    assert len(bodies) == 3
    retry_lines = [
        r.getMessage() for r in caplog.records if r.name == "efa_core.http" and "retrying" in r.msg
    ]
    assert retry_lines == [
        f"GET https://x.invalid/r?token={MASK}&page=2 answered 503 (attempt 1); "
        "retrying if attempts are left",
        f"GET https://x.invalid/r?token={MASK}&page=2 failed (attempt 2): ReadError; "
        "retrying if attempts are left",
    ]
    logged = caplog.text + "".join(str(r.__dict__) for r in caplog.records)
    assert "QUERY-TOKEN" not in logged
    assert "BODY-TOKEN" not in logged


# -- HttpConnector ---------------------------------------------------------------------------


@attrs.frozen
class _UrlConfig:
    base_url: str


class _ApiConnector(HttpConnector):
    type_name: ClassVar[str] = "test-http-api"
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.SNAPSHOT})
    config_class: ClassVar[type[Any]] = _UrlConfig

    def make_client(self) -> httpx.AsyncClient:
        return create_client(
            base_url=self.config.base_url, transport=self.transport, clock=self.clock
        )

    async def pull_batches(self, cursor: str | None) -> AsyncIterator[Batch]:
        response = await self.client.get("/ping")
        await raise_for_status(response)
        yield Batch((), cursor=None, complete=True)


@pytest.mark.anyio
async def test_http_connector_owns_one_client_while_open() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["user-agent"])
        return httpx.Response(200, json={})

    connector = _ApiConnector(
        _UrlConfig("https://api.example"), name="api", transport=httpx.MockTransport(handler)
    )
    with pytest.raises(ConnectorError, match=r"test-http-api connector 'api' is not open"):
        _ = connector.client
    async with connector:
        client = connector.client
        batches = [b async for b in connector.pull()]
    assert [b.complete for b in batches] == [True]
    assert len(seen) == 1
    assert seen[0].startswith("efa-core/")
    assert client.is_closed
    with pytest.raises(ConnectorError):
        _ = connector.client


@pytest.mark.anyio
async def test_http_connector_without_make_client_says_so() -> None:
    class Incomplete(HttpConnector):
        type_name: ClassVar[str] = "test-http-incomplete"
        capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.PUSH})
        config_class: ClassVar[type[Any]] = _UrlConfig

        async def push_changes(self, changes: Any) -> Any:
            raise AssertionError("not reached")

    with pytest.raises(NotImplementedError, match="Incomplete must implement make_client"):
        async with Incomplete(_UrlConfig("https://x.example"), name="x"):
            pass
