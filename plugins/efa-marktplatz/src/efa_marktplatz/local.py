"""The ``local`` connector: the user's own agreements and notes, kept in their repository.

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

    notes:                              # only text is required
      - date: 2024-05-12                # what day the note is about (or 12.05.2024)
        text: Kickoff with the pilot municipality
        service: wohnsitzanmeldung      # the service it is about
        subscriber: Erfurt              # the subscriber it is about (name) ...
        ars: "160510000000"             # ... and its ARS, as for agreements
        kind: kreisfreie Stadt          # optional, as for agreements
        reference: NV-2024-17           # with service and subscriber: the agreement
        author: M. Muster
        key: kickoff-erfurt             # optional: a stable key of your own
        modified: 2024-05-13

An entry and its ``history`` are the status rows of one agreement and go through the same
lifecycle check as an export (:mod:`efa_marktplatz.build`).  Bad entries become
:class:`~efa_core.connectors.Rejected` at ``"<file>:line <N>"``; unknown keys of an entry
are problems too (typos should not pass silently).

**Notes** become :class:`~efa_core.model.Note` records (see :func:`note_items`).  Their
``subscriber`` is the subscriber's natural key, found by the rules of agreements
(``ars:<ARS>``; ``org:<slug of the name>`` for kind ``Organisation``); a name alone is
enough for a Land (``Thüringen``) and for a subscriber of an agreement in the same file
(``Stadt Weimar``), ``ars`` alone is enough too.  With ``service`` and a subscriber, the
note is about the agreement ``<service>@<subscriber>[#<reference>]``.

A note without ``key`` gets one derived from its date and text:
``"<yyyy-mm-dd>-<slug of the text>"`` (just the slug without a date; a slug longer than 60
characters is cut at a word and ends with 8 hex digits of a hash of the whole slug).  The
derived key changes when the text does, so the store sees a new note and tombstones the
old one: give a ``key`` to keep a note's identity while you edit it.  Two notes with the
same key are a problem (the second is rejected).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, ClassVar

import attrs

from efa_core.connectors import Capability, Rejected, Upsert
from efa_core.errors import ConnectorError, EfaError
from efa_core.model import Note, Subscriber
from efa_core.tabular import Cell, CellWarnings, parse_ars, parse_date, parse_land, slugify
from efa_marktplatz._snapshot import FileSnapshotConnector
from efa_marktplatz.build import Item, SourceRow, _Problems, _subscriber, agreement_items
from efa_marktplatz.columns import AGREEMENTS
from efa_marktplatz.connector import (
    _delimiter,
    _encoding,
    _positive,
    check_columns,
    check_states,
    read_export,
    state_labels,
)
from efa_marktplatz.states import normalize_label

__all__ = ["NOTE_KEYS", "YAML_KEYS", "LocalConfig", "LocalConnector", "note_items", "yaml_items"]

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
#: The keys of a note entry in YAML → the logical field they fill.
NOTE_KEYS: Mapping[str, str] = {
    "key": "key",
    "date": "date",
    "text": "text",
    "service": "service_key",
    "subscriber": "subscriber_name",
    "ars": "subscriber_ars",
    "kind": "subscriber_kind",
    "reference": "reference",
    "author": "author",
    "modified": "modified",
}
_NOTE_SLUG_MAX = 60
_NOTE_SLUG_HEAD = 51
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


def _mapped_values(
    entry: Mapping[Any, Any], keys: Mapping[str, str], *, extra: Sequence[str] = ()
) -> tuple[dict[str, Cell], list[tuple[str, str]]]:
    """Map an entry's YAML keys to logical fields; problems are named by the YAML key.

    Keys in *extra* are known but handled by the caller (skipped here); every other key
    must be in *keys* and hold a single value.
    """
    values: dict[str, Cell] = {}
    problems: list[tuple[str, str]] = []
    for key, value in entry.items():
        if key in extra:
            continue
        field = keys.get(str(key))
        if field is None:
            known = ", ".join([*keys, *extra])
            problems.append((str(key), f"unknown key {key!r}; known keys: {known}"))
            continue
        cell = _scalar(value)
        if cell is None and value is not None:
            problems.append((str(key), f"must be a single value, not a {type(value).__name__}"))
            continue
        values[field] = cell
    return values, problems


def _entry_rows(
    name: str, node: Any, entry: object, index: int
) -> tuple[list[SourceRow], Rejected | None]:
    position = f"{name}:line {_line(node)}"
    if not isinstance(entry, dict):
        problem = ("$", f"an agreement is a mapping (key: value), not {type(entry).__name__}")
        return [], Rejected("agreement", position, entry, [problem])
    values, problems = _mapped_values(entry, YAML_KEYS, extra=("history",))
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


def _note_key(text: str, on: datetime | None) -> str:
    """Derive a note's key from its date and text (see the module docs)."""
    slug = slugify(text)
    if len(slug) > _NOTE_SLUG_MAX:
        digest = hashlib.blake2b(slug.encode(), digest_size=4).hexdigest()
        head = slug[:_NOTE_SLUG_HEAD]
        if "-" in head:
            head = head.rsplit("-", 1)[0]
        slug = f"{head}-{digest}"
    return slug if on is None else f"{on.date().isoformat()}-{slug}"


