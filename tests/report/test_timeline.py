"""Stage over time: the history clock and the source clock."""

from __future__ import annotations

from datetime import timedelta

import pytest

from efa_core.model import Stage
from efa_core.report import stage_timeline
from efa_core.store import Store, utcnow

from .helpers import at


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
