"""Parsing the hand-built 2.2.0 and 2.3.1 fixtures into items and records."""

from __future__ import annotations

import io
from collections import Counter
from datetime import datetime, timezone

import pytest
from efa_xzufi import (
    LEIKA_SCHEME_ID,
    DeleteObject,
    InvalidObject,
    LeistungIndex,
    LeistungObject,
    OnlinedienstObject,
    OrganisationseinheitObject,
    RawObject,
    RecordMapper,
    TransferMessageReader,
    XZuFiId,
    ZustaendigkeitObject,
    parse_transfer_message,
)
from efa_xzufi.testing import generate_transfer_message

from efa_core.connectors import Delete, Rejected, Skipped, Upsert
from efa_core.ids import Ars, LeikaKey
from efa_core.model import OrganisationUnit, Responsibility, Service, TargetKind, XZuFiObject

ANMELDUNG = LeikaKey("99115005104000")
HUNDESTEUER = LeikaKey("99041006017000")


def records(changes, kind=None):
    found = [c.record for c in changes if isinstance(c, Upsert)]
    return [r for r in found if kind is None or isinstance(r, kind)]


def by_key(changes):
    return {c.key: c.record for c in changes if isinstance(c, Upsert)}


def test_2_2_0_items_cover_every_object_kind(fixtures):
    reader = TransferMessageReader(fixtures / "transfer-2.2.0.xml", name="m22.xml")
    items = list(reader)
    kinds = Counter(type(item).__name__ for item in items)
    assert kinds == {
        "LeistungObject": 2,
        "RawObject": 2,
        "OnlinedienstObject": 1,
        "OrganisationseinheitObject": 1,
        "ZustaendigkeitObject": 2,
        "InvalidObject": 1,
        "DeleteObject": 3,
    }
    assert reader.info is not None
    assert reader.info.version == "2.2.0"
    assert reader.info.sender == "Landesredaktion Thüringen"
    assert reader.info.message_id == "8f1c2f8e-5a8c-4b59-9c43-0a5b1f0e2201"
    leistung = next(i for i in items if isinstance(i, LeistungObject))
    assert leistung.id == XZuFiId("L-ANMELDUNG", "S16000", "Leistung")
    assert leistung.leika_keys == (ANMELDUNG,)
    assert leistung.name == "Wohnsitz Anmeldung"
    raw = {i.kind: i for i in items if isinstance(i, RawObject)}
    assert set(raw) == {"spezialisierung", "formular"}
    assert "<xzufi:leistungID" in raw["spezialisierung"].xml
    assert raw["formular"].id == XZuFiId("F-9", "S16000", "Formular")
    onlinedienst = next(i for i in items if isinstance(i, OnlinedienstObject))
    assert onlinedienst.name == "Online-Anmeldung"  # German preferred over English
    assert onlinedienst.url == "https://anmeldung.example.org/start"  # link type 01
    oe = next(i for i in items if isinstance(i, OrganisationseinheitObject))
    assert oe.name == "Bürgeramt Erfurt"
    assert oe.ars == Ars("160510000000")  # anschrift/.../regionalschluessel
    assert leistung.xml is None  # kept only when asked (leistung_xml=True)
    assert [z.leistung_id.value for z in oe.zustaendigkeiten] == ["L-HUNDESTEUER"]
    deletes = [i for i in items if isinstance(i, DeleteObject)]
    assert [d.klasse for d in deletes] == [
        "Zustaendigkeit",
        "Onlinedienst",
        "LeistungSpezialisierung",
    ]


