"""The HTTP layer shared by every connector that talks to a web API.

:func:`create_client` builds an :class:`httpx.AsyncClient` with the project's defaults:

* explicit connect/read/write/pool timeouts and at most 8 connections (:class:`HttpSettings`);
* a ``User-Agent: efa-core/<version>`` header, optionally followed by a connector's own
  product token (FIT-Connect rejects requests without a User-Agent);
* retries (with stamina) on connection errors, 408, 429 and 5xx, honouring
  ``Retry-After`` up to a configured maximum; response bodies are read inside the retried
  attempt, so a body cut off or stalled mid-way is retried too (unless the request opts into
  streaming with :data:`STREAM_EXTENSION`);
* client-side rate limiting per host that also honours ``RateLimit-Remaining`` /
  ``RateLimit-Reset``.

Retries and rate limiting live in :class:`RetryingTransport`, a wrapping transport, so a plain
``client.get(...)`` gets them and authentication flows (:class:`OAuth2ClientCredentials`) run
above them.  Failed requests surface as :class:`HttpError`; secrets and tokens are redacted from
its message and from everything logged to the ``efa_core.http`` logger.

:func:`paginate` walks paged APIs; :func:`offset_limit`, :func:`next_url` and
:func:`page_number` are ready-made strategies for it.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dt
import email.utils
import logging
import math
import re
import time
import urllib.parse
import urllib.request
from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Awaitable,
    Callable,
    Generator,
    Mapping,
    Sequence,
    Sized,
)
from typing import Any, Final, Literal, TypeAlias

import attrs
import httpx
import stamina

from efa_core import __version__
from efa_core.connectors import Connector
from efa_core.errors import ConfigError, ConnectorError
from efa_core.secret import MASK, Secret

__all__ = [
    "DEFAULT_SETTINGS",
    "IDEMPOTENT_EXTENSION",
    "STREAM_EXTENSION",
    "Clock",
    "HttpConnector",
    "HttpError",
    "HttpSettings",
    "NextPage",
    "OAuth2ClientCredentials",
    "RetryingTransport",
    "create_client",
    "next_url",
    "offset_limit",
    "page_number",
    "paginate",
    "raise_for_status",
    "redact_headers",
    "redact_text",
    "redact_url",
    "user_agent",
]

logger = logging.getLogger("efa_core.http")

#: Set this request extension to ``True`` to let a non-idempotent request (POST, PATCH) be
#: retried like a GET, e.g. ``client.post(url, extensions={IDEMPOTENT_EXTENSION: True})``.
IDEMPOTENT_EXTENSION: Final = "efa_core.idempotent"

#: Set this request extension to ``True`` to get the response body unread, as a stream, e.g.
#: ``client.stream("GET", url, extensions={STREAM_EXTENSION: True})`` for a large download.
#: Without it the retrying transport reads every body into memory inside the retried attempt
#: (so a cut-off body is retried); with it, an error while the body is read reaches the
#: caller (from ``aiter_bytes``) and is not retried.
STREAM_EXTENSION: Final = "efa_core.stream"

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
_EXCERPT_LENGTH: Final = 200
_EPOCH_THRESHOLD: Final = 1_000_000_000  # a RateLimit-Reset this large is a Unix time


# --------------------------------------------------------------------------- settings


def _check_positive(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and not value > 0:
        raise ConfigError(f"HttpSettings.{attribute.name} must be > 0, got {value!r}")


def _check_not_negative(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not value >= 0:
        raise ConfigError(f"HttpSettings.{attribute.name} must be >= 0, got {value!r}")


def _check_attempts(instance: object, attribute: attrs.Attribute[Any], value: int) -> None:
    if not 1 <= value <= 20:
        raise ConfigError(f"HttpSettings.attempts must be between 1 and 20, got {value!r}")


def _check_connections(instance: object, attribute: attrs.Attribute[Any], value: int) -> None:
    if not 1 <= value <= 8:
        raise ConfigError(
            f"HttpSettings.max_connections must be between 1 and 8 (be gentle with public "
            f"registries), got {value!r}"
        )


_PRODUCT: Final = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+(?:/[!#$%&'*+.^_`|~0-9A-Za-z-]+)?"
_COMMENT: Final = r"\([\x20-\x27\x2a-\x7e]*\)"
_SUFFIX_RE: Final = re.compile(rf"(?:{_PRODUCT}|{_COMMENT})(?: (?:{_PRODUCT}|{_COMMENT}))*")


def _check_suffix(instance: object, attribute: attrs.Attribute[Any], value: str | None) -> None:
    if value is not None and not _SUFFIX_RE.fullmatch(value):
        raise ConfigError(
            f"HttpSettings.user_agent_suffix {value!r} is not a list of product tokens "
            f"like 'efa-connector-pvog/1.2 (+https://example.org)'"
        )


@attrs.frozen(kw_only=True)
class HttpSettings:
    """Tuning of the HTTP clients made by :func:`create_client`; all times are in seconds."""

    #: Time to establish a connection.
    connect_timeout: float = attrs.field(default=10.0, validator=_check_positive)
    #: Time to wait for a chunk of the response.
    read_timeout: float = attrs.field(default=60.0, validator=_check_positive)
    #: Time to wait for a chunk of the request to be sent.
    write_timeout: float = attrs.field(default=60.0, validator=_check_positive)
    #: Time to wait for a free connection from the pool.
    pool_timeout: float = attrs.field(default=30.0, validator=_check_positive)
    #: Total attempts per request, the first one included (1 disables retries).
    attempts: int = attrs.field(default=4, validator=_check_attempts)
    #: Backoff before the first retry; it doubles per retry (plus up to 1 s jitter).
    initial_backoff: float = attrs.field(default=0.5, validator=_check_not_negative)
    #: Upper bound of the exponential backoff between retries.
    max_backoff: float = attrs.field(default=30.0, validator=_check_not_negative)
    #: Longest ``Retry-After`` / ``RateLimit-Reset`` wait accepted; a longer one fails the
    #: request with :class:`HttpError` instead of sleeping.
    max_retry_after: float = attrs.field(default=300.0, validator=_check_not_negative)
    #: Requests per second per host (``None``: no client-side limit).
    rate_limit_per_second: float | None = attrs.field(default=None, validator=_check_positive)
    #: Connections per client (at most 8).
    max_connections: int = attrs.field(default=8, validator=_check_connections)
    #: Product token(s) appended to ``efa-core/<version>``, e.g. ``"efa-pvog/1.0"``.
    user_agent_suffix: str | None = attrs.field(default=None, validator=_check_suffix)
    #: Verify TLS certificates.
    verify: bool = True
    #: Follow redirects (``Authorization`` is dropped on cross-origin redirects by httpx).
    follow_redirects: bool = True
    #: Retry POST/PATCH on 5xx and read errors too (only safe if the API is idempotent).
    retry_unsafe_methods: bool = False
    #: Proxy URL; ``None`` takes it from ``HTTPS_PROXY``/``HTTP_PROXY``/``NO_PROXY``.
    proxy: str | None = None

    @property
    def timeout(self) -> httpx.Timeout:
        """The timeouts as an :class:`httpx.Timeout`."""
        return httpx.Timeout(
            connect=self.connect_timeout,
            read=self.read_timeout,
            write=self.write_timeout,
            pool=self.pool_timeout,
        )

    @property
    def limits(self) -> httpx.Limits:
        """The connection limits as an :class:`httpx.Limits`."""
        return httpx.Limits(
            max_connections=self.max_connections,
            max_keepalive_connections=self.max_connections,
        )


#: The settings used when none are given.
DEFAULT_SETTINGS: Final = HttpSettings()


async def _asyncio_sleep(seconds: float) -> None:
    await asyncio.sleep(seconds)


@attrs.frozen(kw_only=True)
class Clock:
    """The time sources of the HTTP layer; tests pass a fake one to avoid real waiting."""

    #: Seconds from a monotonic clock (deadlines, token expiry).
    monotonic: Callable[[], float] = time.monotonic
    #: Seconds since the Unix epoch (``Retry-After`` HTTP-dates).
    wall: Callable[[], float] = time.time
    #: Waits (``Retry-After``, rate limits).  Stamina's own backoff is not routed through it.
    sleep: Callable[[float], Awaitable[None]] = _asyncio_sleep


_DEFAULT_CLOCK: Final = Clock()


def user_agent(suffix: str | None = None) -> str:
    """Return the User-Agent ``efa-core/<version>``, followed by *suffix* if given."""
    base = f"efa-core/{__version__}"
    return f"{base} {suffix}" if suffix else base


# --------------------------------------------------------------------------- redaction

_SENSITIVE_NAMES: Final = frozenset(
    {
        "access_token",
        "refresh_token",
        "id_token",
        "token",
        "client_secret",
        "password",
        "secret",
        "api_key",
        "apikey",
        "key",
        "code",
        "signature",
        "sig",
    }
)
_SENSITIVE_HEADERS: Final = frozenset(
    {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "api-key"}
)
_NAMES_RE: Final = "|".join(sorted(_SENSITIVE_NAMES, key=len, reverse=True))
_JSON_SECRET_RE: Final = re.compile(rf'("(?:{_NAMES_RE})"\s*:\s*)"(?:[^"\\]|\\.)*"', re.IGNORECASE)
_FORM_SECRET_RE: Final = re.compile(rf"(\b(?:{_NAMES_RE})=)[^&\s\"'<>]+", re.IGNORECASE)
_AUTH_SCHEME_RE: Final = re.compile(r"\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+", re.IGNORECASE)
_JWT_RE: Final = re.compile(r"\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")


def redact_url(url: httpx.URL | str) -> str:
    """Return *url* with its password and the values of secret query parameters masked.

    Masked parameters are ``token``, ``access_token``, ``client_secret``, ``password``,
    ``api_key`` and similar names (case-insensitive).
    """
    try:
        parsed = httpx.URL(str(url))
    except httpx.InvalidURL:
        return redact_text(str(url))
    if parsed.password:
        parsed = parsed.copy_with(username=parsed.username, password=MASK)
    if parsed.query:
        pairs = [
            (name, MASK if name.lower() in _SENSITIVE_NAMES else value)
            for name, value in parsed.params.multi_items()
        ]
        query = urllib.parse.urlencode(pairs, safe="*")
        parsed = parsed.copy_with(query=query.encode("ascii"))
    return str(parsed)


def redact_text(text: str) -> str:
    """Mask tokens and secrets in free text (response bodies, exception messages).

    Handles JSON members and form fields named like secrets, ``Bearer``/``Basic``
    credentials and JWTs.
    """
    text = _JSON_SECRET_RE.sub(rf'\1"{MASK}"', text)
    text = _FORM_SECRET_RE.sub(rf"\1{MASK}", text)
    text = _AUTH_SCHEME_RE.sub(rf"\1 {MASK}", text)
    return _JWT_RE.sub(MASK, text)


def redact_headers(headers: httpx.Headers | Mapping[str, str]) -> dict[str, str]:
    """Return *headers* as a dict with credentials (``Authorization``, cookies, API keys) masked."""
    return {
        name: MASK if name.lower() in _SENSITIVE_HEADERS else value
        for name, value in httpx.Headers(headers).items()
    }


class _RedactHttpxLogs(logging.Filter):
    """Mask secret query parameters in the URLs httpx logs at INFO level."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and any(isinstance(arg, httpx.URL) for arg in args):
            record.args = tuple(
                redact_url(arg) if isinstance(arg, httpx.URL) else arg for arg in args
            )
        return True


