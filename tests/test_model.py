"""Tests for efa_core.model: invariants, vocabularies, ordering, lifecycle, natural keys."""

from __future__ import annotations

import itertools
import uuid
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from efa_core.errors import IllegalTransition
from efa_core.ids import Ars, ArsLevel, Land, LeikaKey, OzgId
from efa_core.model import (
    AGREEMENT_TRANSITIONS,
    RECORD_TYPES,
    Agreement,
    AgreementState,
    Area,
    Availability,
    Coverage,
    InvalidField,
    Maturity,
    MaturityModel,
    Note,
    OnboardingItem,
    OrganisationUnit,
    Provider,
    ProviderKind,
    Record,
    Responsibility,
    ReuseChannel,
    RolloutPlan,
    Route,
    Service,
    Stage,
    Subscriber,
    SubscriberKind,
    TargetKind,
    Themenfeld,
    Transition,
    Usage,
    Wave,
    XZuFiObject,
)
from strategies import aware_datetimes, records, stages

UTC = timezone.utc
T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
WOHNSITZ = LeikaKey("99115005104000")
WEIMAR = Ars("160550000000")


def make_service(**changes: object) -> Service:
    fields: dict[str, object] = {
        "key": "wohnsitz-anmeldung",
        "name": "Wohnsitz anmelden",
        "leika_keys": (WOHNSITZ,),
    }
    fields.update(changes)
    return Service(**fields)  # type: ignore[arg-type]


def weimar() -> Subscriber:
    return Subscriber(subscriber_kind=SubscriberKind.GEMEINDE, name="Weimar", ars=WEIMAR)


def agreement(state: AgreementState = AgreementState.INTERESTED, **changes: object) -> Agreement:
    fields: dict[str, object] = {
        "service_key": "wohnsitz-anmeldung",
        "subscriber": weimar(),
        "state": state,
    }
    fields.update(changes)
    return Agreement(**fields)  # type: ignore[arg-type]


# -- records in general ----------------------------------------------------------------------


def test_record_types_map_every_kind_to_its_class() -> None:
    assert dict(RECORD_TYPES) == {
        "service": Service,
        "provider": Provider,
        "subscriber": Subscriber,
        "agreement": Agreement,
        "responsibility": Responsibility,
        "route": Route,
        "availability": Availability,
        "area": Area,
        "note": Note,
        "organisation-unit": OrganisationUnit,
        "xzufi-object": XZuFiObject,
        "rollout-plan": RolloutPlan,
        "plan-wave": Wave,
        "onboarding-item": OnboardingItem,
        "usage": Usage,
    }
    assert set(Record.__args__) == set(RECORD_TYPES.values())


@pytest.mark.parametrize("cls", list(RECORD_TYPES.values()))
def test_records_are_frozen_kw_only_and_have_no_kind_field(cls: type) -> None:
    fields = attrs.fields(cls)
    assert all(field.kw_only for field in fields)
    assert "kind" not in {field.name for field in fields}  # reserved for record_to_dict
    with pytest.raises(TypeError):
        cls("positional")


def test_records_cannot_be_mutated() -> None:
    service = make_service()
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        service.name = "x"  # type: ignore[misc]


@given(records())
def test_every_record_is_hashable_and_equal_to_its_evolved_copy(record: Record) -> None:
    copy = attrs.evolve(record)
    assert copy == record
    assert hash(copy) == hash(record)


@given(records(), aware_datetimes)
def test_natural_key_does_not_depend_on_provenance(record: Record, when: datetime) -> None:
    assert attrs.evolve(record, modified_at=when).natural_key == record.natural_key


def test_collections_become_tuples() -> None:
    service = make_service(leika_keys=[WOHNSITZ], ozg_ids=[OzgId("10000")])
    assert service.leika_keys == (WOHNSITZ,)
    assert service.ozg_ids == (OzgId("10000"),)
    hash(service)


