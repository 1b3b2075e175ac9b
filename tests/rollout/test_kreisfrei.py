"""A kreisfreie Stadt is one area: its Kreis ARS and its Gemeinde ARS share one row."""

from __future__ import annotations

import os
from collections import defaultdict
from pathlib import Path

import pytest

from efa_core.areas import import_areas, read_register
from efa_core.connectors import Upsert
from efa_core.ids import Ars
from efa_core.model import AgreementState, Area, Stage
from efa_core.plugins import PluginRegistry
from efa_core.rollout import RolloutView, builtin_rules, coverage, run_findings
from efa_core.rollout.equivalence import (
    SortedRegister,
    coarser_readings,
    equivalence,
    zero_filled_gemeinde,
)
from efa_core.store import Store

from .helpers import NOW, REGISTER, agreement, availability, put, responsibility, route, service

WEIMAR_KREIS, WEIMAR = "16055", "160550000000"

# The Ilm-Kreis (a Landkreis) with three of its Gemeinden, for the "never collapse" tests.
ILM_KREIS = [
    Area(ars=Ars("16070"), name="Ilm-Kreis", area_type="Landkreis", parent=Ars("16")),
    Area(ars=Ars("160700004004"), name="Arnstadt, Stadt", parent=Ars("16070"), population=1),
    Area(ars=Ars("160700029029"), name="Ilmenau, Stadt", parent=Ars("16070"), population=1),
    Area(ars=Ars("160700048048"), name="Stadtilm, Stadt", parent=Ars("16070"), population=1),
]


def _rules() -> dict[str, object]:
    registry = PluginRegistry(bundled=(), entrypoints=False)
    registry.register(builtin_rules, name="efa_core.rollout.builtin_rules")
    return dict(registry.finding_rules())


def _findings(view: RolloutView, rule: str) -> set[str]:
    found = run_findings(view, _rules(), now=NOW, only=[rule])  # type: ignore[arg-type]
    return {str(f.area) for f in found}


def _stages(view: RolloutView, key: str = "anmeldung") -> dict[str, Stage]:
    return {str(r.ars): r.stage for r in view.rows(key)}


def _assert_incremental_equals_full(view: RolloutView) -> None:
    view.refresh()
    incremental = list(view.rows())
    view.derive()
    assert list(view.rows()) == incremental


# -- Weimar ---------------------------------------------------------------------------------


@pytest.mark.parametrize("with_register", [True, False], ids=["register", "no-register"])
@pytest.mark.parametrize(
    ("contract_at", "online_at"),
    [(WEIMAR, WEIMAR_KREIS), (WEIMAR_KREIS, WEIMAR)],
    ids=["contract-gemeinde", "contract-kreis"],
)
def test_weimar_is_one_area(
    store: Store, with_register: bool, contract_at: str, online_at: str
) -> None:
    if with_register:
        import_areas(store, REGISTER)
    put(store, "registry", [service(), agreement(contract_at, AgreementState.CONTRACTED)])
    put(store, "lrs", [responsibility(WEIMAR_KREIS)])
    put(store, "dashboard", [availability(online_at)])
    view = RolloutView(store)
    view.refresh()
    assert _stages(view) == {WEIMAR: Stage.LIVE}
    row = view.row("anmeldung", WEIMAR)
    assert row is not None
    assert row.agreement_state is AgreementState.CONTRACTED  # either form governs both
    assert [str(a) for a in row.aliases] == [WEIMAR_KREIS, "160550000"]
    # the evidence keeps the ARS its source named and says where it went
    online = row.evidence_for(Stage.LIVE)[0]
    assert online.ars == online_at
    assert online.area == WEIMAR
    assert online.mapped_to == (WEIMAR if online_at == WEIMAR_KREIS else None)
    # the Kreis form finds the same row and stage
    assert view.row("anmeldung", WEIMAR_KREIS) == row
    assert view.stage_at("anmeldung", WEIMAR_KREIS) is Stage.LIVE
    assert view.stage_at("anmeldung", "160550000") is Stage.LIVE
    assert _findings(view, "live-without-agreement") == set()
    # one Gemeinde reached, counted once
    report = coverage(view, "anmeldung", within="16055")
    assert report.total.reached[Stage.LIVE].gemeinden == 1


