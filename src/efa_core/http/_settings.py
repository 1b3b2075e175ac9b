"""Settings, time sources and the User-Agent of the HTTP layer."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import (
    Awaitable,
    Callable,
)
from typing import Any, Final, Literal, TypeAlias

import attrs
import httpx

from efa_core import __version__
from efa_core.errors import ConfigError

#: Set this request extension to ``True`` to let a non-idempotent request (POST, PATCH) be
#: retried like a GET, e.g. ``client.post(url, extensions={IDEMPOTENT_EXTENSION: True})``.
IDEMPOTENT_EXTENSION: Final = "efa_core.idempotent"

#: Set this request extension to ``True`` to get the response body unread, as a stream, e.g.
#: ``client.stream("GET", url, extensions={STREAM_EXTENSION: True})`` for a large download.
#: Without it the retrying transport reads every body into memory inside the retried attempt
#: (so a cut-off body is retried); with it, an error while the body is read reaches the
#: caller (from ``aiter_bytes``) and is not retried.
STREAM_EXTENSION: Final = "efa_core.stream"

#: What :attr:`HttpSettings.follow_redirects` accepts: ``"same-host"`` (the default; also
#: ``True``) follows redirects on the requested host only, ``"any"`` follows every redirect,
#: ``"never"`` (also ``False``) follows none (the 3xx answer is the response).
RedirectPolicy: TypeAlias = Literal["same-host", "any", "never"]

#: The default of :attr:`HttpSettings.max_body_bytes`: 64 MiB.
DEFAULT_MAX_BODY_BYTES: Final = 64 * 1024 * 1024


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


def _check_redirects(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value not in (True, False, "same-host", "any", "never"):
        raise ConfigError(
            f"HttpSettings.follow_redirects must be 'same-host', 'any' or 'never' (or true / "
            f"false), got {value!r}"
        )


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
    #: Requests per second per host (``None``: no client-side limit).  The default keeps a
    #: broken server (one that answers the same page forever) from being hammered.
    rate_limit_per_second: float | None = attrs.field(default=10.0, validator=_check_positive)
    #: Requests per host that may go out at once before :attr:`rate_limit_per_second`
    #: spaces them (a burst; small syncs never wait).
    rate_limit_burst: int = attrs.field(default=20, validator=_check_positive)
    #: Largest response body accepted, counted both as received and after decoding
    #: (gzip/deflate); a larger one fails the request with
    #: :class:`~efa_core.http.ResponseTooLarge` naming the URL and this limit.  Streamed
    #: requests (:data:`STREAM_EXTENSION`) are not limited here.
    max_body_bytes: int = attrs.field(default=DEFAULT_MAX_BODY_BYTES, validator=_check_positive)
    #: Connections per client (at most 8).
    max_connections: int = attrs.field(default=8, validator=_check_connections)
    #: Product token(s) appended to ``efa-core/<version>``, e.g. ``"efa-pvog/1.0"``.
    user_agent_suffix: str | None = attrs.field(default=None, validator=_check_suffix)
    #: Verify TLS certificates.
    verify: bool = True
    #: Which redirects to follow (see :data:`RedirectPolicy`); a redirect to another host
    #: fails the request unless this is ``"any"``.  ``Authorization`` is dropped on
    #: cross-origin redirects by httpx.
    follow_redirects: RedirectPolicy | bool = attrs.field(
        default="same-host", validator=_check_redirects
    )
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
    def redirect_policy(self) -> RedirectPolicy:
        """:attr:`follow_redirects` with ``True``/``False`` read as ``"same-host"``/``"never"``."""
        value = self.follow_redirects
        if value is True:
            return "same-host"
        if value is False:
            return "never"
        return value

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
