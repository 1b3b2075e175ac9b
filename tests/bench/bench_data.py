"""Data generators and connectors of the benchmarks (not a test module; never collected).

Responsibility records (*Zuständigkeiten*) are generated from the real municipality
register (``../shared/data/gemeindeverzeichnis-2020q4.csv``, read at run time, never copied
into the repository): every Gemeinde of the chosen scale × its synthetic EfA services.
Thüringen (``th``): 633 × 300 = 189,900 records; Germany (``de``): 11,004 × 300 = 3,301,200;
``100k``: 11,004 × 9 = 99,036; ``1m``: 11,004 × 91 = 1,001,364.

The generator is deterministic.  *version* 0 is the initial content; in version *v* > 0
exactly the records with ``index % 100 == v % 100`` carry a newer ``modified_at`` (1 % of
the records changed).  Records come service by service (a service with its nested
responsibilities), municipalities in register order.

Three consumers share the same raw rows (:func:`raw_rows`):

* :class:`BenchSnapshot` / :class:`BenchFeed`: connectors that build the typed records
  directly (no JSON parse: the cheap path a connector for a binary or in-memory source has);
  the feed connector delivers only the changed records when resumed from a version cursor;
* :func:`payload_dict`: the plain dict a hand-written loader writes (the raw baseline);
* :func:`dlt_services`: services with nested responsibility lists, for dlt.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, ClassVar

import attrs

from efa_core.areas import read_register_csv
from efa_core.connectors import Batch, Capability, Connector, Upsert, fingerprint
from efa_core.hookspecs import hookimpl
from efa_core.ids import Ars, LeikaKey
from efa_core.model import Responsibility, TargetKind

ROOT = Path(__file__).resolve().parents[2]
_REGISTER_NAME = Path("shared") / "data" / "gemeindeverzeichnis-2020q4.csv"


def _find_register() -> Path:
    """``$EFA_BENCH_REGISTER``, else ``shared/data/…`` beside the checkout or further up."""
    given = os.environ.get("EFA_BENCH_REGISTER")
    if given:
        return Path(given)
    for folder in ROOT.parents:
        if (folder / _REGISTER_NAME).is_file():
            return folder / _REGISTER_NAME
    return ROOT.parent / _REGISTER_NAME


REGISTER = _find_register()

#: scale name -> (Land code or None for all of Germany, number of services)
SCALES: dict[str, tuple[str | None, int]] = {
    "th": ("16", 300),
    "de": (None, 300),
    "100k": (None, 9),
    "1m": (None, 91),
}
SERVICES = 300


def land(scale: str) -> str | None:
    """The Land code of *scale* (``None``: all of Germany)."""
    return SCALES[scale][0]


def services_of(scale: str) -> int:
    """The number of services of *scale*."""
    return SCALES[scale][1]


BASE_TIME = datetime(2024, 1, 1, tzinfo=timezone.utc)

_municipalities: dict[str | None, list[str]] = {}


def municipalities(land: str | None) -> list[str]:
    """Return the 12-digit ARS of every Gemeinde of *land* (all of Germany for ``None``)."""
    if land not in _municipalities:
        _municipalities[land] = [
            str(row.ars)
            for row in read_register_csv(REGISTER)
            if len(str(row.ars)) == 12 and (land is None or str(row.ars).startswith(land))
        ]
    return _municipalities[land]


def leika_key(service: int) -> str:
    """A synthetic, valid 14-digit LeiKa key for service number *service*."""
    return f"99{100 + service % 900:03d}{5000 + service:05d}{service * 7 % 10000:04d}"


#: One raw row: index, leika key, ars, target id, leistung id, modified_at (aware datetime)
RawRow = tuple[int, str, str, str, str, datetime]


def raw_rows(scale: str, version: int = 0, *, services: int | None = None) -> Iterator[RawRow]:
    """Yield the raw rows of *scale* in *version*, service by service."""
    areas = municipalities(land(scale))
    for index in range(len(areas) * (services or services_of(scale))):
        yield raw_row(areas, index, version, scale)


def raw_row(areas: list[str], index: int, version: int, scale: str) -> RawRow:
    """Return row *index* of *version* (*areas*: the municipalities of *scale*)."""
    code = land(scale) or "00"
    svc, area = divmod(index, len(areas))
    stamp = BASE_TIME + timedelta(days=version) if is_changed(index, version) else BASE_TIME
    return (
        index,
        leika_key(svc),
        areas[area],
        f"S{code}000_{svc:04d}",
        f"L{code}000_{svc:04d}",
        stamp,
    )


def changed_rows(
    scale: str, version: int, since: int, *, services: int | None = None
) -> Iterator[RawRow]:
    """Yield the rows of *version* that differ from version *since*, in index order.

    Versions *v* and *v* + 100 change the same 1 % of the records (to different content).
    """
    areas = municipalities(land(scale))
    total = len(areas) * (services or services_of(scale))
    offsets = sorted({v % 100 for v in (version, since) if v > 0})
    for start in range(0, total, 100):
        for offset in offsets:
            if start + offset < total:
                yield raw_row(areas, start + offset, version, scale)


def is_changed(index: int, version: int) -> bool:
    """Whether record *index* differs between version 0 and *version*."""
    return version > 0 and index % 100 == version % 100


def count(scale: str, *, services: int | None = None) -> int:
    """The number of records of *scale*."""
    return len(municipalities(land(scale))) * (services or services_of(scale))


def raw_bytes(row: RawRow) -> bytes:
    """The row as the bytes a source would deliver (what a fingerprint hashes)."""
    return f"{row[1]}|{row[2]}|{row[3]}|{row[4]}|{row[5].isoformat()}".encode()


def natural_key(row: RawRow) -> str:
    """The record's natural key (as :attr:`Responsibility.natural_key` computes it)."""
    return f"{row[1]}@{row[2]}->onlinedienst:{row[3]}"