def test_a_str_is_not_a_collection() -> None:
    with pytest.raises(TypeError, match="expected a collection, got str '99115005104000'"):
        make_service(leika_keys="99115005104000")


# -- invariants, with the exact messages ---------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"leika_keys": ()}, "Service.leika_keys: needs at least one entry"),
        (
            {"leika_keys": (WOHNSITZ, LeikaKey("99115005104001"), WOHNSITZ)},
            "Service.leika_keys: duplicate entries: 99115005104000",
        ),
        ({"name": "  "}, "Service.name: must not be empty"),
        ({"name": None}, "Service.name: must be a str, not NoneType"),
        ({"key": ""}, "Service.key: must not be empty"),
        ({"key": " x"}, "Service.key: must not have surrounding whitespace: ' x'"),
        ({"url": "www.example.de"}, "Service.url: 'www.example.de' is not an absolute http(s) URL"),
        (
            {"url": "https://example.de/a b"},
            "Service.url: 'https://example.de/a b' is not an absolute http(s) URL",
        ),
        ({"url": "https://"}, "Service.url: 'https://' is not an absolute http(s) URL"),
        (
            {"modified_at": datetime(2024, 5, 1, 12, 0)},
            "Service.modified_at: naive datetime '2024-05-01T12:00:00' has no timezone; "
            "give an offset such as +00:00",
        ),
        (
            {"reuse_channels": (ReuseChannel.FIT_STORE, ReuseChannel.FIT_STORE)},
            "Service.reuse_channels: duplicate entries: ReuseChannel.FIT_STORE",
        ),
        (
            {"onlinedienst_ids": ("S16_OD-1", "S16_OD-1")},
            "Service.onlinedienst_ids: duplicate entries: S16_OD-1",
        ),
        (
            {"onlinedienst_ids": ("S16_OD-1", " ")},
            "Service.onlinedienst_ids: ' ' is not an identifier (a non-blank str)",
        ),
        (
            {"offer_ids": (" FS-1",)},
            "Service.offer_ids: ' FS-1' is not an identifier (a non-blank str)",
        ),
    ],
)
def test_service_invariants(changes: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidField) as info:
        make_service(**changes)
    assert str(info.value) == message
    assert isinstance(info.value, ValueError)
    assert info.value.record == "Service"
    assert info.value.field == message.split(":")[0].split(".")[1]


def test_valid_urls_are_accepted() -> None:
    assert make_service(url="HTTPS://Example.de/x?y=1").url == "HTTPS://Example.de/x?y=1"
    assert make_service(url="http://x.de").url == "http://x.de"


def test_subscriber_needs_ars_or_organisation_id() -> None:
    with pytest.raises(
        InvalidField, match=r"^Subscriber\.ars: a gemeinde subscriber needs an ARS$"
    ):
        Subscriber(subscriber_kind=SubscriberKind.GEMEINDE, name="Weimar")
    with pytest.raises(
        InvalidField,
        match=r"^Subscriber\.organisation_id: an organisation subscriber needs an id$",
    ):
        Subscriber(subscriber_kind=SubscriberKind.ORGANISATION, name="KTZ")


def test_area_parent_must_be_a_proper_prefix() -> None:
    area = Area(ars=WEIMAR, name="Weimar", parent=Ars("16055"), population=65_000)
    assert area.level is ArsLevel.GEMEINDE
    assert area.natural_key == "160550000000"
    with pytest.raises(
        InvalidField,
        match=r"^Area\.parent: 16056 is not a proper prefix of the area's ARS 160550000000$",
    ):
        Area(ars=WEIMAR, name="Weimar", parent=Ars("16056"))
    with pytest.raises(InvalidField, match=r"^Area\.parent: 16055 is not a proper prefix"):
        Area(ars=Ars("16055"), name="Weimar", parent=Ars("16055"))


def test_area_population_must_not_be_negative() -> None:
    with pytest.raises(
        InvalidField, match=r"^Area\.population: must be a non-negative integer, got -1$"
    ):
        Area(ars=WEIMAR, name="Weimar", population=-1)


