"""The ``xzufi-dir`` connector: an editorial system's XZuFi export directory.

An editorial system (Redaktionssystem) publishes its complete data set as XZuFi files in a
directory with an ``index.txt`` that lists them, one file name per line; the PVOG's
collector (Sammlerdienst) reads it every day.  This connector reads such a directory, local
or over HTTP(S), with the collector's semantics:

* an ``index.txt`` that lists no file **aborts** the pull (:class:`~efa_core.errors.
  ConnectorError`); blank lines and lines starting with ``#`` are ignored, a name listed
  twice is read once;
* a listed file that is missing or not well-formed XML **aborts** the pull, before any
  batch is delivered (a first pass reads every file);
* a listed file that is no XZuFi 2.2/2.3 transfer message (not XML, a web page, an
  unknown root element, another XZuFi version) fails the pull with
  :class:`~efa_core.errors.SourceNotUnderstood`, before any batch is delivered;
* a single invalid object is quarantined (:class:`~efa_core.connectors.Rejected` at
  ``"<file>:line <N>"``), one bad area of a Zuständigkeit alone; the rest is imported;
* objects not mapped (switched off, ``loesche`` entries, empty entries) are counted as
  :class:`~efa_core.connectors.Skipped` with the reason;
* locally, files (and ``index.txt``) must be regular files inside the export directory:
  a symbolic link that leads out of it is refused unless ``follow_symlinks = true``.

Configuration::

    [connectors.lrs-th]
    type = "xzufi-dir"
    path = "/data/lrs-th/export"          # or "https://lrs.example.org/xzufi/"
    output_dir = "/data/lrs-th/outbox"    # optional: where push writes messages
    sender = "Land Thüringen, OZG-Koordination"
    batch_size = 1000
    organisation_units = true             # organisationseinheit -> organisation-unit
    raw_objects = true                    # spezialisierung, leistung, unknown -> xzufi-object
    max_raw_chars = 262144                # longer raw objects are rejected
    language = "de"                       # which language variant of names to take
    follow_symlinks = false               # refuse symbolic links out of the directory

**Pull** (SNAPSHOT) makes two passes over the listed files
(:class:`~efa_xzufi.snapshot.ExportSnapshot`): the first collects the Leistungen (to
resolve the LeiKa keys of Zuständigkeiten), the ids of all objects and the deletes, and
proves every file readable; the second maps the objects (see :mod:`efa_xzufi.mapping`),
file by file in index order, services last.  Within the snapshot, the later of a
``schreibe`` and a ``loesche`` of one object wins, and of two copies of one id the later
wins (the earlier is quarantined as a duplicate).  Files over HTTP are downloaded to a
temporary directory first (removed afterwards).  The cursor is
``"<items delivered>@<index digest>"``; resuming reads the files again and skips what was
delivered, and refuses a cursor taken from a different ``index.txt``.

**Push** writes one XZuFi 2.2.0 transfer message into ``output_dir`` (temporary file, then
:func:`os.replace`): ``schreibe`` entries for the pushed responsibilities and services and
``loesche`` entries for their deletes; other record kinds are skipped and reported.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import re
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar, Final

import anyio.to_thread
import attrs
import httpx

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
)
from efa_core.errors import ConnectorError, SourceNotUnderstood
from efa_core.model import Record, Responsibility, Service
from efa_xzufi._xml import DEFAULT_LIMITS, Limits, XZuFiNotUnderstood, file_kind
from efa_xzufi.mapping import DEFAULT_MAX_RAW_CHARS, MappedItem, check_max_raw_chars
from efa_xzufi.snapshot import ExportSnapshot
from efa_xzufi.writer import XZuFiWriteError, write_transfer_message

__all__ = ["XZuFiDirConfig", "XZuFiDirConnector"]

log = logging.getLogger("efa_xzufi")

#: What a source fingerprint covers besides the record: the connector and the scheme's
#: version (raise it when the mapping changes, so every object is built once more).
_FINGERPRINT_SALT: Final = "efa-xzufi xzufi-dir records 1"

_DOWNLOAD_CHUNK: Final = 1 << 20
_INDEX_MAX_BYTES: Final = 4 << 20


def _positive(instance: object, attribute: attrs.Attribute[Any], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{attribute.name} must be a positive integer, got {value!r}")


def _non_blank(instance: object, attribute: attrs.Attribute[Any], value: str) -> None:
    if not value.strip():
        raise ValueError(f"{attribute.name} must not be empty")


def _max_raw_chars(instance: object, attribute: attrs.Attribute[Any], value: int) -> None:
    check_max_raw_chars(value)


_LANGUAGE: Final = re.compile(r"\A[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*\Z")


def _language(instance: object, attribute: attrs.Attribute[Any], value: str) -> None:
    if not isinstance(value, str) or not _LANGUAGE.match(value):
        raise ValueError(f"language must be a language code such as 'de', got {value!r}")


def _file_name(instance: object, attribute: attrs.Attribute[Any], value: str) -> None:
    _non_blank(instance, attribute, value)
    if "/" in value or "\\" in value or value in (".", ".."):
        raise ValueError(f"{attribute.name} must be a plain file name, got {value!r}")


@attrs.frozen(kw_only=True)
class XZuFiDirConfig:
    """Options of an ``xzufi-dir`` connector (one ``[connectors.NAME]`` table)."""

    #: The export directory: a local path or an ``http(s)://`` URL (``index.txt`` inside).
    path: str = attrs.field(validator=_non_blank)
    #: Where push writes transfer messages (a local directory); unset: push is refused.
    output_dir: str | None = None
    #: ``nachrichtenkopf/sender`` of pushed messages.
    sender: str = attrs.field(default="efa-core", validator=_non_blank)
    #: ``nachrichtenkopf/empfaenger`` of pushed messages, if wanted.
    receiver: str | None = None
    #: Changes and rejected objects per batch.
    batch_size: int = attrs.field(default=1000, validator=_positive)
    #: Map ``onlinedienst`` objects to ``service`` records.
    services: bool = True
    #: Map ``organisationseinheit`` objects to ``organisation-unit`` records.
    organisation_units: bool = True
    #: Keep ``spezialisierung``, ``leistung`` and unknown objects as ``xzufi-object``
    #: records (their XML as received).
    raw_objects: bool = True
    #: The longest XML kept in an ``xzufi-object`` (characters); longer objects are rejected.
    max_raw_chars: int = attrs.field(default=DEFAULT_MAX_RAW_CHARS, validator=_max_raw_chars)
    #: The language whose names to take when a name comes in several: that language,
    #: then a regional form of it (``de-AT``), then a name without language, then the first.
    language: str = attrs.field(default="de", validator=_language)
    #: Skip the store work for records stored unchanged (source fingerprints); ``false``
    #: delivers every record every time.
    fingerprints: bool = True
    #: Follow symbolic links that lead out of the export directory (files, folders,
    #: ``index.txt``).  Off: such a link fails the pull, and nothing behind it is read.
    follow_symlinks: bool = False
    #: The name of the index file.
    index_file: str = attrs.field(default="index.txt", validator=_file_name)
    #: Limits for reading (see :class:`efa_xzufi.Limits`).
    max_file_bytes: int = attrs.field(default=DEFAULT_LIMITS.max_file_bytes, validator=_positive)
    max_entry_bytes: int = attrs.field(default=DEFAULT_LIMITS.max_entry_bytes, validator=_positive)
    max_depth: int = attrs.field(default=DEFAULT_LIMITS.max_depth, validator=_positive)
    max_text_chars: int = attrs.field(default=DEFAULT_LIMITS.max_text_chars, validator=_positive)

    @property
    def limits(self) -> Limits:
        """The reading limits as a :class:`~efa_xzufi.Limits`."""
        return Limits(
            max_file_bytes=self.max_file_bytes,
            max_entry_bytes=self.max_entry_bytes,
            max_depth=self.max_depth,
            max_text_chars=self.max_text_chars,
        )

    @property
    def is_url(self) -> bool:
        """``True`` if :attr:`path` is an HTTP(S) URL."""
        return self.path.lower().startswith(("http://", "https://"))


def _parse_index(data: bytes, label: str, index_name: str, source: str | None = None) -> list[str]:
    """Read the file names of ``index.txt``.

    :raises SourceNotUnderstood: the index is no list of names (a web page, binary data).
    :raises ConnectorError: a name leaves the directory, or none is listed.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceNotUnderstood(
            f"is not UTF-8 text ({exc.reason} at byte {exc.start}), so it is no list of file names",
            source=source,
            where=index_name,
        ) from exc
    head = text.lstrip()[:100].lower()
    if head.startswith(("<!doctype", "<html", "<?xml", "<")):
        what = "a web page" if "html" in head else "XML"
        raise SourceNotUnderstood(
            f"is {what}, not a list of file names (one per line); was an error or "
            "maintenance page served in its place?",
            source=source,
            where=index_name,
        )
    names: list[str] = []
    seen: set[str] = set()
    for number, line in enumerate(text.splitlines(), start=1):
        entry = line.strip()
        if not entry or entry.startswith("#"):
            continue
        parts = entry.replace("\\", "/").split("/")
        if (
            entry.startswith(("/", "\\"))
            or "://" in entry
            or ":" in parts[0]
            or any(part in ("", ".", "..") for part in parts)
        ):
            raise ConnectorError(
                f"{label}: {index_name} line {number}: {entry!r} is not a relative file name "
                "inside the export directory"
            )
        if entry not in seen:
            seen.add(entry)
            names.append(entry)
    if not names:
        raise ConnectorError(
            f"{label}: {index_name} lists no files; an empty index aborts the import "
            "(nothing is deleted)"
        )
    return names


