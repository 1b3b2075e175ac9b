"""The HTTP layer shared by every connector that talks to a web API (see ``docs/http.md``).

:func:`create_client` builds an :class:`httpx.AsyncClient` with the project's defaults
(:class:`HttpSettings`); :class:`RetryingTransport` retries and rate-limits below it;
:class:`OAuth2ClientCredentials` authenticates; :func:`paginate` walks paged APIs until a
page proves the end; :func:`json_body` decodes answers;
:class:`HttpError` is every failure, redacted; :class:`HttpConnector` is the base class of
connectors that own a client.
"""

from __future__ import annotations

from efa_core.http._client import create_client, take_warnings
from efa_core.http._connector import HttpConnector
from efa_core.http._errors import HttpError, ResponseTooLarge, raise_for_status
from efa_core.http._json import json_body
from efa_core.http._oauth2 import OAuth2ClientCredentials
from efa_core.http._paginate import (
    NextPage,
    NextRequest,
    Page,
    PagingError,
    Step,
    count_value,
    next_url,
    offset_limit,
    page_number,
    paginate,
)
from efa_core.http._redact import redact_headers, redact_text, redact_url
from efa_core.http._settings import (
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_SETTINGS,
    IDEMPOTENT_EXTENSION,
    STREAM_EXTENSION,
    Clock,
    HttpSettings,
    RedirectPolicy,
    user_agent,
)
from efa_core.http._transport import RetryingTransport

__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "DEFAULT_SETTINGS",
    "IDEMPOTENT_EXTENSION",
    "STREAM_EXTENSION",
    "Clock",
    "HttpConnector",
    "HttpError",
    "HttpSettings",
    "NextPage",
    "NextRequest",
    "OAuth2ClientCredentials",
    "Page",
    "PagingError",
    "RedirectPolicy",
    "ResponseTooLarge",
    "RetryingTransport",
    "Step",
    "count_value",
    "create_client",
    "json_body",
    "next_url",
    "offset_limit",
    "page_number",
    "paginate",
    "raise_for_status",
    "redact_headers",
    "redact_text",
    "redact_url",
    "take_warnings",
    "user_agent",
]
