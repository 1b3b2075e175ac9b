"""Turning records and other attrs values into JSON-ready data and back.

One private cattrs converter (built once, at import) does all the work; this module only
exposes functions:

* :func:`unstructure` / :func:`structure`: attrs values <-> plain data (dicts, lists, str,
  int, float, bool, None);
* :func:`to_json` / :func:`from_json`: the same as JSON bytes (orjson);
* :func:`record_to_dict` / :func:`record_from_dict`: records with a ``"kind"`` key, so any
  record can be read back without knowing its class;
* :func:`content_hash`: a stable hash of a record's content.

The plain form is strict and canonical:

* identifiers (LeiKa key, ARS, AGS, OZG id, Land) are their canonical strings; reading
  goes through ``Type.parse``, so the URN forms and surrounding whitespace are accepted;
* datetimes are ISO 8601 strings with their offset (``2024-05-01T12:00:00+02:00``); a
  trailing ``Z`` is accepted, naive datetimes are rejected; dates (a plan's Stichtag) are
  ``YYYY-MM-DD`` strings;
* enums are their values, UUIDs their canonical strings, tuples are lists;
* decimals (a service's price) are strings as :class:`~decimal.Decimal` writes itself
  (``"1234.50"`` keeps its trailing zero); reading takes a string only, because a JSON
  number would be a binary float and could round (``0.1``);
* a :class:`~efa_core.secret.Secret` is written as the mask ``**********`` (so it never
  leaks) and read from a plain string;
* ``str``, ``int``, ``float`` and ``bool`` are not coerced: ``"12"`` is not an int and
  ``"false"`` is not a bool;
* unknown keys are errors (``forbid_extra_keys``).

Reading collects **every** problem and raises one :class:`efa_core.errors.ValidationError`
whose problems are ``(path, message)`` pairs with paths like ``$.leika_keys[2]``; the
message is the underlying error's own (e.g. ``LeiKa key '9911500510400' has 13 digits; a
LeiKa key has 14``), ``required field missing`` or ``extra fields found: x, y``.
"""

from __future__ import annotations

import collections.abc
import enum
import hashlib
import uuid
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Final, TypeVar, get_args, get_origin, get_type_hints

import attrs
import orjson
from cattrs import BaseConverter, BaseValidationError, ClassValidationError, IterableValidationError
from cattrs.errors import ForbiddenExtraKeysError, IterableValidationNote
from cattrs.fns import identity
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override
from cattrs.preconf.orjson import make_converter

from efa_core import ids
from efa_core.errors import ValidationError
from efa_core.model import RECORD_TYPES, InvalidField, Record, Transition
from efa_core.secret import MASK, Secret

__all__ = [
    "content_hash",
    "from_json",
    "record_from_dict",
    "record_to_dict",
    "structure",
    "to_json",
    "unstructure",
]

_T = TypeVar("_T")

#: Fields whose serialized key differs from the attribute name: class -> {attribute: key}.
_RENAMES: Final[Mapping[type, Mapping[str, str]]] = {Transition: {"from_": "from"}}

#: The record kinds, for error messages.
_KNOWN_KINDS: Final = ", ".join(sorted(RECORD_TYPES))


def _describe(value: object) -> str:
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{type(value).__name__} {text}"


# --------------------------------------------------------------------------------------
# hooks
# --------------------------------------------------------------------------------------


def _structure_str(value: object, _: object) -> str:
    if isinstance(value, str):
        return value
    raise TypeError(f"expected a string, got {_describe(value)}")


def _structure_int(value: object, _: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise TypeError(f"expected an integer, got {_describe(value)}")


def _structure_float(value: object, _: object) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    raise TypeError(f"expected a number, got {_describe(value)}")


def _structure_bool(value: object, _: object) -> bool:
    if isinstance(value, bool):
        return value
    raise TypeError(f"expected true or false, got {_describe(value)}")


def _structure_datetime(value: object, _: object) -> datetime:
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        text = value.strip()
        if text[-1:] in ("Z", "z"):  # Python 3.10's fromisoformat does not know "Z"
            text = text[:-1] + "+00:00"
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"{value!r} is not an ISO 8601 datetime") from None
    else:
        raise TypeError(f"expected an ISO 8601 datetime string, got {_describe(value)}")
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ValueError(
            f"naive datetime {parsed.isoformat()!r} has no timezone; give an offset such as +00:00"
        )
    return parsed


