"""The shared machinery of the file connectors: read, deliver in batches, resume.

A pull streams each file through :mod:`efa_core.tabular` (never holding its bytes whole),
builds the items (in a worker thread), and delivers them in batches of ``batch_size``.
The rows of one service or agreement must be seen together (offers listed once per
*Anbieter* are joined; status rows replay an agreement's lifecycle), so the parsed rows
of a pull are held, not the files.  The cursor is ``"<fingerprint>:<items delivered>"``;
the fingerprint covers the files' bytes (hashed in chunks) and the configuration, so a
cursor taken before the files changed restarts the snapshot from the beginning (logged)
instead of skipping items.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import anyio.to_thread

from efa_core.connectors import Batch, CheckResult, Connector, Rejected, Skipped, Upsert
from efa_core.errors import ConnectorError
from efa_marktplatz.build import Item

__all__ = ["FileSnapshotConnector", "file_digest"]

log = logging.getLogger("efa_marktplatz")

_CHUNK = 1 << 20


def file_digest(path: Path, label: str, what: str) -> bytes:
    """Return the SHA-256 of the file at *path*, read in chunks.

    :raises ConnectorError: naming the connector (*label*), the role (*what*) and the path.
    """
    digest = hashlib.sha256()
    try:
        with path.open("rb") as stream:
            while chunk := stream.read(_CHUNK):
                digest.update(chunk)
    except FileNotFoundError:
        raise ConnectorError(f"{label}: {what} file {str(path)!r} does not exist") from None
    except IsADirectoryError:
        raise ConnectorError(f"{label}: {what} file {str(path)!r} is a directory") from None
    except OSError as exc:
        raise ConnectorError(f"{label}: cannot read {what} file {str(path)!r}: {exc}") from exc
    return digest.digest()


class FileSnapshotConnector(Connector):
    """Base class of SNAPSHOT connectors that read local files (no ``type_name``)."""

    def files(self) -> Sequence[tuple[str, Path]]:
        """Return the ``(role, path)`` of every file the connector reads."""
        raise NotImplementedError

    def load(self, warnings: list[str]) -> list[Item]:
        """Read the files and build the items (blocking; runs in a worker thread).

        Problems worked around (bad optional cells, an empty file) are appended to
        *warnings*, a few summary lines that end in the run report.
        """
        raise NotImplementedError

    @property
    def batch_size(self) -> int:
        """Items per batch (the ``batch_size`` option)."""
        size: int = self.config.batch_size
        return size

    async def check_source(self) -> CheckResult:
        """Read and map every configured file; report what is wrong, or what it holds.

        A missing file, an unreadable encoding or a missing required column shows here,
        before a sync.
        """
        for role, path in self.files():
            if not path.is_file():
                return CheckResult(False, f"{role} file {str(path)!r} does not exist")
            if not os.access(path, os.R_OK):
                return CheckResult(False, f"{role} file {str(path)!r} is not readable")
        try:
            _, items, _ = await anyio.to_thread.run_sync(self._read)
        except ConnectorError as exc:
            return CheckResult(False, str(exc))
        rejected = sum(isinstance(item, Rejected) for item in items)
        records = sum(isinstance(item, Upsert) for item in items)
        listed = ", ".join(f"{role} {str(path)!r}" for role, path in self.files())
        return CheckResult(True, f"readable: {listed}: {records} records, {rejected} rejected rows")

    def fingerprint(self) -> str:
        """Return the fingerprint of the files' bytes and the configuration (for cursors)."""
        digest = hashlib.sha256(repr(self.config).encode())
        for role, path in self.files():
            digest.update(file_digest(path, self.label, role))
        return digest.hexdigest()[:16]

    def _read(self) -> tuple[str, list[Item], list[str]]:
        fingerprint = self.fingerprint()
        warnings: list[str] = []
        items = self.load(warnings)
        if self.fingerprint() != fingerprint:
            raise ConnectorError(
                f"{self.label}: a file changed while it was read; sync again when the export "
                "is written completely"
            )
        return fingerprint, items, warnings

    def _start(self, cursor: str | None, fingerprint: str) -> int:
        if cursor is None:
            return 0
        taken, _, count = cursor.rpartition(":")
        if not taken or not count.isdigit() or not count.isascii():
            raise ConnectorError(
                f"{self.label}: invalid cursor {cursor!r}; expected '<fingerprint>:<count>'"
            )
        if taken != fingerprint:
            log.warning(
                "%s: the files or options changed since cursor %r was taken; "
                "the snapshot starts again from the beginning",
                self.label,
                cursor,
            )
            return 0
        return int(count)

    async def pull_batches(self, cursor: str | None) -> AsyncIterator[Batch]:
        """Yield the items in batches of ``batch_size``, after *cursor*; the last is complete."""
        fingerprint, items, warnings = await anyio.to_thread.run_sync(self._read)
        start = min(self._start(cursor, fingerprint), len(items))
        size = self.batch_size
        offset = start
        while True:
            chunk: Sequence[Item] = items[offset : offset + size]
            offset += len(chunk)
            done = offset >= len(items)
            yield Batch(
                [item for item in chunk if isinstance(item, Upsert)],
                f"{fingerprint}:{offset}",
                complete=done,
                rejected=[item for item in chunk if isinstance(item, Rejected)],
                skipped=[item for item in chunk if isinstance(item, Skipped)],
                unchanged=[item for item in chunk if isinstance(item, bytes)],
                warnings=warnings if done else (),
            )
            if done:
                return
