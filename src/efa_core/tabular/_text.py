"""CSV text: the encoding (checked over the whole file, streaming), the delimiter, the records."""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import logging
from collections.abc import Iterator, Sequence
from typing import IO, Final

from efa_core.errors import SourceNotUnderstood

__all__ = ["DELIMITERS", "CsvText", "detect_encoding", "sniff_delimiters"]

log = logging.getLogger("efa_core.tabular")

#: The delimiters tried when none is configured, in this order on a tie.
DELIMITERS: Final = (";", ",", "\t", "|")
_CHUNK: Final = 1 << 20
#: Most text collected from the top of a file to choose the delimiter and find the header.
_HEAD_CHARS: Final = 1 << 20
_BOMS: Final = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def _codec(name: str) -> str:
    return codecs.lookup(name).name


def detect_encoding(head: bytes) -> tuple[str, ...]:
    """Return the encodings to try for a file starting with *head*, most likely first.

    A byte order mark decides (UTF-8, UTF-16, UTF-32).  Without one, text where every
    second byte is NUL is UTF-16 (little or big endian, as Excel's "Unicode text" and some
    Windows tools write it).  Otherwise strict UTF-8, then cp1252 (Windows "ANSI", what
    Excel writes as "CSV (Trennzeichen-getrennt)").
    """
    for bom, name in _BOMS:
        if head.startswith(bom):
            return (name,)
    sample = head[:4096]
    half = len(sample) // 2
    if half >= 2:
        even_nul = sample[0::2].count(0)
        odd_nul = sample[1::2].count(0)
        if odd_nul >= half * 0.3 and even_nul <= half * 0.05:
            return ("utf-16-le",)
        if even_nul >= half * 0.3 and odd_nul <= half * 0.05:
            return ("utf-16-be",)
    return ("utf-8-sig", "cp1252")


def _shown(codec: str) -> str:
    """Return the encoding's name as reported: ``utf-8`` with or without BOM."""
    return "utf-8" if codec == "utf-8-sig" else _codec(codec)


def _check(stream: IO[bytes], codec: str) -> tuple[int, int, str] | None:
    """Decode *stream* from its start in chunks; return ``(line, byte, reason)`` of an error."""
    stream.seek(0)
    decoder = codecs.getincrementaldecoder(codec)("strict")
    lines = 1
    offset = 0
    while True:
        chunk = stream.read(_CHUNK)
        try:
            text = decoder.decode(chunk, final=not chunk)
        except UnicodeDecodeError as exc:
            start = max(0, min(exc.start, len(chunk)))
            return lines + chunk[:start].count(b"\n"), offset + start, exc.reason
        lines += text.count("\n")
        offset += len(chunk)
        if not chunk:
            return None


def choose_encoding(stream: IO[bytes], encoding: str | None) -> str:
    """Return the codec *stream* decodes with, checking the whole stream (flat memory).

    :raises SourceNotUnderstood: no candidate decodes it; names the line and the
        ``encoding`` option.
    """
    if encoding is None:
        stream.seek(0)
        candidates = detect_encoding(stream.read(4096))
    else:
        codec = _codec(encoding)
        candidates = ("utf-8-sig" if codec == "utf-8" else codec,)
    first: tuple[int, int, str] | None = None
    for candidate in candidates:
        error = _check(stream, candidate)
        if error is None:
            return candidate
        first = first or error
    assert first is not None
    line, byte, reason = first
    names = [_shown(c) for c in candidates]
    tried = ("neither " + " nor ".join(names)) if len(names) > 1 else f"not {names[0]}"
    raise SourceNotUnderstood(
        f"line {line} is {tried} text ({reason} at byte {byte}); set the option 'encoding'"
    )


def _widths(lines: Sequence[str], delimiter: str) -> list[int]:
    try:
        return [len(r) for r in csv.reader(lines, delimiter=delimiter) if any(c.strip() for c in r)]
    except csv.Error:
        return []


def sniff_delimiters(lines: Sequence[str]) -> tuple[str, ...]:
    """Order :data:`DELIMITERS` by how well each splits *lines* into a consistent table.

    The score of a delimiter is the number of records that have the most common width
    (above one column), then that width.  A title line above the header
    (``EfA-Marktplatz, Export vom 05.11.2024`` above a ``;`` table) has a width of its own
    and does not decide.
    """

    def score(delimiter: str) -> tuple[int, int]:
        widths = [w for w in _widths(lines, delimiter) if w > 1]
        if not widths:
            return (0, 0)
        modal = max(set(widths), key=lambda w: (widths.count(w), w))
        return (widths.count(modal), modal)

    scores = {d: score(d) for d in DELIMITERS}
    return tuple(sorted(DELIMITERS, key=lambda d: (-scores[d][0], -scores[d][1])))


class CsvText:
    """A CSV file's text, read line by line: the head kept for sniffing, the rest streamed."""

    def __init__(self, stream: IO[bytes], codec: str, where: str, head_lines: int = 100) -> None:
        stream.seek(0)
        self.where = where
        self.encoding = _shown(codec)
        self._text = io.TextIOWrapper(stream, encoding=codec, newline="")
        self._nul_lines = 0
        self.head: list[str] = []
        size = 0
        while size < _HEAD_CHARS and len(self.head) < head_lines:
            line = self._text.readline()
            if not line:
                break
            line = self._clean(line)
            self.head.append(line)
            size += len(line)
        self._used = False

    def _clean(self, line: str) -> str:
        if "\0" in line:
            self._nul_lines += 1
            if self._nul_lines == 1:
                log.warning("%s: NUL characters in the text were removed", self.where)
            return line.replace("\0", "")
        return line

    def _lines(self) -> Iterator[str]:
        yield from self.head
        for line in self._text:
            yield self._clean(line)

    def records(self, delimiter: str) -> Iterator[list[str]]:
        """Yield every record of the file, split at *delimiter* (once per instance)."""
        if self._used:
            raise RuntimeError("CsvText.records() can run once")
        self._used = True
        return csv.reader(self._lines(), delimiter=delimiter)

    def head_records(self, delimiter: str) -> list[list[str]]:
        """Return the records of the head only (for choosing the delimiter), up to an error."""
        records: list[list[str]] = []
        with contextlib.suppress(csv.Error):
            records.extend(csv.reader(self.head, delimiter=delimiter))
        return records

    def detach(self) -> None:
        """Release the binary stream without closing it."""
        self._text.detach()
