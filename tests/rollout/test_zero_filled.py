"""Zero-filled keys of coarser areas (``160740000000`` = Kreis 16074) as PVOG writes them."""

from __future__ import annotations

from efa_core.areas import import_areas
from efa_core.ids import Ars
from efa_core.model import Area, Stage
from efa_core.rollout import RolloutView, builtin_rules, coverage, run_findings
from efa_core.rollout.equivalence import SortedRegister, zero_filled_area
from efa_core.store import Store

from .helpers import NOW, german, put, responsibility, service

# The Saale-Holzland-Kreis (a Landkreis) with three Gemeinden, Weimar (kreisfrei), the Land
SAALE_HOLZLAND = [
    Area(ars=Ars("16"), name="Thüringen", population=1000 + 2000 + 3000 + 65000),
    Area(ars=Ars("16074"), name="Saale-Holzland-Kreis", parent=Ars("16"), population=6000),
    Area(ars=Ars("160745001"), name="VG", parent=Ars("16074"), population=6000),
    Area(ars=Ars("160745001001"), name="A", parent=Ars("160745001"), population=1000),
    Area(ars=Ars("160745001002"), name="B", parent=Ars("160745001"), population=2000),
    Area(ars=Ars("160745001003"), name="C", parent=Ars("160745001"), population=3000),
    Area(ars=Ars("16055"), name="Weimar", parent=Ars("16"), population=65000),
    Area(ars=Ars("160550000000"), name="Weimar, Stadt", parent=Ars("16055"), population=65000),
]
KREIS_ZEROS, LAND_ZEROS, WEIMAR = "160740000000", "160000000000", "160550000000"


def test_the_rule() -> None:
    register = SortedRegister(sorted(a.natural_key for a in SAALE_HOLZLAND))
    assert zero_filled_area(KREIS_ZEROS, register) == "16074"
    assert zero_filled_area(LAND_ZEROS, register) == "16"
    assert zero_filled_area(WEIMAR, register) is None  # a Gemeinde of the register
    assert zero_filled_area("160745001001", register) is None  # not zero-filled
    assert zero_filled_area("150740000000", register) is None  # nothing known
    assert zero_filled_area(KREIS_ZEROS, SortedRegister(())) is None  # no register


def test_with_a_register_a_zero_filled_kreis_is_the_kreis(store: Store) -> None:
    import_areas(store, SAALE_HOLZLAND)
    put(store, "registry", [service()])
    put(store, "pvog", [responsibility(KREIS_ZEROS), responsibility(WEIMAR)])
    view = RolloutView(store)
    view.refresh()
    assert {str(r.ars): r.stage for r in view.rows()} == {
        "16074": Stage.PUBLISHED,
        WEIMAR: Stage.PUBLISHED,  # the kreisfreie Stadt keeps its register-checked rule
    }
    kreis = view.row("anmeldung", "16074")
    assert kreis is not None
    (evidence,) = [e for e in kreis.evidence if e.kind == "responsibility"]
    assert (evidence.ars, evidence.mapped_to) == (KREIS_ZEROS, "16074")  # as the source wrote it
    # coverage counts the Kreis's Gemeinden
    total = coverage(view, "anmeldung", within="16074").total
    assert total.reached[Stage.PUBLISHED].gemeinden == 3
    assert total.reached[Stage.PUBLISHED].population == 6000
    assert view.stage_at("anmeldung", "160745001002") is Stage.PUBLISHED


def test_a_zero_filled_land_is_the_land(store: Store) -> None:
    import_areas(store, SAALE_HOLZLAND)
    put(store, "registry", [service()])
    put(store, "pvog", [responsibility(LAND_ZEROS)])
    view = RolloutView(store)
    view.refresh()
    assert [str(r.ars) for r in view.rows()] == ["16"]
    assert coverage(view, "anmeldung", within="16").total.reached[Stage.PUBLISHED].gemeinden == 4


def test_without_a_register_the_ambiguity_is_recorded_then_resolved(store: Store) -> None:
    put(store, "registry", [service()])
    put(store, "pvog", [responsibility(KREIS_ZEROS)])
    view = RolloutView(store)
    view.refresh()
    (row,) = view.rows()
    assert str(row.ars) == KREIS_ZEROS  # not guessed
    assert row.readings == (Ars("16074"), Ars("160740000"))
    (finding,) = run_findings(view, {"u": builtin_rules.unresolved_area}, now=NOW)
    assert "import the register" in finding.message
    assert german(finding).startswith(
        f"{KREIS_ZEROS} endet auf Nullen: eine Gemeinde oder das Gebiet 16074 oder 160740000,"
    )
    assert coverage(view, "anmeldung").total.gemeinden == 1  # only what the sources name
    # the register arrives: a re-derive decides it, nothing is synced again
    import_areas(store, SAALE_HOLZLAND)
    view.refresh()
    (row,) = view.rows()
    assert (str(row.ars), row.readings) == ("16074", ())
    assert list(run_findings(view, {"u": builtin_rules.unresolved_area}, now=NOW)) == []
    assert coverage(view, "anmeldung").total.reached[Stage.PUBLISHED].gemeinden == 3
    incremental = list(view.rows())
    view.derive()
    assert list(view.rows()) == incremental


def test_a_new_kreis_in_the_register_moves_its_zero_filled_rows(store: Store) -> None:
    import_areas(store, [a for a in SAALE_HOLZLAND if not a.natural_key.startswith("16074")])
    put(store, "registry", [service()])
    put(store, "pvog", [responsibility(KREIS_ZEROS)])
    view = RolloutView(store)
    view.refresh()
    assert [str(r.ars) for r in view.rows()] == [KREIS_ZEROS]  # the register does not know it
    import_areas(store, SAALE_HOLZLAND)
    assert not view.refresh().full
    assert [str(r.ars) for r in view.rows()] == ["16074"]
    incremental = list(view.rows())
    view.derive()
    assert list(view.rows()) == incremental
