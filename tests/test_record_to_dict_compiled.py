"""The compiled ``record_to_dict`` and ``prepare`` write exactly what the generic path wrote.

:func:`efa_core.serialization.record_to_dict` is compiled per record class (issue 15: the
generic cattrs hook cost a third of ``prepare``), and ``prepare`` computes the typed columns
and the key hash with fewer calls.  The stored bytes must not change: payload, content
hash, key hash and typed columns are compared with the generic computation on every record
type, and loosely typed values (the identifier and enum fields are not type-checked by the
records) behave as before.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

import orjson
import pytest
from hypothesis import given, settings

from efa_core.connectors import Upsert, key_hash
from efa_core.errors import ValidationError
from efa_core.ids import Ars, Land, LeikaKey
from efa_core.model import RECORD_TYPES, Area, Record, Responsibility, Service, TargetKind
from efa_core.serialization import _generic_record_to_dict, content_hash, record_to_dict
from efa_core.store import prepare
from efa_core.store._prepare import _typed_columns
from efa_core.store.types import PreparedUpsert
from strategies import RECORD_STRATEGIES, records


def _reference(record: Record) -> tuple[Any, ...]:
    """What ``prepare`` stored before: the generic dict, canonical JSON, hashes, columns."""
    payload = orjson.dumps(_generic_record_to_dict(record), option=orjson.OPT_SORT_KEYS)
    modified = getattr(record, "modified_at", None)
    return (
        record.KIND,
        record.natural_key,
        key_hash(record.KIND, record.natural_key),
        payload.decode(),
        hashlib.blake2b(payload, digest_size=20).hexdigest(),
        *_typed_columns(record),
        modified if isinstance(modified, datetime) else None,
    )


def test_every_record_type_has_a_strategy() -> None:
    assert set(RECORD_STRATEGIES) == set(RECORD_TYPES)


@settings(max_examples=300)
@given(records())
def test_compiled_record_to_dict_is_the_generic_one(record: Record) -> None:
    fast, generic = record_to_dict(record), _generic_record_to_dict(record)
    assert list(fast.items()) == list(generic.items())  # same keys, values and order
    assert orjson.dumps(fast) == orjson.dumps(generic)


@settings(max_examples=300)
@given(records())
def test_prepare_stores_the_same_bytes_and_hashes(record: Record) -> None:
    reference = _reference(record)
    if "\\u0000" in reference[3] or "\x00" in reference[1]:
        with pytest.raises(ValidationError, match="NUL character"):
            prepare(Upsert(record))
        return
    prepared = prepare(Upsert(record, fingerprint=b"f" * 16))
    assert isinstance(prepared, PreparedUpsert)
    got = (
        prepared.kind,
        prepared.natural_key,
        prepared.key_hash,
        prepared.payload,
        prepared.content_hash,
        prepared.leika_key,
        prepared.ars,
        prepared.modified_at,
    )
    assert got == reference
    assert prepared.content_hash == content_hash(record)
    assert prepared.fingerprint == b"f" * 16


def test_identifiers_and_enums_that_are_not_of_their_class_behave_as_before() -> None:
    # Plain strings where identifiers are declared: str() of them, as the generic hook.
    loose = Responsibility(
        leika_key="99115005104000",  # type: ignore[arg-type]
        ars="16055",  # type: ignore[arg-type]
        target_kind=TargetKind.ONLINEDIENST,
        target_id="S1",
    )
    assert list(record_to_dict(loose).items()) == list(_generic_record_to_dict(loose).items())
    assert prepare(Upsert(loose)).payload == _reference(loose)[3]  # type: ignore[union-attr]
    area = Area(ars="16055", name="X")  # type: ignore[arg-type]
    assert record_to_dict(area) == _generic_record_to_dict(area)

    # An identifier subclass with its own str() goes through str().
    class Odd(LeikaKey):
        def __str__(self) -> str:
            return "odd"

    odd = Responsibility(
        leika_key=Odd("99115005104000"),
        ars=Ars("16"),
        target_kind=TargetKind.ORGANISATIONSEINHEIT,
        target_id="x",
    )
    assert record_to_dict(odd)["leika_key"] == "odd" == _generic_record_to_dict(odd)["leika_key"]
    # A string where an enum is declared fails the same way on both paths.
    bad = Responsibility(
        leika_key=LeikaKey("99115005104000"),
        ars=Ars("16"),
        target_kind="onlinedienst",  # type: ignore[arg-type]
        target_id="x",
    )
    with pytest.raises(AttributeError) as generic_error:
        _generic_record_to_dict(bad)
    with pytest.raises(AttributeError) as fast_error:
        record_to_dict(bad)
    assert str(fast_error.value) == str(generic_error.value)
    service = Service(key="s", name="S", leika_keys=(LeikaKey("99115005104000"),), land=Land.TH)
    assert list(record_to_dict(service).items()) == list(_generic_record_to_dict(service).items())
