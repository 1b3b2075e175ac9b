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
  Spring page of ``DvDataDto`` rows when the request accepts ``application/json`` and names
  no ``filetype``, else every row (no paging) as CSV (``filetype=csv``, the spec's default)
  or as an XLSX workbook (``filetype=xlsx``), both ``application/octet-stream``;
* ``GET /v1/ars?order=&page=&size=``: every area ``{ars, arsName}``.

``page`` and ``size`` are strings in the spec; they are read as Spring's ``Pageable``
resolver reads them: a value that is no 32-bit integer falls back to the default (page 0,
size :data:`DEFAULT_SIZE`), a negative page counts as 0, a size below 1 as the default and
one above ``max_size`` as ``max_size``.  An ``order`` other than ``asc``/``desc`` is a 400;
another method than GET a 405 with ``Allow: GET``.

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
import zipfile
from collections.abc import Mapping, Sequence
from typing import Any
from xml.sax.saxutils import escape

from efa_core.errors import InvalidIdentifier
from efa_core.ids import Land
from efa_core.testing.fakes import FakeApi, RateLimit

__all__ = ["DEFAULT_SIZE", "DashboardApiFake", "significant"]

_JSON = "application/json"
_OCTETS = "application/octet-stream"
_INTEGER = re.compile(r"[+-]?[0-9]+")
_INT32_MAX = 2**31 - 1
#: ``size`` when none (or none usable) is given, as the spec's default says.
DEFAULT_SIZE = 100
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
        match = re.fullmatch(r"/v1/data/([^/]+)", local)
        if local not in ("/v1/ars", "/v1/data") and match is None:
            return 404, _JSON, self.error_body(404, "Not Found", "no such resource", path), {}
        if method != "GET":
            body = self.error_body(405, "Method Not Allowed", f"{method} is not supported", path)
            return 405, _JSON, body, {"Allow": "GET"}
        single = dict(query)
        order = single.get("order", "asc")
        if order not in ("asc", "desc"):
            detail = f"order must be asc or desc, got {order!r}"
            return 400, _JSON, self.error_body(400, "Bad Request", detail, path), {}
        page = _spring_int(single.get("page"), 0)
        size = _spring_int(single.get("size"), DEFAULT_SIZE)
        size = min(size if size >= 1 else DEFAULT_SIZE, self.max_size)
        descending = order == "desc"
        if local == "/v1/ars":
            return 200, _JSON, _spring_page(self.area_list, page, size, descending), {}
        if match is None:
            return 200, _JSON, _spring_page(self.rows, page, size, descending), {}
        ars = match.group(1)
        if not re.fullmatch(r"[0-9]{12}", ars):
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
        if filetype not in (None, "csv", "xlsx"):
            detail = f"filetype must be csv or xlsx, got {filetype!r}"
            return 400, _JSON, self.error_body(400, "Bad Request", detail, path), {}
        table = [[row.get(k) for k in _ROW_FIELDS] for row in _order(rows, descending)]
        if filetype == "xlsx":
            return 200, _OCTETS, _xlsx([list(_ROW_FIELDS), *table]), {}
        out = io.StringIO()
        writer = csv.writer(out, delimiter=";")
        writer.writerow(_ROW_FIELDS)
        writer.writerows(table)
        return 200, _OCTETS, out.getvalue(), {}


def _spring_int(value: str | None, default: int) -> int:
    """Read ``page`` / ``size`` as Spring's ``Pageable`` resolver does.

    A value that is no 32-bit integer falls back to *default*; a negative one counts as 0.
    """
    if value is None or not _INTEGER.fullmatch(value) or abs(int(value)) > _INT32_MAX:
        return default
    return max(int(value), 0)


def _xlsx(table: Sequence[Sequence[Any]]) -> bytes:
    """Return a minimal XLSX workbook of one sheet holding *table* (numbers as numbers)."""

    def cell(column: int, row: int, value: Any) -> str:
        letters = ""
        column += 1
        while column:
            column, rest = divmod(column - 1, 26)
            letters = chr(65 + rest) + letters
        ref = f"{letters}{row}"
        if value is None:
            return ""
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return f'<c r="{ref}"><v>{value}</v></c>'
        return f'<c r="{ref}" t="inlineStr"><is><t>{escape(str(value))}</t></is></c>'

    rows = "".join(
        f'<row r="{n}">' + "".join(cell(c, n, v) for c, v in enumerate(values)) + "</row>"
        for n, values in enumerate(table, start=1)
    )
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    package = "http://schemas.openxmlformats.org/package/2006"
    parts = {
        "[Content_Types].xml": (
            f'<Types xmlns="{package}/content-types">'
            '<Default Extension="rels" ContentType="application/'
            'vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'
        ),
        "_rels/.rels": (
            f'<Relationships xmlns="{package}/relationships"><Relationship Id="rId1" '
            f'Type="{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ),
        "xl/workbook.xml": (
            f'<workbook xmlns="{main}" xmlns:r="{rel}"><sheets>'
            '<sheet name="Daten" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            f'<Relationships xmlns="{package}/relationships"><Relationship Id="rId1" '
            f'Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
        ),
        "xl/worksheets/sheet1.xml": (
            f'<worksheet xmlns="{main}"><sheetData>{rows}</sheetData></worksheet>'
        ),
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, xml in parts.items():
            archive.writestr(name, '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>' + xml)
    return out.getvalue()


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