def test_route_destination_must_be_a_uuid() -> None:
    with pytest.raises(InvalidField, match=r"^Route\.destination_id: must be a UUID, not str$"):
        Route(leika_key=WOHNSITZ, ars=WEIMAR, destination_id="abc")  # type: ignore[arg-type]


def test_an_aware_datetime_in_any_offset_is_accepted() -> None:
    cet = timezone(timedelta(hours=2))
    assert make_service(modified_at=datetime(2024, 5, 1, 14, tzinfo=cet)).modified_at == T0


# -- vocabularies -----------------------------------------------------------------------------


def test_themenfelder_are_the_fourteen_fim_slugs() -> None:
    assert [t.value for t in Themenfeld] == [
        "arbeit_ruhestand",
        "bauen_wohnen",
        "bildung",
        "ein_auswanderung",
        "engagement_hobby",
        "familie_kind",
        "forschung_foerderung",
        "gesundheit",
        "mobilitaet_reisen",
        "querschnittsleistungen",
        "recht_ordnung",
        "steuern_zoll",
        "umwelt",
        "unternehmensfuehrung_entwicklung",
    ]
    assert all(t.label for t in Themenfeld)
    assert len({t.label for t in Themenfeld}) == 14
    assert Themenfeld.FORSCHUNG_FOERDERUNG.label == "Forschung & Förderung"


@pytest.mark.parametrize(
    "text", ["mobilitaet_reisen", " Mobilität & Reisen ", "MOBILITAET_REISEN", "mobilität & reisen"]
)
def test_themenfeld_parse(text: str) -> None:
    assert Themenfeld.parse(text) is Themenfeld.MOBILITAET_REISEN


def test_themenfeld_parse_rejects_unknown_text_listing_the_slugs() -> None:
    with pytest.raises(
        ValueError, match=r"^'Sport' is not a valid Themenfeld; expected one of: arbeit_ruhestand, "
    ):
        Themenfeld.parse("Sport")


@pytest.mark.parametrize(
    ("text", "coverage"),
    [
        ("bundesweit flächendeckend", Coverage.BUNDESWEIT),
        ("landesweit flächendeckend", Coverage.LANDESWEIT),
        ("kreisweit flächendeckend", Coverage.KREISWEIT),
        ("in mind. einer Kommune verfügbar", Coverage.KOMMUNE),
        ("in mindestens einer Kommune verfügbar", Coverage.KOMMUNE),
        ("nicht in Auswertung berücksichtigt", Coverage.NICHT_BERUECKSICHTIGT),
        ("kreisweit", Coverage.KREISWEIT),
    ],
)
def test_coverage_parses_the_dashboard_vocabulary(text: str, coverage: Coverage) -> None:
    assert Coverage.parse(text) is coverage


def test_target_kind_mirrors_xzufi_scheme_ids() -> None:
    assert TargetKind.ONLINEDIENST.scheme_id == "ZustaendigkeitOnlinedienst"
    assert TargetKind.from_scheme_id("ZustaendigkeitOrganisationseinheit") is (
        TargetKind.ORGANISATIONSEINHEIT
    )
    with pytest.raises(ValueError, match="unknown Zuständigkeit schemeID 'Zustaendigkeit'"):
        TargetKind.from_scheme_id("Zustaendigkeit")


# -- maturity ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "levels"), [(MaturityModel.V1_1, range(5)), (MaturityModel.V2_0, range(8))]
)
def test_maturity_levels_per_model(model: MaturityModel, levels: range) -> None:
    for level in levels:
        assert Maturity(model=model, level=level).level == level