def test_2_2_0_maps_to_records_deletes_and_rejections(fixtures):
    changes = list(parse_transfer_message(fixtures / "transfer-2.2.0.xml", name="m22.xml"))
    keys = by_key(changes)
    z1 = keys["S16000_ZustaendigkeitOnlinedienst_Z-1"]
    assert z1 == Responsibility(
        leika_key=ANMELDUNG,
        ars=Ars("160550000000"),
        target_kind=TargetKind.ONLINEDIENST,
        target_id="S16000_Onlinedienst_OD-4711",
        responsibility_id="S16000_ZustaendigkeitOnlinedienst_Z-1",
        leistung_id="S16000_Leistung_L-ANMELDUNG",
        role="01",
    )
    z2 = keys["S16000_ZustaendigkeitOrganisationseinheit_Z-2"]
    assert z2.target_kind is TargetKind.ORGANISATIONSEINHEIT
    assert z2.modified_at == datetime(2026, 2, 15, 12, 30, tzinfo=timezone.utc)
    embedded = keys[
        "99041006017000@160510000000->organisationseinheit:S16000_Organisationseinheit_OE-ERFURT"
    ]
    assert embedded.responsibility_id is None
    assert embedded.leika_key == HUNDESTEUER
    service = keys["S16000_Onlinedienst_OD-4711"]
    assert service == Service(
        key="S16000_Onlinedienst_OD-4711",
        name="Online-Anmeldung",
        leika_keys=(ANMELDUNG,),
        url="https://anmeldung.example.org/start",
        onlinedienst_ids=("S16000_Onlinedienst_OD-4711",),
    )
    assert keys["S16000_Organisationseinheit_OE-ERFURT"] == OrganisationUnit(
        key="S16000_Organisationseinheit_OE-ERFURT",
        name="Bürgeramt Erfurt",
        ars=Ars("160510000000"),
    )
    raw = {key: record for key, record in keys.items() if isinstance(record, XZuFiObject)}
    assert sorted(raw) == [
        "formular:S16000_Formular_F-9",
        "leistung:S16000_Leistung_L-ANMELDUNG",
        "leistung:S16000_Leistung_L-HUNDESTEUER",
        "spezialisierung:S16000_Spezialisierung_SP-1",
    ]
    spezialisierung = raw["spezialisierung:S16000_Spezialisierung_SP-1"]
    assert spezialisierung.xml.startswith("<xzufi:spezialisierung")
    assert ">L-ANMELDUNG</xzufi:leistungID>" in spezialisierung.xml
    anmeldung = raw["leistung:S16000_Leistung_L-ANMELDUNG"]
    assert "<code>99115005104000</code>" in anmeldung.xml
    assert anmeldung.modified_at == datetime(2026, 2, 1, 9, 0, tzinfo=timezone.utc)
    assert [c for c in changes if isinstance(c, Delete)] == [
        Delete("responsibility", "S16000_ZustaendigkeitOnlinedienst_Z-OLD"),
        Delete("service", "S16000_Onlinedienst_OD-OLD"),
        Delete("xzufi-object", "spezialisierung:S16000_Spezialisierung_SP-OLD"),
    ]
    [rejected] = [c for c in changes if isinstance(c, Rejected)]
    assert rejected.kind == "responsibility"
    assert rejected.position == "m22.xml:line 109"  # the line of the bad gebietID
    assert rejected.problems == (
        (
            "zustaendigkeitTransferObjekt/zustaendigkeit/gebietID",
            "ARS '1605' has 4 digits; an ARS has 2, 3, 5, 9 or 12 digits",
        ),
    )
    assert "Z-BAD" in rejected.raw
    assert "OD-4711" in rejected.raw  # the target is kept with the rejected responsibility
    assert isinstance(changes[-1], Upsert)
    assert changes[-1].kind == "service"  # services come last


def test_2_3_1_with_varied_prefixes_and_forward_reference(fixtures):
    changes = list(parse_transfer_message(fixtures / "transfer-2.3.1.xml", name="m231.xml"))
    responsibilities = records(changes, Responsibility)
    # one Zuständigkeit with two areas -> two rows with their own ids
    assert sorted((str(r.ars), r.responsibility_id) for r in responsibilities) == [
        ("14612", "S14000_ZustaendigkeitOnlinedienst_Z-1#99115005104000@14612"),
        ("14713", "S14000_ZustaendigkeitOnlinedienst_Z-1#99115005104000@14713"),
    ]
    assert {r.leika_key for r in responsibilities} == {ANMELDUNG}  # referenzLeistungsschluessel
    rejected = {r.position: r for r in changes if isinstance(r, Rejected)}
    bad_leistung = rejected["m231.xml:line 39"]
    assert bad_leistung.kind == "xzufi-object"  # it would have been kept as raw payload
    assert bad_leistung.problems[0][0] == "leistung/referenzLeiKa/code"
    assert "13 digits" in bad_leistung.problems[0][1]
    dependent = rejected["m231.xml:line 52"]
    assert dependent.kind == "responsibility"
    assert dependent.problems[0][0] == "zustaendigkeitTransferObjekt/zustaendigkeit/leistungID"
    assert "invalid (at m231.xml:line 39)" in dependent.problems[0][1]
    [service] = records(changes, Service)
    assert service.name == "Anmeldung Sachsen"
    assert service.url == "https://amt24.example.org/anmeldung"
    assert Delete("responsibility", "S14000_ZustaendigkeitOrganisationseinheit_Z-9") in changes