def test_without_register_the_kreis_alone_is_not_guessed(store: Store) -> None:
    # Nothing names the Gemeinde 160550000000: the Kreis form stays what it says.
    put(store, "registry", [service()])
    put(store, "dashboard", [availability(WEIMAR_KREIS)])
    view = RolloutView(store)
    view.refresh()
    assert _stages(view) == {WEIMAR_KREIS: Stage.LIVE}
    assert view.row("anmeldung", WEIMAR_KREIS).aliases == ()  # type: ignore[union-attr]
    # a real finding stays a finding
    assert _findings(view, "live-without-agreement") == {WEIMAR_KREIS}


def test_with_register_the_kreis_alone_maps_to_the_gemeinde(store: Store) -> None:
    import_areas(store, REGISTER)
    put(store, "registry", [service()])
    put(store, "dashboard", [availability(WEIMAR_KREIS)])
    view = RolloutView(store)
    view.refresh()
    assert _stages(view) == {WEIMAR: Stage.LIVE}
    # a real finding stays a finding, at the Gemeinde ARS
    assert _findings(view, "live-without-agreement") == {WEIMAR}
    assert _findings(view, "unknown-area") == set()


def test_real_findings_are_unchanged_for_the_pair(store: Store) -> None:
    import_areas(store, REGISTER)
    put(store, "registry", [service(), agreement(WEIMAR, AgreementState.TERMINATED)])
    put(store, "dashboard", [availability(WEIMAR_KREIS, online=False)])
    put(store, "lrs", [responsibility(WEIMAR_KREIS, target="S16_unknown")])
    view = RolloutView(store)
    view.refresh()
    assert _stages(view) == {WEIMAR: Stage.TERMINATED}
    assert _findings(view, "dashboard-offline") == {WEIMAR}
    assert _findings(view, "unknown-online-service") == {WEIMAR}
    # terminated, not published: no route is missing
    assert _findings(view, "published-without-route") == set()
    put(store, "registry", [agreement(WEIMAR, AgreementState.CONTRACTED)])
    view.refresh()
    assert _findings(view, "published-without-route") == {WEIMAR}
    put(store, "fit", [route(WEIMAR)])
    view.refresh()
    assert _findings(view, "published-without-route") == set()


# -- Landkreise and city-states ---------------------------------------------------------------


@pytest.mark.parametrize("with_register", [True, False], ids=["register", "no-register"])
def test_a_landkreis_is_never_collapsed(store: Store, with_register: bool) -> None:
    if with_register:
        import_areas(store, ILM_KREIS)
    put(store, "registry", [service(), agreement("16070", AgreementState.CONTRACTED)])
    # a bogus zero-filled "Gemeinde" 160700000000 (e.g. a misread padded Kreis) and a
    # real Gemeinde of the Kreis
    put(store, "dashboard", [availability("16070"), availability("160700000000")])
    put(store, "lrs", [responsibility("160700004004")])
    view = RolloutView(store)
    view.refresh()
    if with_register:
        # the register knows no Gemeinde 160700000000: it is the Kreis written zero-filled
        assert _stages(view) == {"16070": Stage.LIVE, "160700004004": Stage.LIVE}
        kreis = view.row("anmeldung", "16070")
        assert kreis is not None
        assert {e.mapped_to for e in kreis.evidence if e.ars == "160700000000"} == {"16070"}
    else:
        # without a register nothing is guessed: the key keeps its row and its readings
        assert _stages(view) == {
            "16070": Stage.LIVE,
            "160700000000": Stage.LIVE,
            "160700004004": Stage.LIVE,
        }
        bogus = view.row("anmeldung", "160700000000")
        assert bogus is not None
        assert bogus.readings == (Ars("16070"), Ars("160700000"))
    assert all(Ars("16070") not in r.aliases for r in view.rows())
    assert view.row("anmeldung", "16070").aliases == ()  # type: ignore[union-attr]
    # the Kreis row still covers every Gemeinde of the Kreis
    assert view.stage_at("anmeldung", "160700029029") is Stage.LIVE
    _assert_incremental_equals_full(view)