#: Looks fingerprints up in the store (``Connector.stored_fingerprints``).
Lookup = Callable[[list[bytes]], Mapping[bytes, tuple[int, ...]]]
_SEP: Final = "\x1f"  # cannot occur in XML text


def record_fingerprint(salt: str, record: Record) -> bytes:
    """Return the source fingerprint of the input object *record* was built from.

    The fingerprint covers everything the record was built from, as the record holds it:
    the object's own values and what came from elsewhere in the export (a Zuständigkeit's
    LeiKa key comes from its Leistung): the ``repr`` of every field, those hidden from the
    record's own ``repr`` included (an ``xzufi-object``'s XML).  Responsibilities, the
    millions, take a quicker route to the same coverage.
    """
    if type(record) is Responsibility:
        text = _SEP.join(
            (
                record.responsibility_id or "",
                record.leika_key.value,
                str(record.ars),
                record.target_kind.value,
                record.target_id,
                record.leistung_id or "",
                record.role or "",
                "" if record.modified_at is None else record.modified_at.isoformat(),
            )
        )
    else:
        fields = attrs.fields(type(record))
        text = _SEP.join(repr(getattr(record, field.name)) for field in fields)
    return fingerprint(salt, type(record).__name__, text)


class _Snapshot:
    """Produces the items of one snapshot (blocking; runs in a worker thread).

    With a *lookup*, each batch's upserts get source fingerprints, and those the store
    holds become unchanged entries (``bytes`` items) instead of upserts.
    """

    def __init__(
        self,
        files: Sequence[tuple[Path, str]],
        config: XZuFiDirConfig,
        lookup: Lookup | None = None,
    ) -> None:
        #: The snapshot being mapped (its counters: duplicates, objects deleted again).
        self.export = ExportSnapshot(
            files,
            limits=config.limits,
            services=config.services,
            organisation_units=config.organisation_units,
            raw_objects=config.raw_objects,
            max_raw_chars=config.max_raw_chars,
            language=config.language,
        )
        self._lookup = lookup
        self._items: Iterator[MappedItem] | None = None
        self._pending: MappedItem | None = None
        #: Items produced so far.
        self.count = 0

    def take(self, size: int, *, look_up: bool = True) -> tuple[list[MappedItem | bytes], bool]:
        """Return up to *size* items and whether the snapshot ended with them."""
        if self._items is None:
            self._items = iter(self.export)
        taken: list[MappedItem] = []
        if self._pending is not None:
            taken.append(self._pending)
            self._pending = None
        done = True
        for item in self._items:
            if len(taken) == size:
                self._pending = item
                done = False
                break
            taken.append(item)
        self.count += len(taken)
        if self._lookup is None or not look_up:
            return list(taken), done
        return self._fingerprinted(taken), done

    def _fingerprinted(self, items: list[MappedItem]) -> list[MappedItem | bytes]:
        salt = _FINGERPRINT_SALT
        prints: dict[int, bytes] = {}
        for index, item in enumerate(items):
            if isinstance(item, Upsert):
                prints[index] = record_fingerprint(salt, item.record)
        assert self._lookup is not None
        known = self._lookup(list(set(prints.values()))) if prints else {}
        out: list[MappedItem | bytes] = list(items)
        for index, print_ in prints.items():
            if print_ in known:
                out[index] = print_
            else:
                upsert = items[index]
                assert isinstance(upsert, Upsert)
                out[index] = Upsert(upsert.record, fingerprint=print_)
        return out

    def skip(self, count: int) -> None:
        """Consume the first *count* items (resuming after a cursor)."""
        remaining = count
        while remaining > 0:
            taken, done = self.take(min(remaining, 10_000), look_up=False)
            remaining -= len(taken)
            if done and remaining > 0:
                raise ConnectorError(
                    f"the cursor lies {remaining} items beyond the end of the snapshot; the "
                    "export changed since the cursor was taken (pull from the start)"
                )


