"""Streaming parser for XZuFi 2.2.0 and 2.3.1 transfer messages.

:class:`TransferMessageReader` walks a message entry by entry and yields one typed item
per object (see :data:`XZuFiItem`):

============================  ==========================================================
XML                           item
============================  ==========================================================
``schreibe/leistung``         :class:`LeistungObject` (id, LeiKa keys, name; the XML
                              if the reader is asked for it, ``leistung_xml``)
``schreibe/onlinedienst``     :class:`OnlinedienstObject` (id, name, link)
``schreibe/organisations-``   :class:`OrganisationseinheitObject` (id, name, the ARS of
``einheit``                   its address, and the ``zustaendigkeit`` entries that 2.2
                              files embed)
``schreibe/zustaendigkeit-``  :class:`ZustaendigkeitObject` (one per ``zustaendigkeit``)
``TransferObjekt``
``schreibe/spezialisierung``  :class:`RawObject` (the XML kept as it is)
``schreibe/<anything else>``  :class:`RawObject`
``loesche``                   :class:`DeleteObject` (``klasse`` and the ids)
an object that fails          :class:`InvalidObject` (position, XML, problems)
============================  ==========================================================

Elements are matched by **local name**, so namespace prefixes (and the namespace of the
version) do not matter.  Unknown elements are ignored (lenient); identifiers are strict:
a LeiKa key or ARS that :mod:`efa_core.ids` rejects makes the whole object an
:class:`InvalidObject` whose problems name the field, at position ``"<file>:line <N>"``.

Ids are :class:`XZuFiId` values; :attr:`XZuFiId.composite` is the form used in records,
``"<schemeAgencyID>_<schemeID>_<value>"`` (missing attributes are empty), as PVOG
consumers build it, so ids of different editorial systems (Mandanten) never collide.
"""

from __future__ import annotations

import datetime as dt
import html
import os
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Final, NamedTuple, TypeVar, Union

import attrs
from lxml import etree

from efa_core.errors import InvalidIdentifier
from efa_core.ids import Ars, LeikaKey
from efa_core.model import TargetKind
from efa_xzufi._xml import (
    _LOCAL,
    DEFAULT_LIMITS,
    Entries,
    Limits,
    MessageInfo,
    Source,
    check_element,
    local_name,
)

__all__ = [
    "LEIKA_SCHEME_ID",
    "DeleteObject",
    "InvalidObject",
    "LeistungObject",
    "OnlinedienstObject",
    "OrganisationseinheitObject",
    "RawObject",
    "TransferMessageReader",
    "XZuFiId",
    "XZuFiItem",
    "ZustaendigkeitObject",
    "parse_datetime",
]

_T = TypeVar("_T")
_U = TypeVar("_U")


def _emit(
    items: Iterable[XZuFiItem], mapped: Callable[[XZuFiItem], Iterable[_U]] | None
) -> Iterator[XZuFiItem | _U]:
    if mapped is None:
        yield from items
    else:
        for item in items:
            yield from mapped(item)


#: The ``schemeID`` efa-core writes on a ``leistungID`` whose value is a LeiKa key (used
#: when the editorial system's Leistung id is not known); read back as that key.
LEIKA_SCHEME_ID: Final = "urn:de:fim:leika:leistung"

#: Local names of the elements that may carry a Leistung's LeiKa key.  ``referenzLeiKa``
#: is verified for 2.2.0; the 2.3.1 spellings are assumed (no XSD was at hand).
_LEIKA_REFERENCES: Final = frozenset(
    {"referenzLeiKa", "referenzLeistungsschluessel", "referenz_leistungsschluessel"}
)
_ONLINEDIENST_LINK_DEFAULT: Final = "01"


class XZuFiId(NamedTuple):
    """An XZuFi ``Identifikator``: a value qualified by ``schemeAgencyID`` and ``schemeID``."""

    #: The element's text (surrounding whitespace removed).
    value: str
    #: The ``schemeAgencyID`` attribute: the Mandant / editorial system ("" if missing).
    scheme_agency_id: str = ""
    #: The ``schemeID`` attribute ("" if missing).
    scheme_id: str = ""

    @property
    def composite(self) -> str:
        """``"<schemeAgencyID>_<schemeID>_<value>"``, the id used in records."""
        return f"{self.scheme_agency_id}_{self.scheme_id}_{self.value}"

    @classmethod
    def from_composite(cls, text: str) -> XZuFiId:
        """Split a composite id back into its parts (the inverse of :attr:`composite`).

        Agency and scheme must not contain ``_`` (the value may).

        :raises ValueError: *text* is not ``"<agency>_<scheme>_<value>"`` with a value.
        """
        parts = text.split("_", 2)
        if len(parts) != 3 or not parts[2].strip():
            raise ValueError(
                f"{text!r} is not a composite XZuFi id '<schemeAgencyID>_<schemeID>_<value>'"
            )
        return cls(parts[2], parts[0], parts[1])

    def __str__(self) -> str:
        return self.composite