def _note_subscriber(
    row: SourceRow, problems: _Problems, known: Mapping[str, set[str]]
) -> str | None:
    """Return the natural key of the subscriber a note names (see the module docs)."""
    name = row.text("subscriber_name")
    if name is None:
        ars = problems.parse("subscriber_ars", parse_ars)
        return None if ars is None else f"ars:{ars}"
    if row.get("subscriber_ars") is None and row.get("subscriber_kind") is None:
        keys = known.get(normalize_label(name), set())
        if len(keys) == 1:
            return next(iter(keys))
        try:
            return f"ars:{parse_land(name).ars}"
        except ValueError:
            pass
        why = (
            f"names {len(keys)} subscribers of this file ({', '.join(sorted(keys))})"
            if keys
            else "is neither a Land nor a subscriber of an agreement in this file"
        )
        problems.add(
            "subscriber_ars",
            f"missing: {name!r} {why}; give its ARS (ars) or kind Organisation (kind)",
        )
        return None
    subscriber = _subscriber(row, problems)
    return None if subscriber is None else subscriber.natural_key


def _note(row: SourceRow, known: Mapping[str, set[str]]) -> Note | Rejected:
    """Build the note of one YAML entry (its cells keyed by the fields of :data:`NOTE_KEYS`)."""
    problems = _Problems(row)
    text = row.block("text")
    if text is None:
        problems.add("text", "missing: a note needs a text")
    on = problems.parse("date", parse_date)
    modified = problems.parse("modified", parse_date)
    subscriber = _note_subscriber(row, problems, known)
    service = row.text("service_key")
    if problems.items or text is None:
        return problems.rejected(Note.KIND)
    on_at = on if isinstance(on, datetime) else None
    key = row.text("key")
    if key is None:
        try:
            key = _note_key(text, on_at)
        except ValueError as exc:
            problems.add("text", f"{exc}; give the note a key")
            return problems.rejected(Note.KIND)
    agreement = None
    if service is not None and subscriber is not None:
        agreement = f"{service}@{subscriber}"
        reference = row.text("reference")
        if reference is not None:
            agreement = f"{agreement}#{reference}"
    try:
        return Note(
            key=key,
            text=text,
            on=on_at,
            service_key=service,
            subscriber=subscriber,
            agreement_key=agreement,
            author=row.text("author"),
            modified_at=modified if isinstance(modified, datetime) else None,
        )
    except (ValueError, EfaError) as exc:
        problems.add(getattr(exc, "field", "$"), str(exc))
        return problems.rejected(Note.KIND)


