from __future__ import annotations

import os
import tempfile

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from efa_core.connectors import Delete, Upsert
from efa_core.ids import Ars
from efa_core.model import AgreementState, Area, Stage
from efa_core.rollout import RolloutView, Scope
from efa_core.store import Store, open_store

from .helpers import (
    L1,
    L2,
    REGISTER,
    agreement,
    availability,
    put,
    responsibility,
    route,
    service,
)


def test_every_stage_with_its_evidence(store: Store) -> None:
    put(store, "registry", [service()])
    put(
        store,
        "registry",
        [
            agreement("160615001001", AgreementState.INTERESTED),
            agreement("16", AgreementState.CONTRACTED),
            agreement("15", AgreementState.TERMINATED),
        ],
    )
    put(store, "pvog", [responsibility("16061"), responsibility("16055")])
    put(store, "fitconnect", [route("16055")])
    put(store, "dashboard", [availability("160550000000")])
    view = RolloutView(store)
    view.derive()
    stages = {str(r.ars): r.stage for r in view.rows("anmeldung")}
    # the Kreis form 16055 (responsibility, route) and the Gemeinde form of the kreisfreie
    # Stadt Weimar (dashboard) are one area: one row, at the Gemeinde ARS
    assert stages == {
        "15": Stage.TERMINATED,
        "16": Stage.CONTRACTED,
        "16061": Stage.PUBLISHED,
        "160550000000": Stage.LIVE,
        "160615001001": Stage.PUBLISHED,
    }
    # areas without their own row
    assert view.stage_at("anmeldung", "160615001002") is Stage.PUBLISHED  # Kreis covers Gemeinde
    assert view.stage_at("anmeldung", "16") is Stage.CONTRACTED
    assert view.stage_at("anmeldung", "12") is Stage.OFFERED
    assert view.stage_at("nope", "16") is None
    live = view.row("anmeldung", "160550000000")
    assert live is not None
    assert {(e.stage, e.source, e.kind) for e in live.evidence} == {
        (Stage.OFFERED, "registry", "service"),
        (Stage.CONTRACTED, "registry", "agreement"),
        (Stage.PUBLISHED, "pvog", "responsibility"),
        (Stage.ROUTABLE, "fitconnect", "route"),
        (Stage.LIVE, "dashboard", "availability"),
    }
    assert all(e.at is not None for e in live.evidence)
    assert live.evidence_for(Stage.CONTRACTED)[0].natural_key == "anmeldung@ars:16"
    interested = view.row("anmeldung", "160615001001")
    assert interested is not None
    assert interested.agreement_state is AgreementState.INTERESTED  # narrower agreement governs


def test_offered_only_and_unknown_service_agreements(store: Store) -> None:
    put(
        store,
        "registry",
        [service(), agreement("16", AgreementState.CONTRACTED, service_key="ghost")],
    )
    view = RolloutView(store)
    view.derive()
    assert list(view.rows()) == []
    assert view.stage_at("anmeldung", "160550000000") is Stage.OFFERED


def test_land_agreement_covers_municipalities_unless_narrower_says_otherwise(store: Store) -> None:
    put(
        store,
        "registry",
        [
            service(),
            agreement("16", AgreementState.CONTRACTED),
            agreement("160615001002", AgreementState.WITHDRAWN),
            agreement("16055", AgreementState.TERMINATED),
        ],
    )
    view = RolloutView(store)
    view.derive()
    assert view.stage_at("anmeldung", "160615001001") is Stage.CONTRACTED
    assert view.stage_at("anmeldung", "160615001002") is Stage.OFFERED
    assert view.stage_at("anmeldung", "160550000000") is Stage.TERMINATED


def test_kreis_responsibility_covers_gemeinden_and_other_leika_keys_count(store: Store) -> None:
    put(store, "registry", [service("anmeldung", L1, L2)])
    put(store, "pvog", [responsibility("16061", L2)])
    view = RolloutView(store)
    view.derive()
    for gemeinde in ("160615001001", "160615001002"):
        assert view.stage_at("anmeldung", gemeinde) is Stage.PUBLISHED
    assert view.stage_at("anmeldung", "160550000000") is Stage.OFFERED


def test_offline_dashboard_row_is_contrary_evidence(store: Store) -> None:
    put(store, "registry", [service()])
    put(store, "dashboard", [availability("16055", online=False)])
    view = RolloutView(store)
    view.derive()
    row = view.row("anmeldung", "16055")
    assert row is not None
    assert row.stage is Stage.OFFERED
    assert row.offline
    assert row.evidence_for(None)[0].detail == "offline"