def _install_httpx_log_redaction() -> None:
    httpx_logger = logging.getLogger("httpx")
    if not any(isinstance(f, _RedactHttpxLogs) for f in httpx_logger.filters):
        httpx_logger.addFilter(_RedactHttpxLogs())


# --------------------------------------------------------------------------- errors


class HttpError(ConnectorError):
    """An HTTP request failed: transport error, error status or exhausted retries.

    Attributes: ``method``; ``url`` (redacted); ``status`` (``None`` after a transport error);
    ``detail``, a short, redacted excerpt of the response body (the ``detail`` or ``title`` of
    an RFC 9457 problem document when there is one).  The message contains the same parts and
    never a secret or token; the original httpx exception, if any, is the ``__cause__``.
    """

    def __init__(
        self,
        message: str,
        *,
        method: str,
        url: httpx.URL | str,
        status: int | None = None,
        detail: str | None = None,
    ) -> None:
        self.method = method
        self.url = redact_url(url)
        self.status = status
        self.detail = redact_text(detail) if detail else None
        text = f"{method} {self.url}: {redact_text(message)}"
        if self.detail:
            text += f": {self.detail}"
        super().__init__(text)

    @classmethod
    def from_response(cls, response: httpx.Response, *, message: str | None = None) -> HttpError:
        """Build the error for *response*; read it first (``await response.aread()``)."""
        request = response.request
        if message is None:
            message = f"failed with {response.status_code} {response.reason_phrase}".rstrip()
            attempts = response.extensions.get("efa_core.attempts")
            if isinstance(attempts, int) and attempts > 1:
                message += f" after {attempts} attempts"
        return cls(
            message,
            method=request.method,
            url=request.url,
            status=response.status_code,
            detail=_body_excerpt(response),
        )


