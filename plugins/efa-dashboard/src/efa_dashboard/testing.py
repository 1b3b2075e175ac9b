"""A fake OZG-Dashboard API for tests: a plain ASGI app, no extra dependencies.

It serves the operations of ``ozg-dashboard-digitale-verwaltung-api.openapi.yaml`` over
rows the test adds, with Spring-style pages (``page`` 0-based, ``size``; the body has
``content``, ``totalPages``, ``totalElements``, ``number``, ``first``, ``last``, ...)::

    from efa_dashboard.testing import DashboardApiFake

    fake = DashboardApiFake()
    fake.add_area("160550000000", "Weimar")
    fake.add_row("99041006017000", "160550000000", url="https://weimar.example/hund")

* ``GET /v1/data?order=&page=&size=``: every row;
* ``GET /v1/data/{ars}?includeAbove=&includeBelow=&page=&size=&filetype=``: the rows of
  the 12-digit zero-filled ARS, plus those of the areas below / above it (both default to
  ``true`` as in the spec).  The spec gives this answer no schema; the fake answers a
  Spring page of ``DvDataDto`` rows when the request accepts ``application/json``, else
  CSV (``filetype=csv``, the spec's default) as ``application/octet-stream``;
* ``GET /v1/ars?order=&page=&size=``: every area ``{ars, arsName}``.

Rows and areas are kept in insertion order (``order=desc`` reverses them).  Containment
("below") compares the zero-filled values with their trailing zero groups removed, so
``160000000000`` contains ``160550000000``.

Faults, rate limits (429 with ``Retry-After``; not documented by the spec) and the record
of exchanges work as in :class:`efa_core.testing.fakes.FakeApi`; error bodies are
Spring Boot's ``{timestamp, status, error, path}`` as ``application/json``.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from efa_core.errors import InvalidIdentifier
from efa_core.ids import Land
from efa_core.testing.fakes import FakeApi, RateLimit

__all__ = ["DashboardApiFake", "significant"]

_JSON = "application/json"
_ROW_FIELDS = (
    "leika_key",
    "leika_name",
    "ars",
    "ars_name",
    "ars_federal_state",
    "bundesland",
    "leika_bezeichnung",
    "ozgid",
    "ozg_bezeichnung",
    "url",
    "online_status",
    "aktiv",
    "art_flaechendeckung",
)


def _land_name(code: str) -> str | None:
    try:
        return Land.parse(code).name_de
    except InvalidIdentifier:
        return None


def significant(padded: str) -> str:
    """Strip the zero-filled groups of a 12-digit ARS (``160550000000`` -> ``16055``)."""
    for length in (2, 3, 5, 9):
        if not padded[length:].strip("0"):
            return padded[:length]
    return padded


class DashboardApiFake(FakeApi):
    """The fake OZG-Dashboard API; see the module docs.

    :param max_size: cap on ``size`` (pages are never larger).
    """

    error_content_type = _JSON

    def __init__(self, *, max_size: int = 2000, rate_limit: RateLimit | None = None) -> None:
        super().__init__(rate_limit=rate_limit)
        self.max_size = max_size
        #: ``DvDataDto`` rows, in the order added.
        self.rows: list[dict[str, Any]] = []
        #: ``ArsDto`` areas, in the order added.
        self.area_list: list[dict[str, Any]] = []

    def add_area(self, ars: str, name: str) -> dict[str, Any]:
        """Add an area ``{ars, arsName}`` (12-digit ARS) for ``GET /v1/ars``."""
        area = {"ars": ars, "arsName": name}
        self.area_list.append(area)
        return area

    def add_row(
        self,
        leika_key: str,
        ars: str,
        *,
        url: str = "https://dienst.example/antrag",
        online_status: str = "ok",
        aktiv: str | None = "ja",
        art_flaechendeckung: str = "in mind. einer Kommune verfügbar",
        ars_name: str | None = None,
        leika_name: str = "Leistung",
        leika_bezeichnung: str | None = None,
        ozgid: int | None = 10000,
        **fields: Any,
    ) -> dict[str, Any]:
        """Add a ``DvDataDto`` row (12-digit ARS); *fields* override or add properties."""
        land = ars[:2]
        row: dict[str, Any] = {
            "leika_key": leika_key,
            "leika_name": leika_name,
            "ars": ars,
            "ars_name": ars_name,
            "ars_federal_state": land,
            "bundesland": _land_name(land),
            "leika_bezeichnung": leika_bezeichnung,
            "ozgid": ozgid,
            "ozg_bezeichnung": None,
            "url": url,
            "online_status": online_status,
            "aktiv": aktiv,
            "art_flaechendeckung": art_flaechendeckung,
        }
        row.update(fields)
        self.rows.append(row)
        return row

    def error_body(self, status: int, title: str, detail: str, path: str) -> Any:
        """Spring Boot's error body."""
        return {
            "timestamp": "2026-01-01T00:00:00.000+00:00",
            "status": status,
            "error": title,
            "message": detail,
            "path": path,
        }

    def handle(
        self, method: str, path: str, query: list[tuple[str, str]], headers: Mapping[str, str]
    ) -> tuple[int, str, Any, Mapping[str, str]]:
        """Answer ``/v1/data``, ``/v1/data/{ars}`` and ``/v1/ars`` (also under ``/api``)."""
        local = path[4:] if path.startswith("/api/") else path
        single = dict(query)
        paging = self._paging(single, path)
        if isinstance(paging, tuple) and len(paging) == 4:
            return paging
        page, size, descending = paging
        if method != "GET":
            return 405, _JSON, self.error_body(405, "Method Not Allowed", method, path), {}
        if local == "/v1/ars":
            return 200, _JSON, _spring_page(self.area_list, page, size, descending), {}
        if local == "/v1/data":
            return 200, _JSON, _spring_page(self.rows, page, size, descending), {}
        match = re.fullmatch(r"/v1/data/([^/]+)", local)
        if match is None:
            return 404, _JSON, self.error_body(404, "Not Found", "no such resource", path), {}
        ars = match.group(1)
        if not re.fullmatch(r"\d{12}", ars):
            detail = f"ars must have 12 digits (zero-filled), got {ars!r}"
            return 400, _JSON, self.error_body(400, "Bad Request", detail, path), {}
        flags = {}
        for name in ("includeAbove", "includeBelow"):
            value = single.get(name, "true")
            if value not in ("true", "false"):
                detail = f"{name} must be true or false, got {value!r}"
                return 400, _JSON, self.error_body(400, "Bad Request", detail, path), {}
            flags[name] = value == "true"
        target = significant(ars)
        rows = []
        for row in self.rows:
            other = significant(str(row["ars"]))
            if (
                other == target
                or (flags["includeBelow"] and other.startswith(target))
                or (flags["includeAbove"] and target.startswith(other))
            ):
                rows.append(row)
        filetype = single.get("filetype")
        if filetype is None and "application/json" in headers.get("accept", ""):
            return 200, _JSON, _spring_page(rows, page, size, descending), {}
        if filetype not in (None, "csv"):
            detail = f"filetype {filetype!r} is not served by the fake (only csv and JSON)"
            return 400, _JSON, self.error_body(400, "Bad Request", detail, path), {}
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=list(_ROW_FIELDS), delimiter=";")
        writer.writeheader()
        for row in _order(rows, descending):
            writer.writerow({k: row.get(k) for k in _ROW_FIELDS})
        return 200, "application/octet-stream", out.getvalue(), {}

    def _paging(
        self, query: Mapping[str, str], path: str
    ) -> tuple[int, int, bool] | tuple[int, str, Any, Mapping[str, str]]:
        try:
            page = int(query.get("page", "0"))
            size = int(query.get("size", "100"))
        except ValueError:
            detail = "page and size must be integers"
            return 400, _JSON, self.error_body(400, "Bad Request", detail, path), {}
        order = query.get("order", "asc")
        if page < 0 or size < 1 or order not in ("asc", "desc"):
            detail = f"invalid paging page={page} size={size} order={order!r}"
            return 400, _JSON, self.error_body(400, "Bad Request", detail, path), {}
        return page, min(size, self.max_size), order == "desc"


def _order(items: Sequence[dict[str, Any]], descending: bool) -> list[dict[str, Any]]:
    return list(reversed(items)) if descending else list(items)


def _spring_page(
    items: Sequence[dict[str, Any]], page: int, size: int, descending: bool
) -> dict[str, Any]:
    ordered = _order(items, descending)
    content = ordered[page * size : (page + 1) * size]
    total_pages = math.ceil(len(ordered) / size) if ordered else 0
    sort = {"unsorted": False, "sorted": True, "empty": False}
    return {
        "totalPages": total_pages,
        "totalElements": len(ordered),
        "pageable": {
            "paged": True,
            "unpaged": False,
            "pageNumber": page,
            "pageSize": size,
            "offset": page * size,
            "sort": sort,
        },
        "numberOfElements": len(content),
        "size": size,
        "content": content,
        "number": page,
        "sort": sort,
        "first": page == 0,
        "last": page >= total_pages - 1,
        "empty": not content,
    }
