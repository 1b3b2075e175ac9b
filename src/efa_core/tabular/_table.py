"""Opening a table (CSV or XLSX, told by content), finding its header row, streaming its rows."""

from __future__ import annotations

import contextlib
import csv
import io
import os
import re
import stat
import zipfile
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Final, TypeVar, Union

import attrs

from efa_core.connectors import Skipped
from efa_core.errors import ConnectorError, SourceNotUnderstood
from efa_core.tabular._cells import Cell, blank, cell_text, single_line
from efa_core.tabular._columns import ColumnMap, MissingColumns, Schema
from efa_core.tabular._limits import DEFAULT_LIMITS, Limits, TableRefused
from efa_core.tabular._text import CsvText, choose_encoding, sniff_delimiters
from efa_core.tabular._xlsx import XlsxSheet, open_workbook

__all__ = [
    "FOOTER",
    "Row",
    "Rows",
    "Source",
    "Table",
    "is_footer",
    "open_rows",
    "open_table",
]

_R = TypeVar("_R", bound="Rows")

#: What can be read: a path, the file's bytes, or a seekable binary file object.
Source = Union[str, "os.PathLike[str]", bytes, IO[bytes]]

_ZIP_MAGIC: Final = b"PK\x03\x04"
_EMPTY_ZIP: Final = b"PK\x05\x06"
_OLE_MAGIC: Final = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
#: Files that are no table, told by their first bytes.
_NOT_TABLES: Final = (
    (b"%PDF", "a PDF document; export the list as CSV or XLSX"),
    (b"\x1f\x8b", "gzip-compressed data; unpack it first"),
)


def _markup(head: Sequence[str]) -> str | None:
    """Say what a text without a header row is when it is a web page or XML, else None.

    A login or error page saved in place of the export is the usual case: its lines would
    otherwise be reported as headers found (and so quoted into the run report).
    """
    text = "".join(line.strip() for line in head[:50]).lstrip("\ufeff").lower()
    if not text.startswith("<"):
        return None
    if text.startswith(("<!doctype html", "<html")) or "<html" in text[:2000]:
        return (
            "is a web page (HTML), not a table: perhaps a login or error page was saved in "
            "place of the export"
        )
    if text.startswith("<?xml"):
        return "is XML, not a table (CSV or XLSX)"
    return None


#: The first cell of a footer or summary line: ``Exportiert am 05.11.2024``,
#: ``Summe: 8 Vorgänge``, ``Anzahl Datensätze: 12``, ``Seite 1 von 2``, ``Stand: ...``.
FOOTER: Final = re.compile(
    r"(?i)\s*(?:exportiert|export(?:\s+vom|\s+am|datum)|erstellt|erzeugt|generiert|"
    r"datenstand|stand|summe|gesamt(?:summe|zahl)?|insgesamt|anzahl|seite\s+\d+|"
    r"total|sum|count|generated|exported|quelle)(?=[\s:.,;=]|\Z)"
)
#: A line that only counts what was exported: ``8 Vorgänge``, ``12 Datensätze exportiert``.
_COUNT_LINE: Final = re.compile(
    r"(?i)\s*\d+\s+(?:vorgänge|vorgang|datensätze|datensatz|einträge|eintrag|zeilen|"
    r"treffer|ergebnisse|records|rows)\b"
)
_NUMBER: Final = re.compile(r"[\s\d.,:+\-€%]*\d[\s\d.,:+\-€%]*\Z")


def is_footer(cells: Sequence[Cell]) -> bool:
    """Tell a footer or summary line: a footer word (:data:`FOOTER`) or a count first.

    The first non-blank cell must start with ``Exportiert``, ``Summe``, ``Anzahl``,
    ``Stand`` ... (or be a count such as ``8 Vorgänge``) and every other non-blank cell
    must repeat it (a merged cell) or be a number (``Summe;;;8``).  A data row has text
    in several columns and is never taken for one.
    """
    first: str | None = None
    for cell in cells:
        if blank(cell):
            continue
        text = cell_text(cell)
        if first is None:
            if not (FOOTER.match(text) or _COUNT_LINE.match(text)):
                return False
            first = text
        elif text != first and not _NUMBER.match(text):
            return False
    return first is not None


# -- input ----------------------------------------------------------------------------------