@pytest.mark.parametrize(
    ("model", "level", "message"),
    [
        (
            MaturityModel.V1_1,
            5,
            "Maturity.level: level 5 does not exist in maturity model 1.1; its levels are 0-4",
        ),
        (
            MaturityModel.V2_0,
            8,
            "Maturity.level: level 8 does not exist in maturity model 2.0; its levels are 0-7",
        ),
        (
            MaturityModel.V1_1,
            -1,
            "Maturity.level: level -1 does not exist in maturity model 1.1; its levels are 0-4",
        ),
        (MaturityModel.V2_0, True, "Maturity.level: must be an int, not bool"),
    ],
)
def test_invalid_maturity_combinations(model: MaturityModel, level: int, message: str) -> None:
    with pytest.raises(InvalidField) as info:
        Maturity(model=model, level=level)
    assert str(info.value) == message


def test_maturity_labels_and_compliance() -> None:
    assert Maturity(model=MaturityModel.V1_1, level=3).label == "Online-Leistung"
    assert Maturity(model=MaturityModel.V1_1, level=3).ozg_compliant is True
    assert Maturity(model=MaturityModel.V1_1, level=2).ozg_compliant is False
    assert Maturity(model=MaturityModel.V2_0, level=6).label is None
    assert Maturity(model=MaturityModel.V2_0, level=6).ozg_compliant is None


def test_maturity_orders_within_a_model_only() -> None:
    low = Maturity(model=MaturityModel.V1_1, level=2)
    high = Maturity(model=MaturityModel.V1_1, level=4)
    assert low < high
    assert high >= low
    assert max(low, high) is high
    other = Maturity(model=MaturityModel.V2_0, level=1)
    with pytest.raises(TypeError, match=r"^cannot compare maturity levels of model 1\.1 and 2\.0$"):
        _ = low < other
    assert low != Maturity(model=MaturityModel.V2_0, level=2)


# -- stage ------------------------------------------------------------------------------------


def test_stage_order_is_the_funnel_with_terminated_lowest() -> None:
    assert sorted(Stage, reverse=True) == [
        Stage.LIVE,
        Stage.ROUTABLE,
        Stage.PUBLISHED,
        Stage.CONTRACTED,
        Stage.INTERESTED,
        Stage.OFFERED,
        Stage.TERMINATED,
    ]
    assert Stage.OFFERED < Stage.INTERESTED < Stage.CONTRACTED < Stage.PUBLISHED
    assert Stage.PUBLISHED < Stage.ROUTABLE < Stage.LIVE
    assert not Stage.TERMINATED >= Stage.CONTRACTED
    assert max(Stage.TERMINATED, Stage.OFFERED) is Stage.OFFERED
    assert [s.rank for s in Stage] == list(range(7))


@given(stages, stages, stages)
def test_stage_comparisons_are_a_total_order(a: Stage, b: Stage, c: Stage) -> None:
    assert (a < b) + (a == b) + (a > b) == 1
    assert (a <= b) == (a < b or a == b)
    assert (a >= b) == (b <= a)
    if a <= b and b <= c:
        assert a <= c


def test_stage_does_not_compare_with_other_types() -> None:
    with pytest.raises(TypeError):
        _ = Stage.LIVE < "live"
    assert not isinstance(Stage.LIVE, str)


def test_agreement_states_map_to_stages() -> None:
    assert AgreementState.NEGOTIATING.stage is Stage.INTERESTED
    assert AgreementState.CONTRACTED.stage is Stage.CONTRACTED
    assert AgreementState.TERMINATED.stage is Stage.TERMINATED
    assert AgreementState.WITHDRAWN.stage is None


# -- agreement lifecycle ----------------------------------------------------------------------

LEGAL = {
    ("interested", "negotiating"),
    ("interested", "contracted"),
    ("interested", "declined"),
    ("interested", "withdrawn"),
    ("negotiating", "contracted"),
    ("negotiating", "declined"),
    ("negotiating", "withdrawn"),
    ("contracted", "terminated"),
}