def _unstructure_datetime(value: datetime) -> str:
    return value.isoformat()


def _structure_date(value: object, _: object) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            if len(text) == 10:
                return date.fromisoformat(text)
        except ValueError:
            pass
        raise ValueError(f"{value!r} is not a date (YYYY-MM-DD)")
    raise TypeError(f"expected a date string (YYYY-MM-DD), got {_describe(value)}")


def _unstructure_date(value: date) -> str:
    return value.isoformat()


def _structure_uuid(value: object, _: object) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    if isinstance(value, str):
        try:
            return uuid.UUID(value.strip())
        except ValueError:
            raise ValueError(f"{value!r} is not a UUID") from None
    raise TypeError(f"expected a UUID string, got {_describe(value)}")


def _structure_decimal(value: object, _: object) -> Decimal:
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            raise ValueError(f"{value!r} is not a decimal number such as '12.50'") from None
    else:
        hint = (
            " (give it as a string: a float may have lost digits)"
            if isinstance(value, float)
            else ""
        )
        raise TypeError(f"expected a decimal string such as '12.50', got {_describe(value)}{hint}")
    if not number.is_finite():
        raise ValueError(f"{value!r} is not a finite number")
    return number


def _structure_secret(value: object, _: object) -> Secret:
    if isinstance(value, Secret):
        return value
    if isinstance(value, str):
        return Secret(value)
    # never show the value: it may be a secret in the wrong shape
    raise TypeError(f"expected a string, got {type(value).__name__}")


def _unstructure_secret(_: Secret) -> str:
    return MASK


def _identifier_hooks(cls: Any) -> tuple[Callable[[Any, Any], Any], Callable[[Any], str]]:
    parse = cls.parse
    from_int = getattr(cls, "from_int", None)
    what = cls.__name__

    def structure_identifier(value: object, _: object) -> Any:
        if isinstance(value, str):
            return parse(value)
        if isinstance(value, cls):
            return value
        if from_int is not None and isinstance(value, int) and not isinstance(value, bool):
            return from_int(value)
        raise TypeError(f"expected a {what} string, got {_describe(value)}")

    return structure_identifier, str


def _is_enum(cls: Any) -> bool:
    return isinstance(cls, type) and issubclass(cls, enum.Enum)


def _enum_structure_factory(cls: type[enum.Enum]) -> Callable[[Any, Any], enum.Enum]:
    by_value = {member.value: member for member in cls}
    value_types = {type(member.value) for member in cls}
    known = ", ".join(str(member.value) for member in cls)

    def structure_enum(value: object, _: object) -> enum.Enum:
        if type(value) in value_types:
            member = by_value.get(value)
            if member is not None:
                return member
        raise ValueError(f"{value!r} is not a valid {cls.__name__}; expected one of: {known}")

    return structure_enum


def _unstructure_enum(member: enum.Enum) -> Any:
    return member.value


#: Homogeneous collection origins -> what they are built as.
_COLLECTIONS: Final[Mapping[Any, Callable[[list[Any]], Any]]] = {
    tuple: tuple,
    list: list,
    collections.abc.Sequence: tuple,
    collections.abc.MutableSequence: list,
    set: set,
    frozenset: frozenset,
    collections.abc.Set: frozenset,
    collections.abc.MutableSet: set,
}


def _is_homogeneous_collection(type_: Any) -> bool:
    origin = get_origin(type_)
    if origin not in _COLLECTIONS:
        return False
    args = get_args(type_)
    if origin is tuple:
        return len(args) == 2 and args[1] is ...
    return len(args) == 1


def _collection_structure_factory(
    type_: Any, converter: BaseConverter
) -> Callable[[Any, Any], Any]:
    """Strictly structure ``tuple[X, ...]``, ``list[X]``, ``Sequence[X]``, ``set[X]``...

    Only a JSON array (list or tuple; a set for set types) is accepted: a string is not a
    collection of characters.  Every bad item is reported with its index.
    """
    item_type = get_args(type_)[0]
    build = _COLLECTIONS[get_origin(type_)]
    structure_item = converter.get_structure_hook(item_type)

    def structure_collection(value: object, _: object) -> Any:
        if not isinstance(value, (list, tuple, set, frozenset)):
            raise TypeError(f"expected an array, got {_describe(value)}")
        items = []
        errors: list[Exception] = []
        for index, item in enumerate(value):
            try:
                items.append(structure_item(item, item_type))
            except Exception as exc:
                exc.__notes__ = [  # type: ignore[attr-defined]
                    *getattr(exc, "__notes__", []),
                    IterableValidationNote(
                        f"Structuring {type_} @ index {index}", index, item_type
                    ),
                ]
                errors.append(exc)
        if errors:
            raise IterableValidationError(f"While structuring {type_!r}", errors, type_)
        return build(items)

    return structure_collection