@attrs.frozen(kw_only=True)
class LeistungObject:
    """A ``leistung``: what efa-core needs of it is the id and its LeiKa key(s)."""

    id: XZuFiId
    #: The ``referenzLeiKa`` keys in document order (the first is the primary one).
    leika_keys: tuple[LeikaKey, ...]
    #: The Leistungsbezeichnung (text module ``02``), if given.
    name: str | None
    modified_at: dt.datetime | None
    position: str
    #: The object's XML, if the reader was asked to keep it (``leistung_xml=True``).
    xml: str | None = attrs.field(default=None, repr=False)


@attrs.frozen(kw_only=True)
class OnlinedienstObject:
    """An ``onlinedienst``: id, name and the main link."""

    id: XZuFiId
    name: str | None
    #: The link of type ``01`` (or the first link), if given.
    url: str | None
    modified_at: dt.datetime | None
    position: str


class ZustaendigkeitObject(NamedTuple):
    """One ``zustaendigkeit``: Leistung x areas -> an Onlinedienst or an OE.

    A named tuple (not an attrs class) because millions of them are built.  Areas whose
    ``gebietID`` is invalid are not in :attr:`areas`: the reader yields an
    :class:`InvalidObject` for each of them (rejection per Leistung x Gebiet).
    """

    #: The Zuständigkeit's own id, if given.
    id: XZuFiId | None
    target_kind: TargetKind
    #: ``uebergeordnetesObjektID`` (the Onlinedienst or OE).
    target_id: XZuFiId
    leistung_id: XZuFiId
    #: The areas (``gebietID``), in document order, without duplicates.
    areas: tuple[Ars, ...]
    #: ``rolle/code``, if given.
    role: str | None
    modified_at: dt.datetime | None
    position: str
    #: The element path of the ``zustaendigkeit`` inside its object, e.g.
    #: ``"zustaendigkeitTransferObjekt/zustaendigkeit[2]"``.
    path: str = "zustaendigkeit"


@attrs.frozen(kw_only=True)
class OrganisationseinheitObject:
    """An ``organisationseinheit`` (authority); 2.2 files embed its Zuständigkeiten."""

    id: XZuFiId
    name: str | None
    zustaendigkeiten: tuple[ZustaendigkeitObject, ...]
    modified_at: dt.datetime | None
    position: str
    #: The object's XML as it was received.
    xml: str = attrs.field(repr=False)
    #: The area of its address: the first ``anschrift``'s
    #: ``verwaltungspolitischeKodierung/regionalschluessel`` (``None`` if missing or not a
    #: valid ARS: an address is no identifier, so a bad one does not reject the object).
    ars: Ars | None = None


@attrs.frozen(kw_only=True)
class RawObject:
    """An object kept as raw payload: ``spezialisierung`` and unknown objects."""

    #: The object element's local name, e.g. ``"spezialisierung"``.
    kind: str
    id: XZuFiId | None
    position: str
    #: The object's XML as it was received.
    xml: str = attrs.field(repr=False)
    #: The first ``geaendertDatumZeit`` inside the object, if any.
    modified_at: dt.datetime | None = None


@attrs.frozen(kw_only=True)
class DeleteObject:
    """A ``loesche`` entry: delete the objects of ``klasse`` with these ids."""

    #: The ``klasse`` attribute: ``Leistung``, ``LeistungSpezialisierung``,
    #: ``Organisationseinheit``, ``Onlinedienst``, ``Zustaendigkeit`` (or another).
    klasse: str
    ids: tuple[XZuFiId, ...]
    position: str


@attrs.frozen(kw_only=True)
class InvalidObject:
    """An object (or one area of a Zuständigkeit) that could not be read; the rest goes on.

    A Zuständigkeit is rejected per area (Leistung x Gebiet): a bad ``gebietID`` gives an
    invalid item of kind ``"zustaendigkeit"`` for that area alone, whose :attr:`xml` holds
    the Zuständigkeit with just that ``gebietID``; its other areas are read as usual.
    """

    #: The object element's local name, e.g. ``"zustaendigkeitTransferObjekt"``, or
    #: ``"zustaendigkeit"`` for one rejected Zuständigkeit (or one of its areas).
    kind: str
    #: The object's (first) id, if it has a readable one.
    id: XZuFiId | None
    #: ``"<file>:line <N>"`` (``", entry <M>"`` added when entries share lines).
    position: str
    #: The object's XML as it was received (for one area: reduced to that area).
    xml: str
    #: Every problem as ``(element path, message)``, e.g.
    #: ``("zustaendigkeitTransferObjekt/zustaendigkeit/gebietID[2]", "...")``.
    problems: tuple[tuple[str, str], ...]