def test_a_landkreis_with_register_is_not_collapsed_by_a_bogus_gemeinde_alone(
    store: Store,
) -> None:
    # The evidence names only the Kreis and the bogus zero-filled Gemeinde: without a
    # register that would look like a kreisfreie Stadt, but the register knows better:
    # the key is the Kreis written zero-filled, so both are the Kreis's row.
    import_areas(store, ILM_KREIS)
    put(store, "registry", [service()])
    put(store, "dashboard", [availability("16070"), availability("160700000000")])
    view = RolloutView(store)
    view.refresh()
    assert set(_stages(view)) == {"16070"}
    assert view.row("anmeldung", "16070").aliases == ()  # type: ignore[union-attr]
    assert view.stage_at("anmeldung", "160700029029") is Stage.LIVE


def test_a_city_state_is_one_area_with_its_land(store: Store) -> None:
    # The dashboard connector reads Berlin's padded 110000000000 under scope "11" as the
    # Land; the agreement names the Gemeinde.
    put(store, "registry", [service(), agreement("110000000000", AgreementState.CONTRACTED)])
    put(store, "dashboard", [availability("11")])
    view = RolloutView(store)
    view.refresh()
    assert _stages(view) == {"110000000000": Stage.LIVE}
    row = view.row("anmeldung", "11")
    assert row is not None
    assert [str(a) for a in row.aliases] == ["11", "110", "11000", "110000000"]
    assert _findings(view, "live-without-agreement") == set()


# -- incremental ----------------------------------------------------------------------------


def test_a_change_at_either_form_re_derives_the_other(store: Store) -> None:
    put(store, "registry", [service(), agreement(WEIMAR, AgreementState.CONTRACTED)])
    view = RolloutView(store)
    view.refresh()
    put(store, "dashboard", [availability(WEIMAR_KREIS)])  # a change at 16055 ...
    stats = view.refresh()
    assert not stats.full
    assert _stages(view) == {WEIMAR: Stage.LIVE}  # ... re-derives 160550000000
    _assert_incremental_equals_full(view)
    # without the Gemeinde named (and no register) the forms fall apart again
    put(store, "registry", deletes=[("agreement", f"anmeldung@ars:{WEIMAR}")])
    view.refresh()
    assert _stages(view) == {WEIMAR_KREIS: Stage.LIVE}
    _assert_incremental_equals_full(view)
    # a change at the Gemeinde re-derives the Kreis form
    put(store, "registry", [agreement(WEIMAR, AgreementState.INTERESTED)])
    view.refresh()
    assert _stages(view) == {WEIMAR: Stage.LIVE}
    _assert_incremental_equals_full(view)


def test_scopes_for_changes_re_derive_the_pair(store: Store) -> None:
    put(store, "registry", [service(), agreement(WEIMAR_KREIS, AgreementState.CONTRACTED)])
    view = RolloutView(store)
    view.derive()
    assert _stages(view) == {WEIMAR_KREIS: Stage.CONTRACTED}
    online = availability(WEIMAR)
    put(store, "dashboard", [online])
    view.derive(view.scopes_for_changes("dashboard", [Upsert(online)]))
    assert _stages(view) == {WEIMAR: Stage.LIVE}
    incremental = list(view.rows())
    view.derive()
    assert list(view.rows()) == incremental


def test_a_register_import_re_derives_the_kreis_form(store: Store) -> None:
    put(store, "registry", [service()])
    put(store, "dashboard", [availability(WEIMAR_KREIS)])
    view = RolloutView(store)
    view.refresh()
    assert _stages(view) == {WEIMAR_KREIS: Stage.LIVE}
    import_areas(store, REGISTER)
    view.refresh()  # the first register decides every zero-filled key: derived in full
    assert _stages(view) == {WEIMAR: Stage.LIVE}
    _assert_incremental_equals_full(view)
    # a newer register with a second Gemeinde in the Kreis: no longer one area
    import_areas(store, [*REGISTER, Area(ars=Ars("160550000001"), name="X", population=1)])
    assert not view.refresh().full
    assert _stages(view) == {WEIMAR_KREIS: Stage.LIVE}
    _assert_incremental_equals_full(view)