def test_prefixes_do_not_matter(fixtures):
    text = (fixtures / "transfer-2.2.0.xml").read_text(encoding="utf-8")
    renamed = text.replace("xzufi:", "q:").replace("xmlns:xzufi=", "xmlns:q=")
    unprefixed = text.replace("xzufi:", "").replace("xmlns:xzufi=", "xmlns=")

    def essence(data: bytes):
        # raw XML (of rejected objects and raw records) keeps its prefixes; all else is equal
        return [
            (c.kind, c.position, c.problems)
            if isinstance(c, Rejected)
            else (c.key, c.record.modified_at)
            if isinstance(c, Upsert) and isinstance(c.record, XZuFiObject)
            else c
            for c in parse_transfer_message(data, name="m.xml")
        ]

    expected = essence(text.encode())
    assert len(expected) == 13
    assert essence(renamed.encode()) == expected
    assert essence(unprefixed.encode()) == expected


def test_sources_bytes_stream_and_path_agree(fixtures):
    path = fixtures / "transfer-2.2.0.xml"
    data = path.read_bytes()
    from_path = list(parse_transfer_message(path, name="m.xml"))
    assert list(parse_transfer_message(data, name="m.xml")) == from_path
    assert list(parse_transfer_message(io.BytesIO(data), name="m.xml")) == from_path
    positions = [c.position for c in parse_transfer_message(data) if isinstance(c, Rejected)]
    assert positions == ["<bytes>:line 109"]


def _message(*entries: str) -> bytes:
    body = "".join(entries)
    return (
        '<m xmlns="http://xoev.de/schemata/xzufi/2_2_0" xzufiVersion="2.2.0">' + body + "</m>"
    ).encode()


def _zto(leistung: str = "L1", scheme: str = "Leistung", gebiet: str = "16055", zid="Z1"):
    return (
        "<schreibe><zustaendigkeitTransferObjekt>"
        '<uebergeordnetesObjektID schemeAgencyID="A" schemeID="Onlinedienst">OD1'
        "</uebergeordnetesObjektID><zustaendigkeit>"
        f'<id schemeAgencyID="A" schemeID="ZustaendigkeitOnlinedienst">{zid}</id>'
        f'<leistungID schemeAgencyID="A" schemeID="{scheme}">{leistung}</leistungID>'
        f"<gebietID>{gebiet}</gebietID></zustaendigkeit>"
        "</zustaendigkeitTransferObjekt></schreibe>"
    )


def _leistung(ident: str = "L1", key: str = "99115005104000"):
    return (
        f'<schreibe><leistung><id schemeAgencyID="A" schemeID="Leistung">{ident}</id>'
        f"<referenzLeiKa><code>{key}</code></referenzLeiKa></leistung></schreibe>"
    )


def test_unknown_leistung_is_rejected_with_the_reason():
    changes = list(parse_transfer_message(_message(_zto("NOPE")), name="x.xml"))
    [rejected] = changes
    assert isinstance(rejected, Rejected)
    assert rejected.position == "x.xml:line 1"
    assert rejected.problems == (
        (
            "zustaendigkeitTransferObjekt/zustaendigkeit/leistungID",
            "leistungID 'A_Leistung_NOPE' names no leistung in this export, so the LeiKa "
            "key is unknown",
        ),
    )


def test_leistung_referenced_by_leika_scheme_needs_no_leistung_object():
    changes = list(parse_transfer_message(_message(_zto("99115005104000", LEIKA_SCHEME_ID))))
    [record] = records(changes)
    assert record.leika_key == ANMELDUNG
    assert record.leistung_id is None
    bad = list(parse_transfer_message(_message(_zto("123", LEIKA_SCHEME_ID))))
    assert isinstance(bad[0], Rejected)
    assert "LeiKa key '123'" in bad[0].problems[0][1]


def _general_path(message: bytes) -> list:
    """Map *message* item by item (no fast path), as a caller of RecordMapper.map does."""
    mapper = RecordMapper(organisation_units=True, raw_objects=True)
    reader = TransferMessageReader(message, leistung_xml=True)
    mapped = [m for item in reader for m in mapper.map(item)]
    return mapped + mapper.finish()


