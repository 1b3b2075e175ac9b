"""Attribution: which offer a responsibility, route or dashboard row is evidence for.

:func:`place` decides, for the evidence of one LeiKa key, by specificity (docs/rollout.md,
"Evidence and attribution"):

1. an Onlinedienst id (responsibility) or URL (dashboard row) that an offer has places the
   evidence on that offer; several offers with it: ambiguous; one no offer for this
   Leistung has: another solution, unless none of the candidate offers has an id of that
   kind (then the id cannot decide, and step 3 places it among them);
2. a route goes to the offer published (attributed responsibilities) at the most specific
   area around it; several, or an offer and another solution: ambiguous; only other
   solutions: another solution; nothing published: step 3;
3. the LeiKa key alone: the only candidate offer gets it, several make it ambiguous.

Pure functions over :class:`~efa_core.store.EvidenceFact` tuples; no I/O.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import NamedTuple

from efa_core.rollout.identity import Resolution
from efa_core.rollout.rows import Role, Via
from efa_core.store import EvidenceFact

__all__ = ["Placed", "place"]


class Placed(NamedTuple):
    """One piece of evidence, placed: for whom, how and in which area (the view's form)."""

    fact: EvidenceFact
    #: The area in the view's form (see :mod:`efa_core.rollout.equivalence`).
    area: str
    role: Role
    via: Via
    #: Supports: the one service; ambiguous: the candidates; another solution: ``()``.
    services: tuple[str, ...]
    #: A note on the placement (e.g. an ambiguous route where another solution is
    #: published too), or None.
    note: str | None = None

    def concerns(self, service: str) -> bool:
        """Whether the placement belongs on *service*'s rows (it is a candidate of the key)."""
        if self.role is Role.OTHER_SOLUTION:
            return True
        return service in self.services


def _among(candidates: Sequence[str]) -> tuple[Role, Via, tuple[str, ...]]:
    """Apply the LeiKa-key rule among the remaining *candidates*."""
    if not candidates:
        return Role.OTHER_SOLUTION, Via.LEIKA, ()
    if len(candidates) == 1:
        return Role.SUPPORTS, Via.LEIKA, (candidates[0],)
    return Role.AMBIGUOUS, Via.LEIKA, tuple(candidates)


def _named(
    owners: Sequence[str],
    candidates: Sequence[str],
    has_kind: Callable[[str], bool],
    via: Via,
) -> tuple[Role, Via, tuple[str, ...]]:
    """Place evidence that names an identifier of kind *via*, owned by *owners*."""
    inside = [o for o in owners if o in candidates]
    if len(inside) == 1:
        return Role.SUPPORTS, via, (inside[0],)
    if inside:
        return Role.AMBIGUOUS, via, tuple(sorted(inside))
    if owners:
        return Role.OTHER_SOLUTION, via, ()  # an offer that does not implement this Leistung
    rest = [c for c in candidates if not has_kind(c)]
    if not rest:
        return Role.OTHER_SOLUTION, via, ()
    return _among(rest)


def _prefixes(ars: str) -> list[str]:
    return [ars[:n] for n in (2, 3, 5, 9, 12) if n <= len(ars)]


def place(
    facts: Iterable[EvidenceFact],
    candidates: Sequence[str],
    resolution: Resolution,
    same: Callable[[str], str] = str,
) -> list[Placed]:
    """Place the evidence of one LeiKa key among its *candidates* (see the module doc).

    :param facts: responsibilities, routes and dashboard rows of one LeiKa key (routes
        are placed against the responsibilities given here, so pass those of the route's
        area and of every area containing it).
    :param candidates: the services that list the key, sorted.
    :param resolution: which service has which ids and URLs.
    :param same: maps an ARS to the view's form (kreisfreie Städte, zero-filled keys).
    """
    services = resolution.services
    candidates = list(candidates)
    out: list[Placed] = []
    routes: list[tuple[EvidenceFact, str]] = []
    published: dict[str, list[Placed]] = defaultdict(list)
    for fact in facts:
        area = same(fact.ars)
        if fact.kind == "route":
            routes.append((fact, area))
            continue
        if fact.kind == "responsibility" and fact.target_kind == "onlinedienst":
            owner = resolution.aliases.get(fact.target or "")
            role, via, who = _named(
                () if owner is None else (owner,),
                candidates,
                lambda s: bool(services[s].onlinedienst_ids),
                Via.ONLINEDIENST,
            )
        elif fact.kind == "availability" and fact.target:
            role, via, who = _named(
                resolution.url_owner_keys(fact.target),
                candidates,
                lambda s: bool(services[s].urls),
                Via.URL,
            )
        else:
            role, via, who = _among(candidates)
        placed = Placed(fact, area, role, via, who)
        out.append(placed)
        if fact.kind == "responsibility":
            published[area].append(placed)
    for fact, area in routes:
        out.append(_place_route(fact, area, published, candidates))
    return out


def _place_route(
    fact: EvidenceFact,
    area: str,
    published: Mapping[str, list[Placed]],
    candidates: Sequence[str],
) -> Placed:
    """Place a route on the offer published at the most specific area around it."""
    for prefix in reversed(_prefixes(area)):
        level = published.get(prefix)
        if not level:
            continue
        offers = sorted({s for p in level if p.role is not Role.OTHER_SOLUTION for s in p.services})
        other = any(p.role is Role.OTHER_SOLUTION for p in level)
        unsure = any(p.role is Role.AMBIGUOUS for p in level)
        if len(offers) == 1 and not other and not unsure:
            return Placed(fact, area, Role.SUPPORTS, Via.PUBLISHED, (offers[0],))
        if not offers:
            return Placed(fact, area, Role.OTHER_SOLUTION, Via.PUBLISHED, ())
        note = "another solution is published here too" if other else None
        return Placed(fact, area, Role.AMBIGUOUS, Via.PUBLISHED, tuple(offers), note)
    role, via, who = _among(candidates)
    return Placed(fact, area, role, via, who)
