"""Stage over time: how many Gemeinden had reached each stage, at a series of dates.

The timeline dates the evidence of the derived rows (:class:`~efa_core.rollout.RolloutView`)
and counts, for every date, the stage each service × Gemeinde pair had with the evidence
that existed by then.  It reads the rows service by service, once, and never derives
again: its memory is one service's rows, whatever the size of the store (issue 15).

Two clocks say since when a record counts:

* ``"history"``: what efa-core *knew* then.  A record counts from when efa-core first
  stored it (``first_seen``); what its current content raises (a stage, an agreement
  state) counts from when that content was stored (``fetched_at``).  The register's
  Gemeinden count from when the register was first stored.  The default dates are the
  days on which syncs changed something (the end of each such day, in UTC).
* ``"source"``: what the *sources* say happened by then: each record counts from its own
  date (an agreement from ``state_since``, else ``modified_at``; other records from
  ``modified_at``, else when they were fetched; an agreement without any date from when
  efa-core first saw it).  Area records (the register) count at every date, and so do
  services without a date of their own (the catalogue).  The default dates are the
  distinct evidence dates.

``"auto"`` takes ``"history"`` when the history spans more than one day, else ``"source"``
(a store that was synced once, such as the demo's, has a history of one day only).

At each date a row stands at the stage of the rule in :mod:`efa_core.rollout.stages`
applied to the evidence it has *now* that existed then: its governing agreement's state
once one of the agreements in that state existed, and the published, routable and live
evidence once it existed.  A row exists at a date when any of its evidence (other than
the service record) did; a Gemeinde takes the stage of its nearest row existing then,
else ``offered`` once the service existed.  So the timeline shows how today's state was
reached: a record deleted since, or the earlier content of a record that changed, does
not count in the past (the history keeps them, see :meth:`efa_core.store.Store.as_of`).

Cost: one read of every row of the services looked at (inside *within*) and an indexed
look-up of the dates of their records; with the source clock and no dates given, the rows
are read twice (first for the dates).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Literal

import attrs

from efa_core.model import AgreementState, Stage
from efa_core.rollout import AreaIndex, Role, RolloutRow, RolloutView
from efa_core.store import Store

__all__ = ["Clock", "Timeline", "TimelinePoint", "stage_timeline"]

#: Which records existed at a date: efa-core's knowledge or the sources' own dates.
Clock = Literal["auto", "history", "source"]

_FUNNEL = tuple(s for s in Stage if s is not Stage.TERMINATED)
_ALWAYS = float("-inf")
_NEVER = float("inf")
_LOOKUP_CHUNK = 400
_ROW_LENGTHS = (12, 9, 5, 3, 2)


@attrs.frozen(kw_only=True)
class TimelinePoint:
    """The counts at one date: service × Gemeinde pairs per stage."""

    at: datetime
    #: Pairs at this stage *or further* (``terminated``: exactly).
    reached: dict[Stage, int]
    #: Pairs at exactly this stage.
    exactly: dict[Stage, int]

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return {
            "at": self.at.isoformat(),
            "reached": {s.value: n for s, n in self.reached.items()},
            "at_stage": {s.value: n for s, n in self.exactly.items()},
        }


@attrs.frozen(kw_only=True)
class Timeline:
    """Stage counts at a series of dates (oldest first) and the clock they follow."""

    clock: Literal["history", "source"]
    points: tuple[TimelinePoint, ...]

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return {"clock": self.clock, "points": [p.to_dict() for p in self.points]}


def _end_of_day(day: date) -> datetime:
    return datetime.combine(day, time(23, 59, 59), tzinfo=timezone.utc)


def _thin(values: Sequence[datetime], limit: int) -> list[datetime]:
    if len(values) <= limit:
        return list(values)
    if limit == 1:
        return [values[-1]]
    step = (len(values) - 1) / (limit - 1)
    return sorted({values[round(i * step)] for i in range(limit)})


def _history_span(store: Store) -> tuple[datetime, datetime] | None:
    db = store.backend
    row = db.fetchone("SELECT MIN(changed_at), MAX(changed_at) FROM history")
    if row is None or row[0] is None:
        return None
    return db.from_ts(row[0]), db.from_ts(row[1])


def _history_days(store: Store) -> list[datetime]:
    db = store.backend
    days = {
        db.from_ts(r[0]).astimezone(timezone.utc).date()
        for r in db.stream("SELECT DISTINCT changed_at FROM history")
    }
    return [_end_of_day(d) for d in sorted(days)]


def _stamp(moment: datetime | None) -> float | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


class _Dates:
    """Looks up ``first_seen``, ``fetched_at`` and ``modified_at`` of records, in batches."""

    def __init__(self, store: Store) -> None:
        self.db = store.backend

    def lookup(
        self, keys: Iterable[tuple[str, str, str]]
    ) -> dict[tuple[str, str, str], tuple[float, float, float | None]]:
        """Return ``(source, kind, key) -> (first_seen, fetched_at, modified_at)``."""
        grouped: dict[tuple[str, str], set[str]] = {}
        for source, kind, key in keys:
            grouped.setdefault((source, kind), set()).add(key)
        db = self.db
        out: dict[tuple[str, str, str], tuple[float, float, float | None]] = {}
        for (source, kind), names in grouped.items():
            ordered = sorted(names)
            for start in range(0, len(ordered), _LOOKUP_CHUNK):
                chunk = ordered[start : start + _LOOKUP_CHUNK]
                marks = ", ".join("?" * len(chunk))
                for key, first, fetched, modified in db.fetchall(
                    "SELECT natural_key, first_seen, fetched_at, modified_at FROM records"  # noqa: S608
                    f" WHERE source = ? AND kind = ? AND natural_key IN ({marks})",
                    (source, kind, *chunk),
                ):
                    out[(source, kind, key)] = (
                        db.from_ts(first).timestamp(),
                        db.from_ts(fetched).timestamp(),
                        _stamp(db.from_ts_opt(modified)),
                    )
        return out

    def register_since(self, within: str | None) -> float:
        """When the register's first area (inside *within*) was stored; never: +inf."""
        sql = "SELECT MIN(first_seen) FROM records WHERE kind = 'area'"
        params: tuple[Any, ...] = ()
        if within:
            sql += " AND ars >= ? AND ars < ?"
            params = (within, within + ":")
        row = self.db.fetchone(sql, params)
        return _NEVER if row is None or row[0] is None else self.db.from_ts(row[0]).timestamp()


