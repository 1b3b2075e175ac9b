"""The planning finding rules, registered as a bundled plugin.

They judge the services of the plans in the store (services in no plan get no planning
finding), with the plan's status computed from the same rows the other rules see.

=========================  ========  ========================================================
rule                       severity  reports
=========================  ========  ========================================================
``behind-target``          warning   a wave's target go-live date has passed and the service
                                     is not live in one of its municipalities
``stalled-onboarding``     warning   the municipality started onboarding (an item recorded as
                                     done or in progress, or evidence of its own area) in a
                                     wave past its Stichtag, but no item changed for
                                     ``stalled_days`` (60) days and it is not live
``pilot-without-uptake``   warning   a pilot municipality shows no uptake after the wave's
                                     Stichtag: no agreement of its own, nothing published,
                                     no checklist item done or in progress
``live-before-contract``   warning   live, but the agreement is only an interest, or the
                                     contract is dated after the go-live
``contradicted-tick``      warning   a checklist item ticked by hand that the sources
                                     contradict (ticked "destination" but no route exists)
``outside-plan``           info      contracted or further in an area of the plan's Land that
                                     no wave targets: welcome, but visible
``target-not-in-register`` warning   a wave targets an ARS the imported register does not
                                     hold (merged away, mistyped); off without a register
=========================  ========  ========================================================

Options: ``stalled_days`` (60).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

from efa_core.hookspecs import RegisterFindingRule, hookimpl
from efa_core.i18n import M, Message, Text
from efa_core.ids import Ars
from efa_core.model import ItemState, Stage, Tick, WaveKind
from efa_core.rollout.findings import Finding, FindingContext, Severity
from efa_core.rollout.planning.plan import Plan, load_plans
from efa_core.rollout.planning.progress import MANUAL, Cell, PlanStatus, plan_status

__all__ = [
    "behind_target",
    "contradicted_tick",
    "efa_register_finding_rules",
    "live_before_contract",
    "outside_plan",
    "pilot_without_uptake",
    "stalled_onboarding",
    "target_not_in_register",
]

#: One slot per cache: (the key objects kept alive, the value).
_plans_memo: list[Any] = [None, None]
_status_memo: list[Any] = [None, None]


def _plans(context: FindingContext) -> list[Plan]:
    store = context.store
    row = store.backend.fetchone("SELECT MAX(id) FROM history")
    mark = (store, None if row is None else row[0])
    if _plans_memo[0] is None or _plans_memo[0][0] is not store or _plans_memo[0][1] != mark[1]:
        _plans_memo[0], _plans_memo[1] = mark, load_plans(store)
    plans: list[Plan] = _plans_memo[1]
    return plans


def _statuses(context: FindingContext) -> list[PlanStatus]:
    """Return the status of every plan with the context's service, for that service only."""
    if _status_memo[0] is context:
        found: list[PlanStatus] = _status_memo[1]
        return found
    key = context.service.key
    out = []
    for plan in _plans(context):
        # the plan may name the offer by any of its ids; rows and findings use the canonical
        named = [s for s in plan.service_keys if s == key or _canonical(context, s) == key]
        if not named:
            continue
        land = plan.land.code
        inside = context.within is None or land.startswith(context.within)
        out.append(
            plan_status(
                context.view,
                plan,
                today=context.now.date(),
                areas=context.areas,
                services=named,
                rows=dict.fromkeys(named, context.rows) if inside else None,
            )
        )
    _status_memo[0], _status_memo[1] = context, out
    return out


def _canonical(context: FindingContext, ref: str) -> str | None:
    info = context.view.service(ref)
    return None if info is None else info.key


def _evidence(cell: Cell) -> tuple[Any, ...]:
    if cell.row is None:
        return ()
    return cell.row.evidence_for(cell.stage) if cell.stage is not Stage.OFFERED else ()


def _where(status: PlanStatus, ars: str) -> str:
    name = status.names.get(ars)
    return f"{name} ({ars})" if name else ars


def _cells(context: FindingContext) -> Iterator[tuple[PlanStatus, Cell]]:
    for status in _statuses(context):
        for wave in status.waves:
            for cell in wave.cells:
                yield status, cell