@attrs.frozen(kw_only=True)
class SkippedEntry:
    """Something in the message that holds no object to read (counted, not rejected).

    An empty ``schreibe``, or an element beside the entries that is neither an entry nor a
    header part (``nachrichtenkopf``, ``transaktionID``, ``transaktionPosition``).
    """

    #: The element's local name, e.g. ``"schreibe"`` or ``"signatur"``.
    kind: str
    #: Why it holds nothing to read.
    reason: str
    position: str


#: One item of a transfer message.
XZuFiItem = Union[  # noqa: UP007 - a runtime alias
    LeistungObject,
    OnlinedienstObject,
    OrganisationseinheitObject,
    ZustaendigkeitObject,
    RawObject,
    DeleteObject,
    InvalidObject,
    SkippedEntry,
]


class _Invalid(Exception):
    """Internal: an object has problems (collected, then turned into an InvalidObject)."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__(problems)
        self.problems = problems


class _Place:
    """Internal: turns a line into a position in the current message."""

    __slots__ = ("entries", "source")

    def __init__(self, source: str, entries: Entries) -> None:
        self.source = source
        self.entries = entries

    def __call__(self, line: int | None) -> str:
        return self.entries.position(self.source, line)


# -- small readers ------------------------------------------------------------------------


def _text(element: Any) -> str:
    """Return the element's own text, whitespace-trimmed ("" if none)."""
    text = element.text
    return text.strip() if text else ""


def _identifier(element: Any) -> XZuFiId | None:
    value = _text(element)
    if not value:
        return None
    return XZuFiId(
        value,
        (element.get("schemeAgencyID") or "").strip(),
        (element.get("schemeID") or "").strip(),
    )


def _code(element: Any) -> str:
    """Return the ``code`` child's text of an XÖV code element (or the element's own)."""
    for child in element:
        if local_name(child.tag) == "code":
            return _text(child)
    return _text(element)


# -- names: language and markup --------------------------------------------------------------

_XML_LANG: Final = "{http://www.w3.org/XML/1998/namespace}lang"
#: An HTML tag in a text (a name written with markup inside CDATA, or escaped).
_HTML_TAG: Final = re.compile(r"</?([A-Za-z][A-Za-z0-9]*)(?:[\s/][^<>]*)?>")
_HTML_ENTITY: Final = re.compile(r"&(?:#[0-9]+|#[xX][0-9A-Fa-f]+|[A-Za-z][A-Za-z0-9]*);")
#: Tags that do not separate words (the rest, e.g. ``p``, ``br``, ``li``, do).
_INLINE_TAGS: Final = frozenset(
    {"a", "abbr", "b", "code", "em", "font", "i", "small", "span", "strong", "sub", "sup", "u"}
)


def _tag_gap(match: re.Match[str]) -> str:
    return "" if match[1].lower() in _INLINE_TAGS else " "


def plain_text(text: str) -> str:
    """Reduce a name that may carry HTML to plain text.

    Tags are removed (block tags such as ``p`` and ``br`` leave a space, inline ones such
    as ``b`` nothing), character references are decoded, whitespace is collapsed.  A
    ``<`` that starts no tag (``Kinder < 6 Jahre``) stays.
    """
    if "<" in text:
        text = _HTML_TAG.sub(_tag_gap, text)
    if "&" in text:
        text = _HTML_ENTITY.sub(lambda m: html.unescape(m[0]), text)
    return " ".join(text.split())


def _element_text(element: Any) -> str:
    """Return the text of *element* with its markup children (``p``, ``b``...) flattened."""
    parts = [element.text or ""]
    for child in element:
        inner = _element_text(child)
        if local_name(child.tag).lower() in _INLINE_TAGS:
            parts.append(inner)
        else:
            parts.append(f" {inner} ")
        parts.append(child.tail or "")
    return "".join(parts)


def _language(element: Any) -> str:
    """``languageCode`` (XZuFi) or ``xml:lang`` of *element*, lower case ("" if none)."""
    value = element.get("languageCode") or element.get(_XML_LANG) or ""
    return value.strip().lower().replace("_", "-")


def _name_candidates(element: Any, found: list[tuple[str, str]]) -> None:
    """Add the ``(language, text)`` variants of a name element to *found*.

    Children that carry a language are the variants (``name/name[@languageCode]``);
    otherwise the element's whole text, markup flattened, is one variant in its own
    language.
    """
    language = _language(element)
    variants = [child for child in element if isinstance(child.tag, str) and _language(child)]
    if variants:
        own = plain_text(element.text or "")
        if own:
            found.append((language, own))
        for child in variants:
            text = plain_text(_element_text(child))
            if text:
                found.append((_language(child), text))
        return
    text = plain_text(_element_text(element))
    if text:
        found.append((language, text))


