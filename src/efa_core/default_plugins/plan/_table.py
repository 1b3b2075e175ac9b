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

The header row is searched for in the first 30 lines (title lines above it are skipped).
A wave's Art, Stichtag and Ziel Go-Live may be repeated on each of its rows, but not
contradicted.  A row whose ARS lies inside another target of the same wave adds no target
(it carries states only).  The plan itself (key, name, Land, services) comes from the
connector options.
"""

from __future__ import annotations

import codecs
import csv
import io
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any, Final

import attrs

from efa_core.connectors import Skipped
from efa_core.default_plugins.plan._common import (
    CellError,
    Content,
    cell_value,
    checklist_items,
    format_cell,
    parse_ars,
    parse_cell,
    parse_date,
)
from efa_core.errors import SourceNotUnderstood
from efa_core.ids import Ars
from efa_core.model import (
    ChecklistItem,
    OnboardingItem,
    RolloutPlan,
    Wave,
    WaveKind,
)

__all__ = ["COLUMNS", "ITEM_ALIASES", "read_table", "table_rows", "write_csv", "write_xlsx"]

#: Column role -> the header texts (normalised) that name it.
COLUMNS: Final[Mapping[str, tuple[str, ...]]] = {
    "wave": ("welle", "wave", "rolloutwelle"),
    "wave_kind": ("art", "wellenart", "kind", "wavekind"),
    "stichtag": ("stichtag", "cutoff", "cutoffdate"),
    "target_golive": (
        "zielgolive",
        "goliveziel",
        "zieltermin",
        "zieltermingolive",
        "targetgolive",
        "golivetarget",
    ),
    "ars": ("ars", "regionalschlussel", "regionalschluessel", "amtlicherregionalschlussel"),
    "name": ("name", "gemeinde", "kommune", "gebiet", "area"),
    "service": ("leistung", "dienst", "onlinedienst", "service"),
    "by": ("bearbeiter", "bearbeitetvon", "by", "verantwortlich"),
    "note": ("bemerkung", "bemerkungen", "note", "notes", "kommentar"),
}
#: Default checklist item -> further header texts (normalised) that name its column.
ITEM_ALIASES: Final[Mapping[str, tuple[str, ...]]] = {
    "interest": ("interesse", "interessebekundet", "interessenbekundung"),
    "contract": ("vertrag", "vertragsschluss", "nutzungsvereinbarung"),
    "transport": ("ubertragungsweg", "transportweg", "anbindungsweg"),
    "fachverfahren": ("fachverfahren", "fachverfahrenangebunden"),
    "zustaendigkeit": ("zustandigkeit", "oeundzustandigkeit", "redaktionssystem", "pvog"),
    "destination": ("zustellpunkt", "fitconnect", "fitconnectzustellpunkt"),
    "dvdv": ("dvdv", "dvdveintrag"),
    "payment": ("epaybl", "bezahldaten", "bezahlung"),
    "contacts": ("ansprechpersonen", "ansprechpartner", "kontakte"),
    "production-test": ("produktionstest", "test"),
    "go-live": ("golive", "liveschaltung", "online"),
    "announcement": ("bekanntmachung",),
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
    "welle": WaveKind.ROLLOUT,
    "": WaveKind.ROLLOUT,
}
_HEADER_SEARCH: Final = 30
_DELIMITERS: Final = (";", ",", "\t", "|")
_FOOTER_WORDS: Final = ("stand", "export", "summe", "gesamt", "quelle", "erstellt")


def _norm(text: object) -> str:
    """Normalise a header: no accents, case, spaces or punctuation (``zielgolive``)."""
    decomposed = unicodedata.normalize("NFKD", str(text)).casefold()
    return "".join(c for c in decomposed if c.isalnum())


@attrs.frozen
class _Header:
    line: int
    roles: Mapping[str, int]
    items: Mapping[str, int]
    unknown: tuple[tuple[int, str], ...]


def _match_header(cells: Sequence[Any], items: Sequence[ChecklistItem]) -> _Header | None:
    aliases = {alias: role for role, names in COLUMNS.items() for alias in names}
    item_names = {}
    for item in items:
        for alias in ITEM_ALIASES.get(item.key, ()):
            item_names[alias] = item.key
    for item in items:
        item_names[_norm(item.key)] = item.key
        item_names[_norm(item.label)] = item.key
    roles: dict[str, int] = {}
    found_items: dict[str, int] = {}
    unknown = []
    for index, cell in enumerate(cells):
        if cell is None or not str(cell).strip():
            continue
        name = _norm(cell)
        if name in item_names and item_names[name] not in found_items:
            found_items[item_names[name]] = index
        elif name in aliases and aliases[name] not in roles:
            roles[aliases[name]] = index
        else:
            unknown.append((index, str(cell).strip()))
    if "ars" not in roles or "wave" not in roles:
        return None
    return _Header(line=0, roles=roles, items=found_items, unknown=tuple(unknown))


# -- reading rows --------------------------------------------------------------------------


def _decode(raw: bytes, encoding: str | None, where: str) -> str:
    if encoding is not None:
        try:
            return raw.decode(encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise SourceNotUnderstood(f"cannot decode as {encoding}: {exc}", where=where) from None
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8) :]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def _csv_rows(path: Path, encoding: str | None) -> Iterator[tuple[str, list[Any]]]:
    text = _decode(path.read_bytes(), encoding, str(path))
    lines = text.splitlines()
    delimiter = ";"
    for line in lines[:_HEADER_SEARCH]:
        counts = {d: line.count(d) for d in _DELIMITERS}
        best = max(counts, key=lambda d: counts[d])
        if counts[best] and any(_norm(c) in COLUMNS["ars"] for c in line.split(best)):
            delimiter = best
            break
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    for row in reader:
        yield f"{path}:line {reader.line_num}", row


def _xlsx_rows(path: Path, sheet: str | None) -> Iterator[tuple[str, list[Any]]]:
    try:
        import openpyxl
    except ImportError as exc:  # pragma: no cover - openpyxl is installed in the tests
        raise SourceNotUnderstood(
            "reading XLSX needs openpyxl; install efa-core[xlsx]", where=str(path)
        ) from exc
    from zipfile import BadZipFile

    try:
        workbook = openpyxl.load_workbook(path, data_only=True)
    except (BadZipFile, OSError, KeyError, ValueError) as exc:
        raise SourceNotUnderstood(f"not an XLSX workbook: {exc}", where=str(path)) from None
    try:
        if sheet is None:
            ws = workbook.worksheets[0]
        elif sheet in workbook.sheetnames:
            ws = workbook[sheet]
        else:
            raise SourceNotUnderstood(
                f"no sheet {sheet!r}; sheets: {', '.join(workbook.sheetnames)}", where=str(path)
            )
        fill: dict[tuple[int, int], Any] = {}
        for merged in ws.merged_cells.ranges:
            value = ws.cell(merged.min_row, merged.min_col).value
            for row in range(merged.min_row, merged.max_row + 1):
                for col in range(merged.min_col, merged.max_col + 1):
                    fill[(row, col)] = value
        for number, values in enumerate(ws.iter_rows(values_only=True), start=1):
            cells = list(values)
            for (row, col), value in fill.items():
                if row == number and col - 1 < len(cells):
                    cells[col - 1] = value
            yield f"{path}:{ws.title}!row {number}", cells
    finally:
        workbook.close()


def table_rows(
    path: Path, *, sheet: str | None = None, encoding: str | None = None
) -> Iterator[tuple[str, list[Any]]]:
    """Yield ``(position, cells)`` of a CSV or XLSX file (by its suffix)."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return _xlsx_rows(path, sheet)
    return _csv_rows(path, encoding)