def behind_target(context: FindingContext) -> Iterator[Finding]:
    """Report municipalities not live after their wave's target go-live date."""
    for status in _statuses(context):
        for wave in status.waves:
            target = wave.wave.target_golive
            for cell in wave.behind:
                assert target is not None
                days = (status.today - target).days
                yield Finding(
                    rule="behind-target",
                    severity=Severity.WARNING,
                    service=context.service.key,
                    area=Ars(cell.ars),
                    text=M.BEHIND_TARGET.fill(
                        service=cell.service_key,
                        where=_where(status, cell.ars),
                        stage=cell.stage,
                        wave=wave.name,
                        plan=status.plan.key,
                        target=target,
                        days=days,
                    ),
                    evidence=_evidence(cell),
                )


def stalled_onboarding(context: FindingContext) -> Iterator[Finding]:
    """Report started onboardings where nothing changed for ``stalled_days`` days."""
    days = int(context.option("stalled_days", 60))
    for status in _statuses(context):
        for wave in status.waves:
            stichtag = wave.wave.stichtag
            if stichtag is not None and stichtag > status.today:
                continue  # the wave has not started
            for cell in wave.cells:
                if cell.live or cell.last_change is None or not _started(cell):
                    continue
                idle = (status.today - cell.last_change).days
                if idle <= days:
                    continue
                following = cell.next_open
                step = "" if following is None else M.NEXT_STEP.fill(label=following.label)
                yield Finding(
                    rule="stalled-onboarding",
                    severity=Severity.WARNING,
                    service=context.service.key,
                    area=Ars(cell.ars),
                    text=M.STALLED_ONBOARDING.fill(
                        service=cell.service_key,
                        where=_where(status, cell.ars),
                        idle=idle,
                        last=cell.last_change,
                        days=days,
                        step=step,
                    ),
                    evidence=_evidence(cell),
                )


def _own(cell: Cell) -> set[str]:
    own = {cell.ars}
    if cell.row is not None and str(cell.row.ars) == cell.ars:
        own.update(str(a) for a in cell.row.aliases)
    return own


def _started(cell: Cell) -> bool:
    """Whether the municipality itself started: a recorded item, or evidence of its own area.

    Evidence inherited from a containing area (the Land's contract) does not count.
    """
    if any(
        source == MANUAL and state in (ItemState.DONE, ItemState.IN_PROGRESS)
        for source, state in zip(cell.sources, cell.states, strict=True)
    ):
        return True
    if cell.row is None:
        return False
    own = _own(cell)
    return any(e.kind != "service" and e.area in own for e in cell.row.evidence)


def _own_agreement(cell: Cell) -> bool:
    if cell.row is None:
        return False
    own = _own(cell)
    return any(e.kind == "agreement" and e.area in own for e in cell.row.evidence)


def pilot_without_uptake(context: FindingContext) -> Iterator[Finding]:
    """Report pilot municipalities that took up nothing after the Stichtag."""
    for status in _statuses(context):
        for wave in status.waves:
            stichtag = wave.wave.stichtag
            if wave.wave.wave_kind is not WaveKind.PILOT or stichtag is None:
                continue
            if stichtag >= status.today:
                continue
            for cell in wave.cells:
                if cell.started and MANUAL in cell.sources:
                    continue  # recorded by hand: something happened
                if cell.stage >= Stage.PUBLISHED or _own_agreement(cell):
                    continue
                yield Finding(
                    rule="pilot-without-uptake",
                    severity=Severity.WARNING,
                    service=context.service.key,
                    area=Ars(cell.ars),
                    text=M.PILOT_WITHOUT_UPTAKE.fill(
                        service=cell.service_key,
                        where=_where(status, cell.ars),
                        wave=wave.name,
                        stichtag=stichtag,
                    ),
                    evidence=_evidence(cell),
                )


def _contract_date(cell: Cell) -> Any:
    for item, state, on in zip(cell.checklist, cell.states, cell.dates, strict=True):
        if item.ticked_by is Tick.CONTRACT and state is ItemState.DONE:
            return on if on is not None else "undated"
    return None


