"""HttpError and raise_for_status."""

from __future__ import annotations

import contextlib
from collections.abc import (
    Mapping,
)
from typing import Final

import httpx

from efa_core.errors import ConnectorError
from efa_core.http._redact import redact_text, redact_url

_EXCERPT_LENGTH: Final = 200


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
        #: The (read) error response, when the error is one (see :meth:`from_response`).
        self.response: httpx.Response | None = None
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
        error = cls(
            message,
            method=request.method,
            url=request.url,
            status=response.status_code,
            detail=_body_excerpt(response),
        )
        error.response = response
        return error


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
            error, message = body.get("error"), body.get("message")
            if isinstance(error, str) and isinstance(message, str) and message.strip():
                return _shorten(f"{error}: {message}")  # Spring Boot's error body
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


class ResponseTooLarge(HttpError):
    """A response body is larger than ``max_body_bytes``, as received or after decoding.

    Not retried.  :attr:`limit` is the limit in bytes.
    """

    def __init__(self, message: str, *, method: str, url: httpx.URL | str, limit: int) -> None:
        self.limit = limit
        super().__init__(message, method=method, url=url)