def _export_warnings(export: ExportSnapshot, label: str) -> list[str]:
    """Say what the snapshot resolved, for the run report (and the log)."""
    warnings = []
    if export.duplicates:
        warnings.append(
            f"{export.duplicates} duplicate id(s): the earlier copies were quarantined, the "
            "later ones kept"
        )
    if export.deleted_again:
        warnings.append(
            f"{export.deleted_again} object(s) written and deleted again within the export: "
            "left out of the snapshot"
        )
    for warning in warnings:
        log.debug("%s: %s", label, warning)  # the engine logs the run's warnings
    return warnings


def _batch(
    items: list[MappedItem | bytes], cursor: str, complete: bool, warnings: Sequence[str] = ()
) -> Batch:
    changes: list[Change] = []
    rejected: list[Rejected] = []
    skipped: dict[tuple[str, str], Skipped] = {}
    unchanged: list[bytes] = []
    for item in items:
        if isinstance(item, bytes):
            unchanged.append(item)
        elif isinstance(item, Rejected):
            rejected.append(item)
        elif isinstance(item, Skipped):
            # one entry per kind and reason, counted, at its first position
            same = skipped.get((item.kind, item.reason))
            if same is None:
                skipped[(item.kind, item.reason)] = item
            else:
                skipped[(item.kind, item.reason)] = attrs.evolve(
                    same, count=same.count + item.count
                )
        else:
            changes.append(item)
    return Batch(
        changes,
        cursor,
        complete=complete,
        rejected=rejected,
        skipped=list(skipped.values()),
        unchanged=unchanged,
        warnings=warnings,
    )


