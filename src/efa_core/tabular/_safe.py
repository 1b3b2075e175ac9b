"""Writing CSV that a spreadsheet opens as text, never as a formula (issue 14 §3).

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a formula
(``=cmd|' /C calc'!A0``), also after spaces or a no-break space, and Excel also takes the
fullwidth forms (``＝``).  A CSV written with ``,`` is split on ``;`` by a German Excel, so a
value ``X;=cmd|…`` opens a new cell at its ``;`` that is a formula.  :func:`defuse` puts a
``'`` before every such start: at the beginning of the value and after every ``;``, ``,``,
tab or line break in it.  :class:`SafeCsvWriter` writes rows of defused values and quotes
every value that holds a ``;``, ``,``, tab, quote or line break, whatever its own
delimiter; :func:`undefuse` takes those marks out again where efa reads back a CSV it
wrote (a plan export).  :func:`append_row_as_text` writes a row of an XLSX sheet (openpyxl) whose
text is stored as text, never as a formula.
"""

from __future__ import annotations

import re
from typing import Any, Protocol

__all__ = ["SafeCsvWriter", "append_row_as_text", "defuse", "undefuse"]

#: What starts a formula: ``= + - @`` and their fullwidth forms.
_TRIGGER = "=+\\-@\uff1d\uff0b\uff0d\uff20"
#: What a spreadsheet skips before it: white space, no-break and zero-width spaces, BOM.
_SPACE = "[\\s\u00a0\u1680\u2000-\u200b\u202f\u205f\u3000\ufeff]*"
#: ``'`` marks already there count as part of the start (so :func:`undefuse` can tell a mark
#: of :func:`defuse` from a ``'`` of the value: it takes away exactly one).
_LEADING = re.compile(f"^'*(?:{_SPACE}[{_TRIGGER}]|[\\t\\r])")
_AFTER_SEPARATOR = re.compile(f"([;,\\t\\r\\n]{_SPACE})(?='*[{_TRIGGER}])")
_MARKED_LEADING = re.compile(f"^'(?='*(?:{_SPACE}[{_TRIGGER}]|[\\t\\r]))")
_MARKED_AFTER_SEPARATOR = re.compile(f"([;,\\t\\r\\n]{_SPACE})'(?='*[{_TRIGGER}])")
_NEEDS_QUOTES = re.compile('[;,\\t\\r\\n"]')


def defuse(text: str) -> str:
    """Return *text* with a ``'`` before every place a spreadsheet would start a formula."""
    if _LEADING.match(text):
        text = "'" + text
    if _AFTER_SEPARATOR.search(text) is None:  # most values: no separator before a start
        return text
    return _AFTER_SEPARATOR.sub(r"\1'", text)


def undefuse(text: str) -> str:
    """Return *text* without the ``'`` marks :func:`defuse` put in: ``undefuse(defuse(t)) == t``.

    For reading back a CSV that efa wrote.  Exact: :func:`defuse` marks a value that
    already starts with ``'`` before a formula start (``'=1``) once more (``''=1``), and
    this takes away one mark only.
    """
    if not text or "'" not in text:
        return text
    # the inverse of defuse's two steps, in the opposite order
    return _MARKED_LEADING.sub("", _MARKED_AFTER_SEPARATOR.sub(r"\1", text))


def append_row_as_text(sheet: Any, values: Any) -> None:
    """Append *values* as a row of an openpyxl worksheet; text never becomes a formula.

    openpyxl stores a string that starts with ``=`` as a formula; here every string is
    stored as text (an inline string), as it was given.
    """
    sheet.append(list(values))
    for cell in sheet[sheet.max_row]:
        if isinstance(cell.value, str) and cell.data_type == "f":
            cell.data_type = "s"


class _Writable(Protocol):
    def write(self, text: str, /) -> Any: ...


class SafeCsvWriter:
    """Write CSV rows for spreadsheets: text defused (:func:`defuse`), risky values quoted.

    ``None`` is written as an empty cell, numbers as they are, ``True``/``False`` as
    ``true``/``false``, everything else as its text, defused.
    """

    def __init__(
        self, out: _Writable, *, delimiter: str = ",", lineterminator: str = "\r\n"
    ) -> None:
        self._out = out
        self._delimiter = delimiter
        self._lineterminator = lineterminator

    def _cell(self, value: object) -> str:
        if value is None:
            return ""
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float):
            return str(value)
        text = defuse(str(value))
        if _NEEDS_QUOTES.search(text) or self._delimiter in text:
            return '"' + text.replace('"', '""') + '"'
        return text

    def writerow(self, row: Any) -> None:
        """Write one row."""
        cells = [self._cell(v) for v in row]
        # one empty value is written "" (as the csv module does): an empty line is no row
        line = '""' if cells == [""] else self._delimiter.join(cells)
        self._out.write(line + self._lineterminator)

    def writerows(self, rows: Any) -> None:
        """Write every row of *rows*."""
        for row in rows:
            self.writerow(row)
