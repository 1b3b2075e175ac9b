"""From XZuFi objects to efa-core records: responsibilities, services, OEs, raw objects.

A Zuständigkeit names its Leistung by id (``leistungID``), not by LeiKa key, so the key
comes from the ``leistung`` objects of the same message or export directory.  A
:class:`LeistungIndex` keeps just ``composite leistung id -> LeiKa keys``, which is small
next to the Zuständigkeiten (a few hundred thousand Leistungen against millions of
Zuständigkeiten nationally).

Mapping rules (:class:`RecordMapper`):

* each ``zustaendigkeit`` becomes one :class:`~efa_core.model.Responsibility` per
  (LeiKa key of its Leistung x ``gebietID``).  Usually that is one row, whose
  ``responsibility_id`` is the Zuständigkeit's composite id.  When a Zuständigkeit
  splits into several rows, each row gets ``"<composite id>#<leika key>@<ars>"``
  (the model requires distinct keys); a ``loesche`` of the Zuständigkeit then only
  reaches a row with the plain id, which is fine for snapshots (tombstoning) but not for
  change feeds;
* a Zuständigkeit whose Leistung is unknown is **rejected** (``Rejected``, kind
  ``responsibility``) with the reason, unless its ``leistungID`` has the ``schemeID``
  :data:`~efa_xzufi.parser.LEIKA_SCHEME_ID`: then its value is the LeiKa key (this is
  how :func:`efa_xzufi.write_transfer_message` writes a reference to a Leistung whose
  editorial id is not known) and ``leistung_id`` stays ``None``;
* an ``onlinedienst`` becomes a :class:`~efa_core.model.Service` keyed by its composite
  id (also its only :attr:`~efa_core.model.Service.onlinedienst_ids`), named by its
  ``bezeichnung`` in the wanted language, with the LeiKa keys of the Zuständigkeiten that point
  at it, in key order (the Onlinedienst object lists no keys, and the order of its
  Zuständigkeiten in a file means nothing, so key order keeps the record stable between
  exports).  The keys are known only at the end, so services come last; until then the
  mapper keeps, per Onlinedienst, its keys as a sorted array of 64-bit integers (8 bytes
  per distinct (Onlinedienst, LeiKa key) pair; see :attr:`RecordMapper.held`).  That state
  is bounded by the catalogue, not by the number of Zuständigkeiten: real exports have at
  most a few thousand Onlinedienste, each serving a handful of keys.  An Onlinedienst that
  no Zuständigkeit points at is rejected (a service needs a LeiKa key);
* with ``organisation_units=True``, an ``organisationseinheit`` becomes an
  :class:`~efa_core.model.OrganisationUnit` (key: composite id; name; the ARS of its
  address); one without a name is rejected (kind ``organisation-unit``).  Its embedded 2.2
  Zuständigkeiten are mapped like the others in any case;
* with ``raw_objects=True``, ``spezialisierung``, ``leistung`` and unknown objects become
  :class:`~efa_core.model.XZuFiObject` records (``object_class`` = the element's local
  name, ``object_id`` = its composite id, ``xml`` = the element as received).  A Leistung
  is kept only if the reader kept its XML (``TransferMessageReader(...,
  leistung_xml=True)``); the :class:`LeistungIndex` works as before either way.  An object
  without an id, or whose XML is longer than ``max_raw_chars``, is rejected (kind
  ``xzufi-object``) with the reason, never cut;
* ``loesche`` becomes a :class:`~efa_core.connectors.Delete` where ``klasse`` names a kind
  that is mapped: ``Zustaendigkeit`` → ``responsibility``, ``Onlinedienst`` → ``service``,
  ``Organisationseinheit`` → ``organisation-unit``, ``Leistung`` /
  ``LeistungSpezialisierung`` (or ``Spezialisierung``) → ``xzufi-object`` with the key
  ``leistung:<id>`` / ``spezialisierung:<id>``.  Other classes (and classes whose kind is
  switched off) are counted in :attr:`RecordMapper.skipped` as ``"loesche <klasse>"``;
* whatever is not mapped (switched off, or a Leistung without its XML) is counted in
  :attr:`RecordMapper.skipped` by XZuFi kind.

The new kinds are off by default in :class:`RecordMapper` (callers such as the PVOG
connector keep mapping Zuständigkeiten only) and on by default in
:func:`parse_transfer_message` and the ``xzufi-dir`` connector.  The Zuständigkeiten' fast
path is the same either way: raw XML is serialized only for the rarer objects.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any, Final, Union

import attrs

from efa_core.connectors import Delete, Rejected, Skipped, Upsert
from efa_core.errors import EfaError, InvalidIdentifier
from efa_core.ids import Ars, LeikaKey
from efa_core.model import (
    XZUFI_XML_MAX_CHARS,
    OrganisationUnit,
    Responsibility,
    Service,
    TargetKind,
    XZuFiObject,
)
from efa_xzufi._xml import _LOCAL, DEFAULT_LIMITS, Limits, Source, local_name
from efa_xzufi.parser import (
    _ARS_CACHE,
    _DATETIME_CACHE,
    _DATETIME_CACHE_MAX,
    _SCHEME_KINDS,
    LEIKA_SCHEME_ID,
    DeleteObject,
    InvalidObject,
    LeistungObject,
    OnlinedienstObject,
    OrganisationseinheitObject,
    RawObject,
    SkippedEntry,
    TransferMessageReader,
    XZuFiId,
    XZuFiItem,
    ZustaendigkeitObject,
    _ars,
    _leika,
    _modified,
    parse_datetime,
)

__all__ = [
    "DEFAULT_MAX_RAW_CHARS",
    "LeistungIndex",
    "MappedItem",
    "RecordMapper",
    "parse_transfer_message",
]

#: The longest XML kept in an ``xzufi-object`` record by default, in characters (256 KiB).
DEFAULT_MAX_RAW_CHARS: Final = 256 * 1024

#: What mapping yields: a change, a rejected object, or input skipped with the reason.
MappedItem = Union[Upsert, Delete, Rejected, Skipped]  # noqa: UP007 - a runtime alias

_ONLINEDIENST = TargetKind.ONLINEDIENST
_RECORD_KIND_OF = {
    "zustaendigkeitTransferObjekt": "responsibility",
    "zustaendigkeit": "responsibility",
    "onlinedienst": "service",
}
_RAW_KIND: Final = XZuFiObject.KIND
_UNIT_KIND: Final = OrganisationUnit.KIND
#: ``loesche/@klasse`` of raw objects -> their ``object_class`` (the element's local name).
_RAW_CLASSES: Final = {
    "Leistung": "leistung",
    "LeistungSpezialisierung": "spezialisierung",
    "Spezialisierung": "spezialisierung",
}


_LEISTUNG_NOT_KEPT: Final = (
    "read for the LeiKa keys of its Zuständigkeiten; not kept as a record (raw objects off)"
)
_SERVICES_OFF: Final = "not mapped: services are switched off"
_UNITS_OFF: Final = "not mapped: organisation units are switched off"
_RAW_OFF: Final = "not mapped: raw objects are switched off"


def duplicate(earlier: Any, kind: str | None, raw: object, later: str) -> Rejected:
    """Quarantine the *earlier* of two objects with the same id: the later one wins."""
    ident = getattr(earlier, "id", None)
    shown = ident.composite if isinstance(ident, XZuFiId) else "?"
    return Rejected(
        kind,
        earlier.position,
        raw,
        [("id", f"duplicate id {shown!r}: also at {later}, which replaces it")],
    )


def _onlinedienst_raw(item: OnlinedienstObject) -> dict[str, object]:
    return {"id": item.id.composite, "bezeichnung": item.name, "link": item.url}


def check_max_raw_chars(value: object) -> int:
    """Return *value* if it is a valid ``max_raw_chars`` (1 to the model's maximum)."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or not 1 <= value <= XZUFI_XML_MAX_CHARS
    ):
        raise ValueError(
            f"max_raw_chars must be an integer from 1 to {XZUFI_XML_MAX_CHARS}, got {value!r}"
        )
    return value


