"""One area, several ARS: a kreisfreie Stadt is a Kreis and its own single Gemeinde.

Weimar is the Kreis ``16055``, the Gemeindeverband ``160550000`` and the Gemeinde
``160550000000`` (see :mod:`efa_core.ids` on zero-filled ARS); Berlin and Hamburg are even
their Land (``11``/``02`` = ``110000000000``/``020000000000``).  Sources pick different
forms: the OZG-Dashboard connector reads the padded ``160550000000`` as the Kreis ``16055``,
while an agreement names the Gemeinde.  The derived view treats such forms as **one area**
and keeps it at the Gemeinde ARS (12 digits), so coverage counts stay in Gemeinden.

**The rule.**  A coarser ARS ``A`` (Land, Regierungsbezirk, Kreis or Gemeindeverband) is the
same area as the Gemeinde ``G = A`` zero-filled to 12 digits when ``G`` ends in
``0000000`` (Gemeindeverband ``0000`` and Gemeinde ``000``) and

1. **register:** if the imported register (live :class:`~efa_core.model.Area` records of
   any source) holds at least one Gemeinde inside ``A``, its Gemeinden inside ``A`` are
   exactly ``{G}`` -- the Kreis has one Gemeinde and it is the Kreis zero-filled;
2. **no register for A:** otherwise the evidence of the service names ``G`` itself.  This
   relies on the official register: a Gemeinde whose ARS ends in ``0000000`` exists only
   for the kreisfreien Städte and Stadtkreise (107 in the 2020 register; each is the single
   Gemeinde of its Kreis, and the only two ending in ``0000000000``, Berlin and Hamburg,
   are the single Gemeinde of their Land).  Naming such a Gemeinde therefore says the
   Kreis (Land) is that one Gemeinde.  ``16070`` alone is never collapsed: nothing says
   which Gemeinde it would be.

and in both cases **no evidence names another area inside ``A``** (anything but ``G``
and its zero-filled forms).  A Landkreis with Gemeinden in the evidence is never
collapsed, even if some source produced a bogus ``160700000000``; the forms then stay
separate rows, as before.  So collapsing never takes evidence away from another row.

**Zero-filled keys of coarser areas.**  PVOG and editorial systems also write a Kreis or
Land zero-filled: ``160740000000`` (the Landkreis ``16074``), ``160000000000`` (Thüringen).
With a register, a 12-digit key that is no Gemeinde of the register but whose zero-stripped
form (the longest of its 9, 5, 3, 2-digit prefixes followed only by zeros) is a register
area *is* that area (:func:`zero_filled_area`).  Without a register nothing is guessed:
the row stays at the 12-digit key and records the areas it may stand for
(:attr:`Equivalence.readings`); importing the register re-derives it.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Protocol

import attrs

__all__ = [
    "CANDIDATE_LENGTHS",
    "Equivalence",
    "Register",
    "coarser_readings",
    "equivalence",
    "sorted_within",
    "zero_filled_area",
    "zero_filled_gemeinde",
]

_ZERO_TAIL = "0000000"
#: Prefix lengths whose zero-fill can be a kreisfreie Stadt's Gemeinde ARS.
CANDIDATE_LENGTHS = (2, 3, 5)


def zero_filled_gemeinde(ars: str) -> str | None:
    """Return the Gemeinde ARS that *ars* may stand for (itself zero-filled), or None.

    Only Gemeinden ending in ``0000000`` qualify (kreisfreie Städte, Stadtkreise,
    Stadtstaaten); ``"16055"`` and ``"160550000"`` give ``"160550000000"``, ``"16070001"``
    (not an ARS length) and ``"160700004"`` give None.
    """
    if len(ars) in CANDIDATE_LENGTHS or (len(ars) == 9 and ars.endswith("0000")):
        return ars.ljust(12, "0")
    if len(ars) == 12 and ars.endswith(_ZERO_TAIL):
        return ars
    return None


def coarser_readings(gemeinde: str) -> tuple[str, ...]:
    """Return the coarser ARS whose zero-filled form is *gemeinde*, shortest first.

    ``"160550000000"`` gives ``("16055", "160550000")``; ``"110000000000"`` gives
    ``("11", "110", "11000", "110000000")``; ``"160745001000"`` gives ``("160745001",)``.
    """
    return tuple(gemeinde[:n] for n in (2, 3, 5, 9) if gemeinde[n:] == "0" * (12 - n))


def sorted_within(values: Sequence[str], prefix: str, limit: int | None = None) -> list[str]:
    """Return the values of the sorted sequence *values* that start with *prefix*."""
    out: list[str] = []
    i = bisect.bisect_left(values, prefix)
    while i < len(values) and values[i].startswith(prefix):
        out.append(values[i])
        if limit is not None and len(out) >= limit:
            break
        i += 1
    return out


def _only(names: Sequence[str], prefix: str, allowed: set[str]) -> bool:
    """Whether every value of the sorted *names* inside *prefix* is in *allowed*."""
    i = bisect.bisect_left(names, prefix)
    while i < len(names) and names[i].startswith(prefix):
        if names[i] not in allowed:
            return False
        i += 1
    return True


class Register(Protocol):
    """What the rules need to know of the imported register (live area records)."""

    @property
    def present(self) -> bool:
        """Whether any area record is known."""

    def has(self, ars: str) -> bool:
        """Whether *ars* is the ARS of a live area record."""

    def gemeinden(self, area: str) -> Sequence[str]:
        """Return up to two distinct register Gemeinden (12-digit ARS) inside *area*, sorted."""


@attrs.frozen
class SortedRegister:
    """A :class:`Register` over the sorted list of every register ARS (a full derivation)."""

    ars: Sequence[str]
    _set: frozenset[str] = attrs.field(init=False, eq=False, repr=False)
    _gemeinden: Sequence[str] = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "_set", frozenset(self.ars))
        object.__setattr__(self, "_gemeinden", [a for a in self.ars if len(a) == 12])

    @property
    def present(self) -> bool:
        """Whether any area record is known."""
        return bool(self.ars)

    def has(self, ars: str) -> bool:
        """Whether *ars* is a register area."""
        return ars in self._set

    def gemeinden(self, area: str) -> Sequence[str]:
        """Return up to two register Gemeinden inside *area*."""
        return sorted_within(self._gemeinden, area, limit=2)


def zero_filled_area(ars: str, register: Register) -> str | None:
    """Return the register area a zero-filled 12-digit key stands for, or None.

    ``160740000000`` gives ``16074`` when the register holds the Kreis ``16074`` and no
    Gemeinde ``160740000000``; a key the register holds as a Gemeinde (a kreisfreie
    Stadt's ``160550000000``) gives None, as does any key without a register.
    """
    if len(ars) != 12 or not ars.endswith("000") or not register.present or register.has(ars):
        return None
    for n in (9, 5, 3, 2):
        if not ars[n:].strip("0") and register.has(ars[:n]):
            return ars[:n]
    return None


@attrs.frozen
class Equivalence:
    """The result of :func:`equivalence`: which named ARS map onto which area."""

    #: Named ARS -> the area it is the same as (a kreisfreie Stadt's Gemeinde ARS, or the
    #: area a zero-filled key stands for).
    canonical: Mapping[str, str]
    #: Gemeinde ARS -> every coarser ARS that is the same area (named or not).
    aliases: Mapping[str, tuple[str, ...]]
    #: Without a register: named zero-filled 12-digit ARS -> the coarser areas it may be.
    readings: Mapping[str, tuple[str, ...]] = attrs.field(factory=dict)

    def __call__(self, ars: str) -> str:
        """Return the canonical form of *ars* (itself unless it maps onto another form)."""
        return self.canonical.get(ars, ars)


def equivalence(
    named: Iterable[str],
    register: Register,
    *,
    eligible: Callable[[str], bool] | None = None,
) -> Equivalence:
    """Decide which of the *named* ARS are the same area as another form (see the module doc).

    :param named: every ARS the service's evidence names (agreements, responsibilities,
        routes, dashboard rows).
    :param register: the imported register.
    :param eligible: only coarser ARS for which this is true are considered for the
        kreisfreie-Stadt rule (a scoped derivation passes "inside the scope": it has read
        all evidence there only).
    """
    raw = set(named)
    zero: dict[str, str] = {}
    unresolved: dict[str, tuple[str, ...]] = {}
    for ars in raw:
        if len(ars) == 12 and ars.endswith("000"):
            if register.present:
                target = zero_filled_area(ars, register)
                if target is not None:
                    zero[ars] = target
            else:
                coarser = coarser_readings(ars)
                if coarser:
                    unresolved[ars] = coarser
    register_gemeinden = register.gemeinden
    names = sorted({zero.get(a, a) for a in raw})
    name_set = set(names)
    candidates = {g for g in (zero_filled_gemeinde(a) for a in names) if g is not None}
    canonical: dict[str, str] = {}
    aliases: dict[str, tuple[str, ...]] = {}
    for gemeinde in sorted(candidates):
        readings = coarser_readings(gemeinde)
        same = {gemeinde, *readings}
        found: list[str] = []
        for area in readings:
            if eligible is not None and not eligible(area):
                continue
            if not _only(names, area, same):
                continue  # evidence names another area inside: a Landkreis, keep apart
            registered = list(register_gemeinden(area))
            if registered == [gemeinde] or (not registered and gemeinde in name_set):
                found.append(area)
        if found:
            aliases[gemeinde] = tuple(found)
            for area in found:
                if area in name_set:
                    canonical[area] = gemeinde
    for ars, target in zero.items():
        canonical[ars] = canonical.get(target, target)
    return Equivalence(canonical, aliases, unresolved)
