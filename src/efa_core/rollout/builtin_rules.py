"""The built-in finding rules and cost strategies, registered as a bundled plugin.

============================  ========  ===================================================
rule                          severity  reports
============================  ========  ===================================================
``live-without-agreement``    error     a row is live but no interest or contract governs
                                        its area (none, terminated, declined, withdrawn)
``contracted-not-published``  warning   a subscriber's own contract is older than
                                        ``contracted_days`` (90) and no responsibility
                                        covers its area or any area inside it
``published-without-route``   warning   a row's stage is published (a responsibility for
                                        the service covers it) but no FIT-Connect route
                                        exists for it or any area inside it
``dashboard-offline``         warning   an OZG-Dashboard row of the service says offline
``unknown-online-service``    warning   a responsibility points to an Onlinedienst id that
                                        no service has and the option
                                        ``known_onlinedienste`` does not list
``unknown-area``              warning   the area is not in the imported register, or was
                                        removed from it (e.g. a Gemeinde merged away); off
                                        without a register
``ambiguous-evidence``        warning   evidence in the area could belong to several offers
                                        (it raises none of their stages); names them
``sources-disagree``          warning   sources disagree on the area's agreement (the
                                        governing one is named), or the service's records
                                        disagree on its provider Land, operator or URL host
``unresolved-area``           info      a 12-digit zero-filled ARS may stand for a coarser
                                        area and no register decides it
============================  ========  ===================================================

A kreisfreie Stadt named as its Kreis (``16055``) and as its Gemeinde (``160550000000``) is
one row at the Gemeinde ARS (see :mod:`efa_core.rollout.equivalence`); the rules treat
evidence mapped onto a row (:attr:`Evidence.area <efa_core.rollout.Evidence.area>`)
as the row's own.

Cost strategies: ``koenigsteiner``, ``per-capita``, ``land-pays``, ``fitko-budget`` and
``usage`` (see :mod:`efa_core.rollout.costs`).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Sequence
from datetime import date, timedelta

from efa_core.hookspecs import RegisterCostStrategy, RegisterFindingRule, hookimpl
from efa_core.i18n import FIELD_NAMES, RECORD_KIND_NAMES, M, Message, Text
from efa_core.model import AgreementState, Stage
from efa_core.rollout import costs
from efa_core.rollout.findings import Finding, FindingContext, Severity
from efa_core.rollout.rows import Evidence, Role, RolloutRow, Via

__all__ = [
    "ambiguous_evidence",
    "contracted_not_published",
    "dashboard_offline",
    "efa_register_cost_strategies",
    "efa_register_finding_rules",
    "live_without_agreement",
    "published_without_route",
    "sources_disagree",
    "unknown_area",
    "unknown_online_service",
    "unresolved_area",
]


def _any_within(sorted_areas: Sequence[str], area: str) -> bool:
    """Whether some ARS of *sorted_areas* lies inside *area* (or is it)."""
    i = bisect.bisect_left(sorted_areas, area)
    return i < len(sorted_areas) and sorted_areas[i].startswith(area)


def _either(items: Sequence[object]) -> object:
    """Return ``a or b or c`` as a catalogue message (a single item as it is)."""
    out = items[0]
    for item in items[1:]:
        out = M.EITHER.fill(a=out, b=item)
    return out


def _state(detail: str | None) -> object:
    """Return an agreement evidence's detail as its state (named in the reader's language)."""
    try:
        return AgreementState(detail)
    except ValueError:
        return detail


def live_without_agreement(context: FindingContext) -> Iterator[Finding]:
    """Report live rows without an active agreement."""
    for row in context.rows:
        if row.live and not row.has_active_agreement:
            state: Text | Message = (
                M.NO_AGREEMENT
                if row.agreement_state is None
                else M.AGREEMENT_IS.fill(state=row.agreement_state)
            )
            yield Finding(
                rule="live-without-agreement",
                severity=Severity.ERROR,
                service=row.service_key,
                area=row.ars,
                text=M.LIVE_WITHOUT_AGREEMENT.fill(
                    service=context.service.key, area=row.ars, state=state
                ),
                evidence=row.evidence_for(Stage.LIVE)
                + tuple(e for e in row.evidence if e.kind == "agreement"),
            )


def _own_agreement(row: RolloutRow) -> bool:
    return any(e.kind == "agreement" and e.area == str(row.ars) for e in row.evidence)


def contracted_not_published(context: FindingContext) -> Iterator[Finding]:
    """Report contracts older than ``contracted_days`` with nothing published in their area."""
    days = int(context.option("contracted_days", 90))
    limit = context.now - timedelta(days=days)
    published = sorted(str(r.ars) for r in context.rows if r.published)
    for row in context.rows:
        if row.agreement_state is not AgreementState.CONTRACTED or not _own_agreement(row):
            continue
        if row.agreement_since is None or row.agreement_since > limit:
            continue
        if row.published or _any_within(published, str(row.ars)):
            continue
        age = (context.now - row.agreement_since).days
        yield Finding(
            rule="contracted-not-published",
            severity=Severity.WARNING,
            service=row.service_key,
            area=row.ars,
            text=M.CONTRACTED_NOT_PUBLISHED.fill(
                service=context.service.key,
                area=row.ars,
                age=age,
                since=row.agreement_since.date(),
                days=days,
            ),
            evidence=tuple(e for e in row.evidence if e.kind == "agreement"),
        )


def published_without_route(context: FindingContext) -> Iterator[Finding]:
    """Report published rows without any FIT-Connect route in their area."""
    routable = sorted(str(r.ars) for r in context.rows if r.routable)
    for row in context.rows:
        if row.stage is not Stage.PUBLISHED:
            continue
        ars = str(row.ars)
        if _any_within(routable, ars):
            continue
        if not any(e.stage is Stage.PUBLISHED and e.area == ars for e in row.evidence):
            continue  # reported once, at the responsibility's own area
        yield Finding(
            rule="published-without-route",
            severity=Severity.WARNING,
            service=row.service_key,
            area=row.ars,
            text=M.PUBLISHED_WITHOUT_ROUTE.fill(service=context.service.key, area=row.ars),
            evidence=row.evidence_for(Stage.PUBLISHED),
        )


def dashboard_offline(context: FindingContext) -> Iterator[Finding]:
    """Report dashboard rows that say the service is offline."""
    for row in context.rows:
        ars = str(row.ars)
        offline = tuple(
            e
            for e in row.evidence
            if e.role is Role.CONTRARY and e.kind == "availability" and e.area == ars
        )
        if offline:
            yield Finding(
                rule="dashboard-offline",
                severity=Severity.WARNING,
                service=row.service_key,
                area=row.ars,
                text=M.DASHBOARD_OFFLINE.fill(service=context.service.key, area=row.ars),
                evidence=offline,
            )


def unknown_online_service(context: FindingContext) -> Iterator[Finding]:
    """Report responsibilities pointing to an Onlinedienst no service has."""
    aliases = context.view.resolution().aliases
    listed = {str(x) for x in context.option("known_onlinedienste", ())}
    for row in context.rows:
        ars = str(row.ars)
        for e in row.evidence:
            if e.kind != "responsibility" or e.area != ars:
                continue
            if not (e.detail or "").startswith("onlinedienst:"):
                continue
            target = (e.detail or "").split(":", 1)[1]
            if target in aliases or target in listed:
                continue
            use: Text | Message = (
                M.USE_OTHER_SOLUTION
                if e.role is Role.OTHER_SOLUTION
                else M.USE_LEIKA_ONLY.fill(service=context.service.key)
            )
            yield Finding(
                rule="unknown-online-service",
                severity=Severity.WARNING,
                service=row.service_key,
                area=row.ars,
                text=M.UNKNOWN_ONLINE_SERVICE.fill(
                    key=e.natural_key,
                    source=e.source,
                    area=row.ars,
                    target=target,
                    use=use,
                    service=context.service.key,
                ),
                evidence=(e,),
            )


def unknown_area(context: FindingContext) -> Iterator[Finding]:
    """Report rows whose ARS the register does not contain (any more)."""
    if not context.areas.has_register:
        return
    for row in context.rows:
        ars = str(row.ars)
        if ars in context.areas.areas:
            continue
        removed = context.areas.removed.get(ars)
        reason: Text | Message = (
            M.AREA_REMOVED.fill(date=date.fromisoformat(removed))
            if removed
            else M.AREA_NOT_IN_REGISTER
        )
        yield Finding(
            rule="unknown-area",
            severity=Severity.WARNING,
            service=row.service_key,
            area=row.ars,
            text=M.UNKNOWN_AREA.fill(service=context.service.key, area=ars, reason=reason),
            evidence=tuple(e for e in row.evidence if e.area == ars),
        )


def ambiguous_evidence(context: FindingContext) -> Iterator[Finding]:
    """Report evidence that could belong to several offers, at the area it names."""
    for row in context.rows:
        ars = str(row.ars)
        found = tuple(e for e in row.evidence_with(Role.AMBIGUOUS) if e.area == ars)
        if not found:
            continue
        candidates = sorted({c for e in found for c in e.candidates})
        kinds = tuple(RECORD_KIND_NAMES.get(k, k) for k in sorted({e.kind for e in found}))
        yield Finding(
            rule="ambiguous-evidence",
            severity=Severity.WARNING,
            service=row.service_key,
            area=row.ars,
            text=M.AMBIGUOUS_EVIDENCE.fill(
                n=len(found),
                kinds=kinds,
                area=row.ars,
                candidates=tuple(candidates),
                service=context.service.key,
            ),
            evidence=found,
        )


def sources_disagree(context: FindingContext) -> Iterator[Finding]:
    """Report sources that disagree: on an area's agreement, or on the service's attributes."""
    service = context.service
    seen = {(s, k): at for s, k, at in service.records}
    for conflict in service.conflicts:
        values = "; ".join(f"{v!r} ({s} {k})" for s, k, v in conflict.values)
        source, _, value = conflict.governing
        yield Finding(
            rule="sources-disagree",
            severity=Severity.WARNING,
            service=service.key,
            area=None,
            text=M.ATTRIBUTES_DISAGREE.fill(
                service=service.key,
                field=FIELD_NAMES.get(conflict.field, conflict.field),
                values=values,
                value=value,
                source=source,
            ),
            # every record with a value: the governing value supports, the others are
            # overruled (kept, as for agreements)
            evidence=tuple(
                Evidence(
                    stage=Stage.OFFERED,
                    source=s,
                    kind="service",
                    natural_key=k,
                    ars=None,
                    at=seen.get((s, k)),
                    detail=f"{conflict.field} {v}",
                    role=Role.SUPPORTS if v == value else Role.OVERRULED,
                    via=Via.SERVICE,
                )
                for s, k, v in conflict.values
            ),
        )
    for row in context.rows:
        if not row.disagreement:
            continue
        ars = str(row.ars)
        agreements = tuple(e for e in row.evidence if e.kind == "agreement")
        if not agreements or any(e.area != ars for e in agreements):
            continue  # reported once, at the agreement's own area
        overruled = [e for e in agreements if e.role is Role.OVERRULED]
        governing = [e for e in agreements if e.role is Role.SUPPORTS]
        yield Finding(
            rule="sources-disagree",
            severity=Severity.WARNING,
            service=row.service_key,
            area=row.ars,
            text=M.AGREEMENTS_DISAGREE.fill(
                service=service.key,
                area=row.ars,
                says=tuple(
                    M.SOURCE_SAYS.fill(source=e.source, detail=_state(e.detail))
                    for e in governing[:1] + overruled
                ),
                state=row.agreement_state,
                source=governing[0].source if governing else "?",
            ),
            evidence=agreements,
        )


def unresolved_area(context: FindingContext) -> Iterator[Finding]:
    """Report zero-filled 12-digit ARS that no register decides."""
    for row in context.rows:
        if not row.readings:
            continue
        yield Finding(
            rule="unresolved-area",
            severity=Severity.INFO,
            service=row.service_key,
            area=row.ars,
            text=M.UNRESOLVED_AREA.fill(area=row.ars, readings=_either(row.readings)),
            evidence=tuple(e for e in row.evidence if e.area == str(row.ars)),
        )


@hookimpl
def efa_register_finding_rules(register: RegisterFindingRule) -> None:
    """Register the built-in finding rules."""
    register("live-without-agreement", live_without_agreement)
    register("contracted-not-published", contracted_not_published)
    register("published-without-route", published_without_route)
    register("dashboard-offline", dashboard_offline)
    register("unknown-online-service", unknown_online_service)
    register("unknown-area", unknown_area)
    register("ambiguous-evidence", ambiguous_evidence)
    register("sources-disagree", sources_disagree)
    register("unresolved-area", unresolved_area)


@hookimpl
def efa_register_cost_strategies(register: RegisterCostStrategy) -> None:
    """Register the built-in cost-sharing strategies."""
    register("koenigsteiner", costs.koenigsteiner)
    register("per-capita", costs.per_capita)
    register("land-pays", costs.land_pays)
    register("fitko-budget", costs.fitko_budget)
    register("usage", costs.usage)
