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

Cost: one read of every row of the services looked at (inside *within*), or none when the
caller hands over the rows it has read anyway (:func:`efa_core.report.collect_report`
does), and an indexed look-up of the dates of the records that need one (every record
with the history clock; with the source clock only agreements without a date).  The
counting does not evaluate every row at every date: a row's dates are sorted into the
intervals between the points (the points are not known before the source clock has seen
every row: then into days, whose ends are the only points it can choose), and each
distinct chain of rows of a Gemeinde adds the changes of its stage to one running tally.
"""

from __future__ import annotations

import bisect
import functools
import math
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Literal

import attrs

from efa_core.model import AgreementState, Stage
from efa_core.rollout import AreaIndex, Role, RolloutRow, RolloutView
from efa_core.store import Store

__all__ = ["Clock", "Timeline", "TimelineCounter", "TimelinePoint", "stage_timeline"]

#: Which records existed at a date: efa-core's knowledge or the sources' own dates.
Clock = Literal["auto", "history", "source"]

_FUNNEL = tuple(s for s in Stage if s is not Stage.TERMINATED)
_ALWAYS = float("-inf")
_NEVER = float("inf")
_LOOKUP_CHUNK = 400
_ROW_LENGTHS = (12, 9, 5, 3, 2)
_DAY = 86400
_LAST_SECOND = 86399  # 23:59:59, the time of the default points
_EPOCH = date(1970, 1, 1)
#: Distinct evidence dates remembered with their class (then forgotten and found again).
_CLASS_CACHE = 1 << 16


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
        # stored timestamps as floats: the records of one sync share a few of them
        self._stamp_of = functools.lru_cache(maxsize=_CLASS_CACHE)(self._parse_stamp)

    def _parse_stamp(self, value: Any) -> float:
        return self.db.from_ts(value).timestamp()

    def lookup(
        self, keys: Iterable[tuple[str, str, str]]
    ) -> dict[tuple[str, str, str], tuple[float, float, float | None]]:
        """Return ``(source, kind, key) -> (first_seen, fetched_at, modified_at)``."""
        grouped: dict[tuple[str, str], set[str]] = {}
        for source, kind, key in keys:
            grouped.setdefault((source, kind), set()).add(key)
        db = self.db
        stamp_of = self._stamp_of
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
                        stamp_of(first),
                        stamp_of(fetched),
                        None if modified is None else stamp_of(modified),
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


def _day_of(stamp: float) -> float:
    """Return the first day (days since 1970-01-01) whose end, 23:59:59 UTC, is not before *stamp*.

    For every day *d*: ``_end_of_day(d).timestamp() >= stamp`` exactly when ``d`` (in days
    since 1970-01-01) is at least ``_day_of(stamp)``; infinities stay as they are.
    """
    if stamp in (_NEVER, _ALWAYS):
        return stamp
    day = math.floor(stamp / _DAY)
    while day * _DAY + _LAST_SECOND < stamp:
        day += 1
    while (day - 1) * _DAY + _LAST_SECOND >= stamp:
        day -= 1
    return float(day)


def _class_of(points: list[float], stamp: float) -> float:
    """Return the number of *points* before *stamp* (point *i* is not before it if *i* >= it)."""
    if stamp in (_NEVER, _ALWAYS):
        return stamp
    return float(bisect.bisect_left(points, stamp))


#: A row's dates as classes, (exists, agreement, published, routable, live), and the state
#: of its governing agreement.
_RowKey = tuple[tuple[float, float, float, float, float], AgreementState | None]


def _row_stage(row: _RowKey, k: float) -> Stage | None:
    """Return the stage of a row at the point of class *k* (None: the row did not exist yet)."""
    (exists, agreement, published, routable, live), state = row
    if k < exists:
        return None
    has_state = state is not None and k >= agreement
    if has_state and state is AgreementState.TERMINATED:
        return Stage.TERMINATED
    stage = Stage.OFFERED
    if has_state and state is not None and state.stage is not None:
        stage = state.stage
    if k >= live:
        return Stage.LIVE
    if k >= routable:
        stage = max(stage, Stage.ROUTABLE)
    elif k >= published:
        stage = max(stage, Stage.PUBLISHED)
    return stage


class _Tally:
    """Adds up the stage counts over time, one service's rows at a time.

    Every date is turned into a *class* before it is compared with a point: with known
    points, the number of points before it (point *i* is class *i*); with the source
    clock's default points, which are only known after every row was seen, its
    :func:`_day_of` (a point at the end of day *d* is class *d*).  Either way "the point is
    not before the date" is "the point's class is not below the date's", so the counts at
    every point follow from the stage changes of each Gemeinde, kept by class in
    :attr:`changes` (a few per distinct date, whatever the number of rows).
    """

    def __init__(
        self,
        store: Store,
        view: RolloutView,
        clock: Literal["history", "source"],
        within: str | None,
        index: AreaIndex,
        points: Sequence[float] | None,
    ) -> None:
        self.view = view
        self.clock = clock
        self.within = within
        self.index = index
        self.dates = _Dates(store)
        self.classify: Callable[[float], float] = (
            _day_of if points is None else functools.partial(_class_of, list(points))
        )
        since = self.dates.register_since(within) if clock == "history" else _ALWAYS
        self.register_class = self.classify(since) if index.has_register else _ALWAYS
        #: The days of the evidence dates (the source clock's default points).
        self.days: set[date] = set()
        #: Pairs per stage before every class, and the changes at each class.
        self.base: Counter[Stage] = Counter()
        self.changes: dict[float, Counter[Stage]] = {}
        self._class_at = functools.lru_cache(maxsize=_CLASS_CACHE)(self._class_of_moment)
        self._gemeinden: list[str] | None = None

    def _outer_rows(self, key: str) -> Iterator[RolloutRow]:
        """Yield the service's rows at the areas containing *within*."""
        if self.within:
            for n in _ROW_LENGTHS:
                if n < len(self.within):
                    row = self.view.row(key, self.within[:n])
                    if row is not None and str(row.ars) == self.within[:n]:
                        yield row

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

    def _class_of_moment(self, moment: datetime) -> float:
        """Return the class of an evidence date (source clock); note its day.

        Called through :attr:`_class_at`, which remembers the distinct dates.
        """
        self.days.add(moment.astimezone(timezone.utc).date())
        stamp = _stamp(moment)
        return self.classify(_ALWAYS if stamp is None else stamp)

    def _row_keys(self, rows: Sequence[RolloutRow]) -> Iterator[tuple[str, _RowKey]]:
        history = self.clock == "history"
        wanted: set[tuple[str, str, str]] = set()
        for row in rows:
            for e in row.evidence:
                if e.kind != "service" and (history or e.at is None):
                    wanted.add((e.source, e.kind, e.natural_key))
        found = self.dates.lookup(wanted) if wanted else {}
        classify = self.classify
        known: dict[float, float] = {}

        def class_of(stamp: float) -> float:
            got = known.get(stamp)
            if got is None:
                got = known[stamp] = classify(stamp)
            return got

        supports = Role.SUPPORTS
        for row in rows:
            exists = agreement = published = routable = live = _NEVER
            for e in row.evidence:
                kind = e.kind
                if kind == "service":
                    continue
                if history:
                    dates = found.get((e.source, kind, e.natural_key))
                    if dates is None:
                        continue
                    since, raised = class_of(dates[0]), class_of(dates[1])
                elif e.at is not None:
                    since = raised = self._class_at(e.at)
                else:
                    dates = found.get((e.source, kind, e.natural_key))
                    since = raised = _ALWAYS if dates is None else classify(dates[0])
                if since < exists:
                    exists = since
                if e.role is not supports:
                    continue
                if kind == "agreement":
                    agreement = min(agreement, raised)
                elif e.stage is Stage.PUBLISHED:
                    published = min(published, raised)
                elif e.stage is Stage.ROUTABLE:
                    routable = min(routable, raised)
                elif e.stage is Stage.LIVE:
                    live = min(live, raised)
            classes = (exists, agreement, published, routable, live)
            yield str(row.ars), (classes, row.agreement_state)

    def gemeinden(self) -> list[str]:
        """Return the register's Gemeinden inside *within* (read once)."""
        if self._gemeinden is None:
            self._gemeinden = [info.ars for info in self.index.gemeinden(self.within)]
        return self._gemeinden

    def add(self, key: str, rows: Sequence[RolloutRow] | None = None) -> None:
        """Add the pairs of service *key*, whose rows inside *within* are *rows*.

        :param rows: ``list(view.rows(key, within=within))`` (default: read here).
        """
        service_class = self.classify(self._service_since(key))
        if service_class == _NEVER:
            return
        given = list(self.view.rows(key, within=self.within)) if rows is None else rows
        by_area = dict(self._row_keys([*given, *self._outer_rows(key)]))
        del given
        fallback = self.index.has_register
        if fallback:
            gemeinden = self.gemeinden()
        else:
            gemeinden = sorted(
                a for a in by_area if len(a) == 12 and a.startswith(self.within or "")
            )
        chains: Counter[tuple[_RowKey, ...]]
        if any(len(a) < 12 for a in by_area):
            chains = Counter(
                tuple(by_area[p] for n in _ROW_LENGTHS if (p := ars[:n]) in by_area)
                for ars in gemeinden
            )
        else:  # rows at Gemeinden only: each Gemeinde has its own row or none
            chains = Counter(
                () if (found := by_area.get(ars)) is None else (found,) for ars in gemeinden
            )
        floor = max(service_class, self.register_class)
        for chain, n in chains.items():
            self._add_chain(chain, n, floor, fallback)

    def _add_chain(self, chain: tuple[_RowKey, ...], n: int, floor: float, fallback: bool) -> None:
        """Add *n* Gemeinden whose rows (nearest first) are *chain*, counted from *floor*."""

        def stage_at(k: float) -> Stage | None:
            if k < floor:
                return None
            for row in chain:
                stage = _row_stage(row, k)
                if stage is not None:
                    return stage
            return Stage.OFFERED if fallback else None

        marks = {c for row in chain for c in row[0] if c not in (_NEVER, _ALWAYS)}
        if floor not in (_NEVER, _ALWAYS):
            marks.add(floor)
        before = stage_at(_ALWAYS)
        if before is not None:
            self.base[before] += n
        for k in sorted(marks):
            now = stage_at(k)
            if now is before:
                continue
            change = self.changes.get(k)
            if change is None:
                change = self.changes[k] = Counter()
            if before is not None:
                change[before] -= n
            if now is not None:
                change[now] += n
            before = now

    def counts(self, keys: Sequence[float]) -> list[dict[Stage, int]]:
        """Pairs at exactly each stage at the points of classes *keys* (ascending)."""
        running = Counter(self.base)
        marks = sorted(self.changes)
        i = 0
        out = []
        for key in keys:
            while i < len(marks) and marks[i] <= key:
                running.update(self.changes[marks[i]])
                i += 1
            out.append({stage: running[stage] for stage in Stage})
        return out


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
    counter = TimelineCounter(
        store, dates, clock=clock, within=within, max_points=max_points, view=view, areas=areas
    )
    known = counter.view.services()
    canonical = [_canonical(counter.view, s) for s in (services or known)]
    for key in dict.fromkeys(canonical):
        if key in known:
            counter.add(key)
    return counter.timeline()


