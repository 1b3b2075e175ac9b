"""Progress against plan: per wave and plan, targets vs reached, checklists, forecast, blockers.

:func:`plan_status` reads the derived rollout view (keep it current first:
:meth:`~efa_core.rollout.RolloutView.refresh`) and the plan, and computes for every wave:

* its **cells**: one per service × municipality the wave targets.  A target is a Gemeinde,
  or a Kreis or Land meaning every Gemeinde of the register inside it (without a register,
  the target area itself).  A municipality belongs to the first wave (in wave order) that
  targets it;
* per cell the **stage** (of the nearest row of the derived view) and the **checklist**:
  each item ticked by evidence (:mod:`efa_core.rollout.planning.evidence`), else recorded by
  hand (an :class:`~efa_core.model.OnboardingItem` of the municipality or of an area
  containing it), else open; items whose condition does not hold are *not applicable*
  (the FIT-Connect destination where the transport is OSCI/XTA, ...).  A manual ``done``
  that the sources contradict is kept and flagged;
* **progress** (:class:`Progress`) in municipalities and population, per service and for
  the wave (a municipality counts for a stage when every service of the wave reached it);
* the municipalities **behind** the target go-live date, a **forecast** of the completion
  date from the observed pace (:mod:`efa_core.rollout.planning.forecast`) and the
  **blockers**: the open items that most often hold municipalities back (the first open
  item of each unfinished cell, in checklist order).

Rows of the plan's services at or above ``contracted`` in an area of the plan's Land that
no wave targets are listed as **outside the plan** (welcome, but visible).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timezone
from typing import Any, NamedTuple

import attrs

from efa_core.i18n import M, Message
from efa_core.ids import Ars
from efa_core.model import (
    ChecklistItem,
    ItemCondition,
    ItemState,
    OnboardingItem,
    Stage,
    Tick,
    Transport,
    Wave,
    WaveKind,
)
from efa_core.rollout._gc import gc_paused
from efa_core.rollout.areas_index import AreaIndex
from efa_core.rollout.derive import RolloutView
from efa_core.rollout.planning.evidence import EVIDENCE_KIND, RowTicks, observed_kinds, row_ticks
from efa_core.rollout.planning.forecast import DEFAULT_WINDOW_DAYS, Forecast, forecast
from efa_core.rollout.planning.plan import Plan, PlanError, wave_order
from efa_core.rollout.rows import Evidence, RolloutRow

__all__ = [
    "Blocker",
    "Cell",
    "ItemStatus",
    "OutsideRow",
    "PlanStatus",
    "Progress",
    "StageCount",
    "WaveStatus",
    "plan_status",
]

_PREFIX_LENGTHS = (2, 3, 5, 9, 12)
#: How an item got its state (:attr:`Cell.sources`).
NONE, MANUAL, EVIDENCE, CONDITION = 0, 1, 2, 3
_SOURCE_NAMES = {NONE: None, MANUAL: "manual", EVIDENCE: "evidence", CONDITION: "condition"}
_NO_EVIDENCE = {
    Tick.INTEREST: M.NO_AGREEMENT_COVERS,
    Tick.CONTRACT: M.NO_CONTRACT_COVERS,
    Tick.RESPONSIBILITY: M.NO_RESPONSIBILITY_COVERS,
    Tick.ROUTE: M.NO_ROUTE_FOR,
    Tick.LIVE: M.NOT_ONLINE_IN,
}
_FUNNEL = (
    Stage.INTERESTED,
    Stage.CONTRACTED,
    Stage.PUBLISHED,
    Stage.ROUTABLE,
    Stage.LIVE,
)
_EMPTY_MANUAL: Mapping[str, OnboardingItem] = {}


@attrs.frozen(kw_only=True)
class ItemStatus:
    """One checklist item of a cell: its state, since when, and what says so."""

    item: ChecklistItem
    state: ItemState
    on: date | None
    #: ``"evidence"``, ``"manual"``, ``"condition"`` (not applicable here) or None (open).
    ticked_by: str | None
    #: The recorded item (of the municipality or of an area containing it), if any.
    manual: OnboardingItem | None
    #: The evidence that ticked it (empty unless ``ticked_by == "evidence"``).
    evidence: tuple[Evidence, ...]
    #: Why the sources contradict a manual ``done``, in English (None: they do not).
    contradiction: str | None

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return {
            "item": self.item.key,
            "label": self.item.label,
            "state": self.state.value,
            "on": None if self.on is None else self.on.isoformat(),
            "ticked_by": self.ticked_by,
            "by": None if self.manual is None else self.manual.by,
            "value": None if self.manual is None else self.manual.value,
            "evidence": [e.to_dict() for e in self.evidence],
            "contradiction": self.contradiction,
        }


class Cell(NamedTuple):
    """One service in one municipality of a wave (compact: items are built on demand)."""

    wave: str
    service_key: str
    #: The municipality (a Gemeinde ARS; without a register, the target area).
    ars: str
    population: int
    #: The stage of the derived view (``offered`` where no evidence names the area).
    stage: Stage
    checklist: tuple[ChecklistItem, ...]
    #: Per checklist item: its state, date and how it got it (``NONE``/``MANUAL``/...).
    states: tuple[ItemState, ...]
    dates: tuple[date | None, ...]
    sources: tuple[int, ...]
    #: ``(item index, why)`` of the manual ticks the sources contradict.
    contradictions: tuple[tuple[int, Message], ...]
    manual: Mapping[str, OnboardingItem]
    #: The derived row the evidence came from (None: no evidence for the area).
    row: RolloutRow | None
    #: Whether it is live (by evidence, or by a go-live ticked by hand and not contradicted).
    live: bool
    live_on: date | None
    #: The latest date of any item (None: nothing dated happened).
    last_change: date | None

    @property
    def done(self) -> int:
        """Items done."""
        return sum(1 for s in self.states if s is ItemState.DONE)

    @property
    def applicable(self) -> int:
        """Items that apply (all but the not applicable ones)."""
        return sum(1 for s in self.states if s is not ItemState.NOT_APPLICABLE)

    @property
    def started(self) -> bool:
        """Whether any item is done or in progress."""
        return any(s in (ItemState.DONE, ItemState.IN_PROGRESS) for s in self.states)

    @property
    def next_open(self) -> ChecklistItem | None:
        """The first item (in checklist order) that is neither done nor not applicable."""
        for item, state in zip(self.checklist, self.states, strict=True):
            if state in (ItemState.OPEN, ItemState.IN_PROGRESS):
                return item
        return None

    def items(self) -> tuple[ItemStatus, ...]:
        """Return the checklist with states, dates, manual records and evidence."""
        ticks = row_ticks(self.row)
        why = dict(self.contradictions)
        out = []
        for index, item in enumerate(self.checklist):
            source = self.sources[index]
            tick = _tick_of(item)
            evidence: tuple[Evidence, ...] = ()
            if source == EVIDENCE and tick is not None:
                evidence = ticks.positive[tick][1]
            out.append(
                ItemStatus(
                    item=item,
                    state=self.states[index],
                    on=self.dates[index],
                    ticked_by=_SOURCE_NAMES[source],
                    manual=self.manual.get(item.key),
                    evidence=evidence,
                    contradiction=None if index not in why else str(why[index]),
                )
            )
        return tuple(out)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict (with the checklist)."""
        return {
            "wave": self.wave,
            "service": self.service_key,
            "ars": self.ars,
            "population": self.population,
            "stage": self.stage.value,
            "live": self.live,
            "live_on": None if self.live_on is None else self.live_on.isoformat(),
            "last_change": None if self.last_change is None else self.last_change.isoformat(),
            "done": self.done,
            "applicable": self.applicable,
            "items": [i.to_dict() for i in self.items()],
        }