def pick_language(candidates: list[tuple[str, str]], language: str = "de") -> str | None:
    """Choose the text of the wanted *language* among ``(language, text)`` variants.

    Order: exactly *language*, then a regional form (``de-DE``, ``de-AT``), then a text
    without a language, then the first one.  Ties go to the earlier variant.
    """
    wanted = language.strip().lower().replace("_", "-")
    best: tuple[int, str] | None = None
    for code, text in candidates:
        if code == wanted:
            return text
        rank = 1 if code.startswith(wanted + "-") else 2 if not code else 3
        if best is None or rank < best[0]:
            best = (rank, text)
    return None if best is None else best[1]


def _multilang(element: Any, language: str = "de") -> str | None:
    """Text of a (possibly multi-language) name element in the wanted *language*."""
    found: list[tuple[str, str]] = []
    _name_candidates(element, found)
    return pick_language(found, language)


_BERLIN: dt.tzinfo | None
try:
    from zoneinfo import ZoneInfo

    _BERLIN = ZoneInfo("Europe/Berlin")
except Exception:  # pragma: no cover - no tz database (e.g. Windows without tzdata)
    _BERLIN = None


_FROM_ISO: Final = dt.datetime.fromisoformat


def parse_datetime(text: str | None) -> dt.datetime | None:
    """Read an XML Schema ``dateTime`` (``Z`` or offset; naive means Europe/Berlin).

    Returns ``None`` for ``None``, empty or unreadable text (timestamps are provenance,
    not identifiers, so a bad one does not reject the object).
    """
    if not text:
        return None
    try:  # the usual form (an offset, as isoformat() writes it) in one step
        parsed = _FROM_ISO(text)
    except ValueError:
        pass
    else:
        if parsed.tzinfo is not None:
            return parsed
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        if _BERLIN is None:
            return None
        parsed = parsed.replace(tzinfo=_BERLIN)
    return parsed


_DATETIME_CACHE: dict[str, dt.datetime | None] = {}
#: Timestamps kept parsed: objects edited together share one; cleared when full, so it
#: follows the runs of a file in a few hundred kilobytes.
_DATETIME_CACHE_MAX: Final = 4096


def _modified(element: Any) -> dt.datetime | None:
    """Return the first ``geaendertDatumZeit`` inside *element* (cached: exports repeat)."""
    for item in element.iter("{*}geaendertDatumZeit"):
        text = item.text or ""
        try:
            return _DATETIME_CACHE[text]
        except KeyError:
            parsed = parse_datetime(text)
            if len(_DATETIME_CACHE) >= _DATETIME_CACHE_MAX:
                _DATETIME_CACHE.clear()
            _DATETIME_CACHE[text] = parsed
            return parsed
    return None


def _xml(element: Any) -> str:
    text: str = etree.tostring(element, encoding="unicode", with_tail=False)
    return text


# -- object readers -----------------------------------------------------------------------


def _read_leistung(
    element: Any, position: str, keep_xml: bool = False, language: str = "de"
) -> LeistungObject:
    problems: list[tuple[str, str]] = []
    ident: XZuFiId | None = None
    keys: list[LeikaKey] = []
    names: list[tuple[str, str]] = []
    for child in element:
        tag = local_name(child.tag)
        if tag == "id":
            ident = _identifier(child)
        elif tag in _LEIKA_REFERENCES:
            code = _code(child)
            try:
                key = _leika(code)
            except InvalidIdentifier as exc:
                problems.append((f"leistung/{tag}/code", str(exc)))
                continue
            if key not in keys:
                keys.append(key)
        elif tag == "modulText":
            _leistungsbezeichnung(child, names)
    if ident is None:
        problems.insert(0, ("leistung/id", "missing or empty; a leistung needs an id"))
    if problems:
        raise _Invalid(problems)
    assert ident is not None
    return LeistungObject(
        id=ident,
        leika_keys=tuple(keys),
        name=pick_language(names, language),
        modified_at=_modified(element),
        position=position,
        xml=_xml(element) if keep_xml else None,
    )


def _leistungsbezeichnung(modul: Any, names: list[tuple[str, str]]) -> None:
    """Add the variants of a text module ``02`` (Leistungsbezeichnung) to *names*."""
    code = None
    contents = []
    for child in modul:
        tag = local_name(child.tag)
        if tag == "leikaTextmodul":
            code = _code(child)
        elif tag == "inhalt":
            contents.append(child)
    if code == "02":
        for content in contents:
            _name_candidates(content, names)