def _is_attrs_class(cls: Any) -> bool:
    return isinstance(cls, type) and attrs.has(cls)


def _attrs_structure_factory(cls: type[Any], converter: BaseConverter) -> Callable[[Any, Any], Any]:
    renames = {name: override(rename=key) for name, key in _RENAMES.get(cls, {}).items()}
    build = make_dict_structure_fn(cls, converter, **renames)  # type: ignore[arg-type]
    name = cls.__name__

    def structure_attrs(value: object, _: object) -> Any:
        if not isinstance(value, Mapping):
            raise TypeError(f"expected an object ({name}), got {_describe(value)}")
        return build(value, cls)

    return structure_attrs


def _attrs_unstructure_factory(
    cls: type[Any], converter: BaseConverter
) -> Callable[[Any], dict[str, Any]]:
    renames = {name: override(rename=key) for name, key in _RENAMES.get(cls, {}).items()}
    return make_dict_unstructure_fn(cls, converter, **renames)  # type: ignore[arg-type]


def _make_converter() -> Any:
    converter = make_converter(forbid_extra_keys=True, detailed_validation=True)
    # Factories registered later win over earlier ones (and over the preconf's).
    converter.register_structure_hook_factory(_is_attrs_class, _attrs_structure_factory)
    converter.register_unstructure_hook_factory(_is_attrs_class, _attrs_unstructure_factory)
    converter.register_structure_hook_factory(
        _is_homogeneous_collection, _collection_structure_factory
    )
    converter.register_structure_hook_factory(_is_enum, _enum_structure_factory)
    converter.register_unstructure_hook_factory(_is_enum, lambda _: _unstructure_enum)
    # Class hooks beat factories, so identifiers (attrs classes, or an enum for Land) and
    # primitives are handled here, strictly.
    for identifier in (ids.LeikaKey, ids.Ars, ids.Ags, ids.OzgId, ids.Land):
        structure_hook, unstructure_hook = _identifier_hooks(identifier)
        converter.register_structure_hook(identifier, structure_hook)
        converter.register_unstructure_hook(identifier, unstructure_hook)
    converter.register_structure_hook(str, _structure_str)
    converter.register_structure_hook(int, _structure_int)
    converter.register_structure_hook(float, _structure_float)
    converter.register_structure_hook(bool, _structure_bool)
    converter.register_structure_hook(datetime, _structure_datetime)
    converter.register_unstructure_hook(datetime, _unstructure_datetime)
    converter.register_structure_hook(date, _structure_date)
    converter.register_unstructure_hook(date, _unstructure_date)
    converter.register_structure_hook(uuid.UUID, _structure_uuid)
    converter.register_unstructure_hook(uuid.UUID, str)
    converter.register_structure_hook(Decimal, _structure_decimal)
    converter.register_unstructure_hook(Decimal, str)
    converter.register_structure_hook(Secret, _structure_secret)
    converter.register_unstructure_hook(Secret, _unstructure_secret)
    return converter


_converter: Final = _make_converter()


# --------------------------------------------------------------------------------------
# errors
# --------------------------------------------------------------------------------------


def _message(exc: BaseException) -> str:
    if isinstance(exc, InvalidField):
        return exc.message
    if isinstance(exc, KeyError):
        return "required field missing"
    if isinstance(exc, ForbiddenExtraKeysError):
        return f"extra fields found: {', '.join(sorted(exc.extra_fields))}"
    if isinstance(exc, (ValueError, TypeError)) and str(exc):
        return str(exc)
    if isinstance(exc, AttributeError) and str(exc).endswith("has no attribute 'items'"):
        return "expected an object (mapping)"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _key_of(cls: type, name: str) -> str:
    renames = _RENAMES.get(cls)
    return renames.get(name, name) if renames else name