def _body_excerpt(response: httpx.Response) -> str | None:
    """Return the most telling short text of an error response body, or ``None``."""
    try:
        content = response.content
    except httpx.ResponseNotRead:
        return None
    if not content:
        return None
    content_type = response.headers.get("content-type", "").lower()
    if "json" in content_type:
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, Mapping):
            for key in ("detail", "title", "error_description", "error", "message"):
                value = body.get(key)
                if isinstance(value, str) and value.strip():
                    return _shorten(value)
    if (
        not content_type
        or content_type.startswith("text/")
        or "json" in content_type
        or ("xml" in content_type)
    ):
        try:
            return _shorten(response.text)
        except (UnicodeDecodeError, LookupError):
            return None
    return None


def _shorten(text: str) -> str | None:
    text = " ".join(text.split())
    if not text:
        return None
    return text if len(text) <= _EXCERPT_LENGTH else text[: _EXCERPT_LENGTH - 1] + "…"


async def raise_for_status(response: httpx.Response) -> httpx.Response:
    """Return *response* if it is a success (2xx), else raise :class:`HttpError`.

    Reads the body first (asynchronously), so it also works on streamed responses.
    """
    if response.is_success:
        return response
    with contextlib.suppress(httpx.HTTPError):  # the status alone still makes a useful error
        await response.aread()
    raise HttpError.from_response(response)