@attrs.frozen(kw_only=True)
class StageCount:
    """Municipalities and their population."""

    municipalities: int
    population: int

    def to_dict(self) -> dict[str, int]:
        """Return a JSON-ready dict."""
        return {"municipalities": self.municipalities, "population": self.population}


@attrs.frozen(kw_only=True)
class Progress:
    """Targets vs reached for a set of municipalities (one service, or a whole wave)."""

    #: The targeted municipalities and their population.
    target: StageCount
    #: Per stage of the funnel: municipalities at that stage or further.
    reached: Mapping[Stage, StageCount]
    #: Municipalities that are live (for every service counted).
    live: StageCount
    #: Municipalities behind the target go-live date (not live after it).
    behind: int
    #: Checklist items done, and items that apply, over all cells.
    items_done: int
    items_applicable: int

    @property
    def completeness(self) -> float:
        """Share of the applicable checklist items that are done (1.0 without items)."""
        return self.items_done / self.items_applicable if self.items_applicable else 1.0

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return {
            "target": self.target.to_dict(),
            "reached": {s.value: c.to_dict() for s, c in self.reached.items()},
            "live": self.live.to_dict(),
            "behind": self.behind,
            "items_done": self.items_done,
            "items_applicable": self.items_applicable,
            "completeness": round(self.completeness, 4),
        }


