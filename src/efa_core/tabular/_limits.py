"""Limits that make oversized or hostile tables fail early, naming the file and the option."""

from __future__ import annotations

from typing import Any, Final

import attrs

from efa_core.errors import ConnectorError

__all__ = ["DEFAULT_LIMITS", "Limits", "TableRefused"]

_MIB: Final = 1024 * 1024
_GIB: Final = 1024 * _MIB


def _positive(instance: object, attribute: attrs.Attribute[Any], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"Limits.{attribute.name} must be a positive integer, got {value!r}")


@attrs.frozen(kw_only=True)
class Limits:
    """How large a table may be.  Reading is streamed, so memory does not grow with these.

    The defaults are far above what registry exports and rollout plans hold (national
    scale: about 11,000 municipalities × a few hundred services) and refuse only what
    would run for hours.
    """

    #: Largest file accepted, in bytes (CSV text or the XLSX archive).
    max_file_bytes: int = attrs.field(default=4 * _GIB, validator=_positive)
    #: Most rows (records) read from one table, title and blank rows included.
    max_rows: int = attrs.field(default=20_000_000, validator=_positive)
    #: Largest part of an XLSX archive once unpacked (a worksheet's XML, the shared
    #: strings), in bytes; bounds what a small "zip bomb" can make the reader chew on.
    max_unpacked_bytes: int = attrs.field(default=16 * _GIB, validator=_positive)
    #: Largest shared-strings part of an XLSX archive once unpacked, in bytes: openpyxl
    #: holds that table (every distinct text of the workbook) in memory.
    max_shared_strings_bytes: int = attrs.field(default=512 * _MIB, validator=_positive)
    #: How many non-blank rows at the top are searched for the header row.
    header_search: int = attrs.field(default=20, validator=_positive)


#: The limits used when none are given.
DEFAULT_LIMITS: Final = Limits()


class TableRefused(ConnectorError):
    """A table was refused because it exceeds a :class:`Limits` value; names file and option."""