@attrs.frozen(slots=True)
class _RowDates:
    """When a row's evidence made it exist and raised its stage (timestamps; +inf: never)."""

    exists: float
    agreement: float
    state: AgreementState | None
    published: float
    routable: float
    live: float

    def stage(self, t: float) -> Stage | None:
        """Return the row's stage at *t*, or None if the row did not exist yet."""
        if t < self.exists:
            return None
        has_state = self.state is not None and t >= self.agreement
        if has_state and self.state is AgreementState.TERMINATED:
            return Stage.TERMINATED
        stage = Stage.OFFERED
        if has_state and self.state is not None and self.state.stage is not None:
            stage = self.state.stage
        if t >= self.live:
            return Stage.LIVE
        if t >= self.routable:
            stage = max(stage, Stage.ROUTABLE)
        elif t >= self.published:
            stage = max(stage, Stage.PUBLISHED)
        return stage


class _Counter:
    """Adds up one service at a time (see :func:`stage_timeline`)."""

    def __init__(
        self,
        store: Store,
        view: RolloutView,
        clock: Literal["history", "source"],
        within: str | None,
        index: AreaIndex,
    ) -> None:
        self.store = store
        self.view = view
        self.clock = clock
        self.within = within
        self.index = index
        self.dates = _Dates(store)
        self.register_since = self.dates.register_since(within) if clock == "history" else _ALWAYS

    def rows(self, key: str) -> Iterator[RolloutRow]:
        """Yield the service's rows inside *within* and at the areas containing it."""
        yield from self.view.rows(key, within=self.within)
        if self.within:
            for n in _ROW_LENGTHS:
                if n < len(self.within):
                    row = self.view.row(key, self.within[:n])
                    if row is not None and str(row.ars) == self.within[:n]:
                        yield row

    def evidence_days(self, keys: Sequence[str]) -> set[date]:
        """Return the days of the evidence dates (the source clock's default dates)."""
        days: set[date] = set()
        for key in keys:
            for row in self.rows(key):
                for e in row.evidence:
                    if e.kind != "service" and e.at is not None:
                        days.add(e.at.astimezone(timezone.utc).date())
        return days

    def _service_since(self, key: str) -> float:
        info = self.view.service(key)
        if info is None:
            return _NEVER
        found = self.dates.lookup((source, "service", k) for source, k, _ in info.records)
        if not found:
            return _ALWAYS if self.clock == "source" else _NEVER
        if self.clock == "history":
            return min(first for first, _, _ in found.values())
        dated = [modified for _, _, modified in found.values() if modified is not None]
        return min(dated) if dated and len(dated) == len(found) else _ALWAYS

    def _row_dates(self, rows: list[RolloutRow]) -> Iterator[tuple[str, _RowDates]]:
        wanted: set[tuple[str, str, str]] = set()
        for row in rows:
            for e in row.evidence:
                if e.kind == "service":
                    continue
                if self.clock == "history" or e.at is None:
                    wanted.add((e.source, e.kind, e.natural_key))
        found = self.dates.lookup(wanted) if wanted else {}
        history = self.clock == "history"
        for row in rows:
            exists = agreement = published = routable = live = _NEVER
            for e in row.evidence:
                if e.kind == "service":
                    continue
                dates = found.get((e.source, e.kind, e.natural_key))
                if history:
                    if dates is None:
                        continue
                    since, raised = dates[0], dates[1]
                else:
                    stamp = _stamp(e.at)
                    if stamp is None:
                        stamp = dates[0] if dates is not None else _ALWAYS
                    since = raised = stamp
                exists = min(exists, since)
                if e.role is not Role.SUPPORTS:
                    continue
                if e.kind == "agreement":
                    agreement = min(agreement, raised)
                elif e.stage is Stage.PUBLISHED:
                    published = min(published, raised)
                elif e.stage is Stage.ROUTABLE:
                    routable = min(routable, raised)
                elif e.stage is Stage.LIVE:
                    live = min(live, raised)
            yield (
                str(row.ars),
                _RowDates(exists, agreement, row.agreement_state, published, routable, live),
            )

    def add(self, key: str, points: Sequence[float], exactly: list[dict[Stage, int]]) -> None:
        """Add the pairs of service *key* at every point to *exactly*."""
        service_since = self._service_since(key)
        if service_since == _NEVER:
            return
        rows = list(self.rows(key))
        by_area: dict[str, tuple[Stage | None, ...]] = {}
        for ars, dates in self._row_dates(rows):
            by_area[ars] = tuple(dates.stage(t) for t in points)
        del rows
        offered = tuple(Stage.OFFERED if t >= service_since else None for t in points)
        if self.index.has_register:
            gemeinden = [info.ars for info in self.index.gemeinden(self.within)]
            registered = tuple(t >= self.register_since for t in points)
        else:
            gemeinden = sorted(
                a for a in by_area if len(a) == 12 and a.startswith(self.within or "")
            )
            registered = tuple(True for _ in points)
        chains: Counter[tuple[tuple[Stage | None, ...], ...]] = Counter()
        for ars in gemeinden:
            chains[tuple(by_area[p] for n in _ROW_LENGTHS if (p := ars[:n]) in by_area)] += 1
        fallback = self.index.has_register
        for chain, n in chains.items():
            for i in range(len(points)):
                if offered[i] is None or not registered[i]:
                    continue
                stage = next((c[i] for c in chain if c[i] is not None), None)
                if stage is None and fallback:
                    stage = Stage.OFFERED
                if stage is not None:
                    exactly[i][stage] += n