@attrs.frozen(kw_only=True)
class Blocker:
    """A checklist item that holds municipalities back."""

    item: ChecklistItem
    #: Unfinished cells where it is the next open item.
    next_for: int
    #: Unfinished cells where it is open (anywhere in the checklist).
    open_in: int

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return {
            "item": self.item.key,
            "label": self.item.label,
            "next_for": self.next_for,
            "open_in": self.open_in,
        }


@attrs.frozen(kw_only=True)
class OutsideRow:
    """A contracted-or-further row of a plan service in an area no wave targets."""

    service_key: str
    ars: str
    stage: Stage
    row: RolloutRow

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return {"service": self.service_key, "ars": self.ars, "stage": self.stage.value}


@attrs.frozen(kw_only=True)
class WaveStatus:
    """The status of one wave."""

    wave: Wave
    services: tuple[str, ...]
    cells: tuple[Cell, ...]
    progress: Progress
    by_service: Mapping[str, Progress]
    #: The cells not live after the wave's target go-live date.
    behind: tuple[Cell, ...]
    forecast: Forecast
    blockers: tuple[Blocker, ...]

    @property
    def name(self) -> str:
        """The wave's name."""
        return self.wave.name

    def to_dict(self, *, cells: bool = False) -> dict[str, Any]:
        """Return a JSON-ready dict (with every cell's checklist if *cells*)."""
        out: dict[str, Any] = {
            "name": self.wave.name,
            "kind": self.wave.wave_kind.value,
            "stichtag": None if self.wave.stichtag is None else self.wave.stichtag.isoformat(),
            "target_golive": (
                None if self.wave.target_golive is None else self.wave.target_golive.isoformat()
            ),
            "targets": [str(t) for t in self.wave.targets],
            "services": list(self.services),
            "progress": self.progress.to_dict(),
            "by_service": {k: p.to_dict() for k, p in self.by_service.items()},
            "behind": [{"service": c.service_key, "ars": c.ars} for c in self.behind],
            "forecast": self.forecast.to_dict(),
            "blockers": [b.to_dict() for b in self.blockers],
        }
        if cells:
            out["cells"] = [c.to_dict() for c in self.cells]
        return out