def test_fast_and_general_paths_give_the_same_records(monkeypatch):
    import efa_xzufi.mapping as mapping
    import efa_xzufi.parser as parser

    # an empty ARS cache: areas seen for the first time are validated on the fast path too
    cache: dict = {}
    monkeypatch.setattr(parser, "_ARS_CACHE", cache)
    monkeypatch.setattr(mapping, "_ARS_CACHE", cache)
    hits: list[bool] = []
    real = RecordMapper.fast_transfer_objekt

    def counting(self, element):
        result = real(self, element)
        hits.append(result is not None)
        return result

    monkeypatch.setattr(RecordMapper, "fast_transfer_objekt", counting)
    urn = "urn:de:bund:destatis:bevoelkerungsstatistik:schluessel:rs:16"
    message = _message(
        _leistung(),
        _leistung("L2", "99041006017000"),
        '<schreibe><onlinedienst><id schemeAgencyID="A" schemeID="Onlinedienst">OD1</id>'
        "<bezeichnung>Dienst</bezeichnung></onlinedienst></schreibe>",
        _zto(zid="Z1"),
        _zto(zid="Z2"),
        _zto(zid="Z3", gebiet="16"),
        _zto("L2", zid="Z4", gebiet=f" {urn} "),
        _zto(zid="Z5", gebiet="16X"),  # not an ARS: the general path rejects it
    )
    fast = list(parse_transfer_message(message))
    assert hits == [True, True, True, True, False]
    assert fast == _general_path(message)
    assert [r.responsibility_id for r in records(fast, Responsibility)] == [
        f"A_ZustaendigkeitOnlinedienst_Z{n}" for n in range(1, 5)
    ]
    assert records(fast, Responsibility)[3].ars == Ars("16")
    [rejected] = [c for c in fast if isinstance(c, Rejected)]
    assert rejected.problems[0][0] == "zustaendigkeitTransferObjekt/zustaendigkeit/gebietID"
    [service] = records(fast, Service)
    assert service.leika_keys == (HUNDESTEUER, ANMELDUNG)  # in key order

    # a generated message: Onlinedienste and OEs, roles, 40 areas seen for the first time
    hits.clear()
    out = io.BytesIO()
    generate_transfer_message(
        out, 400, n_leistungen=7, n_onlinedienste=3, n_organisationseinheiten=2
    )
    fast = list(parse_transfer_message(out.getvalue()))
    assert hits == [True] * 400
    assert fast == _general_path(out.getvalue())
    assert len(records(fast, Responsibility)) == 400
    assert len(records(fast, Service)) == 3


def test_mapper_state_is_bounded_by_the_catalogue_not_the_file():
    # Services come last, so the mapper keeps each Onlinedienst's LeiKa keys until the
    # end: one entry per distinct (Onlinedienst, LeiKa key) pair, however many
    # Zuständigkeiten repeat them.
    catalogue = {
        "n_leistungen": 40,
        "n_onlinedienste": 8,
        "n_organisationseinheiten": 4,
        "leistungen_per_onlinedienst": 3,
    }
    held = []
    for size in (500, 5000):
        out = io.BytesIO()
        generate_transfer_message(out, size, **catalogue)
        mapper = RecordMapper(organisation_units=True, raw_objects=True)
        reader = TransferMessageReader(out.getvalue(), leistung_xml=True)
        upserts = 0
        for item in reader._items(mapper.fast_transfer_objekt):  # as the connector does
            if isinstance(item, Upsert):
                upserts += 1
            else:
                upserts += sum(isinstance(m, Upsert) for m in mapper.map(item))
        assert upserts == size + 40 + 4  # Zuständigkeiten, Leistungen (raw), OEs
        held.append(mapper.held)
        services = records(mapper.finish(), Service)
        assert len(services) == 8
        assert all(len(s.leika_keys) == 3 for s in services)
        assert all(list(s.leika_keys) == sorted(s.leika_keys) for s in services)
        assert mapper.held == {"onlinedienste": 0, "service_keys": 0, "deferred": 0}
    # ten times the Zuständigkeiten, the same state: 8 Onlinedienste x 3 keys
    assert held == [{"onlinedienste": 8, "service_keys": 24, "deferred": 0}] * 2

    # the general path keeps the same entries
    mapper = RecordMapper()
    for item in TransferMessageReader(out.getvalue()):
        mapper.map(item)
    assert mapper.held == {"onlinedienste": 8, "service_keys": 24, "deferred": 0}


def test_leistung_index_from_a_first_pass(fixtures):
    index = LeistungIndex.from_sources([(fixtures / "transfer-2.3.1.xml", "m231.xml")])
    assert index.resolve(XZuFiId("L-1", "S14000", "Leistung")) == (ANMELDUNG,)
    assert "invalid" in str(index.resolve(XZuFiId("L-BAD", "S14000", "Leistung")))
    mapper = RecordMapper(index)
    zto = next(
        i
        for i in TransferMessageReader(fixtures / "transfer-2.3.1.xml")
        if isinstance(i, ZustaendigkeitObject)
    )
    assert len(mapper.map(zto)) == 2  # resolved at once: nothing deferred


def test_missing_parts_are_named():
    message = _message(
        "<schreibe><zustaendigkeitTransferObjekt><zustaendigkeit>"
        '<id schemeID="Quatsch">Z</id><gebietID>16</gebietID>'
        "</zustaendigkeit></zustaendigkeitTransferObjekt></schreibe>"
    )
    [item] = TransferMessageReader(message)
    assert isinstance(item, InvalidObject)
    assert item.kind == "zustaendigkeit"
    paths = [path for path, _ in item.problems]
    assert paths == [
        "uebergeordnetesObjektID",
        "zustaendigkeitTransferObjekt/zustaendigkeit/id/@schemeID",
        "zustaendigkeitTransferObjekt/zustaendigkeit/leistungID",
    ]