def _problems(exc: BaseException, path: str) -> list[tuple[str, str]]:
    """Flatten a cattrs validation error into ``(path, message)`` pairs."""
    problems: list[tuple[str, str]] = []
    if isinstance(exc, IterableValidationError):
        with_notes, without = exc.group_exceptions()
        for sub, note in with_notes:
            index = note.index
            step = f"[{index}]" if isinstance(index, int) else f"[{index!r}]"
            problems.extend(_problems(sub, path + step))
        problems.extend((path, _message(sub)) for sub in without)
    elif isinstance(exc, ClassValidationError):
        with_attr_notes, without = exc.group_exceptions()
        for sub, attr_note in with_attr_notes:
            problems.extend(_problems(sub, f"{path}.{_key_of(exc.cl, attr_note.name)}"))
        for sub in without:
            if isinstance(sub, InvalidField):
                problems.append((f"{path}.{_key_of(exc.cl, sub.field)}", sub.message))
            else:
                problems.append((path, _message(sub)))
    else:
        problems.append((path, _message(exc)))
    return problems


# --------------------------------------------------------------------------------------
# public functions
# --------------------------------------------------------------------------------------


def unstructure(obj: Any) -> Any:
    """Return *obj* as plain, JSON-ready data (dicts, lists, str, int, float, bool, None)."""
    return _converter.unstructure(obj)


def structure(data: Any, cls: type[_T], *, context: str | None = None) -> _T:
    """Build a *cls* from plain data, validating everything.

    :param context: prefixed to the error message, e.g. ``"source 'pvog', record 17"``.
    :raises ValidationError: listing every problem as ``(path, message)``.
    """
    try:
        return _converter.structure(data, cls)  # type: ignore[no-any-return]
    except BaseValidationError as exc:
        raise ValidationError(_problems(exc, "$"), context=context) from exc
    except (ValueError, TypeError, KeyError) as exc:
        raise ValidationError([("$", _message(exc))], context=context) from exc
    except AttributeError as exc:  # cattrs' mapping hook given a non-mapping
        if not str(exc).endswith("has no attribute 'items'"):
            raise
        raise ValidationError([("$", _message(exc))], context=context) from exc


def to_json(obj: Any) -> bytes:
    """Serialize *obj* (a record or any attrs value) to JSON bytes (UTF-8)."""
    return orjson.dumps(_converter.unstructure(obj))


def from_json(
    data: bytes | bytearray | memoryview | str, cls: type[_T], *, context: str | None = None
) -> _T:
    """Parse JSON *data* and build a *cls* from it (see :func:`structure`).

    :raises ValidationError: for invalid JSON (path ``$``) and every structuring problem.
    """
    try:
        plain = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise ValidationError([("$", f"invalid JSON: {exc}")], context=context) from exc
    return structure(plain, cls, context=context)


def record_to_dict(record: Record) -> dict[str, Any]:
    """Return *record* as plain data with its kind under ``"kind"`` (the first key)."""
    cls = type(record)
    fast = _RECORD_UNSTRUCTURE.get(cls)
    if fast is None:
        fast = _RECORD_UNSTRUCTURE[cls] = _record_unstructure_fn(cls)
    return fast(record)


def _generic_record_to_dict(record: Record) -> dict[str, Any]:
    """:func:`record_to_dict` through the converter's generic hook (the reference)."""
    data: dict[str, Any] = {"kind": record.KIND}
    data.update(_converter.unstructure(record))
    return data


#: Record class -> its compiled :func:`record_to_dict` (built on first use).
_RECORD_UNSTRUCTURE: dict[type, Callable[[Any], dict[str, Any]]] = {}


#: Identifier classes whose ``str()`` (their unstructure hook) is this attribute.
_STR_ATTRIBUTE: Final[Mapping[type, str]] = {
    ids.LeikaKey: "value",
    ids.Ars: "value",
    ids.Ags: "value",
    ids.OzgId: "value",
    ids.Land: "_value_",
}