def test_an_older_cache_layout_is_dropped_and_re_derived(store: Store) -> None:
    put(store, "registry", [service(), agreement(WEIMAR, AgreementState.CONTRACTED)])
    db = store.backend
    with store.transaction():
        db.execute(
            "CREATE TABLE rollout_rows (service_key TEXT NOT NULL, ars TEXT NOT NULL,"
            " stage TEXT NOT NULL, stage_rank INTEGER NOT NULL, agreement_state TEXT,"
            " agreement_since TEXT, flags INTEGER NOT NULL, evidence TEXT NOT NULL,"
            " PRIMARY KEY (service_key, ars))"
        )
        db.execute("CREATE TABLE rollout_state (name TEXT PRIMARY KEY, value TEXT NOT NULL)")
        db.execute("INSERT INTO rollout_state (name, value) VALUES ('history_id', '999999')")
        db.execute("INSERT INTO rollout_state (name, value) VALUES ('layout', '2')")
    view = RolloutView(store)
    assert not view.is_current
    assert view.refresh().full
    assert _stages(view) == {WEIMAR: Stage.CONTRACTED}


# -- the rule itself ---------------------------------------------------------------------------


def test_rule_helpers() -> None:
    assert zero_filled_gemeinde("16055") == WEIMAR
    assert zero_filled_gemeinde("160550000") == WEIMAR
    assert zero_filled_gemeinde(WEIMAR) == WEIMAR
    assert zero_filled_gemeinde("160700004") is None
    assert zero_filled_gemeinde("160700004004") is None
    assert coarser_readings(WEIMAR) == ("16055", "160550000")
    assert coarser_readings("020000000000") == ("02", "020", "02000", "020000000")
    register = sorted(a.natural_key for a in REGISTER if len(a.natural_key) == 12)
    same = equivalence(["16055", "16061", "160615001001"], SortedRegister(register))
    assert dict(same.canonical) == {"16055": WEIMAR}
    assert same("16061") == "16061"


REGISTER_NAME = "gemeindeverzeichnis-2020q4.csv"


def _real_register() -> Path:
    for parent in Path(__file__).resolve().parents:
        candidate = parent / "shared" / "data" / REGISTER_NAME
        if candidate.is_file():
            return candidate
    message = f"shared/data/{REGISTER_NAME} not found beside the repository"
    if os.environ.get("CI"):
        pytest.fail(message + " (CI must run the real-register tests)")
    pytest.skip(message)


def test_the_zero_fill_pattern_holds_in_the_real_register() -> None:
    """The no-register rule relies on this: see efa_core.rollout.equivalence."""
    areas = list(read_register(_real_register()))
    types = {a.natural_key: a.area_type for a in areas}
    gemeinden = sorted(a.natural_key for a in areas if len(a.natural_key) == 12)
    by_kreis: dict[str, list[str]] = defaultdict(list)
    by_land: dict[str, list[str]] = defaultdict(list)
    for g in gemeinden:
        by_kreis[g[:5]].append(g)
        by_land[g[:2]].append(g)
    zero_filled = [g for g in gemeinden if g.endswith("0000000")]
    assert len(zero_filled) == 107
    # each is the single Gemeinde of its Kreis, a kreisfreie Stadt or Stadtkreis ...
    for g in zero_filled:
        assert by_kreis[g[:5]] == [g], g
        assert types[g[:5]] in ("Kreisfreie Stadt", "Stadtkreis"), g
    # ... and every kreisfreie Stadt / Stadtkreis has exactly that Gemeinde
    kreisfrei = [
        k for k, t in types.items() if len(k) == 5 and t in ("Kreisfreie Stadt", "Stadtkreis")
    ]
    assert sorted(by_kreis[k][0] for k in kreisfrei) == zero_filled
    # the Stadtstaaten with one Gemeinde are their Land zero-filled (Bremen has two)
    city_states = [g for g in zero_filled if g.endswith("0000000000")]
    assert city_states == ["020000000000", "110000000000"]
    for g in city_states:
        assert by_land[g[:2]] == [g]
    assert len(by_land["04"]) == 2
    # on the real register, the register rule collapses a Kreis or Land exactly where the
    # pattern rule would (its zero-filled Gemeinde exists): Weimar and Berlin, not Thüringen
    for area in sorted({g[:5] for g in gemeinden} | {g[:2] for g in gemeinden}):
        gemeinde = area.ljust(12, "0")
        same = equivalence([area, gemeinde], SortedRegister(gemeinden))
        assert (area in same.canonical) is (gemeinde in gemeinden), area
    assert {"16055", "11", "02", "11000"} <= set(
        equivalence(
            ["16055", WEIMAR, "11", "110000000000", "02", "020000000000", "11000", "16"],
            SortedRegister(gemeinden),
        ).canonical
    )