class LeistungIndex:
    """Composite Leistung id -> its LeiKa keys, collected from ``leistung`` objects."""

    def __init__(self) -> None:
        self._keys: dict[str, tuple[LeikaKey, ...]] = {}
        self._invalid: dict[str, str] = {}

    def __len__(self) -> int:
        return len(self._keys) + len(self._invalid)

    def __contains__(self, composite: object) -> bool:
        return composite in self._keys or composite in self._invalid

    def add(self, item: LeistungObject | InvalidObject) -> None:
        """Record a Leistung (an invalid one is remembered with its position)."""
        if isinstance(item, LeistungObject):
            self._keys[item.id.composite] = item.leika_keys
            self._invalid.pop(item.id.composite, None)
        elif item.id is not None:  # the later object wins, valid or not
            self._invalid[item.id.composite] = item.position
            self._keys.pop(item.id.composite, None)

    def update(self, items: Iterable[XZuFiItem]) -> None:
        """Add every Leistung among *items* (other items are ignored)."""
        for item in items:
            if isinstance(item, LeistungObject) or (
                isinstance(item, InvalidObject) and item.kind == "leistung"
            ):
                self.add(item)

    def resolve(self, leistung_id: XZuFiId) -> tuple[LeikaKey, ...] | str:
        """Return the LeiKa keys of a Leistung, or why there are none."""
        keys = self._keys.get(leistung_id.composite)
        if keys:
            return keys
        if keys is not None:
            return f"the leistung {leistung_id.composite!r} has no referenzLeiKa (LeiKa key)"
        invalid = self._invalid.get(leistung_id.composite)
        if invalid is not None:
            return (
                f"the leistung {leistung_id.composite!r} is invalid (at {invalid}), "
                "so its LeiKa key is unknown"
            )
        return (
            f"leistungID {leistung_id.composite!r} names no leistung in this export, "
            "so the LeiKa key is unknown"
        )

    @classmethod
    def from_sources(
        cls, sources: Iterable[tuple[Source, str]], *, limits: Limits = DEFAULT_LIMITS
    ) -> LeistungIndex:
        """Build the index from ``(source, name)`` pairs, reading only ``leistung`` objects."""
        index = cls()
        for source, name in sources:
            index.update(
                TransferMessageReader(source, name=name, limits=limits, kinds=_LEISTUNG_ONLY)
            )
        return index


