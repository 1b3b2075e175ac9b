"""RetryingTransport: retries (stamina), Retry-After, buffered bodies."""

from __future__ import annotations

import contextlib
import datetime as dt
import email.utils
import math
from typing import Final

import httpx
import stamina

from efa_core.http._body import read_limited
from efa_core.http._errors import HttpError, _body_excerpt
from efa_core.http._log import ONCE_EXTENSION, Warnings, logger
from efa_core.http._ratelimit import _RateLimiter
from efa_core.http._redact import redact_url
from efa_core.http._settings import (
    _DEFAULT_CLOCK,
    DEFAULT_SETTINGS,
    IDEMPOTENT_EXTENSION,
    STREAM_EXTENSION,
    Clock,
    HttpSettings,
)

_IDEMPOTENT_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})
#: The request certainly did not reach the server: safe to retry for every method.
_CONNECT_ERRORS: Final = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
#: The request may have been processed: retried for idempotent requests only.
_TRANSIENT_ERRORS: Final = (
    *_CONNECT_ERRORS,
    httpx.ReadError,
    httpx.WriteError,
    httpx.ReadTimeout,
    httpx.WriteTimeout,
    httpx.RemoteProtocolError,
)


def _parse_retry_after(value: str, now: float) -> float | None:
    """Seconds to wait according to a ``Retry-After`` value (delta-seconds or HTTP-date)."""
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(seconds, 0.0) if math.isfinite(seconds) else None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # an HTTP-date is always GMT
        when = when.replace(tzinfo=dt.timezone.utc)
    return max(when.timestamp() - now, 0.0)


class _RetryableResponse(Exception):  # internal signal, never escapes the transport
    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        request = response.request
        super().__init__(
            f"{request.method} {redact_url(request.url)} answered {response.status_code}"
        )


def _is_retryable_status(status: int, *, idempotent: bool) -> bool:
    if status in (408, 429):
        return True
    return idempotent and 500 <= status <= 599


def _with_body(response: httpx.Response, raw: bytes) -> httpx.Response:
    """Return a fresh, unread copy of *response* whose stream is the in-memory *raw* body."""
    return httpx.Response(
        status_code=response.status_code,
        headers=response.headers,
        stream=httpx.ByteStream(raw),
        extensions=response.extensions,
        request=response.request,
    )


