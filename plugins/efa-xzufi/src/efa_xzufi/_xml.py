"""Hardened, streaming access to the entries of an XZuFi transfer message (internal).

Everything that touches untrusted XML goes through :func:`iter_entries`:

* lxml ``iterparse`` with ``resolve_entities=False``, ``no_network=True``,
  ``load_dtd=False``, ``huge_tree=False``: no entity is expanded, no DTD or external
  resource is loaded, libxml2's own size and depth limits stay on;
* a document with a ``<!DOCTYPE`` (or any other markup declaration) in its prolog is
  refused before libxml2 sees its body, so entity tricks (billion laughs, XXE) never start;
* the bytes read are counted: a file larger than :attr:`Limits.max_file_bytes`, or more than
  :attr:`Limits.max_entry_bytes` read while one entry is open, is refused, which bounds the
  memory held by one entry;
* every entry is checked for nesting depth and text length before it is used;
* after each ``schreibe``/``loesche`` entry has been handled it is cleared and its
  preceding siblings are deleted, so memory stays flat over files of any size.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import IO, Any, Final, Union

import attrs
from lxml import etree

from efa_core.errors import ConnectorError

__all__ = [
    "DEFAULT_LIMITS",
    "Limits",
    "MessageInfo",
    "Source",
    "XZuFiError",
    "XZuFiFormatError",
    "XZuFiRefused",
    "check_element",
    "iter_entries",
    "local_name",
]

#: What can be read: a path, the message as bytes, or a binary file object.
Source = Union[str, "os.PathLike[str]", bytes, IO[bytes]]

_KIB: Final = 1024
_MIB: Final = 1024 * _KIB
_GIB: Final = 1024 * _MIB
_MIN_TEXT_LIMIT: Final = 128 * _KIB


def _at_least_one(instance: object, attribute: attrs.Attribute[Any], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"Limits.{attribute.name} must be a positive integer, got {value!r}")


def _text_limit(instance: object, attribute: attrs.Attribute[Any], value: int) -> None:
    _at_least_one(instance, attribute, value)
    if value < _MIN_TEXT_LIMIT:
        raise ValueError(
            f"Limits.max_text_chars must be at least {_MIN_TEXT_LIMIT} (128 KiB), got {value}"
        )


@attrs.frozen(kw_only=True)
class Limits:
    """Limits that make hostile or broken input fail early, with bounded memory.

    The defaults fit national-scale exports (several GB, millions of entries) and stay
    far below what would hurt a small machine.
    """

    #: Largest file (or stream) accepted, in bytes.
    max_file_bytes: int = attrs.field(default=64 * _GIB, validator=_at_least_one)
    #: Most bytes read while one ``schreibe``/``loesche`` entry is open (bounds its memory).
    max_entry_bytes: int = attrs.field(default=32 * _MIB, validator=_at_least_one)
    #: Deepest element nesting in the document (the root is depth 1).
    max_depth: int = attrs.field(default=48, validator=_at_least_one)
    #: Longest text or attribute value, in characters (at least 128 KiB; see
    #: :func:`iter_entries` for when it is checked).
    max_text_chars: int = attrs.field(default=1 * _MIB, validator=_text_limit)
    #: Longest prolog (XML declaration, comments) before the root element, in bytes.
    max_prolog_bytes: int = attrs.field(default=64 * _KIB, validator=_at_least_one)


#: The limits used when none are given.
DEFAULT_LIMITS: Final = Limits()


class XZuFiError(ConnectorError):
    """An XZuFi message cannot be read; names the source and, if known, the line."""

    def __init__(self, message: str, *, source: str, line: int | None = None) -> None:
        self.source = source
        self.line = line
        self.reason = message
        where = f"{source}:line {line}" if line else source
        super().__init__(f"{where}: {message}")


class XZuFiFormatError(XZuFiError):
    """The input is not well-formed XML or not an XZuFi transfer message."""


class XZuFiRefused(XZuFiError):
    """The input was refused for safety: a DOCTYPE, or a size or depth limit was exceeded."""


@attrs.frozen(kw_only=True)
class MessageInfo:
    """What the root element and the ``nachrichtenkopf`` of a message say."""

    #: The root element's local name.
    root: str
    #: The root's ``xzufiVersion`` attribute (``"2.2.0"``, ``"2.3.1"``), or the version
    #: told by its namespace, or ``None``.
    version: str | None
    #: The XZuFi namespace of the root element ("" if it has none).
    namespace: str
    #: ``nachrichtenkopf/nachrichtUUID``, if given.
    message_id: str | None = None
    #: ``nachrichtenkopf/erstelltDatumZeit`` as written, if given.
    created: str | None = None
    #: ``nachrichtenkopf/sender`` (its text content), if given.
    sender: str | None = None


# -- local names ------------------------------------------------------------------------

_LOCAL: dict[str, str] = {}
_LOCAL_CACHE_MAX: Final = 4096


def local_name(tag: object) -> str:
    """Return the local name of an lxml tag (``"{ns}name"`` -> ``"name"``).

    Comments, processing instructions and entities (whose tag is not a string) give ``""``.
    """
    if not isinstance(tag, str):
        return ""
    name = _LOCAL.get(tag)
    if name is None:
        name = tag.rpartition("}")[2]
        if len(_LOCAL) < _LOCAL_CACHE_MAX:
            _LOCAL[tag] = name
    return name


# -- the guarded byte stream ---------------------------------------------------------------


class _GuardedStream:
    """A file-like wrapper that counts bytes, enforces limits and vets the prolog."""

    def __init__(self, raw: IO[bytes], name: str, limits: Limits) -> None:
        self._raw = raw
        self._name = name
        self._limits = limits
        #: Bytes read so far.
        self.position = 0
        #: Position when the last entry ended.
        self.mark = 0
        self._prolog: bytes | None = b""

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size if size and size > 0 else 64 * _KIB)
        if not isinstance(data, bytes):
            raise XZuFiFormatError(
                f"the stream returned {type(data).__name__}, not bytes; open the file in "
                "binary mode",
                source=self._name,
            )
        self.position += len(data)
        limits = self._limits
        if self.position > limits.max_file_bytes:
            raise XZuFiRefused(
                f"larger than the limit of {limits.max_file_bytes} bytes (max_file_bytes)",
                source=self._name,
            )
        if self.position - self.mark > limits.max_entry_bytes:
            raise XZuFiRefused(
                f"more than {limits.max_entry_bytes} bytes inside one entry (max_entry_bytes) "
                f"after byte {self.mark}; an entry this large is refused",
                source=self._name,
            )
        if self._prolog is not None:
            self._vet_prolog(data)
        return data

    def _vet_prolog(self, data: bytes) -> None:
        """Refuse a DOCTYPE (or other declaration) before the root element starts."""
        assert self._prolog is not None
        buffer = self._prolog + data
        if buffer[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in buffer[:4]:
            raise XZuFiFormatError(
                "is encoded in UTF-16 or UTF-32; XZuFi messages are UTF-8", source=self._name
            )
        index = 3 if buffer.startswith(b"\xef\xbb\xbf") else 0
        end = len(buffer)
        while index < end:
            if buffer[index] in b" \t\r\n":
                index += 1
                continue
            if buffer[index] != ord("<"):
                self._prolog = None  # not XML at all; libxml2 reports it
                return
            if end - index < 9:
                break  # too few bytes to tell what follows
            if buffer.startswith(b"<?", index):
                close, skip = buffer.find(b"?>", index + 2), 2
            elif buffer.startswith(b"<!--", index):
                close, skip = buffer.find(b"-->", index + 4), 3
            elif buffer.startswith(b"<!", index):
                line = buffer.count(b"\n", 0, index) + 1
                what = buffer[index : index + 9].decode("ascii", "replace")
                raise XZuFiRefused(
                    f"contains a document type declaration ({what!r}...); DOCTYPEs and "
                    "entity declarations are refused (no DTD, no entities)",
                    source=self._name,
                    line=line,
                )
            else:
                self._prolog = None  # the root element starts
                return
            if close < 0:
                break
            index = close + skip
        if len(buffer) > self._limits.max_prolog_bytes:
            raise XZuFiRefused(
                f"no root element within the first {self._limits.max_prolog_bytes} bytes "
                "(max_prolog_bytes)",
                source=self._name,
            )
        self._prolog = buffer


# -- entries ----------------------------------------------------------------------------------

_ENTRY_TAGS: Final = ("{*}schreibe", "{*}loesche")
_DEPTH_CHECKS: dict[int, Any] = {}
_LONG_TEXT: Final = etree.XPath(
    "boolean(.//text()[string-length(.) > $n] | .//@*[string-length(.) > $n])"
)
_REFUSAL_HINTS: Final = ("depth", "huge", "amplification", "entity", "too long", "limit")
#: An entry during which more bytes than this were read gets the full depth/text check.
_CHECK_THRESHOLD: Final = 64 * _KIB


def _too_deep_check(levels: int) -> Any:
    check = _DEPTH_CHECKS.get(levels)
    if check is None:
        check = etree.XPath("boolean(" + "/".join(["*"] * levels) + ")")
        _DEPTH_CHECKS[levels] = check
    return check


def check_element(element: Any, limits: Limits, name: str) -> None:
    """Refuse *element* if it nests deeper than ``max_depth`` or holds a too long text.

    :raises XZuFiRefused: naming the source and the line.
    """
    _check_entry(element, 1 + sum(1 for _ in element.iterancestors()), limits, name)


def _open(source: Source, name: str | None) -> tuple[IO[bytes], str, bool]:
    """Return ``(stream, name, close_it)`` for *source*."""
    import io

    if isinstance(source, (bytes, bytearray)):
        return io.BytesIO(bytes(source)), name or "<bytes>", True
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        try:
            return open(path, "rb"), name or path, True
        except FileNotFoundError:
            raise XZuFiFormatError("file does not exist", source=name or path) from None
        except OSError as exc:
            raise XZuFiFormatError(f"cannot open: {exc}", source=name or path) from exc
    return source, name or str(getattr(source, "name", "<stream>")), False


def _header(element: Any) -> MessageInfo:
    root = element.getroottree().getroot()
    tag = root.tag if isinstance(root.tag, str) else ""
    namespace = tag[1:].partition("}")[0] if tag.startswith("{") else ""
    version = root.get("xzufiVersion")
    if version is None and namespace.rstrip("/").rpartition("/")[2][:1].isdigit():
        version = namespace.rstrip("/").rpartition("/")[2].replace("_", ".")
    fields: dict[str, str | None] = {}
    for child in root:
        if local_name(child.tag) == "nachrichtenkopf":
            for item in child:
                key = local_name(item.tag)
                if key in ("nachrichtUUID", "erstelltDatumZeit", "sender"):
                    text = "".join(item.itertext()).strip()
                    fields[key] = " ".join(text.split()) or None
            break
    return MessageInfo(
        root=local_name(tag),
        version=version.strip() if version else None,
        namespace=namespace,
        message_id=fields.get("nachrichtUUID"),
        created=fields.get("erstelltDatumZeit"),
        sender=fields.get("sender"),
    )


def _check_entry(element: Any, depth: int, limits: Limits, name: str) -> None:
    """Refuse an entry nested too deep or holding a too long text."""
    levels = limits.max_depth - depth + 1
    if levels < 1 or _too_deep_check(levels)(element):
        raise XZuFiRefused(
            f"elements are nested deeper than {limits.max_depth} levels (max_depth)",
            source=name,
            line=element.sourceline,
        )
    if _LONG_TEXT(element, n=limits.max_text_chars):
        line = element.sourceline
        for item in element.iter():
            if len(item.text or "") > limits.max_text_chars or any(
                len(value) > limits.max_text_chars for value in item.attrib.values()
            ):
                line = item.sourceline
                break
        raise XZuFiRefused(
            f"a text or attribute value is longer than {limits.max_text_chars} characters "
            "(max_text_chars)",
            source=name,
            line=line,
        )


def iter_entries(
    source: Source,
    *,
    name: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
    info: list[MessageInfo] | None = None,
) -> Iterator[Any]:
    """Yield every ``schreibe``/``loesche`` element of a transfer message, in order.

    Entries are matched by local name, at any depth, so namespace prefixes do not matter.
    Each yielded element is cleared (and its earlier siblings deleted) when the iterator
    moves on, so use it before that.  *info* (a list) receives the :class:`MessageInfo`
    once the first entry or the end of the document is reached.

    An entry during which more than 64 KiB were read gets the full
    :func:`check_element` check (depth and text length); smaller entries cannot hold a
    too long text, and libxml2 itself refuses nesting deeper than 256 levels.

    :raises XZuFiFormatError: the input is missing, not well-formed or not UTF-8.
    :raises XZuFiRefused: a DOCTYPE, or a limit of *limits* was exceeded.
    """
    raw, label, close = _open(source, name)
    stream = _GuardedStream(raw, label, limits)
    parser = etree.iterparse(
        stream,
        events=("end",),
        tag=_ENTRY_TAGS,
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        attribute_defaults=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
        recover=False,
    )
    first = True
    try:
        try:
            for _event, element in parser:
                if first:
                    first = False
                    _refuse_doctype(element, label)
                    if info is not None:
                        info.append(_header(element))
                if stream.position - stream.mark > _CHECK_THRESHOLD:
                    check_element(element, limits, label)
                yield element
                element.clear(keep_tail=False)
                parent = element.getparent()
                if parent is not None:
                    while element.getprevious() is not None:
                        del parent[0]
                stream.mark = stream.position
        except etree.XMLSyntaxError as exc:
            message = str(exc.msg if getattr(exc, "msg", None) else exc)
            line = exc.lineno if getattr(exc, "lineno", None) else None
            if any(hint in message.lower() for hint in _REFUSAL_HINTS):
                raise XZuFiRefused(
                    f"refused by the XML parser's limits: {message}", source=label, line=line
                ) from None
            raise XZuFiFormatError(
                f"not well-formed XML: {message}", source=label, line=line
            ) from None
        root = parser.root
        if root is None:
            raise XZuFiFormatError("contains no XML element", source=label)
        if first:
            _refuse_doctype(root, label)
            if info is not None:
                info.append(_header(root))
    finally:
        if close:
            raw.close()


def _refuse_doctype(element: Any, name: str) -> None:
    """Second line of defence: refuse a document whose tree carries a DTD."""
    docinfo = element.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise XZuFiRefused(
            "contains a document type declaration; DOCTYPEs are refused", source=name
        )