_LEISTUNG_ONLY = frozenset({"leistung"})


#: Local names the fast path reads; met in another namespace than the transfer object's,
#: they send the element to the general path.
_FAST_OTHER: Final = frozenset(
    {
        "zustaendigkeit",
        "uebergeordnetesObjektID",
        "versionsinformation",
        "id",
        "leistungID",
        "gebietID",
        "rolle",
    }
)
#: The qualified tags the fast path compares with, per ``zustaendigkeitTransferObjekt`` tag.
_FAST_TAGS: dict[str, tuple[str, ...]] = {}


def _fast_tags(tag: str) -> tuple[str, ...]:
    """Qualify the names the fast path reads with the namespace of *tag*."""
    prefix = tag[: tag.index("}") + 1] if tag.startswith("{") else ""
    names = (
        "zustaendigkeit",
        "uebergeordnetesObjektID",
        "versionsinformation",
        "id",
        "leistungID",
        "gebietID",
        "rolle",
        "geaendertDatumZeit",
    )
    found = tuple(prefix + name for name in names)
    if len(_FAST_TAGS) < 64:
        _FAST_TAGS[tag] = found
    return found


def _cache_datetime(text: str) -> Any:
    """Parse *text* as :func:`~efa_xzufi.parser.parse_datetime` does, into the shared cache.

    The usual form (an offset, as ``isoformat()`` writes it) is read in one step here; any
    other goes through :func:`~efa_xzufi.parser.parse_datetime` itself.
    """
    found: datetime | None
    try:
        found = _FROM_ISO(text)
    except ValueError:
        found = parse_datetime(text)
    else:
        if found.tzinfo is None:
            found = parse_datetime(text)
    if len(_DATETIME_CACHE) >= _DATETIME_CACHE_MAX:
        _DATETIME_CACHE.clear()
    _DATETIME_CACHE[text] = found
    return found


def _fast_modified(versionsinformation: Any, names: dict[str, str]) -> Any:
    """Read ``geaendertDatumZeit`` as :func:`~efa_xzufi.parser._modified` does, quicker.

    The usual shape, ``geaendertDatumZeit`` as the first child, is read here (through the
    same cache and :func:`~efa_xzufi.parser.parse_datetime`); any other shape takes the
    general reading, so the result is always the same.
    """
    children = versionsinformation[:]
    if children:
        part = children[0]
        if (names.get(part.tag) or local_name(part.tag)) == "geaendertDatumZeit":
            text = part.text or ""
            found = _DATETIME_CACHE.get(text, _MISSING)
            return _cache_datetime(text) if found is _MISSING else found
    return _modified(versionsinformation)


_MISSING: Final = object()
_FROM_ISO: Final = datetime.fromisoformat
_NEW: Final = object.__new__
_SET: Final = object.__setattr__
#: The fields :func:`_trusted_responsibility` sets, in the order of the class.
_RESPONSIBILITY_FIELDS: Final = (
    "leika_key",
    "ars",
    "target_kind",
    "target_id",
    "responsibility_id",
    "leistung_id",
    "role",
    "modified_at",
)


def _trusted_responsibility(
    leika_key: LeikaKey,
    ars: Ars,
    target_kind: TargetKind,
    target_id: str,
    responsibility_id: str | None,
    leistung_id: str | None,
    role: str | None,
    modified_at: datetime | None,
) -> Responsibility:
    """Build a :class:`~efa_core.model.Responsibility` from inputs that are valid already.

    The fast path's inputs have passed every check the constructor's validators make
    (see :meth:`RecordMapper.fast_transfer_objekt`), so the fields are set as attrs' own
    ``__init__`` sets them, without running the validators again: about 1 µs less per
    record.  The object is equal to (and hashes like) the one the constructor builds; a
    plugin test compares the two on generated inputs.  If the class ever gains a field,
    a post-init hook or a hash cache, :data:`_TRUSTED` is false and the constructor is
    used.
    """
    if not _TRUSTED:
        return Responsibility(
            leika_key=leika_key,
            ars=ars,
            target_kind=target_kind,
            target_id=target_id,
            responsibility_id=responsibility_id,
            leistung_id=leistung_id,
            role=role,
            modified_at=modified_at,
        )
    record: Responsibility = _NEW(Responsibility)
    _SET(record, "leika_key", leika_key)
    _SET(record, "ars", ars)
    _SET(record, "target_kind", target_kind)
    _SET(record, "target_id", target_id)
    _SET(record, "responsibility_id", responsibility_id)
    _SET(record, "leistung_id", leistung_id)
    _SET(record, "role", role)
    _SET(record, "modified_at", modified_at)
    return record