def test_services_can_be_switched_off(fixtures):
    changes = list(parse_transfer_message(fixtures / "transfer-2.2.0.xml", services=False))
    assert not records(changes, Service)
    assert Delete("service", "S16000_Onlinedienst_OD-OLD") not in changes


def test_composite_ids_round_trip():
    ident = XZuFiId("a_b_c", "S1", "Leistung")
    assert ident.composite == "S1_Leistung_a_b_c"
    assert XZuFiId.from_composite(ident.composite) == ident
    with pytest.raises(ValueError, match="not a composite XZuFi id"):
        XZuFiId.from_composite("S10005_12345")


# -- organisation units and raw objects ----------------------------------------------------


def test_record_mapper_maps_only_zustaendigkeiten_and_services_by_default(fixtures):
    """Callers such as efa-pvog keep their output unless they ask for the new kinds."""
    mapper = RecordMapper()
    reader = TransferMessageReader(fixtures / "transfer-2.2.0.xml", leistung_xml=True)
    changes = [m for item in reader for m in mapper.map(item)] + mapper.finish()
    assert {c.kind for c in changes if not isinstance(c, Skipped)} == {"responsibility", "service"}
    skipped = Counter()
    for item in changes:
        if isinstance(item, Skipped):
            skipped[item.kind] += item.count
    assert skipped == {
        "leistung": 2,
        "spezialisierung": 1,
        "formular": 1,
        "organisationseinheit": 1,
        "loesche": 1,
    }
    assert mapper.skipped == {
        "leistung": 2,
        "spezialisierung": 1,
        "formular": 1,
        "organisationseinheit": 1,
        "loesche LeistungSpezialisierung": 1,
    }


def test_kinds_can_be_switched_off_one_by_one(fixtures):
    path = fixtures / "transfer-2.2.0.xml"
    no_units = list(parse_transfer_message(path, organisation_units=False))
    assert not records(no_units, OrganisationUnit)
    assert len(records(no_units, XZuFiObject)) == 4
    no_raw = list(parse_transfer_message(path, raw_objects=False))
    assert not records(no_raw, XZuFiObject)
    assert not [c for c in no_raw if isinstance(c, Delete) and c.kind == "xzufi-object"]
    assert len(records(no_raw, OrganisationUnit)) == 1
    # the Zuständigkeiten are the same either way
    everything = list(parse_transfer_message(path))
    assert records(no_raw, Responsibility) == records(everything, Responsibility)


def test_deletes_follow_the_klasse_attribute():
    message = _message(
        '<loesche klasse="Organisationseinheit"><id schemeAgencyID="A" '
        'schemeID="Organisationseinheit">OE1</id></loesche>',
        '<loesche klasse="Leistung"><id schemeAgencyID="A" schemeID="Leistung">L1</id>'
        '<id schemeAgencyID="A" schemeID="Leistung">L2</id></loesche>',
        '<loesche klasse="LeistungSpezialisierung"><id schemeAgencyID="A" '
        'schemeID="Spezialisierung">S1</id></loesche>',
        '<loesche klasse="Formular"><id schemeAgencyID="A" schemeID="Formular">F1</id></loesche>',
    )
    assert list(parse_transfer_message(message)) == [
        Delete("organisation-unit", "A_Organisationseinheit_OE1"),
        Delete("xzufi-object", "leistung:A_Leistung_L1"),
        Delete("xzufi-object", "leistung:A_Leistung_L2"),
        Delete("xzufi-object", "spezialisierung:A_Spezialisierung_S1"),
        Skipped(
            "loesche", "deletes of class 'Formular' are not mapped", 1, "<bytes>:line 1, entry 4"
        ),
    ]
    mapper = RecordMapper(organisation_units=True, raw_objects=True)
    for item in TransferMessageReader(message):
        mapper.map(item)
    assert mapper.skipped == {"loesche Formular": 1}  # no way to tell its object class


