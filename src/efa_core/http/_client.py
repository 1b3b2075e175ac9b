"""create_client: the httpx.AsyncClient with the project's defaults."""

from __future__ import annotations

import urllib.parse
import urllib.request
from collections.abc import (
    Mapping,
)

import httpx

from efa_core.http._redact import _install_httpx_log_redaction
from efa_core.http._settings import DEFAULT_SETTINGS, Clock, HttpSettings, user_agent
from efa_core.http._transport import RetryingTransport


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
