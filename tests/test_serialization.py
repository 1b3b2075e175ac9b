"""Tests for efa_core.serialization: round trips, canonical output, error messages, hashing."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import uuid
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import attrs
import orjson
import pytest
from hypothesis import given

from efa_core.errors import ValidationError
from efa_core.ids import Ars, Land, LeikaKey, OzgId
from efa_core.model import (
    RECORD_TYPES,
    Agreement,
    AgreementState,
    Area,
    Availability,
    Coverage,
    Maturity,
    MaturityModel,
    Note,
    OrganisationUnit,
    Record,
    Responsibility,
    ReuseChannel,
    Route,
    Service,
    Subscriber,
    SubscriberKind,
    TargetKind,
    Themenfeld,
    Transition,
    XZuFiObject,
)
from efa_core.secret import MASK, Secret
from efa_core.serialization import (
    content_hash,
    from_json,
    record_from_dict,
    record_to_dict,
    structure,
    to_json,
    unstructure,
)
from strategies import RECORD_STRATEGIES, records, transitions

UTC = timezone.utc
T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)

SERVICE = Service(
    key="wohnsitz-anmeldung",
    name="Wohnsitz anmelden",
    leika_keys=(LeikaKey("99115005104000"), LeikaKey("99115005104001")),
    ozg_ids=(OzgId("10000"),),
    themenfeld=Themenfeld.BAUEN_WOHNEN,
    land=Land.HH,
    operator="dataport",
    maturity=Maturity(model=MaturityModel.V1_1, level=3),
    url="https://serviceportal.example.de/wohnsitz",
    reuse_channels=(ReuseChannel.FIT_STORE,),
    modified_at=datetime(2024, 5, 1, 14, 30, tzinfo=timezone(timedelta(hours=2))),
)

SERVICE_DICT: dict[str, Any] = {
    "key": "wohnsitz-anmeldung",
    "name": "Wohnsitz anmelden",
    "leika_keys": ["99115005104000", "99115005104001"],
    "ozg_ids": ["10000"],
    "themenfeld": "bauen_wohnen",
    "land": "02",
    "operator": "dataport",
    "maturity": {"model": "1.1", "level": 3},
    "url": "https://serviceportal.example.de/wohnsitz",
    "onlinedienst_ids": [],
    "offer_ids": [],
    "reuse_channels": ["fit_store"],
    "price_model": None,
    "price": None,
    "modified_at": "2024-05-01T14:30:00+02:00",
}

#: SERVICE as stored before ``price_model``, ``price`` and the identifiers existed.
OLD_SERVICE_DICT: dict[str, Any] = {
    key: value
    for key, value in SERVICE_DICT.items()
    if key not in ("price_model", "price", "onlinedienst_ids", "offer_ids")
}


def problems_of(data: Any, cls: Any = Service, **kwargs: Any) -> list[tuple[str, str]]:
    with pytest.raises(ValidationError) as info:
        structure(data, cls, **kwargs)
    return list(info.value.problems)


def _assert_json_ready(value: Any) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            assert isinstance(key, str)
            _assert_json_ready(item)
    elif isinstance(value, list):
        for item in value:
            _assert_json_ready(item)
    else:
        assert value is None or type(value) in (str, int, float, bool), repr(value)


# -- round trips --------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(RECORD_STRATEGIES))
def test_round_trip_every_record_type(kind: str) -> None:
    @given(RECORD_STRATEGIES[kind])
    def check(record: Record) -> None:
        cls = type(record)
        assert cls is RECORD_TYPES[kind]
        assert from_json(to_json(record), cls) == record
        plain = unstructure(record)
        _assert_json_ready(plain)
        assert structure(plain, cls) == record
        as_dict = record_to_dict(record)
        assert as_dict["kind"] == kind
        assert record_from_dict(as_dict) == record
        # the JSON of the plain form is what to_json writes
        assert orjson.loads(to_json(record)) == plain
        assert content_hash(record_from_dict(orjson.loads(orjson.dumps(as_dict)))) == content_hash(
            record
        )

    check()


@given(transitions())
def test_round_trip_transitions(entry: Transition) -> None:
    plain = unstructure(entry)
    assert set(plain) == {"from", "to", "at", "source"}
    assert structure(plain, Transition) == entry


@given(records())
def test_structure_accepts_its_own_output_as_a_tuple_of_records(record: Record) -> None:
    cls = type(record)
    assert structure([unstructure(record)], tuple[cls, ...]) == (record,)  # type: ignore[valid-type]


# -- canonical output -----------------------------------------------------------------------------


def test_service_serializes_to_canonical_plain_data() -> None:
    assert unstructure(SERVICE) == SERVICE_DICT
    assert record_to_dict(SERVICE) == {"kind": "service", **SERVICE_DICT}
    assert next(iter(record_to_dict(SERVICE))) == "kind"
    assert json.loads(to_json(SERVICE)) == SERVICE_DICT


def test_other_records_serialize_identifiers_uuids_and_enums_as_strings() -> None:
    route = Route(
        leika_key=LeikaKey("99115005104000"),
        ars=Ars("16055"),
        destination_id=uuid.UUID("A1B2C3D4-0000-4000-8000-000000000001"),
    )
    assert unstructure(route) == {
        "leika_key": "99115005104000",
        "ars": "16055",
        "destination_id": "a1b2c3d4-0000-4000-8000-000000000001",
        "name": None,
        "origin": None,
        "signed_areas": [],
        "signed_leika_keys": [],
        "signature_verified": None,
        "signed_at": None,
        "submission_host": None,
        "privacy_policy_url": None,
        "imprint_url": None,
        "accessibility_url": None,
        "contact_form_url": None,
        "contacts": [],
        "addresses": [],
        "processing_duration": None,
        "modified_at": None,
    }
    row = Availability(
        leika_key=LeikaKey("99115005104000"),
        ars=Ars("160550000000"),
        online=True,
        coverage=Coverage.KOMMUNE,
        ozg_id=OzgId("10000"),
    )
    assert unstructure(row)["coverage"] == "kommune"
    assert unstructure(row)["online"] is True
    assert unstructure(row)["ozg_id"] == "10000"
    agreement = Agreement(
        service_key="x",
        subscriber=Subscriber(subscriber_kind=SubscriberKind.LAND, name="Thüringen", ars=Ars("16")),
        state=AgreementState.CONTRACTED,
        state_since=T0,
    )
    assert unstructure(agreement) == {
        "service_key": "x",
        "subscriber": {
            "subscriber_kind": "land",
            "name": "Thüringen",
            "ars": "16",
            "organisation_id": None,
            "modified_at": None,
        },
        "state": "contracted",
        "state_since": "2024-05-01T12:00:00+00:00",
        "channel": None,
        "reference": None,
        "modified_at": None,
    }


def test_input_may_use_urns_whitespace_z_and_int_ozg_ids() -> None:
    data = dict(
        SERVICE_DICT,
        leika_keys=["urn:de:fim:leika:leistung:99115005104000", " 99115005104001 "],
        ozg_ids=[10000],
        land="02",
        modified_at="2024-05-01T12:30:00Z",
    )
    service = structure(data, Service)
    assert service == SERVICE
    assert unstructure(service)["leika_keys"] == SERVICE_DICT["leika_keys"]
    assert unstructure(service)["modified_at"] == "2024-05-01T12:30:00+00:00"


def test_transition_uses_from_as_key() -> None:
    entry = Transition(
        from_=AgreementState.INTERESTED, to=AgreementState.CONTRACTED, at=T0, source="fit-store"
    )
    assert to_json(entry) == (
        b'{"from":"interested","to":"contracted","at":"2024-05-01T12:00:00+00:00",'
        b'"source":"fit-store"}'
    )
    assert problems_of({"to": "contracted", "at": "2024-05-01T12:00:00+00:00"}, Transition) == [
        ("$.from", "required field missing")
    ]


# -- secrets --------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class _Credentials:
    client_id: str
    client_secret: Secret


def test_secrets_are_masked_on_the_way_out_and_read_from_str() -> None:
    creds = structure({"client_id": "efa", "client_secret": "s3cr3t"}, _Credentials)
    assert creds.client_secret.reveal() == "s3cr3t"
    assert unstructure(creds) == {"client_id": "efa", "client_secret": MASK}
    assert b"s3cr3t" not in to_json(creds)
    assert unstructure(Secret("s3cr3t")) == MASK


def test_a_secret_in_the_wrong_shape_is_not_shown() -> None:
    problems = problems_of({"client_id": "efa", "client_secret": 123456}, _Credentials)
    assert problems == [("$.client_secret", "expected a string, got int")]
    assert "123456" not in str(problems)


# -- error messages -------------------------------------------------------------------------------


def test_thirteen_digit_leika_key_at_index_two() -> None:
    data = dict(SERVICE_DICT, leika_keys=["99115005104000", "99115005104001", "9911500510400"])
    with pytest.raises(ValidationError) as info:
        structure(data, Service)
    assert info.value.problems == (
        ("$.leika_keys[2]", "LeiKa key '9911500510400' has 13 digits; a LeiKa key has 14"),
    )
    assert str(info.value) == (
        "$.leika_keys[2]: LeiKa key '9911500510400' has 13 digits; a LeiKa key has 14"
    )
    assert isinstance(info.value, ValueError)


def test_missing_field() -> None:
    data = {k: v for k, v in SERVICE_DICT.items() if k != "name"}
    assert problems_of(data) == [("$.name", "required field missing")]


def test_extra_fields() -> None:
    assert problems_of(dict(SERVICE_DICT, preis=10, anbieter="x")) == [
        ("$", "extra fields found: anbieter, preis")
    ]


def test_naive_datetime() -> None:
    assert problems_of(dict(SERVICE_DICT, modified_at="2024-05-01T12:00:00")) == [
        (
            "$.modified_at",
            "naive datetime '2024-05-01T12:00:00' has no timezone; give an offset such as +00:00",
        )
    ]


def test_unknown_kind() -> None:
    with pytest.raises(ValidationError) as info:
        record_from_dict({"kind": "leistung", "key": "x"})
    assert str(info.value) == (
        "$.kind: unknown kind 'leistung'; known kinds: agreement, area, availability, note, "
        "onboarding-item, organisation-unit, plan-wave, provider, responsibility, "
        "rollout-plan, route, service, subscriber, usage, xzufi-object"
    )


def test_missing_kind_and_non_mapping_records() -> None:
    with pytest.raises(ValidationError) as info:
        record_from_dict(SERVICE_DICT)
    assert info.value.problems == (("$.kind", "required field missing"),)
    with pytest.raises(ValidationError) as info:
        record_from_dict(["service"])  # type: ignore[arg-type]
    assert info.value.problems == (("$", "expected an object (record), got list ['service']"),)


def test_every_problem_is_listed_with_context() -> None:
    data = dict(
        SERVICE_DICT,
        leika_keys=["99115005104000", "x"],
        themenfeld="sport",
        maturity={"model": "1.1", "level": 6},
        url=None,
        extra=True,
    )
    del data["key"]
    with pytest.raises(ValidationError) as info:
        structure(data, Service, context="source 'marktplatz', row 7")
    assert info.value.context == "source 'marktplatz', row 7"
    assert str(info.value) == (
        "source 'marktplatz', row 7: 5 problems\n"
        "  $.key: required field missing\n"
        "  $.leika_keys[1]: LeiKa key 'x' contains non-digits; a LeiKa key has 14 digits\n"
        "  $.themenfeld: 'sport' is not a valid Themenfeld; expected one of: arbeit_ruhestand, "
        "bauen_wohnen, bildung, ein_auswanderung, engagement_hobby, familie_kind, "
        "forschung_foerderung, gesundheit, mobilitaet_reisen, querschnittsleistungen, "
        "recht_ordnung, steuern_zoll, umwelt, unternehmensfuehrung_entwicklung\n"
        "  $.maturity.level: level 6 does not exist in maturity model 1.1; its levels are 0-4\n"
        "  $: extra fields found: extra"
    )


def test_model_invariants_are_reported_at_their_field() -> None:
    assert problems_of(dict(SERVICE_DICT, leika_keys=[])) == [
        ("$.leika_keys", "needs at least one entry")
    ]
    assert problems_of(dict(SERVICE_DICT, name=" ")) == [("$.name", "must not be empty")]
    subscriber = {"subscriber_kind": "organisation", "name": "KTZ"}
    data = {"service_key": "x", "subscriber": subscriber, "state": "interested"}
    assert problems_of(data, Agreement) == [
        ("$.subscriber.organisation_id", "an organisation subscriber needs an id")
    ]


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"name": 12}, ("$.name", "expected a string, got int 12")),
        (
            {"leika_keys": "99115005104000"},
            ("$.leika_keys", "expected an array, got str '99115005104000'"),
        ),
        (
            {"leika_keys": [99115005104000]},
            ("$.leika_keys[0]", "expected a LeikaKey string, got int 99115005104000"),
        ),
        ({"maturity": "1.1:3"}, ("$.maturity", "expected an object (Maturity), got str '1.1:3'")),
        (
            {"maturity": {"model": "1.1", "level": "3"}},
            ("$.maturity.level", "expected an integer, got str '3'"),
        ),
        (
            {"maturity": {"model": 1.1, "level": 3}},
            ("$.maturity.model", "1.1 is not a valid MaturityModel; expected one of: 1.1, 2.0"),
        ),
        (
            {"land": "17"},
            (
                "$.land",
                "Land '17' is not a Land code (01 to 16), abbreviation (e.g. 'TH') "
                "or name (e.g. 'Thüringen')",
            ),
        ),
        ({"modified_at": "gestern"}, ("$.modified_at", "'gestern' is not an ISO 8601 datetime")),
        (
            {"modified_at": 1714564800},
            ("$.modified_at", "expected an ISO 8601 datetime string, got int 1714564800"),
        ),
        ({"url": "ftp://x.de"}, ("$.url", "'ftp://x.de' is not an absolute http(s) URL")),
    ],
)
def test_type_problems(changes: dict[str, Any], problem: tuple[str, str]) -> None:
    assert problems_of(dict(SERVICE_DICT, **changes)) == [problem]


def test_no_coercion_of_primitives() -> None:
    row = {"leika_key": "99115005104000", "ars": "16", "online": "false", "active": 1}
    assert problems_of(row, Availability) == [
        ("$.online", "expected true or false, got str 'false'"),
        ("$.active", "expected true or false, got int 1"),
    ]
    area = {"ars": "16", "name": "Thüringen", "population": True}
    assert problems_of(area, Area) == [("$.population", "expected an integer, got bool True")]


def test_uuid_problems() -> None:
    route = {"leika_key": "99115005104000", "ars": "16", "destination_id": "not-a-uuid"}
    assert problems_of(route, Route) == [("$.destination_id", "'not-a-uuid' is not a UUID")]


def test_top_level_problems() -> None:
    assert problems_of("service") == [("$", "expected an object (Service), got str 'service'")]
    with pytest.raises(ValidationError) as info:
        from_json(b"{not json", Service, context="file services.json")
    assert info.value.problems[0][0] == "$"
    assert info.value.problems[0][1].startswith("invalid JSON: ")
    assert str(info.value).startswith("file services.json: $: invalid JSON: ")


def test_responsibility_enum_problem() -> None:
    data = {
        "leika_key": "99115005104000",
        "ars": "16055",
        "target_kind": "ZustaendigkeitOnlinedienst",
        "target_id": "S1_2",
    }
    assert problems_of(data, Responsibility) == [
        (
            "$.target_kind",
            "'ZustaendigkeitOnlinedienst' is not a valid TargetKind; expected one of: "
            "onlinedienst, organisationseinheit",
        )
    ]
    data["target_kind"] = "onlinedienst"
    assert structure(data, Responsibility).target_kind is TargetKind.ONLINEDIENST


# -- content hash ---------------------------------------------------------------------------------


def test_content_hash_is_blake2b_of_the_sorted_canonical_json() -> None:
    # Pinned on purpose: a change here changes every stored hash (one no-op write per record).
    # Last changed by adding Service.offer_ids and Service.onlinedienst_ids (empty here).
    canonical = (
        b'{"key":"wohnsitz-anmeldung","kind":"service","land":"02",'
        b'"leika_keys":["99115005104000","99115005104001"],"maturity":{"level":3,"model":"1.1"},'
        b'"modified_at":"2024-05-01T14:30:00+02:00","name":"Wohnsitz anmelden",'
        b'"offer_ids":[],"onlinedienst_ids":[],'
        b'"operator":"dataport","ozg_ids":["10000"],"price":null,"price_model":null,'
        b'"reuse_channels":["fit_store"],'
        b'"themenfeld":"bauen_wohnen","url":"https://serviceportal.example.de/wohnsitz"}'
    )
    expected = hashlib.blake2b(canonical, digest_size=20).hexdigest()
    assert content_hash(SERVICE) == expected == "16412a0e4fe14f38c2e1919f426751f183ffe530"
    assert content_hash(structure(SERVICE_DICT, Service)) == expected


def test_content_hash_changes_with_content_and_kind() -> None:
    assert content_hash(attrs.evolve(SERVICE, name="Wohnsitz ummelden")) != content_hash(SERVICE)
    assert content_hash(attrs.evolve(SERVICE, modified_at=None)) != content_hash(SERVICE)
    area = Area(ars=Ars("16"), name="Thüringen")
    subscriber = Subscriber(subscriber_kind=SubscriberKind.LAND, name="Thüringen", ars=Ars("16"))
    assert content_hash(area) != content_hash(subscriber)


def test_content_hash_does_not_depend_on_key_order() -> None:
    reordered = dict(reversed(list(SERVICE_DICT.items())))
    assert content_hash(structure(reordered, Service)) == content_hash(SERVICE)


def test_content_hash_is_the_same_in_another_process() -> None:
    code = (
        "import sys; sys.path.insert(0, 'tests'); "
        "from test_serialization import SERVICE; "
        "from efa_core.serialization import content_hash; print(content_hash(SERVICE))"
    )
    env = dict(os.environ, PYTHONHASHSEED="12345")
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
    )
    assert out.stdout.strip() == content_hash(SERVICE)


# -- other attrs values (e.g. connector configuration) ---------------------------------------


@attrs.frozen(kw_only=True)
class _Settings:
    headers: dict[str, str] = attrs.Factory(dict)
    hosts: list[str] = attrs.Factory(list)
    lands: frozenset[Land] = frozenset()
    timeout: float = 10.0


def test_plain_attrs_classes_and_collections_are_strict_too() -> None:
    settings = structure(
        {"headers": {"User-Agent": "efa"}, "hosts": ["a"], "lands": ["TH", "16"], "timeout": 5},
        _Settings,
    )
    assert settings == _Settings(
        headers={"User-Agent": "efa"}, hosts=["a"], lands=frozenset({Land.TH}), timeout=5.0
    )
    bad = {"headers": ["User-Agent"], "hosts": "a", "lands": ["XX"], "timeout": "5"}
    assert problems_of(bad, _Settings) == [
        ("$.headers", "expected an object (mapping)"),
        ("$.hosts", "expected an array, got str 'a'"),
        (
            "$.lands[0]",
            "Land 'XX' is not a Land code (01 to 16), abbreviation (e.g. 'TH') "
            "or name (e.g. 'Thüringen')",
        ),
        ("$.timeout", "expected a number, got str '5'"),
    ]
    assert problems_of({"headers": {"a": 1}}, _Settings) == [
        ("$.headers['a']", "expected a string, got int 1")
    ]
    assert problems_of([], dict[str, int]) == [("$", "expected an object (mapping)")]


# -- fields and kinds added later -------------------------------------------------------------


def test_payloads_stored_before_later_fields_existed_stay_valid() -> None:
    assert structure(OLD_SERVICE_DICT, Service) == SERVICE
    assert record_from_dict({"kind": "service", **OLD_SERVICE_DICT}) == SERVICE
    old_route = {
        "leika_key": "99115005104000",
        "ars": "16055",
        "destination_id": "a1b2c3d4-0000-4000-8000-000000000001",
        "name": "Bürgeramt",
        "origin": None,
        "modified_at": None,
    }
    route = structure(old_route, Route)
    assert (route.signed_areas, route.signed_leika_keys, route.signature_verified) == ((), (), None)


def test_price_is_written_and_read_as_an_exact_decimal_string() -> None:
    priced = attrs.evolve(SERVICE, price_model="je Fall", price=Decimal("1234.50"))
    plain = unstructure(priced)
    assert (plain["price_model"], plain["price"]) == ("je Fall", "1234.50")
    assert b'"price":"1234.50"' in to_json(priced)
    back = structure(plain, Service)
    assert back == priced
    assert str(back.price) == "1234.50"  # the trailing zero survives
    assert structure(dict(plain, price=" 0.10 "), Service).price == Decimal("0.10")
    # equal prices written differently are equal records with different hashes (documented)
    other = attrs.evolve(priced, price=Decimal("1234.5"))
    assert other == priced
    assert content_hash(other) != content_hash(priced)


@pytest.mark.parametrize(
    ("price", "problem"),
    [
        (
            12.5,
            "expected a decimal string such as '12.50', got float 12.5 "
            "(give it as a string: a float may have lost digits)",
        ),
        (12, "expected a decimal string such as '12.50', got int 12"),
        ("zwölf", "'zwölf' is not a decimal number such as '12.50'"),
        ("NaN", "'NaN' is not a finite number"),
        ("-Infinity", "'-Infinity' is not a finite number"),
        ("-0.01", "must not be negative, got -0.01"),
    ],
)
def test_price_problems(price: object, problem: str) -> None:
    assert problems_of(dict(SERVICE_DICT, price=price)) == [("$.price", problem)]


def test_blank_price_model_is_reported() -> None:
    assert problems_of(dict(SERVICE_DICT, price_model=" ")) == [
        ("$.price_model", "must not be empty")
    ]


def test_route_signature_evidence_is_plain_data() -> None:
    route = Route(
        leika_key=LeikaKey("99115005104000"),
        ars=Ars("16055"),
        destination_id=uuid.UUID("a1b2c3d4-0000-4000-8000-000000000001"),
        signed_areas=(Ars("16055"), Ars("160550000000")),
        signed_leika_keys=(LeikaKey("99115005104000"),),
        signature_verified=True,
    )
    plain = unstructure(route)
    assert plain["signed_areas"] == ["16055", "160550000000"]
    assert plain["signed_leika_keys"] == ["99115005104000"]
    assert plain["signature_verified"] is True
    assert structure(plain, Route) == route
    bad = dict(plain, signed_areas=["16055", "1605"], signature_verified="ja")
    assert problems_of(bad, Route) == [
        ("$.signed_areas[1]", "ARS '1605' has 4 digits; an ARS has 2, 3, 5, 9 or 12 digits"),
        ("$.signature_verified", "expected true or false, got str 'ja'"),
    ]
    assert problems_of(dict(plain, signed_areas=["16055", "16055"]), Route) == [
        ("$.signed_areas", "duplicate entries: 16055")
    ]


def test_new_record_kinds_serialize_to_canonical_plain_data() -> None:
    note = Note(
        key="2024-05-12-kickoff",
        text="Kickoff with the pilot municipality",
        on=datetime(2024, 5, 12, tzinfo=timezone(timedelta(hours=2))),
        service_key="MP-001",
        subscriber="ars:160550000000",
        agreement_key="MP-001@ars:160550000000",
    )
    assert record_to_dict(note) == {
        "kind": "note",
        "key": "2024-05-12-kickoff",
        "text": "Kickoff with the pilot municipality",
        "on": "2024-05-12T00:00:00+02:00",
        "service_key": "MP-001",
        "subscriber": "ars:160550000000",
        "agreement_key": "MP-001@ars:160550000000",
        "author": None,
        "modified_at": None,
    }
    unit = OrganisationUnit(
        key="S16000_Organisationseinheit_OE-ERFURT",
        name="Bürgeramt Erfurt",
        ars=Ars("160510000000"),
    )
    assert record_to_dict(unit) == {
        "kind": "organisation-unit",
        "key": "S16000_Organisationseinheit_OE-ERFURT",
        "name": "Bürgeramt Erfurt",
        "ars": "160510000000",
        "modified_at": None,
    }
    raw = XZuFiObject(
        object_class="spezialisierung",
        object_id="S16000_Spezialisierung_SP-1",
        xml="<spezialisierung><id>SP-1</id></spezialisierung>",
        modified_at=T0,
    )
    assert record_to_dict(raw) == {
        "kind": "xzufi-object",
        "object_class": "spezialisierung",
        "object_id": "S16000_Spezialisierung_SP-1",
        "xml": "<spezialisierung><id>SP-1</id></spezialisierung>",
        "modified_at": "2024-05-01T12:00:00+00:00",
    }
    for record in (note, unit, raw):
        assert record_from_dict(orjson.loads(orjson.dumps(record_to_dict(record)))) == record


def test_new_record_kinds_report_problems_at_their_fields() -> None:
    assert problems_of({"key": "k", "text": "x", "on": "2024-05-12T00:00:00"}, Note) == [
        (
            "$.on",
            "naive datetime '2024-05-12T00:00:00' has no timezone; give an offset such as +00:00",
        )
    ]
    assert problems_of({"key": "k", "name": "OE", "ars": "1605"}, OrganisationUnit)[0][0] == "$.ars"
    too_long = "<a>" + "x" * (1 << 20) + "</a>"
    raw = {"object_class": "leistung", "object_id": "S_L_1", "xml": too_long}
    assert problems_of(raw, XZuFiObject) == [
        ("$.xml", f"has {len(too_long)} characters, more than the 1048576 a record may hold")
    ]