def test_raw_objects_above_max_raw_chars_or_without_id_are_rejected():
    big = "<schreibe><formular><id schemeAgencyID='A' schemeID='F'>F1</id><text>" + "x" * 500
    message = _message(
        big + "</text></formular></schreibe>",
        "<schreibe><spezialisierung><leistungID>L1</leistungID></spezialisierung></schreibe>",
        "<schreibe><spezialisierung><id schemeAgencyID='A' schemeID='S'>S1</id>"
        "</spezialisierung></schreibe>",
    )
    changes = list(parse_transfer_message(message, name="m.xml", max_raw_chars=400))
    too_big, no_id, kept = changes
    assert isinstance(too_big, Rejected)
    assert too_big.kind == "xzufi-object"
    assert too_big.raw["object_id"] == "A_F_F1"
    assert too_big.raw["chars"] > 500  # the summary, not the XML, goes to the quarantine
    ((path, message_),) = too_big.problems
    assert path == "formular"
    assert message_.startswith("the XML has ")
    assert message_.endswith("more than max_raw_chars (400); raise max_raw_chars to keep it")
    assert isinstance(no_id, Rejected)
    assert no_id.problems == (("spezialisierung/id", "missing or empty; a raw object needs an id"),)
    assert isinstance(kept, Upsert)
    assert kept.key == "spezialisierung:A_S_S1"
    with pytest.raises(ValueError, match="max_raw_chars must be an integer from 1 to 1048576"):
        RecordMapper(max_raw_chars=0)


def test_organisation_unit_without_name_is_rejected_but_its_zustaendigkeiten_count():
    message = _message(
        _leistung(),
        "<schreibe><organisationseinheit>"
        '<id schemeAgencyID="A" schemeID="Organisationseinheit">OE1</id>'
        "<anschrift><verwaltungspolitischeKodierung><regionalschluessel><code>1605</code>"
        "</regionalschluessel></verwaltungspolitischeKodierung></anschrift>"
        '<zustaendigkeit><leistungID schemeAgencyID="A" schemeID="Leistung">L1</leistungID>'
        "<gebietID>16055</gebietID></zustaendigkeit>"
        "</organisationseinheit></schreibe>",
    )
    changes = list(parse_transfer_message(message, name="m.xml", raw_objects=False))
    leistung, unit, responsibility = changes
    assert isinstance(leistung, Skipped)
    assert isinstance(unit, Rejected)
    assert unit.kind == "organisation-unit"
    assert unit.raw == {"id": "A_Organisationseinheit_OE1", "name": None, "ars": None}
    assert unit.problems == (
        ("organisationseinheit/name", "missing; an organisation unit needs a name"),
    )
    assert isinstance(responsibility, Upsert)
    assert responsibility.record.target_id == "A_Organisationseinheit_OE1"


def test_the_zustaendigkeit_fast_path_serializes_no_xml(monkeypatch):
    import efa_xzufi.parser as parser

    calls: list[str] = []
    real = parser._xml

    def counting(element):
        calls.append(element.tag)
        return real(element)

    monkeypatch.setattr(parser, "_xml", counting)
    index = LeistungIndex()
    index.update(TransferMessageReader(_message(_leistung())))
    message = _message(*(_zto(zid=f"Z{n}") for n in range(5)))
    changes = list(parse_transfer_message(message, leistungen=index))
    assert len(records(changes, Responsibility)) == 5
    assert calls == []  # raw XML is serialized only for the rarer objects
    list(parse_transfer_message(_message(_leistung())))
    assert len(calls) == 1  # a leistung, kept as raw payload


def test_the_fast_path_takes_what_efa_xzufis_own_writer_emits(monkeypatch):
    """versionsinformation, a rolle code, a leistungID by LeiKa key: all on the fast path."""
    from datetime import timedelta

    from efa_xzufi import write_transfer_message

    hits: list[bool] = []
    real = RecordMapper.fast_transfer_objekt

    def counting(self, element, **options):
        result = real(self, element, **options)
        hits.append(result is not None)
        return result

    monkeypatch.setattr(RecordMapper, "fast_transfer_objekt", counting)
    when = datetime(2026, 3, 1, 6, tzinfo=timezone.utc)
    records_in = [
        Responsibility(
            leika_key=ANMELDUNG if n % 3 else HUNDESTEUER,
            ars=Ars(f"16055{n % 7:07d}") if n % 2 else Ars("16055"),
            target_kind=TargetKind.ONLINEDIENST,
            target_id="S16000_Onlinedienst_OD-1",
            responsibility_id=f"S16000_ZustaendigkeitOnlinedienst_Z{n}",
            leistung_id=None if n % 4 == 0 else f"S16000_Leistung_L{n % 3 == 0}",
            role="01" if n % 5 else None,
            modified_at=None if n % 6 == 0 else when + timedelta(minutes=n),
        )
        for n in range(40)
    ]
    out = io.BytesIO()
    write_transfer_message(
        records_in,
        Service(key="S16000_Onlinedienst_OD-1", name="Dienst", leika_keys=(ANMELDUNG,)),
        sender="Land Thüringen",
        out=out,
        include_leistungen=True,
    )
    fast = list(parse_transfer_message(out.getvalue()))
    assert hits == [True] * 40
    assert fast == _general_path(out.getvalue())
    assert records(fast, Responsibility) == records_in


