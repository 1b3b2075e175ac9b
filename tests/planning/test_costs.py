"""The cost strategies of the planning work: IT-PLR 2023/35 (FITKO budget) and usage."""

from __future__ import annotations

from fractions import Fraction

import pytest

from efa_core.i18n import Translator
from efa_core.ids import Ars, Land
from efa_core.model import AgreementState, Usage
from efa_core.plugins import PluginRegistry
from efa_core.rollout import CostError, service_costs
from efa_core.rollout.costs import BUND, fitko_budget, koenigsteiner_tables, usage
from efa_core.store import Store
from rollout.helpers import agreement, put, service

from .helpers import ADORF, WEIMAR, setup


def used(ars: str, period: str, uses: int, service_key: str = "anmeldung") -> Usage:
    return Usage(service_key=service_key, ars=Ars(ars), period=period, uses=uses)


def test_both_are_registered() -> None:
    strategies = PluginRegistry(entrypoints=False).cost_strategies()
    assert strategies["fitko-budget"] is fitko_budget
    assert strategies["usage"] is usage


@pytest.fixture
def two_laender(store: Store) -> Store:
    setup(
        store,
        service(),
        agreement("16", AgreementState.CONTRACTED),
        agreement(WEIMAR, AgreementState.CONTRACTED),  # covered by the Land's contract
        agreement("150010000000", AgreementState.CONTRACTED),
    )
    return store


def test_fitko_budget_follows_it_plr_2023_35(two_laender: Store) -> None:
    split = service_costs(two_laender, "anmeldung", fitko_budget, name="fitko-budget")
    shares = {str(s.payer): s.share for s in split.shares}
    table = koenigsteiner_tables()[2016].shares
    ks = {land: value / sum(table.values()) for land, value in table.items()}
    th, st = ks[Land.TH], ks[Land.ST]
    assert split.total == 1
    assert len(shares) == 17  # the Bund and all 16 Länder
    assert shares[BUND] == Fraction(1, 4)
    assert shares["16"] == Fraction(1, 2) * th / (th + st) + Fraction(1, 4) * th
    assert shares["15"] == Fraction(1, 2) * st / (th + st) + Fraction(1, 4) * st
    assert shares["09"] == Fraction(1, 4) * ks[Land.BY]  # Bayern does not reuse: KS only
    thueringen = next(s for s in split.shares if str(s.payer) == "16")
    assert thueringen.pays_for == (Ars("16"), Ars(WEIMAR))
    assert thueringen.basis.startswith("IT-PLR 2023/35: 50 % × ")
    assert "25 % × 2.6947 % (Königsteiner Schlüssel 2016, historical)" in thueringen.basis
    assert thueringen.render_basis(Translator("en")) == thueringen.basis
    german = thueringen.render_basis(Translator("de"))
    assert german.startswith("IT-PLR 2023/35: 50 % × ")
    assert "(Königsteiner Schlüssel unter den nachnutzenden Ländern) + 25 % × 2,6947 % " in german
    assert german.endswith("(Königsteiner Schlüssel 2016, historisch)")
    # the rounded shares sum to exactly 1 too
    assert sum(r for _, r in split.rounded(4)) == 1


def test_fitko_budget_reusing_keys(two_laender: Store) -> None:
    equal = service_costs(two_laender, "anmeldung", fitko_budget, options={"reusing_key": "equal"})
    table = koenigsteiner_tables()[2016].shares
    th = table[Land.TH] / sum(table.values())
    assert {str(s.payer): s.share for s in equal.shares}["16"] == Fraction(1, 4) + th / 4
    put(two_laender, "usage", [used(WEIMAR, "2024", 300), used("150010000000", "2024", 100)])
    by_use = service_costs(two_laender, "anmeldung", fitko_budget, options={"reusing_key": "usage"})
    assert {str(s.payer): s.share for s in by_use.shares}["16"] == Fraction(3, 8) + th / 4
    with pytest.raises(CostError, match="reusing_key must be koenigsteiner, usage or equal"):
        service_costs(two_laender, "anmeldung", fitko_budget, options={"reusing_key": "x"})


def test_usage_key_counts_the_uses_in_each_participants_area(store: Store) -> None:
    setup(
        store,
        service(),
        agreement(WEIMAR, AgreementState.CONTRACTED),
        agreement("16061", AgreementState.CONTRACTED),  # Eichsfeld, with Adorf inside
        agreement(ADORF, AgreementState.CONTRACTED),  # covered by Eichsfeld
    )
    put(
        store,
        "dashboard-usage",
        [
            used(WEIMAR, "2024-01", 60),
            used(WEIMAR, "2024-02", 40),
            used(ADORF, "2024", 50),
            used(WEIMAR, "2025", 1000),
            used(WEIMAR, "2024", 999, service_key="other"),
        ],
    )
    split = service_costs(store, "anmeldung", usage, year=2024, name="usage")
    shares = {str(s.payer): (s.share, s.basis) for s in split.shares}
    assert shares == {
        WEIMAR: (Fraction(2, 3), "100 uses"),
        "16061": (Fraction(1, 3), "50 uses"),
    }
    month = service_costs(store, "anmeldung", usage, options={"period": "2024-02"})
    assert {str(s.payer): s.share for s in month.shares} == {WEIMAR: 1, "16061": 0}
    with pytest.raises(CostError, match=r"no uses recorded for its participants \(2023\)"):
        service_costs(store, "anmeldung", usage, year=2023)
