"""Cost shares of a service's participants, by pluggable strategy, in exact arithmetic.

The *participants* of a service are the subscriber areas of its live agreements in state
``contracted`` (any source; organisation subscribers without ARS cannot be placed and are
left out).  A participant inside another participant (a Gemeinde of a Land that contracted
for all its municipalities) is *covered* by it and pays nothing of its own.

A *cost strategy* is a callable ``strategy(context: CostContext) -> Iterable[CostShare]``,
registered through the ``efa_register_cost_strategies`` hook.  Built-ins:

``koenigsteiner``
    Each participating Land (a participant's Land) pays its Königsteiner Schlüssel share
    re-normalised over the participating Länder.  The table comes from
    ``efa_core/rollout/data/koenigsteiner.json`` with its year and source; the only table
    shipped is **2016, historical** (the current values were not retrievable).  Pass
    ``year=`` to pick a table; add current years to that file, with their source.
``per-capita``
    Each participant pays its population (from the imported register) over the total.
``land-pays``
    Per capita, but a Land listed in the option ``paying_laender`` (default Thüringen,
    ``("16",)``, which pays operation and maintenance for its Kommunen) pays for its
    participating municipalities: their shares are summed into one share of the Land.
``fitko-budget``
    Reuse financed through the FITKO budget from 2024 (IT-Planungsrat decision 2023/35 of
    10.10.2023): 50 % the reusing Länder (the participants' Länder), 25 % the Bund
    (:data:`BUND`), 25 % all 16 Länder by the Königsteiner Schlüssel.  The decision does
    not fix the key among the reusing Länder; decision 2023/43 calls their part
    "nutzungsabhängige Beiträge".  The option ``reusing_key`` chooses it:
    ``koenigsteiner`` (default: their Königsteiner shares re-normalised over them),
    ``usage`` (their uses, as the ``usage`` strategy counts them) or ``equal``.  A Land
    that reuses pays both of its parts as one share.
``usage``
    Each participant pays its uses over all participants' uses (IT-PLR decision 2021/24
    names "tatsächliche Nutzungen" as a cost key): the :class:`~efa_core.model.Usage`
    records of the service in the participant's area (and the areas inside it), of the
    period in the option ``period`` (``"2024"`` or ``"2024-03"``; default: the ``year``,
    else every period).  Usage records come from any source (e.g. the user's
    ``records-file`` with the OZG-Dashboard's usage statistics).

**Exactness.**  Shares are :class:`fractions.Fraction` and :func:`split_costs` checks that
they sum to exactly 1.  :meth:`CostSplit.rounded` gives decimals with a fixed number of
places by the largest-remainder method (round every share down, then give the remaining
units of the last place to the largest remainders, ties by payer ARS), so the rounded
shares sum to exactly 1 too.
"""

from __future__ import annotations

import importlib.resources
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Any, Final, Protocol

import attrs

from efa_core.errors import EfaError
from efa_core.i18n import M, Message, Text, Translator
from efa_core.ids import Ars, Land
from efa_core.model import AgreementState
from efa_core.rollout.areas_index import AreaIndex
from efa_core.rollout.stages import govern
from efa_core.store import EvidenceReader

__all__ = [
    "BUND",
    "CostContext",
    "CostError",
    "CostShare",
    "CostSplit",
    "CostStrategy",
    "KoenigsteinerTable",
    "Participant",
    "fitko_budget",
    "koenigsteiner",
    "koenigsteiner_tables",
    "land_pays",
    "participants",
    "per_capita",
    "service_costs",
    "split_costs",
    "usage",
]

#: The payer that stands for the Federation (it has no ARS).
BUND: Final = "bund"


class CostError(EfaError):
    """Costs cannot be split: no participants, missing population, unknown year or strategy."""


@attrs.frozen(kw_only=True)
class Participant:
    """A subscriber area that takes part in (pays for) a service."""

    ars: Ars
    name: str | None
    population: int | None
    #: ``(source, natural_key)`` of the contracted agreement(s).
    agreements: tuple[tuple[str, str], ...]
    #: Participants inside this one (they pay nothing of their own).
    covers: tuple[Ars, ...] = ()


