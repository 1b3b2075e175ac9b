"""XLSX workbooks, streamed row by row with openpyxl's read-only mode (the ``xlsx`` extra).

openpyxl's read-only worksheet trusts the sheet's declared ``<dimension>``: a file that
understates it (some exporters write ``A1:F1`` whatever follows) would lose rows.  Rows
are therefore read from the sheet's XML directly, with openpyxl's cell parser (types,
shared strings, dates), and every row present is read.  Read-only worksheets do not know
their merged cells, so the ``<mergeCell>`` elements are found by a streaming scan of the
sheet's XML first, and every cell a merge covers gets the value of its top-left cell.
"""

from __future__ import annotations

import datetime as dt
import re
import warnings
import zipfile
from collections.abc import Callable, Iterator, Sequence
from typing import IO, TYPE_CHECKING, Any, Final

from efa_core.errors import SourceNotUnderstood
from efa_core.tabular._cells import Cell
from efa_core.tabular._limits import Limits, TableRefused

if TYPE_CHECKING:
    from openpyxl.workbook.workbook import Workbook

__all__ = ["XlsxSheet", "merged_ranges", "open_workbook"]

_CHUNK: Final = 1 << 20
_MERGE: Final = re.compile(
    rb"<(?:[A-Za-z_][\w.-]*:)?mergeCell\b[^>]*?\bref\s*=\s*[\"']"
    rb"\$?([A-Za-z]{1,3})\$?(\d+)(?::\$?([A-Za-z]{1,3})\$?(\d+))?[\"']"
)
_ODS_MIMETYPE: Final = b"application/vnd.oasis.opendocument"

#: ``(first row, first column, last row, last column)``, 1-based and inclusive.
Range = tuple[int, int, int, int]


def _column(letters: bytes) -> int:
    number = 0
    for letter in letters.upper():
        number = number * 26 + (letter - 64)
    return number


def merged_ranges(stream: IO[bytes]) -> list[Range]:
    """Return the merged ranges of a worksheet's XML, scanning it in chunks (flat memory)."""
    ranges: list[Range] = []
    tail = b""
    while True:
        chunk = stream.read(_CHUNK)
        if not chunk:
            break
        buffer = tail + chunk
        end = 0
        if b"mergeCell" in buffer:
            for match in _MERGE.finditer(buffer):
                first_col, first_row, last_col, last_row = match.groups()
                top, left = int(first_row), _column(first_col)
                bottom = int(last_row) if last_row else top
                right = _column(last_col) if last_col else left
                if (bottom, right) != (top, left):
                    ranges.append(
                        (min(top, bottom), min(left, right), max(top, bottom), max(left, right))
                    )
                end = match.end()
        tail = buffer[max(end, len(buffer) - 512) :]
    ranges.sort()
    return ranges


def openpyxl_missing() -> SourceNotUnderstood:
    """Return the error for an XLSX file read without openpyxl installed."""
    return SourceNotUnderstood(
        "this is an XLSX workbook, and reading XLSX needs openpyxl: install the extra "
        "'efa-core[xlsx]' (pip install 'efa-core[xlsx]')"
    )


def _cell(value: object) -> Cell:
    if value is None or isinstance(value, (str, int, float, bool, dt.date, dt.time)):
        return value
    return str(value)


