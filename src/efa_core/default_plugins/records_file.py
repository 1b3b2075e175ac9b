r"""The ``records-file`` connector: records kept in a local JSON Lines file.

The user's own knowledge is a source too ("kickoff with the pilot municipality on 12
May"): write it as records, one JSON object per line, in the form of
:func:`efa_core.serialization.record_to_dict` (with a ``"kind"`` key)::

    {"kind": "service", "key": "anmeldung", "name": "Anmeldung", "leika_keys": ["99115005104000"]}

and configure the file as a connector::

    [connectors.own-notes]
    type = "records-file"
    path = "notes.jsonl"     # relative paths are relative to the working directory
    batch_size = 1000        # optional

**Pull** (SNAPSHOT) reads the file in batches of ``batch_size`` lines.  Blank lines are
skipped and counted (:class:`~efa_core.connectors.Skipped` of kind ``blank-line``); a UTF-8
byte order mark at the start is ignored.  A line that is not UTF-8, not JSON or not a valid
record, or that repeats the ``(kind, natural key)`` of an earlier line, becomes a
:class:`~efa_core.connectors.Rejected` at position ``<path>:line <N>``; the other lines go
on.  The cursor is the number of lines read so far, so ``pull(cursor)`` continues after
that line; it is only meaningful while the file is unchanged.  The last batch is
``complete``.  A missing file is a :class:`~efa_core.errors.ConnectorError` naming it.

**Push** merges the changes into the file and replaces it atomically (a temporary file in
the same directory, flushed to disk, then :func:`os.replace`), so a crash never leaves a
half-written file: an :class:`~efa_core.connectors.Upsert` replaces the line with the same
``(kind, natural key)`` in place or appends a new line; a
:class:`~efa_core.connectors.Delete` removes the line (deletes of unknown keys are
ignored and reported).  Every other line (including invalid ones) is kept as it is; line
breaks become ``\n``.  The file keeps its permissions; a missing file is created, readable
by its owner only.  A file that is not UTF-8 is not rewritten (ConnectorError).
Concurrent writers are not coordinated: the last replace wins.
"""

from __future__ import annotations

import codecs
import os
import stat
import tempfile
from array import array
from bisect import bisect_left
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any, ClassVar

import anyio.to_thread
import attrs
import orjson

from efa_core import __version__
from efa_core.connectors import (
    Batch,
    Capability,
    Change,
    CheckResult,
    Connector,
    Delete,
    PushResult,
    Rejected,
    Skipped,
    Upsert,
    fingerprint,
    key_hash,
)
from efa_core.errors import ConnectorError, EfaError, ValidationError
from efa_core.hookspecs import RegisterConnector, hookimpl

__all__ = ["RecordsFileConfig", "RecordsFileConnector", "efa_register_connectors"]


def _non_blank(inst: object, attribute: attrs.Attribute[Any], value: str) -> None:
    if not value.strip():
        raise ValueError(f"{attribute.name} must not be empty")


def _positive(inst: object, attribute: attrs.Attribute[Any], value: int) -> None:
    if value < 1:
        raise ValueError(f"{attribute.name} must be at least 1, got {value}")


@attrs.frozen(kw_only=True)
class RecordsFileConfig:
    """Options of a ``records-file`` connector."""

    #: The JSON Lines file (``~`` is expanded; relative to the working directory).
    path: str = attrs.field(validator=_non_blank)
    #: How many lines one batch covers at most.
    batch_size: int = attrs.field(default=1000, validator=_positive)
    #: Skip parsing lines the store holds unchanged (source fingerprints); ``false`` parses
    #: every line on every sync.
    fingerprints: bool = True


def _parse_line(raw: bytes, position: str) -> Upsert | Rejected:
    """Turn one line into an Upsert, or a Rejected naming every problem."""
    from efa_core.serialization import record_from_dict

    text = raw.decode("utf-8", errors="replace")  # as the Rejected shows it
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Rejected(None, position, text, [("$", f"not UTF-8: {exc}")])
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        return Rejected(None, position, text, [("$", f"invalid JSON: {exc}")])
    kind = data.get("kind") if isinstance(data, dict) else None
    kind = kind if isinstance(kind, str) else None
    try:
        record = record_from_dict(data, context=position)
    except ValidationError as exc:
        return Rejected(kind, position, text, exc.problems)
    except (EfaError, ValueError) as exc:  # a validator outside cattrs' reach
        return Rejected(kind, position, text, [("$", str(exc))])
    return Upsert(record)