class _Input:
    """The bytes of a table: opened (fresh streams on demand) and checked against the limits."""

    def __init__(
        self, source: Source, where: str, limits: Limits, stack: contextlib.ExitStack
    ) -> None:
        self.where = where
        self._stack = stack
        self._path: Path | None = None
        self._data: bytes | None = None
        self._stream: IO[bytes] | None = None
        if isinstance(source, (bytes, bytearray, memoryview)):
            self._data = bytes(source)
            size = len(self._data)
        elif isinstance(source, (str, os.PathLike)):
            self._path = Path(source)
            size = self._stat(self._path)
        else:
            if not (source.seekable() and source.readable()):
                raise ConnectorError(f"{where}: the file object must be readable and seekable")
            self._stream = source
            size = source.seek(0, io.SEEK_END)
            source.seek(0)
        if size > limits.max_file_bytes:
            raise TableRefused(
                f"{where}: the file has {size} bytes, more than the limit of "
                f"{limits.max_file_bytes} bytes (max_file_bytes)"
            )
        self.size = size

    def _stat(self, path: Path) -> int:
        try:
            info = path.stat()
        except FileNotFoundError:
            raise ConnectorError(f"{self.where}: the file does not exist") from None
        except OSError as exc:
            raise ConnectorError(f"{self.where}: cannot read the file: {exc}") from exc
        if stat.S_ISDIR(info.st_mode):
            raise ConnectorError(f"{self.where}: this is a directory, not a file")
        if not stat.S_ISREG(info.st_mode):
            raise ConnectorError(f"{self.where}: not a regular file (a FIFO, socket or device)")
        return info.st_size

    def open(self) -> IO[bytes]:
        """Return a new binary stream at the start of the bytes (closed with the table)."""
        if self._data is not None:
            return io.BytesIO(self._data)
        if self._path is not None:
            try:
                stream = self._path.open("rb")
            except OSError as exc:
                raise ConnectorError(f"{self.where}: cannot read the file: {exc}") from exc
            return self._stack.enter_context(stream)
        assert self._stream is not None
        self._stream.seek(0)
        return self._stream


def _name_of(source: Source) -> str:
    if isinstance(source, (str, os.PathLike)):
        return os.fspath(source)
    name = getattr(source, "name", None)
    return name if isinstance(name, str) else "<table>"


# -- raw rows -------------------------------------------------------------------------------