def _read_onlinedienst(element: Any, position: str, language: str = "de") -> OnlinedienstObject:
    ident: XZuFiId | None = None
    names: list[tuple[str, str]] = []
    url: str | None = None
    fallback_url: str | None = None
    for child in element:
        tag = local_name(child.tag)
        if tag == "id":
            ident = _identifier(child)
        elif tag == "bezeichnung":
            _name_candidates(child, names)
        elif tag == "link":
            link_type = None
            target = None
            for part in child:
                part_tag = local_name(part.tag)
                if part_tag == "typ":
                    link_type = _code(part)
                elif part_tag == "link":
                    target = _text(part) or None
            if target is None:
                target = _text(child) or None  # a plain <link>https://...</link>
            if target is not None:
                if link_type in (None, _ONLINEDIENST_LINK_DEFAULT) and url is None:
                    url = target
                elif fallback_url is None:
                    fallback_url = target
    if ident is None:
        raise _Invalid([("onlinedienst/id", "missing or empty; an onlinedienst needs an id")])
    return OnlinedienstObject(
        id=ident,
        name=pick_language(names, language),
        url=url or fallback_url,
        modified_at=_modified(element),
        position=position,
    )


_SCHEME_KINDS: Final = {kind.scheme_id: kind for kind in TargetKind}
_CACHE_MAX: Final = 1 << 16
_ARS_CACHE: dict[str, Ars] = {}
_LEIKA_CACHE: dict[str, LeikaKey] = {}


def _ars(text: str) -> Ars:
    """``Ars.parse`` with a bounded cache (areas repeat a lot in national exports)."""
    area = _ARS_CACHE.get(text)
    if area is None:
        area = Ars.parse(text)
        if len(_ARS_CACHE) < _CACHE_MAX:
            _ARS_CACHE[text] = area
    return area


def _leika(text: str) -> LeikaKey:
    """``LeikaKey.parse`` with a bounded cache."""
    key = _LEIKA_CACHE.get(text)
    if key is None:
        key = LeikaKey.parse(text)
        if len(_LEIKA_CACHE) < _CACHE_MAX:
            _LEIKA_CACHE[text] = key
    return key


def _reduced(obj: Any, zustaendigkeit: Any, gebiet: Any | None) -> str:
    """Return the XML of rejected responsibilities, reduced to what names them.

    *obj* keeps its id (or target) and the Zuständigkeit, whose ``gebietID`` elements are
    reduced to the first with *gebiet*'s text (if given).
    """
    import copy

    shell = etree.Element(obj.tag, nsmap=obj.nsmap)
    for child in obj:
        if local_name(child.tag) in ("id", "uebergeordnetesObjektID"):
            shell.append(copy.deepcopy(child))
    part = copy.deepcopy(zustaendigkeit)
    shell.append(part)
    if gebiet is not None:
        kept = False
        for child in list(part):
            if local_name(child.tag) == "gebietID":
                if kept or child.text != gebiet.text:
                    part.remove(child)
                else:
                    kept = True
    for child in (*shell, *part):
        child.tail = None
    return _xml(shell)


