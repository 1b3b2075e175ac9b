"""Progress against plan: automatic ticks, manual ticks, waves and their targets, forecast."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import attrs
import pytest

from efa_core.i18n import Translator
from efa_core.model import AgreementState, ItemState, Stage
from efa_core.rollout.planning import PlanError, plan_status
from efa_core.store import Store
from rollout.helpers import L1, L2, agreement, availability, put, responsibility, route, service

from .helpers import (
    ADORF,
    ARNSTADT,
    BDORF,
    ELGERSBURG,
    ILM_KREIS,
    ILMENAU,
    TODAY,
    WEIMAR,
    base_plan,
    fresh_view,
    setup,
)


def at(when: date) -> datetime:
    return datetime(when.year, when.month, when.day, 9, tzinfo=timezone.utc)


def cell_of(status, ars: str, service_key: str = "anmeldung"):
    for wave in status.waves:
        for cell in wave.cells:
            if cell.ars == ars and cell.service_key == service_key:
                return cell
    raise AssertionError(f"no cell {service_key} × {ars}")


def items(cell) -> dict[str, object]:
    return {i.item.key: i for i in cell.items()}


# -- automatic ticks, one per kind of evidence ---------------------------------------------------


@pytest.mark.parametrize(
    ("records", "ticked", "stage"),
    [
        (
            [agreement(WEIMAR, AgreementState.INTERESTED, since=at(date(2025, 1, 3)))],
            {"interest": date(2025, 1, 3)},
            Stage.INTERESTED,
        ),
        (
            [agreement(WEIMAR, AgreementState.CONTRACTED, since=at(date(2025, 2, 1)))],
            {"interest": date(2025, 2, 1), "contract": date(2025, 2, 1)},
            Stage.CONTRACTED,
        ),
        (
            [attrs.evolve(responsibility(WEIMAR), modified_at=at(date(2025, 2, 10)))],
            {"zustaendigkeit": date(2025, 2, 10)},
            Stage.PUBLISHED,
        ),
        (
            [attrs.evolve(route(WEIMAR), modified_at=at(date(2025, 2, 20)))],
            {"destination": date(2025, 2, 20), "transport": date(2025, 2, 20)},
            Stage.ROUTABLE,
        ),
        (
            [attrs.evolve(availability(WEIMAR), modified_at=at(date(2025, 3, 1)))],
            {"go-live": date(2025, 3, 1)},
            Stage.LIVE,
        ),
    ],
    ids=["interest", "contract", "responsibility", "route", "dashboard"],
)
def test_each_kind_of_evidence_ticks_its_item(store: Store, records, ticked, stage) -> None:
    setup(store, service(), *records, plan=base_plan())
    status = plan_status(fresh_view(store), base_plan(), today=TODAY)
    cell = cell_of(status, WEIMAR)
    assert cell.stage is stage
    found = items(cell)
    done = {k: i.on for k, i in found.items() if i.state is ItemState.DONE}
    assert done == ticked
    for key in ticked:
        assert found[key].ticked_by == "evidence"
        assert found[key].evidence, key
        assert all(e.area == WEIMAR for e in found[key].evidence)
    # the other Gemeinde of the wave has none of it
    assert cell_of(status, ADORF).done == 0


def test_evidence_of_a_containing_area_ticks_the_gemeinden(store: Store) -> None:
    setup(
        store,
        service(),
        agreement("16", AgreementState.CONTRACTED),
        responsibility(ILM_KREIS),
        plan=base_plan(),
    )
    status = plan_status(fresh_view(store), base_plan(), today=TODAY)
    for ars in (ARNSTADT, ILMENAU, ELGERSBURG):
        found = items(cell_of(status, ars))
        assert found["contract"].state is ItemState.DONE
        assert found["contract"].evidence[0].ars == "16"
        assert found["zustaendigkeit"].state is ItemState.DONE
    assert items(cell_of(status, ADORF))["zustaendigkeit"].state is ItemState.OPEN


def test_a_route_makes_osci_items_not_applicable_and_osci_the_reverse(store: Store) -> None:
    plan = base_plan().tick("anmeldung", ADORF, "transport", value="osci-xta")
    setup(store, service(), route(WEIMAR), plan=plan)
    status = plan_status(fresh_view(store), plan, today=TODAY)
    weimar, adorf = items(cell_of(status, WEIMAR)), items(cell_of(status, ADORF))
    assert weimar["transport"].state is ItemState.DONE
    assert weimar["dvdv"].state is ItemState.NOT_APPLICABLE
    assert weimar["destination"].state is ItemState.DONE
    assert adorf["transport"].ticked_by == "manual"
    assert adorf["dvdv"].state is ItemState.OPEN
    assert adorf["destination"].state is ItemState.NOT_APPLICABLE
    assert adorf["payment"].state is ItemState.NOT_APPLICABLE  # the service charges no fees


# -- manual ticks --------------------------------------------------------------------------------


def test_a_manual_tick_counts_and_one_the_sources_contradict_is_flagged(store: Store) -> None:
    plan = (
        base_plan()
        .tick("anmeldung", WEIMAR, "destination", on=date(2025, 2, 1), by="Frau M.")
        .tick("anmeldung", ADORF, "destination", on=date(2025, 2, 2))
        .tick("anmeldung", ADORF, "fachverfahren", ItemState.IN_PROGRESS, on=date(2025, 2, 3))
    )
    # a route exists for another area: the routing source is synced, and says nothing for Weimar
    setup(store, service(), route(ARNSTADT), plan=plan)
    status = plan_status(fresh_view(store), plan, today=TODAY)
    weimar = items(cell_of(status, WEIMAR))["destination"]
    assert weimar.state is ItemState.DONE
    assert weimar.ticked_by == "manual"
    assert weimar.manual is not None
    assert weimar.manual.by == "Frau M."
    assert weimar.contradiction == f"no FIT-Connect route exists for {WEIMAR}"
    adorf = cell_of(status, ADORF)
    assert items(adorf)["fachverfahren"].state is ItemState.IN_PROGRESS
    assert adorf.last_change == date(2025, 2, 3)
    assert adorf.contradictions  # also no route there


def test_no_contradiction_while_no_source_of_that_kind_is_synced(store: Store) -> None:
    plan = base_plan().tick("anmeldung", WEIMAR, "destination")
    setup(store, service(), plan=plan)  # no route anywhere: routing is not synced
    cell = cell_of(plan_status(fresh_view(store), plan, today=TODAY), WEIMAR)
    assert cell.contradictions == ()
    assert items(cell)["destination"].state is ItemState.DONE


@pytest.mark.parametrize(
    ("record", "item", "why"),
    [
        (agreement(WEIMAR, AgreementState.WITHDRAWN), "interest", "the interest was withdrawn"),
        (agreement(WEIMAR, AgreementState.TERMINATED), "contract", "the contract was terminated"),
        (
            agreement(WEIMAR, AgreementState.INTERESTED),
            "contract",
            "the agreement is interested, not contracted",
        ),
        (
            availability(WEIMAR, online=False),
            "go-live",
            "the OZG-Dashboard says it is offline",
        ),
    ],
)
def test_contrary_evidence_contradicts_a_manual_tick(
    store: Store, record, item: str, why: str
) -> None:
    plan = base_plan().tick("anmeldung", WEIMAR, item, on=date(2025, 2, 1))
    setup(store, service(), record, plan=plan)
    cell = cell_of(plan_status(fresh_view(store), plan, today=TODAY), WEIMAR)
    assert items(cell)[item].contradiction == why
    assert not cell.live


def test_an_item_recorded_for_a_kreis_applies_to_its_gemeinden_unless_they_have_their_own(
    store: Store,
) -> None:
    plan = (
        base_plan()
        .tick("anmeldung", ILM_KREIS, "contacts", on=date(2025, 4, 2))
        .tick("anmeldung", ILMENAU, "contacts", ItemState.IN_PROGRESS)
    )
    setup(store, service(), plan=plan)
    status = plan_status(fresh_view(store), plan, today=TODAY)
    assert items(cell_of(status, ARNSTADT))["contacts"].state is ItemState.DONE
    assert items(cell_of(status, ARNSTADT))["contacts"].on == date(2025, 4, 2)
    assert items(cell_of(status, ILMENAU))["contacts"].state is ItemState.IN_PROGRESS


def test_a_manual_go_live_counts_as_live_unless_contradicted(store: Store, tmp_path) -> None:
    plan = (
        base_plan()
        .tick("anmeldung", WEIMAR, "go-live", on=date(2025, 3, 1))
        .tick("anmeldung", ADORF, "go-live", on=date(2025, 3, 2))
    )
    setup(store, service(), plan=plan)  # no dashboard synced: nothing contradicts
    status = plan_status(fresh_view(store), plan, today=TODAY)
    assert cell_of(status, WEIMAR).live
    assert cell_of(status, WEIMAR).live_on == date(2025, 3, 1)
    put(store, "ev", [availability(ADORF, online=False)])
    status = plan_status(fresh_view(store), plan, today=TODAY)
    adorf, weimar = cell_of(status, ADORF), cell_of(status, WEIMAR)
    assert not adorf.live
    assert items(adorf)["go-live"].contradiction == "the OZG-Dashboard says it is offline"
    # the dashboard is synced now and does not list Weimar as online either
    assert not weimar.live
    assert items(weimar)["go-live"].contradiction == (
        f"the OZG-Dashboard does not show it online in {WEIMAR}"
    )


# -- waves and their targets -----------------------------------------------------------------------


def test_kreis_and_land_targets_mean_every_gemeinde_inside(store: Store) -> None:
    plan = base_plan().with_wave("Rest", ["16"], target_golive=date(2026, 6, 30))
    setup(store, service(), plan=plan)
    status = plan_status(fresh_view(store), plan, today=TODAY)
    assert [c.ars for c in status.wave("Welle 2").cells] == [ARNSTADT, ILMENAU, ELGERSBURG]
    # a municipality belongs to the first wave that targets it
    assert [c.ars for c in status.wave("Rest").cells] == [BDORF]
    assert [c.ars for c in status.wave("Pilot").cells] == [WEIMAR, ADORF]
    wave2 = status.wave("Welle 2").progress
    assert wave2.target.municipalities == 3
    assert wave2.target.population == 7000


def test_without_a_register_a_target_is_its_own_unit(store: Store) -> None:
    setup(store, service(), responsibility(ILM_KREIS), plan=base_plan(), register=False)
    status = plan_status(fresh_view(store), base_plan(), today=TODAY)
    assert [c.ars for c in status.wave("Welle 2").cells] == [ILM_KREIS]
    assert status.wave("Welle 2").cells[0].stage is Stage.PUBLISHED


def test_progress_counts_municipalities_and_population_per_stage(store: Store) -> None:
    plan = base_plan(services=("anmeldung", "hund"))
    setup(
        store,
        service(),
        service("hund", L2),
        agreement(WEIMAR, AgreementState.CONTRACTED),
        agreement(WEIMAR, AgreementState.CONTRACTED, service_key="hund"),
        availability(WEIMAR),
        plan=plan,
    )
    status = plan_status(fresh_view(store), plan, today=TODAY)
    pilot = status.wave("Pilot")
    assert pilot.by_service["anmeldung"].reached[Stage.LIVE].municipalities == 1
    assert pilot.by_service["anmeldung"].reached[Stage.LIVE].population == 65000
    # the hund service is only contracted in Weimar: the wave counts Weimar as contracted
    assert pilot.progress.reached[Stage.CONTRACTED].municipalities == 1
    assert pilot.progress.reached[Stage.LIVE].municipalities == 0
    assert pilot.progress.target.population == 66000
    # the pilot's target go-live (31 March) has passed: every cell not live is behind
    assert {(c.service_key, c.ars) for c in pilot.behind} == {
        ("hund", WEIMAR),
        ("anmeldung", ADORF),
        ("hund", ADORF),
    }
    assert pilot.progress.behind == 2
    assert status.wave("Welle 2").behind == ()
    assert 0 < pilot.progress.completeness < 1


def test_blockers_are_the_first_open_items_of_unfinished_cells(store: Store) -> None:
    plan = base_plan().tick("anmeldung", ADORF, "interest").tick("anmeldung", BDORF, "interest")
    setup(store, service(), agreement(ILM_KREIS, AgreementState.CONTRACTED), plan=plan)
    status = plan_status(fresh_view(store), plan, today=TODAY)
    first = {b.item.key: b.next_for for b in status.wave("Welle 2").blockers}
    assert first["transport"] == 3  # interest and contract come from the Kreis's contract
    assert first.get("interest", 0) == 0
    pilot = {b.item.key: b.next_for for b in status.wave("Pilot").blockers}
    assert pilot == {"interest": 1, "contract": 1} | {
        k: 0 for k in pilot if k not in ("interest", "contract")
    }
    assert status.blockers[0].item.key == "transport"


def test_outside_plan_lists_contracted_rows_no_wave_targets(store: Store) -> None:
    setup(
        store,
        service(),
        agreement(BDORF, AgreementState.CONTRACTED),
        agreement("16061", AgreementState.INTERESTED),
        availability("150010000000"),  # another Land: not this plan's business
        agreement("16", AgreementState.CONTRACTED),  # contains the targets: in the plan
        plan=base_plan(),
    )
    status = plan_status(fresh_view(store), base_plan(), today=TODAY)
    assert [(o.ars, o.stage) for o in status.outside] == [(BDORF, Stage.CONTRACTED)]


def test_only_the_asked_waves_and_services(store: Store) -> None:
    plan = base_plan(services=("anmeldung", "hund"))
    setup(store, service(), service("hund"), plan=plan)
    status = plan_status(fresh_view(store), plan, today=TODAY, waves=["Welle 2"])
    assert [w.name for w in status.waves] == ["Welle 2"]
    status = plan_status(fresh_view(store), plan, today=TODAY, services=["hund"])
    assert {c.service_key for w in status.waves for c in w.cells} == {"hund"}
    with pytest.raises(PlanError, match="no wave 'Welle 9'; waves: 'Pilot', 'Welle 2'"):
        plan_status(fresh_view(store), plan, today=TODAY, waves=["Welle 9"])


# -- the forecast on a synthetic history ---------------------------------------------------------


def test_forecast_from_the_observed_pace_of_a_synthetic_history(store: Store) -> None:
    """One Gemeinde goes live every 7 days: the forecast extrapolates that pace."""
    start = date(2025, 3, 3)
    gemeinden = [f"1606150010{n:02d}" for n in range(10, 30)]  # 20 Gemeinden
    plan = base_plan().with_wave("Takt", gemeinden, target_golive=date(2025, 12, 31))
    live = [
        attrs.evolve(availability(ars), modified_at=at(start + timedelta(days=7 * i)))
        for i, ars in enumerate(gemeinden[:10])
    ]
    setup(store, service(), *live, plan=plan, register=False)
    today = start + timedelta(days=63)  # the day of the tenth go-live
    status = plan_status(fresh_view(store), plan, today=today)
    result = status.wave("Takt").forecast
    assert (result.total, result.done, result.remaining) == (20, 10, 10)
    assert result.pace_per_week == pytest.approx(1.0)
    assert result.completion == today + timedelta(days=70)
    # a month later without a go-live, the pace of the last 90 days is lower
    later = plan_status(fresh_view(store), plan, today=today + timedelta(days=30)).wave("Takt")
    assert later.forecast.pace_per_week is not None
    assert later.forecast.pace_per_week < 1.0
    assert later.forecast.completion is not None
    assert later.forecast.completion > today + timedelta(days=100)
    # nothing in the window: no forecast, and the reason
    stale = plan_status(fresh_view(store), plan, today=today + timedelta(days=200)).wave("Takt")
    assert stale.forecast.completion is None
    assert stale.forecast.reason == "no go-live in the last 90 days"
    assert stale.forecast.reason_text is not None
    german = Translator("de").render(stale.forecast.reason_text)
    assert german == "kein Go-Live in den letzten 90 Tagen"
    assert result.reason_text is None  # a forecast needs no reason


# -- attribution: only evidence of the right offer ticks -----------------------------------------


def test_ticks_come_from_evidence_attributed_to_the_offer(store: Store) -> None:
    from efa_core.model import Service

    def offer(key: str, *ids: str, leika=L1) -> Service:
        return Service(key=key, name=key, leika_keys=[leika], onlinedienst_ids=list(ids))

    plan = (
        base_plan(services=("wohngeld-th", "anmeldung-c"))
        .tick("wohngeld-th", ADORF, "zustaendigkeit", on=date(2025, 2, 1))
        .tick("anmeldung-c", WEIMAR, "zustaendigkeit", on=date(2025, 2, 1))
    )
    setup(
        store,
        offer("wohngeld-th", "S16000_Onlinedienst_WG"),
        offer("wohngeld-sh", "S01000_Onlinedienst_WG"),
        offer("anmeldung-c", leika=L2),
        offer("anmeldung-d", leika=L2),
        # Weimar publishes Schleswig-Holstein's offer: not evidence for Thüringen's
        responsibility(WEIMAR, target="S01000_Onlinedienst_WG"),
        # Adorf uses a solution of its own: it contradicts the manual tick
        responsibility(ADORF, target="S16000_Onlinedienst_EIGEN"),
        # two offers without ids share L2: Weimar's Zuständigkeit could be either
        responsibility(WEIMAR, L2, target="X"),
        plan=plan,
    )
    status = plan_status(fresh_view(store), plan, today=TODAY)
    weimar = items(cell_of(status, WEIMAR, "wohngeld-th"))["zustaendigkeit"]
    assert weimar.state is ItemState.OPEN
    adorf = items(cell_of(status, ADORF, "wohngeld-th"))["zustaendigkeit"]
    assert adorf.ticked_by == "manual"
    assert adorf.contradiction == "the Zuständigkeit there points to another solution"
    unsure = items(cell_of(status, WEIMAR, "anmeldung-c"))["zustaendigkeit"]
    assert unsure.ticked_by == "manual"  # the ambiguous Zuständigkeit ticks nothing ...
    assert unsure.contradiction is None  # ... and contradicts nothing


def test_cells_sharing_their_evidence_pattern_are_each_what_compute_cell_says(
    store: Store,
) -> None:
    from efa_core.rollout.planning.evidence import observed_kinds, row_ticks
    from efa_core.rollout.planning.progress import compute_cell

    plan = (
        base_plan()
        .tick("anmeldung", ADORF, "transport", value="osci-xta", on=date(2025, 1, 20))
        .tick("anmeldung", ELGERSBURG, "destination", on=date(2025, 2, 2))
    )
    day = at(date(2025, 2, 1))
    setup(
        store,
        service(),
        agreement(ILM_KREIS, AgreementState.CONTRACTED, since=day),  # the same for three
        agreement(WEIMAR, AgreementState.CONTRACTED, since=day),
        attrs.evolve(route(ARNSTADT), modified_at=day + timedelta(days=3)),
        attrs.evolve(route(WEIMAR), modified_at=day),  # Weimar and Arnstadt: one pattern
        attrs.evolve(availability(ILMENAU, online=False), modified_at=day),
        plan=plan,
    )
    view = fresh_view(store)
    status = plan_status(view, plan, today=TODAY)
    rows = list(view.rows("anmeldung"))
    by_ars = {str(r.ars): r for r in rows}
    cells = [c for w in status.waves for c in w.cells]
    assert len(cells) == 5
    for cell in cells:
        row = by_ars.get(cell.ars) or by_ars.get(cell.ars[:5])
        manual = {i.item: i for i in plan.items if str(i.ars) == cell.ars}
        assert cell == compute_cell(
            wave=cell.wave,
            service_key="anmeldung",
            ars=cell.ars,
            population=cell.population,
            checklist=plan.checklist("anmeldung"),
            row=row,
            ticks=row_ticks(row),
            manual=manual,
            fees=False,
            observed=observed_kinds(rows),
        ), cell.ars
    weimar, arnstadt = cell_of(status, WEIMAR), cell_of(status, ARNSTADT)
    assert weimar.states == arnstadt.states
    assert weimar.dates != arnstadt.dates  # ... each with its own dates
    assert cell_of(status, ELGERSBURG).contradictions  # its manual tick: no route there
    adorf = {i.item.key: i.state for i in cell_of(status, ADORF).items()}
    assert adorf["destination"] is ItemState.NOT_APPLICABLE  # OSCI/XTA chosen by hand