class RetryingTransport(httpx.AsyncBaseTransport):
    """Wraps a transport with retries (stamina) and per-host rate limiting.

    Retried: connection errors (every method), 408 and 429 (every method), read/write errors
    and 5xx (idempotent methods, or all with ``retry_unsafe_methods`` or the
    :data:`IDEMPOTENT_EXTENSION` request extension).  A ``Retry-After`` header is honoured
    (waited for before the next attempt), but one longer than ``max_retry_after`` raises
    :class:`HttpError` at once.  When the attempts are used up, the last error response is
    returned (so :func:`raise_for_status` reports it) or, after a transport error,
    :class:`HttpError` is raised.

    The response body is read into memory inside the attempt, at most ``max_body_bytes`` as
    received and after decoding (else :class:`ResponseTooLarge`, not retried), so an error
    while reading it (a body cut off by a closed connection, a read timeout mid-body) counts
    as a read error of that attempt and is retried by the same rules.  Requests with the
    :data:`STREAM_EXTENSION` get their response unread instead: nothing is buffered, and
    errors while the caller reads the stream are not retried.
    """

    def __init__(
        self,
        transport: httpx.AsyncBaseTransport,
        *,
        settings: HttpSettings = DEFAULT_SETTINGS,
        clock: Clock | None = None,
    ) -> None:
        self._transport = transport
        self._settings = settings
        self._clock = clock or _DEFAULT_CLOCK
        self._limiter = _RateLimiter(settings, self._clock)
        #: What was warned about through this transport (see ``warn_once``).
        self.warnings = Warnings()

    def __repr__(self) -> str:
        return f"RetryingTransport({self._transport!r})"

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send *request*, retrying and waiting as configured."""
        await request.aread()  # a retried request must be able to send its body again
        settings = self._settings
        idempotent = (
            request.method in _IDEMPOTENT_METHODS
            or settings.retry_unsafe_methods
            or bool(request.extensions.get(IDEMPOTENT_EXTENSION))
        )
        streaming = bool(request.extensions.get(STREAM_EXTENSION))
        retry_errors = _TRANSIENT_ERRORS if idempotent else _CONNECT_ERRORS
        attempt_no = 0
        pending_wait = 0.0
        in_body = False  # the current attempt failed while reading the response body

        def should_retry(exc: Exception) -> bool:
            if isinstance(exc, _RetryableResponse):
                return True
            if isinstance(exc, retry_errors):
                logger.info(
                    "%s %s failed (attempt %d): %s%s; retrying if attempts are left",
                    request.method,
                    redact_url(request.url),
                    attempt_no,
                    type(exc).__name__,
                    " while reading the body" if in_body else "",
                )
                return True
            return False

        try:
            async for attempt in stamina.retry_context(
                on=should_retry,
                attempts=settings.attempts,
                timeout=None,
                wait_initial=settings.initial_backoff,
                wait_max=settings.max_backoff,
                wait_jitter=min(1.0, settings.max_backoff),
            ):
                with attempt:
                    attempt_no += 1
                    in_body = False
                    if pending_wait > 0:
                        await self._clock.sleep(pending_wait)
                        pending_wait = 0.0
                    await self._limiter.acquire(request)
                    response = await self._transport.handle_async_request(request)
                    response.request = request
                    response.extensions = {
                        **response.extensions,
                        "efa_core.attempts": attempt_no,
                        ONCE_EXTENSION: self.warnings,
                    }
                    self._limiter.observe(response)
                    logger.debug(
                        "%s %s -> %d (attempt %d)",
                        request.method,
                        redact_url(request.url),
                        response.status_code,
                        attempt_no,
                    )
                    if not _is_retryable_status(response.status_code, idempotent=idempotent):
                        if streaming:
                            return response
                        in_body = True
                        return await read_limited(response, settings.max_body_bytes)
                    try:
                        response = await read_limited(response, settings.max_body_bytes)
                    except (httpx.HTTPError, HttpError):  # the status alone makes it retryable
                        response = _with_body(response, b"")
                    pending_wait = await self._retry_after(request, response)
                    logger.info(
                        "%s %s answered %d (attempt %d); retrying if attempts are left",
                        request.method,
                        redact_url(request.url),
                        response.status_code,
                        attempt_no,
                    )
                    raise _RetryableResponse(response)
        except _RetryableResponse as exc:  # attempts used up: let the caller see the response
            return exc.response
        except httpx.TransportError as exc:
            where = " while reading the body" if in_body else ""
            suffix = f" after {attempt_no} attempts" if attempt_no > 1 else ""
            raise HttpError(
                f"{type(exc).__name__}{where}{suffix}: {exc}".rstrip(": "),
                method=request.method,
                url=request.url,
            ) from exc
        raise AssertionError("unreachable: stamina ended without result")  # pragma: no cover

    async def _retry_after(self, request: httpx.Request, response: httpx.Response) -> float:
        """Return the ``Retry-After`` wait of a retryable (buffered) *response*."""
        header = response.headers.get("Retry-After")
        if header is None:
            return 0.0
        wait = _parse_retry_after(header, self._clock.wall())
        if wait is None:
            logger.debug("ignoring unparsable Retry-After %r", header)
            return 0.0
        if wait > self._settings.max_retry_after:
            with contextlib.suppress(httpx.HTTPError):  # in memory; only decoding can fail
                await response.aread()
            raise HttpError(
                f"answered {response.status_code} with Retry-After {header!r} ({wait:.0f} s), "
                f"longer than max_retry_after ({self._settings.max_retry_after:g} s); giving up",
                method=request.method,
                url=request.url,
                status=response.status_code,
                detail=_body_excerpt(response),
            )
        return wait

    async def aclose(self) -> None:
        """Close the wrapped transport."""
        await self._transport.aclose()