class XZuFiDirConnector(Connector):
    """An XZuFi export directory (SNAPSHOT) and an outbox for transfer messages (PUSH).

    See the module docs.  :param transport: replaces the network in tests.
    """

    type_name: ClassVar[str] = "xzufi-dir"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.SNAPSHOT, Capability.PUSH}
    )
    config_class: ClassVar[type[Any]] = XZuFiDirConfig

    config: XZuFiDirConfig

    def __init__(
        self,
        config: XZuFiDirConfig,
        *,
        name: str,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__(config, name=name)
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._push_sequence = 0

    async def setup(self) -> None:
        """Create the HTTP client when the directory is a URL."""
        if self.config.is_url:
            from efa_core.http import create_client

            base = self.config.path if self.config.path.endswith("/") else self.config.path + "/"
            self._client = create_client(base_url=base, transport=self._transport)

    async def teardown(self) -> None:
        """Close the HTTP client."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    # -- reading the directory -------------------------------------------------------------

    async def _read_index(self) -> bytes:
        index = self.config.index_file
        if self._client is not None:
            from efa_core.http import raise_for_status

            response = await self._client.get(index)
            await raise_for_status(response)
            if len(response.content) > _INDEX_MAX_BYTES:
                raise ConnectorError(f"{self.label}: {index} is larger than 4 MiB")
            return response.content
        path = self._local_file(index, f"{self.label}:")
        shown = str(Path(self.config.path).expanduser() / index)
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
            with os.fdopen(fd, "rb") as stream:
                kind = file_kind(os.fstat(stream.fileno()).st_mode)
                if kind is not None:
                    raise ConnectorError(f"{self.label}: {shown!r} is {kind}, not a regular file")
                data = stream.read(_INDEX_MAX_BYTES + 1)
        except FileNotFoundError:
            raise ConnectorError(f"{self.label}: {shown!r} does not exist") from None
        except OSError as exc:
            raise ConnectorError(
                f"{self.label}: cannot read {shown!r}: {exc.strerror or exc}"
            ) from exc
        if len(data) > _INDEX_MAX_BYTES:
            raise ConnectorError(f"{self.label}: {shown!r} is larger than 4 MiB")
        return data

    def _local_file(self, name: str, prefix: str) -> Path:
        """Check a file of the local export directory; return the path to read.

        It must exist and be a regular file; unless ``follow_symlinks``, it must resolve
        to a place inside the export directory (no symbolic link, of the file or of a
        folder on the way, may lead out).  Nothing behind a refused link is read, so no
        error names its content.

        :raises ConnectorError: starting with *prefix*, naming the path and the problem.
        """
        base = Path(self.config.path).expanduser()
        path = base / name
        shown = repr(str(path))
        if not os.path.lexists(path):
            raise ConnectorError(f"{prefix} {shown} does not exist")
        try:
            real = path.resolve(strict=True)
        except FileNotFoundError:
            raise ConnectorError(
                f"{prefix} {shown} is a symbolic link to nothing (a dangling link)"
            ) from None
        except (OSError, RuntimeError) as exc:
            raise ConnectorError(f"{prefix} {shown} cannot be resolved: {exc}") from exc
        if not self.config.follow_symlinks:
            inside = base.resolve()
            if real != inside and inside not in real.parents:
                raise ConnectorError(
                    f"{prefix} {shown} is a symbolic link, or lies behind one, that leads out "
                    "of the export directory; refused, and nothing behind it was read (set "
                    "follow_symlinks = true to allow links out of the directory)"
                )
        kind = file_kind(real.stat().st_mode)
        if kind is not None:
            raise ConnectorError(f"{prefix} {shown} is {kind}, not a regular file")
        return real

    async def _download(self, name: str, target: Path) -> None:
        assert self._client is not None
        from efa_core.http import STREAM_EXTENSION, raise_for_status

        limit = self.config.max_file_bytes
        async with self._client.stream(
            "GET", name, extensions={STREAM_EXTENSION: True}
        ) as response:
            await raise_for_status(response)
            size = 0
            with target.open("wb") as out:
                async for chunk in response.aiter_bytes(_DOWNLOAD_CHUNK):
                    size += len(chunk)
                    if size > limit:
                        raise ConnectorError(
                            f"{self.label}: {name} is larger than {limit} bytes (max_file_bytes)"
                        )
                    await anyio.to_thread.run_sync(out.write, chunk)

    async def _files(self, names: Sequence[str], workdir: Path | None) -> list[tuple[Path, str]]:
        files: list[tuple[Path, str]] = []
        if self._client is not None:
            assert workdir is not None
            for number, name in enumerate(names):
                target = workdir / f"{number:06d}.xml"
                await self._download(name, target)
                files.append((target, name))
            return files
        for name in names:
            prefix = f"{self.label}: {self.config.index_file} lists {name!r}, but"
            try:
                path = self._local_file(name, prefix)
            except ConnectorError as exc:
                if "does not exist" in str(exc):
                    raise ConnectorError(f"{exc}; a missing file aborts the import") from None
                raise
            files.append((path, name))
        return files

    async def check_source(self) -> CheckResult:
        """Read ``index.txt``: it must exist and list at least one file."""
        try:
            names = _parse_index(
                await self._read_index(), self.label, self.config.index_file, self.name
            )
        except ConnectorError as exc:
            return CheckResult(False, str(exc))
        return CheckResult(
            True, f"{self.config.path}: {self.config.index_file} lists {len(names)} file(s)"
        )

    async def pull_batches(self, cursor: str | None) -> AsyncIterator[Batch]:
        """Yield the snapshot in batches of ``batch_size`` items, after *cursor*."""
        index_bytes = await self._read_index()
        digest = hashlib.sha256(index_bytes).hexdigest()[:16]
        skip = 0
        if cursor is not None:
            count, _, cursor_digest = cursor.partition("@")
            if not (count.isascii() and count.isdigit()) or not cursor_digest:
                raise ConnectorError(
                    f"{self.label}: invalid cursor {cursor!r}; expected '<count>@<digest>'"
                )
            if cursor_digest != digest:
                raise ConnectorError(
                    f"{self.label}: the cursor {cursor!r} was taken from another "
                    f"{self.config.index_file}; the export changed (pull from the start)"
                )
            skip = int(count)
        names = _parse_index(index_bytes, self.label, self.config.index_file, self.name)
        workdir = Path(tempfile.mkdtemp(prefix="efa-xzufi-")) if self._client else None
        try:
            files = await self._files(names, workdir)
            lookup = self.stored_fingerprints if self.config.fingerprints else None
            snapshot = _Snapshot(files, self.config, lookup)
            if skip:
                await anyio.to_thread.run_sync(snapshot.skip, skip)
            size = self.config.batch_size
            while True:
                try:
                    items, done = await anyio.to_thread.run_sync(snapshot.take, size)
                except XZuFiNotUnderstood as exc:
                    raise SourceNotUnderstood(
                        exc.reason, source=self.name, where=exc.where
                    ) from exc
                warnings = _export_warnings(snapshot.export, self.label) if done else []
                yield _batch(items, f"{snapshot.count}@{digest}", done, warnings)
                if done:
                    return
        finally:
            if workdir is not None:
                shutil.rmtree(workdir, ignore_errors=True)

    # -- push ---------------------------------------------------------------------------------

    async def push_changes(self, changes: Sequence[Change]) -> PushResult:
        """Write *changes* as one transfer message into ``output_dir``."""
        if self.config.output_dir is None:
            raise ConnectorError(
                f"{self.label} cannot push: set output_dir (where transfer messages go)"
            )
        outbox = Path(self.config.output_dir).expanduser()
        responsibilities: list[Responsibility] = []
        services: list[Service] = []
        deletes: list[Delete] = []
        skipped: dict[str, int] = {}
        for change in changes:
            if isinstance(change, Delete):
                if change.kind in ("responsibility", "service"):
                    deletes.append(change)
                else:
                    skipped[change.kind] = skipped.get(change.kind, 0) + 1
            elif isinstance(change.record, Responsibility):
                responsibilities.append(change.record)
            elif isinstance(change.record, Service):
                services.append(change.record)
            else:
                skipped[change.kind] = skipped.get(change.kind, 0) + 1
        self._push_sequence += 1
        now = dt.datetime.now(dt.timezone.utc)
        path = (
            outbox
            / f"XZUFI{now:%Y%m%d%H%M%S%f}{os.getpid() % 1000:03d}{self._push_sequence:06d}.xml"
        )

        def write() -> Any:
            if not outbox.is_dir():
                raise ConnectorError(f"{self.label}: output_dir {str(outbox)!r} does not exist")
            return write_transfer_message(
                responsibilities,
                services,
                sender=self.config.sender,
                receiver=self.config.receiver,
                deletes=deletes,
                out=path,
            )

        try:
            summary = await anyio.to_thread.run_sync(write)
        except XZuFiWriteError as exc:
            raise ConnectorError(f"{self.label}: cannot write {path.name}: {exc}") from exc
        except OSError as exc:
            raise ConnectorError(f"{self.label}: cannot write {str(path)!r}: {exc}") from exc
        messages = [f"{count} {kind} change(s) skipped" for kind, count in sorted(skipped.items())]
        if summary.deletes < len(deletes):
            messages.append(
                f"{len(deletes) - summary.deletes} delete(s) skipped: their keys are no "
                "composite XZuFi ids"
            )
        return PushResult(
            written=summary.entries, target=str(outbox), paths=(str(path),), messages=messages
        )
