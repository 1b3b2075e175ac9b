"""Body limits, redirects, error mapping and content types of efa_core.http (issue 16 §2, §3)."""

from __future__ import annotations

import gzip
import json
import logging
import subprocess
import sys
import textwrap
import zlib
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from efa_core.http import (
    HttpError,
    HttpSettings,
    ResponseTooLarge,
    create_client,
    json_body,
    raise_for_status,
    take_warnings,
)
from efa_core.secret import MASK
from efa_core.testing.servers import serve_asgi

pytestmark = pytest.mark.anyio

FAST = HttpSettings(attempts=2, initial_backoff=0, max_backoff=0, rate_limit_per_second=None)
MiB = 1024 * 1024


def zero_bomb(mib: int) -> Iterator[bytes]:
    """Yield a gzip stream that inflates to *mib* MiB of zeros (about 1 KiB per MiB sent).

    Each MiB is compressed after a full flush, so every block after the first is the same
    bytes; the stream ends without its trailer (a reader stops at its limit long before).
    """
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = bytes(MiB)
    yield compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    block = compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    for _ in range(mib - 1):
        yield block


class BodyServer:
    """Serves ``/bomb?mib=N`` (gzip bomb, chunked), ``/big?mib=N`` (plain, chunked or with
    Content-Length), and a few encodings of ``{"ok": true}``."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        query = dict(
            part.split("=", 1) for part in scope["query_string"].decode().split("&") if part
        )
        path = scope["path"]
        headers = [(b"content-type", b"application/json")]
        payload = b'{"ok": true}'
        chunks: Iterator[bytes] | None = None
        if path == "/bomb":
            headers.append((b"content-encoding", b"gzip"))
            chunks = zero_bomb(int(query.get("mib", "1024")))
        elif path == "/big":
            size = int(query.get("mib", "2")) * MiB
            if query.get("announce") == "1":
                headers.append((b"content-length", str(size).encode()))
            chunks = (bytes(64 * 1024) for _ in range(size // (64 * 1024)))
        elif path == "/gzip-members":
            headers.append((b"content-encoding", b"gzip"))
            payload = gzip.compress(b'{"ok": ') + gzip.compress(b"true}")
        elif path == "/raw-deflate":
            headers.append((b"content-encoding", b"deflate"))
            compressor = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
            payload = compressor.compress(payload) + compressor.flush()
        elif path == "/zlib-deflate":
            headers.append((b"content-encoding", b"deflate"))
            payload = zlib.compress(payload)
        elif path == "/brotli":
            headers.append((b"content-encoding", b"br"))
            payload = b"\x00\x01"
        elif path == "/html":
            headers = [(b"content-type", b"text/html; charset=utf-8")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        if chunks is None:
            await send({"type": "http.response.body", "body": payload})
            return
        for chunk in chunks:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b""})


@pytest.fixture(scope="module")
def body_url() -> Iterator[str]:
    with serve_asgi(BodyServer()) as base_url:
        yield base_url


# -- body limits ------------------------------------------------------------------------------


async def test_a_gzip_bomb_is_refused_at_the_decoded_limit_naming_url_and_limit(
    body_url: str,
) -> None:
    settings = HttpSettings(max_body_bytes=4 * MiB, attempts=1, rate_limit_per_second=None)
    async with create_client(base_url=body_url, settings=settings) as client:
        with pytest.raises(ResponseTooLarge) as caught:
            await client.get("/bomb", params={"mib": "64", "token": "QUERY-SECRET"})
    error = caught.value
    assert error.limit == 4 * MiB
    assert f"GET {body_url}/bomb?mib=64&token={MASK}" in str(error)
    assert "exceeds max_body_bytes (4 MiB) after decoding gzip" in str(error)
    assert "QUERY-SECRET" not in str(error)


async def test_a_plain_body_is_refused_as_received_and_by_content_length(body_url: str) -> None:
    settings = HttpSettings(max_body_bytes=1 * MiB, attempts=1, rate_limit_per_second=None)
    async with create_client(base_url=body_url, settings=settings) as client:
        with pytest.raises(ResponseTooLarge, match=r"exceeds max_body_bytes \(1 MiB\) as received"):
            await client.get("/big", params={"mib": "3"})
        with pytest.raises(
            ResponseTooLarge, match=r"announced by Content-Length \(3145728 bytes\)"
        ):
            await client.get("/big", params={"mib": "3", "announce": "1"})
        response = await client.get("/big", params={"mib": "1", "announce": "1"})
    assert len(response.content) == MiB


@pytest.mark.parametrize("path", ["/gzip-members", "/raw-deflate", "/zlib-deflate"])
async def test_gzip_and_deflate_bodies_decode_under_the_limit(body_url: str, path: str) -> None:
    async with create_client(base_url=body_url, settings=FAST) as client:
        response = await client.get(path)
    assert response.json() == {"ok": True}
    assert "content-encoding" not in response.headers


async def test_an_encoding_efa_core_did_not_ask_for_is_an_http_error(body_url: str) -> None:
    async with create_client(base_url=body_url, settings=FAST) as client:
        with pytest.raises(HttpError, match=r"Content-Encoding 'br', which efa-core does not"):
            await client.get("/brotli")


def test_a_one_gib_gzip_bomb_stays_within_bounded_memory(tmp_path: Any) -> None:
    """Peak RSS of a client refusing a 1 MiB -> 1 GiB bomb, measured in a fresh process.

    Before the limit, decoding it took 2.1 GB; now the client holds at most the default
    64 MiB of decoded body.
    """
    script = textwrap.dedent(
        """
        import asyncio, resource, sys
        sys.path.insert(0, sys.argv[1])
        from test_http_limits import BodyServer
        from efa_core.http import HttpSettings, ResponseTooLarge, create_client
        from efa_core.testing.servers import serve_asgi

        async def main(url):
            settings = HttpSettings(attempts=1, rate_limit_per_second=None)
            async with create_client(base_url=url, settings=settings) as client:
                try:
                    await client.get("/bomb", params={"mib": "1024"})
                except ResponseTooLarge as exc:
                    return str(exc)
            return "not refused"

        with serve_asgi(BodyServer()) as url:
            before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            message = asyncio.run(main(url))
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(before // 1024, peak // 1024, message)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script, str(__import__("pathlib").Path(__file__).parent)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout.split(" ", 2)
    before_mib, peak_mib, message = int(out[0]), int(out[1]), out[2]
    assert "exceeds max_body_bytes (64 MiB) after decoding gzip" in message
    assert peak_mib - before_mib < 200, (before_mib, peak_mib)
    print(f"bomb: peak RSS {peak_mib} MiB, {peak_mib - before_mib} MiB over the baseline")


# -- redirects ----------------------------------------------------------------------------------


class Redirector:
    """``/same`` -> ``/target`` on the same host, ``/away`` -> *other* host, ``/loop`` -> itself."""

    def __init__(self, other: str = "") -> None:
        self.other = other

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        path = scope["path"]
        location = {
            "/same": "/target",
            "/away": f"{self.other}/target",
            "/loop": "/loop?token=LOOP-SECRET",
        }.get(path)
        if location is None:
            body = json.dumps({"served_by": scope["server"][0], "path": path}).encode()
            start = {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json")],
            }
            await send(start)
            await send({"type": "http.response.body", "body": body})
            return
        headers = [(b"location", location.encode()), (b"content-length", b"0")]
        await send({"type": "http.response.start", "status": 302, "headers": headers})
        await send({"type": "http.response.body", "body": b""})


@pytest.fixture(scope="module")
def redirect_urls() -> Iterator[tuple[str, str]]:
    with (
        serve_asgi(Redirector(), host="127.0.0.2") as other,
        serve_asgi(Redirector(other)) as base_url,
    ):
        yield base_url, other


async def test_a_same_host_redirect_is_followed_and_its_final_url_logged_once(
    redirect_urls: tuple[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    base_url, _ = redirect_urls
    caplog.set_level(logging.WARNING, logger="efa_core.http")
    async with create_client(base_url=base_url, settings=FAST) as client:
        first = await client.get("/same")
        await client.get("/same")
        kept = take_warnings(client)
        assert take_warnings(client) == []  # taken once
    assert first.json() == {"served_by": "127.0.0.1", "path": "/target"}
    lines = [r.getMessage() for r in caplog.records if "redirected" in r.getMessage()]
    expected = (
        f"GET {base_url}/same was redirected to {base_url}/target; the data is read from there"
    )
    assert lines == kept == [expected]  # logged, and kept for the run


async def test_a_redirect_to_another_host_is_refused_unless_any(
    redirect_urls: tuple[str, str],
) -> None:
    base_url, other = redirect_urls
    async with create_client(base_url=base_url, settings=FAST) as client:
        with pytest.raises(HttpError, match=rf"redirecting to {other}/target, another host"):
            await client.get("/away")
    settings = HttpSettings(follow_redirects="any", rate_limit_per_second=None)
    async with create_client(base_url=base_url, settings=settings) as client:
        response = await client.get("/away")
    assert response.json()["served_by"] == "127.0.0.2"


async def test_never_follow_returns_the_redirect(redirect_urls: tuple[str, str]) -> None:
    base_url, _ = redirect_urls
    settings = HttpSettings(follow_redirects=False, rate_limit_per_second=None)
    async with create_client(base_url=base_url, settings=settings) as client:
        response = await client.get("/same")
        assert response.status_code == 302
        with pytest.raises(HttpError, match="failed with 302 Found"):
            await raise_for_status(response)


async def test_a_redirect_loop_is_an_http_error_with_the_redacted_url(
    redirect_urls: tuple[str, str],
) -> None:
    base_url, _ = redirect_urls
    async with create_client(base_url=base_url, settings=FAST) as client:
        with pytest.raises(HttpError, match="TooManyRedirects") as caught:
            await client.get("/loop", params={"token": "FIRST-SECRET"})
    assert f"GET {base_url}/loop?token={MASK}" in str(caught.value)
    assert "SECRET" not in str(caught.value)
    assert isinstance(caught.value.__cause__, httpx.TooManyRedirects)


def test_follow_redirects_setting_is_checked() -> None:
    assert HttpSettings().redirect_policy == "same-host"
    assert HttpSettings(follow_redirects=True).redirect_policy == "same-host"
    assert HttpSettings(follow_redirects="any").redirect_policy == "any"
    with pytest.raises(Exception, match="follow_redirects must be 'same-host', 'any' or 'never'"):
        HttpSettings(follow_redirects="sometimes")  # type: ignore[arg-type]


# -- errors and content types ---------------------------------------------------------------------


async def test_every_transport_error_is_an_http_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.UnsupportedProtocol("no such protocol")

    transport = httpx.MockTransport(handler)
    async with create_client(
        base_url="https://x.invalid", settings=FAST, transport=transport
    ) as client:
        with pytest.raises(
            HttpError, match=r"GET https://x.invalid/a\?key=\*+: UnsupportedProtocol"
        ):
            await client.get("/a", params={"key": "K"})


async def test_json_labelled_as_html_is_accepted_with_one_warning(
    body_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="efa_core.http")
    async with create_client(base_url=body_url, settings=FAST) as client:
        bodies = [json_body(await client.get("/html")) for _ in range(3)]
        kept = take_warnings(client)
    assert bodies == [{"ok": True}] * 3
    warnings = [r.getMessage() for r in caplog.records if "labelled" in r.getMessage()]
    assert len(warnings) == 1
    assert "sends JSON labelled 'text/html; charset=utf-8'" in warnings[0]
    assert kept == warnings  # kept for the run too


def test_the_certificate_store_is_loaded_once_for_all_clients(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import ssl

    from efa_core.http import _client

    loads: list[str] = []
    create = ssl.create_default_context

    def counting(*args: Any, **kwargs: Any) -> ssl.SSLContext:
        loads.append("load")
        return create(*args, **kwargs)

    monkeypatch.setattr(ssl, "create_default_context", counting)
    _client._verifying_context.cache_clear()
    try:
        clients = [create_client(base_url="https://example.invalid") for _ in range(3)]
        clients.append(create_client(base_url="https://x.invalid", settings=HttpSettings()))
    finally:
        _client._verifying_context.cache_clear()
    assert loads == ["load"]  # httpx alone loads it for every client (0.1-0.4 s each)
    del clients