def _trusted_upsert(record: Responsibility) -> Upsert:
    """``Upsert(record)`` without the converter call for a fingerprint that is ``None``."""
    if not _TRUSTED:
        return Upsert(record)
    change: Upsert = _NEW(Upsert)
    _SET(change, "record", record)
    _SET(change, "fingerprint", None)
    return change


def _settable_as_attrs_does(
    cls: type, fields: tuple[str, ...], none_converted: frozenset[str] = frozenset()
) -> bool:
    """Whether *cls* is an attrs class whose ``__init__`` only stores exactly *fields*.

    No init hooks, no hash cache (the slots are exactly the fields), and no converter (it
    would change what is stored), except on the fields in *none_converted*, whose
    converter must leave ``None`` as it is (the trusted constructors store ``None`` there).
    """
    if not attrs.has(cls):
        return False
    found = attrs.fields(cls)
    return (
        tuple(field.name for field in found) == fields
        and all(
            field.converter is None
            or (field.name in none_converted and _keeps_none(field.converter))
            for field in found
        )
        and not hasattr(cls, "__attrs_post_init__")
        and not hasattr(cls, "__attrs_pre_init__")
        and set(getattr(cls, "__slots__", ())) == {*fields, "__weakref__"}
    )


def _keeps_none(converter: Any) -> bool:
    """Whether *converter* (a function or an ``attrs.Converter``) turns ``None`` into ``None``."""
    function = getattr(converter, "converter", converter)
    try:
        return function(None) is None
    except Exception:
        return False


#: Whether the trusted constructors may be used (checked once, at import).
_TRUSTED: Final = _settable_as_attrs_does(
    Responsibility, _RESPONSIBILITY_FIELDS
) and _settable_as_attrs_does(Upsert, ("record", "fingerprint"), frozenset({"fingerprint"}))


def _summary(item: ZustaendigkeitObject, area: object) -> dict[str, object]:
    """Return what the quarantine keeps of one rejected responsibility (Leistung x Gebiet)."""
    return {
        "zustaendigkeit_id": item.id.composite if item.id else None,
        "uebergeordnetesObjektID": item.target_id.composite,
        "target_kind": item.target_kind.value,
        "leistungID": item.leistung_id.composite,
        "gebietID": str(area),
        "rolle": item.role,
    }


