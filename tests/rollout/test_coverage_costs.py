from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from efa_core.areas import import_areas
from efa_core.ids import Ars, ArsLevel
from efa_core.model import AgreementState, Coverage, Stage
from efa_core.rollout import CostError, RolloutView, coverage, service_costs
from efa_core.rollout.costs import koenigsteiner, koenigsteiner_tables, land_pays, per_capita
from efa_core.store import Store

from .helpers import REGISTER, agreement, availability, put, responsibility, service


def _view(store: Store) -> RolloutView:
    view = RolloutView(store)
    view.refresh()
    return view


def test_coverage_vocabulary(store: Store) -> None:
    import_areas(store, REGISTER)
    put(store, "r", [service()])
    view = _view(store)
    assert coverage(view, "anmeldung").total.coverage is None
    put(store, "d", [availability("160615001001")])
    report = coverage(_view(store), "anmeldung", by=ArsLevel.LAND)
    assert report.total.coverage is Coverage.KOMMUNE
    assert report.total.label == "in mind. einer Kommune verfügbar"
    put(store, "d", [availability("16061")])
    report = coverage(_view(store), "anmeldung", by=ArsLevel.LAND)
    assert report.total.coverage is Coverage.KREISWEIT
    th = {str(g.area): g for g in report.groups}["16"]
    assert th.coverage is Coverage.KREISWEIT
    assert th.reached[Stage.LIVE].gemeinden == 2
    assert th.reached[Stage.LIVE].population == 3000
    put(store, "d", [availability("16")])
    report = coverage(_view(store), "anmeldung", by="land")
    assert report.total.coverage is Coverage.LANDESWEIT
    assert {str(g.area): g.coverage for g in report.groups} == {
        "15": None,
        "16": Coverage.LANDESWEIT,
    }
    put(store, "d", [availability("15")])
    assert coverage(_view(store), "anmeldung").total.coverage is Coverage.BUNDESWEIT


def test_coverage_counts_municipalities_and_population_per_stage(store: Store) -> None:
    import_areas(store, REGISTER)
    put(store, "r", [service(), agreement("16", AgreementState.CONTRACTED)])
    put(store, "p", [responsibility("16061")])
    report = coverage(
        _view(store), "anmeldung", within=Ars("16"), by=ArsLevel.KREIS, stage=Stage.PUBLISHED
    )
    total = report.total
    assert (total.gemeinden, total.population) == (3, 69000)
    assert total.reached[Stage.CONTRACTED].gemeinden == 3
    assert total.reached[Stage.PUBLISHED].gemeinden == 2
    assert total.at[Stage.CONTRACTED].population == 66000
    assert total.coverage is Coverage.KREISWEIT
    assert total.name == "Thüringen"
    assert [(str(g.area), g.coverage) for g in report.groups] == [
        ("16055", None),
        ("16061", Coverage.KREISWEIT),
    ]


def test_coverage_without_register_uses_the_areas_sources_mention(store: Store) -> None:
    put(store, "r", [service()])
    put(store, "d", [availability("160615001001"), availability("16055")])
    report = coverage(_view(store), "anmeldung")
    assert report.total.gemeinden == 1
    assert report.total.population == 0
    assert report.total.coverage is not None


def test_koenigsteiner_shares_sum_exactly_to_one(store: Store) -> None:
    tables = koenigsteiner_tables()
    assert 2016 in tables
    assert tables[2016].status == "historical"
    assert sum(tables[2016].shares.values()) == 1
    import_areas(store, REGISTER)
    put(
        store,
        "r",
        [
            service(),
            agreement("16", AgreementState.CONTRACTED),
            agreement("160615001001", AgreementState.CONTRACTED),  # covered by the Land
            agreement("15001", AgreementState.CONTRACTED),
            agreement("12", AgreementState.INTERESTED),  # not a participant
        ],
    )
    split = service_costs(store, "anmeldung", koenigsteiner, name="koenigsteiner", year=2016)
    shares = {str(s.payer): s.share for s in split.shares}
    th, st = Fraction("2.69470"), Fraction("2.79941")
    assert shares == {"15": st / (th + st), "16": th / (th + st)}
    assert split.total == 1
    rounded = split.rounded(3)
    assert sum(r for _, r in rounded) == Decimal("1.000")
    with pytest.raises(CostError, match="no Königsteiner Schlüssel for 2031"):
        service_costs(store, "anmeldung", koenigsteiner, year=2031)


def test_per_capita_and_thueringen_pays_for_its_kommunen(store: Store) -> None:
    import_areas(store, REGISTER)
    put(
        store,
        "r",
        [
            service(),
            agreement("160615001001", AgreementState.CONTRACTED),
            agreement("160615001002", AgreementState.CONTRACTED),
            agreement("150010000000", AgreementState.CONTRACTED),
        ],
    )
    split = service_costs(store, "anmeldung", per_capita)
    assert {str(s.payer): s.share for s in split.shares} == {
        "150010000000": Fraction(80000, 83000),
        "160615001001": Fraction(1000, 83000),
        "160615001002": Fraction(2000, 83000),
    }
    paid = service_costs(store, "anmeldung", land_pays)
    assert {str(s.payer): s.share for s in paid.shares} == {
        "16": Fraction(3000, 83000),
        "150010000000": Fraction(80000, 83000),
    }
    th = next(s for s in paid.shares if str(s.payer) == "16")
    assert {str(a) for a in th.pays_for} == {"160615001001", "160615001002"}
    assert paid.total == 1
    both = service_costs(store, "anmeldung", land_pays, options={"paying_laender": ["TH", "ST"]})
    assert {str(s.payer) for s in both.shares} == {"15", "16"}


def test_rounding_keeps_the_sum_at_one(store: Store) -> None:
    import_areas(store, REGISTER)
    put(
        store,
        "r",
        [service()]
        + [
            agreement(a, AgreementState.CONTRACTED)
            for a in ("160615001001", "160615001002", "160550000000")
        ],
    )
    split = service_costs(store, "anmeldung", per_capita)
    for places in (0, 1, 2, 5):
        assert sum(r for _, r in split.rounded(places)) == 1


def test_costs_need_participants_and_population(store: Store) -> None:
    put(store, "r", [service()])
    with pytest.raises(CostError, match="no contracted participants"):
        service_costs(store, "anmeldung", per_capita)
    put(store, "r", [agreement("16", AgreementState.CONTRACTED)])
    with pytest.raises(CostError, match="has no population"):
        service_costs(store, "anmeldung", per_capita)
    with pytest.raises(CostError, match="sum to"):
        service_costs(store, "anmeldung", lambda ctx: [])