def _canonical(view: RolloutView, ref: str) -> str:
    info = view.service(ref)
    return ref if info is None else info.key


def stage_timeline(
    store: Store,
    dates: Sequence[datetime] | None = None,
    *,
    clock: Clock = "auto",
    services: Sequence[str] | None = None,
    within: str | None = None,
    max_points: int = 12,
    view: RolloutView | None = None,
    areas: AreaIndex | None = None,
) -> Timeline:
    """Count service × Gemeinde pairs per stage at *dates* (see the module docs).

    :param dates: timezone-aware dates (default: derived from the store, see the clocks).
    :param clock: ``"history"``, ``"source"`` or ``"auto"``.
    :param services: only these service keys (default: every service of the view).
    :param within: only Gemeinden inside this ARS (e.g. ``"16"`` for Thüringen).
    :param max_points: use at most this many dates.
    :param view: the derived view to date (default: the store's, refreshed first).
    :param areas: the known areas (default: loaded from the store).
    :raises ValueError: a date is naive, or *clock* or *max_points* is invalid.

    .. versionchanged:: 0.2.0
       Dates the current rows' evidence in one pass instead of deriving the view again
       for every date (*view* and *areas*).
    """
    if clock not in ("auto", "history", "source"):
        raise ValueError(f"clock must be 'auto', 'history' or 'source', got {clock!r}")
    if max_points < 1:
        raise ValueError(f"max_points must be at least 1, got {max_points}")
    for moment in dates or ():
        if moment.tzinfo is None:
            raise ValueError(f"date {moment.isoformat()} has no timezone")
    chosen: Literal["history", "source"]
    if clock == "auto":
        span = _history_span(store)
        chosen = "history" if span and span[1] - span[0] >= timedelta(days=1) else "source"
    else:
        chosen = clock
    if view is None:
        view = RolloutView(store)
        view.refresh()
    known = view.services()
    canonical = [_canonical(view, s) for s in (services or known)]
    keys = [k for k in dict.fromkeys(canonical) if k in known]
    index = areas if areas is not None else AreaIndex.load(store)
    counter = _Counter(store, view, chosen, within, index)
    if dates is not None:
        wanted = sorted(dates)
    elif chosen == "history":
        wanted = _history_days(store)
    else:
        wanted = [_end_of_day(d) for d in sorted(counter.evidence_days(keys))]
    wanted = _thin(wanted, max_points)
    points = [moment.timestamp() for moment in wanted]
    exactly: list[dict[Stage, int]] = [dict.fromkeys(Stage, 0) for _ in wanted]
    for key in keys:
        counter.add(key, points, exactly)
    out = []
    for moment, counts in zip(wanted, exactly, strict=True):
        reached = {
            stage: (
                counts[stage]
                if stage is Stage.TERMINATED
                else sum(counts[s] for s in _FUNNEL if s.rank >= stage.rank)
            )
            for stage in Stage
        }
        out.append(TimelinePoint(at=moment, reached=reached, exactly=counts))
    return Timeline(clock=chosen, points=tuple(out))
