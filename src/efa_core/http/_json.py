"""Decoding JSON answers: one clear error when it is not JSON, a warning when mislabelled."""

from __future__ import annotations

from typing import Any

import httpx
import orjson

from efa_core.http._errors import HttpError, _shorten
from efa_core.http._log import warn_once
from efa_core.http._redact import redact_url


def _is_json_type(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media in ("application/json", "text/json") or media.endswith("+json")


def json_body(response: httpx.Response) -> Any:
    """Return the decoded JSON body of a read *response*.

    A body that is JSON but labelled otherwise (``Content-Type: text/html``, as misconfigured
    servers send it) is accepted with a warning, once per client.  A UTF-8 byte order mark
    is skipped.

    :raises HttpError: the body is not JSON (naming the URL, the content type and the size).
    """
    content = response.content
    if content.startswith(b"\xef\xbb\xbf"):
        content = content[3:]
    content_type = response.headers.get("Content-Type", "")
    request = response.request
    try:
        body = orjson.loads(content)
    except orjson.JSONDecodeError as exc:
        try:
            excerpt = _shorten(content[:400].decode("utf-8", errors="replace"))
        except LookupError:  # pragma: no cover
            excerpt = None
        raise HttpError(
            f"answered {response.status_code} with {content_type or 'no content type'} "
            f"({len(content)} bytes) that is not JSON: {exc}",
            method=request.method,
            url=request.url,
            status=response.status_code,
            detail=excerpt,
        ) from None
    if not _is_json_type(content_type):
        warn_once(
            response,
            f"content-type {response.url.host} {content_type}",
            "%s sends JSON labelled %r (e.g. %s); accepted, but the server is misconfigured",
            response.url.host,
            content_type or "without a content type",
            redact_url(response.url),
        )
    return body