class XlsxSheet:
    """One worksheet of an open workbook, read row by row with merged cells filled."""

    def __init__(self, book: Workbook, archive: zipfile.ZipFile, sheet: str | None) -> None:
        names = [ws.title for ws in book.worksheets]
        if not names:
            raise SourceNotUnderstood("the workbook has no worksheet")
        if sheet is None:
            worksheet = book.worksheets[0]
        elif sheet in names:
            worksheet = book[sheet]
        else:
            listed = ", ".join(repr(name) for name in names)
            raise SourceNotUnderstood(f"no sheet named {sheet!r}; sheets: {listed}")
        self.title: str = worksheet.title
        self.sheets: tuple[str, ...] = tuple(names)
        self._worksheet: Any = worksheet
        path = getattr(worksheet, "_worksheet_path", None)  # openpyxl keeps it privately
        self.merges: list[Range] = []
        if isinstance(path, str):
            with archive.open(path) as member:
                self.merges = merged_ranges(member)

    def rows(self) -> Iterator[tuple[int, tuple[Cell, ...]]]:
        """Yield ``(row number, cells)`` for every row the sheet's XML holds, merges filled."""
        pending = list(reversed(self.merges))  # popped from the end: by first row
        active: list[tuple[Range, Cell]] = []
        for number, raw in self._values():
            cells = [_cell(value) for value in raw]
            while pending and pending[-1][0] <= number:
                merge = pending.pop()
                if merge[0] < number:  # its first row is not in the sheet's XML
                    continue
                left = merge[1]
                active.append((merge, cells[left - 1] if left <= len(cells) else None))
            if active:
                active = [(merge, value) for merge, value in active if merge[2] >= number]
                cells = self._fill(number, cells, active)
            yield number, tuple(cells)

    def _values(self) -> Iterator[tuple[int, Sequence[object]]]:
        """Yield each row's values: streamed with openpyxl's cell parser, memory flat.

        openpyxl's own read-only iteration keeps an empty element per row read (about 70
        bytes: 70 MB per million rows) and honours the declared ``<dimension>``; this
        loop removes each row from the tree once read and ignores the dimension.  It
        falls back to openpyxl's iteration if openpyxl's internals ever change.
        """
        worksheet = self._worksheet
        book: Any = getattr(worksheet, "parent", None)
        archive = getattr(book, "_archive", None)
        path = getattr(worksheet, "_worksheet_path", None)
        shared = getattr(worksheet, "_shared_strings", None)
        try:
            from openpyxl.worksheet._reader import WorkSheetParser
            from openpyxl.xml.constants import SHEET_MAIN_NS
            from openpyxl.xml.functions import iterparse
        except ImportError:  # pragma: no cover - openpyxl moved its internals
            archive = None
        if archive is None or not isinstance(path, str) or shared is None:  # pragma: no cover
            worksheet.reset_dimensions()  # never trust the declared <dimension>
            yield from enumerate(
                worksheet.iter_rows(min_row=1, min_col=1, values_only=True), start=1
            )
            return
        row_tag = f"{{{SHEET_MAIN_NS}}}row"
        data_tag = f"{{{SHEET_MAIN_NS}}}sheetData"
        with archive.open(path) as source:
            parser = WorkSheetParser(
                source,
                shared,
                data_only=True,
                epoch=book.epoch,
                date_formats=book._date_formats,
                timedelta_formats=book._timedelta_formats,
            )
            data = None
            number = 0
            for event, element in iterparse(source, events=("start", "end")):
                if event == "start":
                    if element.tag == data_tag:
                        data = element
                    continue
                if element.tag != row_tag:
                    continue
                given = element.get("r")
                number = int(float(given)) if given else number + 1
                parser.row_counter, parser.col_counter = number, 0
                values: list[object] = []
                for cell in element:
                    parsed = parser.parse_cell(cell)
                    column = int(parsed["column"])
                    if column > len(values):
                        values.extend([None] * (column - len(values)))
                    values[column - 1] = parsed["value"]
                element.clear()
                if data is not None:
                    data.clear()  # the rows read so far are not kept
                yield number, values

    @staticmethod
    def _fill(number: int, cells: list[Cell], active: list[tuple[Range, Cell]]) -> list[Cell]:
        for (_top, left, bottom, right), value in active:
            if value is None or number > bottom:
                continue
            if len(cells) < right:
                cells.extend([None] * (right - len(cells)))
            for column in range(left - 1, right):
                cells[column] = value
        return cells


def open_workbook(
    stream: IO[bytes], reopen: Callable[[], IO[bytes]], limits: Limits
) -> tuple[zipfile.ZipFile, Workbook]:
    """Open *stream* as an XLSX workbook (read-only), after checking its parts' sizes.

    openpyxl reads from ``reopen()``: a stream of its own (the same bytes), so that its
    reads and the merged-cell scan do not share a file position.

    :raises SourceNotUnderstood: not a ZIP archive, an OpenDocument file, a ZIP archive
        without a workbook, or openpyxl cannot read it (or is not installed).
    :raises TableRefused: a part unpacks to more than ``max_unpacked_bytes``.
    """
    try:
        archive = zipfile.ZipFile(stream)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise SourceNotUnderstood(
            f"not a readable XLSX workbook (a broken ZIP archive: {exc})"
        ) from exc
    try:
        names = set(archive.namelist())
        if "xl/workbook.xml" not in names:
            if "mimetype" in names and archive.read("mimetype").startswith(_ODS_MIMETYPE):
                raise SourceNotUnderstood(
                    "this is an OpenDocument spreadsheet (.ods); save it as .xlsx or CSV"
                )
            raise SourceNotUnderstood(
                "a ZIP archive, but not an XLSX workbook (no xl/workbook.xml)"
            )
        for info in archive.infolist():
            shared = info.filename.lower().endswith("sharedstrings.xml")
            limit, option = (
                (limits.max_shared_strings_bytes, "max_shared_strings_bytes")
                if shared
                else (limits.max_unpacked_bytes, "max_unpacked_bytes")
            )
            if info.file_size > limit:
                raise TableRefused(
                    f"the workbook part {info.filename!r} unpacks to {info.file_size} bytes, "
                    f"more than the limit of {limit} ({option})"
                )
        try:
            import openpyxl
        except ImportError:
            raise openpyxl_missing() from None
        try:
            with warnings.catch_warnings():
                # openpyxl warns about styles and extensions it does not read; data is fine
                warnings.simplefilter("ignore")
                book = openpyxl.load_workbook(reopen(), read_only=True, data_only=True)
        except Exception as exc:
            raise SourceNotUnderstood(f"not a readable XLSX workbook: {exc}") from exc
    except BaseException:
        archive.close()
        raise
    return archive, book
