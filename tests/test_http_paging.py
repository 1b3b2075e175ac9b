"""efa_core.http.paginate: a walk ends only where the pages prove the end (issue 16 §1)."""

from __future__ import annotations

import json
import logging
import urllib.parse
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from efa_core.http import (
    HttpError,
    HttpSettings,
    Page,
    PagingError,
    Step,
    count_value,
    create_client,
    next_url,
    offset_limit,
    page_number,
    paginate,
)
from efa_core.testing.servers import serve_asgi

pytestmark = pytest.mark.anyio

FAST = HttpSettings(attempts=2, initial_backoff=0, max_backoff=0, rate_limit_per_second=None)
ITEMS = [{"id": f"item-{i}"} for i in range(7)]


class PagedServer:
    """A local server paging :data:`ITEMS` by offset (``/offset``) or page number (``/page``).

    *total* shapes the total field: ``"int"``, ``"str"`` (``"7"``), ``"missing"``;
    *ignore_paging* answers the first page whatever is asked; *oversize* answers every item
    whatever the limit; *last* adds Spring's ``last`` flag (``"bool"``) or leaves it out.
    """

    def __init__(
        self,
        *,
        total: str = "int",
        ignore_paging: bool = False,
        oversize: bool = False,
        last: str | None = None,
    ) -> None:
        self.total = total
        self.ignore_paging = ignore_paging
        self.oversize = oversize
        self.last = last
        self.requests: list[dict[str, str]] = []

    def _total(self, value: int) -> dict[str, Any]:
        if self.total == "int":
            return {"value": value}
        if self.total == "str":
            return {"value": str(value)}
        return {}

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        query = dict(urllib.parse.parse_qsl(scope["query_string"].decode()))
        self.requests.append(query)
        if scope["path"] == "/offset":
            offset, limit = int(query.get("offset", 0)), int(query.get("limit", 3))
            if self.ignore_paging:
                offset = 0
            chunk = ITEMS[offset:] if self.oversize else ITEMS[offset : offset + limit]
            body: dict[str, Any] = {"offset": offset, "routes": chunk}
            total = self._total(len(ITEMS))
            if total:
                body["totalCount"] = total["value"]
        else:
            page, size = int(query.get("page", 0)), int(query.get("size", 3))
            if self.ignore_paging:
                page = 0
            chunk = (
                ITEMS[page * size :] if self.oversize else ITEMS[page * size : (page + 1) * size]
            )
            pages = -(-len(ITEMS) // size)
            body = {"content": chunk, "number": page}
            total = self._total(pages)
            if total:
                body["totalPages"] = total["value"]
            if self.last == "bool":
                body["last"] = page >= pages - 1
        payload = json.dumps(body).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": payload})


@pytest.fixture
def serve() -> Iterator[Callable[[PagedServer], str]]:
    import contextlib

    with contextlib.ExitStack() as stack:

        def start(app: PagedServer) -> str:
            return stack.enter_context(serve_asgi(app))

        yield start


async def walk(
    base_url: str,
    path: str,
    params: dict[str, Any],
    strategy: Any,
    pages: list[Page] | None = None,
) -> list[Page]:
    """Collect the pages of a walk (into *pages*, if given, so a failing walk shows them)."""
    pages = [] if pages is None else pages
    async with create_client(base_url=base_url, settings=FAST) as client:
        async for page in paginate(client, path, params, next_page=strategy):
            pages.append(page)
    return pages


def ids(pages: list[Page]) -> list[str]:
    return [item["id"] for page in pages for item in page.items]


OFFSET = offset_limit(items="routes", total="totalCount")
SPRING = page_number(items="content", total_pages="totalPages", last="last", size_param="size")


# -- totals ---------------------------------------------------------------------------------


@pytest.mark.parametrize("total", ["int", "str"])
async def test_offset_paging_reads_every_page_with_numeric_or_string_totals(
    serve: Callable[[PagedServer], str], total: str
) -> None:
    server = PagedServer(total=total)
    pages = await walk(serve(server), "/offset", {"limit": 3}, OFFSET)
    assert ids(pages) == [i["id"] for i in ITEMS]
    assert [p.last for p in pages] == [False, False, True]
    assert [r.get("offset", "0") for r in server.requests] == ["0", "3", "6"]


async def test_offset_paging_without_a_total_fails_after_the_first_page(
    serve: Callable[[PagedServer], str],
) -> None:
    base_url = serve(PagedServer(total="missing"))
    seen: list[Page] = []
    with pytest.raises(PagingError, match=r"totalCount is None, not a count.*cannot be proven"):
        await walk(base_url, "/offset", {"limit": 3}, OFFSET, seen)
    assert seen == []  # the unprovable page is not handed out as if it were the last


async def test_offset_paging_with_empty_page_as_end_needs_no_total(
    serve: Callable[[PagedServer], str],
) -> None:
    server = PagedServer(total="missing")
    strategy = offset_limit(items="routes", empty_is_end=True)
    pages = await walk(serve(server), "/offset", {"limit": 3}, strategy)
    assert ids(pages) == [i["id"] for i in ITEMS]
    assert [len(p.items) for p in pages] == [3, 3, 1, 0]
    assert pages[-1].last


@pytest.mark.parametrize("total", ["int", "str"])
async def test_spring_paging_with_page_counts_as_int_or_string(
    serve: Callable[[PagedServer], str], total: str
) -> None:
    pages = await walk(serve(PagedServer(total=total)), "/page", {"size": 3}, SPRING)
    assert ids(pages) == [i["id"] for i in ITEMS]
    assert [p.body["number"] for p in pages] == [0, 1, 2]


async def test_spring_last_flag_decides_without_a_page_count(
    serve: Callable[[PagedServer], str],
) -> None:
    server = PagedServer(total="missing", last="bool")
    pages = await walk(serve(server), "/page", {"size": 3}, SPRING)
    assert ids(pages) == [i["id"] for i in ITEMS]


async def test_spring_last_false_goes_on_even_if_the_page_count_says_done() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        body = {"content": [page], "totalPages": 1, "last": page == 2}
        return httpx.Response(200, json=body)

    transport = httpx.MockTransport(handler)
    async with create_client(
        base_url="https://x.invalid", settings=FAST, transport=transport
    ) as client:
        pages = [p async for p in paginate(client, "/", {"page": 0}, next_page=SPRING)]
    assert [p.items for p in pages] == [[0], [1], [2]]


async def test_spring_paging_without_last_or_count_fails(
    serve: Callable[[PagedServer], str],
) -> None:
    with pytest.raises(PagingError, match=r"neither a 'last' flag nor a page count"):
        await walk(serve(PagedServer(total="missing")), "/page", {"size": 3}, SPRING)


def test_count_value_accepts_ints_and_digit_strings_only() -> None:
    assert [count_value(v) for v in (5, "5", " 12 ", 0)] == [5, 5, 12, 0]
    assert [count_value(v) for v in (None, True, -1, 5.0, "5 items", "٥", "")] == [None] * 7


# -- loops and oversized pages --------------------------------------------------------------


@pytest.mark.parametrize(("path", "params"), [("/offset", {"limit": 3}), ("/page", {"size": 3})])
async def test_a_server_ignoring_the_paging_parameters_is_a_loop_at_the_first_repeat(
    serve: Callable[[PagedServer], str], path: str, params: dict[str, Any]
) -> None:
    server = PagedServer(ignore_paging=True)
    seen: list[Page] = []
    strategy = OFFSET if path == "/offset" else SPRING
    with pytest.raises(PagingError, match=r"loop: page 1 repeats the items of page 0"):
        await walk(serve(server), path, params, strategy, seen)
    assert len(seen) == 1
    assert len(server.requests) == 2


async def test_an_oversized_offset_page_is_cut_to_the_limit_and_the_rest_fetched(
    serve: Callable[[PagedServer], str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="efa_core.http")
    server = PagedServer(oversize=True)
    pages = await walk(serve(server), "/offset", {"limit": 3}, OFFSET)
    # Every answer holds all items from the offset on; each is cut to 3, the offset advances.
    assert [len(p.items) for p in pages] == [3, 3, 1]
    assert ids(pages) == [i["id"] for i in ITEMS]
    lines = [r.getMessage() for r in caplog.records if "more than limit" in r.getMessage()]
    assert len(lines) == 1  # once per walk, not per page
    assert "answered 7 items at offset=0, more than limit=3; kept the first 3" in lines[0]


async def test_an_oversized_spring_page_is_refused(serve: Callable[[PagedServer], str]) -> None:
    with pytest.raises(PagingError, match=r"page 0 holds 7 items, more than the requested size=3"):
        await walk(serve(PagedServer(oversize=True)), "/page", {"size": 3}, SPRING)


async def test_a_repeated_request_and_max_pages_stop_the_walk() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"n": str(request.url)})

    transport = httpx.MockTransport(handler)
    async with create_client(
        base_url="https://x.invalid", settings=FAST, transport=transport
    ) as client:
        with pytest.raises(PagingError, match="does not advance"):
            async for _ in paginate(client, "/", next_page=lambda r, b: Step([], {"a": 1})):
                pass
        counter = iter(range(100))

        def endless(response: httpx.Response, body: Any) -> Step:
            return Step([next(counter)], {"p": next(counter)})

        with pytest.raises(PagingError, match="max_pages=3"):
            async for _ in paginate(client, "/", next_page=endless, max_pages=3):
                pass


