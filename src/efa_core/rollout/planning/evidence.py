"""What the observed sources say about a checklist: ticks from the derived rollout rows.

This is the one place that reads a :class:`~efa_core.rollout.RolloutRow`'s evidence for the
planning package.  A row combines the evidence of its area and of every area containing it
(a Land's contract covers its municipalities; a Kreis-level Zuständigkeit its Gemeinden), so
the row at a municipality's nearest containing row area says everything about it.

==================  ===========================================================================
tick                evidence
==================  ===========================================================================
``interest``        the governing agreement is interested, negotiating or contracted
``contract``        the governing agreement is contracted
``responsibility``  a Zuständigkeit of the service covers the area (published)
``route``           a FIT-Connect route for the area (routable); also ticks ``transport``
                    (the choice is evidently FIT-Connect; a transport ticked by hand is
                    never contradicted: a choice needs no route yet)
``live``            an OZG-Dashboard row says the service is online there
==================  ===========================================================================

Only evidence *attributed* to the service ticks (:attr:`Role.SUPPORTS
<efa_core.rollout.Role.SUPPORTS>`: a Zuständigkeit of this offer, not of another Land's
offer for the same Leistung; the governing agreement, not an overruled one).  *Contrary*
evidence makes a manual tick contradicted: a withdrawn, declined or terminated agreement;
a dashboard row saying offline; or no evidence of the tick's kind for the area while the
store holds that kind of evidence for the service elsewhere (so a source that would show
it is synced).  Ambiguous evidence (it could belong to several offers) ticks nothing and
contradicts nothing; a Zuständigkeit or dashboard row of *another solution* contradicts
a manual tick of this offer's Zuständigkeit or go-live (the area uses something else).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import NamedTuple

from efa_core.i18n import M, Message
from efa_core.model import AgreementState, Stage, Tick
from efa_core.rollout.rows import Evidence, Role, RolloutRow

__all__ = ["EVIDENCE_KIND", "RowTicks", "observed_kinds", "row_ticks"]

#: The record kind whose presence makes a missing tick of this kind a contradiction.
EVIDENCE_KIND = {
    Tick.INTEREST: "agreement",
    Tick.CONTRACT: "agreement",
    Tick.RESPONSIBILITY: "responsibility",
    Tick.ROUTE: "route",
    Tick.LIVE: "availability",
}
_ACTIVE = (AgreementState.INTERESTED, AgreementState.NEGOTIATING, AgreementState.CONTRACTED)
_ENDED = {
    AgreementState.WITHDRAWN: M.INTEREST_WITHDRAWN.fill(),
    AgreementState.DECLINED: M.INTEREST_DECLINED.fill(),
    AgreementState.TERMINATED: M.CONTRACT_TERMINATED.fill(),
}


class RowTicks(NamedTuple):
    """The ticks one row gives: per tick kind its evidence and date, and contrary facts."""

    #: Tick -> (the earliest date of its evidence, the evidence); only ticks with evidence.
    positive: dict[Tick, tuple[date | None, tuple[Evidence, ...]]]
    #: Tick -> why the sources say the opposite (e.g. "the contract was terminated").
    contrary: dict[Tick, Message]
    #: The row's stage (``offered`` without a row).
    stage: Stage
    #: Ticks whose only evidence is ambiguous (it may be this offer's: no contradiction).
    ambiguous: frozenset[Tick] = frozenset()


_EMPTY = RowTicks({}, {}, Stage.OFFERED)
_TICK_OF_KIND = {
    "responsibility": Tick.RESPONSIBILITY,
    "route": Tick.ROUTE,
    "availability": Tick.LIVE,
}
_OTHER = {
    Tick.RESPONSIBILITY: M.OTHER_RESPONSIBILITY.fill(),
    Tick.LIVE: M.OTHER_ONLINE.fill(),
}


def _earliest(evidence: Sequence[Evidence]) -> date | None:
    dates = [e.at.date() for e in evidence if e.at is not None]
    return min(dates) if dates else None


def row_ticks(row: RolloutRow | None) -> RowTicks:
    """Return the ticks of *row* (the nearest row of a municipality; None: no evidence)."""
    if row is None:
        return _EMPTY
    agreements: list[Evidence] = []
    published: list[Evidence] = []
    routes: list[Evidence] = []
    live: list[Evidence] = []
    offline = False
    unsure: set[Tick] = set()
    other: set[Tick] = set()
    for e in row.evidence:
        kind, role = e.kind, e.role
        if kind == "agreement":
            if role is not Role.OVERRULED:
                agreements.append(e)
            continue
        tick = _TICK_OF_KIND.get(kind)
        if tick is None:
            continue
        if role is Role.SUPPORTS:
            if e.stage is Stage.PUBLISHED:
                published.append(e)
            elif e.stage is Stage.ROUTABLE:
                routes.append(e)
            elif e.stage is Stage.LIVE:
                live.append(e)
        elif role is Role.CONTRARY:
            offline = True
        elif role is Role.AMBIGUOUS:
            unsure.add(tick)
        elif role is Role.OTHER_SOLUTION:
            other.add(tick)
    positive: dict[Tick, tuple[date | None, tuple[Evidence, ...]]] = {}
    contrary: dict[Tick, Message] = {}
    state = row.agreement_state
    if state in _ACTIVE:
        found = tuple(agreements)
        positive[Tick.INTEREST] = (_earliest(found), found)
        if state is AgreementState.CONTRACTED:
            positive[Tick.CONTRACT] = (_earliest(found), found)
        else:
            contrary[Tick.CONTRACT] = M.AGREEMENT_NOT_CONTRACT.fill(state=state)
    elif state is not None:
        contrary[Tick.CONTRACT] = contrary[Tick.INTEREST] = _ENDED[state]
    if published:
        positive[Tick.RESPONSIBILITY] = (_earliest(published), tuple(published))
    if routes:
        positive[Tick.ROUTE] = (_earliest(routes), tuple(routes))
    if live:
        positive[Tick.LIVE] = (_earliest(live), tuple(live))
    elif offline:
        contrary[Tick.LIVE] = M.DASHBOARD_SAYS_OFFLINE.fill()
    for tick in other:
        if tick not in positive and tick is not Tick.ROUTE:
            contrary.setdefault(tick, _OTHER[tick])
    return RowTicks(positive, contrary, row.stage, frozenset(unsure - positive.keys()))


def observed_kinds(rows: Iterable[RolloutRow]) -> frozenset[str]:
    """Return the evidence kinds that occur in *rows* (``agreement``, ``route``, ...)."""
    return frozenset(e.kind for row in rows for e in row.evidence if e.role is not Role.NOTE)
