"""Coverage: how many municipalities and inhabitants a service reached, stage by stage.

Counts are over Gemeinden (12-digit ARS) of the known areas (the imported register; without
one, the Gemeinden the sources mention, without population).  The stage of a Gemeinde is the
stage of the row at its nearest containing row area (see :mod:`efa_core.rollout.derive`),
else ``offered``.  ``reached[stage]`` counts Gemeinden at that stage *or further*
(``terminated`` counts only exactly); ``at[stage]`` counts them at exactly that stage.

The classification uses the OZG-Dashboard's vocabulary (:class:`efa_core.model.Coverage`)
for a threshold stage (default ``live``):

* **bundesweit flächendeckend**: every Gemeinde in Germany reached it;
* **landesweit flächendeckend**: every Gemeinde of at least one Land (of the area looked at);
* **kreisweit flächendeckend**: every Gemeinde of at least one Kreis (or kreisfreie Stadt);
* **in mindestens einer Kommune**: at least one Gemeinde;
* ``None``: none.

"Every Gemeinde" means every *inhabited* one: the register's uninhabited areas
(gemeindefreie Gebiete, unbewohnt) cannot subscribe and do not count for flächendeckend.  An
area is only classified up to its own level (a Land report says at most landesweit).

Two more counts come from the row a Gemeinde takes its stage from:
:attr:`CoverageRow.other_solution` (another solution is published or live there: the
Kommune uses something else) and :attr:`CoverageRow.ambiguous` (evidence there could
belong to several offers and was not counted for any).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from efa_core.ids import Ars, ArsLevel
from efa_core.model import Coverage, Stage
from efa_core.rollout.areas_index import AreaIndex
from efa_core.rollout.derive import RolloutView
from efa_core.rollout.rows import RowFlag

__all__ = ["CoverageReport", "CoverageRow", "StageCount", "coverage", "coverage_all"]

_STAGES = tuple(Stage)
_OFFERED = Stage.OFFERED.rank
_OTHER = int(RowFlag.OTHER_SOLUTION)
_AMBIGUOUS = int(RowFlag.AMBIGUOUS)


@attrs.frozen(kw_only=True)
class StageCount:
    """Gemeinden and their population."""

    gemeinden: int
    population: int


@attrs.frozen(kw_only=True)
class CoverageRow:
    """The coverage of one service in one area (``area`` None: Germany)."""

    service_key: str
    area: Ars | None
    name: str | None
    gemeinden: int
    population: int
    reached: Mapping[Stage, StageCount]
    at: Mapping[Stage, StageCount]
    #: The classification for :attr:`stage`.
    coverage: Coverage | None
    stage: Stage
    #: Gemeinden where another solution (no known offer) is published or live.
    other_solution: StageCount = StageCount(gemeinden=0, population=0)
    #: Gemeinden where evidence could belong to several offers (counted for none).
    ambiguous: StageCount = StageCount(gemeinden=0, population=0)

    @property
    def label(self) -> str:
        """The dashboard label of :attr:`coverage`, or ``"nicht verfügbar"``."""
        return "nicht verfügbar" if self.coverage is None else self.coverage.label

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return {
            "service": self.service_key,
            "area": None if self.area is None else str(self.area),
            "name": self.name,
            "gemeinden": self.gemeinden,
            "population": self.population,
            "stage": self.stage.value,
            "coverage": None if self.coverage is None else self.coverage.value,
            "label": self.label,
            "reached": {
                s.value: {"gemeinden": c.gemeinden, "population": c.population}
                for s, c in self.reached.items()
            },
            "other_solution": {
                "gemeinden": self.other_solution.gemeinden,
                "population": self.other_solution.population,
            },
            "ambiguous": {
                "gemeinden": self.ambiguous.gemeinden,
                "population": self.ambiguous.population,
            },
        }


@attrs.frozen(kw_only=True)
class CoverageReport:
    """The coverage of a service in an area, and per sub-area (:attr:`groups`)."""

    total: CoverageRow
    groups: tuple[CoverageRow, ...] = ()


class _Acc:
    __slots__ = ("ambiguous", "at_g", "at_p", "full", "kreise", "laender", "other")

    def __init__(self) -> None:
        n = len(_STAGES)
        self.at_g = [0] * n
        self.at_p = [0] * n
        # per Kreis / Land: [inhabited, inhabited reached]
        self.kreise: dict[str, list[int]] = {}
        self.laender: dict[str, list[int]] = {}
        self.full = [0, 0]
        self.other = [0, 0]
        self.ambiguous = [0, 0]

    def add(
        self, ars: str, rank: int, flags: int, population: int, inhabited: bool, hit: bool
    ) -> None:
        self.at_g[rank] += 1
        self.at_p[rank] += population
        if flags & _OTHER:
            self.other[0] += 1
            self.other[1] += population
        if flags & _AMBIGUOUS:
            self.ambiguous[0] += 1
            self.ambiguous[1] += population
        if inhabited:
            for bucket, key in ((self.kreise, ars[:5]), (self.laender, ars[:2])):
                entry = bucket.get(key)
                if entry is None:
                    entry = bucket[key] = [0, 0]
                entry[0] += 1
                entry[1] += hit
            self.full[0] += 1
            self.full[1] += hit

    def row(
        self, service_key: str, area: str | None, name: str | None, stage: Stage
    ) -> CoverageRow:
        at = {
            s: StageCount(gemeinden=self.at_g[s.rank], population=self.at_p[s.rank])
            for s in _STAGES
        }
        reached: dict[Stage, StageCount] = {}
        for s in _STAGES:
            if s is Stage.TERMINATED:
                reached[s] = at[s]
                continue
            reached[s] = StageCount(
                gemeinden=sum(self.at_g[s.rank :]), population=sum(self.at_p[s.rank :])
            )
        level = 0 if area is None else len(area)
        hit_any = (
            reached[stage].gemeinden > 0
            if stage is not Stage.TERMINATED
            else bool(at[stage].gemeinden)
        )
        verdict: Coverage | None = None
        if self.full[0] and self.full[1] == self.full[0] and level == 0:
            verdict = Coverage.BUNDESWEIT
        elif level <= 2 and any(t and r == t for t, r in self.laender.values()):
            verdict = Coverage.LANDESWEIT
        elif level <= 5 and any(t and r == t for t, r in self.kreise.values()):
            verdict = Coverage.KREISWEIT
        elif hit_any:
            verdict = Coverage.KOMMUNE
        return CoverageRow(
            service_key=service_key,
            area=None if area is None else Ars(area),
            name=name,
            gemeinden=sum(self.at_g),
            population=sum(self.at_p),
            reached=reached,
            at=at,
            coverage=verdict,
            stage=stage,
            other_solution=StageCount(gemeinden=self.other[0], population=self.other[1]),
            ambiguous=StageCount(gemeinden=self.ambiguous[0], population=self.ambiguous[1]),
        )


def coverage(
    view: RolloutView,
    service_key: str,
    *,
    within: str | Ars | None = None,
    by: ArsLevel | str | None = None,
    stage: Stage = Stage.LIVE,
    areas: AreaIndex | None = None,
) -> CoverageReport:
    """Return the coverage of *service_key* in *within* (default Germany), grouped *by* level.

    :param by: also report every area of this level inside *within* (e.g.
        ``ArsLevel.KREIS``), in :attr:`CoverageReport.groups`.
    :param stage: the stage the classification is about.
    :param areas: the known areas (default: loaded from the store; pass one to reuse it).
    """
    prefix = None if within is None else str(within)
    known = view.service(service_key)
    if known is not None:
        service_key = known.key
    rows = {a: (r, int(f)) for a, r, f in view.flag_rows(service_key, within=prefix)}
    group_len = None if by is None else ArsLevel.parse(by).length
    if areas is not None:
        index = areas
    else:
        lengths = {12, len(prefix or "")} | ({group_len} if group_len else set())
        index = AreaIndex.load(view.store, within=prefix, lengths=lengths)
    gemeinden: Iterable[Any]
    if index.has_register:
        gemeinden = index.gemeinden(prefix)
    else:
        gemeinden = AreaIndex.from_ars(
            a for a in rows if len(a) == 12 and a.startswith(prefix or "")
        ).gemeinden()
    total = _Acc()
    groups: dict[str, _Acc] = {}
    threshold = stage.rank
    for info in gemeinden:
        ars = info.ars
        rank, flags = _OFFERED, 0
        for n in (12, 9, 5, 3, 2):
            found = rows.get(ars[:n])
            if found is not None:
                rank, flags = found
                break
        hit = rank == threshold if stage is Stage.TERMINATED else rank >= threshold
        population = info.population or 0
        inhabited = info.inhabited
        total.add(ars, rank, flags, population, inhabited, hit)
        if group_len is not None:
            key = ars[:group_len]
            acc = groups.get(key)
            if acc is None:
                acc = groups[key] = _Acc()
            acc.add(ars, rank, flags, population, inhabited, hit)
    name = None if prefix is None else index.name(prefix)
    return CoverageReport(
        total=total.row(service_key, prefix, name, stage),
        groups=tuple(
            acc.row(service_key, key, index.name(key), stage) for key, acc in sorted(groups.items())
        ),
    )


def coverage_all(
    view: RolloutView,
    *,
    within: str | Ars | None = None,
    by: ArsLevel | str | None = None,
    stage: Stage = Stage.LIVE,
) -> list[CoverageReport]:
    """Return :func:`coverage` for every service (e.g. the full report of one Land)."""
    index = AreaIndex.load(view.store)
    return [
        coverage(view, key, within=within, by=by, stage=stage, areas=index)
        for key in view.services()
    ]
