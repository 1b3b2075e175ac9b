"""Vocabulary shared by the plan file formats: states, dates, ARS cells, checklists."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any, Final

from efa_core.ids import Ars
from efa_core.model import (
    DEFAULT_CHECKLIST,
    ChecklistItem,
    ItemState,
    RolloutPlan,
    Transport,
)

__all__ = [
    "ITEM_VALUE_PARSERS",
    "STATE_WORDS",
    "CellError",
    "checklist_items",
    "format_cell",
    "parse_ars",
    "parse_bool",
    "parse_cell",
    "parse_date",
    "parse_state",
]


class CellError(ValueError):
    """A cell or value of a plan file that cannot be read; the message says why."""


#: Words (case-insensitive) for each item state, German and English.
STATE_WORDS: Final[Mapping[ItemState, tuple[str, ...]]] = {
    ItemState.DONE: ("x", "✓", "✔", "ja", "yes", "erledigt", "done", "fertig", "ok"),
    ItemState.IN_PROGRESS: (
        "in arbeit",
        "in bearbeitung",
        "in progress",
        "in_progress",
        "läuft",
        "begonnen",
    ),
    ItemState.NOT_APPLICABLE: (
        "entfällt",
        "n/a",
        "na",
        "nicht zutreffend",
        "not applicable",
        "not_applicable",
        "-",
        "–",
    ),
    ItemState.OPEN: ("offen", "open", "nein", "no"),
}
_STATE_OF: Final[Mapping[str, ItemState]] = {
    word: state for state, words in STATE_WORDS.items() for word in words
}
#: How :func:`format_cell` writes each state.
_STATE_TEXT: Final[Mapping[ItemState, str]] = {
    ItemState.DONE: "erledigt",
    ItemState.IN_PROGRESS: "in Arbeit",
    ItemState.NOT_APPLICABLE: "entfällt",
    ItemState.OPEN: "offen",
}
_GERMAN_DATE = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})\Z")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")
_DVDV_KEY = re.compile(r"[a-z]{3}:\S+\Z")
_ARS_LENGTHS: Final = frozenset({2, 3, 5, 9, 12})
_TRUE: Final = frozenset({"true", "yes", "ja", "1", "x", "wahr"})
_FALSE: Final = frozenset({"false", "no", "nein", "0", "falsch", ""})


def parse_date(value: object) -> date:
    """Read a date: ``2025-03-12``, ``12.03.2025`` or a spreadsheet date cell.

    :raises CellError: anything else.
    """
    if isinstance(value, datetime):
        if value.time() != datetime.min.time():
            raise CellError(f"{value.isoformat()!r} has a time of day; give a date")
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    try:
        if _ISO_DATE.match(text):
            return date.fromisoformat(text)
        match = _GERMAN_DATE.match(text)
        if match:
            day, month, year = (int(g) for g in match.groups())
            return date(year, month, day)
    except ValueError as exc:
        raise CellError(f"{text!r} is not a valid date: {exc}") from None
    raise CellError(f"{text!r} is not a date (2025-03-12 or 12.03.2025)")


def parse_bool(value: object) -> bool:
    """Read a yes/no value (``true``, ``ja``, ``x``, ``false``, ``nein``, empty)."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().casefold()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise CellError(f"{value!r} is not yes or no (true, ja, false, nein)")


def parse_ars(value: object) -> Ars:
    """Read an ARS from text or from a spreadsheet number.

    A spreadsheet drops the leading zero of the Länder 01 to 09 (also when it exports a
    CSV): digits of a length no ARS has (1, 4, 8 or 11) get it back (``1001`` →
    ``01001``); any other wrong length is an error.  A float must be whole.

    :raises CellError: not an ARS.
    """
    if isinstance(value, bool):
        raise CellError(f"{value!r} is not an ARS")
    if isinstance(value, float):
        if not value.is_integer():
            raise CellError(f"{value!r} is not an ARS (not a whole number)")
        value = int(value)
    text = str(value).strip()
    if (
        text.isdigit()
        and text.isascii()
        and len(text) not in _ARS_LENGTHS
        and len(text) + 1 in _ARS_LENGTHS
    ):
        text = "0" + text
    try:
        return Ars.parse(text)
    except ValueError as exc:
        raise CellError(str(exc)) from None