# -- the fast path against the general path, on generated Zuständigkeiten ----------------------

_AGENCIES = ("A", "", " A ")
_ID_SCHEMES = (
    "ZustaendigkeitOnlinedienst",
    " ZustaendigkeitOrganisationseinheit ",
    "",
    "Unbekannt",
)
_LEISTUNGEN = (
    ("L1", "Leistung"),  # known, one LeiKa key
    ("99115005104000", LEIKA_SCHEME_ID),  # named by its LeiKa key
    (" 99041006017000 ", LEIKA_SCHEME_ID),
    ("L2", "Leistung"),  # known, two LeiKa keys: several rows
    ("L3", "Leistung"),  # known, no LeiKa key
    ("NOPE", "Leistung"),  # unknown
    ("123", LEIKA_SCHEME_ID),  # not a LeiKa key
    ("", "Leistung"),  # empty
)
_AREAS = (
    "16055",
    " 16 ",
    "urn:de:bund:destatis:bevoelkerungsstatistik:schluessel:rs:16",
    "16X",
    "",
)
_ROLES = (
    "",
    "<rolle><code>01</code></rolle>",
    "<rolle><code> 02 </code></rolle>",
    "<rolle><code/></rolle>",
    "<rolle>03</rolle>",
    '<rolle><x:code xmlns:x="urn:other">04</x:code></rolle>',
    "<rolle><name>Zuständig</name><code>05</code></rolle>",
)
_TIMES = (
    None,
    "2026-03-01T06:00:00+00:00",
    "2026-03-01T07:00:00+01:00",
    "2026-03-01T06:00:00Z",
    " 2026-03-01T06:00:00Z ",
    "2026-03-01T06:00:00",  # naive: Europe/Berlin
    "2026-03-01",
    "gestern",
    "",
)


def _version(when: str | None, first: bool = True) -> str:
    if when is None:
        return ""
    other = "<version>1</version>"
    changed = f"<geaendertDatumZeit>{when}</geaendertDatumZeit>"
    inner = changed + other if first else other + changed
    return f"<versionsinformation>{inner}</versionsinformation>"


def _generated_zto(draw, number: int) -> str:
    """A Zuständigkeit that usually suits the fast path, each part sometimes not."""
    from hypothesis import strategies as st

    def pick(options, usual=1):
        """One of the first *usual* options mostly, any option now and then."""
        rare = draw(st.integers(min_value=0, max_value=5)) == 0
        return draw(st.sampled_from(options if rare else options[:usual]))

    if draw(st.integers(min_value=0, max_value=5)) == 0:
        areas = draw(st.lists(st.sampled_from(_AREAS), min_size=0, max_size=3))
    else:
        areas = [draw(st.sampled_from(_AREAS[:3]))]
    zid = pick((f"Z{number}", f" Z{number} ", ""), 2)
    leistung, leistung_scheme = pick(_LEISTUNGEN, 1 + 2 * draw(st.booleans()) + 1)
    parts = [
        f'<id schemeAgencyID="{pick(_AGENCIES, 3)}" schemeID="{pick(_ID_SCHEMES, 2)}">{zid}</id>',
        f'<leistungID schemeAgencyID="{pick(_AGENCIES, 3)}" schemeID="{leistung_scheme}">'
        f"{leistung}</leistungID>",
        *(f"<gebietID>{area}</gebietID>" for area in areas),
        pick(_ROLES, 3),
        _version(pick(_TIMES, 7), draw(st.booleans())),
    ]
    order = draw(st.permutations(range(len(parts)))) if draw(st.booleans()) else range(len(parts))
    target_scheme = draw(st.sampled_from(("Onlinedienst", "Organisationseinheit")))
    outer_version = _version(pick(_TIMES, 7)) if draw(st.booleans()) else ""
    return (
        "<schreibe><zustaendigkeitTransferObjekt>"
        f'<uebergeordnetesObjektID schemeAgencyID="{pick(_AGENCIES, 3)}" '
        f'schemeID="{target_scheme}">{pick(("OD1", " OD1 ", "OE1", ""), 3)}'
        "</uebergeordnetesObjektID>"
        + outer_version
        + "<zustaendigkeit>"
        + "".join(parts[i] for i in order)
        + "</zustaendigkeit></zustaendigkeitTransferObjekt></schreibe>"
    )


