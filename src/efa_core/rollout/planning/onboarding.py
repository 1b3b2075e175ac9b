"""The onboarding package of a wave: what the roll-in organisation sends out.

:func:`write_onboarding` writes into a folder, for the municipalities of one wave:

* the **Zuständigkeiten** the Land's editorial system still needs (service × municipality
  where no Zuständigkeit is published yet, one per LeiKa key of the service, pointing to
  the service's Onlinedienst), through a writer registered with the
  ``efa_register_responsibility_writers`` hook (efa-xzufi's ``xzufi-2.2.0``: one XZuFi 2.2.0
  transfer message);
* one **questionnaire** (Anbindungsfragebogen) per municipality, as CSV and XLSX, with the
  fields practice asks for (:data:`QUESTIONNAIRE_FIELDS`), pre-filled from the store where
  a source knows the value (the column ``Quelle`` says which record) and empty where not.

The Onlinedienst of a service is the plan's (:attr:`PlanService.onlinedienst
<efa_core.model.PlanService.onlinedienst>`), else the offer's own if it has exactly one
(:attr:`ServiceInfo.onlinedienst_ids <efa_core.rollout.ServiceInfo.onlinedienst_ids>`),
else the one most Zuständigkeiten attributed to the offer in the Land point to.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any, Final

import attrs

from efa_core.errors import EfaError
from efa_core.ids import Ars, LeikaKey
from efa_core.model import ItemState, Responsibility, TargetKind
from efa_core.rollout.areas_index import AreaIndex
from efa_core.rollout.derive import RolloutView
from efa_core.rollout.planning.plan import Plan
from efa_core.rollout.planning.progress import Cell, plan_status
from efa_core.tabular import SafeCsvWriter, append_row_as_text

__all__ = [
    "DEFAULT_FORMAT",
    "QUESTIONNAIRE_COLUMNS",
    "QUESTIONNAIRE_FIELDS",
    "OnboardingError",
    "OnboardingPackage",
    "write_onboarding",
]

#: The writer used when none is named (efa-xzufi's).
DEFAULT_FORMAT: Final = "xzufi-2.2.0"
#: The columns of a questionnaire, in order.
QUESTIONNAIRE_COLUMNS: Final = (
    "ARS",
    "Gemeinde",
    "Leistung",
    "Feld",
    "Bezeichnung",
    "Wert",
    "Quelle",
)
#: The questionnaire's fields (key, label), per service, in order.
QUESTIONNAIRE_FIELDS: Final = (
    ("oe_id", "Organisationseinheit (OE-ID)"),
    ("portal_link", "Link im Portal (PVOG)"),
    ("privacy_policy", "Link zur Datenschutzerklärung"),
    ("imprint", "Link zum Impressum"),
    ("accessibility", "Link zur Erklärung zur Barrierefreiheit"),
    ("transport", "Übertragungsweg (FIT-Connect, OSCI/XTA, andere)"),
    ("dvdv_key", "DVDV-Organisationsschlüssel"),
    ("destination_id", "FIT-Connect-Zustellpunkt (Destination-ID)"),
    ("contacts_destination", "Ansprechpersonen des Zustellpunkts"),
    ("contact_project_lead", "Projektleitung"),
    ("contact_technical", "Technische Ansprechperson"),
    ("contact_business", "Fachliche Ansprechperson"),
    ("contact_it_provider", "Fachverfahren / IT-Dienstleister"),
    ("contact_data_protection", "Datenschutz"),
)
_SAFE = re.compile(r"[^A-Za-z0-9_-]+")


class OnboardingError(EfaError):
    """The onboarding package cannot be written (no writer, a bad Onlinedienst id, ...)."""


@attrs.frozen(kw_only=True)
class OnboardingPackage:
    """What :func:`write_onboarding` wrote."""

    directory: Path
    wave: str
    #: The files the responsibility writer wrote.
    responsibility_files: tuple[Path, ...]
    #: How many Zuständigkeiten they hold.
    responsibilities: int
    #: The questionnaires, CSV and XLSX per municipality.
    questionnaires: tuple[Path, ...]
    #: What was left out, and why (for people).
    notes: tuple[str, ...] = ()


def _onlinedienst(plan: Plan, service: str, view: RolloutView) -> str | None:
    entry = plan.plan.service(service)
    if entry is not None and entry.onlinedienst is not None:
        return entry.onlinedienst
    info = view.service(service)
    if info is None:
        return None
    if len(info.onlinedienst_ids) == 1:
        return info.onlinedienst_ids[0]
    counts: Counter[str] = Counter()
    for row in view.rows(info.key, within=plan.land.code):
        for e in row.evidence:
            if e.kind == "responsibility" and e.raises and e.area == str(row.ars):
                detail = e.detail or ""
                if detail.startswith("onlinedienst:"):
                    counts[detail.split(":", 1)[1]] += 1
    return counts.most_common(1)[0][0] if counts else None


def _payload(view: RolloutView, source: str, kind: str, key: str) -> Mapping[str, Any] | None:
    stored = view.store.get(source, kind, key)
    return None if stored is None else stored.payload


def _contacts(payload: Mapping[str, Any]) -> str:
    out = []
    for contact in payload.get("contacts") or ():
        parts = [contact.get(k) for k in ("name", "email", "phone") if contact.get(k)]
        if parts:
            out.append(", ".join(parts))
    return "; ".join(out)


def _answers(view: RolloutView, cell: Cell) -> dict[str, tuple[str, str]]:
    """Return field -> (value, where from) for one service × municipality."""
    found: dict[str, tuple[str, str]] = {}

    def put(field: str, value: object, where: str) -> None:
        if value not in (None, "") and field not in found:
            found[field] = (str(value), where)

    for item, state, value_item in (
        (i, s, cell.manual.get(i.key)) for i, s in zip(cell.checklist, cell.states, strict=True)
    ):
        if value_item is None or state is not ItemState.DONE or value_item.value is None:
            continue
        where = f"plan ({value_item.by or 'manual'})"
        if item.key == "transport":
            put("transport", value_item.value, where)
        elif item.key == "dvdv":
            put("dvdv_key", value_item.value, where)
    if cell.row is None:
        return found
    for e in cell.row.evidence:
        where = f"{e.source}: {e.kind} {e.natural_key}"
        if e.kind == "responsibility" and (e.detail or "").startswith("organisationseinheit:"):
            put("oe_id", (e.detail or "").split(":", 1)[1], where)
        elif e.kind == "route" and e.stage is not None:
            payload = _payload(view, e.source, e.kind, e.natural_key)
            if payload is None:
                continue
            put("transport", "fit-connect", where)
            put("destination_id", payload.get("destination_id"), where)
            put("privacy_policy", payload.get("privacy_policy_url"), where)
            put("imprint", payload.get("imprint_url"), where)
            put("accessibility", payload.get("accessibility_url"), where)
            put("contacts_destination", _contacts(payload), where)
        elif e.kind == "availability" and e.stage is not None:
            payload = _payload(view, e.source, e.kind, e.natural_key)
            if payload is not None:
                put("portal_link", payload.get("url"), where)
    return found


def _organisation_units(view: RolloutView, ars: str) -> tuple[str, str] | None:
    for stored in view.store.records(kind="organisation-unit", ars=ars):
        return str(
            stored.payload.get("key")
        ), f"{stored.source}: organisation-unit {stored.natural_key}"
    return None


def _file_stem(ars: str, name: str | None) -> str:
    label = _SAFE.sub("-", (name or "").replace("ß", "ss")).strip("-")[:40]
    return f"fragebogen-{ars}" + (f"-{label}" if label else "")


def _write_questionnaire(stem: Path, rows: Sequence[Sequence[str]]) -> list[Path]:
    csv_path = stem.with_suffix(".csv")
    with csv_path.open("w", newline="", encoding="utf-8-sig") as file:
        writer = SafeCsvWriter(file, delimiter=";", lineterminator="\r\n")
        writer.writerow(QUESTIONNAIRE_COLUMNS)
        writer.writerows(rows)
    try:
        import openpyxl
        from openpyxl.styles import Font
    except ImportError as exc:  # pragma: no cover - openpyxl is installed in the tests
        raise OnboardingError(
            "writing XLSX questionnaires needs openpyxl; install efa-core[xlsx]"
        ) from exc
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Fragebogen"
    sheet.append(list(QUESTIONNAIRE_COLUMNS))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        append_row_as_text(sheet, row)
    for column, width in zip("ABCDEFG", (14, 28, 16, 24, 44, 44, 60), strict=True):
        sheet.column_dimensions[column].width = width
    sheet.freeze_panes = "A2"
    xlsx_path = stem.with_suffix(".xlsx")
    workbook.save(xlsx_path)
    return [csv_path, xlsx_path]


def write_onboarding(
    view: RolloutView,
    plan: Plan,
    wave: str,
    directory: str | Path,
    *,
    writers: Mapping[str, Callable[..., Any]],
    format: str = DEFAULT_FORMAT,
    sender: str | None = None,
    today: date | None = None,
    areas: AreaIndex | None = None,
) -> OnboardingPackage:
    """Write the onboarding package of *wave* into *directory* (created if missing).

    :param writers: the responsibility writers by format (``registry.responsibility_writers()``).
    :param format: which writer to use.
    :param sender: the message's sender (default: the plan's planning body, else its name).
    :raises OnboardingError: no writer of that format, or the writer refused the records.
    :raises efa_core.rollout.planning.PlanError: the plan has no such wave.
    """
    if format not in writers:
        known = ", ".join(sorted(writers)) or "none (install efa-xzufi)"
        raise OnboardingError(f"no writer of Zuständigkeiten for format {format!r}; known: {known}")
    status = plan_status(view, plan, today=today, areas=areas, waves=[wave])
    wave_status = status.wave(wave)
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    notes: list[str] = []
    targets: dict[str, str | None] = {}
    for key in wave_status.services:
        targets[key] = _onlinedienst(plan, key, view)
        if targets[key] is None:
            notes.append(
                f"{key}: no Onlinedienst id (give one in the plan); no Zuständigkeiten written"
            )
        if view.service(key) is None:
            notes.append(f"{key}: no source knows this service; no Zuständigkeiten written")
    responsibilities: list[Responsibility] = []
    published = 0
    for cell in wave_status.cells:
        target = targets.get(cell.service_key)
        info = view.service(cell.service_key)
        if target is None or info is None:
            continue
        if cell.row is not None and cell.row.published:
            published += 1
            continue
        responsibilities.extend(
            Responsibility(
                leika_key=LeikaKey.parse(leika),
                ars=Ars(cell.ars),
                target_kind=TargetKind.ONLINEDIENST,
                target_id=target,
            )
            for leika in info.leika_keys
        )
    if published:
        notes.append(f"{published} service × municipality pairs are published already")
    files: Sequence[Path] = ()
    if responsibilities:
        try:
            files = writers[format](
                responsibilities,
                directory=out,
                sender=sender or plan.plan.planning_body or plan.plan.name,
            )
        except (EfaError, ValueError) as exc:
            raise OnboardingError(
                f"the {format} writer refused the Zuständigkeiten: {exc}"
            ) from exc
    by_municipality: dict[str, list[Cell]] = {}
    for cell in wave_status.cells:
        by_municipality.setdefault(cell.ars, []).append(cell)
    questionnaires: list[Path] = []
    for ars, cells in by_municipality.items():
        name = status.names.get(ars)
        oe = _organisation_units(view, ars)
        rows = []
        for cell in cells:
            answers = _answers(view, cell)
            if "oe_id" not in answers and oe is not None:
                answers["oe_id"] = oe
            for field, label in QUESTIONNAIRE_FIELDS:
                value, where = answers.get(field, ("", ""))
                rows.append([ars, name or "", cell.service_key, field, label, value, where])
        questionnaires += _write_questionnaire(out / _file_stem(ars, name), rows)
    return OnboardingPackage(
        directory=out,
        wave=wave,
        responsibility_files=tuple(Path(f) for f in files),
        responsibilities=len(responsibilities),
        questionnaires=tuple(questionnaires),
        notes=tuple(notes),
    )
