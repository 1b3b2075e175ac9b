"""Reading response bodies into memory with a limit on the raw and the decoded size.

The transport reads every (non-streamed) body here, inside the retried attempt.  gzip and
deflate are decoded while reading, with :mod:`zlib`'s ``max_length`` so that no chunk can
inflate past the limit: memory stays bounded by ``max_body_bytes`` whatever the server sends
(a 1 MiB gzip bomb never becomes 1 GiB).  The copy handed on carries the decoded bytes and
no ``Content-Encoding``, so httpx does not decode them again.
"""

from __future__ import annotations

import zlib
from typing import Final

import httpx

from efa_core.http._errors import HttpError, ResponseTooLarge

#: The encodings decoded here; ``create_client`` asks only for these.
ACCEPT_ENCODING: Final = "gzip, deflate"
#: The response extension holding the Content-Encoding the body was decoded from.
DECODED_FROM: Final = "efa_core.decoded_from"

_IDENTITY: Final = frozenset({"", "identity"})


def _mib(size: int) -> str:
    return f"{size / 1048576:g} MiB" if size >= 1048576 else f"{size} bytes"


def _too_large(request: httpx.Request, limit: int, what: str) -> ResponseTooLarge:
    return ResponseTooLarge(
        f"the response body exceeds max_body_bytes ({_mib(limit)}) {what}; refused (if the "
        "source really sends such pages, raise the source's http.max_body_bytes)",
        method=request.method,
        url=request.url,
        limit=limit,
    )


class _Inflater:
    """Decode gzip or deflate chunk by chunk, never producing more than the limit allows."""

    def __init__(self, encoding: str) -> None:
        self._gzip = encoding in ("gzip", "x-gzip")
        self._raw_deflate = False
        self._started = False
        self._new()

    def _new(self) -> None:
        if self._gzip:
            wbits = zlib.MAX_WBITS | 16
        else:
            wbits = -zlib.MAX_WBITS if self._raw_deflate else zlib.MAX_WBITS
        self._obj = zlib.decompressobj(wbits)

    def feed(self, data: bytes, out: bytearray, limit: int) -> bool:
        """Append the decoded *data* to *out*; return ``False`` once *out* would pass *limit*."""
        while data:
            room = limit - len(out) + 1
            try:
                piece = self._obj.decompress(data, room)
            except zlib.error:
                if not self._gzip and not self._started and not self._raw_deflate:
                    # "deflate" is often sent as a raw stream without the zlib header.
                    self._raw_deflate = True
                    self._new()
                    continue
                raise
            self._started = True
            out += piece
            if len(out) > limit or self._obj.unconsumed_tail:
                return False
            data = b""
            if self._obj.eof and self._obj.unused_data:
                data = self._obj.unused_data  # a further gzip member
                self._new()
        return True

    def finish(self, out: bytearray, limit: int) -> bool:
        """Flush the decoder; return ``False`` if the rest passes *limit*."""
        out += self._obj.flush()
        return len(out) <= limit


async def read_limited(response: httpx.Response, limit: int) -> httpx.Response:
    """Read *response*'s body (decoding gzip/deflate) under *limit*; return an unread copy.

    :raises ResponseTooLarge: the body passes *limit* as received or decoded (announced by
        ``Content-Length`` or found while reading).
    :raises HttpError: the body uses an encoding other than gzip/deflate, or does not decode.
    :raises httpx.TransportError: the connection failed while reading (the caller retries).
    """
    request = response.request
    if response.is_stream_consumed:  # built in memory (e.g. a MockTransport content=)
        if len(response.content) > limit:
            raise _too_large(request, limit, f"({len(response.content)} bytes)")
        return response
    try:
        declared = response.headers.get("Content-Length", "").strip()
        if declared.isdigit() and int(declared) > limit:
            raise _too_large(request, limit, f"announced by Content-Length ({declared} bytes)")
        encoding = response.headers.get("Content-Encoding", "").strip().lower()
        inflater = None
        if encoding not in _IDENTITY:
            if encoding not in ("gzip", "x-gzip", "deflate"):
                raise HttpError(
                    f"answered with Content-Encoding {encoding!r}, which efa-core does not "
                    f"decode (it asks for {ACCEPT_ENCODING})",
                    method=request.method,
                    url=request.url,
                    status=response.status_code,
                )
            inflater = _Inflater(encoding)
        out = bytearray()
        received = 0
        async for chunk in response.aiter_raw():
            received += len(chunk)
            if received > limit:
                raise _too_large(request, limit, "as received")
            if inflater is None:
                out += chunk
            elif not inflater.feed(chunk, out, limit):
                raise _too_large(request, limit, f"after decoding {encoding}")
        if inflater is not None and not inflater.finish(out, limit):
            raise _too_large(request, limit, f"after decoding {encoding}")
    except zlib.error as exc:
        raise HttpError(
            f"the {encoding} body does not decode: {exc}",
            method=request.method,
            url=request.url,
            status=response.status_code,
        ) from None
    finally:
        await response.aclose()
    headers = response.headers.copy()
    extensions = dict(response.extensions)
    if inflater is not None:
        del headers["Content-Encoding"]
        extensions[DECODED_FROM] = encoding
    if "Content-Length" in headers or inflater is not None:
        headers["Content-Length"] = str(len(out))
    return httpx.Response(
        status_code=response.status_code,
        headers=headers,
        stream=httpx.ByteStream(bytes(out)),
        extensions=extensions,
        request=request,
    )
