"""The derived rollout view: stage per service × area, findings, coverage and cost shares.

* :mod:`efa_core.rollout.derive`: :class:`RolloutView` (derive, refresh, read rows);
* :mod:`efa_core.rollout.rows`: :class:`RolloutRow` and :class:`Evidence`, what readers get;
* :mod:`efa_core.rollout.identity`: one service per offer over all sources;
* :mod:`efa_core.rollout.attribution`: which offer a piece of evidence belongs to;
* :mod:`efa_core.rollout.stages`: the stage of an area, and the agreement precedence;
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
from efa_core.rollout.derive import DeriveStats, RolloutView, Scope, derive
from efa_core.rollout.findings import Finding, FindingContext, FindingRule, Severity, run_findings
from efa_core.rollout.identity import (
    AttributeConflict,
    IdentityLink,
    IdentityMatcher,
    IdentityRules,
    Resolution,
    ServiceInfo,
    ServiceRecord,
    normalise_url,
)
from efa_core.rollout.rows import Evidence, Role, RolloutRow, RowFlag, Via

__all__ = [
    "AreaIndex",
    "AreaInfo",
    "AttributeConflict",
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
    "IdentityLink",
    "IdentityMatcher",
    "IdentityRules",
    "Participant",
    "Resolution",
    "Role",
    "RolloutRow",
    "RolloutView",
    "RowFlag",
    "Scope",
    "ServiceInfo",
    "ServiceRecord",
    "Severity",
    "StageCount",
    "Via",
    "coverage",
    "coverage_all",
    "derive",
    "normalise_url",
    "run_findings",
    "service_costs",
    "split_costs",
]
