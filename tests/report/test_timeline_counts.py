"""The timeline's counts equal the plain per-date evaluation of every row (issue 15).

:func:`stage_timeline` and the report's :class:`TimelineCounter` sort the dates into classes
and add up stage changes instead of evaluating every row at every date.  These tests build
stores with several Länder, Kreise (a kreisfreie Stadt among them) and services, evidence at
Gemeinde, Kreis and Land level, dates on the last second of a day, agreements without a
date and syncs on several days, and compare the counts with :func:`_reference`: the
straightforward evaluation that the timeline did before.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import Any, Literal

import pytest

import efa_core.store._store as store_module
from efa_core.ids import Ars, LeikaKey
from efa_core.model import (
    Agreement,
    AgreementState,
    Area,
    Availability,
    Record,
    Responsibility,
    Route,
    Service,
    Stage,
    TargetKind,
)
from efa_core.plugins import PluginRegistry
from efa_core.report import Timeline, collect_report, stage_timeline
from efa_core.report.timeline import _end_of_day, _history_days, _stamp, _thin
from efa_core.rollout import AreaIndex, Role, RolloutRow, RolloutView
from efa_core.store import Store, open_store

from .helpers import put, subscriber

_FUNNEL = [s for s in Stage if s is not Stage.TERMINATED]

LAENDER = {"16": ["16055", "16061", "16062"], "15": ["15001", "15002"], "09": ["09161"]}
KREISFREI = {"16055", "15001"}


def _gemeinden(kreis: str) -> list[str]:
    if kreis in KREISFREI:
        return [kreis + "0000000"]
    return [f"{kreis}0001{i:03d}" for i in range(1, 4)]


def _register() -> list[Area]:
    out = []
    for land, kreise in LAENDER.items():
        out.append(Area(ars=Ars(land), name=f"Land {land}", area_type="Land", population=10))
        for kreis in kreise:
            out.append(Area(ars=Ars(kreis), name=f"Kreis {kreis}", parent=Ars(land)))
            out += [
                Area(ars=Ars(g), name=f"Gemeinde {g}", parent=Ars(kreis), population=100)
                for g in _gemeinden(kreis)
            ]
    return out


def _moment(rnd: random.Random) -> datetime:
    day = datetime(2024, 1, 1, tzinfo=timezone.utc) + timedelta(days=rnd.randrange(0, 60, 3))
    # midnight, the default points' second (23:59:59) and half a second after it
    return day + rnd.choice(
        [timedelta(0), timedelta(hours=23, minutes=59, seconds=59), timedelta(seconds=86399.5)]
    )


def _evidence(rnd: random.Random, services: int) -> list[list[Record]]:
    """Random evidence of *services* services, split into three batches (three syncs)."""
    leika = [LeikaKey(f"99115005{i:06d}") for i in range(services)]
    areas = [a for kreise in LAENDER.values() for k in kreise for a in [k, *_gemeinden(k)]]
    batches: list[list[Record]] = [[], [], []]
    for i, key in enumerate(leika):
        batches[0].append(Service(key=f"svc{i}", name=f"Service {i}", leika_keys=(key,)))
        for ars in [*LAENDER, *areas]:
            gemeinde = len(ars) == 12
            batch = batches[rnd.randrange(3)]
            if rnd.random() < (0.6 if gemeinde else 0.15):
                state = rnd.choice(list(AgreementState))
                batch.append(
                    Agreement(
                        service_key=f"svc{i}",
                        subscriber=subscriber(ars, ars) if len(ars) > 2 else _land(ars),
                        state=state,
                        state_since=None if rnd.random() < 0.2 else _moment(rnd),
                    )
                )
            if len(ars) == 2:
                continue
            if rnd.random() < (0.6 if gemeinde else 0.15):
                batch.append(
                    Responsibility(
                        leika_key=key,
                        ars=Ars(ars),
                        target_kind=TargetKind.ONLINEDIENST,
                        target_id=rnd.choice([f"svc{i}", "unknown-dienst"]),
                        modified_at=_moment(rnd),
                    )
                )
            if gemeinde and rnd.random() < 0.3:
                batch.append(
                    Route(
                        leika_key=key,
                        ars=Ars(ars),
                        destination_id=uuid.UUID(int=rnd.getrandbits(128)),
                        modified_at=_moment(rnd),
                    )
                )
            if rnd.random() < (0.4 if gemeinde else 0.1):
                batch.append(
                    Availability(
                        leika_key=key,
                        ars=Ars(ars),
                        online=rnd.random() < 0.8,
                        url=f"https://{ars}.example/svc{i}",
                        modified_at=_moment(rnd),
                    )
                )
    return batches


def _land(ars: str) -> Any:
    from efa_core.model import Subscriber, SubscriberKind

    return Subscriber(subscriber_kind=SubscriberKind.LAND, name=f"Land {ars}", ars=Ars(ars))


def build_mixed_store(
    store: Store, seed: int, monkeypatch: pytest.MonkeyPatch, services: int = 3
) -> None:
    """Fill *store* with the register and random evidence, synced on three days."""
    rnd = random.Random(seed)
    batches = _evidence(rnd, services)
    first = datetime(2024, 3, 1, 10, tzinfo=timezone.utc)
    for day, (source, batch) in enumerate(
        [("register", _register()), *zip(("registry", "lrs", "dash"), batches, strict=True)]
    ):
        moment = first + timedelta(days=day // 2, hours=day)
        monkeypatch.setattr(store_module, "utcnow", lambda moment=moment: moment)
        put(store, source, batch)
    monkeypatch.undo()


# -- the reference: every row evaluated at every date ----------------------------------------


def _row_stage(dates: tuple[float, ...], state: AgreementState | None, t: float) -> Stage | None:
    exists, agreement, published, routable, live = dates
    if t < exists:
        return None
    has_state = state is not None and t >= agreement
    if has_state and state is AgreementState.TERMINATED:
        return Stage.TERMINATED
    stage = Stage.OFFERED
    if has_state and state is not None and state.stage is not None:
        stage = state.stage
    if t >= live:
        return Stage.LIVE
    if t >= routable:
        stage = max(stage, Stage.ROUTABLE)
    elif t >= published:
        stage = max(stage, Stage.PUBLISHED)
    return stage


def _lookup(store: Store, source: str, kind: str, key: str) -> tuple[float, float, float | None]:
    db = store.backend
    found = db.fetchone(
        "SELECT first_seen, fetched_at, modified_at FROM records"
        " WHERE source = ? AND kind = ? AND natural_key = ?",
        (source, kind, key),
    )
    assert found is not None
    first, fetched, modified = found
    return (
        db.from_ts(first).timestamp(),
        db.from_ts(fetched).timestamp(),
        _stamp(db.from_ts_opt(modified)),
    )


def _reference(
    store: Store,
    view: RolloutView,
    dates: Sequence[datetime] | None,
    clock: Literal["history", "source"],
    within: str | None,
    max_points: int = 12,
) -> list[tuple[datetime, dict[Stage, int]]]:
    """Return (date, pairs at exactly each stage) by evaluating every row at every date."""
    inf = float("inf")
    index = AreaIndex.load(store)
    keys = list(view.services())

    def rows(key: str) -> list[RolloutRow]:
        out = list(view.rows(key, within=within))
        for n in (12, 9, 5, 3, 2):
            if within and n < len(within):
                row = view.row(key, within[:n])
                if row is not None and str(row.ars) == within[:n]:
                    out.append(row)
        return out

    if dates is not None:
        wanted = _thin(sorted(dates), max_points)
    elif clock == "history":
        wanted = _thin(_history_days(store), max_points)
    else:
        days = {
            e.at.astimezone(timezone.utc).date()
            for key in keys
            for row in rows(key)
            for e in row.evidence
            if e.kind != "service" and e.at is not None
        }
        wanted = _thin([_end_of_day(d) for d in sorted(days)], max_points)
    points = [m.timestamp() for m in wanted]
    exactly = [dict.fromkeys(Stage, 0) for _ in points]
    register_since = inf
    if clock == "history":
        first = store.backend.fetchone(
            "SELECT MIN(first_seen) FROM records WHERE kind = 'area'"
            + (" AND ars >= ? AND ars < ?" if within else ""),
            (within, within + ":") if within else (),
        )[0]
        register_since = store.backend.from_ts(first).timestamp()
    else:
        register_since = -inf
    for key in keys:
        info = view.service(key)
        assert info is not None
        found = [_lookup(store, s, "service", k) for s, k, _ in info.records]
        if clock == "history":
            service_since = min(f for f, _, _ in found)
        else:
            dated = [m for _, _, m in found if m is not None]
            service_since = min(dated) if dated and len(dated) == len(found) else -inf
        by_area = {}
        for row in rows(key):
            exists = agreement = published = routable = live = inf
            for e in row.evidence:
                if e.kind == "service":
                    continue
                if clock == "history":
                    since, raised = _lookup(store, e.source, e.kind, e.natural_key)[:2]
                else:
                    stamp = _stamp(e.at)
                    if stamp is None:
                        stamp = _lookup(store, e.source, e.kind, e.natural_key)[0]
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
            by_area[str(row.ars)] = ((exists, agreement, published, routable, live), row)
        for gemeinde in index.gemeinden(within):
            chain = [by_area[p] for n in (12, 9, 5, 3, 2) if (p := gemeinde.ars[:n]) in by_area]
            for i, t in enumerate(points):
                if t < service_since or (index.has_register and t < register_since):
                    continue
                stage = next(
                    (
                        s
                        for d, row in chain
                        if (s := _row_stage(d, row.agreement_state, t)) is not None
                    ),
                    Stage.OFFERED,
                )
                exactly[i][stage] += 1
    return list(zip(wanted, exactly, strict=True))


def _counts(timeline: Timeline) -> list[tuple[datetime, dict[Stage, int]]]:
    return [(p.at, dict(p.exactly)) for p in timeline.points]


# -- the tests ---------------------------------------------------------------------------------


@pytest.fixture(params=[1, 2, 3])
def mixed_store(
    request: pytest.FixtureRequest, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> Any:
    with open_store(f"sqlite:///{tmp_path / 'mixed.db'}") as store:
        build_mixed_store(store, request.param, monkeypatch)
        view = RolloutView(store)
        view.refresh()
        yield store, view


WITHIN = [None, "16", "16061", "15001", "160610001002"]


@pytest.mark.parametrize("clock", ["source", "history"])
@pytest.mark.parametrize("within", WITHIN)
def test_default_dates_count_as_every_row_at_every_date(
    mixed_store: tuple[Store, RolloutView], clock: Literal["history", "source"], within: str | None
) -> None:
    store, view = mixed_store
    expected = _reference(store, view, None, clock, within)
    assert len(expected) > 1 or clock == "history"
    timeline = stage_timeline(store, clock=clock, within=within, view=view)
    assert _counts(timeline) == expected
    few = stage_timeline(store, clock=clock, within=within, view=view, max_points=3)
    assert _counts(few) == _reference(store, view, None, clock, within, max_points=3)


@pytest.mark.parametrize("clock", ["source", "history"])
def test_given_dates_count_as_every_row_at_every_date(
    mixed_store: tuple[Store, RolloutView], clock: Literal["history", "source"]
) -> None:
    store, view = mixed_store
    day = datetime(2024, 1, 10, tzinfo=timezone.utc)
    dates = [
        day,
        day + timedelta(seconds=86399),  # the second of a default point
        day + timedelta(seconds=86399),  # twice
        datetime(2024, 2, 1, 12, tzinfo=timezone.utc),
        datetime(2024, 3, 2, 10, 30, tzinfo=timezone.utc),  # between two syncs
        datetime(2024, 3, 5, tzinfo=timezone.utc),
    ]
    for within in WITHIN:
        expected = _reference(store, view, dates, clock, within)
        timeline = stage_timeline(store, dates, clock=clock, within=within, view=view)
        assert _counts(timeline) == expected, within


def test_the_report_counts_its_timeline_from_the_rows_it_read(
    mixed_store: tuple[Store, RolloutView],
) -> None:
    store, view = mixed_store
    rules = PluginRegistry(entrypoints=False, env={}).finding_rules()
    for land, kreis in [(None, None), ("TH", None), (None, "16061")]:
        for clock in ("source", "history"):
            data = collect_report(
                store, rules, land=land, kreis=kreis, timeline_clock=clock, detail=False
            )
            alone = stage_timeline(store, clock=clock, within=data.within, view=view)
            assert data.timeline == alone
            assert _counts(alone) == _reference(store, view, None, clock, data.within)
    # the reached counts are the sums of the exact ones
    for point in alone.points:
        for stage in _FUNNEL:
            assert point.reached[stage] == sum(
                point.exactly[s] for s in _FUNNEL if s.rank >= stage.rank
            )
