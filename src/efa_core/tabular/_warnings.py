"""Problems with optional cells that were repaired or dropped, reported once per kind."""

from __future__ import annotations

import logging

__all__ = ["CellWarnings"]


class CellWarnings:
    """Collects what was repaired or dropped in optional cells, to report it in few lines.

    An optional cell never rejects its record: a price ``ca. 500 €`` is dropped, a URL
    ``www.example.de`` gets ``https://``.  Each such case is added here with the field, what
    happened, where and the value; :meth:`lines` groups them by field and what happened::

        price: not a number, dropped: 3 rows (angebote.csv:row 5 'ca. 500 €', ...)
    """

    def __init__(self, examples: int = 3) -> None:
        self._examples = examples
        self._groups: dict[tuple[str, str], list[str]] = {}
        self._counts: dict[tuple[str, str], int] = {}
        self._total = 0

    def add(self, field: str, what: str, position: str, value: str) -> None:
        """Note that *field* at *position* holding *value* was handled as *what* says."""
        key = (field, what)
        self._counts[key] = self._counts.get(key, 0) + 1
        self._total += 1
        shown = self._groups.setdefault(key, [])
        if len(shown) < self._examples:
            shown.append(f"{position} {value!r}")

    def __len__(self) -> int:
        return self._total

    def lines(self, prefix: str | None = None) -> list[str]:
        """Return one line per field and kind of problem, with a count and examples.

        *prefix* (e.g. the source and file) starts every line, followed by ``": "``.
        """
        head = f"{prefix}: " if prefix else ""
        out = []
        for key, count in self._counts.items():
            field, what = key
            shown = ", ".join(self._groups[key])
            more = ", ..." if count > len(self._groups[key]) else ""
            rows = "1 row" if count == 1 else f"{count} rows"
            out.append(f"{head}{field}: {what}: {rows} ({shown}{more})")
        return out

    def log(self, logger: logging.Logger, where: str) -> None:
        """Log every line of :meth:`lines` as a warning, prefixed by *where*."""
        for line in self.lines(where):
            logger.warning("%s", line)