@attrs.frozen(kw_only=True)
class PlanStatus:
    """The status of a plan: its waves, the forecast and blockers overall, what lies outside."""

    plan: Plan
    today: date
    waves: tuple[WaveStatus, ...]
    forecast: Forecast
    blockers: tuple[Blocker, ...]
    outside: tuple[OutsideRow, ...]
    #: Area names by ARS (from the register), for display.
    names: Mapping[str, str] = attrs.field(factory=dict, repr=False)

    def wave(self, name: str) -> WaveStatus:
        """Return the status of the wave *name* (:raises PlanError: no such wave)."""
        for status in self.waves:
            if status.wave.name == name:
                return status
        self.plan.wave(name)  # raises, naming the waves
        raise PlanError(f"wave {name!r} was not computed")  # pragma: no cover

    def to_dict(self, *, cells: bool = False) -> dict[str, Any]:
        """Return the JSON form (``efa plan status --format json``)."""
        return {
            "plan": self.plan.key,
            "name": self.plan.plan.name,
            "land": self.plan.land.abbreviation,
            "today": self.today.isoformat(),
            "services": list(self.plan.service_keys),
            "waves": [w.to_dict(cells=cells) for w in self.waves],
            "forecast": self.forecast.to_dict(),
            "blockers": [b.to_dict() for b in self.blockers],
            "outside": [o.to_dict() for o in self.outside],
        }


# -- computing ----------------------------------------------------------------------------------


def _tick_of(item: ChecklistItem) -> Tick | None:
    if item.ticked_by is not None:
        return item.ticked_by
    return Tick.ROUTE if item.key == "transport" else None


def _transport(ticks: RowTicks, manual: Mapping[str, OnboardingItem]) -> str | None:
    chosen = manual.get("transport")
    if chosen is not None and chosen.state is ItemState.DONE and chosen.value is not None:
        try:
            return Transport.parse(chosen.value).value
        except ValueError:
            return chosen.value
    if Tick.ROUTE in ticks.positive:
        return Transport.FIT_CONNECT.value
    return None


def _applies(item: ChecklistItem, transport: str | None, fees: bool) -> bool:
    condition = item.only_if
    if condition is None:
        return True
    if condition is ItemCondition.FIT_CONNECT:
        return transport in (None, Transport.FIT_CONNECT.value)
    if condition is ItemCondition.OSCI_XTA:
        return transport == Transport.OSCI_XTA.value
    return fees


def compute_cell(
    *,
    wave: str,
    service_key: str,
    ars: str,
    population: int,
    checklist: tuple[ChecklistItem, ...],
    row: RolloutRow | None,
    ticks: RowTicks,
    manual: Mapping[str, OnboardingItem],
    fees: bool,
    observed: frozenset[str],
) -> Cell:
    """Compute one cell (see the module docs)."""
    transport = _transport(ticks, manual)
    states: list[ItemState] = []
    dates: list[date | None] = []
    sources: list[int] = []
    contradictions: list[tuple[int, Message]] = []
    live = Tick.LIVE in ticks.positive
    live_on = ticks.positive[Tick.LIVE][0] if live else None
    for index, item in enumerate(checklist):
        tick = _tick_of(item)
        recorded = manual.get(item.key) if manual else None
        if not _applies(item, transport, fees):
            states.append(ItemState.NOT_APPLICABLE)
            dates.append(None)
            sources.append(CONDITION)
            continue
        found = None if tick is None else ticks.positive.get(tick)
        if found is not None:
            when = found[0]
            if when is None and recorded is not None:
                when = recorded.on
            states.append(ItemState.DONE)
            dates.append(when)
            sources.append(EVIDENCE)
            continue
        if recorded is None:
            states.append(ItemState.OPEN)
            dates.append(None)
            sources.append(NONE)
            continue
        states.append(recorded.state)
        dates.append(recorded.on)
        sources.append(MANUAL)
        if recorded.state is ItemState.DONE and tick is not None and item.ticked_by is tick:
            why = ticks.contrary.get(tick)
            if why is None and EVIDENCE_KIND[tick] in observed and tick not in ticks.ambiguous:
                why = _NO_EVIDENCE[tick].fill(ars=ars)
            if why is not None:
                contradictions.append((index, why))
            elif tick is Tick.LIVE and not live:
                live, live_on = True, recorded.on
    known = [d for d in dates if d is not None]
    return Cell(
        wave=wave,
        service_key=service_key,
        ars=ars,
        population=population,
        stage=ticks.stage,
        checklist=checklist,
        states=tuple(states),
        dates=tuple(dates),
        sources=tuple(sources),
        contradictions=tuple(contradictions),
        manual=manual,
        row=row,
        live=live,
        live_on=live_on,
        last_change=max(known) if known else None,
    )