def _value_expr(
    hook: Callable[[Any], Any], type_: Any, value: str, name: str, env: dict[str, Any]
) -> str:
    """Return the Python expression that applies the unstructure *hook* of *type_* to *value*.

    An identifier's ``str()`` is read from its attribute when the value is exactly of the
    class (the fields are not type-checked, so anything else still goes through ``str``).
    """
    if hook is identity:
        return value
    attribute = _STR_ATTRIBUTE.get(type_)
    if hook is str and attribute is not None:
        env[f"{name}_cls"] = type_
        return f"({value}.{attribute} if {value}.__class__ is {name}_cls else str({value}))"
    if hook is _unstructure_datetime or hook is _unstructure_date:
        return f"{value}.isoformat()"
    if hook is _unstructure_enum and isinstance(type_, type):
        # a member's ``value`` is a property returning its ``_value_``
        env[name] = hook
        env[f"{name}_cls"] = type_
        return f"({value}._value_ if {value}.__class__ is {name}_cls else {name}({value}))"
    env[name] = hook
    return f"{name}({value})"


def _record_unstructure_fn(cls: type[Any]) -> Callable[[Any], dict[str, Any]]:
    """Compile :func:`record_to_dict` for the record class *cls*.

    The same dict as :func:`_generic_record_to_dict`, key for key and in the same order, in
    one function: the converter's own hook of each field's type is called, except that
    identity hooks, ``isoformat``, an enum's value, an identifier's string and optional
    fields (``X | None``) are written inline instead of through one call each (0.6 µs less
    a flat record; ``tests/test_record_to_dict_compiled.py`` checks the identity on every
    record type).
    A class with renamed fields keeps the generic path.
    """
    if cls in _RENAMES:
        return _generic_record_to_dict
    hints = get_type_hints(cls)
    env: dict[str, Any] = {"__kind": cls.KIND}
    items = ["'kind': __kind"]
    for index, field in enumerate(attrs.fields(cls)):
        type_ = hints[field.name]
        hook = _converter.get_unstructure_hook(type_)
        attr = f"instance.{field.name}"
        args = get_args(type_)
        if (
            getattr(hook, "__name__", "") == "unstructure_optional"
            and len(args) == 2
            and type(None) in args
        ):
            other = args[0] if args[1] is type(None) else args[1]
            inner_hook = _converter.get_unstructure_hook(other)
            inner = _value_expr(inner_hook, other, attr, f"__h{index}", env)
            expr = attr if inner == attr else f"(None if {attr} is None else {inner})"
        else:
            expr = _value_expr(hook, type_, attr, f"__h{index}", env)
        items.append(f"{field.name!r}: {expr}")
    name = f"record_to_dict_{cls.__name__}"
    source = f"def {name}(instance):\n    return {{{', '.join(items)}}}\n"
    exec(compile(source, f"<efa_core record_to_dict {cls.__name__}>", "exec"), env)  # noqa: S102
    fn: Callable[[Any], dict[str, Any]] = env[name]
    return fn


def record_from_dict(data: Mapping[str, Any], *, context: str | None = None) -> Record:
    """Build the record that ``data["kind"]`` names from plain data.

    :raises ValidationError: if the kind is missing or unknown (the message lists the known
        kinds) or the data does not fit the record.
    """
    if not isinstance(data, Mapping):
        raise ValidationError(
            [("$", f"expected an object (record), got {_describe(data)}")], context=context
        )
    if "kind" not in data:
        raise ValidationError([("$.kind", "required field missing")], context=context)
    kind = data["kind"]
    cls = RECORD_TYPES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise ValidationError(
            [("$.kind", f"unknown kind {kind!r}; known kinds: {_KNOWN_KINDS}")], context=context
        )
    fields = {key: value for key, value in data.items() if key != "kind"}
    return structure(fields, cls, context=context)


def content_hash(record: Record) -> str:
    """Return a stable hash of *record*'s content: 40 hex digits (BLAKE2b, 160 bits).

    It hashes the canonical JSON of :func:`record_to_dict` with sorted keys, so it depends
    only on the record's kind and field values: it is the same across runs, processes,
    machines and Python versions.  Records that compare equal have the same hash, except
    for datetimes that denote the same instant in different offsets (the offset is part
    of the content) and decimals that differ in trailing zeros (``12.5``, ``12.50``).
    Adding a field to a record class changes its records' hashes.
    """
    payload = orjson.dumps(record_to_dict(record), option=orjson.OPT_SORT_KEYS)
    return hashlib.blake2b(payload, digest_size=20).hexdigest()