#: What the fingerprint of a line depends on besides its bytes: this connector and the
#: efa-core version whose model turns the line into a record.
_SALT = f"efa-core records-file {__version__}"

#: Looks fingerprints up in the store (``Connector.stored_fingerprints``).
Lookup = Callable[[list[bytes]], Mapping[bytes, tuple[int, ...]]]


class _SeenKeys:
    """Key hashes seen so far and the line of each one's first appearance, in 16 bytes a key.

    A dict of a million ``int -> int`` entries costs about 100 MB (the dict and two int
    objects per entry); this keeps the older keys in two sorted arrays (8-byte hash,
    8-byte line) and only the recent ones in a dict of at most :attr:`_MAX_RECENT`
    entries, merged into the arrays in place when it is full.  A look-up is a dict probe
    and a binary search (about 3.5 µs a new key at a million, against 0.4 µs for the
    dict).  The merge grows the arrays and moves their blocks up from the back, so no
    second copy of them exists at any time: memory is the arrays plus a bounded dict
    (issue 15).
    """

    _MAX_RECENT = 1 << 16

    def __init__(self) -> None:
        self._hashes = array("q")
        self._lines = array("q")
        self._recent: dict[int, int] = {}

    def __len__(self) -> int:
        return len(self._hashes) + len(self._recent)

    def setdefault(self, key: int, line: int) -> int:
        """Return the line where *key* first appeared, remembering *line* if it is new."""
        first = self._recent.get(key)
        if first is not None:
            return first
        hashes = self._hashes
        at = bisect_left(hashes, key)
        if at < len(hashes) and hashes[at] == key:
            return self._lines[at]
        self._recent[key] = line
        if len(self._recent) >= self._MAX_RECENT:
            self._merge()
        return line

    def _merge(self) -> None:
        """Merge the recent keys (none of them in the arrays) into the arrays, in place."""
        recent = sorted(self._recent.items())
        self._recent = {}
        hashes, lines = self._hashes, self._lines
        end = len(hashes)  # hashes[:end] are the old keys not yet moved
        padding = array("q", bytes(8 * len(recent)))
        hashes.extend(padding)
        lines.extend(padding)
        del padding
        # From the largest recent key down: the old keys above it move up by the number
        # of recent keys up to it, and it goes just below them.
        for index in range(len(recent) - 1, -1, -1):
            key, line = recent[index]
            at = bisect_left(hashes, key, 0, end)
            if at < end:
                hashes[at + index + 1 : end + index + 1] = hashes[at:end]
                lines[at + index + 1 : end + index + 1] = lines[at:end]
            hashes[at + index] = key
            lines[at + index] = line
            end = at