def test_refresh_follows_history_and_equals_full(store: Store) -> None:
    put(store, "registry", [service(), agreement("16", AgreementState.CONTRACTED)])
    view = RolloutView(store)
    view.derive()
    assert view.is_current
    put(store, "pvog", [responsibility("160615001001")])
    put(store, "registry", [agreement("16", AgreementState.TERMINATED)])
    assert not view.is_current
    stats = view.refresh()
    assert not stats.full
    incremental = list(view.rows())
    assert view.is_current
    view.derive()
    assert list(view.rows()) == incremental
    assert {str(r.ars): r.stage for r in incremental} == {
        "16": Stage.TERMINATED,
        "160615001001": Stage.TERMINATED,
    }


def test_scopes_for_changes_include_old_locations(store: Store) -> None:
    put(store, "registry", [service()])
    moving = responsibility("160615001001")
    moving = type(moving)(
        leika_key=L1,
        ars=Ars("160615001001"),
        target_kind=moving.target_kind,
        target_id="anmeldung",
        responsibility_id="S16_1",
    )
    put(store, "pvog", [moving])
    view = RolloutView(store)
    view.derive()
    moved = type(moving)(
        leika_key=L1,
        ars=Ars("160550000000"),
        target_kind=moving.target_kind,
        target_id="anmeldung",
        responsibility_id="S16_1",
    )
    put(store, "pvog", [moved])
    scopes = view.scopes_for_changes("pvog", [Upsert(moved)])
    assert scopes == {
        Scope(service_key="anmeldung", ars="160615001001"),
        Scope(service_key="anmeldung", ars="160550000000"),
    }
    view.derive(scopes)
    assert [str(r.ars) for r in view.rows()] == ["160550000000"]
    put(store, "pvog", deletes=[("responsibility", "S16_1")])
    scopes = view.scopes_for_changes("pvog", [Delete("responsibility", "S16_1")])
    view.derive(scopes)
    assert list(view.rows()) == []


# -- incremental == full (property) ---------------------------------------------------------

# kreisfreie Städte (Weimar, Dessau), a Landkreis, a bogus zero-filled Gemeinde of it,
# Berlin (a city-state) and a Gemeinde that makes Weimar's Kreis a two-Gemeinden one
_AREAS = [a.natural_key for a in REGISTER] + [
    "160615002003",
    "160610000000",
    "11",
    "11000",
    "110000000000",
    "160550000001",
]
_SERVICES = ["anmeldung", "hund"]
_REGISTER_AREAS = [*REGISTER, *(Area(ars=Ars(a), name=a) for a in _AREAS[-5:] if len(a) == 12)]


def _record(draw: st.DrawFn) -> object:
    kind = draw(
        st.sampled_from(["agreement", "responsibility", "route", "availability", "service", "area"])
    )
    if kind == "area":
        return draw(st.sampled_from(_REGISTER_AREAS))
    ars = draw(st.sampled_from(_AREAS))
    leika = draw(st.sampled_from([L1, L2]))
    if kind == "agreement":
        return agreement(
            ars,
            draw(st.sampled_from(list(AgreementState))),
            service_key=draw(st.sampled_from(_SERVICES)),
        )
    if kind == "responsibility":
        return responsibility(ars, leika, target=draw(st.sampled_from(["anmeldung", "x"])))
    if kind == "route":
        return route(ars, leika)
    if kind == "availability":
        return availability(ars, leika, online=draw(st.booleans()))
    keys = draw(st.sampled_from([(L1,), (L2,), (L1, L2)]))
    return service(draw(st.sampled_from(_SERVICES)), *keys)


records = st.composite(_record)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    before=st.lists(records(), max_size=25),
    after=st.lists(records(), max_size=10),
    delete_count=st.integers(min_value=0, max_value=6),
)
def test_incremental_equals_full(
    before: list[object], after: list[object], delete_count: int
) -> None:
    with (
        tempfile.TemporaryDirectory() as tmp,
        open_store(f"sqlite:///{os.path.join(tmp, 'e.db')}") as store,
    ):
        put(store, "a", [service("anmeldung")])
        unique = {(r.KIND, r.natural_key): r for r in before}  # type: ignore[attr-defined]
        put(store, "b", list(unique.values()))
        view = RolloutView(store)
        view.derive()
        changed = {(r.KIND, r.natural_key): r for r in after}  # type: ignore[attr-defined]
        deletes = [k for k in unique if k not in changed][:delete_count]
        put(store, "b", list(changed.values()), deletes=deletes)
        view.refresh()
        incremental = list(view.rows())
        view.derive()
        assert list(view.rows()) == incremental
