"""Client-side rate limiting per host, honouring ``RateLimit-*`` headers."""

from __future__ import annotations

import asyncio
import math
from typing import Final

import httpx

from efa_core.http._errors import HttpError
from efa_core.http._log import logger
from efa_core.http._settings import Clock, HttpSettings

_EPOCH_THRESHOLD: Final = 1_000_000_000  # a RateLimit-Reset this large is a Unix time


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
    """Spaces requests per host and honours ``RateLimit-Remaining: 0`` until the reset.

    The spacing is a generic cell rate algorithm: up to ``rate_limit_burst`` requests go out
    at once, then one every ``1 / rate_limit_per_second`` seconds.
    """

    def __init__(self, settings: HttpSettings, clock: Clock) -> None:
        per_second = settings.rate_limit_per_second
        self._interval = 1.0 / per_second if per_second else 0.0
        self._tolerance = self._interval * (settings.rate_limit_burst - 1)
        self._max_wait = settings.max_retry_after
        self._clock = clock
        #: The theoretical arrival time of the next request per host.
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
            slot = max(self._next_slot.get(key, now), now)
            start = max(now, slot - self._tolerance, self._blocked_until.get(key, now))
            if self._interval:
                self._next_slot[key] = max(slot, start) + self._interval
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
