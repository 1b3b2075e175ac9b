"""What a report shows, collected once from the store: :func:`collect_report`.

Every output format (:mod:`efa_core.report.formats`, :mod:`efa_core.report.html`) renders
the same :class:`ReportData`, so they never disagree.  The data comes from the library
functions behind ``efa findings`` and ``efa coverage``: :class:`~efa_core.rollout.
RolloutView` (refreshed incrementally first), :func:`~efa_core.rollout.run_findings` and
:func:`~efa_core.rollout.coverage`; the stage-over-time series of
:func:`efa_core.report.timeline.stage_timeline`, counted from the same rows
(:class:`~efa_core.report.timeline.TimelineCounter`); plan vs actual of the plans in the
store from :func:`~efa_core.rollout.planning.plan_status`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

import attrs

from efa_core.errors import EfaError
from efa_core.i18n import M, translator
from efa_core.ids import Ars, ArsLevel, Land
from efa_core.model import Stage
from efa_core.report.timeline import Clock, Timeline, TimelineCounter
from efa_core.rollout import (
    AreaIndex,
    CoverageReport,
    Evidence,
    Finding,
    IdentityRules,
    Role,
    RolloutRow,
    RolloutView,
    ServiceInfo,
    coverage,
    run_findings,
)
from efa_core.rollout._gc import gc_paused as _gc_paused
from efa_core.rollout.planning import PlanStatus, load_plans, plan_status
from efa_core.store import Store

__all__ = [
    "ReportData",
    "agreement_text",
    "collect_report",
    "evidence_text",
    "iter_report_rows",
    "row_to_dict",
]


@attrs.frozen(kw_only=True)
class ReportData:
    """Everything a report shows (see :func:`collect_report`)."""

    #: The report's title.
    title: str
    #: When the report was made (also the "now" of the findings).
    generated_at: datetime
    #: The store's URL (password masked).
    store_url: str
    #: The Land the report is limited to (``None``: all areas).
    land: Land | None
    #: The selected stages (``()``: every stage) and services (``()``: every service).
    stages: tuple[Stage, ...]
    service_filter: tuple[str, ...]
    #: The services reported, by key.
    services: Mapping[str, ServiceInfo]
    #: The derived rows, by service and ARS (filtered by Land, service and stage).
    rows: tuple[RolloutRow, ...]
    #: Area names by ARS (from the register or the sources' area records).
    area_names: Mapping[str, str]
    #: Per service: Gemeinden per stage inside the Land, grouped by Kreis.
    coverage: tuple[CoverageReport, ...]
    #: The findings of the reported services (only those inside the Land).
    findings: tuple[Finding, ...]
    #: Stage counts over time (``None`` if not asked for).
    timeline: Timeline | None
    #: Plan vs actual of the plans in the store (those of the report's Land and services).
    plans: tuple[PlanStatus, ...] = ()
    #: The Kreis (or other area inside the Land) the report is limited to, as an ARS.
    kreis: str | None = None
    #: Whether :attr:`rows` and :attr:`findings` list everything in scope; ``False``: the
    #: national summary, where they are empty and only counted (:attr:`row_count`,
    #: :attr:`finding_counts`).
    detail: bool = True
    #: The rows in scope (after the stage filter), listed or not.
    row_count: int = 0
    #: Findings in scope by ``(rule, severity)``, listed or not.
    finding_counts: Mapping[tuple[str, str], int] = attrs.field(factory=dict)

    @property
    def within(self) -> str | None:
        """The ARS prefix of the report's area (``None``: Germany)."""
        if self.kreis is not None:
            return self.kreis
        return None if self.land is None else self.land.code

    @property
    def group_level(self) -> ArsLevel:
        """The level of :attr:`CoverageReport.groups`: Länder for Germany, else Kreise."""
        return ArsLevel.LAND if self.within is None else ArsLevel.KREIS

    @property
    def finding_total(self) -> int:
        """The findings in scope, listed or not."""
        return sum(self.finding_counts.values())

    def area_label(self, ars: Ars | str | None) -> str:
        """Return ``"<ARS> <name>"`` (or the ARS alone if the name is unknown, "-" for None)."""
        if ars is None:
            return "-"
        name = self.area_names.get(str(ars))
        return f"{ars} {name}" if name else str(ars)

    def service_name(self, key: str | None) -> str:
        """Return the service's name, or the key if it is not known."""
        if key is None:
            return "-"
        info = self.services.get(key)
        return info.name if info is not None else key

    @property
    def funnel(self) -> dict[Stage, int]:
        """Service × Gemeinde pairs that reached each stage (``terminated``: exactly)."""
        out = dict.fromkeys(Stage, 0)
        for report in self.coverage:
            for stage in Stage:
                out[stage] += report.total.reached[stage].gemeinden
        return out

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form of the report (``efa report --format json``)."""
        return {
            "title": self.title,
            "generated_at": self.generated_at.isoformat(),
            "store": self.store_url,
            "land": None if self.land is None else self.land.abbreviation,
            "kreis": self.kreis,
            "detail": self.detail,
            "row_count": self.row_count,
            "finding_counts": [
                {"rule": rule, "severity": severity, "count": n}
                for (rule, severity), n in sorted(self.finding_counts.items())
            ],
            "filters": {
                "services": list(self.service_filter),
                "stages": [s.value for s in self.stages],
            },
            "services": [
                {"key": s.key, "name": s.name, "leika_keys": list(s.leika_keys)}
                for s in self.services.values()
            ],
            "rows": [row_to_dict(r, self.area_names.get(str(r.ars))) for r in self.rows],
            "funnel": {s.value: n for s, n in self.funnel.items()},
            "coverage": [
                {"total": c.total.to_dict(), "groups": [g.to_dict() for g in c.groups]}
                for c in self.coverage
            ],
            "findings": [f.to_dict() for f in self.findings],
            "timeline": None if self.timeline is None else self.timeline.to_dict(),
            "plans": [p.to_dict(cells=True) for p in self.plans],
        }


def iter_report_rows(
    store: Store, data: ReportData, identity: IdentityRules | None = None
) -> Iterator[RolloutRow]:
    """Yield the rows of *data*'s scope (Land or Kreis, services, stages), service by service.

    For a report collected with ``detail=False``: the rows it counted, read again one
    service at a time, so that a CSV of every row of Germany needs one service's memory.
    *identity* must be the rules the report was collected with.
    """
    view = RolloutView(store, identity)
    for key in data.services:
        for row in view.rows(key, within=data.within):
            if not data.stages or row.stage in data.stages:
                yield row


def row_to_dict(row: RolloutRow, area_name: str | None = None) -> dict[str, Any]:
    """Return a JSON-ready dict of one derived row (with its evidence)."""
    return {
        "service": row.service_key,
        "ars": str(row.ars),
        "area": area_name,
        "stage": row.stage.value,
        "agreement_state": None if row.agreement_state is None else row.agreement_state.value,
        "agreement_since": None if row.agreement_since is None else row.agreement_since.isoformat(),
        "published": row.published,
        "routable": row.routable,
        "live": row.live,
        "offline": row.offline,
        "ambiguous": row.ambiguous,
        "other_solution": row.other_solution,
        "disagreement": row.disagreement,
        "readings": [str(a) for a in row.readings],
        "notes": [
            {"text": e.detail, "source": e.source, "at": None if e.at is None else e.at.isoformat()}
            for e in row.evidence_with(Role.NOTE)
        ],
        "evidence": [e.to_dict() for e in row.evidence],
    }


def agreement_text(row: RolloutRow, *, lang: str | None = None) -> str:
    """Return the row's governing agreement as the report shows it.

    ``"Vertrag geschlossen seit 10.01.2024"`` (English, ``lang="en"``: ``"contracted since
    2024-01-10"``), ``"… (Datum unbekannt)"`` when the source gives no date (never the time
    it was synced), ``"-"`` without an agreement.
    """
    if row.agreement_state is None:
        return "-"
    tr = translator(lang)
    state = tr.agreement(row.agreement_state)
    if row.agreement_since is None:
        return tr(M.DATE_UNKNOWN, state=state)
    return tr(M.STATE_SINCE, state=state, date=tr.date(row.agreement_since))


def evidence_text(evidence: Evidence, *, lang: str | None = None) -> str:
    """Return one piece of a row's evidence as the report's rows show it.

    What it does for the row comes first: the stage it raises, or its role when it raises
    none (``contrary``, ``other-solution``, ``overruled``, ``ambiguous`` with the offers it
    could belong to); a note shows its text.  Labels in *lang* (German by default).
    """
    tr = translator(lang)
    what = f"{tr.kind(evidence.kind)} {evidence.natural_key} ({evidence.source})"
    if evidence.role is Role.NOTE:
        return tr(M.NOTE, text=evidence.detail or "", source=evidence.source)
    if evidence.role is Role.SUPPORTS:
        label = tr.stage(evidence.stage) if evidence.stage is not None else tr.role(Role.SUPPORTS)
    elif evidence.role is Role.AMBIGUOUS:
        label = tr(M.AMBIGUOUS_ANY, offers=", ".join(evidence.candidates))
    else:
        label = tr.role(evidence.role)
    return f"{label}: {what}"


def _parse_land(land: Land | str | None) -> Land | None:
    if land is None or isinstance(land, Land):
        return land
    try:
        return Land.parse(land)
    except ValueError as exc:
        raise EfaError(f"unknown Land {land!r}: {exc}") from exc


def _parse_scope(land: Land | str | None, kreis: str | None) -> tuple[Land | None, str | None]:
    """Return the Land and the Kreis ARS of the scope (the Kreis implies its Land)."""
    chosen = _parse_land(land)
    if kreis is None:
        return chosen, None
    text = str(kreis).strip()
    if not text.isdigit() or not 3 <= len(text) <= 12:
        raise EfaError(f"--kreis wants the ARS of a Kreis (5 digits, e.g. 16055), got {kreis!r}")
    of_kreis = _parse_land(text[:2])
    if chosen is not None and of_kreis is not None and chosen.code != of_kreis.code:
        raise EfaError(f"Kreis {text} lies in {of_kreis.name_de}, not in {chosen.name_de}")
    return of_kreis, text


def collect_report(
    store: Store,
    rules: Mapping[str, Callable[..., Any]],
    *,
    land: Land | str | None = None,
    kreis: str | None = None,
    services: Iterable[str] = (),
    stages: Iterable[Stage | str] = (),
    options: Mapping[str, Any] | None = None,
    now: datetime | None = None,
    timeline: bool = True,
    timeline_clock: Clock = "auto",
    title: str | None = None,
    identity: IdentityRules | None = None,
    plans: bool = True,
    detail: bool = True,
) -> ReportData:
    """Refresh the derived view of *store* and collect what a report shows.

    :param rules: the finding rules (``registry.finding_rules()``).
    :param land: only areas of this Land (``"TH"``, ``"16"``, ``"Thüringen"`` or a
        :class:`~efa_core.ids.Land`): rows, coverage, findings and timeline.  The finding
        rules see the rows inside the Land (``within=`` of
        :func:`~efa_core.rollout.run_findings`).
    :param kreis: only areas inside this Kreis (its ARS, e.g. ``"16055"``); implies its Land.
    :param services: only these service keys (default: every service).
    :param stages: only rows at these stages (the coverage and timeline still count every
        stage).
    :param options: finding rule options (see :func:`~efa_core.rollout.run_findings`).
    :param now: the report's time (default: now, UTC); findings measure against it.
    :param timeline: compute the stage-over-time series (:func:`~efa_core.report.stage_timeline`),
        from the rows read for the findings.
    :param identity: the view's rules (``IdentityRules.from_config(config, registry)``);
        default: what the sources say alone.
    :param plans: compute plan vs actual (measured on the day of *now*) for every plan in
        the store whose Land is the report's (any, without *land*) and that has one of the
        reported services (only those services).
    :param detail: list every row and finding in scope (:attr:`ReportData.rows`,
        :attr:`ReportData.findings`); ``False`` only counts them: a summary whose memory
        does not grow with the store (what ``efa report --format html`` makes for all of
        Germany).
    :raises efa_core.errors.EfaError: an unknown Land, Kreis, service or stage, or two
        sources holding a plan with the same key.

    The rows are read service by service: each service's rows are judged by the finding
    rules and counted, then dropped unless they are listed.

    .. versionchanged:: 0.2.0
       *kreis* and *detail*.
    """
    moment = now or datetime.now(timezone.utc)
    chosen_land, chosen_kreis = _parse_scope(land, kreis)
    within = chosen_kreis or (None if chosen_land is None else chosen_land.code)
    try:
        stage_filter = tuple(s if isinstance(s, Stage) else Stage(s) for s in stages)
    except ValueError as exc:
        names = ", ".join(s.value for s in Stage)
        raise EfaError(f"{exc}; known stages: {names}") from exc
    view = RolloutView(store, identity)
    view.refresh()
    known = view.services()
    wanted: Sequence[str] = list(
        dict.fromkeys((info.key if (info := view.service(k)) else k) for k in services)
    )
    missing = [k for k in wanted if k not in known]
    if missing:
        raise EfaError(
            f"unknown service(s) {', '.join(missing)}; known: {', '.join(known) or 'none'}"
        )
    keys = list(wanted) or list(known)
    selected = {k: known[k] for k in keys}
    show = detail
    by = ArsLevel.LAND if within is None else ArsLevel.KREIS
    listed: list[RolloutRow] = []
    found: list[Finding] = []
    counts: Counter[tuple[str, str]] = Counter()
    row_count = 0
    reports: list[CoverageReport] = []
    with _gc_paused():
        index = AreaIndex.load(store)
        # the timeline counts the rows read below (one read of every row for both)
        counter = (
            TimelineCounter(store, clock=timeline_clock, within=within, view=view, areas=index)
            if timeline
            else None
        )
        for key in keys:
            # the service's rows inside the scope, read once: listed, counted and judged
            service_rows = list(view.rows(key, within=within))
            chosen = [r for r in service_rows if not stage_filter or r.stage in stage_filter]
            row_count += len(chosen)
            if show:
                listed.extend(chosen)
            del chosen
            reports.append(coverage(view, key, within=within, by=by, areas=index))
            for finding in run_findings(
                view,
                rules,
                services=[key],
                now=moment,
                options=options or {},
                areas=index,
                within=within,
                rows={key: service_rows},
            ):
                counts[(finding.rule, finding.severity.value)] += 1
                if show:
                    found.append(finding)
            if counter is not None:
                counter.add(key, service_rows)
            del service_rows
        series = None if counter is None else counter.timeline()
        statuses = (
            _plan_statuses(view, keys, bool(wanted), chosen_land, index, moment) if plans else ()
        )
    area_names = {ars: info.name for ars, info in index.areas.items() if info.name}
    default_title = "EfA-Rollout" + ("" if chosen_land is None else f" {chosen_land.name_de}")
    if chosen_kreis is not None:
        default_title += f" {index.name(chosen_kreis) or chosen_kreis}"
    return ReportData(
        title=title or default_title,
        generated_at=moment,
        store_url=store.url,
        land=chosen_land,
        stages=stage_filter,
        service_filter=tuple(wanted),
        services=selected,
        rows=tuple(listed),
        area_names=area_names,
        coverage=tuple(reports),
        findings=tuple(found),
        timeline=series,
        plans=statuses,
        kreis=chosen_kreis,
        detail=show,
        row_count=row_count,
        finding_counts=dict(counts),
    )


def _plan_statuses(
    view: RolloutView,
    keys: Sequence[str],
    filtered: bool,
    land: Land | None,
    index: AreaIndex,
    moment: datetime,
) -> tuple[PlanStatus, ...]:
    """Plan vs actual of each plan of *land* (any) for the reported services *keys*.

    With a service filter (*filtered*), only the plan's services among *keys*; without, all
    of them (a service no source knows yet has only offered cells).
    """
    out = []
    for plan in load_plans(view.store):
        if land is not None and plan.land != land:
            continue
        given: list[str] = []
        for key in plan.service_keys:  # a plan may name the offer by any of its ids
            info = view.service(key)
            if (key if info is None else info.key) in keys:
                given.append(key)
        if filtered and not given:
            continue
        out.append(
            plan_status(
                view,
                plan,
                today=moment.date(),
                areas=index,
                services=given if filtered else None,
            )
        )
    return tuple(out)