@attrs.frozen(kw_only=True)
class CostShare:
    """What one payer pays: an exact fraction of the cost, and why."""

    #: The paying area's ARS, or :data:`BUND` for the Federation.
    payer: Ars | str
    name: str | None
    share: Fraction
    #: Why, in either language (None: a strategy that gives only :attr:`basis`).
    basis_text: Message | None = None
    #: Why, in English: the stable text of JSON output (default: :attr:`basis_text` in
    #: English; a share needs one of the two).
    basis: str = attrs.field(
        default=attrs.Factory(lambda self: _english(self.basis_text), takes_self=True)
    )
    #: The participants this payer pays for (itself included).
    pays_for: tuple[Ars, ...] = ()

    def render_basis(self, tr: Translator) -> str:
        """Return the basis in *tr*'s language (:attr:`basis` if there is no text)."""
        return self.basis if self.basis_text is None else tr.render(self.basis_text)


def _english(text: Message | None) -> str:
    if text is None:
        raise TypeError("a CostShare needs a basis or a basis_text")
    return str(text)


#: The status of a Königsteiner table in the reader's language (others as they are).
_KEY_STATUS: Final[Mapping[str, Text]] = {"historical": M.KEY_HISTORICAL}


def _percent(value: Fraction, places: int) -> Decimal:
    """Return *value* × 100 with *places* decimals (``2.69470``)."""
    return Decimal(f"{float(value * 100):.{places}f}")


@attrs.frozen(kw_only=True)
class CostContext:
    """What a strategy sees."""

    service_key: str
    participants: tuple[Participant, ...]
    areas: AreaIndex
    year: int | None = None
    options: Mapping[str, Any] = attrs.field(factory=dict)
    #: The service's uses: ``(ARS, period) -> uses`` (:class:`~efa_core.model.Usage`
    #: records), for usage-based keys.
    usage: Mapping[tuple[str, str], int] = attrs.field(factory=dict)

    def option_values(self, name: str, default: Sequence[Any]) -> list[Any]:
        """Return the option *name* as a list (a single string becomes one item)."""
        value = self.options.get(name, default)
        return [value] if isinstance(value, str) else list(value)


class CostStrategy(Protocol):
    """A cost strategy: ``strategy(context) -> Iterable[CostShare]``."""

    def __call__(self, context: CostContext) -> Iterable[CostShare]:
        """Return the shares; they must sum to exactly 1."""