class _Outcome(NamedTuple):
    """What a cell without manual items gets from the kinds its row ticks (shared)."""

    stage: Stage
    states: tuple[ItemState, ...]
    sources: tuple[int, ...]
    live: bool
    #: Per item, the tick whose evidence dates it (None: undated).
    date_ticks: tuple[Tick | None, ...]


class _Summary(NamedTuple):
    """What progress and blockers need of a cell's checklist (shared between equal ones)."""

    done: int
    applicable: int
    #: The first open item's key (None: nothing open), and every open item.
    first: str | None
    open: tuple[ChecklistItem, ...]


def _summary(cell: Cell, cache: dict[tuple[int, int], _Summary]) -> _Summary:
    key = (id(cell.checklist), id(cell.states))
    found = cache.get(key)
    if found is None:
        opened = tuple(
            item
            for item, state in zip(cell.checklist, cell.states, strict=True)
            if state is ItemState.OPEN or state is ItemState.IN_PROGRESS
        )
        found = cache[key] = _Summary(
            done=cell.done,
            applicable=cell.applicable,
            first=opened[0].key if opened else None,
            open=opened,
        )
    return found


class _ServiceData:
    """What one plan service needs for its cells: rows by area, manual items, observations."""

    def __init__(
        self,
        plan: Plan,
        service: str,
        view: RolloutView,
        within: str,
        given: Sequence[RolloutRow] | None = None,
    ) -> None:
        if given is None:
            info = view.service(service)  # the plan may name the offer by any of its ids
            rows = list(view.rows(service if info is None else info.key, within=within))
        else:
            rows = [r for r in given if str(r.ars).startswith(within)]
        self.rows: dict[str, RolloutRow] = {}
        for row in rows:
            self.rows[str(row.ars)] = row
            for alias in row.aliases:
                self.rows.setdefault(str(alias), row)
        self.all_rows = rows
        self.observed = observed_kinds(rows)
        entry = plan.plan.service(service)
        self.fees = entry is not None and entry.fees
        self.checklist = plan.checklist(service)
        self.manual: dict[str, dict[str, OnboardingItem]] = {}
        for item in plan.items:
            if item.service_key == service:
                self.manual.setdefault(str(item.ars), {})[item.item] = item
        #: The lengths of the ARS with recorded items, shortest first (a Kreis before its
        #: Gemeinden: the Gemeinde's own items win).
        self.manual_lengths = sorted({len(a) for a in self.manual})
        self._ticks: dict[int, RowTicks] = {}
        #: Cells without manual items depend only on the ticks' stage and kinds (and take
        #: their dates from the ticks' evidence).
        self._outcomes: dict[tuple[Any, ...], _Outcome] = {}

    def cell(
        self, wave: str, service: str, ars: str, population: int, row: RolloutRow | None
    ) -> Cell:
        """Compute the cell of *ars* (the same as :func:`compute_cell`, memoized)."""
        ticks = self.ticks_for(row)
        manual = self.manual_for(ars)

        def computed() -> Cell:
            return compute_cell(
                wave=wave,
                service_key=service,
                ars=ars,
                population=population,
                checklist=self.checklist,
                row=row,
                ticks=ticks,
                manual=manual,
                fees=self.fees,
                observed=self.observed,
            )

        if manual:
            return computed()
        positive = ticks.positive
        signature = (ticks.stage, *positive)
        outcome = self._outcomes.get(signature)
        if outcome is None:
            full = computed()
            outcome = self._outcomes[signature] = _Outcome(
                full.stage,
                full.states,
                full.sources,
                full.live,
                tuple(
                    _tick_of(item) if source == EVIDENCE else None
                    for item, source in zip(self.checklist, full.sources, strict=True)
                ),
            )
        dates = tuple(None if t is None else positive[t][0] for t in outcome.date_ticks)
        known = [d for d in dates if d is not None]
        return Cell(
            wave=wave,
            service_key=service,
            ars=ars,
            population=population,
            stage=outcome.stage,
            checklist=self.checklist,
            states=outcome.states,
            dates=dates,
            sources=outcome.sources,
            contradictions=(),
            manual=_EMPTY_MANUAL,
            row=row,
            live=outcome.live,
            live_on=positive[Tick.LIVE][0] if outcome.live else None,
            last_change=max(known) if known else None,
        )

    def row_for(self, ars: str) -> RolloutRow | None:
        rows = self.rows
        found = rows.get(ars)
        if found is not None:
            return found
        for n in (9, 5, 3, 2):
            if n < len(ars):
                found = rows.get(ars[:n])
                if found is not None:
                    return found
        return None

    def ticks_for(self, row: RolloutRow | None) -> RowTicks:
        if row is None:
            return row_ticks(None)
        key = id(row)
        found = self._ticks.get(key)
        if found is None:
            found = self._ticks[key] = row_ticks(row)
        return found

    def manual_for(self, ars: str) -> Mapping[str, OnboardingItem]:
        if not self.manual:
            return _EMPTY_MANUAL
        merged: dict[str, OnboardingItem] = {}
        for n in self.manual_lengths:
            found = self.manual.get(ars[:n]) if n <= len(ars) else None
            if found:
                merged.update(found)
        return merged or _EMPTY_MANUAL


