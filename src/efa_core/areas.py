"""The official area register: read the Destatis Gemeindeverzeichnis and import it.

The Statistisches Bundesamt publishes the municipality register (GV-ISys, "Auszug GV")
quarterly as XLSX; converted CSV copies circulate too.  Both forms carry one row per area
with a record type (*Satzart*) and the ARS parts in separate columns:

====== =================== ==============================================
Satzart level                ARS
====== =================== ==============================================
10     Land                land (2 digits)
20     Regierungsbezirk    land + rb (3)
30     Region (BW only)    not part of the ARS hierarchy: skipped
40     Kreis               land + rb + kreis (5)
50     Gemeindeverband     land + rb + kreis + vb (9)
60     Gemeinde            land + rb + kreis + vb + gemeinde (12)
====== =================== ==============================================

:func:`read_register` reads either form and yields :class:`~efa_core.model.Area` records
with ARS, name, official type (from the *Textkennzeichen*), parent (the next area up that the
register contains) and population.  The register gives a population only for Gemeinden;
higher areas get the sum of their Gemeinden.  Where the register leaves the population empty
(uninhabited *gemeindefreie Gebiete*) the area keeps ``population=None``.  The register has about
16,000 rows, so the reader holds them once in memory to sum populations upwards; it yields
areas in register order (every parent before its children).

**CSV form** (:func:`read_register_csv`): UTF-8 (a BOM is allowed), comma-separated, with the
header ``satzart,textkennzeichen,land,rb,kreis,vb,gemeinde,gemeindename,flaeche,
bevoelkerung,…``; numbers use a space as thousands separator (``" 90 164"``).

**XLSX form** (:func:`read_register_xlsx`, needs ``efa-core[xlsx]`` = openpyxl): the GV-ISys
"AuszugGV" sheet layout: some title/header rows, then data rows whose columns are Satzart,
Textkennzeichen, Land, RB, Kreis, VB, Gem, Gemeindename, Fläche, Bevölkerung insgesamt,
männlich, weiblich, je km², PLZ, Längengrad, Breitengrad, …  Data rows are recognised by a
Satzart of 10-60 in the first column; codes may be text or numbers (zero-padded on read).
No official file is available offline: this reader was built from the documented layout and
is tested with a workbook generated in that layout.

:func:`import_register` writes areas into a :class:`~efa_core.store.Store` as the source
``"register"``: a snapshot sync run through the store's normal apply path (mirror rows,
history, run record), so a newer register version tombstones the ARS that no longer exist
(mergers) and "what did the register say on 1 March" has an answer.

Without an imported register everything else still works with the areas that the sources
mention; only coverage populations and the "unknown ARS" finding need the register.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING

import attrs

from efa_core.errors import EfaError
from efa_core.ids import Ars
from efa_core.model import Area

if TYPE_CHECKING:
    from efa_core.plugins import PluginRegistry
    from efa_core.store import Store
    from efa_core.sync import SourceReport

__all__ = [
    "REGISTER_SOURCE",
    "TEXTKENNZEICHEN",
    "RegisterError",
    "RegisterRow",
    "assemble_areas",
    "import_areas",
    "import_register",
    "read_register",
    "read_register_csv",
    "read_register_xlsx",
]

#: The source name under which :func:`import_register` stores the register.
REGISTER_SOURCE = "register"

#: GV-ISys *Textkennzeichen* -> the official type of the area (stored as ``Area.area_type``).
TEXTKENNZEICHEN: Mapping[str, str] = {
    "41": "Kreisfreie Stadt",
    "42": "Stadtkreis",
    "43": "Kreis",
    "44": "Landkreis",
    "45": "Regionalverband",
    "50": "Verbandsfreie Gemeinde",
    "51": "Amt",
    "52": "Samtgemeinde",
    "53": "Verbandsgemeinde",
    "54": "Verwaltungsgemeinschaft",
    "55": "Kirchspielslandgemeinde",
    "56": "Verwaltungsverband",
    "57": "Verwaltungsgemeinschaft (Trägermodell)",
    "58": "Erfüllende Gemeinde",
    "60": "Markt",
    "61": "Kreisfreie Stadt",
    "62": "Stadtkreis",
    "63": "Stadt",
    "64": "Kreisangehörige Gemeinde",
    "65": "Gemeindefreies Gebiet, bewohnt",
    "66": "Gemeindefreies Gebiet, unbewohnt",
    "67": "Große Kreisstadt",
}

_SATZART_TYPE = {"10": "Land", "20": "Regierungsbezirk"}
#: Satzart -> number of ARS parts used (land, rb, kreis, vb, gemeinde).
_SATZART_PARTS = {"10": 1, "20": 2, "40": 3, "50": 4, "60": 5}
_PART_WIDTHS = (2, 1, 2, 4, 3)
_CSV_COLUMNS = ("satzart", "textkennzeichen", "land", "rb", "kreis", "vb", "gemeinde")


class RegisterError(EfaError, ValueError):
    """A register file cannot be read; the message names the file, the row and the field."""


@attrs.frozen(kw_only=True, slots=True)
class RegisterRow:
    """One data row of the register, as read (before populations are summed upwards)."""

    ars: Ars
    name: str
    area_type: str | None
    population: int | None
    #: Where the row is, e.g. ``"gv.csv:line 5"`` (for error messages).
    position: str


def _number(text: object, where: str, field: str) -> int | None:
    """Parse a register number: int cells, or text with space thousands separators."""
    if text is None:
        return None
    if isinstance(text, bool):
        raise RegisterError(f"{where}: field {field!r}: not a number: {text!r}")
    if isinstance(text, int):
        return text
    if isinstance(text, float):
        if text != int(text):
            raise RegisterError(f"{where}: field {field!r}: not a whole number: {text!r}")
        return int(text)
    cleaned = str(text).replace("\u00a0", "").replace(" ", "").replace(".", "")
    if not cleaned:
        return None
    if not cleaned.isdigit():
        raise RegisterError(f"{where}: field {field!r}: not a number: {text!r}")
    return int(cleaned)


def _code(value: object, width: int, where: str, field: str) -> str:
    if value is None:
        text = ""
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        text = str(int(value)).zfill(width)
    else:
        text = str(value).strip()
    if len(text) != width or not text.isdigit():
        raise RegisterError(
            f"{where}: field {field!r}: expected {width} digits, got {str(value or '')!r}"
        )
    return text


def _row(fields: Sequence[object], where: str) -> RegisterRow | None:
    """Build a row from the first 10 columns (satzart … bevoelkerung); None for skipped rows."""
    satzart = str(fields[0] if fields[0] is not None else "").strip()
    if satzart.endswith(".0"):
        satzart = satzart[:-2]
    if satzart == "30":
        return None  # Region (Baden-Württemberg): not part of the ARS hierarchy
    n = _SATZART_PARTS.get(satzart)
    if n is None:
        raise RegisterError(f"{where}: field 'satzart': unknown record type {satzart!r}")
    parts = [_code(fields[2 + i], _PART_WIDTHS[i], where, _CSV_COLUMNS[2 + i]) for i in range(n)]
    try:
        ars = Ars("".join(parts))
    except ValueError as exc:
        raise RegisterError(f"{where}: invalid ARS: {exc}") from exc
    name = str(fields[7] or "").strip()
    if not name:
        raise RegisterError(f"{where}: field 'gemeindename' is empty")
    kennzeichen = str(fields[1] if fields[1] is not None else "").strip()
    if kennzeichen.endswith(".0"):
        kennzeichen = kennzeichen[:-2]
    area_type = TEXTKENNZEICHEN.get(kennzeichen) or _SATZART_TYPE.get(satzart)
    population = _number(fields[9], where, "bevoelkerung") if satzart == "60" else None
    return RegisterRow(
        ars=ars, name=name, area_type=area_type, population=population, position=where
    )


def read_register_csv(
    source: str | Path | IO[str], *, name: str | None = None
) -> Iterator[RegisterRow]:
    """Yield the rows of a register CSV (path or text stream; a BOM is ignored).

    :raises RegisterError: a required column is missing or a row is malformed (the message
        names the file and line).
    """
    if isinstance(source, (str, Path)):
        label = name or str(source)
        with open(source, encoding="utf-8-sig", newline="") as handle:
            yield from read_register_csv(handle, name=label)
        return
    label = name or str(getattr(source, "name", "<stream>"))
    reader = csv.reader(source)
    header = next(reader, None)
    if header is None:
        raise RegisterError(f"{label}: the file is empty")
    columns = [h.strip().lstrip("\ufeff").lower() for h in header]
    wanted = (*_CSV_COLUMNS, "gemeindename", "flaeche", "bevoelkerung")
    missing = [c for c in wanted if c not in columns]
    if missing:
        raise RegisterError(f"{label}: missing column(s) {', '.join(missing)} in the header")
    index = [columns.index(c) for c in wanted]
    for line, raw in enumerate(reader, start=2):
        if not any(cell.strip() for cell in raw):
            continue
        where = f"{label}:line {line}"
        if len(raw) < len(columns):
            raise RegisterError(f"{where}: {len(raw)} fields, the header has {len(columns)}")
        row = _row([raw[i] for i in index], where)
        if row is not None:
            yield row


def read_register_xlsx(path: str | Path, *, sheet: str | None = None) -> Iterator[RegisterRow]:
    """Yield the rows of a GV-ISys "AuszugGV" workbook (needs ``efa-core[xlsx]``).

    *sheet* defaults to the first sheet that has data rows.  Rows before the first data row
    (titles, multi-line headers) are skipped, as are rows after it whose first cell is not a
    Satzart (footnotes).

    :raises RegisterError: openpyxl is missing or a data row is malformed.
    """
    try:
        import openpyxl
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise RegisterError(f"{path}: reading XLSX needs openpyxl; install efa-core[xlsx]") from exc
    workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        sheets = [workbook[sheet]] if sheet is not None else list(workbook.worksheets)
        for ws in sheets:
            found = False
            for number, values in enumerate(ws.iter_rows(values_only=True), start=1):
                cells = list(values) + [None] * max(0, 10 - len(values))
                first = cells[0]
                code = str(first).strip() if first is not None else ""
                if code.endswith(".0"):
                    code = code[:-2]
                if code not in {"10", "20", "30", "40", "50", "60"}:
                    continue
                found = True
                row = _row(cells[:10], f"{path}:sheet {ws.title!r} row {number}")
                if row is not None:
                    yield row
            if found:
                return
    finally:
        workbook.close()
    raise RegisterError(f"{path}: no data rows (Satzart 10-60 in column A) found")


def read_register(path: str | Path) -> Iterator[Area]:
    """Read a register file (``.csv`` or ``.xlsx``) and yield its areas (see module docs)."""
    suffix = Path(path).suffix.lower()
    if suffix in {".xlsx", ".xlsm"}:
        return assemble_areas(read_register_xlsx(path))
    if suffix in {".csv", ".txt", ""}:
        return assemble_areas(read_register_csv(path))
    raise RegisterError(f"{path}: unknown register format {suffix!r}; expected .csv or .xlsx")


def assemble_areas(rows: Iterable[RegisterRow]) -> Iterator[Area]:
    """Turn register rows into areas: parents linked, populations summed upwards.

    The parent of an area is its nearest ARS ancestor present in *rows* (else the formal
    :meth:`Ars.parent`).  An area above Gemeinde level gets the sum of the populations of
    the Gemeinden it contains (``None`` if it contains none with a population).

    :raises RegisterError: an ARS appears twice.
    """
    listed: list[RegisterRow] = []
    seen: dict[Ars, str] = {}
    totals: dict[Ars, int] = {}
    for row in rows:
        if row.ars in seen:
            raise RegisterError(
                f"{row.position}: ARS {row.ars} appears twice (first at {seen[row.ars]})"
            )
        seen[row.ars] = row.position
        listed.append(row)
        if row.population is not None and len(row.ars.value) == 12:
            for ancestor in row.ars.ancestors():
                totals[ancestor] = totals.get(ancestor, 0) + row.population
    for row in listed:
        parent = next((a for a in row.ars.ancestors() if a in seen), row.ars.parent())
        population = row.population if len(row.ars.value) == 12 else totals.get(row.ars)
        yield Area(
            ars=row.ars,
            name=row.name,
            area_type=row.area_type,
            parent=parent,
            population=population,
        )


def import_areas(
    store: Store,
    areas: Iterable[Area],
    *,
    source: str = REGISTER_SOURCE,
    batch_size: int = 2000,
    registry: PluginRegistry | None = None,
) -> SourceReport:
    """Write *areas* into *store* as one complete snapshot of *source*.

    Uses the same path as a sync: a run is begun under the source's sync lock, the areas are
    prepared (validated, hashed) and applied in batches, unchanged areas are no-ops, and the
    last batch completes the snapshot, which tombstones the areas of *source* that *areas*
    no longer contains (e.g. Gemeinden merged away).  With a *registry*, listeners get
    ``efa_on_changes`` and ``efa_on_sync_finished`` like after a sync.

    :raises efa_core.store.StoreLocked: another process is syncing *source*.
    """
    import asyncio
    import time

    from efa_core.connectors import Batch, Upsert
    from efa_core.store import COUNT_NAMES, RunMode, RunStatus, StoreLocked
    from efa_core.sync import SourceReport, prepare_batch

    started = time.monotonic()
    if not store.try_lock_source(source):
        raise StoreLocked(f"source {source!r} is being synced by another process into {store.url}")
    counts = dict.fromkeys(COUNT_NAMES, 0)
    run = store.begin_run(source, RunMode.SNAPSHOT)
    status, error, batches = RunStatus.FAILED, None, 0
    try:
        chunk: list[Upsert] = []
        iterator = iter(areas)
        pending = next(iterator, None)
        while True:
            if pending is not None:
                chunk.append(Upsert(pending))
                pending = next(iterator, None)
            last = pending is None
            if len(chunk) >= batch_size or last:
                batches += 1
                batch = Batch(changes=tuple(chunk), cursor=None, complete=last)
                prepared, quarantined = prepare_batch(batch, source=source, batch_no=batches)
                result = store.apply(
                    run.run_id,
                    source,
                    prepared,
                    cursor=None,
                    complete=last,
                    mode=RunMode.SNAPSHOT,
                    quarantined=quarantined,
                )
                for name, value in result.counts().items():
                    counts[name] += value
                if registry is not None and result.applied:
                    asyncio.run(
                        registry.anotify(
                            "efa_on_changes",
                            source=source,
                            run_id=run.run_id,
                            changes=tuple(result.applied),
                        )
                    )
                chunk = []
            if last:
                break
        status = RunStatus.SUCCEEDED
    except Exception as exc:
        error = str(exc) or type(exc).__name__
        raise
    finally:
        store.finish_run(run.run_id, status, error)
        store.unlock_source(source)
        if registry is not None:
            asyncio.run(
                registry.anotify(
                    "efa_on_sync_finished",
                    source=source,
                    run_id=run.run_id,
                    status=status.value,
                    counts=dict(counts),
                    error=error,
                )
            )
    return SourceReport(
        source=source,
        run_id=run.run_id,
        status=status,
        mode=RunMode.SNAPSHOT,
        dry_run=False,
        batches=batches,
        duration=time.monotonic() - started,
        added=counts["added"],
        changed=counts["changed"],
        unchanged=counts["unchanged"],
        deleted=counts["deleted"],
        orphan_deletes=counts["orphan_deletes"],
        quarantined=counts["quarantined"],
    )


def import_register(
    store: Store,
    path: str | Path,
    *,
    source: str = REGISTER_SOURCE,
    registry: PluginRegistry | None = None,
) -> SourceReport:
    """Read the register file at *path* and import it (see :func:`import_areas`)."""
    return import_areas(store, read_register(path), source=source, registry=registry)