def note_items(
    name: str,
    nodes: Sequence[Any],
    notes: Sequence[object],
    *,
    subscribers: Iterable[Subscriber] = (),
) -> list[Item]:
    """Turn the ``notes`` entries of a local YAML file into note upserts and rejected entries.

    *nodes* are the entries' YAML nodes (for the line numbers), *notes* the entries.
    *subscribers* (those of the file's agreements) let a note name a subscriber by its name
    alone.  Every problem of an entry is named by its YAML key; unknown keys are problems.
    """
    known: dict[str, set[str]] = {}
    for subscriber in subscribers:
        known.setdefault(normalize_label(subscriber.name), set()).add(subscriber.natural_key)
    items: list[Item] = []
    seen: dict[str, str] = {}
    labels = {field: key for key, field in NOTE_KEYS.items()}
    for node, entry in zip(nodes, notes, strict=True):
        position = f"{name}:line {_line(node)}"
        if not isinstance(entry, dict):
            problem = ("$", f"a note is a mapping with at least a text, not {type(entry).__name__}")
            items.append(Rejected(Note.KIND, position, entry, [problem]))
            continue
        values, problems = _mapped_values(entry, NOTE_KEYS)
        if problems:
            items.append(Rejected(Note.KIND, position, entry, problems))
            continue
        built = _note(SourceRow(position=position, raw=entry, values=values), known)
        if isinstance(built, Rejected):  # name the problems by their YAML keys
            named = [(labels.get(path, path), message) for path, message in built.problems]
            built = Rejected(Note.KIND, position, entry, named)
        else:
            first = seen.get(built.key)
            if first is not None:
                message = (
                    f"duplicate note key {built.key!r} (also at {first}); give one of the "
                    "notes its own key"
                )
                built = Rejected(Note.KIND, position, entry, [("key", message)])
            else:
                seen[built.key] = position
        items.append(built if isinstance(built, Rejected) else Upsert(built))
    return items


def yaml_items(
    text: str, *, name: str, states: Mapping[str, Any] | None = None, where: str = ""
) -> tuple[list[Item], int]:
    """Build the items of a local YAML file: agreements first, then notes.

    Returns the items and the number of note entries read.

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
    items = agreement_items(rows, states=state_labels(dict(states or {})), rejected=early)
    if notes:
        subscribers = [
            item.record
            for item in items
            if isinstance(item, Upsert) and isinstance(item.record, Subscriber)
        ]
        items.extend(note_items(name, note_nodes.value, notes, subscribers=subscribers))
    return items, len(notes)


class LocalConnector(FileSnapshotConnector):
    """The user's own agreements and notes from a YAML file, as a SNAPSHOT source.

    A CSV or XLSX file holds agreements only (the columns of an interest/contract list).
    """

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

    def load(self, warnings: list[str]) -> list[Item]:
        """Read the YAML file, or the CSV/XLSX agreements list."""
        path = self.path
        name = str(path)
        if path.suffix.lower() in _YAML_SUFFIXES:
            where = f"{self.label}: local file {name!r}"
            text = _yaml_text(path, where)
            items, _ = yaml_items(text, name=name, states=self.config.states, where=where)
            return items
        cells = CellWarnings()
        with read_export(
            path,
            where=f"local file {name!r}",
            name=name,
            schema=AGREEMENTS,
            columns=self.config.columns,
            encoding=self.config.encoding,
            delimiter=self.config.delimiter,
            sheet=self.config.sheet,
            source=self.name,
            warnings=warnings,
        ) as (rows, skipped, _):
            states = state_labels(self.config.states)
            items = [*agreement_items(rows, states=states, warnings=cells), *skipped()]
        warnings.extend(cells.lines(f"source {self.name!r}, local file {name!r}"))
        return items


def _yaml_text(path: Path, where: str) -> str:
    """Read a YAML file as UTF-8 (BOM optional); the error names the line of a bad byte."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConnectorError(f"{where}: the file does not exist") from None
    except OSError as exc:
        raise ConnectorError(f"{where}: cannot read the file: {exc}") from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ConnectorError(
            f"{where}: line {line} is not utf-8 text ({exc.reason} at byte {exc.start}); "
            "YAML files are UTF-8"
        ) from None