def _inhabited_by_prefix(areas: AreaIndex, within: str) -> dict[str, list[str]]:
    """Return the inhabited Gemeinden of *within* under each of their prefixes, in order."""
    out: dict[str, list[str]] = {}
    for g in areas.gemeinden(within):
        if g.inhabited:
            ars = g.ars
            for n in _PREFIX_LENGTHS:
                out.setdefault(ars[:n], []).append(ars)
    return out


def _units(
    wave: Wave, areas: AreaIndex, inside: Mapping[str, list[str]] | None = None
) -> list[str]:
    """Return the municipalities a wave targets (register Gemeinden inside the targets).

    *inside* is :func:`_inhabited_by_prefix` of an area holding the targets, if known.
    """
    out: dict[str, None] = {}
    for target in wave.targets:
        text = str(target)
        if areas.has_register:
            if inside is not None:
                found = list(inside.get(text, ()))
            else:
                found = [g.ars for g in areas.gemeinden(text) if g.inhabited]
            if not found and text in areas.areas:
                found = [text]  # a target the register knows but has no Gemeinden for
            if not found:
                found = [text]
        else:
            found = [text]
        for ars in found:
            out.setdefault(ars, None)
    return list(out)


_LIVE_RANK = Stage.LIVE.rank
_FUNNEL_RANKS = tuple((stage, stage.rank) for stage in _FUNNEL)


class _Entry(NamedTuple):
    """A cell as progress counts it."""

    rank: int
    live: bool
    done: int
    applicable: int


def _progress(
    units: Mapping[str, list[_Entry]], population: Mapping[str, int], behind: set[str]
) -> Progress:
    reached = {stage: [0, 0] for stage in _FUNNEL}
    counts = [reached[stage] for stage, _ in _FUNNEL_RANKS]
    ranks = [rank for _, rank in _FUNNEL_RANKS]
    live = [0, 0]
    done = applicable = 0
    for ars, entries in units.items():
        pop = population.get(ars, 0)
        lowest = min((e.rank for e in entries), default=Stage.OFFERED.rank)
        for count, rank in zip(counts, ranks, strict=True):
            if lowest >= rank:
                count[0] += 1
                count[1] += pop
        if entries and all(e.live for e in entries):
            live[0] += 1
            live[1] += pop
        for entry in entries:
            done += entry.done
            applicable += entry.applicable
    return Progress(
        target=StageCount(
            municipalities=len(units), population=sum(population.get(a, 0) for a in units)
        ),
        reached={s: StageCount(municipalities=n, population=p) for s, (n, p) in reached.items()},
        live=StageCount(municipalities=live[0], population=live[1]),
        behind=sum(1 for a in units if a in behind),
        items_done=done,
        items_applicable=applicable,
    )


