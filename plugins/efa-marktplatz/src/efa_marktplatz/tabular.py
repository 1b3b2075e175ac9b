"""Reading CSV and XLSX exports into rows of cells, with the header row found and mapped.

* **Format**: XLSX is recognised by its content (a ZIP archive), everything else is read
  as CSV text.  Old binary ``.xls`` files are refused with a hint to save them as XLSX.
* **Encoding** (CSV): strict UTF-8 (with or without byte order mark) first, then cp1252
  (Windows "ANSI", what Excel writes as "CSV (Trennzeichen-getrennt)"); or the configured
  ``encoding``.
* **Delimiter** (CSV): :class:`csv.Sniffer` on the header line, choosing among ``;``,
  ``,`` and tab; or the configured ``delimiter``.
* **Header row**: the first row (of the first 20 non-empty ones) that has a column for
  every required field; rows above it (titles, export dates) are skipped.  Blank rows are
  skipped everywhere.
* **Row numbers** count every row of the file from 1, the header included, as a
  spreadsheet program shows them (for CSV: records, so a quoted cell with line breaks
  stays one row).
"""

from __future__ import annotations

import codecs
import csv
import io
import warnings
from collections.abc import Mapping, Sequence
from typing import Final

import attrs

from efa_core.errors import ConnectorError
from efa_marktplatz.columns import ColumnMap, FieldSpec, MissingColumns, resolve_columns
from efa_marktplatz.values import Cell, blank, cell_text

__all__ = ["Table", "decode_text", "detect_delimiter", "read_rows", "read_table"]

#: How many non-empty rows are searched for the header row.
HEADER_SEARCH: Final = 20
_DELIMITERS: Final = ";,\t"
_ZIP_MAGIC: Final = b"PK\x03\x04"
_OLE_MAGIC: Final = b"\xd0\xcf\x11\xe0"


@attrs.frozen
class Table:
    """An export read into memory: header, column mapping and data rows."""

    #: The row number of the header row (1-based, as a spreadsheet shows it).
    header_row: int
    #: The header cells as written.
    header: tuple[str, ...]
    #: Where each logical field is.
    columns: ColumnMap
    #: ``(row number, cells)`` of every non-blank row below the header.
    rows: tuple[tuple[int, tuple[Cell, ...]], ...]
    #: ``"xlsx"`` or ``"csv"``.
    format: str
    #: The text encoding used (CSV only).
    encoding: str | None = None
    #: The delimiter used (CSV only).
    delimiter: str | None = None

    def raw(self, cells: Sequence[Cell]) -> dict[str, str]:
        """Return the row as ``{header: text}`` (non-blank cells only), for a Rejected's ``raw``."""
        out: dict[str, str] = {}
        for index, cell in enumerate(cells):
            if blank(cell):
                continue
            title = self.header[index] if index < len(self.header) else ""
            out[title.strip() or f"column {index + 1}"] = cell_text(cell)
        return out


def decode_text(data: bytes, encoding: str | None, where: str) -> tuple[str, str]:
    """Decode CSV bytes: strict UTF-8 (BOM optional), else cp1252; or the given *encoding*.

    :returns: the text and the encoding used.
    :raises ConnectorError: the bytes do not decode; the message names *where* and the line.
    """
    candidates: list[str]
    if encoding is None:
        candidates = ["utf-8-sig", "cp1252"]
    else:
        try:
            codec = codecs.lookup(encoding).name
        except LookupError:
            raise ConnectorError(f"{where}: unknown encoding {encoding!r}") from None
        candidates = ["utf-8-sig" if codec == "utf-8" else codec]
    error: UnicodeDecodeError | None = None
    for candidate in candidates:
        try:
            text = data.decode(candidate)
        except UnicodeDecodeError as exc:
            error = exc
            continue
        return text, "utf-8" if candidate == "utf-8-sig" else candidate
    assert error is not None
    line = data[: error.start].count(b"\n") + 1
    names = ["utf-8" if c == "utf-8-sig" else c for c in candidates]
    tried = ("neither " + " nor ".join(names)) if len(names) > 1 else f"not {names[0]}"
    raise ConnectorError(
        f"{where}: line {line} is {tried} text ({error.reason} at byte "
        f"{error.start}); set the option 'encoding'"
    )