def parse_state(text: str) -> ItemState:
    """Read an item state: its value (``in_progress``) or a word (``erledigt``, ``x``)."""
    found = _STATE_OF.get(" ".join(text.split()).casefold())
    if found is None:
        try:
            return ItemState(text.strip())
        except ValueError:
            raise CellError(
                f"{text!r} is not a state (x or erledigt, in Arbeit, entfällt, offen) or a date"
            ) from None
    return found


def _transport(text: str) -> str:
    try:
        return Transport.parse(text).value
    except ValueError as exc:
        raise CellError(str(exc)) from None


def _dvdv(text: str) -> str:
    if not _DVDV_KEY.match(text):
        raise CellError(f"{text!r} is not a DVDV key such as 'bab:16051000'")
    return text


#: Items whose cells may hold a value instead of a state word: item key -> parser.
ITEM_VALUE_PARSERS: Final = {"transport": _transport, "dvdv": _dvdv}


def _split_date(text: str) -> tuple[str, date | None]:
    head, _, last = text.rpartition(" ")
    if head:
        try:
            return head.strip(), parse_date(last)
        except CellError:
            pass
    return text, None


def parse_cell(item: str, value: object) -> tuple[ItemState, date | None, str | None] | None:
    """Read one checklist cell of a plan table: ``(state, date, value)`` or None if empty.

    A date alone means done on that date; a state word may be followed by a date
    (``in Arbeit 12.03.2025``); the ``transport`` item takes a transport
    (``FIT-Connect``), the ``dvdv`` item a DVDV key, each optionally followed by a date.

    :raises CellError: the cell cannot be read.
    """
    if value is None:
        return None
    if isinstance(value, (date, datetime)):
        return ItemState.DONE, parse_date(value), None
    text = " ".join(str(value).split())
    if not text:
        return None
    try:
        return ItemState.DONE, parse_date(text), None
    except CellError:
        pass
    words, when = _split_date(text)
    if words.casefold() in _STATE_OF or words in ItemState._value2member_map_:
        return parse_state(words), when, None
    parser = ITEM_VALUE_PARSERS.get(item)
    if parser is not None:
        return ItemState.DONE, when, parser(words)
    return parse_state(words), when, None


def format_cell(state: ItemState, on: date | None, value: str | None) -> str:
    """Write one checklist cell the way :func:`parse_cell` reads it back."""
    if value is not None and state is ItemState.DONE:
        text = value
    elif state is ItemState.DONE and on is not None:
        return on.isoformat()
    else:
        text = _STATE_TEXT[state]
    return f"{text} {on.isoformat()}" if on is not None else text


def checklist_items(plan: RolloutPlan | None, services: Sequence[str] = ()) -> list[ChecklistItem]:
    """Return the checklist items a table of *plan* may have columns for, in order.

    The union of the plan's checklist and its services' own checklists (the default
    checklist without a plan), first occurrence wins.
    """
    lists: Iterable[Sequence[ChecklistItem]]
    if plan is None:
        lists = (DEFAULT_CHECKLIST,)
    else:
        keys = services or plan.service_keys
        lists = [plan.checklist_for(key) for key in keys]
    seen: dict[str, ChecklistItem] = {}
    for items in lists:
        for item in items:
            seen.setdefault(item.key, item)
    return list(seen.values())


class Content:
    """What a plan file holds: records, rejected entries and skipped input, in file order."""

    def __init__(self) -> None:
        self.records: list[Any] = []
        self.rejected: list[Any] = []
        self.skipped: list[Any] = []
        self._first: dict[tuple[str, str], str] = {}

    def add(self, record: Any, position: str, raw: object) -> None:
        """Add *record*, or reject it as a duplicate of an earlier one of the same key."""
        from efa_core.connectors import Rejected

        key = (record.KIND, record.natural_key)
        first = self._first.setdefault(key, position)
        if first != position:
            problem = f"duplicate {record.KIND} {record.natural_key!r}; the first is at {first}"
            self.rejected.append(
                Rejected(
                    record.KIND,
                    position,
                    raw,
                    [("$", problem)],
                )
            )
            return
        self.records.append(record)

    def reject(self, kind: str | None, position: str, raw: object, problems: Any) -> None:
        """Reject one entry with its problems (``(path, message)`` pairs)."""
        from efa_core.connectors import Rejected

        self.rejected.append(Rejected(kind, position, raw, problems))