class _BlockerCounts:
    """The counts behind :class:`Blocker`: per item, cells it is next for and open in."""

    def __init__(self) -> None:
        #: Per distinct summary (by identity): the summary and how many cells have it.
        self.summaries: dict[int, tuple[_Summary, int]] = {}

    def add(self, summary: _Summary, times: int = 1) -> None:
        key = id(summary)
        found = self.summaries.get(key)
        self.summaries[key] = (summary, times if found is None else found[1] + times)

    def update(self, other: _BlockerCounts) -> None:
        for summary, times in other.summaries.values():
            self.add(summary, times)

    def blockers(self) -> tuple[Blocker, ...]:
        next_for: Counter[str] = Counter()
        open_in: Counter[str] = Counter()
        items: dict[str, ChecklistItem] = {}
        for summary, times in self.summaries.values():
            if summary.first is not None:
                next_for[summary.first] += times
            for item in summary.open:
                items.setdefault(item.key, item)
                open_in[item.key] += times
        ranked = sorted(open_in, key=lambda k: (-next_for[k], -open_in[k], k))
        return tuple(
            Blocker(item=items[k], next_for=next_for[k], open_in=open_in[k]) for k in ranked
        )


def _covered(targets: Iterable[Ars]) -> tuple[frozenset[str], frozenset[str]]:
    """Return the targets, and every prefix of them (the areas containing a target)."""
    values = frozenset(str(t) for t in targets)
    return values, frozenset(v[:n] for v in values for n in range(1, len(v) + 1))


def _in_plan(ars: Ars, targets: frozenset[str], prefixes: frozenset[str]) -> bool:
    """Whether a target contains *ars* or *ars* contains a target (prefix containment)."""
    value = str(ars)
    if value in prefixes:
        return True
    return any(value[:n] in targets for n in range(1, len(value)))


def _outside(
    plan: Plan, data: Mapping[str, _ServiceData], waves: Sequence[Wave]
) -> tuple[OutsideRow, ...]:
    targets = {
        service: _covered(t for w in waves if service in plan.wave_services(w) for t in w.targets)
        for service in plan.service_keys
    }
    out = []
    for service, service_data in data.items():
        aimed, around = targets[service]
        for row in service_data.all_rows:
            if row.stage < Stage.CONTRACTED:
                continue
            if _in_plan(row.ars, aimed, around):
                continue
            if any(_in_plan(a, aimed, around) for a in row.aliases):
                continue
            out.append(OutsideRow(service_key=service, ars=str(row.ars), stage=row.stage, row=row))
    return tuple(out)


def plan_status(
    view: RolloutView,
    plan: Plan,
    *,
    today: date | None = None,
    areas: AreaIndex | None = None,
    waves: Iterable[str] | None = None,
    services: Iterable[str] | None = None,
    rows: Mapping[str, Sequence[RolloutRow]] | None = None,
    window_days: int = DEFAULT_WINDOW_DAYS,
) -> PlanStatus:
    """Compute the status of *plan* against the derived *view* (see the module docs).

    :param today: the day to measure against (default: today, UTC).
    :param areas: the register (default: loaded from the view's store, the plan's Land).
    :param waves: only these waves (default: all).  Waves not asked for still claim their
        municipalities, so a municipality is in the same wave either way.
    :param services: only these services of the plan (default: all).
    :param rows: rows already read, by service key (each at least every row of the service
        in the plan's Land); services not in it are read from the view.
    :param window_days: how far back the forecast measures the pace.
    :raises PlanError: *waves* names a wave the plan does not have.
    """
    with gc_paused():
        return _plan_status(
            view,
            plan,
            today=today or datetime.now(timezone.utc).date(),
            areas=areas,
            waves=waves,
            services=services,
            rows=rows,
            window_days=window_days,
        )


