"""The stage of a service in each area, from its placed evidence: pure functions, no I/O.

:func:`compute_rows` is the whole computation for one service; :func:`govern` the
agreement precedence rule (docs/rollout.md, "Stages" and "When sources disagree").
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple

import orjson

from efa_core.model import AgreementState, Stage
from efa_core.rollout.attribution import Placed
from efa_core.rollout.identity import ServiceInfo
from efa_core.rollout.rows import Role, RowFlag, Via, encode_evidence
from efa_core.store import AgreementFact, NoteFact

__all__ = ["Governing", "RowValues", "compute_rows", "govern", "prefixes"]

_PREFIX_LENGTHS = (2, 3, 5, 9, 12)

#: How strongly an agreement state governs within one source (higher wins).
_AGREEMENT_RANK = {
    AgreementState.CONTRACTED: 4,
    AgreementState.NEGOTIATING: 3,
    AgreementState.INTERESTED: 3,
    AgreementState.TERMINATED: 2,
    AgreementState.DECLINED: 1,
    AgreementState.WITHDRAWN: 1,
}
_STATE_OF = {s.value: s for s in AgreementState}


class RowValues(NamedTuple):
    """One row as the cache table stores it."""

    service_key: str
    ars: str
    stage: str
    stage_rank: int
    agreement_state: str | None
    agreement_since: str | None
    flags: int
    evidence: str
    aliases: str
    readings: str


class Governing(NamedTuple):
    """The result of :func:`govern` for one area's agreements."""

    state: AgreementState
    #: ``state_since`` of the governing state (the latest among its agreements), or None.
    since: str | None
    #: The agreements in the governing state (any source).
    supporting: tuple[AgreementFact, ...]
    #: Each disagreeing source's own choice, not governing.
    overruled: tuple[AgreementFact, ...]


def prefixes(ars: str) -> list[str]:
    """Return *ars* and every area containing it, coarsest first."""
    return [ars[:n] for n in _PREFIX_LENGTHS if n <= len(ars)]


def govern(facts: Sequence[AgreementFact], priority: Callable[[str], int]) -> Governing:
    """Choose the governing agreement state among one area's agreements.

    Within a source the most advanced state wins (contracted, then interested or
    negotiating, then terminated, then declined or withdrawn; then the latest
    ``state_since``).  When sources' choices differ, the source first in *priority*
    governs, then the one with the most recent ``state_since`` (unknown dates count as
    oldest), then the source name; the other sources' choices are :attr:`overruled`.
    """
    per_source: dict[str, AgreementFact] = {}
    for fact in sorted(facts):
        best = per_source.get(fact.source)
        if best is None or _rank(fact) > _rank(best):
            per_source[fact.source] = fact
    chosen = list(per_source.values())
    if len({f.state for f in chosen}) == 1:
        state = chosen[0].state
        overruled: tuple[AgreementFact, ...] = ()
    else:
        top = min(chosen, key=lambda f: (priority(f.source), -_ts(f.since), f.source))
        state = top.state
        overruled = tuple(f for f in chosen if f.state != state)
    supporting = tuple(f for f in sorted(facts) if f.state == state)
    dates = [f.since for f in supporting if f.since is not None]
    since = max(dates, key=_ts) if dates else None
    return Governing(_STATE_OF[state], since, supporting, overruled)


def _ts(iso: str | None) -> float:
    return float("-inf") if iso is None else datetime.fromisoformat(iso).timestamp()


def _rank(fact: AgreementFact) -> tuple[int, float, str]:
    return (_AGREEMENT_RANK[_STATE_OF[fact.state]], _ts(fact.since), fact.key)


# Row flags as plain ints: IntFlag operators build enum members in Python, which cost about
# a second per 10^5 rows in a derivation.
_PUBLISHED = int(RowFlag.PUBLISHED)
_ROUTABLE = int(RowFlag.ROUTABLE)
_LIVE = int(RowFlag.LIVE)
_OFFLINE = int(RowFlag.OFFLINE)
_AMBIGUOUS = int(RowFlag.AMBIGUOUS)
_OTHER_SOLUTION = int(RowFlag.OTHER_SOLUTION)
_DISAGREEMENT = int(RowFlag.DISAGREEMENT)
_UNRESOLVED_AREA = int(RowFlag.UNRESOLVED_AREA)
_RANK_OF: dict[str | None, int] = {s.value: s.rank for s in Stage}
_RANK_OF[None] = 99
_STAGE_AT_RANK = {s.rank: s for s in Stage}


def _stage_order(value: str | None) -> int:
    return _RANK_OF[value]