# ------------------------------------------------------------------ retries and rate limits


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


def _parse_reset(value: str, now: float) -> float | None:
    """Seconds until a ``RateLimit-Reset`` (delta-seconds; a Unix time is tolerated)."""
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    if not math.isfinite(seconds) or seconds < 0:
        return None
    if seconds >= _EPOCH_THRESHOLD:
        return max(seconds - now, 0.0)
    return seconds


def _origin(url: httpx.URL) -> str:
    return f"{url.scheme}://{url.host}:{url.port or (443 if url.scheme == 'https' else 80)}"


class _RateLimiter:
    """Spaces requests per host and honours ``RateLimit-Remaining: 0`` until the reset."""

    def __init__(self, settings: HttpSettings, clock: Clock) -> None:
        per_second = settings.rate_limit_per_second
        self._interval = 1.0 / per_second if per_second else 0.0
        self._max_wait = settings.max_retry_after
        self._clock = clock
        self._next_slot: dict[str, float] = {}
        self._blocked_until: dict[str, float] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def acquire(self, request: httpx.Request) -> None:
        key = _origin(request.url)
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        async with lock:
            now = self._clock.monotonic()
            blocked = self._blocked_until.get(key, now) - now
            if blocked > self._max_wait:
                raise HttpError(
                    f"the rate limit of {key} resets in {blocked:.0f} s, longer than "
                    f"max_retry_after ({self._max_wait:g} s)",
                    method=request.method,
                    url=request.url,
                )
            start = max(now, self._next_slot.get(key, now), self._blocked_until.get(key, now))
            if self._interval:
                self._next_slot[key] = start + self._interval
            wait = start - now
            if wait > 0:
                logger.debug("rate limit: waiting %.3f s before %s", wait, _origin(request.url))
                await self._clock.sleep(wait)

    def observe(self, response: httpx.Response) -> None:
        remaining = response.headers.get("RateLimit-Remaining")
        reset = response.headers.get("RateLimit-Reset")
        if remaining is None or reset is None:
            return
        try:
            if int(remaining.strip()) > 0:
                return
        except ValueError:
            return
        seconds = _parse_reset(reset, self._clock.wall())
        if seconds is None:
            return
        key = _origin(response.request.url)
        until = self._clock.monotonic() + seconds
        if until > self._blocked_until.get(key, -math.inf):
            self._blocked_until[key] = until
            logger.info("rate limit of %s exhausted; next request in %.1f s", key, seconds)


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