def _plan_status(
    view: RolloutView,
    plan: Plan,
    *,
    today: date,
    areas: AreaIndex | None,
    waves: Iterable[str] | None,
    services: Iterable[str] | None,
    rows: Mapping[str, Sequence[RolloutRow]] | None,
    window_days: int,
) -> PlanStatus:
    day = today
    land = plan.land.code
    index = areas if areas is not None else AreaIndex.load(view.store, within=land)
    wanted = None if waves is None else [plan.wave(name).name for name in waves]
    chosen = (
        plan.service_keys
        if services is None
        else [s for s in plan.service_keys if s in set(services)]
    )
    given = rows or {}
    data = {s: _ServiceData(plan, s, view, land, given.get(s)) for s in chosen}
    claimed: dict[str, set[str]] = {s: set() for s in chosen}
    inside = _inhabited_by_prefix(index, land)  # wave targets lie inside the plan's Land
    statuses: list[WaveStatus] = []
    population: dict[str, int] = {}
    all_cells: list[Cell] = []
    summaries: dict[tuple[int, int], _Summary] = {}
    all_blockers = _BlockerCounts()
    for wave in sorted(plan.waves, key=wave_order):
        services = [s for s in plan.wave_services(wave) if s in data]
        units = _units(wave, index, inside)
        keep = wanted is None or wave.name in wanted
        cells: list[Cell] = []
        by_unit: dict[str, list[_Entry]] = {}
        by_service_unit: dict[str, dict[str, list[_Entry]]] = {s: {} for s in services}
        blocking = _BlockerCounts()
        for service in services:
            service_data = data[service]
            taken = claimed[service]
            for ars in units:
                if ars in taken:
                    continue
                taken.add(ars)
                if not keep:
                    continue
                if ars not in population:
                    population[ars] = index.population(ars) or 0
                row = service_data.row_for(ars)
                cell = service_data.cell(wave.name, service, ars, population[ars], row)
                cells.append(cell)
                summary = _summary(cell, summaries)
                entry = _Entry(cell.stage.rank, cell.live, summary.done, summary.applicable)
                by_unit.setdefault(ars, []).append(entry)
                by_service_unit[service][ars] = [entry]
                if not cell.live:
                    blocking.add(summary)
        if not keep:
            continue
        late = wave.target_golive is not None and wave.target_golive < day
        behind = tuple(c for c in cells if late and not c.live)
        behind_units = {c.ars for c in behind}
        statuses.append(
            WaveStatus(
                wave=wave,
                services=tuple(services),
                cells=tuple(cells),
                progress=_progress(by_unit, population, behind_units),
                by_service={
                    s: _progress(u, population, {c.ars for c in behind if c.service_key == s})
                    for s, u in by_service_unit.items()
                },
                behind=behind,
                forecast=forecast(
                    [c.live_on for c in cells if c.live], len(cells), day, window_days=window_days
                ),
                blockers=blocking.blockers(),
            )
        )
        all_cells.extend(cells)
        all_blockers.update(blocking)
    names = {ars: info.name for ars, info in index.areas.items() if info.name}
    return PlanStatus(
        plan=plan,
        today=day,
        waves=tuple(statuses),
        forecast=forecast(
            [c.live_on for c in all_cells if c.live], len(all_cells), day, window_days=window_days
        ),
        blockers=all_blockers.blockers(),
        outside=_outside(plan, data, plan.waves),
        names=names,
    )


def pilot_waves(plan: Plan) -> list[Wave]:
    """Return the plan's pilot waves."""
    return [w for w in plan.waves if w.wave_kind is WaveKind.PILOT]


def unit_areas(wave: Wave, areas: AreaIndex) -> list[Ars]:
    """Return the municipalities *wave* targets, as ARS (see :func:`plan_status`)."""
    return [Ars(a) for a in _units(wave, areas)]