class RecordMapper:
    """Turn parsed XZuFi items into changes and rejected objects (see the module docs).

    :param leistungen: the Leistungen to resolve LeiKa keys with.  If omitted, the mapper
        collects them from the items it sees and **defers** Zuständigkeiten whose Leistung
        has not been seen yet to :meth:`finish` (memory grows with such forward
        references; the ``xzufi-dir`` connector avoids that with a first pass).
    :param services: map ``onlinedienst`` objects to ``service`` records (and their
        deletes); ``False`` skips them.
    :param organisation_units: map ``organisationseinheit`` objects to
        ``organisation-unit`` records (and their deletes).
    :param raw_objects: keep ``spezialisierung``, ``leistung`` (if its XML was kept) and
        unknown objects as ``xzufi-object`` records (and map their deletes).
    :param max_raw_chars: the longest XML kept in an ``xzufi-object``; a longer object is
        rejected.
    """

    def __init__(
        self,
        leistungen: LeistungIndex | None = None,
        *,
        services: bool = True,
        organisation_units: bool = False,
        raw_objects: bool = False,
        max_raw_chars: int = DEFAULT_MAX_RAW_CHARS,
    ) -> None:
        self._defer = leistungen is None
        self.leistungen = leistungen if leistungen is not None else LeistungIndex()
        self._services = services
        self._units = organisation_units
        self._raw = raw_objects
        self._max_raw = check_max_raw_chars(max_raw_chars)
        self._deferred: list[ZustaendigkeitObject] = []
        self._onlinedienste: dict[str, OnlinedienstObject] = {}
        #: Composite Onlinedienst id -> the LeiKa keys pointing at it, as sorted integers.
        self._service_keys: dict[str, array[int]] = {}
        #: Objects and deletes that have no record kind, counted by XZuFi kind.
        self.skipped: Counter[str] = Counter()

    @property
    def held(self) -> dict[str, int]:
        """What the mapper keeps until :meth:`finish`, counted in entries.

        ``"onlinedienste"``: Onlinedienst objects waiting to become services;
        ``"service_keys"``: distinct (Onlinedienst, LeiKa key) pairs (8 bytes each);
        ``"deferred"``: Zuständigkeiten waiting for a Leistung further down (only without a
        prepared :class:`LeistungIndex`).  None of them grows with the number of
        Zuständigkeiten as such: the first two are bounded by the catalogue, the last by
        the forward references.
        """
        return {
            "onlinedienste": len(self._onlinedienste),
            "service_keys": sum(len(codes) for codes in self._service_keys.values()),
            "deferred": len(self._deferred),
        }

    def map(self, item: XZuFiItem) -> list[MappedItem]:
        """Map one item; may return nothing, one or several changes (or skips)."""
        if isinstance(item, ZustaendigkeitObject):
            return self._responsibilities(item)
        if isinstance(item, DeleteObject):
            return self._deletes(item)
        if isinstance(item, LeistungObject):
            if self._defer:
                self.leistungen.add(item)
            if self._raw and item.xml is not None:
                return [self._raw_object("leistung", item.id, item.xml, item)]
            return [self._skip("leistung", _LEISTUNG_NOT_KEPT, item.position)]
        if isinstance(item, OnlinedienstObject):
            if not self._services:
                return [self._skip("onlinedienst", _SERVICES_OFF, item.position)]
            earlier = self._onlinedienste.get(item.id.composite)
            self._onlinedienste[item.id.composite] = item
            if earlier is not None:
                return [duplicate(earlier, "service", _onlinedienst_raw(earlier), item.position)]
            return []
        if isinstance(item, OrganisationseinheitObject):
            mapped: list[MappedItem] = []
            if self._units:
                mapped.append(self._unit(item))
            else:
                mapped.append(self._skip("organisationseinheit", _UNITS_OFF, item.position))
            for embedded in item.zustaendigkeiten:
                mapped.extend(self._responsibilities(embedded))
            return mapped
        if isinstance(item, InvalidObject):
            return [self._rejected(item)]
        if isinstance(item, RawObject):
            if self._raw:
                return [self._raw_object(item.kind, item.id, item.xml, item)]
            return [self._skip(item.kind, _RAW_OFF, item.position)]
        if isinstance(item, SkippedEntry):
            return [self._skip(item.kind, item.reason, item.position)]
        raise TypeError(f"not an XZuFi item: {item!r}")  # pragma: no cover

    def _skip(
        self,
        kind: str,
        reason: str,
        position: str | None,
        count: int = 1,
        counter: str | None = None,
    ) -> Skipped:
        self.skipped[counter or kind] += count
        return Skipped(kind, reason, count, position)

    def _rejected(self, item: InvalidObject) -> MappedItem:
        """Quarantine an invalid object, or skip it if its kind is not mapped anyway."""
        if item.kind == "leistung":
            if self._defer:
                self.leistungen.add(item)
            if not self._raw:
                problem = item.problems[0][1] if item.problems else "invalid"
                return self._skip(
                    "leistung", f"invalid ({problem}); {_LEISTUNG_NOT_KEPT}", item.position
                )
            return Rejected(_RAW_KIND, item.position, item.xml, item.problems)
        kind = _RECORD_KIND_OF.get(item.kind)
        off = {
            "onlinedienst": (self._services, _SERVICES_OFF),
            "organisationseinheit": (self._units, _UNITS_OFF),
        }.get(item.kind)
        if off is not None:
            if not off[0]:
                return self._skip(item.kind, f"invalid; {off[1]}", item.position)
            kind = "service" if item.kind == "onlinedienst" else _UNIT_KIND
        return Rejected(kind, item.position, item.xml, item.problems)

    def finish(self) -> list[MappedItem]:
        """Map what had to wait for the end: deferred Zuständigkeiten, then services."""
        return list(self.iter_finish())

    def iter_finish(self) -> Iterator[MappedItem]:
        """Like :meth:`finish`, but one item at a time.

        Each Onlinedienst's LeiKa keys are released as its service is yielded, so the end
        of a large message needs no memory on top of what :attr:`held` counts.
        """
        deferred, self._deferred = self._deferred, []
        self._defer = False
        for item in deferred:
            yield from self._responsibilities(item)
        onlinedienste, self._onlinedienste = self._onlinedienste, {}
        service_keys, self._service_keys = self._service_keys, {}
        for composite, onlinedienst in onlinedienste.items():
            yield self._service(composite, onlinedienst, service_keys.pop(composite, ()))

    def fast_transfer_objekt(self, element: Any, *, remember: bool = True) -> Upsert | None:
        """Map the common ``zustaendigkeitTransferObjekt`` straight from its element.

        Handles one ``zustaendigkeit`` with one area whose Leistung is known with one LeiKa
        key, or named by its LeiKa key (``schemeID`` :data:`~efa_xzufi.parser.
        LEIKA_SCHEME_ID`, as efa-xzufi's writer does), with or without
        ``versionsinformation`` (nearly all of them); returns ``None`` for everything
        else, which then takes the general path (:class:`~efa_xzufi.parser.
        TransferMessageReader` items).  This keeps national-scale parsing fast; the result
        equals the general path's (the same cached, validated :class:`~efa_core.ids.Ars`,
        :class:`~efa_core.ids.LeikaKey` and timestamps; the record is built without
        re-running the validators its inputs already passed, see
        :func:`_trusted_responsibility`).  *remember* ``False`` leaves the record's LeiKa
        key out of its Onlinedienst's service (the caller adds it with :meth:`_remember`
        once the record is kept).
        """
        # The hot path of national exports: qualified tags compared as strings, no helper
        # calls on the way, children taken as lists (``element[:]`` is cheaper than an lxml
        # iterator), each text and attribute read once.
        tags = _FAST_TAGS.get(element.tag)
        if tags is None:
            tags = _fast_tags(element.tag)
        t_zustaendigkeit, t_target, t_version, t_id, t_leistung, t_gebiet, t_rolle, t_changed = tags
        names = _LOCAL
        target = None
        zustaendigkeit = None
        modified = None
        for child in element[:]:
            tag = child.tag
            if tag == t_zustaendigkeit:
                if zustaendigkeit is not None:
                    return None
                zustaendigkeit = child
            elif tag == t_target:
                text = child.text
                value = text.strip() if text else ""
                if not value:
                    return None
                get = child.get
                agency = get("schemeAgencyID") or ""
                scheme = get("schemeID") or ""
                target = f"{agency.strip()}_{scheme.strip()}_{value}"
            elif tag == t_version:
                modified = _fast_modified(child, names)
            elif (names.get(tag) or local_name(tag)) in _FAST_OTHER:
                return None  # a namespace of its own: the general path reads it
        if zustaendigkeit is None or target is None:
            return None
        ident = leistung = role = None
        leika_value = None
        kind = None
        area = None
        for child in zustaendigkeit[:]:
            tag = child.tag
            if tag in (t_id, t_leistung):
                text = child.text
                value = text.strip() if text else ""
                if not value:
                    return None
                get = child.get
                agency = get("schemeAgencyID") or ""
                scheme = get("schemeID") or ""
                if agency:
                    agency = agency.strip()
                if scheme:
                    scheme = scheme.strip()
                if tag == t_id:
                    kind = _SCHEME_KINDS.get(scheme)
                    if kind is None:
                        return None
                    ident = f"{agency}_{scheme}_{value}"
                else:
                    leistung = f"{agency}_{scheme}_{value}"
                    leika_value = value if scheme == LEIKA_SCHEME_ID else None
            elif tag == t_gebiet:
                if area is not None:
                    return None
                text = child.text
                value = text.strip() if text else ""
                area = _ARS_CACHE.get(value)
                if area is None:
                    try:  # validated (and cached) as the general path does
                        area = _ars(value)
                    except InvalidIdentifier:
                        return None  # the general path names the problem
            elif tag == t_rolle:
                # the general path takes the first ``code`` child: here only the usual
                # shape, ``code`` first (in any namespace), is read
                try:
                    part = child[0]
                except IndexError:
                    return None
                part_tag = part.tag
                if part_tag != "code" and (names.get(part_tag) or local_name(part_tag)) != "code":
                    return None
                text = part.text
                role = (text.strip() if text else "") or None
            elif tag == t_version:
                try:
                    part = child[0]
                except IndexError:
                    part = None
                if part is not None and part.tag == t_changed:
                    text = part.text or ""
                    found = _DATETIME_CACHE.get(text, _MISSING)
                    if found is _MISSING:
                        found = _cache_datetime(text)
                    modified = found or modified
                else:
                    modified = _modified(child) or modified
            elif (names.get(tag) or local_name(tag)) in _FAST_OTHER:
                return None  # a namespace of its own: the general path reads it
        if ident is None or leistung is None or area is None or kind is None:
            return None
        keys = self.leistungen._keys.get(leistung)
        leistung_id: str | None = leistung
        if keys is None:
            if leika_value is None or leistung in self.leistungen._invalid:
                return None
            try:
                keys = (_leika(leika_value),)
            except InvalidIdentifier:
                return None  # the general path names the problem
            leistung_id = None
        elif len(keys) != 1:
            return None
        key = keys[0]
        # Every input has passed the checks that the constructor's validators repeat:
        # ``target``, ``ident`` and ``leistung`` are ``"<agency>_<scheme>_<value>"`` with
        # stripped parts and a non-empty value (never blank, no surrounding whitespace),
        # ``role`` is stripped or ``None``, ``modified`` comes from ``parse_datetime``
        # (aware or ``None``); key, area and kind are the validated objects.
        record = _trusted_responsibility(
            key, area, kind, target, ident, leistung_id, role, modified
        )
        if remember and kind is _ONLINEDIENST and self._services:
            self._remember(target, key)
        return _trusted_upsert(record)

    # -- helpers --------------------------------------------------------------------------

    def _responsibilities(self, item: ZustaendigkeitObject) -> list[MappedItem]:
        # Fast path (nearly every Zuständigkeit): one known LeiKa key, one area.
        leistung = item.leistung_id
        leistung_composite = f"{leistung[1]}_{leistung[2]}_{leistung[0]}"
        keys = self.leistungen._keys.get(leistung_composite)
        areas = item.areas
        if keys is not None and len(keys) == 1 and len(areas) == 1:
            target = item.target_id
            target_composite = f"{target[1]}_{target[2]}_{target[0]}"
            ident = item.id
            try:
                record = Responsibility(
                    leika_key=keys[0],
                    ars=areas[0],
                    target_kind=item.target_kind,
                    target_id=target_composite,
                    responsibility_id=(
                        None if ident is None else f"{ident[1]}_{ident[2]}_{ident[0]}"
                    ),
                    leistung_id=leistung_composite,
                    role=item.role,
                    modified_at=item.modified_at,
                )
            except (EfaError, ValueError):
                return self._responsibilities_general(item)
            if self._services and item.target_kind is _ONLINEDIENST:
                self._remember(target_composite, keys[0])
            return [Upsert(record)]
        return self._responsibilities_general(item)

    def _responsibilities_general(self, item: ZustaendigkeitObject) -> list[MappedItem]:
        resolved = self.leistungen.resolve(item.leistung_id)
        leistung_id: str | None = item.leistung_id.composite
        if isinstance(resolved, str):
            if (
                self._defer
                and item.leistung_id.composite not in self.leistungen
                and item.leistung_id.scheme_id != LEIKA_SCHEME_ID
            ):
                self._deferred.append(item)
                return []
            if item.leistung_id.scheme_id == LEIKA_SCHEME_ID:
                try:
                    resolved = (LeikaKey.parse(item.leistung_id.value),)
                    leistung_id = None
                except EfaError as exc:
                    resolved = f"leistungID with schemeID {LEIKA_SCHEME_ID!r}: {exc}"
        if isinstance(resolved, str):
            problem = (f"{item.path}/leistungID", resolved)
            return [
                Rejected("responsibility", item.position, _summary(item, area), [problem])
                for area in item.areas
            ]
        rows = [(key, area) for key in resolved for area in item.areas]
        base_id = item.id.composite if item.id is not None else None
        mapped: list[MappedItem] = []
        target = item.target_id.composite
        for key, area in rows:
            row_id = base_id
            if base_id is not None and len(rows) > 1:
                row_id = f"{base_id}#{key}@{area}"
            try:
                record = Responsibility(
                    leika_key=key,
                    ars=area,
                    target_kind=item.target_kind,
                    target_id=target,
                    responsibility_id=row_id,
                    leistung_id=leistung_id,
                    role=item.role,
                    modified_at=item.modified_at,
                )
            except (EfaError, ValueError) as exc:
                mapped.append(
                    Rejected(
                        "responsibility",
                        item.position,
                        _summary(item, area),
                        [(item.path, str(exc))],
                    )
                )
                continue
            mapped.append(Upsert(record))
            if self._services and item.target_kind is TargetKind.ONLINEDIENST:
                self._remember(target, key)
        return mapped

    def _remember(self, onlinedienst: str, key: LeikaKey) -> None:
        """Note that a Zuständigkeit with *key* points at *onlinedienst* (for its service).

        Kept compact: per Onlinedienst a sorted ``array`` of the keys as integers (a LeiKa
        key is 14 digits, so the integer and ``f"{code:014d}"`` round-trip).
        """
        code = int(key.value)
        codes = self._service_keys.get(onlinedienst)
        if codes is None:
            self._service_keys[onlinedienst] = array("q", (code,))
            return
        at = bisect_left(codes, code)
        if at == len(codes) or codes[at] != code:
            codes.insert(at, code)

    def _deletes(self, item: DeleteObject) -> list[MappedItem]:
        if item.klasse == "Zustaendigkeit":
            return [Delete("responsibility", ident.composite) for ident in item.ids]
        if item.klasse == "Onlinedienst" and self._services:
            for ident in item.ids:
                self._onlinedienste.pop(ident.composite, None)
            return [Delete("service", ident.composite) for ident in item.ids]
        if item.klasse == "Organisationseinheit" and self._units:
            return [Delete(_UNIT_KIND, ident.composite) for ident in item.ids]
        object_class = _RAW_CLASSES.get(item.klasse)
        if object_class is not None and self._raw:
            return [Delete(_RAW_KIND, f"{object_class}:{ident.composite}") for ident in item.ids]
        reason = f"deletes of class {item.klasse!r} are not mapped"
        counter = f"loesche {item.klasse}"
        return [self._skip("loesche", reason, item.position, len(item.ids), counter)]

    def _unit(self, item: OrganisationseinheitObject) -> MappedItem:
        raw = {
            "id": item.id.composite,
            "name": item.name,
            "ars": None if item.ars is None else str(item.ars),
        }
        if not item.name:
            problem = ("organisationseinheit/name", "missing; an organisation unit needs a name")
            return Rejected(_UNIT_KIND, item.position, raw, [problem])
        try:
            unit = OrganisationUnit(
                key=item.id.composite, name=item.name, ars=item.ars, modified_at=item.modified_at
            )
        except (EfaError, ValueError) as exc:
            return Rejected(_UNIT_KIND, item.position, raw, [("organisationseinheit", str(exc))])
        return Upsert(unit)

    def _raw_object(
        self,
        object_class: str,
        ident: XZuFiId | None,
        xml: str,
        item: LeistungObject | RawObject,
    ) -> MappedItem:
        raw: dict[str, object] = {
            "object_class": object_class,
            "object_id": None if ident is None else ident.composite,
            "chars": len(xml),
        }
        if ident is None:
            problem = (f"{object_class}/id", "missing or empty; a raw object needs an id")
            return Rejected(_RAW_KIND, item.position, raw, [problem])
        if len(xml) > self._max_raw:
            problem = (
                object_class,
                f"the XML has {len(xml)} characters, more than max_raw_chars ({self._max_raw}); "
                "raise max_raw_chars to keep it",
            )
            return Rejected(_RAW_KIND, item.position, raw, [problem])
        try:
            record = XZuFiObject(
                object_class=object_class,
                object_id=ident.composite,
                xml=xml,
                modified_at=item.modified_at,
            )
        except (EfaError, ValueError) as exc:
            return Rejected(_RAW_KIND, item.position, raw, [(object_class, str(exc))])
        return Upsert(record)

    def _service(
        self, composite: str, item: OnlinedienstObject, codes: Iterable[int]
    ) -> MappedItem:
        keys = tuple(_leika(f"{code:014d}") for code in codes)
        problems: list[tuple[str, str]] = []
        if not item.name:
            problems.append(("onlinedienst/bezeichnung", "missing; a service needs a name"))
        if not keys:
            problems.append(
                (
                    "onlinedienst",
                    "no Zuständigkeit in this export points at it, so its LeiKa keys are "
                    "unknown (a service needs at least one)",
                )
            )
        raw = {"id": composite, "bezeichnung": item.name, "link": item.url}
        if problems:
            return Rejected("service", item.position, raw, problems)
        assert item.name is not None
        try:
            record = Service(
                key=composite,
                name=item.name,
                leika_keys=keys,
                url=item.url,
                modified_at=item.modified_at,
                onlinedienst_ids=(composite,),
            )
        except (EfaError, ValueError):
            try:  # a link that is no http(s) URL is dropped, not the service
                record = Service(
                    key=composite,
                    name=item.name,
                    leika_keys=keys,
                    modified_at=item.modified_at,
                    onlinedienst_ids=(composite,),
                )
            except (EfaError, ValueError) as exc:
                return Rejected("service", item.position, raw, [("$", str(exc))])
        return Upsert(record)


