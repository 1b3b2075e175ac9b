"""Reading spreadsheets and CSV exports robustly, streamed row by row.

Registry exports, rollout plans and Verwaltungsabkommen lists come as CSV or XLSX, shaped by
whoever saved them: title lines above the header, cp1252 or UTF-16 text, ``;`` or ``,``,
merged cells, footers, keys Excel turned into numbers.  :func:`open_table` reads them into
rows of logical fields described by a :class:`Schema`; :func:`open_rows` gives the raw
rows.  XLSX needs the ``xlsx`` extra (openpyxl).  See :doc:`/api/tabular` for a tour.

.. versionadded:: 0.2
"""

from __future__ import annotations

from efa_core.tabular._cells import (
    BERLIN,
    Cell,
    blank,
    cell_text,
    parse_ars,
    parse_date,
    parse_identifiers,
    parse_land,
    parse_leika_keys,
    parse_number,
    parse_ozg_ids,
    parse_price,
    parse_url,
    single_line,
    slugify,
)
from efa_core.tabular._columns import ColumnMap, Field, MissingColumns, Schema, fold
from efa_core.tabular._limits import DEFAULT_LIMITS, Limits, TableRefused
from efa_core.tabular._safe import SafeCsvWriter, append_row_as_text, defuse, undefuse
from efa_core.tabular._table import (
    FOOTER,
    Row,
    Rows,
    Source,
    Table,
    is_footer,
    open_rows,
    open_table,
)
from efa_core.tabular._text import DELIMITERS, detect_encoding, sniff_delimiters
from efa_core.tabular._warnings import CellWarnings

__all__ = [
    "BERLIN",
    "DEFAULT_LIMITS",
    "DELIMITERS",
    "FOOTER",
    "Cell",
    "CellWarnings",
    "ColumnMap",
    "Field",
    "Limits",
    "MissingColumns",
    "Row",
    "Rows",
    "SafeCsvWriter",
    "Schema",
    "Source",
    "Table",
    "TableRefused",
    "append_row_as_text",
    "blank",
    "cell_text",
    "defuse",
    "detect_encoding",
    "fold",
    "is_footer",
    "open_rows",
    "open_table",
    "parse_ars",
    "parse_date",
    "parse_identifiers",
    "parse_land",
    "parse_leika_keys",
    "parse_number",
    "parse_ozg_ids",
    "parse_price",
    "parse_url",
    "single_line",
    "slugify",
    "sniff_delimiters",
    "undefuse",
]
