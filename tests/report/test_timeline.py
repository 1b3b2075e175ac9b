"""Stage over time: the history clock and the source clock."""

from __future__ import annotations

import tracemalloc
from datetime import timedelta
from pathlib import Path

import pytest

from efa_core.model import Stage
from efa_core.report import Timeline, stage_timeline
from efa_core.rollout import RolloutView
from efa_core.store import Store, open_store, utcnow

from .helpers import at, national_like


def test_source_clock_follows_the_record_dates(small_store: Store) -> None:
    dates = [at(2023, 12, 31), at(2024, 1, 31), at(2024, 3, 15), at(2024, 6, 30)]
    timeline = stage_timeline(
        small_store, dates, clock="source", services=["anmeldung"], within="16"
    )
    assert timeline.clock == "source"
    got = [
        (p.reached[Stage.CONTRACTED], p.reached[Stage.PUBLISHED], p.reached[Stage.LIVE])
        for p in timeline.points
    ]
    # Thüringen has 3 Gemeinden: Weimar (contract 2024-01-10, responsibility 2024-03-01,
    # dashboard 2024-05-01) and Adorf + Bdorf (Eichsfeld's contract 2024-02-01).
    assert got == [(0, 0, 0), (1, 0, 0), (3, 1, 0), (3, 1, 1)]
    # the register is reference data: every Gemeinde is counted at every date
    assert all(p.reached[Stage.OFFERED] == 3 for p in timeline.points)


def test_history_clock_knows_nothing_before_the_first_sync(small_store: Store) -> None:
    now = utcnow()
    timeline = stage_timeline(
        small_store, [now - timedelta(days=1), now + timedelta(minutes=1)], clock="history"
    )
    before, after = timeline.points
    assert sum(before.reached.values()) == 0
    # After the syncs: the current state (4 Gemeinden x 2 services offered or further,
    # anmeldung live in Weimar).
    assert after.reached[Stage.OFFERED] == 8
    assert after.reached[Stage.LIVE] == 1


def test_auto_picks_the_source_clock_for_a_one_day_history(small_store: Store) -> None:
    timeline = stage_timeline(small_store, clock="auto", max_points=3)
    assert timeline.clock == "source"
    assert len(timeline.points) == 3
    assert [p.at for p in timeline.points] == sorted(p.at for p in timeline.points)


def test_bad_arguments(small_store: Store) -> None:
    with pytest.raises(ValueError, match="clock must be"):
        stage_timeline(small_store, clock="wall")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="no timezone"):
        stage_timeline(small_store, [at(2024, 1, 1).replace(tzinfo=None)])


def _timeline_peak(tmp_path: Path, services: int) -> tuple[int, Timeline]:
    with open_store(f"sqlite:///{tmp_path / f'{services}.db'}") as store:
        national_like(store, services)
        view = RolloutView(store)
        view.derive()
        tracemalloc.start()
        try:
            timeline = stage_timeline(
                store, [at(2024, 3, 1), at(2024, 12, 31)], clock="source", view=view
            )
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    return peak, timeline


def test_the_timeline_holds_one_service_at_a_time(tmp_path: Path) -> None:
    # Issue 15: the timeline used to replay every record into a scratch store per date;
    # now its memory is one service's rows, so 8x the services must not cost 8x the memory.
    small, few = _timeline_peak(tmp_path, 2)
    large, many = _timeline_peak(tmp_path, 16)
    assert [p.reached[Stage.PUBLISHED] for p in many.points] == [0, 16 * 300]
    assert [p.reached[Stage.CONTRACTED] for p in few.points] == [
        2 * 300 * 3 // 12,
        2 * 300,
    ]  # Jan.-Mar. 1st
    assert large < small * 1.5, (small, large)


def test_a_row_counts_from_its_first_evidence_and_rises_with_later_evidence(
    small_store: Store,
) -> None:
    # Weimar (kreisfrei): contracted 2024-01-10, published 2024-03-01, routed 2024-04-01,
    # live 2024-05-01 (the dashboard names the Kreis key 16055).
    dates = [at(2024, 1, 15), at(2024, 3, 15), at(2024, 4, 15), at(2024, 5, 15)]
    timeline = stage_timeline(
        small_store, dates, clock="source", services=["anmeldung"], within="16055"
    )
    exact = [
        next(s for s in Stage if p.exactly[s]) if sum(p.exactly.values()) == 1 else None
        for p in timeline.points
    ]
    assert exact == [Stage.CONTRACTED, Stage.PUBLISHED, Stage.ROUTABLE, Stage.LIVE]
