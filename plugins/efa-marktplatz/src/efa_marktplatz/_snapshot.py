"""The shared machinery of the file connectors: read whole, deliver in batches, resume.

Registry exports and the user's own files hold hundreds to a few thousand rows, and the
rows of one agreement must be seen together to replay its lifecycle, so a pull reads its
files whole (in a worker thread), builds the items, and delivers them in batches of
``batch_size``.  The cursor is ``"<fingerprint>:<items delivered>"``; the fingerprint
covers the files' bytes and the configuration, so a cursor taken before the files
changed restarts the snapshot from the beginning (logged) instead of skipping items.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import anyio.to_thread

from efa_core.connectors import Batch, CheckResult, Connector, Rejected, Upsert
from efa_core.errors import ConnectorError
from efa_marktplatz.build import Item

__all__ = ["FileSnapshotConnector", "read_file"]

log = logging.getLogger("efa_marktplatz")


def read_file(path: Path, label: str, what: str) -> bytes:
    """Read *path* whole.

    :raises ConnectorError: naming the connector (*label*), the role (*what*) and the path.
    """
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise ConnectorError(f"{label}: {what} file {str(path)!r} does not exist") from None
    except OSError as exc:
        raise ConnectorError(f"{label}: cannot read {what} file {str(path)!r}: {exc}") from exc


class FileSnapshotConnector(Connector):
    """Base class of SNAPSHOT connectors that read local files whole (no ``type_name``)."""

    def files(self) -> Sequence[tuple[str, Path]]:
        """Return the ``(role, path)`` of every file the connector reads."""
        raise NotImplementedError

    def load(self, contents: Sequence[bytes]) -> list[Item]:
        """Build the items from the files' contents (blocking; runs in a worker thread)."""
        raise NotImplementedError

    @property
    def batch_size(self) -> int:
        """Items per batch (the ``batch_size`` option)."""
        size: int = self.config.batch_size
        return size

    async def check_source(self) -> CheckResult:
        """Read and map every configured file; report what is wrong, or what it holds.

        The files are small, so the check reads them whole: a missing file, an unreadable
        encoding or a missing required column shows here, before a sync.
        """
        for role, path in self.files():
            if not path.is_file():
                return CheckResult(False, f"{role} file {str(path)!r} does not exist")
            if not os.access(path, os.R_OK):
                return CheckResult(False, f"{role} file {str(path)!r} is not readable")
        try:
            _, items = await anyio.to_thread.run_sync(self._read)
        except ConnectorError as exc:
            return CheckResult(False, str(exc))
        rejected = sum(isinstance(item, Rejected) for item in items)
        listed = ", ".join(f"{role} {str(path)!r}" for role, path in self.files())
        return CheckResult(
            True, f"readable: {listed}: {len(items) - rejected} records, {rejected} rejected rows"
        )

    def _read(self) -> tuple[str, list[Item]]:
        contents = [read_file(path, self.label, role) for role, path in self.files()]
        digest = hashlib.sha256(repr(self.config).encode())
        for content in contents:
            digest.update(len(content).to_bytes(8, "big"))
            digest.update(content)
        return digest.hexdigest()[:16], self.load(contents)

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
        fingerprint, items = await anyio.to_thread.run_sync(self._read)
        start = min(self._start(cursor, fingerprint), len(items))
        size = self.batch_size
        offset = start
        while True:
            chunk: list[Any] = items[offset : offset + size]
            offset += len(chunk)
            done = offset >= len(items)
            yield Batch(
                [item for item in chunk if isinstance(item, Upsert)],
                f"{fingerprint}:{offset}",
                complete=done,
                rejected=[item for item in chunk if isinstance(item, Rejected)],
            )
            if done:
                return
