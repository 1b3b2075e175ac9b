"""Writing transfer messages, and reading them back to the same records."""

from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone

import pytest
from efa_xzufi import (
    XZUFI_2_2_0_NAMESPACE,
    TransferMessageReader,
    XZuFiWriteError,
    parse_transfer_message,
    write_transfer_message,
)
from lxml import etree

from efa_core.connectors import Delete, Upsert
from efa_core.ids import Ars, LeikaKey
from efa_core.model import Responsibility, Service, TargetKind

KEY = LeikaKey("99115005104000")
OD = "S16000_Onlinedienst_OD-4711"
CET = timezone(timedelta(hours=1))


def responsibility(ars: str, number: int, **changes) -> Responsibility:
    fields = {
        "leika_key": KEY,
        "ars": Ars(ars),
        "target_kind": TargetKind.ONLINEDIENST,
        "target_id": OD,
        "responsibility_id": f"S16000_ZustaendigkeitOnlinedienst_Z-{number}",
        "leistung_id": "S16000_Leistung_L-ANMELDUNG",
        "role": "01",
        "modified_at": datetime(2026, 3, 1, 8, 0, tzinfo=CET),
    }
    fields.update(changes)
    return Responsibility(**fields)


SERVICE = Service(
    key=OD,
    name="Online-Anmeldung",
    leika_keys=(KEY,),
    url="https://anmeldung.example.org/start",
    modified_at=datetime(2026, 2, 1, tzinfo=timezone.utc),
    onlinedienst_ids=(OD,),  # read back: the Onlinedienst is its own implementation
)


def upserted(data: bytes):
    changes = parse_transfer_message(data, organisation_units=False, raw_objects=False)
    return [c.record for c in changes if isinstance(c, Upsert)]


def test_round_trip_gives_the_same_records():
    records = [responsibility("16055", 1), responsibility("16051", 2, role=None)]
    out = io.BytesIO()
    summary = write_transfer_message(
        records, SERVICE, sender="Land Thüringen", out=out, include_leistungen=True
    )
    assert (summary.responsibilities, summary.onlinedienste, summary.leistungen) == (2, 1, 1)
    assert upserted(out.getvalue()) == [*records, SERVICE]


def test_written_message_has_the_documented_shape():
    out = io.BytesIO()
    write_transfer_message(
        [responsibility("16055", 1)],
        sender="Land Thüringen",
        receiver="LRS Thüringen",
        out=out,
        message_id="m-1",
        created_at=datetime(2026, 3, 1, tzinfo=timezone.utc),
    )
    root = etree.fromstring(out.getvalue())
    ns = {"x": XZUFI_2_2_0_NAMESPACE}
    assert root.get("xzufiVersion") == "2.2.0"
    assert root.findtext("x:nachrichtenkopf/x:nachrichtUUID", namespaces=ns) == "m-1"
    assert root.findtext("x:nachrichtenkopf/x:sender", namespaces=ns) == "Land Thüringen"
    assert root.findtext("x:nachrichtenkopf/x:empfaenger", namespaces=ns) == "LRS Thüringen"
    [zid] = root.findall("x:schreibe/x:zustaendigkeitTransferObjekt/x:zustaendigkeit/x:id", ns)
    assert (zid.text, zid.get("schemeAgencyID"), zid.get("schemeID")) == (
        "Z-1",
        "S16000",
        "ZustaendigkeitOnlinedienst",
    )
    [gebiet] = root.iterfind(".//x:gebietID", ns)
    assert gebiet.text == "16055"
    [code] = root.iterfind(".//x:rolle/code", ns)  # XÖV code values are unqualified
    assert code.text == "01"


def test_missing_ids_are_invented_stably_and_read_back():
    record = responsibility("16055", 0, responsibility_id=None, leistung_id=None)
    first, second = io.BytesIO(), io.BytesIO()
    write_transfer_message(
        [record], sender="x", out=first, message_id="m", created_at=SERVICE.modified_at
    )
    write_transfer_message(
        [record], sender="x", out=second, message_id="m", created_at=SERVICE.modified_at
    )
    assert first.getvalue() == second.getvalue()
    [back] = upserted(first.getvalue())
    assert back.responsibility_id.startswith("S16000_ZustaendigkeitOnlinedienst_efa-")
    assert back.leistung_id is None  # referenced by LeiKa key, read back as the key
    assert back == responsibility(
        "16055", 0, responsibility_id=back.responsibility_id, leistung_id=None
    )


def test_deletes_become_loesche_entries():
    out = io.BytesIO()
    summary = write_transfer_message(
        [],
        sender="x",
        out=out,
        deletes=[
            Delete("responsibility", "S16000_ZustaendigkeitOnlinedienst_Z-9"),
            Delete("service", OD),
            Delete("route", "whatever"),
            Delete("responsibility", "99115005104000@16055->onlinedienst:x"),
        ],
    )
    assert summary.deletes == 2
    changes = list(parse_transfer_message(out.getvalue()))
    assert changes == [
        Delete("responsibility", "S16000_ZustaendigkeitOnlinedienst_Z-9"),
        Delete("service", OD),
    ]


def test_ids_that_are_not_composite_are_refused():
    with pytest.raises(XZuFiWriteError, match=r"target_id: 'S16000_4711' is not a composite"):
        write_transfer_message(
            [responsibility("16055", 1, target_id="S16000_4711")], sender="x", out=io.BytesIO()
        )
    with pytest.raises(XZuFiWriteError, match="does not match the target kind"):
        write_transfer_message(
            [responsibility("16055", 1, target_kind=TargetKind.ORGANISATIONSEINHEIT)],
            sender="x",
            out=io.BytesIO(),
        )


def test_writing_to_a_path_is_atomic(tmp_path):
    target = tmp_path / "XZUFI1.xml"
    write_transfer_message([responsibility("16055", 1)], sender="x", out=target)
    assert [p.name for p in tmp_path.iterdir()] == ["XZUFI1.xml"]
    assert len(list(TransferMessageReader(target))) == 1

    def broken():
        yield responsibility("16051", 2)
        raise RuntimeError("planner failed")

    with pytest.raises(RuntimeError, match="planner failed"):
        write_transfer_message(broken(), sender="x", out=target)
    # the old file is untouched and no temporary file is left behind
    assert [p.name for p in tmp_path.iterdir()] == ["XZUFI1.xml"]
    assert len(list(TransferMessageReader(target))) == 1