def test_transition_table_is_the_documented_one() -> None:
    table = {
        (source.value, target.value)
        for source, targets in AGREEMENT_TRANSITIONS.items()
        for target in targets
    }
    assert table == LEGAL
    assert {s for s in AgreementState if s.is_final} == {
        AgreementState.TERMINATED,
        AgreementState.DECLINED,
        AgreementState.WITHDRAWN,
    }


@pytest.mark.parametrize(
    ("current", "target"), list(itertools.product(AgreementState, AgreementState))
)
def test_every_pair_of_states(current: AgreementState, target: AgreementState) -> None:
    before = agreement(current)
    if (current.value, target.value) in LEGAL:
        after, entry = before.transition(target, at=T0, source="fit-store")
        assert after.state is target
        assert after.state_since == T0
        assert entry == Transition(from_=current, to=target, at=T0, source="fit-store")
        assert before.state is current  # unchanged
    else:
        with pytest.raises(IllegalTransition) as info:
            before.transition(target, at=T0)
        assert info.value.current == current.value
        assert info.value.target == target.value
        assert info.value.allowed == tuple(s.value for s in AGREEMENT_TRANSITIONS[current])


@pytest.mark.parametrize(
    ("current", "target", "message"),
    [
        (
            AgreementState.CONTRACTED,
            "interested",
            "agreement 'wohnsitz-anmeldung@ars:160550000000' cannot go from 'contracted' to "
            "'interested'; allowed from 'contracted': terminated",
        ),
        (
            AgreementState.INTERESTED,
            "terminated",
            "agreement 'wohnsitz-anmeldung@ars:160550000000' cannot go from 'interested' to "
            "'terminated'; allowed from 'interested': negotiating, contracted, declined, withdrawn",
        ),
        (
            AgreementState.NEGOTIATING,
            "negotiating",
            "agreement 'wohnsitz-anmeldung@ars:160550000000' cannot go from 'negotiating' to "
            "'negotiating'; allowed from 'negotiating': contracted, declined, withdrawn",
        ),
        (
            AgreementState.WITHDRAWN,
            "interested",
            "agreement 'wohnsitz-anmeldung@ars:160550000000' cannot go from 'withdrawn' to "
            "'interested'; allowed from 'withdrawn': none (final state)",
        ),
        (
            AgreementState.TERMINATED,
            "contracted",
            "agreement 'wohnsitz-anmeldung@ars:160550000000' cannot go from 'terminated' to "
            "'contracted'; allowed from 'terminated': none (final state)",
        ),
    ],
)
def test_illegal_transition_messages(current: AgreementState, target: str, message: str) -> None:
    with pytest.raises(IllegalTransition) as info:
        agreement(current).transition(target, at=T0)
    assert str(info.value) == message


def test_a_full_lifecycle_keeps_its_history() -> None:
    current = agreement()
    history = []
    for step, target in enumerate(["negotiating", "contracted", "terminated"]):
        current, entry = current.transition(target, at=T0 + timedelta(days=step), source="user")
        history.append(entry)
    assert current.state is AgreementState.TERMINATED
    assert [(e.from_.value, e.to.value) for e in history] == [
        ("interested", "negotiating"),
        ("negotiating", "contracted"),
        ("contracted", "terminated"),
    ]
    assert current.state_since == T0 + timedelta(days=2)


def test_transition_rejects_an_unknown_state_name() -> None:
    with pytest.raises(ValueError, match=r"^'signed' is not an agreement state; expected one of: "):
        agreement().transition("signed", at=T0)


def test_transition_rejects_naive_and_backdated_times() -> None:
    with pytest.raises(InvalidField, match=r"^Transition\.at: naive datetime"):
        agreement().transition("contracted", at=datetime(2024, 5, 1))
    since = agreement(state_since=T0)
    with pytest.raises(InvalidField) as info:
        since.transition("contracted", at=T0 - timedelta(seconds=1))
    assert str(info.value) == (
        "Transition.at: 2024-05-01T11:59:59+00:00 is before 2024-05-01T12:00:00+00:00, when "
        "the agreement entered 'interested'"
    )
    assert since.transition("contracted", at=T0)[0].state is AgreementState.CONTRACTED