@attrs.frozen(kw_only=True)
class CostSplit:
    """The shares of one service under one strategy."""

    service_key: str
    strategy: str
    year: int | None
    shares: tuple[CostShare, ...]

    @property
    def total(self) -> Fraction:
        """The sum of the shares (exactly 1)."""
        return sum((s.share for s in self.shares), Fraction(0))

    def rounded(self, places: int = 4) -> list[tuple[CostShare, Decimal]]:
        """Return each share rounded to *places* decimals; the results sum to exactly 1."""
        unit = Fraction(1, 10**places)
        floors = [(s, (s.share // unit)) for s in self.shares]
        left = int(Fraction(1) / unit) - sum(int(f) for _, f in floors)
        order = sorted(
            range(len(floors)),
            key=lambda i: (
                -(self.shares[i].share - floors[i][1] * unit),
                str(self.shares[i].payer),
            ),
        )
        units = [int(f) for _, f in floors]
        for i in order[:left]:
            units[i] += 1
        quantum = Decimal(1).scaleb(-places)
        return [
            (share, (Decimal(n) * quantum).quantize(quantum))
            for (share, _), n in zip(floors, units, strict=True)
        ]


# --------------------------------------------------------------------------------------
# Königsteiner Schlüssel tables
# --------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class KoenigsteinerTable:
    """The Königsteiner Schlüssel of one year: exact shares per Land, with their source."""

    year: int
    status: str
    source: str
    shares: Mapping[Land, Fraction]


def koenigsteiner_tables() -> dict[int, KoenigsteinerTable]:
    """Return the shipped tables by year (read from the package data)."""
    text = (
        importlib.resources.files("efa_core.rollout")
        .joinpath("data/koenigsteiner.json")
        .read_text(encoding="utf-8")
    )
    data = json.loads(text)
    tables = {}
    for table in data["tables"]:
        scale = Fraction(1, 100) if table.get("unit") == "percent" else Fraction(1)
        shares = {Land(code): Fraction(Decimal(v)) * scale for code, v in table["shares"].items()}
        tables[int(table["year"])] = KoenigsteinerTable(
            year=int(table["year"]), status=table["status"], source=table["source"], shares=shares
        )
    return tables


# --------------------------------------------------------------------------------------
# participants and the split
# --------------------------------------------------------------------------------------


def participants(
    store: Any,
    service_key: str,
    areas: AreaIndex,
    *,
    refs: Iterable[str] | None = None,
    priority: Callable[[str], int] | None = None,
) -> tuple[Participant, ...]:
    """Return the participants of *service_key*: contracted subscriber areas, nested folded.

    :param refs: every id of the service (:attr:`ServiceInfo.aliases
        <efa_core.rollout.ServiceInfo.aliases>`); agreements naming any of them count.
        Default: *service_key* alone.
    :param priority: the source precedence (:meth:`IdentityRules.priority
        <efa_core.rollout.IdentityRules.priority>`): where sources disagree on an area's
        agreement, the governing one decides (:func:`efa_core.rollout.stages.govern`).
    """
    reader = EvidenceReader(store.backend)
    by_area: dict[str, list[Any]] = {}
    for fact in reader.agreements(refs or (service_key,), reader.agreement_sources()):
        by_area.setdefault(fact.ars, []).append(fact)
    found: dict[str, list[tuple[str, str]]] = {}
    for ars, facts in by_area.items():
        governing = govern(facts, priority or (lambda _: 0))
        if governing.state is AgreementState.CONTRACTED:
            found[ars] = [(f.source, f.key) for f in governing.supporting]
    kept: list[str] = []
    covered: dict[str, list[str]] = {}
    for ars in sorted(found, key=lambda a: (len(a), a)):
        parent = next((k for k in kept if ars.startswith(k)), None)
        if parent is None:
            kept.append(ars)
        else:
            covered.setdefault(parent, []).append(ars)
    return tuple(
        Participant(
            ars=Ars(ars),
            name=areas.name(ars),
            population=areas.population(ars),
            agreements=tuple(sorted(found[ars])),
            covers=tuple(Ars(c) for c in sorted(covered.get(ars, ()))),
        )
        for ars in sorted(kept)
    )


def split_costs(
    context: CostContext, strategy: Callable[..., Any], *, name: str = "custom"
) -> CostSplit:
    """Run *strategy* on *context* and check that the shares sum to exactly 1.

    :raises CostError: there are no participants, or the shares do not sum to 1.
    """
    if not context.participants:
        raise CostError(f"service {context.service_key!r} has no contracted participants")
    shares = tuple(strategy(context))
    total = sum((s.share for s in shares), Fraction(0))
    if total != 1:
        raise CostError(
            f"cost strategy {name!r} for {context.service_key!r}: shares sum to {total}, not 1"
        )
    return CostSplit(
        service_key=context.service_key, strategy=name, year=context.year, shares=shares
    )


def service_costs(
    store: Any,
    service_key: str,
    strategy: Callable[..., Any],
    *,
    name: str = "custom",
    year: int | None = None,
    options: Mapping[str, Any] | None = None,
    areas: AreaIndex | None = None,
    refs: Iterable[str] | None = None,
    priority: Callable[[str], int] | None = None,
) -> CostSplit:
    """Split the costs of *service_key* among its participants in *store* with *strategy*.

    *refs* and *priority* are :func:`participants`' (pass the service's ids and the
    source precedence of the view).
    """
    index = areas if areas is not None else AreaIndex.load(store)
    context = CostContext(
        service_key=service_key,
        participants=participants(store, service_key, index, refs=refs, priority=priority),
        areas=index,
        year=year,
        options=dict(options or {}),
        usage=service_usage(store, refs or (service_key,)),
    )
    return split_costs(context, strategy, name=name)


def service_usage(store: Any, refs: Iterable[str]) -> dict[tuple[str, str], int]:
    """Return the uses of a service (any of its ids *refs*) by ``(ARS, period)``.

    Several sources with uses for the same area and period: the highest count is taken
    (they count the same uses).
    """
    wanted = set(refs)
    out: dict[tuple[str, str], int] = {}
    for stored in store.records(kind="usage"):
        data = stored.payload
        if data.get("service_key") not in wanted:
            continue
        key = (str(data["ars"]), str(data["period"]))
        out[key] = max(out.get(key, 0), int(data["uses"]))
    return out


def _population(context: CostContext, p: Participant) -> int:
    if p.population is None:
        raise CostError(
            f"service {context.service_key!r}: participant {p.ars} ({p.name or 'unnamed'}) "
            "has no population; import the register (efa areas import FILE)"
        )
    return p.population


def _by_weight(
    context: CostContext,
    weights: Mapping[Ars, tuple[int | Fraction, Message, tuple[Ars, ...]]],
) -> list[CostShare]:
    total = sum((Fraction(w) for w, _, _ in weights.values()), Fraction(0))
    if total == 0:
        raise CostError(f"service {context.service_key!r}: the participants' weights sum to 0")
    return [
        CostShare(
            payer=payer,
            name=context.areas.name(str(payer)),
            share=Fraction(weight) / total,
            basis_text=basis,
            pays_for=pays_for,
        )
        for payer, (weight, basis, pays_for) in sorted(weights.items(), key=lambda i: str(i[0]))
    ]


def koenigsteiner(context: CostContext) -> list[CostShare]:
    """Each participating Land pays its Königsteiner share re-normalised over the participants."""
    tables = koenigsteiner_tables()
    year = context.year if context.year is not None else max(tables)
    if year not in tables:
        raise CostError(
            f"no Königsteiner Schlüssel for {year}; available: "
            f"{', '.join(str(y) for y in sorted(tables))}"
        )
    table = tables[year]
    laender: dict[Ars, list[Ars]] = {}
    for p in context.participants:
        laender.setdefault(p.ars.land.ars, []).append(p.ars)
    weights = {
        land: (
            table.shares[land.land],
            M.BASIS_KOENIGSTEINER.fill(
                year=str(year),
                status=_KEY_STATUS.get(table.status, table.status),
                percent=_percent(table.shares[land.land], 5),
            ),
            tuple(members),
        )
        for land, members in laender.items()
    }
    return _by_weight(context, weights)


def per_capita(context: CostContext) -> list[CostShare]:
    """Each participant pays its population over the participants' total."""
    weights = {
        p.ars: (
            _population(context, p),
            M.BASIS_POPULATION.fill(n=_population(context, p)),
            (p.ars, *p.covers),
        )
        for p in context.participants
    }
    return _by_weight(context, weights)


def land_pays(context: CostContext) -> list[CostShare]:
    """Per capita; Länder in ``paying_laender`` (default Thüringen) pay for their Kommunen."""
    paying = {Land.parse(str(x)) for x in context.option_values("paying_laender", ("16",))}
    acc: dict[Ars, list[Any]] = {}
    for p in context.participants:
        pop = _population(context, p)
        payer = p.ars.land.ars if p.ars.land in paying else p.ars
        entry = acc.setdefault(payer, [0, []])
        entry[0] += pop
        entry[1].extend((p.ars, *p.covers))
    weights = {
        payer: (
            pop,
            (
                M.BASIS_LAND_PAYS
                if payer.land in paying and len(payer.value) == 2
                else M.BASIS_POPULATION
            ).fill(n=pop),
            tuple(members),
        )
        for payer, (pop, members) in acc.items()
    }
    return _by_weight(context, weights)


def _uses(context: CostContext) -> dict[Ars, int]:
    """Return the uses per participant (its own area and the areas inside it)."""
    period = context.options.get("period")
    if period is None and context.year is not None:
        period = str(context.year)
    wanted = None if period is None else str(period)
    out = {p.ars: 0 for p in context.participants}
    ordered = sorted(out, key=lambda a: -len(a.value))  # the most specific participant first
    for (ars, when), count in context.usage.items():
        if wanted is not None and not (when == wanted or when.startswith(wanted + "-")):
            continue
        owner = next((p for p in ordered if ars.startswith(p.value)), None)
        if owner is not None:
            out[owner] += count
    return out


def usage(context: CostContext) -> list[CostShare]:
    """Each participant pays its uses over the participants' total (see the module docs)."""
    uses = _uses(context)
    if not any(uses.values()):
        period = context.options.get("period") or context.year or "any period"
        raise CostError(
            f"service {context.service_key!r}: no uses recorded for its participants "
            f"({period}); sync a source with usage records"
        )
    covers = {p.ars: (p.ars, *p.covers) for p in context.participants}
    weights = {ars: (n, M.BASIS_USES.fill(n=n), covers[ars]) for ars, n in uses.items()}
    return _by_weight(context, weights)


def fitko_budget(context: CostContext) -> list[CostShare]:
    """50 % the reusing Länder, 25 % the Bund, 25 % all Länder by Königsteiner Schlüssel."""
    tables = koenigsteiner_tables()
    year = context.year if context.year is not None else max(tables)
    if year not in tables:
        raise CostError(
            f"no Königsteiner Schlüssel for {year}; available: "
            f"{', '.join(str(y) for y in sorted(tables))}"
        )
    table = tables[year]
    ks = {land: share / sum(table.shares.values()) for land, share in table.shares.items()}
    members: dict[Land, list[Ars]] = {}
    for p in context.participants:
        members.setdefault(p.ars.land, []).extend((p.ars, *p.covers))
    key = str(context.options.get("reusing_key", "koenigsteiner"))
    if key == "koenigsteiner":
        weights: dict[Land, Fraction] = {land: ks[land] for land in members}
        how = M.AMONG_KOENIGSTEINER
    elif key == "equal":
        weights = {land: Fraction(1) for land in members}
        how = M.AMONG_EQUAL
    elif key == "usage":
        uses = _uses(context)
        weights = {land: Fraction(0) for land in members}
        for ars, count in uses.items():
            weights[ars.land] += count
        how = M.AMONG_USES
        if not any(weights.values()):
            raise CostError(
                f"service {context.service_key!r}: reusing_key=usage, but no uses are "
                "recorded for its participants"
            )
    else:
        raise CostError(
            f"fitko-budget: reusing_key must be koenigsteiner, usage or equal, not {key!r}"
        )
    total = sum(weights.values(), Fraction(0))
    shares = [
        CostShare(
            payer=BUND,
            name="Bund",
            share=Fraction(1, 4),
            basis_text=M.BASIS_BUND.fill(),
        )
    ]
    for land in sorted(Land):
        reusing = Fraction(1, 2) * weights[land] / total if land in weights else Fraction(0)
        everyone = Fraction(1, 4) * ks[land]
        parts: Message = M.BASIS_FITKO_EVERYONE.fill(
            percent=_percent(ks[land], 4),
            year=str(year),
            status=_KEY_STATUS.get(table.status, table.status),
        )
        if land in weights:
            mine = M.BASIS_FITKO_REUSING.fill(percent=_percent(weights[land] / total, 4), how=how)
            parts = M.BASIS_FITKO_BOTH.fill(reusing=mine, everyone=parts)
        shares.append(
            CostShare(
                payer=land.ars,
                name=land.name_de,
                share=reusing + everyone,
                basis_text=M.BASIS_FITKO.fill(parts=parts),
                pays_for=tuple(members.get(land, ())),
            )
        )
    return shares
