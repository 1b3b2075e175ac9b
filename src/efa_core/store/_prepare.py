"""Turn connector changes into what the store writes: keys, hashes, payload, typed columns."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from hashlib import blake2b
from typing import Any

import attrs
import orjson

from efa_core.connectors import Delete, Upsert
from efa_core.errors import ValidationError
from efa_core.model import RECORD_TYPES
from efa_core.serialization import record_to_dict
from efa_core.store._keys import key_hash
from efa_core.store.types import PreparedDelete, PreparedUpsert

__all__ = ["prepare"]


def _typed_columns_fn(cls: type[Any]) -> Callable[[Any], tuple[str | None, str | None]]:
    """Return :func:`_typed_columns` for records of *cls*, without the look-ups it skips.

    A record class whose ``leika_key`` and ``ars`` are fields gets a function that reads
    just those two (the other branches of :func:`_typed_columns` only run when they are
    ``None``); any other class gets :func:`_typed_columns` itself.
    """
    names = {field.name for field in attrs.fields(cls)} if attrs.has(cls) else set()
    if not {"leika_key", "ars"} <= names:
        return _typed_columns

    def typed_columns(record: Any) -> tuple[str | None, str | None]:
        leika = record.leika_key
        ars = record.ars
        if leika is None or ars is None:
            return _typed_columns(record)
        return str(leika), str(ars)

    return typed_columns


#: Record class -> its :func:`_typed_columns_fn`.
_TYPED_COLUMNS: dict[type, Callable[[Any], tuple[str | None, str | None]]] = {}


def _typed_columns(record: Any) -> tuple[str | None, str | None]:
    """Return ``(leika_key, ars)`` of a record, for the mirror's indexed columns.

    The LeiKa key is the record's ``leika_key`` or, for a service, its first LeiKa key;
    the ARS is the record's ``ars`` or, for an agreement, its subscriber's ARS.
    """
    leika = getattr(record, "leika_key", None)
    if leika is None:
        keys = getattr(record, "leika_keys", None)
        if keys:
            leika = keys[0]
    ars = getattr(record, "ars", None)
    if ars is None:
        subscriber = getattr(record, "subscriber", None)
        ars = getattr(subscriber, "ars", None)
    return (None if leika is None else str(leika), None if ars is None else str(ars))


#: Why a record with a NUL character is quarantined (PostgreSQL cannot store one in text
#: or JSON; SQLite could, but both backends must keep the same records).
NUL_PROBLEM = (
    "contains a NUL character (U+0000), which the store cannot keep; remove it at the source"
)


def _nul_paths(value: Any, path: str) -> list[str]:
    if isinstance(value, str):
        return [path] if "\x00" in value else []
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _nul_paths(v, f"{path}.{k}")]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _nul_paths(v, f"{path}[{i}]")]
    return []


def _refuse_nul(data: Any, natural_key: str) -> None:
    """Raise a ValidationError naming every field with a NUL character (if there is one)."""
    paths = _nul_paths(data, "$")
    if "\x00" in natural_key and not paths:
        paths = ["$ (natural key)"]
    if paths:
        raise ValidationError([(path, NUL_PROBLEM) for path in paths])


def prepare(change: Upsert | Delete) -> PreparedUpsert | PreparedDelete:
    """Compute what the store needs to apply *change*.

    An upsert's payload is :func:`efa_core.serialization.record_to_dict` as canonical JSON
    (sorted keys); its content hash is the BLAKE2b-160 of exactly those bytes, which is
    :func:`efa_core.serialization.content_hash` computed without serializing twice.

    :raises efa_core.errors.ValidationError: the change is not an Upsert of a known record
        type or a Delete with a known kind and a non-blank key, or a text of it holds a NUL
        character (the record is quarantined then, on either backend).
    """
    if isinstance(change, Upsert):
        record = change.record
        kind = getattr(record, "KIND", None)
        if not isinstance(kind, str) or RECORD_TYPES.get(kind) is not type(record):
            raise ValidationError(
                [("$", f"not a record of a known kind: {type(record).__qualname__}")]
            )
        try:
            natural_key = record.natural_key
            data = record_to_dict(record)
        except Exception as exc:
            raise ValidationError([("$", f"cannot serialize {kind} record: {exc}")]) from exc
        if not isinstance(natural_key, str) or not natural_key.strip():
            raise ValidationError([("$", f"{kind} record has a blank natural key")])
        payload = orjson.dumps(data, option=orjson.OPT_SORT_KEYS)
        if b"\\u0000" in payload or "\x00" in natural_key:
            _refuse_nul(data, natural_key)
        cls = type(record)
        typed_columns = _TYPED_COLUMNS.get(cls)
        if typed_columns is None:
            typed_columns = _TYPED_COLUMNS[cls] = _typed_columns_fn(cls)
        leika, ars = typed_columns(record)
        modified = getattr(record, "modified_at", None)
        # Positional, in the order of PreparedUpsert's fields (cheaper than keywords).
        return PreparedUpsert(
            kind,
            natural_key,
            key_hash(kind, natural_key),
            payload.decode(),
            blake2b(payload, digest_size=20).hexdigest(),
            leika,
            ars,
            modified if isinstance(modified, datetime) else None,
            change,
            change.fingerprint,
        )
    if isinstance(change, Delete):
        if change.kind not in RECORD_TYPES:
            known = ", ".join(sorted(RECORD_TYPES))
            raise ValidationError(
                [("$.kind", f"unknown kind {change.kind!r}; known kinds: {known}")]
            )
        if not isinstance(change.key, str) or not change.key.strip():
            raise ValidationError([("$.key", "a delete needs a non-blank natural key")])
        if "\x00" in change.key:
            raise ValidationError([("$.key", NUL_PROBLEM)])
        return PreparedDelete(
            kind=change.kind,
            natural_key=change.key,
            key_hash=key_hash(change.kind, change.key),
            change=change,
        )
    raise ValidationError([("$", f"not an Upsert or Delete: {type(change).__qualname__}")])
