"""The derived rollout view: stage per service × area, findings, coverage and cost shares.

* :mod:`efa_core.rollout.derive`: :class:`RolloutView` (derive, refresh, read rows);
* :mod:`efa_core.rollout.findings`: the finding-rule protocol and :func:`run_findings`;
* :mod:`efa_core.rollout.builtin_rules`: the built-in rules and cost strategies (a bundled
  plugin);
* :mod:`efa_core.rollout.equivalence`: when a Kreis ARS and a Gemeinde ARS are one area
  (a kreisfreie Stadt; the derived rows keep it at the Gemeinde ARS);
* :mod:`efa_core.rollout.coverage`: coverage in the OZG-Dashboard's vocabulary;
* :mod:`efa_core.rollout.costs`: cost shares in exact arithmetic.
"""

from __future__ import annotations

from efa_core.rollout.areas_index import AreaIndex, AreaInfo
from efa_core.rollout.costs import (
    CostContext,
    CostError,
    CostShare,
    CostSplit,
    CostStrategy,
    Participant,
    service_costs,
    split_costs,
)
from efa_core.rollout.coverage import (
    CoverageReport,
    CoverageRow,
    StageCount,
    coverage,
    coverage_all,
)
from efa_core.rollout.derive import (
    DeriveStats,
    Evidence,
    RolloutRow,
    RolloutView,
    Scope,
    ServiceInfo,
    derive,
)
from efa_core.rollout.findings import Finding, FindingContext, FindingRule, Severity, run_findings

__all__ = [
    "AreaIndex",
    "AreaInfo",
    "CostContext",
    "CostError",
    "CostShare",
    "CostSplit",
    "CostStrategy",
    "CoverageReport",
    "CoverageRow",
    "DeriveStats",
    "Evidence",
    "Finding",
    "FindingContext",
    "FindingRule",
    "Participant",
    "RolloutRow",
    "RolloutView",
    "Scope",
    "ServiceInfo",
    "Severity",
    "StageCount",
    "coverage",
    "coverage_all",
    "derive",
    "run_findings",
    "service_costs",
    "split_costs",
]
