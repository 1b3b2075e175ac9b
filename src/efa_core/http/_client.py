"""create_client: the httpx.AsyncClient with the project's defaults."""

from __future__ import annotations

import functools
import ssl
import urllib.request
from collections.abc import Mapping
from typing import Any

import httpx

from efa_core.http._body import ACCEPT_ENCODING
from efa_core.http._errors import HttpError
from efa_core.http._log import logger, warn_once
from efa_core.http._redact import _install_httpx_log_redaction, redact_url
from efa_core.http._settings import (
    DEFAULT_SETTINGS,
    Clock,
    HttpSettings,
    RedirectPolicy,
    user_agent,
)
from efa_core.http._transport import RetryingTransport


@functools.cache
def _verifying_context() -> ssl.SSLContext:
    """Return the TLS context that verifies certificates, made once per process.

    httpx would load the certificate store again for every client (0.1-0.4 s each, paid by
    every run of every HTTP source); the context is safe to share between clients.  Like
    httpx, it honours ``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` as set when it is first made.
    """
    return httpx.create_ssl_context()


def _proxy_for(base_url: httpx.URL, settings: HttpSettings) -> str | None:
    if settings.proxy is not None:
        return settings.proxy
    if not base_url.host or urllib.request.proxy_bypass(base_url.host):
        return None
    return urllib.request.getproxies_environment().get(base_url.scheme)


def _redirect_allowed(source: httpx.URL, target: httpx.URL) -> bool:
    """Tell whether a redirect stays on the host (any port) and never leaves https."""
    if target.host and target.host.lower() != source.host.lower():
        return False
    return not (source.scheme == "https" and target.scheme == "http")


class _Client(httpx.AsyncClient):
    """An :class:`httpx.AsyncClient` whose every failure is an :class:`HttpError`.

    Transport errors, too many redirects, undecodable bodies and stream misuse become
    :class:`HttpError` with the redacted URL; redirects to another host are refused unless
    the policy is ``"any"``; a followed redirect is logged once with its final URL.
    """

    def __init__(
        self, *, redirects: RedirectPolicy, retrying: RetryingTransport, **kwargs: Any
    ) -> None:
        self._redirects = redirects
        #: The transport below, which keeps the warnings given (see :func:`take_warnings`).
        self.retrying = retrying
        hooks = kwargs.pop("event_hooks", None) or {}
        hooks.setdefault("response", []).insert(0, self._check_redirect)
        super().__init__(follow_redirects=redirects != "never", event_hooks=hooks, **kwargs)

    async def _check_redirect(self, response: httpx.Response) -> None:
        if self._redirects != "same-host" or not response.has_redirect_location:
            return
        request = response.request
        try:
            target = request.url.join(response.headers["Location"])
        except httpx.InvalidURL as exc:
            raise HttpError(
                f"answered {response.status_code} with an invalid Location: {exc}",
                method=request.method,
                url=request.url,
                status=response.status_code,
            ) from None
        if not _redirect_allowed(request.url, target):
            await response.aread()
            raise HttpError(
                f"answered {response.status_code} redirecting to {redact_url(target)}, another "
                "host (or from https to http); not followed. Set the source's "
                'http.follow_redirects = "any" if that host is trusted',
                method=request.method,
                url=request.url,
                status=response.status_code,
            )

    async def send(self, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        """Send *request* as httpx does; failures raise :class:`HttpError`."""
        try:
            response = await super().send(request, **kwargs)
        except HttpError:
            raise
        except (httpx.HTTPError, httpx.StreamError, httpx.InvalidURL) as exc:
            message = str(exc).strip()
            raise HttpError(
                f"{type(exc).__name__}: {message}" if message else type(exc).__name__,
                method=request.method,
                url=request.url,
            ) from exc
        redirects = [r for r in response.history if r.is_redirect]
        if redirects:  # (the history also holds the responses of an auth flow)
            first = redirects[0].request.url
            warn_once(
                response,
                # once per path: the pages of one listing differ only in their query
                f"redirect {first.copy_with(query=None)} {response.url.copy_with(query=None)}",
                "%s %s was redirected to %s; the data is read from there",
                request.method,
                redact_url(first),
                redact_url(response.url),
            )
            logger.debug("redirect chain: %d hop(s)", len(redirects))
        return response


def take_warnings(client: httpx.AsyncClient) -> list[str]:
    """Return the warnings *client* gave since the last call (each only once), and forget them.

    These are the lines a run should keep: a redirect with the final URL the data was read
    from, a body whose content type is not what it holds.  A client not made by
    :func:`create_client` gives none.
    """
    return client.retrying.warnings.take() if isinstance(client, _Client) else []


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
    :param settings: timeouts, retries, rate limit, body limit, redirects, connections,
        User-Agent suffix.
    :param auth: e.g. :class:`OAuth2ClientCredentials`.
    :param transport: replaces the network (e.g. :class:`httpx.MockTransport` in tests); it is
        wrapped in :class:`RetryingTransport` like the default one.
    :param headers: extra default headers (an explicit ``User-Agent`` replaces ours).
    :param clock: time sources for ``Retry-After`` and rate-limit waits (tests).

    Every failure of a request made with the client raises :class:`HttpError` (the URL
    redacted).  The caller owns the client: use it as ``async with create_client(...) as
    client:``.
    """
    _install_httpx_log_redaction()
    url = httpx.URL(base_url)
    if transport is None:
        transport = httpx.AsyncHTTPTransport(
            verify=_verifying_context() if settings.verify else False,
            limits=settings.limits,
            proxy=_proxy_for(url, settings),
        )
    if not isinstance(transport, RetryingTransport):
        transport = RetryingTransport(transport, settings=settings, clock=clock)
    all_headers = {
        "User-Agent": user_agent(settings.user_agent_suffix),
        "Accept-Encoding": ACCEPT_ENCODING,
    }
    all_headers.update(headers or {})
    return _Client(
        redirects=settings.redirect_policy,
        retrying=transport,
        base_url=url,
        auth=auth,
        headers=all_headers,
        timeout=settings.timeout,
        transport=transport,
    )