def detect_delimiter(text: str) -> str:
    """Guess the CSV delimiter (``;``, ``,`` or tab) from the first line that has one."""
    for line in text.splitlines()[:HEADER_SEARCH]:
        if not any(d in line for d in _DELIMITERS):
            continue
        try:
            return csv.Sniffer().sniff(line, delimiters=_DELIMITERS).delimiter
        except csv.Error:
            return max(_DELIMITERS, key=line.count)
    return ","


def _csv_rows(
    data: bytes, encoding: str | None, delimiter: str | None, where: str
) -> tuple[list[tuple[Cell, ...]], str, str]:
    text, used = decode_text(data, encoding, where)
    sep = delimiter if delimiter is not None else detect_delimiter(text)
    try:
        rows: list[tuple[Cell, ...]] = [
            tuple(record) for record in csv.reader(io.StringIO(text, newline=""), delimiter=sep)
        ]
    except csv.Error as exc:
        raise ConnectorError(f"{where}: not readable as CSV: {exc}") from exc
    return rows, used, sep


def _xlsx_rows(data: bytes, sheet: str | None, where: str) -> list[tuple[Cell, ...]]:
    import openpyxl

    try:
        with warnings.catch_warnings():
            # openpyxl warns about styles and extensions it does not read; the data is fine
            warnings.simplefilter("ignore")
            book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:
        raise ConnectorError(f"{where}: not a readable XLSX workbook: {exc}") from exc
    try:
        if sheet is None:
            worksheet = book.worksheets[0]
        elif sheet in book.sheetnames:
            worksheet = book[sheet]
        else:
            names = ", ".join(repr(name) for name in book.sheetnames)
            raise ConnectorError(f"{where}: no sheet named {sheet!r}; sheets: {names}")
        rows: list[tuple[Cell, ...]] = []
        for values in worksheet.iter_rows(values_only=True):
            rows.append(tuple(_cell(value) for value in values))
        return rows
    finally:
        book.close()


def _cell(value: object) -> Cell:
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    import datetime as dt

    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value
    return str(value)


def read_rows(
    data: bytes,
    *,
    where: str,
    encoding: str | None = None,
    delimiter: str | None = None,
    sheet: str | None = None,
) -> tuple[list[tuple[Cell, ...]], str, str | None, str | None]:
    """Read every row of a CSV or XLSX export.

    :returns: the rows, the format (``"csv"``/``"xlsx"``), the encoding and the delimiter
        (``None`` for XLSX).
    :raises ConnectorError: the file is not readable; the message starts with *where*.
    """
    if data.startswith(_ZIP_MAGIC):
        return _xlsx_rows(data, sheet, where), "xlsx", None, None
    if data.startswith(_OLE_MAGIC):
        raise ConnectorError(
            f"{where}: this is an old binary Excel file (.xls); save it as .xlsx or CSV"
        )
    rows, used, sep = _csv_rows(data, encoding, delimiter, where)
    return rows, "csv", used, sep


def read_table(
    data: bytes,
    *,
    where: str,
    fields: Mapping[str, FieldSpec],
    required: Sequence[tuple[str, ...]],
    columns: Mapping[str, str],
    encoding: str | None = None,
    delimiter: str | None = None,
    sheet: str | None = None,
) -> Table:
    """Read an export and find its header row (see the module docs).

    :param where: how errors name the file, e.g. ``"marktplatz connector 'x': offers.csv"``.
    :param columns: the ``columns`` option (logical field → header).
    :raises ConnectorError: unreadable file, or no header row with the required columns
        (naming the missing fields, the accepted headers and the headers found).
    """
    rows, fmt, used, sep = read_rows(
        data, where=where, encoding=encoding, delimiter=delimiter, sheet=sheet
    )
    first_error: MissingColumns | None = None
    searched = 0
    for number, cells in enumerate(rows, start=1):
        if all(blank(cell) for cell in cells):
            continue
        header = tuple(cell_text(cell) for cell in cells)
        try:
            mapping = resolve_columns(header, fields, required, columns)
        except MissingColumns as exc:
            first_error = first_error or exc
            searched += 1
            if searched >= HEADER_SEARCH:
                break
            continue
        body = tuple(
            (row_no, row)
            for row_no, row in enumerate(rows[number:], start=number + 1)
            if not all(blank(cell) for cell in row)
        )
        return Table(
            header_row=number,
            header=header,
            columns=mapping,
            rows=body,
            format=fmt,
            encoding=used,
            delimiter=sep,
        )
    if first_error is None:
        raise ConnectorError(f"{where}: the file is empty (no header row)")
    raise ConnectorError(f"{where}: {first_error.message}")
