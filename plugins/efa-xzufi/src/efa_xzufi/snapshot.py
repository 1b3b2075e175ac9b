"""An export (several transfer messages) mapped as one snapshot.

:class:`ExportSnapshot` maps the messages of an editorial system's export (the files its
``index.txt`` lists, in that order) as one complete snapshot, in two passes:

1. a **survey** reads every message once, cheaply: the Leistungen (whose LeiKa keys resolve
   the Zuständigkeiten of every file), the identity of every object (its kind and
   composite id, kept as a 64-bit hash) and every ``loesche`` with its place.  It also
   proves every file readable before anything is delivered;
2. the **mapping** pass maps the objects with a :class:`~efa_xzufi.mapping.RecordMapper`
   and resolves within the snapshot what a stream of records cannot:

   * **written and deleted in one export.**  Entries are operations in document order
     (file by file in index order, then entry by entry), and the later one wins: an
     object that a later ``loesche`` deletes is left out (counted as skipped), one
     written again after its ``loesche`` is kept.  The ``loesche`` entries themselves
     become no deletes (counted as skipped): a complete snapshot deletes what it lacks
     when it completes.  So an unchanged export synced again changes nothing;
   * **duplicate ids** (the same object written twice, e.g. once in each of two files):
     the later copy wins, every earlier one is quarantined with ``duplicate id ... also
     at <place>``.

Memory: the survey keeps 8 bytes per object until it has found the duplicates, then only
their hashes and the deletes; the mapping pass holds the earlier copies of a duplicate
until its last copy is read.  Identities are compared by hash; two different ids with the
same 64-bit hash (about one chance in 10^12 for a million objects) would be mapped as
usual, only later than their place.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator, Sequence
from typing import Any, Final

from efa_core.connectors import Rejected, Skipped, Upsert
from efa_core.model import Responsibility, TargetKind
from efa_xzufi._xml import _LOCAL, DEFAULT_LIMITS, Entries, Limits, Source, check_element
from efa_xzufi._xml import local_name as _local_name
from efa_xzufi.mapping import (
    DEFAULT_MAX_RAW_CHARS,
    LeistungIndex,
    MappedItem,
    RecordMapper,
    duplicate,
)
from efa_xzufi.parser import (
    DeleteObject,
    InvalidObject,
    OnlinedienstObject,
    TransferMessageReader,
    XZuFiItem,
    ZustaendigkeitObject,
    _first_id,
    _identifier,
    _Invalid,
    _read_leistung,
)

__all__ = ["ExportSnapshot", "identity_class"]

#: ``loesche/@klasse`` -> the local name of the object element it deletes.
_DELETE_CLASSES: Final = {
    "Zustaendigkeit": "zustaendigkeit",
    "Leistung": "leistung",
    "LeistungSpezialisierung": "spezialisierung",
    "Spezialisierung": "spezialisierung",
    "Onlinedienst": "onlinedienst",
    "Organisationseinheit": "organisationseinheit",
}
_LOESCHE_IN_SNAPSHOT: Final = (
    "a complete export needs no deletes: what it deletes is left out of the snapshot, and "
    "what the snapshot lacks is deleted when it completes"
)
_DELETED_AGAIN: Final = "written, then deleted by a later loesche in the same export"
_ZTO: Final = "zustaendigkeitTransferObjekt"

#: An object's identity: (the local name of its element, its composite id).
_Key = tuple[str, str]
#: Where an entry is: (file number, entry number), in document order.
_Place = tuple[int, int]


def identity_class(klasse: str) -> str:
    """Return the local name of the object element that ``loesche klasse=...`` deletes.

    ``"Zustaendigkeit"`` -> ``"zustaendigkeit"``, ``"LeistungSpezialisierung"`` ->
    ``"spezialisierung"``, any other class with its first letter in lower case
    (``"Formular"`` -> ``"formular"``).
    """
    found = _DELETE_CLASSES.get(klasse)
    if found is not None:
        return found
    return klasse[:1].lower() + klasse[1:]


class _Survey:
    """What the first pass learns about an export."""

    def __init__(self) -> None:
        self.leistungen = LeistungIndex()
        #: Identity hash -> how many objects have it, for identities seen more than once.
        self.duplicates: dict[int, int] = {}
        #: Identity -> (place, position) of its last ``loesche``.
        self.deletes: dict[_Key, tuple[_Place, str]] = {}


def _survey(files: Sequence[tuple[Source, str]], limits: Limits) -> _Survey:
    survey = _Survey()
    buckets = [array("q") for _ in range(256)]
    names = _LOCAL
    local_name = _local_name
    for number, (source, name) in enumerate(files):
        entries = Entries(source, name=name, limits=limits)
        for entry in entries:
            operation = names.get(entry.tag) or local_name(entry.tag)
            if operation == "loesche":
                klasse = identity_class((entry.get("klasse") or "").strip())
                where = ((number, entries.ordinal), entries.position(name, entries.line))
                for child in entry:
                    if local_name(child.tag) == "id":
                        ident = _identifier(child)
                        if ident is not None:
                            survey.deletes[(klasse, ident.composite)] = where
                continue
            here: set[int] = set()
            for element in entry[:]:
                kind = names.get(element.tag) or local_name(element.tag)
                if not kind:
                    continue
                if kind == _ZTO:
                    for part in element[:]:
                        if (names.get(part.tag) or local_name(part.tag)) != "zustaendigkeit":
                            continue
                        for child in part[:]:
                            if (names.get(child.tag) or local_name(child.tag)) == "id":
                                text = child.text
                                value = text.strip() if text else ""
                                if value:
                                    get = child.get
                                    composite = (
                                        f"{(get('schemeAgencyID') or '').strip()}_"
                                        f"{(get('schemeID') or '').strip()}_{value}"
                                    )
                                    here.add(hash(("zustaendigkeit", composite)))
                                break
                    continue
                check_element(element, limits, name)
                ident = _first_id(element)
                if kind == "leistung":
                    position = entries.position(name, element.sourceline)
                    try:
                        survey.leistungen.add(_read_leistung(element, position))
                    except _Invalid as exc:
                        survey.leistungen.add(
                            InvalidObject(
                                kind="leistung",
                                id=ident,
                                position=position,
                                xml="",
                                problems=tuple(exc.problems),
                            )
                        )
                if ident is not None:
                    here.add(hash((kind, ident.composite)))
            for code in here:
                buckets[code & 255].append(code)
    for bucket in buckets:
        codes = sorted(bucket)
        del bucket[:]
        run = 1
        for at in range(1, len(codes) + 1):
            if at < len(codes) and codes[at] == codes[at - 1]:
                run += 1
                continue
            if run > 1:
                survey.duplicates[codes[at - 1]] = run
            run = 1
    return survey


class ExportSnapshot:
    """Map the messages of an export, in order, as one snapshot (see the module docs).

    :param files: ``(source, name)`` pairs in index order; *name* is how positions call
        the file.

    *services*, *organisation_units*, *raw_objects* and *max_raw_chars* are
    :class:`~efa_xzufi.mapping.RecordMapper`'s options, *limits* and *language*
    :class:`~efa_xzufi.parser.TransferMessageReader`'s.

    Iterating yields :data:`~efa_xzufi.mapping.MappedItem` values: upserts, rejected
    objects and skipped input, never a delete.  Services come last.
    """

    def __init__(
        self,
        files: Sequence[tuple[Source, str]],
        *,
        limits: Limits = DEFAULT_LIMITS,
        services: bool = True,
        organisation_units: bool = True,
        raw_objects: bool = True,
        max_raw_chars: int = DEFAULT_MAX_RAW_CHARS,
        language: str = "de",
    ) -> None:
        self._files = list(files)
        self._limits = limits
        self._options: dict[str, Any] = {
            "services": services,
            "organisation_units": organisation_units,
            "raw_objects": raw_objects,
            "max_raw_chars": max_raw_chars,
        }
        self._language = language
        #: Earlier copies of duplicate objects quarantined so far.
        self.duplicates = 0
        #: Objects left out because a later ``loesche`` deleted them.
        self.deleted_again = 0

    def survey(self) -> LeistungIndex:
        """Run only the first pass and return its Leistungen (proves every file readable)."""
        return _survey(self._files, self._limits).leistungen

    def __iter__(self) -> Iterator[MappedItem]:
        survey = _survey(self._files, self._limits)
        mapper = RecordMapper(survey.leistungen, **self._options)
        resolver = _Resolver(self, survey, mapper)
        plain = not survey.duplicates and not survey.deletes
        for number, (source, name) in enumerate(self._files):
            reader = TransferMessageReader(
                source,
                name=name,
                limits=self._limits,
                leistung_xml=self._options["raw_objects"],
                language=self._language,
            )
            if plain:
                yield from reader._mapped(mapper.fast_transfer_objekt, resolver.plain)
                continue
            fast = resolver.fast
            for found in reader._items(fast):
                yield from resolver.handle(found, number, reader)
        yield from mapper.iter_finish()


def _loesche(item: DeleteObject) -> Skipped:
    return Skipped("loesche", _LOESCHE_IN_SNAPSHOT, len(item.ids), item.position)


class _Resolver:
    """The mapping pass when the export has duplicates or deletes."""

    def __init__(self, owner: ExportSnapshot, survey: _Survey, mapper: RecordMapper) -> None:
        self._owner = owner
        self._mapper = mapper
        options = dict(owner._options, services=False)
        #: Maps what is quarantined or left out, without touching the real mapper's state.
        self._scratch = RecordMapper(survey.leistungen, **options)
        self._services = bool(owner._options["services"])
        self._duplicates = survey.duplicates
        self._deletes = survey.deletes
        self._seen: dict[int, tuple[int, _Place]] = {}
        self._held: dict[int, list[tuple[_Key, Any, str]]] = {}

    def plain(self, item: XZuFiItem) -> list[MappedItem]:
        """Map an item of an export without duplicates or deletes."""
        if type(item) is DeleteObject:
            return [_loesche(item)]
        return self._mapper.map(item)

    def fast(self, element: Any) -> Upsert | None:
        """Map with the fast path, minus its bookkeeping (done once the record is kept)."""
        return self._mapper.fast_transfer_objekt(element, remember=False)

    def handle(
        self, item: XZuFiItem | Upsert, number: int, reader: TransferMessageReader
    ) -> Iterator[MappedItem]:
        if type(item) is DeleteObject:
            yield _loesche(item)
            return
        key = _identity(item, reader)
        if key is None:
            yield from self._keep(item)
            return
        place = (number, reader.entry)
        code = hash(key)
        final = True
        count = self._duplicates.get(code)
        if count is not None:
            seen, last = self._seen.get(code, (0, (-1, -1)))
            if last != place:
                seen += 1
                self._seen[code] = (seen, place)
            final = seen >= count
        deleted = self._deletes.get(key)
        position = _position(item, reader)
        if deleted is not None and deleted[0] > place:
            self._owner.deleted_again += 1
            yield from self._convert(item, position, None, key[1])
            return
        if not final:
            self._held.setdefault(code, []).append((key, item, position))
            return
        for held_key, held, held_position in self._held.pop(code, ()):
            if held_key == key:
                self._owner.duplicates += 1
                yield from self._convert(held, held_position, position, key[1])
            else:  # a hash collision: not a duplicate after all
                yield from self._keep(held)
        yield from self._keep(item)

    def _keep(self, item: XZuFiItem | Upsert) -> Iterator[MappedItem]:
        if isinstance(item, Upsert):
            record = item.record
            if (
                self._services
                and isinstance(record, Responsibility)
                and record.target_kind is TargetKind.ONLINEDIENST
            ):
                self._mapper._remember(record.target_id, record.leika_key)
            yield item
        else:
            yield from self._mapper.map(item)

    def _convert(
        self, item: XZuFiItem | Upsert, position: str, later: str | None, ident: str
    ) -> Iterator[MappedItem]:
        """Quarantine an earlier duplicate, or skip an object deleted again.

        *later* is where the copy that wins is; ``None`` means deleted again.
        """
        if isinstance(item, OnlinedienstObject) and self._services:
            if later is not None:
                yield duplicate(item, "service", {"id": item.id.composite}, later)
            else:
                yield Skipped("service", _DELETED_AGAIN, 1, position)
            return
        mapped = [item] if type(item) is Upsert else self._scratch.map(item)  # type: ignore[arg-type]
        for change in mapped:
            if isinstance(change, Upsert):
                if later is None:
                    yield Skipped(change.kind, _DELETED_AGAIN, 1, position)
                else:
                    from efa_core.serialization import record_to_dict  # rarely needed

                    yield Rejected(
                        change.kind,
                        position,
                        record_to_dict(change.record),
                        [
                            (
                                "id",
                                f"duplicate id {ident!r}: also at {later}, which replaces it",
                            )
                        ],
                    )
            elif isinstance(change, Rejected) and later is None:
                yield Skipped(change.kind or "?", _DELETED_AGAIN, 1, change.position)
            else:
                yield change


def _identity(item: XZuFiItem | Upsert, reader: TransferMessageReader) -> _Key | None:
    """Return the identity (element name, composite id) of the object *item* came from."""
    element = reader._object
    if element is None:
        return None
    kind = reader._object_kind
    if kind == _ZTO:
        if isinstance(item, Upsert):
            rid = getattr(item.record, "responsibility_id", None)
            return None if rid is None else ("zustaendigkeit", rid)
        zid = getattr(item, "id", None)
        return None if zid is None else ("zustaendigkeit", zid.composite)
    ident = _first_id(element)
    return None if ident is None else (kind, ident.composite)


def _position(item: XZuFiItem | Upsert, reader: TransferMessageReader) -> str:
    if isinstance(item, ZustaendigkeitObject):
        return item.position
    position = getattr(item, "position", None)
    return position if isinstance(position, str) else reader.entry_position()
