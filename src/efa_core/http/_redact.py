"""Redaction of secrets from URLs, headers, free text and httpx's own log lines."""

from __future__ import annotations

import logging
import re
import urllib.parse
import urllib.request
from collections.abc import (
    Mapping,
)
from typing import Final

import httpx

from efa_core.secret import MASK, redact_known

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
    return redact_known(str(parsed))


def redact_text(text: str) -> str:
    """Mask tokens and secrets in free text (response bodies, exception messages).

    Handles the values of every :class:`~efa_core.secret.Secret` (configured secrets and
    tokens obtained; :func:`efa_core.secret.redact_known`), JSON members and form fields
    named like secrets, ``Bearer``/``Basic`` credentials and JWTs.
    """
    text = redact_known(text)
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
