"""The ``dashboard-file`` connector: availability rows from a saved OZG-Dashboard answer.

For work without network (the demo, the tutorial, a Land's archive of what the dashboard
said on a day) the rows of ``GET /v1/data/{ars}`` can be saved to a file and synced from
there.  The file is JSON in one of the forms the API gives or a script writes:

* a list of rows (``DvDataDto``: ``leika_key``, ``ars``, ``url``, ``online_status`` …),
* one Spring page (an object with ``content``), as saved from the API,
* a list of such pages.

Rows are read as the ``dashboard`` connector reads them (:func:`~efa_dashboard.row_to_record`,
:func:`~efa_dashboard.read_padded_ars` over the configured ``scopes``).  A row outside every
scope and a row that repeats one already read are counted as skipped; a row that does not
validate is quarantined at its position (``dashboard.json row 7``).  The pull is a snapshot
in batches of ``batch_size`` rows; the cursor is the number of rows delivered, so a pull
resumes after them while the file is unchanged (a file that shrank below the cursor fails
the run, and nothing is deleted).  The file is read whole: at most ``max_file_bytes``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterable, Sequence
from pathlib import Path
from typing import Any, ClassVar

import anyio.to_thread
import attrs

from efa_core.connectors import (
    Batch,
    Capability,
    CheckResult,
    Connector,
    Rejected,
    Skipped,
    Upsert,
)
from efa_core.errors import ConnectorError, InvalidIdentifier, SourceNotUnderstood, ValidationError
from efa_core.ids import Ars
from efa_dashboard.connector import Normalised, read_padded_ars, row_to_record

__all__ = ["DashboardFileConfig", "DashboardFileConnector"]


def _str_tuple(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(value)


def _check_scopes(
    instance: object, attribute: attrs.Attribute[Any], value: tuple[str, ...]
) -> None:
    if not value:
        raise ValueError('scopes needs at least one ARS, e.g. scopes = ["16"]')
    for text in value:
        try:
            Ars.parse(text)
        except InvalidIdentifier as exc:
            raise ValueError(f"scopes: {exc}") from exc


def _positive(instance: object, attribute: attrs.Attribute[Any], value: int) -> None:
    if value < 1:
        raise ValueError(f"{attribute.name} must be at least 1, got {value}")


@attrs.frozen(kw_only=True)
class DashboardFileConfig:
    """Options of a ``dashboard-file`` connector (one ``[connectors.NAME]`` table)."""

    #: The JSON file (``~`` is expanded; relative to the working directory).
    path: str
    #: The ARS scopes, as for the ``dashboard`` connector (e.g. ``["16"]``).
    scopes: tuple[str, ...] = attrs.field(converter=_str_tuple, validator=_check_scopes)
    #: Rows per batch.
    batch_size: int = attrs.field(default=1000, validator=_positive)
    #: The largest file read (the file is read whole).
    max_file_bytes: int = attrs.field(default=64 * 1024 * 1024, validator=_positive)

    @property
    def scope_ars(self) -> tuple[Ars, ...]:
        """The scopes as ARS, sorted, without repeats."""
        return tuple(sorted({Ars.parse(s) for s in self.scopes}, key=lambda a: a.value))


_OUTSIDE = "outside the configured scopes"
_DUPLICATE = "repeats a row already read in this snapshot"


def _rows_of(document: object, label: str) -> list[Any]:
    """Return the rows of a saved answer: a list of rows, a Spring page or a list of pages."""

    def page_rows(page: dict[str, Any]) -> list[Any]:
        content = page.get("content")
        if not isinstance(content, list):
            raise SourceNotUnderstood(
                f"{label}: an object without a 'content' list is no saved dashboard page "
                f"(keys: {', '.join(sorted(page)) or 'none'})"
            )
        return content

    if isinstance(document, dict):
        return page_rows(document)
    if isinstance(document, list):
        if document and all(isinstance(item, dict) and "content" in item for item in document):
            return [row for page in document for row in page_rows(page)]
        return document
    raise SourceNotUnderstood(
        f"{label}: expected a JSON list of dashboard rows or a saved page, "
        f"got {type(document).__name__}"
    )


class DashboardFileConnector(Connector):
    """Availability rows from a saved OZG-Dashboard answer (SNAPSHOT); see the module docs."""

    type_name: ClassVar[str] = "dashboard-file"
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.SNAPSHOT})
    config_class: ClassVar[type[Any]] = DashboardFileConfig

    config: DashboardFileConfig

    @property
    def path(self) -> Path:
        """The file, with ``~`` expanded."""
        return Path(self.config.path).expanduser()

    async def check_source(self) -> CheckResult:
        """Report whether the file exists and is a readable saved answer."""
        try:
            rows = await anyio.to_thread.run_sync(self._read)
        except ConnectorError as exc:
            return CheckResult(False, str(exc))
        return CheckResult(True, f"{self.path}: {len(rows)} dashboard rows")

    def _read(self) -> list[Any]:
        path = self.path
        label = f"{self.label}: {path}"
        try:
            size = path.stat().st_size
            if size > self.config.max_file_bytes:
                raise ConnectorError(
                    f"{label} has {size} bytes, more than max_file_bytes = "
                    f"{self.config.max_file_bytes}"
                )
            text = path.read_bytes().decode("utf-8-sig")
        except FileNotFoundError:
            raise ConnectorError(f"{label} does not exist") from None
        except UnicodeDecodeError as exc:
            raise SourceNotUnderstood(f"{label} is not UTF-8 text: {exc}") from exc
        except OSError as exc:
            raise ConnectorError(f"{label} cannot be read: {exc}") from exc
        try:
            document = json.loads(text)
        except ValueError as exc:
            raise SourceNotUnderstood(f"{label} is not JSON: {exc}") from exc
        return _rows_of(document, label)

    async def pull_batches(self, cursor: str | None) -> AsyncIterator[Batch]:
        """Yield the rows in batches of ``batch_size``, after *cursor* rows."""
        rows = await anyio.to_thread.run_sync(self._read)
        start = 0
        if cursor is not None:
            if not (cursor.isascii() and cursor.isdigit()):
                raise ConnectorError(f"{self.label}: invalid cursor {cursor!r}; expected a number")
            start = int(cursor)
            if start > len(rows):
                raise ConnectorError(
                    f"{self.label}: cursor {cursor!r} lies beyond the {len(rows)} rows of "
                    f"{self.path}; the file changed since the cursor was taken"
                )
        scopes = self.config.scope_ars
        seen: set[str] = set()
        # The rows before the cursor were delivered already; read them for duplicates only.
        _Rows(self.path.name, scopes, seen).read(rows[:start], 0)
        size = self.config.batch_size
        normalised = Normalised()  # rows changed to fit, summed up on the last batch
        for begin in range(start, len(rows), size):
            chunk = rows[begin : begin + size]
            read = _Rows(self.path.name, scopes, seen, normalised)
            changes, rejected, skipped = read.read(chunk, begin)
            end = begin + len(chunk)
            complete = end == len(rows)
            yield Batch(
                changes,
                str(end),
                complete=complete,
                rejected=rejected,
                skipped=skipped,
                warnings=normalised.lines(self.label) if complete else (),
            )
        if start >= len(rows):
            yield Batch((), str(len(rows)), complete=True)


@attrs.define
class _Rows:
    """Maps a run of rows to changes, rejections and skips."""

    file: str
    scopes: Sequence[Ars]
    seen: set[str]
    normalised: Normalised = attrs.field(factory=Normalised)

    def read(
        self, rows: Sequence[Any], offset: int
    ) -> tuple[list[Upsert], list[Rejected], list[Skipped]]:
        changes: list[Upsert] = []
        rejected: list[Rejected] = []
        skipped: dict[str, Skipped] = {}

        def skip(reason: str, position: str) -> None:
            have = skipped.get(reason)
            skipped[reason] = (
                Skipped("availability", reason, position=position)
                if have is None
                else attrs.evolve(have, count=have.count + 1)
            )

        for number, row in enumerate(rows, start=offset + 1):
            position = f"{self.file} row {number}"
            if not isinstance(row, dict):
                problem = ("$", f"expected an object, got {type(row).__name__}")
                rejected.append(Rejected("availability", position, row, [problem]))
                continue
            try:
                ars = read_padded_ars(str(row.get("ars")), self.scopes)
            except InvalidIdentifier as exc:
                rejected.append(Rejected("availability", position, row, [("$.ars", str(exc))]))
                continue
            if ars is None:
                skip(_OUTSIDE, position)
                continue
            try:
                record = row_to_record(row, ars, position, self.normalised)
            except ValidationError as exc:
                rejected.append(Rejected("availability", position, row, exc.problems))
                continue
            if record.natural_key in self.seen:
                skip(_DUPLICATE, position)
                continue
            self.seen.add(record.natural_key)
            changes.append(Upsert(record))
        return changes, rejected, list(skipped.values())
