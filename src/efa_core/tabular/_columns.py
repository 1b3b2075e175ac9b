"""Logical fields, the header aliases that carry them, and mapping a header row onto them."""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from types import MappingProxyType
from typing import Any

import attrs

__all__ = ["ColumnMap", "Field", "MissingColumns", "Schema", "fold"]

_UMLAUTS = (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss"))


@functools.lru_cache(maxsize=4096)
def fold(text: str) -> str:
    """Fold a header or label for comparison: case, umlauts, punctuation and spacing ignored.

    ``"LeiKa-Schlüssel"`` and ``"leika schluessel"`` fold to the same text
    (``"leika schluessel"``); so do ``"Angebots-Nr."`` and ``"angebots nr"``.
    """
    folded = unicodedata.normalize("NFKC", text).casefold()
    for umlaut, plain in _UMLAUTS:
        folded = folded.replace(umlaut, plain)
    return " ".join("".join(ch if ch.isalnum() else " " for ch in folded).split())


def _name(inst: object, attribute: attrs.Attribute[Any], value: str) -> None:
    if not value or not value.isidentifier():
        raise ValueError(f"Field.name must be an identifier such as 'service_name', got {value!r}")


def _str_tuple(values: Iterable[str]) -> tuple[str, ...]:
    if isinstance(values, str):
        return (values,)
    return tuple(values)


@attrs.frozen
class Field:
    """A logical field of a table: its name, what it holds, and the headers that carry it.

    :param name: the logical name, an identifier (``"service_name"``); accepted as a
        header too, which is handy for hand-written files.
    :param description: what the field holds, for people (used in error messages).
    :param headers: the headers that carry the field, most specific first
        (``("Leistung", "Onlinedienst", "Name")``); compared folded (:func:`fold`).
    :param required: a table without a column for this field is not understood.
    """

    name: str = attrs.field(validator=_name)
    description: str
    headers: tuple[str, ...] = attrs.field(default=(), converter=_str_tuple)
    required: bool = attrs.field(default=False, kw_only=True)

    def accepted(self, override: str | None = None) -> tuple[str, ...]:
        """Return the accepted headers: *override* if given, else the defaults and the name."""
        if override is not None:
            return (override,)
        return (*self.headers, self.name)


def _fields(values: Iterable[Field]) -> tuple[Field, ...]:
    return tuple(values)


def _groups(values: Iterable[Iterable[str]]) -> tuple[tuple[str, ...], ...]:
    return tuple(_str_tuple(group) for group in values)


@attrs.frozen
class Schema:
    """The logical fields a table is read into, and which of them it must have.

    ``Schema([Field("ars", "the area's ARS", ("ARS", "Regionalschlüssel"), required=True),
    Field("wave", "the rollout wave", ("Welle", "Tranche"))])`` reads a table with an ARS
    column and an optional wave column.  *one_of* names groups of fields of which the
    table needs at least one column each, e.g. ``[("service_key", "service_name")]``.
    """

    fields: tuple[Field, ...] = attrs.field(converter=_fields)
    one_of: tuple[tuple[str, ...], ...] = attrs.field(default=(), converter=_groups)

    def __attrs_post_init__(self) -> None:
        names = [field.name for field in self.fields]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"Schema: field(s) {', '.join(duplicates)} defined twice")
        for group in self.one_of:
            unknown = [name for name in group if name not in names]
            if not group or unknown:
                raise ValueError(
                    f"Schema.one_of: group {group!r} names unknown field(s) {unknown!r}"
                )

    def __iter__(self) -> Iterator[Field]:
        return iter(self.fields)

    def __contains__(self, name: object) -> bool:
        return any(field.name == name for field in self.fields)

    def __getitem__(self, name: str) -> Field:
        for field in self.fields:
            if field.name == name:
                return field
        raise KeyError(name)

    @property
    def names(self) -> tuple[str, ...]:
        """The logical field names, in order."""
        return tuple(field.name for field in self.fields)

    @property
    def required_groups(self) -> tuple[tuple[str, ...], ...]:
        """Every group a table needs a column of: required fields alone, then :attr:`one_of`."""
        return (*((f.name,) for f in self.fields if f.required), *self.one_of)

    def check_columns(self, columns: Mapping[str, str]) -> None:
        """Check a ``columns`` option (logical field → header): known fields, non-blank headers.

        :raises ValueError: naming the unknown fields and the known ones, or the blank header.
        """
        unknown = sorted(set(columns) - set(self.names))
        if unknown:
            raise ValueError(
                f"columns: unknown field(s) {', '.join(map(repr, unknown))}; known fields: "
                + ", ".join(sorted(self.names))
            )
        for name, header in columns.items():
            if not isinstance(header, str) or not header.strip():
                raise ValueError(f"columns.{name} must name a header, not be empty")

    def resolve(self, header: Sequence[str], columns: Mapping[str, str] | None = None) -> ColumnMap:
        """Map the fields onto the columns of *header* (a header row's texts).

        *columns* (logical field → header) replaces the default headers of those fields.
        Each field takes the first of its accepted headers present (the leftmost column if
        a header repeats).  Columns no field claims are ignored.

        :raises MissingColumns: a required field or group has no column; the message names
            the fields, the headers accepted for them and the headers found.
        """
        overrides = columns or {}
        positions: dict[str, int] = {}
        for index, text in enumerate(header):
            key = fold(text)
            if key:
                positions.setdefault(key, index)
        indexes: dict[str, int] = {}
        for field in self.fields:
            for candidate in field.accepted(overrides.get(field.name)):
                found = positions.get(fold(candidate))
                if found is not None:
                    indexes[field.name] = found
                    break
        problems = []
        missing: list[str] = []
        for group in self.required_groups:
            if any(name in indexes for name in group):
                continue
            missing.extend(group)
            wanted = " or ".join(group)
            accepted = ", ".join(
                repr(h) for name in group for h in self[name].accepted(overrides.get(name))
            )
            what = "; ".join(self[name].description for name in group)
            problems.append(
                f"no column for {wanted} ({what}); accepted headers: {accepted} "
                f"(name another with the option columns.{group[0]})"
            )
        if problems:
            found_headers = ", ".join(repr(h) for h in header if h.strip()) or "none"
            raise MissingColumns(
                "; ".join(problems) + f"; headers found: {found_headers}", tuple(missing)
            )
        return ColumnMap(
            header=tuple(header),
            indexes=MappingProxyType(indexes),
            headers=MappingProxyType({name: header[i] for name, i in indexes.items()}),
        )


@attrs.frozen
class ColumnMap:
    """Where the logical fields are in one table: found by :meth:`Schema.resolve`."""

    #: The header row's texts, as written.
    header: tuple[str, ...]
    #: Logical field → column index (0-based).
    indexes: Mapping[str, int]
    #: Logical field → the header text as written in the file.
    headers: Mapping[str, str]


class MissingColumns(ValueError):
    """A header row lacks required fields; the message says which and what is accepted."""

    def __init__(self, message: str, missing: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.message = message
        #: The logical fields without a column.
        self.missing = missing