class _Reader:
    """Reads a records file batch by batch (blocking; used from a worker thread).

    With a *lookup*, each line's fingerprint is asked for (once per batch); a line whose
    fingerprint the store holds becomes an entry of ``Batch.unchanged`` instead of being
    parsed and built.  Duplicate keys are found by key hash for both kinds of line.
    """

    def __init__(self, path: Path, label: str, lookup: Lookup | None = None) -> None:
        self.path = path
        self.label = label
        self.lookup = lookup
        #: key hash -> the line where that key first appeared
        self.seen = _SeenKeys()
        self.line_no = 0
        #: Blank lines read since the last batch, and the first of them.
        self.blank = 0
        self.first_blank: int | None = None
        self._pending: tuple[int, bytes] | None = None
        try:
            self._file: IO[bytes] = path.open("rb")
        except FileNotFoundError:
            raise ConnectorError(f"{label}: file {str(path)!r} does not exist") from None
        except OSError as exc:
            raise ConnectorError(f"{label}: cannot open {str(path)!r}: {exc}") from exc

    def close(self) -> None:
        self._file.close()

    def _next_line(self) -> bytes | None:
        """Read the next line (without its line break) and count it; ``None`` at the end."""
        raw = self._file.readline()
        if not raw:
            return None
        self.line_no += 1
        if self.line_no == 1 and raw.startswith(codecs.BOM_UTF8):
            raw = raw[len(codecs.BOM_UTF8) :]  # saved by an editor that marks UTF-8
        return raw.rstrip(b"\r\n")

    def _lines(self) -> Iterator[tuple[int, bytes]]:
        """Yield ``(line number, text)`` of the non-blank lines not yet consumed."""
        if self._pending is not None:
            pending, self._pending = self._pending, None
            yield pending
        while (raw := self._next_line()) is not None:
            if raw.strip():
                yield self.line_no, raw
            else:
                self.blank += 1
                if self.first_blank is None:
                    self.first_blank = self.line_no

    def _position(self, line_no: int) -> str:
        return f"{self.path}:line {line_no}"

    def _duplicate(self, line_no: int, raw: bytes, kind: str, key: str, first: int) -> Rejected:
        problem = f"duplicate natural key {key!r} of kind {kind!r}; the first is at line {first}"
        text = raw.decode("utf-8")  # it parsed, so it is UTF-8
        return Rejected(kind, self._position(line_no), text, [("$", problem)])

    def _items(self, lines: list[tuple[int, bytes]]) -> Iterator[Upsert | Rejected | bytes]:
        """Turn lines into upserts, rejections and (unchanged lines) fingerprints."""
        fingerprints = [fingerprint(_SALT, raw) for _, raw in lines] if self.lookup else None
        known = self.lookup(fingerprints) if self.lookup and fingerprints else {}
        for index, (line_no, raw) in enumerate(lines):
            fp = fingerprints[index] if fingerprints is not None else None
            if fp is not None and (hashes := known.get(fp)):
                first = self.seen.setdefault(hashes[0], line_no)
                if first == line_no:
                    yield fp
                    continue
            item = _parse_line(raw, self._position(line_no))
            if isinstance(item, Rejected):
                yield item
                continue
            first = self.seen.setdefault(key_hash(item.kind, item.key), line_no)
            if first != line_no:
                yield self._duplicate(line_no, raw, item.kind, item.key, first)
            else:
                yield item if fp is None else Upsert(item.record, fingerprint=fp)

    def skip_to(self, cursor: str) -> None:
        """Consume the lines up to *cursor*, remembering their keys for duplicate checks."""
        if not cursor.isdigit() or not cursor.isascii():
            raise ConnectorError(f"{self.label}: invalid cursor {cursor!r}; expected a line number")
        target = int(cursor)
        lines: list[tuple[int, bytes]] = []
        while self.line_no < target:
            raw = self._next_line()
            if raw is None:
                raise ConnectorError(
                    f"{self.label}: cursor {cursor!r} lies beyond the end of {str(self.path)!r} "
                    f"({self.line_no} lines); the file changed since the cursor was taken"
                )
            if raw.strip():
                lines.append((self.line_no, raw))
            if len(lines) == _SKIP_CHUNK:
                for _ in self._items(lines):
                    pass
                lines.clear()
        for _ in self._items(lines):
            pass

    def read_batch(self, size: int) -> Batch:
        """Read up to *size* non-blank lines; look ahead to tell whether the file ends."""
        lines: list[tuple[int, bytes]] = []
        cursor: str | None = None
        for line_no, raw in self._lines():
            if len(lines) == size:
                self._pending = (line_no, raw)
                cursor = str(line_no - 1)
                break
            lines.append((line_no, raw))
        changes: list[Change] = []
        rejected: list[Rejected] = []
        unchanged: list[bytes] = []
        for item in self._items(lines):
            if isinstance(item, Upsert):
                changes.append(item)
            elif isinstance(item, Rejected):
                rejected.append(item)
            else:
                unchanged.append(item)
        if cursor is None:
            # The file is read: no key can come again, so the duplicate check's arrays
            # (16 bytes a key) are freed before the engine completes the snapshot.
            self.seen = _SeenKeys()
        skipped = []
        if self.blank:
            position = None if self.first_blank is None else self._position(self.first_blank)
            skipped.append(Skipped("blank-line", "a blank line", self.blank, position))
            self.blank, self.first_blank = 0, None
        return Batch(
            changes,
            cursor if cursor is not None else str(self.line_no),
            complete=cursor is None,
            rejected=rejected,
            skipped=skipped,
            unchanged=unchanged,
        )


#: Lines per fingerprint lookup while skipping to a cursor.
_SKIP_CHUNK = 1000


def _key_of_line(text: str) -> tuple[str, str] | None:
    if not text.strip():
        return None
    item = _parse_line(text.encode("utf-8"), "")
    return (item.kind, item.key) if isinstance(item, Upsert) else None