async def _buffered(response: httpx.Response) -> httpx.Response:
    """Read the raw body of *response* into memory; return an unread copy holding it.

    The copy is an ordinary transport response (an in-memory stream, still encoded as sent),
    so the client decodes it, times it and lets the caller read it in any way, including
    ``aiter_raw``.  A response that is already in memory (built with ``content=`` by a
    ``MockTransport``) is returned as it is.  Transport errors while reading propagate; the
    response is closed in any case.
    """
    if response.is_stream_consumed:
        return response
    try:
        chunks = [chunk async for chunk in response.aiter_raw()]
    finally:
        await response.aclose()
    return _with_body(response, b"".join(chunks))


class RetryingTransport(httpx.AsyncBaseTransport):
    """Wraps a transport with retries (stamina) and per-host rate limiting.

    Retried: connection errors (every method), 408 and 429 (every method), read/write errors
    and 5xx (idempotent methods, or all with ``retry_unsafe_methods`` or the
    :data:`IDEMPOTENT_EXTENSION` request extension).  A ``Retry-After`` header is honoured
    (waited for before the next attempt), but one longer than ``max_retry_after`` raises
    :class:`HttpError` at once.  When the attempts are used up, the last error response is
    returned (so :func:`raise_for_status` reports it) or, after a transport error,
    :class:`HttpError` is raised.

    The response body is read into memory inside the attempt, so an error while reading it
    (a body cut off by a closed connection, a read timeout mid-body) counts as a read error
    of that attempt and is retried by the same rules.  Requests with the
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
                    response.extensions = {**response.extensions, "efa_core.attempts": attempt_no}
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
                        return await _buffered(response)
                    try:
                        response = await _buffered(response)
                    except httpx.HTTPError:  # the status alone makes it retryable
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


# --------------------------------------------------------------------------- client factory


def _proxy_for(base_url: httpx.URL, settings: HttpSettings) -> str | None:
    if settings.proxy is not None:
        return settings.proxy
    if not base_url.host or urllib.request.proxy_bypass(base_url.host):
        return None
    return urllib.request.getproxies_environment().get(base_url.scheme)


def create_client(
    *,
    base_url: httpx.URL | str,
    settings: HttpSettings = DEFAULT_SETTINGS,
    auth: httpx.Auth | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    headers: Mapping[str, str] | None = None,
    clock: Clock | None = None,
) -> httpx.AsyncClient:
    """Create the :class:`httpx.AsyncClient` a connector uses for *base_url*.

    :param base_url: prefix of relative request URLs.
    :param settings: timeouts, retries, rate limit, connections, User-Agent suffix.
    :param auth: e.g. :class:`OAuth2ClientCredentials`.
    :param transport: replaces the network (e.g. :class:`httpx.MockTransport` in tests); it is
        wrapped in :class:`RetryingTransport` like the default one.
    :param headers: extra default headers (an explicit ``User-Agent`` replaces ours).
    :param clock: time sources for ``Retry-After`` and rate-limit waits (tests).

    The caller owns the client: use it as ``async with create_client(...) as client:``.
    """
    _install_httpx_log_redaction()
    url = httpx.URL(base_url)
    if transport is None:
        transport = httpx.AsyncHTTPTransport(
            verify=settings.verify,
            limits=settings.limits,
            proxy=_proxy_for(url, settings),
        )
    if not isinstance(transport, RetryingTransport):
        transport = RetryingTransport(transport, settings=settings, clock=clock)
    all_headers = {"User-Agent": user_agent(settings.user_agent_suffix)}
    all_headers.update(headers or {})
    return httpx.AsyncClient(
        base_url=url,
        auth=auth,
        headers=all_headers,
        timeout=settings.timeout,
        follow_redirects=settings.follow_redirects,
        transport=transport,
    )


# --------------------------------------------------------------------------- OAuth2


@attrs.frozen
class _Token:
    value: Secret
    token_type: str
    expires_at: float | None  # monotonic; None: valid until a 401 says otherwise

    def header(self) -> str:
        return f"{self.token_type} {self.value.reveal()}"


class OAuth2ClientCredentials(httpx.Auth):
    """OAuth2 client-credentials authentication (RFC 6749 §4.4) for an ``AsyncClient``.

    The access token is fetched through the same client (so it gets the retries), cached and
    refreshed *leeway* seconds before it expires; concurrent requests share one refresh.  A
    401 answer triggers one refresh and one retry of the request; a second 401 raises
    :class:`HttpError`.

    :param token_url: the token endpoint.
    :param client_id: the client's id.
    :param client_secret: the client's secret.
    :param scope: scopes to request (FIT-Connect asks for none: leave it ``None``).
    :param client_auth: ``"form"`` sends id and secret in the form body (FIT-Connect, PVOG);
        ``"basic"`` sends them as HTTP Basic credentials.
    :param leeway: refresh this many seconds before expiry (at most half the lifetime).
    :param extra_params: more form fields for the token request (e.g. ``audience``).
    :param clock: time source for expiry (tests).
    """

    requires_request_body = True

    def __init__(
        self,
        *,
        token_url: httpx.URL | str,
        client_id: str,
        client_secret: Secret,
        scope: str | Sequence[str] | None = None,
        client_auth: Literal["form", "basic"] = "form",
        leeway: float = 30.0,
        extra_params: Mapping[str, str] | None = None,
        clock: Clock | None = None,
    ) -> None:
        if not isinstance(client_secret, Secret):
            raise ConfigError("OAuth2ClientCredentials.client_secret must be a Secret")
        if client_auth not in ("form", "basic"):
            raise ConfigError(
                f"OAuth2ClientCredentials.client_auth must be 'form' or 'basic', "
                f"got {client_auth!r}"
            )
        self.token_url = httpx.URL(token_url)
        self.client_id = client_id
        self._client_secret = client_secret
        self.scope = scope if scope is None or isinstance(scope, str) else " ".join(scope)
        self.client_auth = client_auth
        self.leeway = leeway
        self._extra_params = dict(extra_params or {})
        self._clock = clock or _DEFAULT_CLOCK
        self._token: _Token | None = None
        self._lock: asyncio.Lock | None = None
        self._lock_loop: asyncio.AbstractEventLoop | None = None

    def __repr__(self) -> str:
        return (
            f"OAuth2ClientCredentials(token_url={redact_url(self.token_url)!r}, "
            f"client_id={self.client_id!r}, client_secret={self._client_secret!r}, "
            f"client_auth={self.client_auth!r})"
        )

    def _get_lock(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        if self._lock is None or self._lock_loop is not loop:
            self._lock = asyncio.Lock()
            self._lock_loop = loop
        return self._lock

    def _is_fresh(self, token: _Token | None) -> bool:
        if token is None:
            return False
        return token.expires_at is None or self._clock.monotonic() < token.expires_at

    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        """Not supported: efa-core's HTTP layer is async only."""
        raise RuntimeError("OAuth2ClientCredentials works with httpx.AsyncClient only")

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        """Authorize *request*, fetching or refreshing the token as needed."""
        await request.aread()  # the request may be sent twice
        token = self._token
        if not self._is_fresh(token):
            async with self._get_lock():
                if not self._is_fresh(self._token):  # nobody refreshed it meanwhile
                    token_response = yield self._token_request(request)
                    await self._store(token_response)
                token = self._token
        assert token is not None
        request.headers["Authorization"] = token.header()
        response = yield request
        if response.status_code != 401:
            return
        logger.info(
            "%s %s answered 401; refreshing the access token once",
            request.method,
            redact_url(request.url),
        )
        async with self._get_lock():
            if self._token is token or self._token is None:  # not yet refreshed by another flow
                self._token = None
                token_response = yield self._token_request(request)
                await self._store(token_response)
            token = self._token
        assert token is not None
        request.headers["Authorization"] = token.header()
        response = yield request
        if response.status_code == 401:
            await response.aread()
            raise HttpError.from_response(
                response,
                message="failed with 401 Unauthorized even with a freshly fetched access token",
            )

    def _token_request(self, request: httpx.Request) -> httpx.Request:
        data = {"grant_type": "client_credentials"}
        if self.scope:
            data["scope"] = self.scope
        data.update(self._extra_params)
        headers = {"Accept": "application/json"}
        if "User-Agent" in request.headers:
            headers["User-Agent"] = request.headers["User-Agent"]
        if self.client_auth == "basic":
            user = urllib.parse.quote(self.client_id, safe="")
            password = urllib.parse.quote(self._client_secret.reveal(), safe="")
            credentials = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
            headers["Authorization"] = f"Basic {credentials}"
        else:
            data["client_id"] = self.client_id
            data["client_secret"] = self._client_secret.reveal()
        extensions: dict[str, Any] = {IDEMPOTENT_EXTENSION: True}
        if "timeout" in request.extensions:
            extensions["timeout"] = request.extensions["timeout"]
        return httpx.Request(
            "POST", self.token_url, data=data, headers=headers, extensions=extensions
        )

    async def _store(self, response: httpx.Response) -> None:
        """Cache the token from a token endpoint *response* or raise :class:`HttpError`."""
        await response.aread()
        if not response.is_success:
            raise HttpError.from_response(
                response,
                message=(
                    f"token request for client {self.client_id!r} failed with "
                    f"{response.status_code} {response.reason_phrase}"
                ),
            )
        try:
            body = response.json()
        except ValueError:
            body = None
        access_token = body.get("access_token") if isinstance(body, Mapping) else None
        if not isinstance(access_token, str) or not access_token:
            raise HttpError(
                f"token response for client {self.client_id!r} has no access_token",
                method=response.request.method,
                url=response.request.url,
                status=response.status_code,
            )
        assert isinstance(body, Mapping)
        token_type = body.get("token_type") or "Bearer"
        if not isinstance(token_type, str) or token_type.lower() == "bearer":
            token_type = "Bearer"  # noqa: S105 - the scheme name, not a secret
        expires_at = None
        try:
            expires_in = float(body["expires_in"])
        except (KeyError, TypeError, ValueError):
            expires_in = math.nan
        if math.isfinite(expires_in) and expires_in > 0:
            leeway = min(self.leeway, expires_in / 2)
            expires_at = self._clock.monotonic() + expires_in - leeway
        self._token = _Token(
            value=Secret(access_token), token_type=token_type, expires_at=expires_at
        )
        logger.debug(
            "fetched an access token for client %r from %s (expires in %s s)",
            self.client_id,
            redact_url(self.token_url),
            "?" if expires_at is None else f"{expires_in:g}",
        )


