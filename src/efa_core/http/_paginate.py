"""Walking paged JSON APIs so that a walk ends only where the pages *prove* the end.

:func:`paginate` sends one request per page and asks a strategy (:data:`NextPage`) what
the page holds (:class:`Step`: its items, and the next request or ``None`` for "this was
the last page").  A strategy that cannot tell either (no total, no ``last`` flag, a page
larger than requested) raises :class:`ValueError`, which ends the walk with
:class:`PagingError`: a snapshot that cannot prove it is whole must fail, not complete.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncGenerator, Callable, Mapping, Sequence
from typing import Any, TypeAlias

import attrs
import httpx
import orjson

from efa_core.http._errors import HttpError, raise_for_status
from efa_core.http._json import json_body
from efa_core.http._log import warn_once

#: Where the next page is: query parameters for the walk's URL, a URL to follow (absolute or
#: relative to the current page), or ``None`` when the current page is the last.
NextRequest: TypeAlias = Mapping[str, Any] | httpx.URL | str | None


@attrs.frozen
class Step:
    """What a strategy read from one page."""

    #: The page's items (possibly cut to the requested size).
    items: Sequence[Any]
    #: The next request, or ``None``: the page proves it is the last.
    next: NextRequest


#: A pagination strategy: ``(response, decoded JSON body) -> Step``; raises
#: :class:`ValueError` when the page neither proves the end nor says how to go on.
NextPage: TypeAlias = Callable[[httpx.Response, Any], Step]


class PagingError(HttpError):
    """Paging cannot go on and cannot prove it reached the end, or it runs in a loop."""


@attrs.frozen
class Page:
    """One page of a walk, as :func:`paginate` yields it."""

    #: The (read) response.
    response: httpx.Response
    #: The decoded JSON body.
    body: Any
    #: The page's items (see :attr:`Step.items`).
    items: Sequence[Any]
    #: The page's number in this walk, from 0.
    number: int
    #: The request of the next page, ``None`` after the last page.
    next: NextRequest

    @property
    def last(self) -> bool:
        """Whether the page proved it is the last."""
        return self.next is None


def _digest(items: Sequence[Any]) -> bytes:
    try:
        data = orjson.dumps(list(items), option=orjson.OPT_SORT_KEYS)
    except TypeError:
        data = repr(items).encode()
    return hashlib.blake2b(data, digest_size=16).digest()


async def paginate(
    client: httpx.AsyncClient,
    url: httpx.URL | str,
    params: Mapping[str, Any] | None = None,
    *,
    next_page: NextPage,
    method: str = "GET",
    headers: Mapping[str, str] | None = None,
    max_pages: int | None = None,
) -> AsyncGenerator[Page, None]:
    """Yield the pages of a paged JSON API until one proves it is the last.

    Every page is checked with :func:`raise_for_status` and decoded with
    :func:`json_body`; *next_page* (see :func:`offset_limit`, :func:`page_number`,
    :func:`next_url`) reads it.  The walk fails with :class:`PagingError` when

    * the strategy cannot prove the end nor go on (it raised :class:`ValueError`);
    * a request repeats one already sent, or a non-empty page repeats the items of an
      earlier page (a server that ignores the paging parameters): detected at the first
      repeat;
    * more than *max_pages* pages would be fetched.

    Only the current page is held, so memory is bounded by one page (and the body by
    ``max_body_bytes``).
    """
    current_url: httpx.URL | str = url
    current_params: Mapping[str, Any] | None = params
    sent: set[str] = set()
    pages: dict[bytes, int] = {}
    number = 0
    while True:
        request = client.build_request(method, current_url, params=current_params, headers=headers)
        if str(request.url) in sent:
            raise PagingError(
                "paging does not advance: the next page is one already fetched",
                method=method,
                url=request.url,
            )
        if max_pages is not None and number >= max_pages:
            raise PagingError(
                f"paging stopped after max_pages={max_pages} pages without reaching the end",
                method=method,
                url=request.url,
            )
        sent.add(str(request.url))
        response = await client.send(request)
        await raise_for_status(response)
        body = json_body(response)
        try:
            step = next_page(response, body)
        except ValueError as exc:
            raise PagingError(
                f"page {number} cannot be used: {exc}", method=method, url=response.request.url
            ) from None
        if step.items:
            digest = _digest(step.items)
            earlier = pages.get(digest)
            if earlier is not None:
                raise PagingError(
                    f"paging runs in a loop: page {number} repeats the items of page {earlier} "
                    "(does the server ignore the paging parameters?)",
                    method=method,
                    url=response.request.url,
                )
            pages[digest] = number
        yield Page(response=response, body=body, items=step.items, number=number, next=step.next)
        if step.next is None:
            return
        number += 1
        if isinstance(step.next, (str, httpx.URL)):
            current_url = response.url.join(step.next)
            current_params = None
        else:
            current_url = url
            current_params = step.next


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


def _name(spec: str | Callable[[Any], Any] | None) -> str:
    return spec if isinstance(spec, str) else "the total"


def _int_param(params: httpx.QueryParams, name: str | None) -> int | None:
    value = params.get(name) if name else None
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def count_value(value: object) -> int | None:
    """Read a count sent by an API: an int, or a string of ASCII digits (``"5"``).

    Returns ``None`` for anything else (missing, negative, a float, a bool, ``"5 items"``).
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, str):
        text = value.strip()
        if text.isascii() and text.isdigit():
            return int(text)
    return None


