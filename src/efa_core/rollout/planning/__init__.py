"""Rollout planning: pilots, waves, onboarding checklists and progress against plan.

* :mod:`~efa_core.rollout.planning.plan`: :class:`Plan` (build, edit, write) and reading
  plans from the store (:func:`load_plan`, as of a moment too);
* :mod:`~efa_core.rollout.planning.evidence`: which evidence ticks which checklist item;
* :mod:`~efa_core.rollout.planning.progress`: :func:`plan_status`, per wave and plan;
* :mod:`~efa_core.rollout.planning.forecast`: the completion date from the observed pace.

See docs/planning.md.
"""

from __future__ import annotations

from efa_core.rollout.planning.forecast import Forecast, forecast
from efa_core.rollout.planning.plan import Plan, PlanError, load_plan, load_plans, plan_keys
from efa_core.rollout.planning.progress import (
    Blocker,
    Cell,
    ItemStatus,
    OutsideRow,
    PlanStatus,
    Progress,
    StageCount,
    WaveStatus,
    plan_status,
)

__all__ = [
    "Blocker",
    "Cell",
    "Forecast",
    "ItemStatus",
    "OutsideRow",
    "Plan",
    "PlanError",
    "PlanStatus",
    "Progress",
    "StageCount",
    "WaveStatus",
    "forecast",
    "load_plan",
    "load_plans",
    "plan_keys",
    "plan_status",
]