def live_before_contract(context: FindingContext) -> Iterator[Finding]:
    """Report go-lives before the contract (or with an interest only)."""
    for status, cell in _cells(context):
        if not cell.live or cell.row is None:
            continue
        state = cell.row.agreement_state
        if state is None or not cell.row.has_active_agreement:
            continue  # live-without-agreement reports those
        contracted = _contract_date(cell)
        why: Message
        if contracted is None:
            why = M.ONLY_INTEREST.fill(state=state)
        elif contracted != "undated" and cell.live_on is not None and contracted > cell.live_on:
            why = M.LIVE_BEFORE.fill(live=cell.live_on, contracted=contracted)
        else:
            continue
        yield Finding(
            rule="live-before-contract",
            severity=Severity.WARNING,
            service=context.service.key,
            area=Ars(cell.ars),
            text=M.LIVE_BEFORE_CONTRACT.fill(
                service=cell.service_key, where=_where(status, cell.ars), why=why
            ),
            evidence=cell.row.evidence_for(Stage.LIVE)
            + tuple(e for e in cell.row.evidence if e.kind == "agreement"),
        )


def contradicted_tick(context: FindingContext) -> Iterator[Finding]:
    """Report checklist items ticked by hand that the sources contradict."""
    for status, cell in _cells(context):
        for index, why in cell.contradictions:
            item = cell.checklist[index]
            recorded = cell.manual.get(item.key)
            who: str | Message = ""
            when: str | Message = ""
            if recorded is not None and recorded.by:
                who = M.TICKED_BY.fill(by=recorded.by)
            if recorded is not None and recorded.on is not None:
                when = M.TICKED_ON.fill(on=recorded.on)
            yield Finding(
                rule="contradicted-tick",
                severity=Severity.WARNING,
                service=context.service.key,
                area=Ars(cell.ars),
                text=M.CONTRADICTED_TICK.fill(
                    service=cell.service_key,
                    item=item.label,
                    where=_where(status, cell.ars),
                    who=who,
                    when=when,
                    plan=status.plan.key,
                    why=why,
                ),
                evidence=_evidence(cell),
            )


def outside_plan(context: FindingContext) -> Iterator[Finding]:
    """Report contracted-or-further rows in areas no wave targets."""
    for status in _statuses(context):
        for row in status.outside:
            yield Finding(
                rule="outside-plan",
                severity=Severity.INFO,
                service=context.service.key,
                area=Ars(row.ars),
                text=M.OUTSIDE_PLAN.fill(
                    service=row.service_key,
                    stage=row.stage,
                    where=_where(status, row.ars),
                    plan=status.plan.key,
                ),
                evidence=row.row.evidence_for(row.stage),
            )


def target_not_in_register(context: FindingContext) -> Iterator[Finding]:
    """Report wave targets the register does not hold (reported with the plan's first service)."""
    if not context.areas.has_register:
        return
    for plan in _plans(context):
        if not plan.service_keys or plan.service_keys[0] != context.service.key:
            continue
        for wave in plan.waves:
            for target in wave.targets:
                text = str(target)
                if text in context.areas.areas:
                    continue
                removed = context.areas.removed.get(text)
                reason: Text | Message = (
                    M.TARGET_REMOVED.fill(date=date.fromisoformat(removed))
                    if removed
                    else M.TARGET_UNKNOWN
                )
                yield Finding(
                    rule="target-not-in-register",
                    severity=Severity.WARNING,
                    service=context.service.key,
                    area=target,
                    text=M.TARGET_NOT_IN_REGISTER.fill(
                        wave=wave.name, plan=plan.key, area=text, reason=reason
                    ),
                )


@hookimpl
def efa_register_finding_rules(register: RegisterFindingRule) -> None:
    """Register the planning finding rules."""
    register("behind-target", behind_target)
    register("stalled-onboarding", stalled_onboarding)
    register("pilot-without-uptake", pilot_without_uptake)
    register("live-before-contract", live_before_contract)
    register("contradicted-tick", contradicted_tick)
    register("outside-plan", outside_plan)
    register("target-not-in-register", target_not_in_register)
