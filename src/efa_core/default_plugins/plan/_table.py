"""The table form of a plan (CSV or XLSX): one row per target area of a wave.

The columns (German or English headers; case, spaces and punctuation do not matter):

=====================  ====================================================================
column                 holds
=====================  ====================================================================
Welle (wave)           the wave's name; empty: the row only carries checklist states
Art (kind)             ``Pilot`` or ``Rollout`` (default)
Stichtag               the wave's Stichtag
Ziel Go-Live           the wave's target go-live date
ARS                    the target area (a Gemeinde, a Kreis or the Land); required
Name (Gemeinde)        the area's name (for people; not read)
Leistung (service)     the service the row's checklist states are for (empty: every
                       service of the plan)
<checklist item>       one column per item, headed by its key or label: a state word
                       (``x``, ``erledigt``, ``in Arbeit``, ``entfällt``, ``offen``), a
                       date (done on that day), or ``<word> <date>``; ``transport`` takes
                       ``FIT-Connect``, ``OSCI/XTA`` or ``andere``, ``dvdv`` a DVDV key
Bearbeiter (by)        who recorded the row's states
Bemerkung (note)       a note for the row's states
=====================  ====================================================================

The rows are read with :mod:`efa_core.tabular` (encodings, delimiters, title and footer
lines, merged cells, repeated headers); the header row is the first of the first rows with
an ARS and a Welle column.  Columns no field claims are counted as skipped (``column``).
A wave's Art, Stichtag and Ziel Go-Live may be repeated on each of its rows, but not
contradicted.  A row whose ARS lies inside another target of the same wave adds no target
(it carries states only).  The plan itself (key, name, Land, services) comes from the
connector options.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any, Final

import attrs

from efa_core.connectors import Skipped
from efa_core.default_plugins.plan._common import (
    CellError,
    Content,
    checklist_items,
    format_cell,
    parse_ars,
    parse_cell,
    parse_date,
)
from efa_core.ids import Ars
from efa_core.model import (
    ChecklistItem,
    OnboardingItem,
    RolloutPlan,
    Wave,
    WaveKind,
)
from efa_core.tabular import (
    Field,
    Row,
    SafeCsvWriter,
    Schema,
    append_row_as_text,
    fold,
    open_table,
    undefuse,
)

__all__ = ["COLUMNS", "ITEM_ALIASES", "plan_schema", "read_table", "write_csv", "write_xlsx"]

#: Column role -> the headers that name it (compared folded: case, umlauts, punctuation).
COLUMNS: Final[Mapping[str, tuple[str, ...]]] = {
    "wave": ("Welle", "Wave", "Rollout-Welle", "Roll-out-Welle"),
    "wave_kind": ("Art", "Wellenart", "Kind", "Wave kind"),
    "stichtag": ("Stichtag", "Cutoff"),
    "target_golive": (
        "Ziel Go-Live",
        "Go-Live (Ziel)",
        "Zieltermin",
        "Zieltermin Go-Live",
        "Target go-live",
    ),
    "ars": ("ARS", "Regionalschlüssel", "Amtlicher Regionalschlüssel"),
    "name": ("Name", "Gemeinde", "Kommune", "Gebiet", "Area"),
    "service": ("Leistung", "Dienst", "Onlinedienst", "Service"),
    "by": ("Bearbeiter", "Bearbeitet von", "By", "Verantwortlich"),
    "note": ("Bemerkung", "Bemerkungen", "Note", "Notes", "Kommentar"),
}
#: Default checklist item -> further headers that name its column (besides key and label).
ITEM_ALIASES: Final[Mapping[str, tuple[str, ...]]] = {
    "interest": ("Interesse", "Interessenbekundung"),
    "contract": ("Vertrag", "Vertragsschluss", "Nutzungsvereinbarung"),
    "transport": ("Übertragungsweg", "Transportweg", "Anbindungsweg"),
    "fachverfahren": ("Fachverfahren",),
    "zustaendigkeit": ("Zuständigkeit", "OE und Zuständigkeit", "Redaktionssystem", "PVOG"),
    "destination": ("Zustellpunkt", "FIT-Connect", "Destination"),
    "dvdv": ("DVDV",),
    "payment": ("ePayBL", "Bezahldaten", "Bezahlung"),
    "contacts": ("Ansprechpersonen", "Ansprechpartner", "Kontakte"),
    "production-test": ("Produktionstest", "Test"),
    "go-live": ("Go-Live", "Online"),
    "announcement": ("Bekanntmachung",),
}
_DESCRIPTIONS: Final = {
    "wave": "the wave's name",
    "wave_kind": "Pilot or Rollout",
    "stichtag": "the wave's Stichtag",
    "target_golive": "the wave's target go-live date",
    "ars": "the target area's ARS",
    "name": "the area's name",
    "service": "the service the row's checklist states are for",
    "by": "who recorded the row's states",
    "note": "a note for the row's states",
}
#: How the writer heads the columns.
_HEADINGS: Final = {
    "wave": "Welle",
    "wave_kind": "Art",
    "stichtag": "Stichtag",
    "target_golive": "Ziel Go-Live",
    "ars": "ARS",
    "name": "Name",
    "service": "Leistung",
    "by": "Bearbeiter",
    "note": "Bemerkung",
}
_KINDS: Final = {
    "pilot": WaveKind.PILOT,
    "pilotierung": WaveKind.PILOT,
    "pilotwelle": WaveKind.PILOT,
    "rollout": WaveKind.ROLLOUT,
    "roll out": WaveKind.ROLLOUT,
    "welle": WaveKind.ROLLOUT,
}


def _item_field(key: str) -> str:
    return "item_" + key.replace("-", "_")


def plan_schema(items: Sequence[ChecklistItem]) -> Schema:
    """Return the table schema of a plan with these checklist items (ARS and Welle required)."""
    fields = [
        Field(role, _DESCRIPTIONS[role], headers, required=role in ("ars", "wave"))
        for role, headers in COLUMNS.items()
    ]
    fields += [
        Field(
            _item_field(item.key),
            f"the checklist item {item.label!r}",
            (item.label, item.key, *ITEM_ALIASES.get(item.key, ())),
        )
        for item in items
    ]
    return Schema(fields)


# -- turning rows into records ---------------------------------------------------------------


@attrs.define
class _WaveDraft:
    name: str
    position: str
    kind: WaveKind | None = None
    stichtag: date | None = None
    target_golive: date | None = None
    targets: list[Ars] = attrs.field(factory=list)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return " ".join(undefuse(str(value)).split()) or None


def _wave_values(row: Row) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    values: dict[str, Any] = {}
    problems = []
    kind = _text(row.get("wave_kind"))
    if kind is not None:
        found = _KINDS.get(fold(kind))
        if found is None:
            problems.append(("Art", f"{kind!r} is not a wave kind (Pilot or Rollout)"))
        else:
            values["kind"] = found
    for role, column in (("stichtag", "Stichtag"), ("target_golive", "Ziel Go-Live")):
        value = row.get(role)
        if value is not None:
            try:
                values[role] = parse_date(value)
            except CellError as exc:
                problems.append((column, str(exc)))
    return values, problems


def _conflicts(draft: _WaveDraft, values: Mapping[str, Any]) -> list[tuple[str, str]]:
    problems = []
    labels = {"kind": "Art", "stichtag": "Stichtag", "target_golive": "Ziel Go-Live"}
    for field, value in values.items():
        current = getattr(draft, field)
        if current is not None and current != value:
            shown = current.value if isinstance(current, WaveKind) else current.isoformat()
            problems.append(
                (
                    labels[field],
                    f"wave {draft.name!r} has {labels[field]} {shown} at {draft.position}",
                )
            )
    return problems


def _merge(draft: _WaveDraft, values: Mapping[str, Any]) -> None:
    for field, value in values.items():
        if getattr(draft, field) is None:
            setattr(draft, field, value)


def read_table(
    path: Path,
    plan: RolloutPlan,
    *,
    sheet: str | None = None,
    encoding: str | None = None,
    label: str | None = None,
) -> Content:
    """Read the plan table *path* (CSV or XLSX) into waves and onboarding items of *plan*.

    Rows are read with :func:`efa_core.tabular.open_table` (encodings, delimiters, title
    and footer lines, merged cells).

    :raises SourceNotUnderstood: no header row with an ARS and a Welle column was found,
        or the file is no table.
    """
    content = Content()
    items = checklist_items(plan)
    schema = plan_schema(items)
    with open_table(
        path, schema, sheet=sheet, encoding=encoding, source_name=label, name=str(path)
    ) as table:
        claimed = set(table.columns.indexes.values())
        for index, header in enumerate(table.header):
            if index not in claimed and header.strip():
                content.skipped.append(
                    Skipped("column", f"unknown column {header.strip()!r}", 1, str(path))
                )
        item_fields = [
            (item.key, _item_field(item.key), table.columns.headers[_item_field(item.key)])
            for item in items
            if _item_field(item.key) in table.columns.indexes
        ]
        waves: dict[str, _WaveDraft] = {}
        for row in table:
            _read_row(row, item_fields, plan, waves, content)
        content.skipped.extend(table.skipped)
    for draft in waves.values():
        targets = [
            t for t in draft.targets if not any(o != t and o.contains(t) for o in draft.targets)
        ]
        raw = {"wave": draft.name, "targets": [str(t) for t in targets]}
        try:
            wave = Wave(
                plan_key=plan.key,
                name=draft.name,
                wave_kind=draft.kind or WaveKind.ROLLOUT,
                targets=targets,
                stichtag=draft.stichtag,
                target_golive=draft.target_golive,
            )
        except ValueError as exc:
            content.reject("plan-wave", draft.position, raw, [("$", str(exc))])
            continue
        content.add(wave, draft.position, raw)
    return content


def _read_row(
    row: Row,
    item_fields: Sequence[tuple[str, str, str]],
    plan: RolloutPlan,
    waves: dict[str, _WaveDraft],
    content: Content,
) -> None:
    position = row.position
    raw = row.raw()
    ars_value = row.get("ars")
    if ars_value is None:
        content.reject("plan-row", position, raw, [("ARS", "required field missing")])
        return
    try:
        ars = parse_ars(ars_value)
    except CellError as exc:
        content.reject("plan-row", position, raw, [("ARS", str(exc))])
        return
    if not plan.land.ars.contains(ars):
        given = _text(ars_value)
        shown = str(ars) if given == str(ars) else f"{ars} (given as {given})"
        message = f"{shown} does not lie in {plan.land.name_de} ({plan.land.code})"
        content.reject("plan-row", position, raw, [("ARS", message)])
        return
    services = plan.service_keys
    problems: list[tuple[str, str]] = []
    service = _text(row.get("service"))
    if service is not None and service not in services:
        problems.append(
            (
                "Leistung",
                f"{service!r} is not a service of plan {plan.key!r} ({', '.join(services)})",
            )
        )
    wave_name = _text(row.get("wave"))
    values, wave_problems = _wave_values(row)
    problems += wave_problems
    draft = None if wave_name is None else waves.get(wave_name)
    if draft is not None:
        problems += _conflicts(draft, values)
    if problems:
        content.reject("plan-row", position, raw, problems)
        return
    if wave_name is not None:
        if draft is None:
            draft = waves[wave_name] = _WaveDraft(name=wave_name, position=position)
        _merge(draft, values)
        if ars not in draft.targets:
            draft.targets.append(ars)
    by = _text(row.get("by"))
    note = _text(row.get("note"))
    for key, field, header in item_fields:
        cell = row.get(field)
        if isinstance(cell, str):
            cell = undefuse(cell)  # a CSV efa wrote: formula starts are marked (write_csv)
        try:
            parsed = parse_cell(key, cell)
        except CellError as exc:
            content.reject("onboarding-item", position, {header: _text(cell)}, [(header, str(exc))])
            continue
        if parsed is None:
            continue
        state, on, value = parsed
        for service_key in [service] if service is not None else services:
            try:
                item = OnboardingItem(
                    plan_key=plan.key,
                    service_key=service_key,
                    ars=ars,
                    item=key,
                    state=state,
                    on=on,
                    by=by,
                    value=value,
                    note=note,
                )
            except ValueError as exc:
                content.reject(
                    "onboarding-item", position, {header: _text(cell)}, [(header, str(exc))]
                )
                continue
            content.add(item, position, {header: _text(cell), "service": service_key})


# -- writing ---------------------------------------------------------------------------------


def _wave_order(wave: Wave) -> tuple[date, date, str]:
    return (wave.target_golive or date.max, wave.stichtag or date.max, wave.name)


def _rows(
    plan: RolloutPlan,
    waves: Sequence[Wave],
    items: Sequence[OnboardingItem],
    names: Mapping[str, str],
) -> tuple[list[str], list[list[Any]]]:
    checklist = checklist_items(plan)
    for wave in waves:
        if wave.services:
            raise ValueError(
                f"wave {wave.name!r} names its own services; a plan table cannot hold that "
                "(write the plan as YAML)"
            )
    if plan.checklist or any(s.checklist for s in plan.services):
        raise ValueError("a plan table holds the default checklist only (write the plan as YAML)")
    header = [_HEADINGS[r] for r in ("wave", "wave_kind", "stichtag", "target_golive", "ars")]
    header += [_HEADINGS["name"], _HEADINGS["service"]]
    header += [item.label for item in checklist]
    header += [_HEADINGS["by"], _HEADINGS["note"]]
    ordered = sorted(waves, key=_wave_order)
    by_cell: dict[tuple[str, str], dict[str, OnboardingItem]] = {}
    for item in items:
        by_cell.setdefault((str(item.ars), item.service_key), {})[item.item] = item

    def home(ars: Ars) -> Wave | None:
        return next((w for w in ordered if any(t.contains(ars) for t in w.targets)), None)

    placed: dict[str | None, dict[str, list[str]]] = {}
    for ars_text, service in by_cell:
        found = home(Ars(ars_text))
        placed.setdefault(None if found is None else found.natural_key, {}).setdefault(
            ars_text, []
        ).append(service)
    out: list[list[Any]] = []

    def row(wave: Wave | None, ars: str, service: str | None) -> list[Any]:
        cells = by_cell.get((ars, service), {}) if service is not None else {}
        states = [
            format_cell(c.state, c.on, c.value) if (c := cells.get(i.key)) else None
            for i in checklist
        ]
        bys = {c.by for c in cells.values()}
        notes = {c.note for c in cells.values()}
        return [
            None if wave is None else wave.name,
            None if wave is None else wave.wave_kind.value.title(),
            None if wave is None or wave.stichtag is None else wave.stichtag,
            None if wave is None or wave.target_golive is None else wave.target_golive,
            ars,
            names.get(ars),
            service,
            *states,
            bys.pop() if len(bys) == 1 else None,
            notes.pop() if len(notes) == 1 else None,
        ]

    for wave in ordered:
        cells_here = placed.get(wave.natural_key, {})
        written: set[str] = set()
        for target in wave.targets:
            key = str(target)
            written.add(key)
            if key in cells_here:
                out.extend(row(wave, key, s) for s in sorted(cells_here[key]))
            else:
                out.append(row(wave, key, None))
        for ars_text in sorted(cells_here):
            if ars_text not in written:
                out.extend(row(wave, ars_text, s) for s in sorted(cells_here[ars_text]))
    for ars_text in sorted(placed.get(None, {})):
        out.extend(row(None, ars_text, s) for s in sorted(placed[None][ars_text]))
    return header, out


def _csv_text(value: Any) -> Any:
    if value is None:
        return ""
    return value.isoformat() if isinstance(value, date) else value


def write_csv(
    path: Path,
    plan: RolloutPlan,
    waves: Sequence[Wave],
    items: Sequence[OnboardingItem],
    names: Mapping[str, str] | None = None,
) -> None:
    """Write the table form of a plan as CSV (``;``, UTF-8 with BOM, for spreadsheets).

    No value opens as a formula (:class:`efa_core.tabular.SafeCsvWriter`: a note
    ``=HYPERLINK(…)`` or a state ``-`` is written ``'=HYPERLINK(…)``, ``'-``);
    :func:`read_table` takes those marks out again, so the file reads back as written.
    """
    header, rows = _rows(plan, waves, items, names or {})
    buffer = io.StringIO(newline="")
    writer = SafeCsvWriter(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(header)
    for cells in rows:
        writer.writerow(
            ["" if c is None else (c.isoformat() if isinstance(c, date) else c) for c in cells]
        )
    path.write_text("\ufeff" + buffer.getvalue(), encoding="utf-8", newline="")


def write_xlsx(
    path: Path,
    plan: RolloutPlan,
    waves: Sequence[Wave],
    items: Sequence[OnboardingItem],
    names: Mapping[str, str] | None = None,
) -> None:
    """Write the table form of a plan as an XLSX workbook (sheet ``Plan``)."""
    import openpyxl
    from openpyxl.styles import Font

    header, rows = _rows(plan, waves, items, names or {})
    workbook = openpyxl.Workbook()
    ws = workbook.active
    assert ws is not None
    ws.title = "Plan"
    ws.append(header)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for cells in rows:
        append_row_as_text(ws, cells)
    ars_column = header.index("ARS") + 1
    for number in range(2, ws.max_row + 1):
        ws.cell(number, ars_column).number_format = "@"
        for column in (3, 4):
            ws.cell(number, column).number_format = "DD.MM.YYYY"
    ws.freeze_panes = "A2"
    workbook.save(path)