class TimelineCounter:
    """:func:`stage_timeline` one service at a time, for a caller that reads the rows anyway.

    ``TimelineCounter(store, dates, …)`` takes the arguments of :func:`stage_timeline`
    except *services*; :meth:`add` each service once, with its rows inside *within* when
    they have been read already; :meth:`timeline` returns what :func:`stage_timeline` gives
    for the services added.  :func:`efa_core.report.collect_report` hands it the rows it
    reads for the findings, so that a report reads every row once.

    .. versionadded:: 0.2.0
    """

    def __init__(
        self,
        store: Store,
        dates: Sequence[datetime] | None = None,
        *,
        clock: Clock = "auto",
        within: str | None = None,
        max_points: int = 12,
        view: RolloutView | None = None,
        areas: AreaIndex | None = None,
    ) -> None:
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
        self.view = view
        self.clock: Literal["history", "source"] = chosen
        self.max_points = max_points
        # the points, when they are known before the rows are seen
        self._wanted: list[datetime] | None = None
        if dates is not None:
            self._wanted = _thin(sorted(dates), max_points)
        elif chosen == "history":
            self._wanted = _thin(_history_days(store), max_points)
        index = areas if areas is not None else AreaIndex.load(store)
        points = None if self._wanted is None else [m.timestamp() for m in self._wanted]
        self._tally = _Tally(store, view, chosen, within, index, points)

    def add(self, key: str, rows: Sequence[RolloutRow] | None = None) -> None:
        """Count service *key* (its canonical key; add each service once).

        :param rows: its rows inside *within*, ``list(view.rows(key, within=within))``
            (default: read here).
        """
        self._tally.add(key, rows)

    def timeline(self) -> Timeline:
        """Return the counts of the services added so far."""
        if self._wanted is not None:
            wanted = self._wanted
            keys = [float(i) for i in range(len(wanted))]
        else:
            wanted = _thin([_end_of_day(d) for d in sorted(self._tally.days)], self.max_points)
            keys = [float((m.date() - _EPOCH).days) for m in wanted]
        out = []
        for moment, counts in zip(wanted, self._tally.counts(keys), strict=True):
            reached = {
                stage: (
                    counts[stage]
                    if stage is Stage.TERMINATED
                    else sum(counts[s] for s in _FUNNEL if s.rank >= stage.rank)
                )
                for stage in Stage
            }
            out.append(TimelinePoint(at=moment, reached=reached, exactly=counts))
        return Timeline(clock=self.clock, points=tuple(out))