def test_transition_keeps_the_source_provenance() -> None:
    before = agreement(modified_at=T0)
    after, _ = before.transition(AgreementState.CONTRACTED, at=T0 + timedelta(days=1))
    assert after.modified_at == T0


# -- natural keys -----------------------------------------------------------------------------


def test_natural_keys() -> None:
    assert make_service().natural_key == "wohnsitz-anmeldung"
    assert (
        Provider(key="dataport", name="Dataport", provider_kind=ProviderKind.IT_DIENSTLEISTER)
    ).natural_key == "dataport"
    assert weimar().natural_key == "ars:160550000000"
    ktz = Subscriber(
        subscriber_kind=SubscriberKind.ORGANISATION,
        name="KTZ",
        organisation_id="ktz",
        ars=Ars("16"),
    )
    assert ktz.natural_key == "org:ktz"
    assert agreement().natural_key == "wohnsitz-anmeldung@ars:160550000000"
    assert (
        agreement(subscriber=ktz, reference="IB-2024-17").natural_key
        == "wohnsitz-anmeldung@org:ktz#IB-2024-17"
    )
    without_id = Responsibility(
        leika_key=WOHNSITZ,
        ars=Ars("16055"),
        target_kind=TargetKind.ONLINEDIENST,
        target_id="S16000_4711",
    )
    assert without_id.natural_key == "99115005104000@16055->onlinedienst:S16000_4711"
    with_id = attrs.evolve(without_id, responsibility_id="S16000_ZustaendigkeitOnlinedienst_9")
    assert with_id.natural_key == "S16000_ZustaendigkeitOnlinedienst_9"
    destination = uuid.UUID("a1b2c3d4-0000-4000-8000-000000000001")
    route = Route(leika_key=WOHNSITZ, ars=Ars("16055"), destination_id=destination)
    assert route.natural_key == "99115005104000@16055->a1b2c3d4-0000-4000-8000-000000000001"
    row = Availability(leika_key=WOHNSITZ, ars=WEIMAR, coverage=Coverage.LANDESWEIT)
    assert row.natural_key == "99115005104000@160550000000"
    assert (
        attrs.evolve(row, url="https://th.de/ummelden").natural_key
        == "99115005104000@160550000000->https://th.de/ummelden"
    )
    assert Area(ars=Ars("16"), name="Thüringen").natural_key == "16"
    assert Note(key="2024-05-12-kickoff", text="Kickoff").natural_key == "2024-05-12-kickoff"
    unit = OrganisationUnit(key="S16000_Organisationseinheit_OE-1", name="Bürgeramt")
    assert unit.natural_key == "S16000_Organisationseinheit_OE-1"
    raw = XZuFiObject(object_class="spezialisierung", object_id="S16000_Sp_SP:1", xml="<s/>")
    assert raw.natural_key == "spezialisierung:S16000_Sp_SP:1"


def test_service_keeps_land_and_maturity() -> None:
    service = make_service(
        land=Land.TH, maturity=Maturity(model=MaturityModel.V1_1, level=3), themenfeld=None
    )
    assert service.land is Land.TH
    assert service.maturity is not None
    assert service.maturity.ozg_compliant


@given(st.sampled_from(list(AgreementState)))
def test_allowed_targets_match_the_table(state: AgreementState) -> None:
    assert state.allowed_targets == AGREEMENT_TRANSITIONS[state]
    assert state.is_final == (not AGREEMENT_TRANSITIONS[state])


# -- fields and kinds added later -------------------------------------------------------------


def test_new_fields_default_so_existing_records_stay_valid() -> None:
    service = make_service()
    assert (service.price_model, service.price) == (None, None)
    route = Route(leika_key=WOHNSITZ, ars=Ars("16055"), destination_id=uuid.uuid4())
    assert (route.signed_areas, route.signed_leika_keys, route.signature_verified) == ((), (), None)


