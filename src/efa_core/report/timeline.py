"""Stage over time: how many Gemeinden had reached each stage, at a series of dates.

For every date the store's records *as they were then* are copied into a scratch in-memory
SQLite store, the rollout view is derived there with the same code as the real view
(:class:`~efa_core.rollout.RolloutView`) and the Gemeinden are counted with
:func:`~efa_core.rollout.coverage`.  The counts are therefore exact for each date; they are
service × Gemeinde pairs, summed over the services looked at.

Two clocks say which records existed at a date:

* ``"history"``: what efa-core *knew* then, from the append-only history
  (:meth:`efa_core.store.Store.as_of`).  The default dates are the days on which syncs
  changed something (the end of each such day, in UTC).
* ``"source"``: what the *sources* say happened by then: each current record counts from
  its own date (an agreement from ``state_since``, else ``modified_at``; other records
  from ``modified_at``), or from when efa-core first saw it if the source gives no date.
  Area records (the register) are reference data and count at every date, and so do
  services and providers without a date of their own (the catalogue).
  An agreement counts only from the date of its current state (its earlier states are not
  replayed).  The default dates are the distinct record dates.

``"auto"`` takes ``"history"`` when the history spans more than one day, else ``"source"``
(a store that was synced once, such as the demo's, has a history of one day only).

Cost: one derivation per date over the records inside *within*; at most *max_points*
dates are used (evenly thinned, the last one kept).  Meant for a Land or smaller.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Literal

import attrs

from efa_core.connectors import Upsert
from efa_core.model import Stage
from efa_core.rollout.areas_index import AreaIndex
from efa_core.rollout.coverage import coverage
from efa_core.rollout.derive import RolloutView
from efa_core.serialization import record_from_dict
from efa_core.store import (
    PreparedDelete,
    PreparedUpsert,
    RunMode,
    RunStatus,
    Store,
    open_store,
    prepare,
)

__all__ = ["Clock", "Timeline", "TimelinePoint", "stage_timeline"]

#: Which records existed at a date: efa-core's knowledge or the sources' own dates.
Clock = Literal["auto", "history", "source"]

_FUNNEL = tuple(s for s in Stage if s is not Stage.TERMINATED)
_BATCH = 1000
_ALWAYS = datetime.min.replace(tzinfo=timezone.utc)
_CATALOGUE = ("service", "provider")


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


def _in_scope(ars: str | None, within: str | None) -> bool:
    return within is None or ars is None or ars.startswith(within) or within.startswith(ars)


def _history_span(store: Store) -> tuple[datetime, datetime] | None:
    db = store.backend
    row = db.fetchone("SELECT MIN(changed_at), MAX(changed_at) FROM history")
    if row is None or row[0] is None:
        return None
    return db.from_ts(row[0]), db.from_ts(row[1])


def _record_date(payload: Any, first_seen: datetime) -> datetime:
    kind = payload.get("kind")
    if kind == "area":
        return _ALWAYS  # the area register is reference data, not a rollout event
    for name in ("state_since", "modified_at"):
        if kind != "agreement" and name == "state_since":
            continue
        value = payload.get(name)
        if value:
            moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
            return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    if kind in _CATALOGUE:
        return _ALWAYS  # an undated service or provider: part of the catalogue all along
    return first_seen


def _source_records(store: Store, within: str | None) -> list[tuple[datetime, str, Any]]:
    out = []
    for stored in store.records():
        if not _in_scope(stored.ars, within):
            continue
        out.append((_record_date(stored.payload, stored.first_seen), stored.source, stored.payload))
    return out


def _default_dates(
    store: Store, clock: str, records: Sequence[tuple[datetime, str, Any]]
) -> list[datetime]:
    if clock == "history":
        db = store.backend
        days = sorted(
            {
                db.from_ts(r[0]).date()
                for r in db.fetchall("SELECT DISTINCT changed_at FROM history")
            }
        )
        return [_end_of_day(d) for d in days]
    return sorted(
        {
            _end_of_day(moment.astimezone(timezone.utc).date())
            for moment, _, _ in records
            if moment != _ALWAYS
        }
    )


def _fill(scratch: Store, items: Iterable[tuple[str, Any]]) -> None:
    """Apply ``(source, payload)`` items to *scratch*, one snapshot run per source."""
    by_source: dict[str, list[PreparedUpsert | PreparedDelete]] = {}
    for source, payload in items:
        record = record_from_dict(dict(payload), context=f"{source}/{payload.get('kind')}")
        by_source.setdefault(source, []).append(prepare(Upsert(record)))
    for source, prepared in sorted(by_source.items()):
        run = scratch.begin_run(source, RunMode.SNAPSHOT)
        for start in range(0, len(prepared), _BATCH):
            chunk = prepared[start : start + _BATCH]
            last = start + _BATCH >= len(prepared)
            scratch.apply(
                run.run_id, source, chunk, cursor=None, complete=last, mode=RunMode.SNAPSHOT
            )
        scratch.finish_run(run.run_id, RunStatus.SUCCEEDED)


def _count(
    scratch: Store, services: Sequence[str] | None, within: str | None, at: datetime
) -> TimelinePoint:
    view = RolloutView(scratch)
    view.derive()
    known = view.services()
    keys = [k for k in (known if services is None else services) if k in known]
    index = AreaIndex.load(scratch)
    exactly = dict.fromkeys(Stage, 0)
    for key in keys:
        report = coverage(view, key, within=within, areas=index)
        for stage in Stage:
            exactly[stage] += report.total.at[stage].gemeinden
    reached = {
        stage: (
            exactly[stage]
            if stage is Stage.TERMINATED
            else sum(exactly[s] for s in _FUNNEL if s.rank >= stage.rank)
        )
        for stage in Stage
    }
    return TimelinePoint(at=at, reached=reached, exactly=exactly)


def _history_items(store: Store, at: datetime, within: str | None) -> Iterator[tuple[str, Any]]:
    for entry in store.as_of(at):
        if entry.payload is None:
            continue
        payload = entry.payload
        ars = payload.get("ars") or (payload.get("subscriber") or {}).get("ars")
        if _in_scope(ars, within):
            yield entry.source, payload


def stage_timeline(
    store: Store,
    dates: Sequence[datetime] | None = None,
    *,
    clock: Clock = "auto",
    services: Sequence[str] | None = None,
    within: str | None = None,
    max_points: int = 12,
) -> Timeline:
    """Count service × Gemeinde pairs per stage at *dates* (see the module docs).

    :param dates: timezone-aware dates (default: derived from the store, see the clocks).
    :param clock: ``"history"``, ``"source"`` or ``"auto"``.
    :param services: only these service keys (default: every service known at each date).
    :param within: only Gemeinden inside this ARS (e.g. ``"16"`` for Thüringen).
    :param max_points: use at most this many dates.
    :raises ValueError: a date is naive, or *clock* or *max_points* is invalid.
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
    records = _source_records(store, within) if chosen == "source" else []
    wanted = sorted(dates) if dates is not None else _default_dates(store, chosen, records)
    wanted = _thin(wanted, max_points)
    points = []
    for at in wanted:
        with open_store("sqlite:///:memory:") as scratch:
            if chosen == "history":
                _fill(scratch, _history_items(store, at, within))
            else:
                _fill(scratch, ((source, p) for moment, source, p in records if moment <= at))
            points.append(_count(scratch, services, within, at))
    return Timeline(clock=chosen, points=tuple(points))
