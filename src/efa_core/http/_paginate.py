"""paginate and its strategies for paged APIs."""

from __future__ import annotations

from collections.abc import (
    AsyncIterator,
    Callable,
    Mapping,
    Sized,
)
from typing import Any, TypeAlias

import httpx

from efa_core.http._errors import HttpError, raise_for_status

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