def test_the_fast_path_equals_the_general_path_on_generated_zustaendigkeiten(monkeypatch):
    """Varied ids, whitespace, schemes, Leistungen, areas, roles and timestamps."""
    from efa_xzufi.parser import _DATETIME_CACHE
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    hits: list[bool] = []
    real = RecordMapper.fast_transfer_objekt

    def counting(self, element, **options):
        result = real(self, element, **options)
        hits.append(result is not None)
        return result

    monkeypatch.setattr(RecordMapper, "fast_transfer_objekt", counting)
    head = (
        _leistung("L1")
        + _leistung("L2", "99041006017000").replace(
            "</referenzLeiKa>",
            "</referenzLeiKa><referenzLeiKa><code>99115005104000</code></referenzLeiKa>",
        )
        + '<schreibe><leistung><id schemeAgencyID="A" schemeID="Leistung">L3</id>'
        "</leistung></schreibe>"
        '<schreibe><onlinedienst><id schemeAgencyID="A" schemeID="Onlinedienst">OD1</id>'
        "<bezeichnung>Dienst</bezeichnung></onlinedienst></schreibe>"
    )
    taken: list[bool] = []

    @settings(
        max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
    )
    @given(st.data())
    def check(data):
        count = data.draw(st.integers(min_value=1, max_value=4))
        body = [_generated_zto(data.draw, number) for number in range(count)]
        message = _message(head, *body)
        # the timestamp cache is shared: emptied so that neither path reads the other's
        _DATETIME_CACHE.clear()
        general = _general_path(message)
        _DATETIME_CACHE.clear()
        hits.clear()
        fast = list(parse_transfer_message(message))
        assert fast == general
        taken.extend(hits)

    check()
    # both paths were exercised: the fast path took some, left others to the general path
    assert True in taken
    assert False in taken


def test_the_trusted_responsibility_equals_the_validated_one():
    """The fast path's constructor skips validators, never what the record holds."""
    from efa_xzufi import mapping

    assert mapping._TRUSTED  # else the fast path silently uses the constructor
    when = datetime(2026, 3, 1, 6, tzinfo=timezone.utc)
    for role, modified, rid, leistung in (
        ("01", when, "A_ZustaendigkeitOnlinedienst_Z1", "A_Leistung_L1"),
        (None, None, "_ZustaendigkeitOnlinedienst_Z2", None),
    ):
        arguments = (ANMELDUNG, Ars("16055"), TargetKind.ONLINEDIENST, "A_Onlinedienst_OD1")
        trusted = mapping._trusted_responsibility(*arguments, rid, leistung, role, modified)
        validated = Responsibility(
            leika_key=ANMELDUNG,
            ars=Ars("16055"),
            target_kind=TargetKind.ONLINEDIENST,
            target_id="A_Onlinedienst_OD1",
            responsibility_id=rid,
            leistung_id=leistung,
            role=role,
            modified_at=modified,
        )
        assert type(trusted) is Responsibility
        assert trusted == validated
        assert hash(trusted) == hash(validated)
        assert repr(trusted) == repr(validated)
        assert mapping._trusted_upsert(trusted) == Upsert(validated)
        assert mapping._trusted_upsert(trusted).fingerprint is None


def test_the_trusted_constructors_are_refused_for_a_changed_class():
    """A record class with another field, or a post-init hook, is built by its constructor."""
    import attrs
    from efa_xzufi import mapping

    fields = mapping._RESPONSIBILITY_FIELDS
    assert mapping._settable_as_attrs_does(Responsibility, fields)

    @attrs.frozen(kw_only=True)
    class Wider:
        leika_key: object
        ars: object
        target_kind: object
        target_id: object
        responsibility_id: object
        leistung_id: object
        role: object
        modified_at: object
        extra: object = None

    @attrs.frozen(kw_only=True)
    class Hooked:
        leika_key: object
        ars: object
        target_kind: object
        target_id: object
        responsibility_id: object
        leistung_id: object
        role: object
        modified_at: object

        def __attrs_post_init__(self) -> None:
            pass

    @attrs.frozen(kw_only=True)
    class Converted:
        leika_key: object
        ars: object
        target_kind: object
        target_id: str = attrs.field(converter=str.strip)
        responsibility_id: object
        leistung_id: object
        role: object
        modified_at: object

    assert not mapping._settable_as_attrs_does(Wider, fields)
    assert not mapping._settable_as_attrs_does(Hooked, fields)
    assert not mapping._settable_as_attrs_does(Converted, fields)
    assert not mapping._settable_as_attrs_does(dict, fields)
    # Upsert's fingerprint converter is allowed because it keeps None as None
    assert mapping._settable_as_attrs_does(Upsert, ("record", "fingerprint"), {"fingerprint"})
    assert not mapping._settable_as_attrs_does(Upsert, ("record", "fingerprint"))