async def test_error_pages_and_non_json_pages_raise_http_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/broken":
            return httpx.Response(404, json={"detail": "no such thing"})
        return httpx.Response(
            200, text="<html>maintenance</html>", headers={"Content-Type": "text/html"}
        )

    transport = httpx.MockTransport(handler)
    async with create_client(
        base_url="https://x.invalid", settings=FAST, transport=transport
    ) as client:
        with pytest.raises(HttpError, match=r"GET https://x.invalid/broken: failed with 404"):
            async for _ in paginate(client, "/broken", next_page=OFFSET):
                pass
        with pytest.raises(
            HttpError, match=r"answered 200 with text/html \(24 bytes\) that is not JSON"
        ):
            async for _ in paginate(client, "/html", next_page=OFFSET):
                pass


# -- next URLs --------------------------------------------------------------------------------


async def test_next_url_from_the_body_with_a_done_flag() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        index = int(request.url.params.get("index", "0"))
        done = index >= 4
        body = {"items": [index, index + 1], "complete": done}
        if not done:
            body["next"] = f"feed?index={index + 2}"
        return httpx.Response(200, json=body)

    transport = httpx.MockTransport(handler)
    strategy = next_url("next", items="items", done="complete")
    async with create_client(
        base_url="https://x.invalid/api/", settings=FAST, transport=transport
    ) as client:
        pages = [p async for p in paginate(client, "feed", next_page=strategy)]
    assert [p.items for p in pages] == [[0, 1], [2, 3], [4, 5]]
    assert str(pages[-1].response.url) == "https://x.invalid/api/feed?index=4"


async def test_next_url_with_done_false_but_no_next_url_fails() -> None:
    transport = httpx.MockTransport(lambda r: httpx.Response(200, json={"complete": False}))
    strategy = next_url("next", done="complete")
    async with create_client(
        base_url="https://x.invalid", settings=FAST, transport=transport
    ) as client:
        with pytest.raises(PagingError, match="'complete' is false but the page gives no next URL"):
            async for _ in paginate(client, "/", next_page=strategy):
                pass


async def test_next_url_from_the_link_header() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        n = int(request.url.params.get("p", "1"))
        headers = {"Link": f'</items?p={n + 1}>; rel="next"'} if n < 3 else {}
        return httpx.Response(200, json=[n], headers=headers)

    transport = httpx.MockTransport(handler)
    async with create_client(
        base_url="https://x.invalid/api", settings=FAST, transport=transport
    ) as client:
        pages = [p async for p in paginate(client, "/items", next_page=next_url())]
    assert [p.body for p in pages] == [[1], [2], [3]]
    assert str(pages[-1].response.url) == "https://x.invalid/items?p=3"