def parse_transfer_message(
    source: Source,
    *,
    name: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
    services: bool = True,
    leistungen: LeistungIndex | None = None,
    organisation_units: bool = True,
    raw_objects: bool = True,
    max_raw_chars: int = DEFAULT_MAX_RAW_CHARS,
    language: str = "de",
) -> Iterator[MappedItem]:
    """Parse one transfer message and yield its changes and rejected objects, streaming.

    Leistungen are collected as they come; Zuständigkeiten that refer to a Leistung
    further down are held back to the end of the message (pass *leistungen* to resolve
    against a prepared index instead).  Services come last.  *services*,
    *organisation_units*, *raw_objects* and *max_raw_chars* are
    :class:`RecordMapper`'s options (here all kinds are on by default); *language* chooses
    among the language variants of names (see :class:`~efa_xzufi.parser.TransferMessageReader`).

    Objects that are not mapped come as :class:`~efa_core.connectors.Skipped` with the
    reason; ``loesche`` entries as :class:`~efa_core.connectors.Delete` (replayed in
    order: this is one message, not a snapshot; see :class:`~efa_xzufi.ExportSnapshot`).

    :raises efa_xzufi.XZuFiNotUnderstood: the input is no XZuFi 2.2/2.3 transfer message.
    :raises efa_xzufi.XZuFiFormatError: missing or not well-formed input.
    :raises efa_xzufi.XZuFiRefused: a DOCTYPE, or a limit was exceeded.
    """
    mapper = RecordMapper(
        leistungen,
        services=services,
        organisation_units=organisation_units,
        raw_objects=raw_objects,
        max_raw_chars=max_raw_chars,
    )
    reader = TransferMessageReader(
        source, name=name, limits=limits, leistung_xml=raw_objects, language=language
    )
    yield from reader._mapped(mapper.fast_transfer_objekt, mapper.map)
    yield from mapper.iter_finish()