def _flag(value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def _items(get_items: Callable[[Any], Any], body: Any, spec: object) -> list[Any]:
    page = get_items(body)
    if not isinstance(page, list):
        where = spec if isinstance(spec, str) else "items"
        raise ValueError(f"the body has no {where!r} list")
    return page


def offset_limit(
    *,
    items: str | Callable[[Any], Any],
    total: str | Callable[[Any], Any] | None = None,
    offset_param: str = "offset",
    limit_param: str = "limit",
    empty_is_end: bool = False,
) -> NextPage:
    """Strategy for ``?offset=&limit=`` paging (e.g. the FIT-Connect Routing API).

    The next offset is the current one (from the request, default 0) plus the number of
    items on the page.  The end is proven when the offset reaches the *total* (an int or a
    numeric string), or, with *empty_is_end*, by an empty page.  A page with more items than
    the request's limit is cut to the limit (with a warning), so the next request asks for
    the rest.

    :param items: key path (``"routes"``) or function giving the page's items from the body.
    :param total: key path (``"totalCount"``) or function giving the total number of items.
    :param empty_is_end: the API defines an empty page as the end (no total needed).
    """
    get_items = _extractor(items)
    get_total = _extractor(total) if total is not None else None

    def next_page(response: httpx.Response, body: Any) -> Step:
        request = response.request
        page = _items(get_items, body, items)
        params = request.url.params
        offset = _int_param(params, offset_param) or 0
        limit = _int_param(params, limit_param)
        if limit is not None and len(page) > limit:
            warn_once(  # once per path and client: it reaches the run (take_warnings)
                response,
                f"oversized {request.url.copy_with(query=None)}",
                "%s answered %d items at %s=%d, more than %s=%d; kept the first %d (the rest "
                "is asked for next)",
                request.url.host,
                len(page),
                offset_param,
                offset,
                limit_param,
                limit,
                limit,
            )
            page = page[:limit]
        following = params.set(offset_param, str(offset + len(page)))
        raw_total = get_total(body) if get_total is not None else None
        total_count = count_value(raw_total)
        if total_count is not None:
            if offset + len(page) >= total_count:
                return Step(page, None)
            if not page:
                raise ValueError(
                    f"the page at {offset_param}={offset} is empty, but {_name(total)} is "
                    f"{total_count}"
                )
            return Step(page, following)
        if empty_is_end:
            return Step(page, None if not page else following)
        raise ValueError(
            f"{_name(total)} is {raw_total!r}, not a count, so the end cannot be proven"
        )

    return next_page


def page_number(
    *,
    items: str | Callable[[Any], Any],
    total_pages: str | Callable[[Any], Any] | None = None,
    last: str | Callable[[Any], Any] | None = None,
    param: str = "page",
    size_param: str | None = None,
    first: int = 0,
    empty_is_end: bool = False,
) -> NextPage:
    """Strategy for ``?page=N`` paging (e.g. Spring pages of the OZG-Dashboard API).

    The end is proven by *last* (``true``, also as a string), else by *total_pages* (an int
    or a numeric string), else, with *empty_is_end*, by an empty page.  ``last: false``
    always goes on.  A page with more items than the request's *size_param* is refused:
    cutting it would lose the rest, as the next page starts after a full page.

    :param items: key path (``"content"``) or function giving the page's items.
    :param total_pages: key path (``"totalPages"``) or function giving the number of pages.
    :param last: key path (``"last"``) or function giving the "last page" flag.
    :param param: the page query parameter (``"seite"`` for the PVOG Auswertungs-API).
    :param size_param: the page-size query parameter (``"size"``), to refuse oversized pages.
    :param first: number of the first page (0 or 1).
    :param empty_is_end: the API defines an empty page as the end.
    """
    get_items = _extractor(items)
    get_pages = _extractor(total_pages) if total_pages is not None else None
    get_last = _extractor(last) if last is not None else None

    def next_page(response: httpx.Response, body: Any) -> Step:
        request = response.request
        page = _items(get_items, body, items)
        params = request.url.params
        current = _int_param(params, param)
        current = first if current is None else current
        size = _int_param(params, size_param)
        if size is not None and len(page) > size:
            raise ValueError(
                f"page {current} holds {len(page)} items, more than the requested "
                f"{size_param}={size}; refused, as cutting it would lose items"
            )
        following = params.set(param, str(current + 1))
        flag = _flag(get_last(body)) if get_last is not None else None
        if flag is True:
            return Step(page, None)
        if flag is False:
            if not page:
                raise ValueError(f"page {current} is empty but says it is not the last")
            return Step(page, following)
        count = count_value(get_pages(body)) if get_pages is not None else None
        if count is not None:
            if current + 1 >= first + count:
                return Step(page, None)
            if not page:
                raise ValueError(f"page {current} is empty, but there are {count} pages")
            return Step(page, following)
        if empty_is_end:
            return Step(page, None if not page else following)
        raise ValueError(
            f"page {current} gives neither a 'last' flag nor a page count, so the end "
            "cannot be proven"
        )

    return next_page


def next_url(
    key: str | Callable[[Any], Any] | None = None,
    *,
    items: str | Callable[[Any], Any] | None = None,
    done: str | Callable[[Any], Any] | None = None,
) -> NextPage:
    """Strategy following a "next" URL, relative URLs resolved against the current page.

    Without *done*, a page without a next URL is the last (the API defines it so).  With
    *done* (a flag such as ``"vollstaendig"``), the flag proves the end and a page that is
    not done must give a next URL.

    :param key: key path (``"naechsteAnfrageUrl"``) or function giving the next URL from the
        body; ``None`` follows the ``Link: <…>; rel="next"`` header instead (then the body
        need not be a mapping).
    :param items: key path or function giving the page's items (for loop detection).
    :param done: key path or function giving the "no more pages" flag.
    """
    get_url = _extractor(key) if key is not None else None
    get_items = _extractor(items) if items is not None else None
    get_done = _extractor(done) if done is not None else None

    def next_page(response: httpx.Response, body: Any) -> Step:
        page = _items(get_items, body, items) if get_items is not None else []
        link = response.links.get("next", {}).get("url")
        target = link if get_url is None else get_url(body)
        target = target.strip() if isinstance(target, str) and target.strip() else None
        if get_done is not None:
            flag = _flag(get_done(body))
            if flag is True:
                return Step(page, None)
            if flag is None:
                raise ValueError(f"the flag {_name(done)!r} is missing or not true/false")
            if target is None:
                raise ValueError(f"{_name(done)!r} is false but the page gives no next URL")
        return Step(page, target)

    return next_page