class RecordsFileConnector(Connector):
    """Records from (and to) a local JSON Lines file; see the module docs."""

    type_name: ClassVar[str] = "records-file"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.SNAPSHOT, Capability.PUSH}
    )
    config_class: ClassVar[type[Any]] = RecordsFileConfig

    config: RecordsFileConfig

    @property
    def path(self) -> Path:
        """The file, with ``~`` expanded."""
        return Path(self.config.path).expanduser()

    async def check_source(self) -> CheckResult:
        """Report whether the file exists and is readable."""
        path = self.path
        if not path.is_file():
            return CheckResult(False, f"file {str(path)!r} does not exist")
        if not os.access(path, os.R_OK):
            return CheckResult(False, f"file {str(path)!r} is not readable")
        return CheckResult(True, f"file {str(path)!r} is readable")

    async def pull_batches(self, cursor: str | None) -> AsyncIterator[Batch]:
        """Yield the file's records in batches of ``batch_size`` lines, after *cursor*."""
        lookup = self._lookup if self.config.fingerprints and self.store is not None else None
        reader = await anyio.to_thread.run_sync(_Reader, self.path, self.label, lookup)
        try:
            if cursor is not None:
                await anyio.to_thread.run_sync(reader.skip_to, cursor)
            while True:
                batch = await anyio.to_thread.run_sync(reader.read_batch, self.config.batch_size)
                yield batch
                if batch.complete:
                    return
        finally:
            reader.close()

    def _lookup(self, fingerprints: list[bytes]) -> Mapping[bytes, tuple[int, ...]]:
        return self.stored_fingerprints(fingerprints)

    async def push_changes(self, changes: Sequence[Change]) -> PushResult:
        """Merge *changes* into the file and replace it atomically."""
        return await anyio.to_thread.run_sync(self._merge, changes)

    def _merge(self, changes: Sequence[Change]) -> PushResult:
        path = self.path
        try:
            text = path.read_text(encoding="utf-8-sig")  # a BOM is dropped
        except FileNotFoundError:
            text = ""
        except (OSError, UnicodeDecodeError) as exc:
            raise ConnectorError(f"{self.label}: cannot read {str(path)!r}: {exc}") from exc
        from efa_core.serialization import record_to_dict

        # Only "\n" ends a line, as in pull: str.splitlines() would also split at the
        # U+2028 or U+0085 that JSON strings may hold unescaped, and break those records.
        lines: list[str | None] = [line.removesuffix("\r") for line in text.split("\n")]
        if lines and lines[-1] == "":
            lines.pop()
        index: dict[tuple[str, str], int] = {}
        for position, line in enumerate(lines):
            key = _key_of_line(line) if line is not None else None
            if key is not None:
                index.setdefault(key, position)
        written = unchanged = orphans = 0
        for change in changes:
            key = (change.kind, change.key)
            if isinstance(change, Delete):
                if key in index:
                    lines[index.pop(key)] = None
                    written += 1
                else:
                    orphans += 1
                continue
            line = orjson.dumps(record_to_dict(change.record)).decode("utf-8")
            if key in index:
                if lines[index[key]] == line:
                    unchanged += 1
                    continue
                lines[index[key]] = line
            else:
                index[key] = len(lines)
                lines.append(line)
            written += 1
        self._replace(path, "".join(f"{line}\n" for line in lines if line is not None))
        messages = []
        if unchanged:
            messages.append(f"{unchanged} upserts left lines unchanged")
        if orphans:
            messages.append(f"{orphans} deletes of unknown keys ignored")
        return PushResult(written=written, target=str(path), paths=(str(path),), messages=messages)

    def _replace(self, path: Path, content: str) -> None:
        directory = path.parent
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
        except FileNotFoundError:
            mode = None
        try:
            fd, temp_name = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")
        except OSError as exc:
            raise ConnectorError(
                f"{self.label}: cannot write to {str(directory)!r}: {exc}"
            ) from exc
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as temp:
                temp.write(content)
                temp.flush()
                os.fsync(temp.fileno())
            if mode is not None:
                os.chmod(temp_name, mode)
            os.replace(temp_name, path)
        except OSError as exc:
            Path(temp_name).unlink(missing_ok=True)
            raise ConnectorError(f"{self.label}: cannot replace {str(path)!r}: {exc}") from exc
        except BaseException:
            Path(temp_name).unlink(missing_ok=True)
            raise


@hookimpl
def efa_register_connectors(register: RegisterConnector) -> None:
    """Register the ``records-file`` connector type."""
    register(RecordsFileConnector)
