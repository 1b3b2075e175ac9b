"""A completion date from the observed pace: when the remaining municipalities will be live.

The *pace* is the slope of a least-squares line through the cumulative count of go-lives
at each go-live date of the last ``window`` days (default 90) and at today (so a stall since
the last go-live slows the pace).
The forecast is ``today + remaining / pace``: at the pace of the recent past, this is when
the last of the remaining ones would go live.  There is no forecast (and :attr:`Forecast.
reason` says why) with fewer than two go-live dates in the window, or a pace of zero.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import date, timedelta

import attrs

from efa_core.i18n import M, Message

__all__ = ["DEFAULT_WINDOW_DAYS", "Forecast", "forecast"]

#: How many days back the pace is measured by default.
DEFAULT_WINDOW_DAYS = 90


@attrs.frozen(kw_only=True)
class Forecast:
    """The forecast of one wave or plan."""

    #: Municipality × service pairs to bring live, and how many are.
    total: int
    done: int
    #: Go-lives per week at the observed pace (None: no pace measured).
    pace_per_week: float | None
    #: The forecast completion date (the last go-live when all are done; None: no forecast).
    completion: date | None
    #: Why there is no forecast, or ``"complete"``.
    reason: str | None
    #: The days the pace was measured over.
    window_days: int = DEFAULT_WINDOW_DAYS
    #: Why there is no forecast, in either language (:attr:`reason` is its English);
    #: None when there is a forecast or it is complete.
    reason_text: Message | None = None

    @property
    def remaining(self) -> int:
        """How many are not live yet."""
        return self.total - self.done

    def to_dict(self) -> dict[str, object]:
        """Return a JSON-ready dict."""
        return {
            "total": self.total,
            "done": self.done,
            "remaining": self.remaining,
            "pace_per_week": None if self.pace_per_week is None else round(self.pace_per_week, 3),
            "completion": None if self.completion is None else self.completion.isoformat(),
            "reason": self.reason,
            "window_days": self.window_days,
        }


def forecast(
    done_on: Iterable[date | None],
    total: int,
    today: date,
    *,
    window_days: int = DEFAULT_WINDOW_DAYS,
) -> Forecast:
    """Forecast when *total* pairs will be live, given the dates the done ones went live.

    :param done_on: one entry per pair that is live: the date it went live (None: unknown;
        counted as done but not used for the pace).
    :param total: how many pairs the wave or plan targets.
    :param today: the day the forecast is made; go-lives after it are ignored.
    """
    given = list(done_on)
    dates = sorted(d for d in given if d is not None and d <= today)
    undated = len(given) - len(dates)
    return _forecast(dates, undated, total, today, window_days)


def _forecast(
    dates: list[date], undated: int, total: int, today: date, window_days: int
) -> Forecast:
    done = len(dates) + undated

    def result(
        pace: float | None, completion: date | None, reason: Message | None = None
    ) -> Forecast:
        return Forecast(
            total=total,
            done=done,
            pace_per_week=pace,
            completion=completion,
            reason=None if reason is None else str(reason),
            window_days=window_days,
            reason_text=reason,
        )

    if done >= total:
        return attrs.evolve(result(None, dates[-1] if dates else None), reason="complete")
    start = today - timedelta(days=window_days)
    before = sum(1 for d in dates if d < start)
    recent = [d for d in dates if d >= start]
    if len(set(recent)) < 2:
        why = M.GOLIVES_ON_ONE_DAY if recent else M.NO_GOLIVE_IN_WINDOW
        return result(None, None, why.fill(days=window_days))
    xs = [float((d - start).days) for d in recent]
    ys = [float(before + i + 1) for i in range(len(recent))]
    if recent[-1] < today:  # the time since the last go-live counts too (a stall slows)
        xs.append(float((today - start).days))
        ys.append(float(before + len(recent)))
    mean_x = sum(xs) / len(xs)
    mean_y = sum(ys) / len(ys)
    sxx = sum((x - mean_x) ** 2 for x in xs)
    sxy = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True))
    slope = sxy / sxx
    if slope <= 0:  # pragma: no cover - cumulative counts never fall
        return result(None, None, M.NO_PROGRESS.fill())
    days = math.ceil((total - done) / slope)
    return result(slope * 7, today + timedelta(days=days))