# --------------------------------------------------------------------------- pagination

#: What a pagination strategy returns for the next page: query parameters for the same URL,
#: a URL to follow (absolute or relative to the current page), or ``None`` for "no more pages".
NextRequest: TypeAlias = Mapping[str, Any] | httpx.URL | str | None
#: A pagination strategy, which looks at a page's response and says how to get the next page.
NextPage: TypeAlias = Callable[[httpx.Response], NextRequest]


async def paginate(
    client: httpx.AsyncClient,
    url: httpx.URL | str,
    params: Mapping[str, Any] | None = None,
    *,
    next_page: NextPage,
    method: str = "GET",
    headers: Mapping[str, str] | None = None,
    max_pages: int | None = None,
) -> AsyncIterator[httpx.Response]:
    """Yield the responses of a paged API, one per page, until *next_page* returns ``None``.

    Every page is checked with :func:`raise_for_status`.  *next_page* gets each response and
    returns the query parameters of the next request (sent to *url*), a URL to follow, or
    ``None``; see :func:`offset_limit`, :func:`next_url`, :func:`page_number`.  A strategy
    that leads back to a page already fetched, or more than *max_pages* pages, raises
    :class:`HttpError`.
    """
    current_url: httpx.URL | str = url
    current_params: Mapping[str, Any] | None = params
    seen: set[str] = set()
    while True:
        request = client.build_request(method, current_url, params=current_params, headers=headers)
        key = str(request.url)
        if key in seen:
            raise HttpError(
                "pagination does not advance: the next page is one already fetched",
                method=method,
                url=request.url,
            )
        if max_pages is not None and len(seen) >= max_pages:
            raise HttpError(
                f"pagination stopped after max_pages={max_pages} pages",
                method=method,
                url=request.url,
            )
        seen.add(key)
        response = await client.send(request)
        await raise_for_status(response)
        yield response
        following = next_page(response)
        if following is None:
            return
        if isinstance(following, (str, httpx.URL)):
            current_url = response.url.join(following)
            current_params = None
        else:
            current_url = url
            current_params = following


