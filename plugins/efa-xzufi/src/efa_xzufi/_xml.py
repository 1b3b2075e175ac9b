"""Hardened, streaming access to the entries of an XZuFi transfer message (internal).

Everything that touches untrusted XML goes through :func:`iter_entries`:

* lxml ``iterparse`` with ``resolve_entities=False``, ``no_network=True``,
  ``load_dtd=False``, ``huge_tree=False``: no entity is expanded, no DTD or external
  resource is loaded, libxml2's own size and depth limits stay on;
* a document with a ``<!DOCTYPE`` (or any other markup declaration) in its prolog is
  refused before libxml2 sees its body, so entity tricks (billion laughs, XXE) never start;
  so is a declared encoding that is not ASCII-compatible (UTF-7, EBCDIC, ...), in which
  the prolog check could not see a DOCTYPE;
* input that is no XZuFi 2.2/2.3 transfer message (not XML, a web page, another root
  element, namespace or version) raises :class:`XZuFiNotUnderstood` as soon as the root
  element starts;
* the bytes read are counted: a file larger than :attr:`Limits.max_file_bytes`, or more than
  :attr:`Limits.max_entry_bytes` read while one entry is open, is refused, which bounds the
  memory held by one entry;
* every entry is checked for nesting depth and text length before it is used;
* after each ``schreibe``/``loesche`` entry has been handled it is cleared and its
  preceding siblings are deleted, so memory stays flat over files of any size.
"""

from __future__ import annotations

import codecs
import os
import re
from collections.abc import Iterator
from typing import IO, Any, Final, Union

import attrs
from lxml import etree

from efa_core.errors import ConnectorError, SourceNotUnderstood