def test_service_price_is_an_exact_decimal() -> None:
    service = make_service(price_model="je Fall", price=Decimal("0.10"))
    assert service.price == Decimal("0.10")
    assert make_service(price=Decimal("0")).price == 0


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"price": 0.1},
            "Service.price: must be a Decimal such as Decimal('12.50'), not float "
            "(a float cannot hold an exact price)",
        ),
        ({"price": "12.50"}, "Service.price: must be a Decimal such as Decimal('12.50'), not str"),
        ({"price": Decimal("-1")}, "Service.price: must not be negative, got -1"),
        ({"price": Decimal("NaN")}, "Service.price: must be a finite number, got NaN"),
        ({"price": Decimal("Infinity")}, "Service.price: must be a finite number, got Infinity"),
        ({"price_model": " "}, "Service.price_model: must not be empty"),
    ],
)
def test_price_invariants(changes: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidField) as info:
        make_service(**changes)
    assert str(info.value) == message


def test_route_signature_evidence_invariants() -> None:
    route = Route(
        leika_key=WOHNSITZ,
        ars=Ars("16055"),
        destination_id=uuid.uuid4(),
        signed_areas=[Ars("16055"), Ars("16")],
        signed_leika_keys=[WOHNSITZ],
        signature_verified=False,
    )
    assert route.signed_areas == (Ars("16055"), Ars("16"))  # a list becomes a tuple
    assert route.signed_leika_keys == (WOHNSITZ,)
    hash(route)
    with pytest.raises(InvalidField, match=r"^Route\.signed_areas: duplicate entries: 16$"):
        attrs.evolve(route, signed_areas=(Ars("16"), Ars("16")))
    with pytest.raises(InvalidField, match=r"^Route\.signed_leika_keys: duplicate entries"):
        attrs.evolve(route, signed_leika_keys=(WOHNSITZ, WOHNSITZ))
    with pytest.raises(
        InvalidField, match=r"^Route\.signature_verified: must be true, false or None"
    ):
        attrs.evolve(route, signature_verified="yes")


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Note(key="k", text="  "), "Note.text: must not be empty"),
        (lambda: Note(key=" k", text="x"), "Note.key: must not have surrounding whitespace: ' k'"),
        (
            lambda: Note(key="k", text="x", on=datetime(2024, 5, 12)),
            "Note.on: naive datetime '2024-05-12T00:00:00' has no timezone; "
            "give an offset such as +00:00",
        ),
        (lambda: Note(key="k", text="x", subscriber=""), "Note.subscriber: must not be empty"),
        (lambda: Note(key="k", text="x", author=" "), "Note.author: must not be empty"),
        (
            lambda: OrganisationUnit(key="S_OE_1", name=""),
            "OrganisationUnit.name: must not be empty",
        ),
        (
            lambda: XZuFiObject(object_class="xzufi:leistung", object_id="S_L_1", xml="<a/>"),
            "XZuFiObject.object_class: must be an XML local name without ':' or spaces: "
            "'xzufi:leistung'",
        ),
        (
            lambda: XZuFiObject(object_class="leistung", object_id="S_L_1", xml="leistung"),
            "XZuFiObject.xml: must be an XML element (start with '<')",
        ),
        (
            lambda: XZuFiObject(
                object_class="leistung", object_id="S_L_1", xml="<a>" + "x" * (1 << 20) + "</a>"
            ),
            "XZuFiObject.xml: has 1048583 characters, more than the 1048576 a record may hold",
        ),
    ],
)
def test_new_record_invariants(build: object, message: str) -> None:
    with pytest.raises(InvalidField) as info:
        build()  # type: ignore[operator]
    assert str(info.value) == message


def test_raw_xml_stays_out_of_the_repr() -> None:
    raw = XZuFiObject(object_class="leistung", object_id="S_L_1", xml="<leistung>big</leistung>")
    assert "big" not in repr(raw)
    assert "S_L_1" in repr(raw)