def _read_zustaendigkeit(
    element: Any,
    target_id: XZuFiId | None,
    default_kind: TargetKind | None,
    path: str,
    position: str,
    modified_at: dt.datetime | None,
    obj: Any,
    place: Callable[[int | None], str],
    invalid: list[InvalidObject],
) -> ZustaendigkeitObject | None:
    """Read one ``zustaendigkeit``; put what cannot be used into *invalid*.

    A bad ``gebietID`` rejects only that area; a problem of the Zuständigkeit itself
    (its ``leistungID``, ``id/@schemeID``, the target) rejects each of its areas.  Returns
    ``None`` when no area is left.
    """
    # The hot path of national exports: kept free of helper calls where it matters.
    names = _LOCAL
    problems: list[tuple[str, str]] | None = None
    ident: XZuFiId | None = None
    leistung: XZuFiId | None = None
    areas: list[Ars] = []
    area_elements: list[Any] = []
    bad_areas: list[tuple[Any, int, str]] | None = None
    gebiet_count = 0
    role: str | None = None
    for child in element:
        tag = names.get(child.tag) or local_name(child.tag)
        if tag == "id" or tag == "leistungID":
            text = child.text
            value = text.strip() if text else ""
            if value:
                get = child.get
                found = XZuFiId(
                    value,
                    (get("schemeAgencyID") or "").strip(),
                    (get("schemeID") or "").strip(),
                )
                if tag == "id":
                    ident = found
                else:
                    leistung = found
        elif tag == "gebietID":
            gebiet_count += 1
            text = child.text
            try:
                area = _ars(text.strip() if text else "")
            except InvalidIdentifier as exc:
                bad_areas = bad_areas or []
                bad_areas.append((child, gebiet_count, str(exc)))
                continue
            if area not in areas:
                areas.append(area)
                area_elements.append(child)
        elif tag == "rolle":
            for part in child:
                if (names.get(part.tag) or local_name(part.tag)) == "code":
                    text = part.text
                    role = (text.strip() if text else "") or None
                    break
            else:
                text = child.text
                role = (text.strip() if text else "") or None
        elif tag == "versionsinformation":
            modified_at = _modified(child) or modified_at
    kind = default_kind
    if ident is not None and ident.scheme_id:
        found_kind = _SCHEME_KINDS.get(ident.scheme_id)
        if found_kind is not None:
            kind = found_kind
        elif default_kind is None:
            problems = problems or []
            problems.append(
                (
                    f"{path}/id/@schemeID",
                    f"unknown Zuständigkeit schemeID {ident.scheme_id!r}; expected "
                    "ZustaendigkeitOnlinedienst or ZustaendigkeitOrganisationseinheit",
                )
            )
    elif kind is None:
        problems = problems or []
        problems.append(
            (
                f"{path}/id/@schemeID",
                "missing; it tells whether the target is an Onlinedienst or an OE "
                "(ZustaendigkeitOnlinedienst | ZustaendigkeitOrganisationseinheit)",
            )
        )
    if leistung is None:
        problems = problems or []
        problems.append((f"{path}/leistungID", "missing or empty"))
    if target_id is None:
        problems = problems or []
        if default_kind is TargetKind.ORGANISATIONSEINHEIT:
            problems.insert(0, ("organisationseinheit/id", "missing or empty"))
        else:
            problems.insert(0, ("uebergeordnetesObjektID", "missing or empty"))
    if gebiet_count == 0:
        problems = problems or []
        problems.append((f"{path}/gebietID", "missing; a Zuständigkeit needs an area (ARS)"))
    for gebiet, number, message in bad_areas or ():
        gebiet_path = f"{path}/gebietID[{number}]" if gebiet_count > 1 else f"{path}/gebietID"
        invalid.append(
            InvalidObject(
                kind="zustaendigkeit",
                id=ident,
                position=place(gebiet.sourceline),
                xml=_reduced(obj, element, gebiet),
                problems=((gebiet_path, message), *(problems or ())),
            )
        )
    if problems:
        # a problem of the Zuständigkeit itself: each of its (valid) areas is rejected
        for gebiet in area_elements or ([None] if gebiet_count == 0 else []):
            invalid.append(
                InvalidObject(
                    kind="zustaendigkeit",
                    id=ident,
                    position=position,
                    xml=_reduced(obj, element, gebiet),
                    problems=tuple(problems),
                )
            )
        return None
    if not areas:
        return None
    assert kind is not None
    assert target_id is not None
    assert leistung is not None
    return ZustaendigkeitObject(
        id=ident,
        target_kind=kind,
        target_id=target_id,
        leistung_id=leistung,
        areas=tuple(areas),
        role=role,
        modified_at=modified_at,
        position=position,
        path=path,
    )


def _read_transfer_objekt(
    element: Any, position: str, place: Callable[[int | None], str]
) -> list[ZustaendigkeitObject | InvalidObject]:
    names = _LOCAL
    target: XZuFiId | None = None
    entries: list[Any] = []
    modified = None
    for child in element:
        tag = names.get(child.tag) or local_name(child.tag)
        if tag == "zustaendigkeit":
            entries.append(child)
        elif tag == "uebergeordnetesObjektID":
            target = _identifier(child)
        elif tag == "versionsinformation":
            modified = _modified(child)
    if not entries:
        raise _Invalid([("zustaendigkeitTransferObjekt/zustaendigkeit", "missing")])
    results: list[ZustaendigkeitObject | InvalidObject] = []
    several = len(entries) > 1
    for number, entry in enumerate(entries, start=1):
        path = "zustaendigkeitTransferObjekt/zustaendigkeit" + (f"[{number}]" if several else "")
        invalid: list[InvalidObject] = []
        item = _read_zustaendigkeit(
            entry, target, None, path, position, modified, element, place, invalid
        )
        if item is not None:
            results.append(item)
        results.extend(invalid)
    return results


def _address_ars(anschrift: Any) -> Ars | None:
    """Return the ARS of an ``anschrift`` (its Regionalschlüssel), or ``None``."""
    for code in anschrift.iter("{*}regionalschluessel"):
        try:
            return _ars(_code(code))
        except InvalidIdentifier:
            return None
    return None