def compute_rows(
    service: ServiceInfo,
    areas: Iterable[str],
    agreements: Mapping[str, Sequence[AgreementFact]],
    evidence: Mapping[str, Sequence[Placed]],
    notes: Mapping[str, Sequence[NoteFact]],
    aliases: Mapping[str, tuple[str, ...]],
    readings: Mapping[str, tuple[str, ...]],
    priority: Callable[[str], int],
) -> list[RowValues]:
    """Return the rows of *service* at *areas* (everything indexed by the view's area form).

    A row combines the agreements of the most specific area around it that has any
    (:func:`govern`), the placed evidence of its area and of every area containing it,
    and the notes of its own area.  Only :attr:`Role.SUPPORTS` evidence raises the stage.
    """
    key = service.key
    offered = [
        encode_evidence(
            Stage.OFFERED.value,
            source,
            "service",
            record_key,
            None,
            None if at is None else at.isoformat(),
            None,
            via=Via.SERVICE,
        )
        for source, record_key, at in service.records
    ]
    out: list[RowValues] = []
    for area in sorted(set(areas)):
        chain = prefixes(area)
        flags = 0
        ev: list[list[Any]] = list(offered)
        state: AgreementState | None = None
        since: str | None = None
        for prefix in reversed(chain):
            found = agreements.get(prefix)
            if found:
                gov = govern(found, priority)
                state, since = gov.state, gov.since
                stage = state.stage
                value = None if stage is None else stage.value
                for f, agreement_role in [(f, Role.SUPPORTS) for f in gov.supporting] + [
                    (f, Role.OVERRULED) for f in gov.overruled
                ]:
                    ev.append(
                        encode_evidence(
                            value if agreement_role is Role.SUPPORTS else None,
                            f.source,
                            "agreement",
                            f.key,
                            f.ars,
                            f.at,
                            f.state,
                            prefix if f.ars != prefix else None,
                            agreement_role,
                            Via.KEY,
                        )
                    )
                if gov.overruled:
                    flags |= _DISAGREEMENT
                break
        for prefix in chain:
            for p in evidence.get(prefix, ()):
                flag, stage_value, role = _effect(p)
                if role is None:
                    continue  # a dashboard row without online status evidences nothing
                flags |= flag
                fact = p.fact
                detail: str | None
                if fact.kind == "responsibility":
                    detail = f"{fact.target_kind}:{fact.target}"
                else:
                    said = "offline" if fact.online is False else p.note
                    detail = "; ".join(t for t in (said, fact.facts) if t) or None
                ev.append(
                    encode_evidence(
                        stage_value,
                        fact.source,
                        fact.kind,
                        fact.key,
                        fact.ars,
                        fact.at,
                        detail,
                        prefix if fact.ars != prefix else None,
                        role,
                        p.via,
                        p.services if role is Role.AMBIGUOUS else (),
                    )
                )
        for note in notes.get(area, ()):
            ev.append(
                encode_evidence(
                    None,
                    note.source,
                    "note",
                    note.key,
                    note.ars,
                    note.at,
                    note.text,
                    area if note.ars != area else None,
                    Role.NOTE,
                    Via.KEY,
                )
            )
        if area in readings:
            flags |= _UNRESOLVED_AREA
        stage = _stage(state, flags)
        ev.sort(key=lambda e: (_stage_order(e[0]), e[2], e[1], e[3], e[8] if len(e) > 8 else "s"))
        out.append(
            RowValues(
                key,
                area,
                stage.value,
                stage.rank,
                None if state is None else state.value,
                since,
                flags,
                orjson.dumps(ev).decode(),
                " ".join(aliases.get(area, ())),
                " ".join(readings.get(area, ())),
            )
        )
    return out


def _effect(p: Placed) -> tuple[int, str | None, Role | None]:
    """Return what placed evidence does for a row: its flag, the stage it raises, its role.

    The flag is a :class:`RowFlag` value as a plain int.
    """
    kind = p.fact.kind
    if kind == "availability" and p.fact.online is None:
        return 0, None, None
    if p.role is Role.AMBIGUOUS:
        return _AMBIGUOUS, None, Role.AMBIGUOUS
    if p.role is Role.OTHER_SOLUTION:
        return _OTHER_SOLUTION, None, Role.OTHER_SOLUTION
    if kind == "responsibility":
        return _PUBLISHED, Stage.PUBLISHED.value, Role.SUPPORTS
    if kind == "route":
        return _ROUTABLE, Stage.ROUTABLE.value, Role.SUPPORTS
    if p.fact.online:
        return _LIVE, Stage.LIVE.value, Role.SUPPORTS
    return _OFFLINE, None, Role.CONTRARY


def _stage(state: AgreementState | None, flags: int) -> Stage:
    """Return the stage: terminated if the agreement is, else the highest with evidence."""
    if state is AgreementState.TERMINATED:
        return Stage.TERMINATED
    if flags & _LIVE:
        return Stage.LIVE
    rank = Stage.OFFERED.rank
    if state is not None and state.stage is not None:
        rank = state.stage.rank
    if flags & _ROUTABLE:
        rank = max(rank, Stage.ROUTABLE.rank)
    elif flags & _PUBLISHED:
        rank = max(rank, Stage.PUBLISHED.rank)
    return _STAGE_AT_RANK[rank]