# -- turning rows into records ---------------------------------------------------------------


@attrs.define
class _WaveDraft:
    name: str
    position: str
    kind: WaveKind | None = None
    stichtag: date | None = None
    target_golive: date | None = None
    targets: list[Ars] = attrs.field(factory=list)


def _cell(cells: Sequence[Any], index: int | None) -> Any:
    if index is None or index >= len(cells):
        return None
    return cell_value(cells[index])


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip() or None


def _wave_values(
    cells: Sequence[Any], header: _Header
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    values: dict[str, Any] = {}
    problems = []
    kind = _text(_cell(cells, header.roles.get("wave_kind")))
    if kind is not None:
        found = _KINDS.get(_norm(kind))
        if found is None:
            problems.append(("Art", f"{kind!r} is not a wave kind (Pilot or Rollout)"))
        else:
            values["kind"] = found
    for role, column in (("stichtag", "Stichtag"), ("target_golive", "Ziel Go-Live")):
        value = _cell(cells, header.roles.get(role))
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


def read_table(rows: Iterator[tuple[str, list[Any]]], plan: RolloutPlan, where: str) -> Content:
    """Turn the rows of a plan table into waves and onboarding items of *plan*.

    :raises SourceNotUnderstood: no header row with an ARS and a Welle column was found.
    """
    content = Content()
    items = checklist_items(plan)
    header: _Header | None = None
    for position, cells in rows:
        header = _match_header(cells, items)
        if header is not None:
            break
        if any(c is not None and str(c).strip() for c in cells):
            content.skipped.append(Skipped("title-line", "above the header row", 1, position))
    if header is None:
        raise SourceNotUnderstood(
            "no header row with the columns ARS and Welle (wave) in the first "
            f"{_HEADER_SEARCH} lines",
            where=where,
        )
    for _, name in header.unknown:
        content.skipped.append(Skipped("column", f"unknown column {name!r}", 1, where))
    waves: dict[str, _WaveDraft] = {}
    services = plan.service_keys
    empty = 0
    for position, cells in rows:
        if not any(c is not None and str(c).strip() for c in cells):
            empty += 1
            continue
        _read_row(position, cells, header, plan, services, waves, content)
    if empty:
        content.skipped.append(Skipped("plan-row", "empty line", empty))
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
    position: str,
    cells: Sequence[Any],
    header: _Header,
    plan: RolloutPlan,
    services: Sequence[str],
    waves: dict[str, _WaveDraft],
    content: Content,
) -> None:
    raw = {n: _text(cells[i]) if i < len(cells) else None for n, i in header.roles.items()}
    ars_value = _cell(cells, header.roles["ars"])
    filled = [c for c in cells if c is not None and str(c).strip()]
    if ars_value is None:
        first = _norm(filled[0]) if filled else ""
        if len(filled) <= 2 and first.startswith(_FOOTER_WORDS):
            content.skipped.append(Skipped("plan-row", "footer line", 1, position))
        else:
            content.reject("plan-row", position, raw, [("ARS", "required field missing")])
        return
    problems: list[tuple[str, str]] = []
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
    service = _text(_cell(cells, header.roles.get("service")))
    if service is not None and service not in services:
        problems.append(
            (
                "Leistung",
                f"{service!r} is not a service of plan {plan.key!r} ({', '.join(services)})",
            )
        )
    wave_name = _text(_cell(cells, header.roles.get("wave")))
    values, wave_problems = _wave_values(cells, header)
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
    by = _text(_cell(cells, header.roles.get("by")))
    note = _text(_cell(cells, header.roles.get("note")))
    for key, index in header.items.items():
        cell = _cell(cells, index)
        try:
            parsed = parse_cell(key, cell)
        except CellError as exc:
            content.reject("onboarding-item", position, {key: _text(cell)}, [(key, str(exc))])
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
                content.reject("onboarding-item", position, {key: _text(cell)}, [(key, str(exc))])
                continue
            content.add(item, position, {key: _text(cell), "service": service_key})


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
    """Write the table form of a plan as CSV (``;``, UTF-8 with BOM, for spreadsheets)."""
    header, rows = _rows(plan, waves, items, names or {})
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
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
        ws.append(cells)
    ars_column = header.index("ARS") + 1
    for number in range(2, ws.max_row + 1):
        ws.cell(number, ars_column).number_format = "@"
        for column in (3, 4):
            ws.cell(number, column).number_format = "DD.MM.YYYY"
    ws.freeze_panes = "A2"
    workbook.save(path)