def _read_organisationseinheit(
    element: Any, position: str, place: Callable[[int | None], str], language: str = "de"
) -> Sequence[OrganisationseinheitObject | InvalidObject]:
    """Read an OE; its embedded Zuständigkeiten are rejected one by one, never the OE."""
    ident: XZuFiId | None = None
    names: list[tuple[str, str]] = []
    ars: Ars | None = None
    address_seen = False
    embedded: list[Any] = []
    for child in element:
        tag = local_name(child.tag)
        if tag == "id":
            ident = _identifier(child)
        elif tag == "name":
            _name_candidates(child, names)
        elif tag == "anschrift" and not address_seen:
            address_seen = True
            ars = _address_ars(child)
        elif tag == "zustaendigkeit":
            embedded.append(child)
    invalid: list[InvalidObject] = []
    if ident is None:
        # the OE is rejected; its Zuständigkeiten (no target without its id) area by area
        invalid.append(
            InvalidObject(
                kind="organisationseinheit",
                id=None,
                position=position,
                xml=_xml(element),
                problems=(
                    (
                        "organisationseinheit/id",
                        "missing or empty; an organisationseinheit needs an id",
                    ),
                ),
            )
        )
    results: list[ZustaendigkeitObject] = []
    modified = _modified(element)
    several = len(embedded) > 1
    for number, entry in enumerate(embedded, start=1):
        path = "organisationseinheit/zustaendigkeit" + (f"[{number}]" if several else "")
        item = _read_zustaendigkeit(
            entry,
            ident,
            TargetKind.ORGANISATIONSEINHEIT,
            path,
            place(entry.sourceline),
            modified,
            element,
            place,
            invalid,
        )
        if item is not None:
            results.append(item)
    if ident is None:
        return list(invalid)
    unit = OrganisationseinheitObject(
        id=ident,
        name=pick_language(names, language),
        zustaendigkeiten=tuple(results),
        modified_at=modified,
        position=position,
        xml=_xml(element),
        ars=ars,
    )
    return [unit, *invalid]


def _read_loesche(element: Any, position: str) -> DeleteObject:
    klasse = (element.get("klasse") or "").strip()
    ids: list[XZuFiId] = []
    for child in element:
        if local_name(child.tag) == "id":
            ident = _identifier(child)
            if ident is not None:
                ids.append(ident)
    problems = []
    if not klasse:
        problems.append(("loesche/@klasse", "missing; it names the class of the deleted object"))
    if not ids:
        problems.append(("loesche/id", "missing or empty"))
    if problems:
        raise _Invalid(problems)
    return DeleteObject(klasse=klasse, ids=tuple(ids), position=position)


def _first_id(element: Any) -> XZuFiId | None:
    for child in element:
        if local_name(child.tag) == "id":
            return _identifier(child)
    return None


# -- the reader ------------------------------------------------------------------------------


