"""OAuth2 client credentials (RFC 6749 §4.4) for an httpx.AsyncClient."""

from __future__ import annotations

import asyncio
import base64
import math
import urllib.parse
import urllib.request
from collections.abc import (
    AsyncGenerator,
    Generator,
    Mapping,
    Sequence,
)
from typing import Any, Literal

import attrs
import httpx

from efa_core.errors import ConfigError
from efa_core.http._errors import HttpError
from efa_core.http._log import logger
from efa_core.http._redact import redact_url
from efa_core.http._settings import _DEFAULT_CLOCK, IDEMPOTENT_EXTENSION, Clock
from efa_core.secret import Secret


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