def payload_dict(row: RawRow) -> dict[str, Any]:
    """The plain form of the record (as :func:`efa_core.serialization.record_to_dict`)."""
    return {
        "kind": "responsibility",
        "leika_key": row[1],
        "ars": row[2],
        "target_kind": "onlinedienst",
        "target_id": row[3],
        "responsibility_id": None,
        "leistung_id": row[4],
        "role": None,
        "modified_at": row[5].isoformat(),
    }


def record(row: RawRow) -> Responsibility:
    """Build the typed record (validating, like any connector must)."""
    return Responsibility(
        leika_key=LeikaKey(row[1]),
        ars=Ars(row[2]),
        target_kind=TargetKind.ONLINEDIENST,
        target_id=row[3],
        leistung_id=row[4],
        modified_at=row[5],
    )


def dlt_services(scale: str, version: int = 0) -> Iterator[dict[str, Any]]:
    """Yield one dict per service with its responsibilities nested (for dlt)."""
    current: dict[str, Any] | None = None
    for row in raw_rows(scale, version):
        leika = row[1]
        if current is None or current["leika_key"] != leika:
            if current is not None:
                yield current
            current = {"key": f"svc-{leika}", "leika_key": leika, "responsibilities": []}
        item = payload_dict(row)
        del item["kind"]
        item["key"] = natural_key(row)
        current["responsibilities"].append(item)
    if current is not None:
        yield current


def dlt_rows(scale: str, version: int = 0) -> Iterator[dict[str, Any]]:
    """Yield one flat dict per responsibility record, keyed by its natural key (for dlt)."""
    for row in raw_rows(scale, version):
        item = payload_dict(row)
        del item["kind"]
        item["key"] = natural_key(row)
        yield item


# -- connectors --------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class BenchConfig:
    """Options of the benchmark connectors."""

    scale: str = "th"
    version: int = 0
    batch_size: int = 5000
    #: the number of services (default: the scale's)
    services: int | None = None
    #: feed only: start (without a cursor) from this version, delivering only the changes
    since: int | None = None
    #: snapshot only: fingerprint each raw row and skip building the rows stored unchanged
    fingerprints: bool = False


class BenchSnapshot(Connector):
    """Delivers every record of ``scale`` in ``version`` as a snapshot."""

    type_name: ClassVar[str] = "bench-snapshot"
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.SNAPSHOT})
    config_class: ClassVar[type[Any]] = BenchConfig
    config: BenchConfig

    async def pull_batches(self, cursor: str | None) -> AsyncIterator[Batch]:
        """Yield batches of ``batch_size`` upserts; the cursor is the number delivered."""
        cfg = self.config
        skip = int(cursor or 0)
        total = count(cfg.scale, services=cfg.services)
        rows: list[RawRow] = []
        done = 0
        for row in raw_rows(cfg.scale, cfg.version, services=cfg.services):
            if row[0] < skip:
                continue
            rows.append(row)
            if len(rows) == cfg.batch_size:
                done = row[0] + 1
                yield await self._batch(rows, str(done), done == total)
                rows = []
        if rows or done < total:
            yield await self._batch(rows, str(total), True)

    async def _batch(self, rows: list[RawRow], cursor: str, complete: bool) -> Batch:
        if not self.config.fingerprints:
            return Batch([Upsert(record(row)) for row in rows], cursor=cursor, complete=complete)
        fps = [fingerprint("bench 1", raw_bytes(row)) for row in rows]
        known = await self.astored_fingerprints(fps)
        changes = [
            Upsert(record(row), fingerprint=fp)
            for row, fp in zip(rows, fps, strict=True)
            if fp not in known
        ]
        unchanged = [fp for fp in fps if fp in known]
        return Batch(changes, cursor=cursor, complete=complete, unchanged=unchanged)


class BenchFeed(Connector):
    """A change feed: from no cursor everything of ``version``; from ``"v<n>"`` the changes.

    Resumed from cursor ``v<n>`` (or started with option ``since=n``) it delivers only the
    records that differ between version *n* and ``version`` (as upserts), which is what a
    feed source sends; the last batch's cursor is ``v<version>``.
    """

    type_name: ClassVar[str] = "bench-feed"
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.CHANGE_FEED})
    config_class: ClassVar[type[Any]] = BenchConfig
    config: BenchConfig

    async def pull_batches(self, cursor: str | None) -> AsyncIterator[Batch]:
        """Yield the changes since *cursor* in batches."""
        cfg = self.config
        since = cfg.since if cursor is None else int(cursor.lstrip("v"))
        rows = (
            raw_rows(cfg.scale, cfg.version, services=cfg.services)
            if since is None
            else changed_rows(cfg.scale, cfg.version, since, services=cfg.services)
        )
        changes: list[Upsert] = []
        for row in rows:
            changes.append(Upsert(record(row)))
            if len(changes) == cfg.batch_size:
                yield Batch(changes, cursor=None, complete=False)
                changes = []
        yield Batch(changes, cursor=f"v{cfg.version}", complete=True)


class BenchPlugin:
    """Registers the benchmark connectors."""

    @hookimpl
    def efa_register_connectors(self, register: Any) -> None:
        """Register both connectors."""
        register(BenchSnapshot)
        register(BenchFeed)