class TransferMessageReader:
    """Iterate over the objects of one XZuFi transfer message (2.2.0 or 2.3.1).

    *source* is a path, the message as bytes, or a binary file object; *name* is how
    positions and errors call it (default: the path, or ``"<bytes>"``).  Iterating reads
    the message once, streaming; memory stays flat whatever its size.  After iteration
    started, :attr:`info` holds what the root and ``nachrichtenkopf`` say, and
    :attr:`entry` the number of the entry the last item came from.

    *kinds* restricts the objects that are read: a set of local names (``"leistung"``,
    ``"loesche"``, ...); other entries are skipped cheaply (used for a first pass that only
    collects Leistungen).  *leistung_xml* keeps the XML of every ``leistung`` in
    :attr:`LeistungObject.xml` (for raw ``xzufi-object`` records; off by default because
    serializing costs time).  *language* chooses among the language variants of names
    (``"de"``: German, then ``de-*``, then a name without language, then the first).

    Positions are ``"<name>:line <N>"``; in a file that puts several entries on one line
    (minified) they also name the entry: ``"<name>:line 1, entry 5"``.

    :raises efa_xzufi.XZuFiNotUnderstood: the input is no XZuFi 2.2/2.3 transfer message
        (raised before the first item).
    :raises efa_xzufi.XZuFiFormatError: the input is missing or not well-formed (raised
        while iterating; everything yielded before stays valid).
    :raises efa_xzufi.XZuFiRefused: a DOCTYPE, or a limit of *limits* was exceeded.
    """

    def __init__(
        self,
        source: Source,
        *,
        name: str | None = None,
        limits: Limits = DEFAULT_LIMITS,
        kinds: frozenset[str] | None = None,
        leistung_xml: bool = False,
        language: str = "de",
    ) -> None:
        if not isinstance(language, str) or not language.strip():
            raise ValueError(f"language must be a language code such as 'de', got {language!r}")
        self._source = source
        self._name = name
        self._limits = limits
        self._kinds = kinds
        self._leistung_xml = leistung_xml
        self._language = language.strip().lower()
        self._entries: Entries | None = None
        self._source_name = ""
        #: The object element whose items are being yielded, and its local name.
        self._object: Any = None
        self._object_kind = ""

    @property
    def info(self) -> MessageInfo | None:
        """The message's root and header data (``None`` before iteration reached it)."""
        return None if self._entries is None else self._entries.info

    @property
    def entry(self) -> int:
        """The number (1-based, document order) of the entry the last item came from."""
        return 0 if self._entries is None else self._entries.ordinal

    def entry_position(self) -> str:
        """Return the position of the entry the last item came from."""
        if self._entries is None:
            return self._source_name
        return self._entries.position(self._source_name, self._entries.line)

    def __iter__(self) -> Iterator[XZuFiItem]:
        yield from self._items(None)  # without a fast path: items only

    def _items(
        self,
        fast: Callable[[Any], _T | None] | None,
        mapped: Callable[[XZuFiItem], Iterable[_U]] | None = None,
    ) -> Iterator[XZuFiItem | _T | _U]:
        """Iterate; *fast* may map a ``zustaendigkeitTransferObjekt`` element directly.

        *fast* returns ``None`` to leave the element to the general path.  *mapped*, if
        given, maps every other item (its results are yielded instead of the item): one
        generator fewer on the way of every item.
        """
        kinds = self._kinds
        source = self._name_of_source()
        names = _LOCAL
        self._source_name = source
        entries = self._entries = Entries(self._source, name=source, limits=self._limits)
        place = _Place(source, entries)
        strays = entries.strays
        emit = _emit
        for entry in entries:
            if strays:
                yield from emit(self._strays(place), mapped)
            operation = names.get(entry.tag) or local_name(entry.tag)
            self._object = None
            if operation == "loesche":
                if kinds is None or "loesche" in kinds:
                    yield from emit((self._loesche(entry, place(entry.sourceline)),), mapped)
                continue
            children = entry[:]  # a list: cheaper than an lxml iterator
            if not children and (kinds is None or "schreibe" in kinds):
                empty = SkippedEntry(
                    kind="schreibe",
                    reason="an empty schreibe entry (no object in it)",
                    position=place(entry.sourceline),
                )
                yield from emit((empty,), mapped)
            for element in children:
                kind = names.get(element.tag) or local_name(element.tag)
                if not kind or (kinds is not None and kind not in kinds):
                    continue
                self._object = element
                self._object_kind = kind
                if fast is not None and kind == "zustaendigkeitTransferObjekt":
                    # the hot path: read only three levels deep, deeper content is dropped
                    result = fast(element)
                    if result is not None:
                        yield result
                        continue
                yield from emit(self._read(kind, element, place), mapped)
        if strays:
            yield from emit(self._strays(place), mapped)

    def _mapped(
        self,
        fast: Callable[[Any], _T | None],
        mapped: Callable[[XZuFiItem], Iterable[_U]],
    ) -> Iterator[_T | _U]:
        """Iterate the mapped items: :meth:`_items` with both mapping functions."""
        return self._items(fast, mapped)  # type: ignore[return-value]

    def _read(self, kind: str, element: Any, place: _Place) -> Iterator[XZuFiItem]:
        """Read the items of one object element (the general path)."""
        position = place(element.sourceline)
        if kind == "zustaendigkeitTransferObjekt":
            try:
                yield from _read_transfer_objekt(element, position, place)
            except _Invalid as exc:
                yield self._invalid(kind, element, position, exc)
            return
        check_element(element, self._limits, place.source)
        language = self._language
        try:
            if kind == "leistung":
                yield _read_leistung(element, position, self._leistung_xml, language)
            elif kind == "onlinedienst":
                yield _read_onlinedienst(element, position, language)
            elif kind == "organisationseinheit":
                yield from _read_organisationseinheit(element, position, place, language)
            else:
                yield RawObject(
                    kind=kind,
                    id=_first_id(element),
                    position=position,
                    xml=_xml(element),
                    modified_at=_modified(element),
                )
        except _Invalid as exc:
            yield self._invalid(kind, element, position, exc)

    def _strays(self, place: _Place) -> Iterator[SkippedEntry]:
        strays = place.entries.strays
        self._object = None
        while strays:
            kind, line = strays.pop(0)
            if self._kinds is None or kind in self._kinds:
                yield SkippedEntry(
                    kind=kind,
                    reason=(
                        f"a <{kind}> element beside the entries: neither a schreibe/loesche "
                        "entry nor a header part"
                    ),
                    position=f"{place.source}:line {line}",
                )

    @staticmethod
    def _invalid(kind: str, element: Any, position: str, exc: _Invalid) -> InvalidObject:
        return InvalidObject(
            kind=kind,
            id=_first_id(element),
            position=position,
            xml=_xml(element),
            problems=tuple(exc.problems),
        )

    @staticmethod
    def _loesche(entry: Any, position: str) -> DeleteObject | InvalidObject:
        try:
            return _read_loesche(entry, position)
        except _Invalid as exc:
            return InvalidObject(
                kind="loesche",
                id=None,
                position=position,
                xml=_xml(entry),
                problems=tuple(exc.problems),
            )

    def _name_of_source(self) -> str:
        if self._name is not None:
            return self._name
        source = self._source
        if isinstance(source, (bytes, bytearray)):
            return "<bytes>"
        if isinstance(source, str):
            return source
        if isinstance(source, os.PathLike):
            return os.fspath(source)
        return str(getattr(source, "name", "<stream>"))