__all__ = [
    "DEFAULT_LIMITS",
    "Limits",
    "MessageInfo",
    "Source",
    "XZuFiError",
    "XZuFiFormatError",
    "XZuFiNotUnderstood",
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


# ``source`` is the file (a str, as for every XZuFiError), never ``None``: narrower than
# SourceNotUnderstood's ``str | None``, which mypy reports as a conflict of the bases.
class XZuFiNotUnderstood(XZuFiFormatError, SourceNotUnderstood):  # type: ignore[misc]
    """The input is no XZuFi 2.2/2.3 transfer message, so nothing in it can be trusted.

    Raised for input that is not XML at all (empty, a PDF, a ZIP archive, JSON, text), a
    web page (HTML or XHTML, e.g. a maintenance page saved as the export), a root element
    in a foreign namespace or none, an unsupported XZuFi version (2.1.0, say) and a
    message with neither a ``nachrichtenkopf`` nor any entry.  It is an
    :class:`XZuFiFormatError` and an :class:`efa_core.errors.SourceNotUnderstood`: a sync
    run fails with the reason and deletes nothing.

    :attr:`source` is the file or stream (as for every :class:`XZuFiError`), :attr:`where`
    the same with the line, if known.
    """

    def __init__(self, message: str, *, source: str, line: int | None = None) -> None:
        self.source = source
        self.line = line
        self.reason = message
        self.where = f"{source}:line {line}" if line else source
        ConnectorError.__init__(self, f"{self.where}: {message}")


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


# -- what a transfer message is ------------------------------------------------------------

#: An XZuFi namespace: ``http://xoev.de/schemata/xzufi/<major>_<minor>_<patch>``.
_XZUFI_NAMESPACE: Final = re.compile(r"\Ahttps?://xoev\.de/schemata/xzufi/(\d+)_(\d+)_(\d+)/?\Z")
_VERSION_TEXT: Final = re.compile(r"\A\s*(\d+)\.(\d+)(?:\.(\d+))?\s*\Z")
#: The XZuFi versions read, as (major, minor).
SUPPORTED_VERSIONS: Final = frozenset({(2, 2), (2, 3)})
_XHTML: Final = "http://www.w3.org/1999/xhtml"
#: Local names that are parts of a message, never its root.
_NOT_A_ROOT: Final = frozenset(
    {
        "schreibe",
        "loesche",
        "nachrichtenkopf",
        "leistung",
        "spezialisierung",
        "organisationseinheit",
        "onlinedienst",
        "zustaendigkeitTransferObjekt",
        "zustaendigkeit",
    }
)
#: Local names a transfer message holds besides its entries (not reported as skipped).
HEADER_NAMES: Final = frozenset({"nachrichtenkopf", "transaktionID", "transaktionPosition"})
_ENTRY_NAMES: Final = frozenset({"schreibe", "loesche"})
_KNOWN_CHILDREN: Final = HEADER_NAMES | _ENTRY_NAMES
#: Declared encodings that keep ASCII bytes as they are (so the prolog check sees a
#: DOCTYPE), by their :mod:`codecs` names.
_ACCEPTED_ENCODINGS: Final = frozenset({"utf-8", "ascii", "iso8859-1", "iso8859-15", "cp1252"})
_ENCODING_DECLARATION: Final = re.compile(rb"""\A<\?xml\b[^>]*?\bencoding\s*=\s*(["'])([^"']*)\1""")
_HTML_START: Final = re.compile(rb"\A\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+)?html[\s>]", re.I | re.S)
#: Two entries on one line: a minified file, whose line numbers do not tell entries apart.
_TWO_ON_ONE_LINE: Final = re.compile(
    rb"</(?:[\w.-]+:)?(?:schreibe|loesche)\s*>[ \t]*<(?:[\w.-]+:)?(?:schreibe|loesche)[\s>/]"
)
_SNIFF_BYTES: Final = 1 * _MIB


def _version_of(text: str | None) -> tuple[tuple[int, int], str] | None:
    """``"2.2.0"`` -> ``((2, 2), "2.2.0")``; ``None`` for no or a non-numeric version."""
    match = _VERSION_TEXT.match(text or "")
    if match is None:
        return None
    return (int(match[1]), int(match[2])), text.strip() if text else ""


def check_root(tag: str, attrib: Any, name: str, line: int | None = None) -> None:
    """Refuse a root element that does not start an XZuFi 2.2/2.3 transfer message.

    Accepted: a root in an XZuFi namespace of version 2.2 or 2.3 (any local name: the
    root's name is not verified), or a root in another or no namespace that declares
    ``xzufiVersion`` 2.2.x or 2.3.x.  A numeric ``xzufiVersion`` must be supported too.

    :raises XZuFiNotUnderstood: naming what was found.
    """
    namespace = tag[1:].partition("}")[0] if tag.startswith("{") else ""
    local = tag.rpartition("}")[2]
    shown = f"<{local}>" + (f" in namespace {namespace!r}" if namespace else " (no namespace)")
    if local.lower() == "html" or namespace == _XHTML:
        raise XZuFiNotUnderstood(
            f"is a web page (root element {shown}), not an XZuFi transfer message; was an "
            "error or maintenance page saved as the export?",
            source=name,
            line=line,
        )
    declared = _version_of(attrib.get("xzufiVersion"))
    match = _XZUFI_NAMESPACE.match(namespace)
    versions: list[tuple[tuple[int, int], str]] = []
    if match is not None:
        versions.append(((int(match[1]), int(match[2])), f"{match[1]}.{match[2]}.{match[3]}"))
    elif declared is None:
        raise XZuFiNotUnderstood(
            f"the root element {shown} is not an XZuFi transfer message: expected the "
            "namespace of XZuFi 2.2 or 2.3 (http://xoev.de/schemata/xzufi/2_2_0, ...) or an "
            "xzufiVersion attribute",
            source=name,
            line=line,
        )
    if declared is not None:
        versions.append(declared)
    for version, text in versions:
        if version not in SUPPORTED_VERSIONS:
            raise XZuFiNotUnderstood(
                f"is an XZuFi {text} message (root element {shown}); efa-xzufi reads XZuFi "
                "2.2 and 2.3 transfer messages",
                source=name,
                line=line,
            )
    if local in _NOT_A_ROOT:
        raise XZuFiNotUnderstood(
            f"the root element is <{local}>, a part of a transfer message; a transfer "
            "message's root holds a nachrichtenkopf and schreibe/loesche entries",
            source=name,
            line=line,
        )


#: Starts of binary formats that turn up where an export was expected.
_SIGNATURES: Final = (b"%PDF", b"PK\x03\x04", b"\x1f\x8b")


def _what_it_is(head: bytes) -> str:
    """Say what non-XML input looks like, without quoting it."""
    if head.startswith(b"%PDF"):
        return "a PDF document"
    if head.startswith(b"PK\x03\x04"):
        return "a ZIP archive (an .xlsx, .docx or .zip file?)"
    if head.startswith(b"\x1f\x8b"):
        return "gzip-compressed data (unpack it first)"
    if head[:1] in (b"{", b"["):
        return "JSON, it seems"
    return "its first character is not '<'"


# -- the guarded byte stream ---------------------------------------------------------------


class _GuardedStream:
    """A file-like wrapper that counts bytes, enforces limits and vets the prolog.

    It also looks at the start of the document twice, without keeping it: its root
    element (:func:`check_root`, with a small pull parser fed until the root starts) and
    whether entries share lines (:attr:`minified`).
    """

    def __init__(self, raw: IO[bytes], name: str, limits: Limits) -> None:
        self._raw = raw
        self._name = name
        self._limits = limits
        #: Bytes read so far.
        self.position = 0
        #: Position when the last entry ended.
        self.mark = 0
        #: Whether two entries were seen on one line (positions then name the entry).
        self.minified = False
        self._prolog: bytes | None = b""
        self._root: Any = etree.XMLPullParser(
            events=("start",),
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            huge_tree=False,
            remove_comments=True,
            remove_pis=True,
        )
        self._head = b""
        self._head_lines = b""
        self._sniffed = 0

    @property
    def root_started(self) -> bool:
        """Whether the prolog check saw the root element start."""
        return self._prolog is None

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size if size and size > 0 else 64 * _KIB)
        if not isinstance(data, bytes):
            raise XZuFiFormatError(
                f"the stream returned {type(data).__name__}, not bytes; open the file in "
                "binary mode",
                source=self._name,
            )
        if not data and self.position == 0:
            raise XZuFiNotUnderstood(
                "is empty (0 bytes), not an XZuFi transfer message", source=self._name
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
        if self._root is not None:
            self._find_root(data)
        if not self.minified and self._sniffed < _SNIFF_BYTES and data:
            self._sniff_lines(data)
        return data

    def _vet_prolog(self, data: bytes) -> None:
        """Refuse a DOCTYPE (or other declaration) before the root element starts."""
        assert self._prolog is not None
        buffer = self._prolog + data
        if buffer.startswith(_SIGNATURES):
            raise XZuFiNotUnderstood(
                f"is not XML: {_what_it_is(buffer[:8])}; an XZuFi transfer message starts "
                "with '<?xml' or its root element",
                source=self._name,
            )
        if buffer[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in buffer[:4]:
            raise XZuFiNotUnderstood(
                "is encoded in UTF-16 or UTF-32; XZuFi messages are UTF-8", source=self._name
            )
        index = 3 if buffer.startswith(b"\xef\xbb\xbf") else 0
        end = len(buffer)
        while index < end:
            if buffer[index] in b" \t\r\n":
                index += 1
                continue
            if buffer[index] != ord("<"):
                raise XZuFiNotUnderstood(
                    f"is not XML: {_what_it_is(buffer[index : index + 8])}; an XZuFi "
                    "transfer message starts with '<?xml' or its root element",
                    source=self._name,
                    line=buffer.count(b"\n", 0, index) + 1,
                )
            if end - index < 15:
                break  # too few bytes to tell what follows
            if buffer.startswith(b"<?", index):
                close, skip = buffer.find(b"?>", index + 2), 2
                if close >= 0 and buffer.startswith(b"<?xml", index):
                    self._check_encoding(buffer[index : close + skip])
            elif buffer.startswith(b"<!--", index):
                close, skip = buffer.find(b"-->", index + 4), 3
            elif buffer.startswith(b"<!", index):
                line = buffer.count(b"\n", 0, index) + 1
                if buffer[index : index + 15].lower().startswith(b"<!doctype html"):
                    raise XZuFiNotUnderstood(
                        "is an HTML page (<!DOCTYPE html>), not an XZuFi transfer message; "
                        "was an error or maintenance page saved as the export?",
                        source=self._name,
                        line=line,
                    )
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

    def _check_encoding(self, declaration: bytes) -> None:
        """Refuse a declared encoding in which ASCII bytes do not stand for themselves."""
        match = _ENCODING_DECLARATION.match(declaration)
        if match is None:
            return
        label = match[2].decode("ascii", "replace")
        try:
            codec = codecs.lookup(label).name
        except LookupError:
            codec = None
        if codec not in _ACCEPTED_ENCODINGS:
            raise XZuFiRefused(
                f"declares the encoding {label!r}; XZuFi messages are UTF-8 (also accepted: "
                "ISO-8859-1, ISO-8859-15, windows-1252, US-ASCII), and other encodings are "
                "refused because the DOCTYPE check could not read them",
                source=self._name,
                line=1,
            )

    def _find_root(self, data: bytes) -> None:
        """Feed the pull parser until the root element starts, then check it."""
        head = self._head + data if len(self._head) < 1024 else self._head
        self._head = head[:1024]
        try:
            self._root.feed(data)
            for _event, element in self._root.read_events():
                self._root = None
                check_root(element.tag, element.attrib, self._name, element.sourceline)
                return
        except etree.XMLSyntaxError:
            self._root = None  # the real parser reports where
            if _HTML_START.match(self._head.lstrip(b"\xef\xbb\xbf")):
                raise XZuFiNotUnderstood(
                    "is an HTML page, not an XZuFi transfer message; was an error or "
                    "maintenance page saved as the export?",
                    source=self._name,
                ) from None

    def _sniff_lines(self, data: bytes) -> None:
        window = self._head_lines + data
        self._sniffed += len(data)
        if _TWO_ON_ONE_LINE.search(window):
            self.minified = True
        self._head_lines = window[-256:]


# -- entries ----------------------------------------------------------------------------------

_ENTRY_TAGS: Final = ("{*}schreibe", "{*}loesche")
_DEPTH_CHECKS: dict[int, Any] = {}
_LONG_TEXT: Final = etree.XPath(
    "boolean(.//text()[string-length(.) > $n] | .//@*[string-length(.) > $n])"
)
_REFUSAL_HINTS: Final = ("depth", "huge", "amplification", "entity", "too long", "limit")
#: Entries under the root are deleted in bulk, after this many (cleared) entries.
_DELETE_EVERY: Final = 64
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
        label = name or path
        try:
            # non-blocking, so that a FIFO put in the file's place cannot hang the open
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | _O_BINARY)
        except FileNotFoundError:
            raise XZuFiFormatError("file does not exist", source=label) from None
        except OSError as exc:
            raise XZuFiFormatError(f"cannot open: {exc.strerror or exc}", source=label) from exc
        kind = file_kind(os.fstat(fd).st_mode)
        if kind is not None:
            os.close(fd)
            raise XZuFiFormatError(f"is {kind}, not a regular file", source=label)
        return os.fdopen(fd, "rb"), label, True
    return source, name or str(getattr(source, "name", "<stream>")), False


_O_BINARY: Final = getattr(os, "O_BINARY", 0)


def file_kind(mode: int) -> str | None:
    """Say what a non-regular file is (``"a FIFO (named pipe)"``); ``None`` if regular."""
    import stat

    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    return "not a regular file"


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


def _holds_entries(element: Any) -> bool:
    return any(local_name(child.tag) in _ENTRY_NAMES for child in element)


class Entries:
    """The ``schreibe``/``loesche`` elements of one message, with where they are (internal).

    Iterate to get the entries (see :func:`iter_entries`).  While iterating,
    :attr:`ordinal` is the current entry's number (1-based, in document order),
    :attr:`minified` tells whether entries share lines, and :attr:`strays` collects
    ``(local name, line)`` of elements beside the entries that are neither entries nor
    header parts (drain it as you go).  :attr:`info` is set at the first entry or the end.
    """

    def __init__(self, source: Source, *, name: str | None, limits: Limits) -> None:
        self._source = source
        self._name = name
        self._limits = limits
        self._stream: _GuardedStream | None = None
        self.ordinal = 0
        self._current: Any = None
        self.strays: list[tuple[str, int | None]] = []
        self.info: MessageInfo | None = None

    def _strays(self, parent: Any, current: Any) -> None:
        """Note the children of *parent* before *current* that are no entries or header."""
        for earlier in parent:
            if earlier is current:
                return
            kind = local_name(earlier.tag)
            if kind and kind not in _KNOWN_CHILDREN:
                self.strays.append((kind, earlier.sourceline))

    @property
    def line(self) -> int | None:
        """The line where the current entry starts."""
        return None if self._current is None else int(self._current.sourceline)

    @property
    def minified(self) -> bool:
        """Whether two entries were seen on one line (so lines alone do not place them)."""
        return self._stream is not None and self._stream.minified

    def position(self, source: str, line: int | None) -> str:
        """``"<source>:line N"``, with ``", entry M"`` added when entries share lines."""
        if self.minified:
            return f"{source}:line {line}, entry {self.ordinal}"
        return f"{source}:line {line}"

    def __iter__(self) -> Iterator[Any]:
        raw, label, close = _open(self._source, self._name)
        stream = self._stream = _GuardedStream(raw, label, self._limits)
        limits = self._limits
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
        top: Any = None  # the root element, once known
        pending = 0  # children of the root that are entries, current one included
        try:
            try:
                for _event, element in parser:
                    if first:
                        first = False
                        _refuse_doctype(element, label)
                        top = element.getroottree().getroot()
                        check_root(top.tag, top.attrib, label, top.sourceline)
                        self.info = _header(element)
                    if stream.position - stream.mark > _CHECK_THRESHOLD:
                        check_element(element, limits, label)
                    self.ordinal += 1
                    self._current = element
                    yield element
                    element.clear(keep_tail=False)
                    parent = element.getparent()
                    if parent is top:
                        # entries under the root are deleted in bulk; anything else beside
                        # them is reported as a stray first
                        pending += 1
                        if pending >= _DELETE_EVERY:
                            # the parser may have read entries beyond this one: keep those
                            index = parent.index(element)
                            if index != pending - 1:
                                self._strays(parent, element)
                            del parent[:index]
                            pending = 1
                    elif parent is not None:
                        while element.getprevious() is not None:
                            del parent[0]
                    stream.mark = stream.position
            except etree.XMLSyntaxError as exc:
                message = str(exc.msg if getattr(exc, "msg", None) else exc)
                line = exc.lineno if getattr(exc, "lineno", None) else None
                if first and not stream.root_started:
                    raise XZuFiNotUnderstood(
                        f"contains no XML element ({message})", source=label, line=line
                    ) from None
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
                check_root(root.tag, root.attrib, label, root.sourceline)
                self.info = _header(root)
                if not any(local_name(child.tag) == "nachrichtenkopf" for child in root):
                    raise XZuFiNotUnderstood(
                        f"has neither a nachrichtenkopf nor any schreibe/loesche entry under "
                        f"its root element <{local_name(root.tag)}>: not an XZuFi transfer "
                        "message",
                        source=label,
                        line=root.sourceline,
                    )
            for child in root:
                kind = local_name(child.tag)
                if kind and kind not in _KNOWN_CHILDREN and not _holds_entries(child):
                    self.strays.append((kind, child.sourceline))
        finally:
            if close:
                raw.close()


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

    :raises XZuFiNotUnderstood: the input is no XZuFi 2.2/2.3 transfer message.
    :raises XZuFiFormatError: the input is missing, not well-formed or not UTF-8.
    :raises XZuFiRefused: a DOCTYPE, or a limit of *limits* was exceeded.
    """
    entries = Entries(source, name=name, limits=limits)
    for element in entries:
        if info is not None and not info:
            assert entries.info is not None
            info.append(entries.info)
        yield element
    if info is not None and not info and entries.info is not None:
        info.append(entries.info)


def _refuse_doctype(element: Any, name: str) -> None:
    """Second line of defence: refuse a document whose tree carries a DTD."""
    docinfo = element.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise XZuFiRefused(
            "contains a document type declaration; DOCTYPEs are refused", source=name
        )