class Rows:
    """An open table read as raw rows, without a header: ``(row number, cells)`` pairs.

    Returned by :func:`open_rows` (and the base of :class:`Table`).  Row numbers count
    every row from 1, as a spreadsheet program shows them; for CSV they count records, so
    a quoted cell with line breaks stays one row.  Use it as a context manager, or call
    :meth:`close`.
    """

    #: How the table's rows are named in positions, e.g. ``"exports/angebote.csv"``.
    name: str
    #: ``"csv"`` or ``"xlsx"``.
    format: str
    #: The text encoding used (CSV only): ``utf-8`` (with or without BOM), ``cp1252``,
    #: ``utf-16-le`` ...
    encoding: str | None = None
    #: The delimiter used (CSV only).
    delimiter: str | None = None
    #: The worksheet read (XLSX only).
    sheet: str | None = None
    #: Every worksheet of the workbook (XLSX only).
    sheets: tuple[str, ...] = ()

    def __init__(
        self,
        source: Source,
        *,
        name: str | None = None,
        where: str | None = None,
        encoding: str | None = None,
        delimiter: str | None = None,
        sheet: str | None = None,
        limits: Limits = DEFAULT_LIMITS,
        source_name: str | None = None,
    ) -> None:
        self.name = name if name is not None else _name_of(source)
        #: How errors name the table (see :func:`open_table`).
        self.where = where if where is not None else self.name
        self.limits = limits
        self._source_name = source_name
        #: The start of error messages: the source (if named) and :attr:`where`.
        self.prefix = f"source {source_name!r}, {self.where}" if source_name else self.where
        self._stack = contextlib.ExitStack()
        self._csv: CsvText | None = None
        self._xlsx: XlsxSheet | None = None
        self._delimiters: tuple[str, ...] = ()
        self._iterating = False
        try:
            self._open(source, encoding, delimiter, sheet)
        except BaseException:
            self._stack.close()
            raise

    def _not_understood(self, reason: str) -> SourceNotUnderstood:
        return SourceNotUnderstood(reason, source=self._source_name, where=self.where)

    def _open(
        self, source: Source, encoding: str | None, delimiter: str | None, sheet: str | None
    ) -> None:
        data = _Input(source, self.prefix, self.limits, self._stack)
        stream = data.open()
        magic = stream.read(8)
        stream.seek(0)
        try:
            if magic.startswith((_ZIP_MAGIC, _EMPTY_ZIP)):
                self.format = "xlsx"
                archive, book = open_workbook(stream, data.open, self.limits)
                self._stack.callback(archive.close)
                self._stack.callback(book.close)
                self._xlsx = XlsxSheet(book, archive, sheet)
                self.sheet, self.sheets = self._xlsx.title, self._xlsx.sheets
                return
            if magic.startswith(_OLE_MAGIC):
                raise SourceNotUnderstood(
                    "this is an old binary Excel file (.xls); save it as .xlsx or CSV"
                )
            for start, what in _NOT_TABLES:
                if magic.startswith(start):
                    raise SourceNotUnderstood(f"this is {what}, not a table")
            self.format = "csv"
            codec = choose_encoding(stream, encoding)
            head_lines = max(100, 5 * self.limits.header_search)
            self._csv = CsvText(stream, codec, self.prefix, head_lines=head_lines)
            self._stack.callback(self._csv.detach)
            self.encoding = self._csv.encoding
        except TableRefused as exc:
            raise TableRefused(f"{self.prefix}: {exc}") from None
        except SourceNotUnderstood as exc:
            raise self._not_understood(exc.reason) from exc.__cause__
        except (zipfile.BadZipFile, zlib.error, EOFError) as exc:  # a damaged member
            raise self._not_understood(
                f"the workbook is damaged ({exc}); open it in a spreadsheet program and save "
                "it again"
            ) from None
        if delimiter is not None:
            self._delimiters = (delimiter,)
        else:
            self._delimiters = sniff_delimiters(self._csv.head)
        self.delimiter = self._delimiters[0]

    def head_records(self, delimiter: str) -> list[tuple[int, tuple[Cell, ...]]]:
        """Return the numbered records of a CSV file's first lines split at *delimiter*."""
        assert self._csv is not None
        return [(n, tuple(r)) for n, r in enumerate(self._csv.head_records(delimiter), start=1)]

    def __enter__(self: _R) -> _R:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Release the file (also done on leaving the ``with`` block)."""
        self._stack.close()

    def __iter__(self) -> Iterator[tuple[int, tuple[Cell, ...]]]:
        if self._iterating:
            raise RuntimeError(f"{self.prefix}: the rows of a table can be read once")
        self._iterating = True
        return self._rows()

    def _rows(self) -> Iterator[tuple[int, tuple[Cell, ...]]]:
        limit = self.limits.max_rows
        number = 0
        for number, cells in self._raw():
            if number > limit:
                raise TableRefused(
                    f"{self.prefix}: more than {limit} rows (max_rows); row {number} was not read"
                )
            yield number, cells

    def _raw(self) -> Iterator[tuple[int, tuple[Cell, ...]]]:
        if self._xlsx is not None:
            number = 0
            try:
                for number, cells in self._xlsx.rows():
                    yield number, cells
            except (SyntaxError, zipfile.BadZipFile, zlib.error, EOFError) as exc:
                # xml's ParseError and lxml's XMLSyntaxError are SyntaxErrors; a truncated
                # member of the archive ends in a zlib error or EOFError
                raise self._not_understood(
                    f"sheet {self._xlsx.title!r} is damaged after row {number}: its XML "
                    f"cannot be read ({exc}); open it in a spreadsheet program and save it "
                    "again"
                ) from None
            return
        assert self._csv is not None
        assert self.delimiter is not None
        number = 0
        records = self._csv.records(self.delimiter)
        while True:
            try:
                record = next(records)
            except StopIteration:
                return
            except csv.Error as exc:
                raise self._not_understood(
                    f"row {number + 1} is not readable as CSV ({exc}); a quote that is never "
                    "closed makes the rest of the file one cell"
                ) from exc
            number += 1
            yield number, tuple(record)


# -- tables with a header -------------------------------------------------------------------


@attrs.frozen(slots=True)
class Row:
    """One data row of a :class:`Table`: its number, its cells, and its cells by field."""

    #: The row number, counted from 1 as a spreadsheet program shows it.
    number: int
    #: The cells as read (text for CSV; typed values for XLSX).
    cells: tuple[Cell, ...]
    #: Where the fields are (shared by every row of the table).
    columns: ColumnMap = attrs.field(repr=False, eq=False)
    #: The table's name, for :attr:`position`.
    table: str = attrs.field(repr=False, eq=False)

    @property
    def position(self) -> str:
        """Where the row is, e.g. ``"angebote.csv:row 7"`` (``"plan.xlsx[Welle 2]:row 7"``)."""
        return f"{self.table}:row {self.number}"

    def __getitem__(self, field: str) -> Cell:
        """Return the cell of *field* as read (``None`` without a column or past the row's end)."""
        index = self.columns.indexes.get(field)
        if index is None or index >= len(self.cells):
            return None
        return self.cells[index]

    def get(self, field: str) -> Cell:
        """Return the cell of *field*, or ``None`` if it is blank or has no column."""
        cell = self[field]
        return None if blank(cell) else cell

    def text(self, field: str) -> str | None:
        """Return the text of *field* on one line (:func:`single_line`), or ``None`` if blank."""
        cell = self.get(field)
        return None if cell is None else single_line(cell_text(cell))

    def values(self) -> dict[str, Cell]:
        """Return every mapped field's cell: ``{field: cell}`` (blank cells included)."""
        return {field: self[field] for field in self.columns.indexes}

    def raw(self) -> dict[str, str]:
        """Return the row as ``{header: text}`` (non-blank cells only), e.g. for a Rejected."""
        out: dict[str, str] = {}
        header = self.columns.header
        for index, cell in enumerate(self.cells):
            if blank(cell):
                continue
            title = single_line(header[index]) if index < len(header) else ""
            key = title or f"column {index + 1}"
            if key in out:
                key = f"{key} (column {index + 1})"
            out[key] = cell_text(cell)
        return out


def _header_texts(cells: Sequence[Cell]) -> tuple[str, ...]:
    return tuple(single_line(cell_text(cell)) for cell in cells)


def _blank_row(cells: Sequence[Cell]) -> bool:
    """Whether every cell of a row is blank (fast for CSV rows, whose cells are text)."""
    try:
        return not "".join(cells).strip()  # type: ignore[arg-type]
    except TypeError:  # typed XLSX cells
        return all(blank(cell) for cell in cells)


def _trimmed(cells: Sequence[Cell]) -> tuple[Cell, ...]:
    """Return *cells* without the blank cells at their end."""
    end = len(cells)
    while end and blank(cells[end - 1]):
        end -= 1
    return tuple(cells[:end])


@attrs.define
class _Tally:
    first: str
    count: int = 1


@attrs.define
class _Found:
    number: int
    cells: tuple[Cell, ...]
    columns: ColumnMap
    before: list[tuple[int, str]]


def _find_header(
    rows: Iterable[tuple[int, tuple[Cell, ...]]],
    schema: Schema,
    columns: Mapping[str, str],
    search: int,
) -> _Found | MissingColumns | None:
    """Consume *rows* up to the header row: the first of *search* non-blank rows that maps.

    :returns: the header found, the first row's :class:`MissingColumns`, or ``None`` if the
        rows held nothing but blanks.
    """
    before: list[tuple[int, str]] = []
    first: MissingColumns | None = None
    searched = 0
    for number, cells in rows:
        if all(blank(cell) for cell in cells):
            before.append((number, "blank-line"))
            continue
        try:
            mapping = schema.resolve(_header_texts(cells), columns)
        except MissingColumns as exc:
            first = first or exc
            before.append((number, "title-line"))
            searched += 1
            if searched >= search:
                break
            continue
        return _Found(number, cells, mapping, before)
    return first


_REASONS: Final = {
    "title-line": "a title or note above the header row",
    "blank-line": "an empty row",
    "header-line": "the header row repeated",
    "footer-line": "a footer or summary line (Exportiert am, Summe, Anzahl ...)",
}


class Table(Rows):
    """An open table with its header row found and its columns mapped onto a :class:`Schema`.

    Iterating yields the data :class:`Row` objects, streamed (the file is never read
    whole).  Rows that hold no data are not yielded but counted in :attr:`skipped`: title
    lines above the header, empty rows, the header repeated (page breaks of a printed
    export) and footer or summary lines (:func:`is_footer`).  Returned by
    :func:`open_table`.
    """

    #: The row number of the header row.
    header_row: int
    #: Where each logical field is.
    columns: ColumnMap

    def __init__(
        self,
        source: Source,
        schema: Schema,
        *,
        columns: Mapping[str, str] | None = None,
        name: str | None = None,
        where: str | None = None,
        encoding: str | None = None,
        delimiter: str | None = None,
        sheet: str | None = None,
        limits: Limits = DEFAULT_LIMITS,
        source_name: str | None = None,
    ) -> None:
        super().__init__(
            source,
            name=name,
            where=where,
            encoding=encoding,
            delimiter=delimiter,
            sheet=sheet,
            limits=limits,
            source_name=source_name,
        )
        self.schema = schema
        self._overrides = dict(columns or {})
        self._skipped: dict[str, _Tally] = {}
        self._data_started = False
        #: How many data rows were yielded so far.
        self.data_rows = 0
        try:
            self._start()
        except BaseException:
            self.close()
            raise

    def _start(self) -> None:
        search = self.limits.header_search
        if self.format == "csv":
            for delimiter in self._delimiters:
                found = _find_header(
                    self.head_records(delimiter), self.schema, self._overrides, search
                )
                if isinstance(found, _Found):
                    self.delimiter = delimiter
                    break
        self._rows_iter = super().__iter__()
        found = _find_header(self._rows_iter, self.schema, self._overrides, search)
        if found is None:
            raise self._not_understood("the file is empty (no header row)")
        if isinstance(found, MissingColumns):
            markup = _markup(self._csv.head) if self._csv is not None else None
            if markup is not None:  # say what it is; quote nothing of it
                raise self._not_understood(markup)
            raise self._not_understood(f"no header row found: {found.message}")
        self.header_row = found.number
        self.columns = found.columns
        self._header_cells = _trimmed(found.cells)
        for number, kind in found.before:
            self._skip(kind, number)

    @property
    def header(self) -> tuple[str, ...]:
        """The header row's texts, as written."""
        return self.columns.header

    def _skip(self, kind: str, number: int) -> None:
        tally = self._skipped.get(kind)
        if tally is None:
            self._skipped[kind] = _Tally(f"{self.name}:row {number}")
        else:
            tally.count += 1

    @property
    def skipped(self) -> tuple[Skipped, ...]:
        """The rows read so far that were not yielded, as :class:`~efa_core.connectors.Skipped`.

        Kinds: ``title-line``, ``blank-line``, ``header-line`` and ``footer-line``; each
        with its count and the position of the first.
        """
        return tuple(
            Skipped(kind, _REASONS[kind], count=tally.count, position=tally.first)
            for kind, tally in self._skipped.items()
        )

    def __iter__(self) -> Iterator[Row]:  # type: ignore[override]
        if self._data_started:
            raise RuntimeError(f"{self.prefix}: the rows of a table can be read once")
        self._data_started = True
        return self._data()

    def _data(self) -> Iterator[Row]:
        columns = self.columns
        name = self.name
        header = self._header_cells
        width = len(header)
        for number, cells in self._rows_iter:
            if _blank_row(cells):
                self._skip("blank-line", number)
            elif cells[:width] == header and _trimmed(cells) == header:
                self._skip("header-line", number)
            elif is_footer(cells):
                self._skip("footer-line", number)
            else:
                self.data_rows += 1
                yield Row(number, cells, columns, name)


def open_rows(
    source: Source,
    *,
    name: str | None = None,
    where: str | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    sheet: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
    source_name: str | None = None,
) -> Rows:
    """Open a CSV or XLSX table to read its raw rows (no header search); see :class:`Rows`.

    The arguments are those of :func:`open_table`; without a schema, the CSV delimiter is
    the one that splits the first lines most consistently.
    """
    return Rows(
        source,
        name=name,
        where=where,
        encoding=encoding,
        delimiter=delimiter,
        sheet=sheet,
        limits=limits,
        source_name=source_name,
    )


def open_table(
    source: Source,
    schema: Schema,
    *,
    columns: Mapping[str, str] | None = None,
    name: str | None = None,
    where: str | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    sheet: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
    source_name: str | None = None,
) -> Table:
    """Open a CSV or XLSX table, find its header row and map its columns onto *schema*.

    :param source: a path, the file's bytes, or a seekable binary file object.  XLSX is
        told by its content (a ZIP archive), everything else is read as CSV text.
    :param columns: logical field → header, replacing that field's default headers.
    :param name: how positions name the table (``"<name>:row <N>"``); default: the path.
    :param where: how errors name the table, e.g. ``"marktplatz connector 'mp': offers
        file 'x.csv'"``; default: *name*.
    :param encoding: the CSV encoding; default: detected (BOM, UTF-16, UTF-8, cp1252).
    :param delimiter: the CSV delimiter; default: the one of ``;``, ``,``, tab and ``|``
        with which a header row is found, the most consistent first.
    :param sheet: the XLSX worksheet; default: the first.
    :param limits: size limits (:class:`Limits`).
    :param source_name: the configured source, named by :class:`SourceNotUnderstood`.
    :raises SourceNotUnderstood: not a table (an ``.xls``, ``.ods`` or broken file, text in
        no known encoding), an empty file, or no header row with the required columns
        among the first ``header_search`` non-blank rows.
    :raises TableRefused: a limit was exceeded (also while iterating: ``max_rows``).
    :raises ConnectorError: the file is missing or unreadable.
    """
    return Table(
        source,
        schema,
        columns=columns,
        name=name,
        where=where,
        encoding=encoding,
        delimiter=delimiter,
        sheet=sheet,
        limits=limits,
        source_name=source_name,
    )