def _extractor(spec: str | Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Turn a dotted key path (``"a.b"``) or a callable into a body -> value function."""
    if callable(spec):
        return spec
    keys = spec.split(".")

    def extract(body: Any) -> Any:
        for key in keys:
            if not isinstance(body, Mapping):
                return None
            body = body.get(key)
        return body

    return extract


def _int_param(params: httpx.QueryParams, name: str) -> int | None:
    value = params.get(name)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def offset_limit(
    *,
    items: str | Callable[[Any], Sized | None],
    total: str | Callable[[Any], int | None] | None = None,
    offset_param: str = "offset",
    limit_param: str = "limit",
) -> NextPage:
    """Strategy for ``?offset=&limit=`` paging (e.g. the FIT-Connect Routing API).

    The next offset is the current one (from the request, default 0) plus the number of
    items on the page.  Paging stops at an empty page, at a page shorter than the requested
    limit, or when the offset reaches the total.

    :param items: key path (``"routes"``) or function giving the page's items from the JSON body.
    :param total: key path (``"totalCount"``) or function giving the total number of items.
    """
    get_items = _extractor(items)
    get_total = _extractor(total) if total is not None else None

    def next_page(response: httpx.Response) -> NextRequest:
        body = response.json()
        page = get_items(body)
        count = len(page) if page is not None else 0
        if count == 0:
            return None
        params = response.request.url.params
        offset = (_int_param(params, offset_param) or 0) + count
        limit = _int_param(params, limit_param)
        if limit is not None and count < limit:
            return None
        if get_total is not None:
            total_count = get_total(body)
            if isinstance(total_count, int) and offset >= total_count:
                return None
        return params.set(offset_param, str(offset))

    return next_page


def next_url(key: str | Callable[[Any], str | None] | None = None) -> NextPage:
    """Strategy following a "next" URL, relative URLs resolved against the current page.

    :param key: key path (``"naechsteAnfrageUrl"``) or function giving the next URL from the
        JSON body; ``None`` follows the ``Link: <…>; rel="next"`` header instead.
    """
    get_url = _extractor(key) if key is not None else None

    def next_page(response: httpx.Response) -> NextRequest:
        if get_url is None:
            target = response.links.get("next", {}).get("url")
        else:
            target = get_url(response.json())
        if not isinstance(target, str) or not target.strip():
            return None
        return target.strip()

    return next_page


def page_number(
    *,
    total_pages: str | Callable[[Any], int | None],
    param: str = "page",
    first: int = 0,
) -> NextPage:
    """Strategy for ``?page=N`` paging with a total page count in the body.

    :param total_pages: key path (``"totalPages"``) or function giving the number of pages.
    :param param: the page query parameter (``"seite"`` for the PVOG Auswertungs-API).
    :param first: number of the first page (0 or 1).
    """
    get_total = _extractor(total_pages)

    def next_page(response: httpx.Response) -> NextRequest:
        params = response.request.url.params
        current = _int_param(params, param)
        current = first if current is None else current
        total_count = get_total(response.json())
        if not isinstance(total_count, int) or current + 1 >= first + total_count:
            return None
        return params.set(param, str(current + 1))

    return next_page


class HttpConnector(Connector):
    """Base class of connectors that own one HTTP client for as long as they are open.

    Subclasses implement :meth:`make_client`, usually one :func:`create_client` call that
    passes ``transport=self.transport`` and ``clock=self.clock``; the client is created on
    ``async with`` entry, closed on exit, and reached as :attr:`client` in between::

        class MyConnector(HttpConnector):
            def make_client(self) -> httpx.AsyncClient:
                return create_client(
                    base_url=self.config.base_url, transport=self.transport, clock=self.clock
                )

    :param transport: replaces the network (tests pass a ``MockTransport`` here).
    :param clock: replaces time and sleeping (tests).
    """

    def __init__(
        self,
        config: Any,
        *,
        name: str,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(config, name=name)
        #: The transport to build the client on (``None``: the network).
        self.transport = transport
        #: The clock to build the client with (``None``: real time).
        self.clock = clock
        self._client: httpx.AsyncClient | None = None

    def make_client(self) -> httpx.AsyncClient:
        """Return the connector's HTTP client; called once each time the connector opens."""
        raise NotImplementedError(f"{type(self).__qualname__} must implement make_client()")

    async def setup(self) -> None:
        """Create the HTTP client (see :meth:`make_client`)."""
        self._client = self.make_client()

    async def teardown(self) -> None:
        """Close the HTTP client."""
        if self._client is not None:
            client, self._client = self._client, None
            await client.aclose()

    @property
    def client(self) -> httpx.AsyncClient:
        """The open HTTP client.

        :raises efa_core.errors.ConnectorError: the connector is not open.
        """
        if self._client is None:
            raise ConnectorError(f"{self.label} is not open; use 'async with connector:'")
        return self._client
