"""The ``local`` connector: the user's own agreements (and notes), kept in their repository.

The user's knowledge is a source like any other, synced and versioned in the store: an
agreement a registry does not show yet, a Verwaltungsabkommen, the date of a kickoff.
Keep it in a YAML file (or a CSV/XLSX list with the columns of an interest/contract
export)::

    [connectors.own]
    type = "local"
    path = "efa-local.yaml"

The YAML format (every key but ``service``, ``subscriber`` and ``state`` is optional)::

    agreements:
      - service: wohnsitzanmeldung      # the service key (e.g. the Marktplatz offer id)
        subscriber: Erfurt              # the subscriber's name
        ars: "160510000000"             # its ARS; not needed for a Land
        kind: kreisfreie Stadt          # Land, Kreis, kreisfreie Stadt, Gemeinde, Organisation
        state: contracted               # a lifecycle state or a registry status text
        date: 2024-05-12                # when that state was reached (or 12.05.2024)
        channel: fit_store              # FIT-Store, govdigital, FITKO, Verwaltungsabkommen
        reference: NV-2024-17           # a contract or case number
        history:                        # earlier states, oldest first
          - {state: Interessenbekundung, date: 2024-02-01}
          - {state: Abstimmung, date: 2024-03-10}

    notes:
      - date: 2024-05-12
        text: Kickoff with the pilot municipality
        service: wohnsitzanmeldung
        subscriber: Erfurt

An entry and its ``history`` are the status rows of one agreement and go through the same
lifecycle check as an export (:mod:`efa_marktplatz.build`).  Bad entries become
:class:`~efa_core.connectors.Rejected` at ``"<file>:line <N>"``; unknown keys of an entry
are problems too (typos should not pass silently).

**Notes** are read and checked but not synced yet: efa-core has no record kind for them.
A pull logs how many notes it skipped.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import date, time
from pathlib import Path
from typing import Any, ClassVar

import attrs

from efa_core.connectors import Capability, Rejected
from efa_core.errors import ConnectorError
from efa_marktplatz._snapshot import FileSnapshotConnector
from efa_marktplatz.build import Item, SourceRow, agreement_items
from efa_marktplatz.columns import AGREEMENT_FIELDS, AGREEMENT_REQUIRED
from efa_marktplatz.connector import (
    _delimiter,
    _encoding,
    _positive,
    check_columns,
    check_states,
    read_export,
    state_labels,
)
from efa_marktplatz.tabular import decode_text
from efa_marktplatz.values import Cell, parse_date

__all__ = ["YAML_KEYS", "LocalConfig", "LocalConnector", "yaml_items"]

log = logging.getLogger("efa_marktplatz")

#: The keys of an agreement entry in YAML → the logical field they fill.
YAML_KEYS: Mapping[str, str] = {
    "service": "service_key",
    "service_name": "service_name",
    "subscriber": "subscriber_name",
    "ars": "subscriber_ars",
    "kind": "subscriber_kind",
    "state": "state",
    "date": "date",
    "contract_start": "contract_start",
    "contract_end": "contract_end",
    "channel": "channel",
    "reference": "reference",
    "modified": "modified",
}
_HISTORY_KEYS = ("state", "date")
_NOTE_KEYS = ("date", "text", "service", "subscriber", "ars", "reference", "author")
_TOP_KEYS = ("agreements", "notes")
_YAML_SUFFIXES = (".yaml", ".yml")


def _non_blank(inst: object, attribute: attrs.Attribute[Any], value: str) -> None:
    if not value.strip():
        raise ValueError(f"{attribute.name} must not be empty")


@attrs.frozen(kw_only=True)
class LocalConfig:
    """Options of a ``local`` connector."""

    #: The file: ``.yaml``/``.yml`` (the format above), else a CSV or XLSX agreements list.
    path: str = attrs.field(validator=_non_blank)
    #: Extra status texts → agreement state values.
    states: dict[str, str] = attrs.field(factory=dict, hash=False, validator=check_states)
    #: CSV/XLSX only: logical field → header.
    columns: dict[str, str] = attrs.field(factory=dict, hash=False, validator=check_columns)
    #: CSV only: the encoding (default: UTF-8, else cp1252).
    encoding: str | None = attrs.field(default=None, validator=_encoding)
    #: CSV only: the delimiter (default: detected).
    delimiter: str | None = attrs.field(default=None, validator=_delimiter)
    #: XLSX only: the sheet (default: the first).
    sheet: str | None = None
    #: Items (records and rejected entries) per batch.
    batch_size: int = attrs.field(default=500, validator=_positive)


def _scalar(value: object) -> Cell | None:
    """Return a YAML value usable as a cell, or ``None`` for lists and mappings."""
    if value is None or isinstance(value, (str, int, float, bool, date, time)):
        return value
    return None


def _line(node: Any) -> int:
    return int(node.start_mark.line) + 1


def _entry_rows(
    name: str, node: Any, entry: object, index: int
) -> tuple[list[SourceRow], Rejected | None]:
    position = f"{name}:line {_line(node)}"
    if not isinstance(entry, dict):
        problem = ("$", f"an agreement is a mapping (key: value), not {type(entry).__name__}")
        return [], Rejected("agreement", position, entry, [problem])
    problems: list[tuple[str, str]] = []
    values: dict[str, Cell] = {}
    for key, value in entry.items():
        if key == "history":
            continue
        field = YAML_KEYS.get(str(key))
        if field is None:
            known = ", ".join([*YAML_KEYS, "history"])
            problems.append((str(key), f"unknown key {key!r}; known keys: {known}"))
            continue
        cell = _scalar(value)
        if cell is None and value is not None:
            problems.append((str(key), f"must be a single value, not a {type(value).__name__}"))
            continue
        values[field] = cell
    history = entry.get("history") or []
    history_nodes = _value_node(node, "history")
    if not isinstance(history, list):
        problems.append(("history", "must be a list of {state, date} entries"))
        history = []
    rows: list[SourceRow] = []
    labels = {field: key for key, field in YAML_KEYS.items()}
    for number, step in enumerate(history):
        step_node = history_nodes.value[number] if history_nodes is not None else node
        where = f"history[{number}]"
        if not isinstance(step, dict) or not set(step) <= set(_HISTORY_KEYS):
            problems.append((where, "must be a mapping with the keys state and date"))
            continue
        step_values = dict(values)
        step_values["state"] = _scalar(step.get("state"))
        step_values["date"] = _scalar(step.get("date"))
        rows.append(
            SourceRow(
                position=f"{name}:line {_line(step_node)}",
                raw={**entry, "history": [step]},
                values=step_values,
                labels=labels,
                index=index + number,
            )
        )
    if problems:
        return [], Rejected("agreement", position, entry, problems)
    rows.append(
        SourceRow(
            position=position,
            raw=entry,
            values=values,
            labels=labels,
            index=index + len(rows),
        )
    )
    return rows, None


def _value_node(node: Any, key: str) -> Any:
    """Return the value node of *key* in a YAML mapping node, or ``None``."""
    for key_node, value_node in getattr(node, "value", ()):
        if getattr(key_node, "value", None) == key:
            return value_node
    return None


def _check_note(name: str, node: Any, note: object) -> str | None:
    position = f"{name}:line {_line(node)}"
    if not isinstance(note, dict):
        return f"{position}: a note is a mapping with date and text"
    unknown = sorted(str(k) for k in note if k not in _NOTE_KEYS)
    if unknown:
        return f"{position}: unknown key(s) {', '.join(unknown)}; known: {', '.join(_NOTE_KEYS)}"
    if not str(note.get("text") or "").strip():
        return f"{position}: a note needs a text"
    if note.get("date") is not None:
        try:
            parse_date(_scalar(note["date"]))
        except ValueError as exc:
            return f"{position}: date: {exc}"
    return None


def yaml_items(
    text: str, *, name: str, states: Mapping[str, Any] | None = None, where: str = ""
) -> tuple[list[Item], int]:
    """Build the items of a local YAML file; return them and the number of notes read.

    :raises ConnectorError: the text is not YAML or not of the documented shape.
    """
    import yaml

    prefix = where or name
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    except yaml.YAMLError as exc:
        raise ConnectorError(f"{prefix}: not valid YAML: {exc}") from exc
    finally:
        loader.dispose()
    if data is None:
        return [], 0
    if not isinstance(data, dict):
        raise ConnectorError(
            f"{prefix}: the file must be a mapping with the keys {', '.join(_TOP_KEYS)}"
        )
    unknown = [str(key) for key in data if key not in _TOP_KEYS]
    if unknown:
        raise ConnectorError(
            f"{prefix}: unknown top-level key(s) {', '.join(map(repr, unknown))}; "
            f"known: {', '.join(_TOP_KEYS)}"
        )
    rows: list[SourceRow] = []
    early: list[tuple[int, Rejected]] = []
    agreements = data.get("agreements") or []
    agreement_nodes = _value_node(root, "agreements")
    if not isinstance(agreements, list):
        raise ConnectorError(f"{prefix}: 'agreements' must be a list of entries")
    index = 0
    for number, entry in enumerate(agreements):
        node = agreement_nodes.value[number]
        entry_rows, rejected = _entry_rows(name, node, entry, index)
        if rejected is not None:
            early.append((index, rejected))
        index += len(entry_rows) + 1
        rows.extend(entry_rows)
    notes = data.get("notes") or []
    if not isinstance(notes, list):
        raise ConnectorError(f"{prefix}: 'notes' must be a list of entries")
    note_nodes = _value_node(root, "notes")
    for number, note in enumerate(notes):
        problem = _check_note(name, note_nodes.value[number], note)
        if problem is not None:
            log.warning("%s: note skipped: %s", prefix, problem)
    items = agreement_items(rows, states=state_labels(dict(states or {})), rejected=early)
    return items, len(notes)


class LocalConnector(FileSnapshotConnector):
    """The user's own agreements from a YAML (or CSV/XLSX) file, as a SNAPSHOT source."""

    type_name: ClassVar[str] = "local"
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.SNAPSHOT})
    config_class: ClassVar[type[Any]] = LocalConfig

    config: LocalConfig

    @property
    def path(self) -> Path:
        """The file, with ``~`` expanded."""
        return Path(self.config.path).expanduser()

    def files(self) -> Sequence[tuple[str, Path]]:
        """Return the one file of the source."""
        return [("local", self.path)]

    def load(self, contents: Sequence[bytes]) -> list[Item]:
        """Read the YAML file, or the CSV/XLSX agreements list."""
        path = self.path
        name = str(path)
        where = f"{self.label}: local file {name!r}"
        (data,) = contents
        if path.suffix.lower() in _YAML_SUFFIXES:
            text, _ = decode_text(data, "utf-8", where)
            items, notes = yaml_items(text, name=name, states=self.config.states, where=where)
            if notes:
                log.warning(
                    "%s: %d note(s) read but not synced: efa-core has no record kind for notes yet",
                    where,
                    notes,
                )
            return items
        rows = read_export(
            data,
            where=where,
            name=name,
            fields=AGREEMENT_FIELDS,
            required=AGREEMENT_REQUIRED,
            columns=self.config.columns,
            encoding=self.config.encoding,
            delimiter=self.config.delimiter,
            sheet=self.config.sheet,
        )
        return agreement_items(rows, states=state_labels(self.config.states))
