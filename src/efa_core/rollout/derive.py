"""Derive the rollout stage of every service × area from the store.

The funnel is ``offered → interested → contracted → published → routable → live`` (plus
``terminated``).  Evidence per stage:

============  ===========================================================================
stage         evidence
============  ===========================================================================
offered       a :class:`~efa_core.model.Service` record with the service's key (any source)
interested,   the governing :class:`~efa_core.model.Agreement` of the area
contracted,   (:attr:`AgreementState.stage <efa_core.model.AgreementState.stage>`)
terminated
published     a :class:`~efa_core.model.Responsibility` for one of the service's LeiKa keys
              whose area contains the row's area
routable      a :class:`~efa_core.model.Route` for a LeiKa key × containing area
live          an :class:`~efa_core.model.Availability` with ``online=True`` for a LeiKa key ×
              containing area (an ``online=False`` row is kept as contrary evidence)
============  ===========================================================================

**Rows.**  A row exists for every service × area that some evidence names (an agreement's
subscriber ARS, a responsibility's, route's or availability's ARS): the *subscriber areas*.
Evidence applies to the area it names and to every area inside it (ARS prefix containment,
:meth:`efa_core.ids.Ars.contains`): a Kreis-level responsibility covers its Gemeinden, a
Land's agreement covers its municipalities.  Agreements are the exception that "narrower
evidence says otherwise": the row's *governing* agreement is the one of the most specific
containing area, so a Gemeinde that withdrew or terminated overrides its Land's contract.
Among several agreements for the same area the most advanced wins (contracted, then
interested/negotiating, then terminated, then declined/withdrawn).  Organisation subscribers
without an ARS are not placed on the map.

**The stage** of a row is ``terminated`` if its governing agreement is terminated, else the
highest stage with evidence (so "live without a contract" is stage ``live``, and a finding).
Because a row combines the evidence of its own area and all containing areas, the stage of
any area without its own row (e.g. a Gemeinde) equals the stage of the row at its nearest
containing row area (or ``offered``): :mod:`efa_core.rollout.coverage` relies on that.

**Storage.**  Rows live in two tables of the store's database, ``rollout_rows`` and
``rollout_state`` (created on first use; a cache that :meth:`RolloutView.derive` can always
rebuild from the store: derived state is a pure function of the live mirror rows).
``rollout_state`` keeps the history id up to which the rows are current, so
:meth:`RolloutView.refresh` re-derives only what changed since, and the incremental result
equals a full derivation.

**Scale.**  Evidence is fetched with SQL filtered on the store's indexed ``leika_key`` and
``ars`` columns, one service at a time (memory is bounded by one service's evidence, about
11,000 Gemeinden); incremental runs fetch only the changed areas, their containing areas and
(for coarser areas) their subtree.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

import attrs
import orjson

from efa_core.ids import Ars
from efa_core.model import AgreementState, Stage
from efa_core.store import Store

__all__ = [
    "DeriveStats",
    "Evidence",
    "RolloutRow",
    "RolloutView",
    "Scope",
    "ServiceInfo",
    "derive",
]

ROWS_TABLE = "rollout_rows"
STATE_TABLE = "rollout_state"

_DDL = (
    f"CREATE TABLE IF NOT EXISTS {ROWS_TABLE} ("
    " service_key TEXT NOT NULL, ars TEXT NOT NULL, stage TEXT NOT NULL,"
    " stage_rank INTEGER NOT NULL, agreement_state TEXT, agreement_since TEXT,"
    " flags INTEGER NOT NULL, evidence TEXT NOT NULL, PRIMARY KEY (service_key, ars))",
    f"CREATE TABLE IF NOT EXISTS {STATE_TABLE} (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
)

_EVIDENCE_KINDS = ("responsibility", "route", "availability")
_PREFIX_LENGTHS = (2, 3, 5, 9, 12)
_CHUNK = 400
#: Upper bound for a subtree range on digit strings (":" sorts right after "9").
_AFTER_DIGITS = ":"

_F_PUBLISHED, _F_ROUTABLE, _F_LIVE, _F_OFFLINE = 1, 2, 4, 8

#: How strongly an agreement state governs an area (higher wins among one area's agreements).
_AGREEMENT_RANK = {
    AgreementState.CONTRACTED: 4,
    AgreementState.NEGOTIATING: 3,
    AgreementState.INTERESTED: 3,
    AgreementState.TERMINATED: 2,
    AgreementState.DECLINED: 1,
    AgreementState.WITHDRAWN: 1,
}


class _Kind(str, enum.Enum):
    AGREEMENT = "agreement"
    RESPONSIBILITY = "responsibility"
    ROUTE = "route"
    AVAILABILITY = "availability"


@attrs.frozen(kw_only=True, slots=True)
class Evidence:
    """A record that backs a stage of a row: which source said what, and when.

    *stage* is the stage the record evidences, or ``None`` for contrary evidence (a
    dashboard row saying the service is offline).  *at* is when the source says the record
    changed (``modified_at``; for agreements ``state_since``), else when it was fetched.
    *detail* adds what matters for the stage: the agreement state, a responsibility's
    target (``"onlinedienst:<id>"``), ``"offline"`` for an offline dashboard row.
    """

    stage: Stage | None
    source: str
    kind: str
    natural_key: str
    ars: str | None
    at: datetime | None
    detail: str | None = None

    def to_json(self) -> list[Any]:
        """Return the compact JSON form stored in the rows table."""
        return [
            None if self.stage is None else self.stage.value,
            self.source,
            self.kind,
            self.natural_key,
            self.ars,
            None if self.at is None else self.at.isoformat(),
            self.detail,
        ]

    @classmethod
    def from_json(cls, data: Sequence[Any]) -> Evidence:
        """Inverse of :meth:`to_json`."""
        return cls(
            stage=None if data[0] is None else Stage(data[0]),
            source=data[1],
            kind=data[2],
            natural_key=data[3],
            ars=data[4],
            at=None if data[5] is None else datetime.fromisoformat(data[5]),
            detail=data[6],
        )


@attrs.frozen(kw_only=True, slots=True)
class RolloutRow:
    """The derived state of one service in one subscriber area."""

    service_key: str
    ars: Ars
    stage: Stage
    #: The state of the governing agreement (None: no agreement covers the area).
    agreement_state: AgreementState | None
    #: Since when the governing agreement is in its state (state_since, else first seen).
    agreement_since: datetime | None
    published: bool
    routable: bool
    live: bool
    #: A dashboard row for a containing area says the service is offline.
    offline: bool
    evidence: tuple[Evidence, ...]

    def evidence_for(self, stage: Stage | None) -> tuple[Evidence, ...]:
        """Return the evidence of *stage* (``None``: the contrary evidence)."""
        return tuple(e for e in self.evidence if e.stage is stage)

    @property
    def has_active_agreement(self) -> bool:
        """Whether an interest, negotiation or contract governs the area."""
        return self.agreement_state in (
            AgreementState.INTERESTED,
            AgreementState.NEGOTIATING,
            AgreementState.CONTRACTED,
        )


@attrs.frozen(kw_only=True, slots=True)
class Scope:
    """A part of the derived view to re-derive: one service, all of it or one area's subtree.

    ``Scope("anmeldung", None)`` is every row of the service; ``Scope("anmeldung",
    "16055")`` the rows at ``16055`` and at the areas inside it.
    """

    service_key: str
    ars: str | None = None


@attrs.frozen(kw_only=True)
class DeriveStats:
    """What one derivation did."""

    full: bool
    services: int
    scopes: int
    rows_written: int
    rows_deleted: int


@attrs.frozen(kw_only=True)
class ServiceInfo:
    """A service as the derived view sees it: its key, names and LeiKa keys over all sources."""

    key: str
    name: str
    leika_keys: tuple[str, ...]
    #: ``(source, natural_key, at)`` of each Service record with this key.
    records: tuple[tuple[str, str, datetime | None], ...]


# --------------------------------------------------------------------------------------
# facts: compact tuples read from the store
# --------------------------------------------------------------------------------------

#: (kind, source, natural_key, ars, at_iso, detail, extra)
#: extra: availability -> online (bool|None); agreement -> (service_key, state, since_iso)
_Fact = tuple[str, str, str, str, "str | None", "str | None", Any]


def _prefixes(ars: str) -> list[str]:
    return [ars[:n] for n in _PREFIX_LENGTHS if n <= len(ars)]


def _iso(db: Any, value: Any) -> str | None:
    if value is None:
        return None
    return str(db.from_ts(value).isoformat())


class RolloutView:
    """The derived rollout view over a :class:`~efa_core.store.Store`.

    Build or rebuild it with :meth:`derive`, keep it current with :meth:`refresh` (after
    syncs) or :meth:`derive` with :class:`Scope` keys (e.g. from :meth:`scopes_for_changes`
    in an ``efa_on_changes`` listener); read it with :meth:`rows`, :meth:`row` and
    :meth:`services`.  The view uses the store's connection: do not use it while a sync
    engine writes through the same store object.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self._db = store.backend
        self._services: dict[str, ServiceInfo] | None = None
        self._ensure_tables()

    # -- tables ------------------------------------------------------------------------

    def _ensure_tables(self) -> None:
        with self.store.transaction():
            for sql in _DDL:
                self._db.execute(sql)

    def _watermark(self) -> int | None:
        row = self._db.fetchone(
            f"SELECT value FROM {STATE_TABLE} WHERE name = ?",  # noqa: S608
            ("history_id",),
        )
        return None if row is None else int(row[0])

    def _set_watermark(self, value: int) -> None:
        self._db.execute(f"DELETE FROM {STATE_TABLE} WHERE name = ?", ("history_id",))  # noqa: S608
        self._db.execute(
            f"INSERT INTO {STATE_TABLE} (name, value) VALUES (?, ?)",  # noqa: S608
            ("history_id", str(value)),
        )

    def _max_history_id(self) -> int:
        row = self._db.fetchone("SELECT MAX(id) FROM history")
        return int(row[0]) if row and row[0] is not None else 0

    @property
    def is_current(self) -> bool:
        """Whether the rows reflect every change the store's history holds."""
        mark = self._watermark()
        return mark is not None and mark >= self._max_history_id()

    # -- services ----------------------------------------------------------------------

    def services(self, *, reload: bool = False) -> Mapping[str, ServiceInfo]:
        """Return the services known to any source, by key (cached; *reload* re-reads)."""
        if self._services is None or reload:
            self._services = self._load_services()
        return self._services

    def _load_services(self) -> dict[str, ServiceInfo]:
        db = self._db
        found: dict[str, dict[str, Any]] = {}
        for source, key, payload, modified, fetched in db.fetchall(
            f"SELECT source, natural_key, payload{db.json_text}, modified_at, fetched_at"  # noqa: S608
            " FROM records WHERE kind = 'service' AND deleted = FALSE ORDER BY source, id"
        ):
            data = orjson.loads(payload) if isinstance(payload, (str, bytes)) else payload
            entry = found.setdefault(key, {"name": data["name"], "leika": [], "records": []})
            for leika in data["leika_keys"]:
                if leika not in entry["leika"]:
                    entry["leika"].append(leika)
            at = db.from_ts(modified if modified is not None else fetched)
            entry["records"].append((source, key, at))
        return {
            key: ServiceInfo(
                key=key,
                name=entry["name"],
                leika_keys=tuple(entry["leika"]),
                records=tuple(entry["records"]),
            )
            for key, entry in sorted(found.items())
        }

    def _leika_index(self) -> dict[str, list[str]]:
        index: dict[str, list[str]] = defaultdict(list)
        for service in self.services().values():
            for leika in service.leika_keys:
                index[leika].append(service.key)
        return index

    # -- reading facts -------------------------------------------------------------------

    def _evidence_facts(self, leika: str, where: str, params: Sequence[Any]) -> Iterator[_Fact]:
        db = self._db
        sql = (
            f"SELECT kind, source, natural_key, ars, payload{db.json_text},"  # noqa: S608
            " modified_at, fetched_at FROM records WHERE leika_key = ? AND deleted = FALSE"
            " AND kind IN ('responsibility', 'route', 'availability')" + where
        )
        for kind, source, key, ars, payload, modified, fetched in db.fetchall(
            sql, (leika, *params)
        ):
            at = _iso(db, modified if modified is not None else fetched)
            if kind == "route":
                yield (kind, source, key, ars, at, None, None)
                continue
            data = orjson.loads(payload) if isinstance(payload, (str, bytes)) else payload
            if kind == "responsibility":
                detail = f"{data['target_kind']}:{data['target_id']}"
                yield (kind, source, key, ars, at, detail, None)
            else:
                online = data.get("online")
                yield (kind, source, key, ars, at, None if online else "offline", online)

    def _agreement_facts(self, where: str, params: Sequence[Any]) -> Iterator[_Fact]:
        db = self._db
        sql = (
            f"SELECT source, natural_key, ars, payload{db.json_text}, modified_at,"  # noqa: S608
            " fetched_at, first_seen FROM records WHERE kind = 'agreement'"
            " AND deleted = FALSE AND ars IS NOT NULL" + where
        )
        for source, key, ars, payload, modified, fetched, first_seen in db.fetchall(sql, params):
            data = orjson.loads(payload) if isinstance(payload, (str, bytes)) else payload
            state = data["state"]
            since = data.get("state_since")
            since_iso = datetime.fromisoformat(since).isoformat() if since else _iso(db, first_seen)
            at = since_iso if since else _iso(db, modified if modified is not None else fetched)
            yield (
                "agreement",
                source,
                key,
                ars,
                at,
                state,
                (data["service_key"], state, since_iso),
            )

    # -- computing rows --------------------------------------------------------------------

    @staticmethod
    def _index(facts: Iterable[_Fact]) -> dict[str, list[_Fact]]:
        index: dict[str, list[_Fact]] = defaultdict(list)
        for fact in facts:
            index[fact[3]].append(fact)
        return index

    def _compute(
        self,
        service: ServiceInfo,
        areas: Iterable[str],
        agreements: Mapping[str, list[_Fact]],
        evidence: Mapping[str, list[_Fact]],
    ) -> list[tuple[Any, ...]]:
        """Return table rows for *areas* of *service*."""
        offered = [
            [
                Stage.OFFERED.value,
                source,
                "service",
                key,
                None,
                at.isoformat() if at else None,
                None,
            ]
            for source, key, at in service.records
        ]
        out: list[tuple[Any, ...]] = []
        for area in sorted(areas):
            prefixes = _prefixes(area)
            governing: list[_Fact] = []
            for prefix in reversed(prefixes):
                found = agreements.get(prefix)
                if found:
                    governing = found
                    break
            state: AgreementState | None = None
            since: str | None = None
            chosen: list[_Fact] = []
            if governing:
                best = max(
                    governing,
                    key=lambda f: (
                        _AGREEMENT_RANK[AgreementState(f[6][1])],
                        f[6][2] or "",
                        f[1],
                        f[2],
                    ),
                )
                state = AgreementState(best[6][1])
                since = best[6][2]
                chosen = [f for f in governing if f[6][1] == best[6][1]]
            flags = 0
            ev: list[list[Any]] = list(offered)
            agreement_stage = None if state is None else state.stage
            for fact in sorted(chosen, key=lambda f: (f[1], f[2])):
                ev.append(
                    [
                        None if agreement_stage is None else agreement_stage.value,
                        fact[1],
                        "agreement",
                        fact[2],
                        fact[3],
                        fact[4],
                        fact[5],
                    ]
                )
            for prefix in prefixes:
                for fact in evidence.get(prefix, ()):
                    kind = fact[0]
                    if kind == "responsibility":
                        flags |= _F_PUBLISHED
                        stage_value: str | None = Stage.PUBLISHED.value
                    elif kind == "route":
                        flags |= _F_ROUTABLE
                        stage_value = Stage.ROUTABLE.value
                    elif fact[6] is True:
                        flags |= _F_LIVE
                        stage_value = Stage.LIVE.value
                    elif fact[6] is False:
                        flags |= _F_OFFLINE
                        stage_value = None
                    else:
                        continue  # a dashboard row without online status evidences nothing
                    ev.append([stage_value, fact[1], kind, fact[2], fact[3], fact[4], fact[5]])
            if state is AgreementState.TERMINATED:
                stage = Stage.TERMINATED
            else:
                stage = Stage.OFFERED
                if agreement_stage is not None:
                    stage = agreement_stage
                if flags & _F_PUBLISHED:
                    stage = max(stage, Stage.PUBLISHED)
                if flags & _F_ROUTABLE:
                    stage = max(stage, Stage.ROUTABLE)
                if flags & _F_LIVE:
                    stage = Stage.LIVE
            ev.sort(key=lambda e: (_stage_order(e[0]), e[2], e[1], e[3]))
            out.append(
                (
                    service.key,
                    area,
                    stage.value,
                    stage.rank,
                    None if state is None else state.value,
                    since,
                    flags,
                    orjson.dumps(ev).decode(),
                )
            )
        return out

    def _write(self, rows: Sequence[tuple[Any, ...]]) -> None:
        if rows:
            self._db.executemany(
                f"INSERT INTO {ROWS_TABLE} (service_key, ars, stage, stage_rank,"  # noqa: S608
                " agreement_state, agreement_since, flags, evidence)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )

    # -- derivation ----------------------------------------------------------------------

    def derive(self, keys: Iterable[Scope] | None = None) -> DeriveStats:
        """Derive the rows: all of them (*keys* ``None``) or the given scopes only.

        A full derivation replaces every row; a scoped one replaces the rows inside each
        scope and leaves the others alone.  Either way the result equals what a full
        derivation of the current store gives.  The watermark advances only on a full
        derivation (see :meth:`refresh` for the incremental path that advances it).
        """
        mark = self._max_history_id()
        self._services = None
        with self.store.transaction():
            if keys is None:
                stats = self._derive_full()
                self._set_watermark(mark)
            else:
                stats = self._derive_scopes(keys)
        return stats

    def _derive_full(self) -> DeriveStats:
        db = self._db
        deleted = int(db.fetchone(f"SELECT COUNT(*) FROM {ROWS_TABLE}")[0])  # type: ignore[index]  # noqa: S608
        db.execute(f"DELETE FROM {ROWS_TABLE}")  # noqa: S608
        services = self.services()
        agreements_by_service: dict[str, list[_Fact]] = defaultdict(list)
        for fact in self._agreement_facts("", ()):
            if fact[6][0] in services:
                agreements_by_service[fact[6][0]].append(fact)
        written = 0
        for service in services.values():
            facts: list[_Fact] = []
            for leika in service.leika_keys:
                facts.extend(self._evidence_facts(leika, "", ()))
            agreements = self._index(agreements_by_service.get(service.key, ()))
            evidence = self._index(facts)
            rows = self._compute(service, set(agreements) | set(evidence), agreements, evidence)
            self._write(rows)
            written += len(rows)
        return DeriveStats(
            full=True,
            services=len(services),
            scopes=len(services),
            rows_written=written,
            rows_deleted=deleted,
        )

    def _derive_scopes(self, keys: Iterable[Scope]) -> DeriveStats:
        services = self.services()
        by_service: dict[str, set[str | None]] = defaultdict(set)
        for scope in keys:
            by_service[scope.service_key].add(scope.ars)
        written = deleted = scopes = 0
        db = self._db
        for service_key, raw_areas in sorted(by_service.items()):
            service = services.get(service_key)
            if service is None or None in raw_areas:
                deleted += int(
                    db.fetchone(
                        f"SELECT COUNT(*) FROM {ROWS_TABLE} WHERE service_key = ?",  # noqa: S608
                        (service_key,),
                    )[0]  # type: ignore[index]
                )
                db.execute(f"DELETE FROM {ROWS_TABLE} WHERE service_key = ?", (service_key,))  # noqa: S608
                scopes += 1
                if service is None:
                    continue
                agreements = self._index(
                    f for f in self._agreement_facts("", ()) if f[6][0] == service_key
                )
                facts = [f for k in service.leika_keys for f in self._evidence_facts(k, "", ())]
                evidence = self._index(facts)
                rows = self._compute(service, set(agreements) | set(evidence), agreements, evidence)
                self._write(rows)
                written += len(rows)
                continue
            areas = _minimal({a for a in raw_areas if a is not None})
            scopes += len(areas)
            w, d = self._derive_subtrees(service, areas)
            written += w
            deleted += d
        return DeriveStats(
            full=False,
            services=len(by_service),
            scopes=scopes,
            rows_written=written,
            rows_deleted=deleted,
        )

    def _derive_subtrees(self, service: ServiceInfo, areas: list[str]) -> tuple[int, int]:
        db = self._db
        exact = sorted({a for a in areas if len(a) == 12})
        ranges = sorted(a for a in areas if len(a) < 12)
        ancestors = sorted({p for a in areas for p in _prefixes(a)[:-1]})
        lookups = sorted(set(exact) | set(ancestors))
        agreement_facts: list[_Fact] = []
        facts: list[_Fact] = []
        for chunk in _chunks(lookups):
            marks = ", ".join("?" * len(chunk))
            agreement_facts.extend(self._agreement_facts(f" AND ars IN ({marks})", chunk))
            for leika in service.leika_keys:
                facts.extend(self._evidence_facts(leika, f" AND ars IN ({marks})", chunk))
        for area in ranges:
            bounds = (area, area + _AFTER_DIGITS)
            agreement_facts.extend(self._agreement_facts(" AND ars >= ? AND ars < ?", bounds))
            for leika in service.leika_keys:
                facts.extend(self._evidence_facts(leika, " AND ars >= ? AND ars < ?", bounds))
        agreements = self._index(f for f in agreement_facts if f[6][0] == service.key)
        evidence = self._index(facts)

        def inside(ars: str) -> bool:
            return any(ars.startswith(a) for a in areas)

        targets = {a for a in set(agreements) | set(evidence) if inside(a)}
        deleted = 0
        for chunk in _chunks(exact):
            marks = ", ".join("?" * len(chunk))
            cur = db.execute(
                f"DELETE FROM {ROWS_TABLE} WHERE service_key = ? AND ars IN ({marks})",  # noqa: S608
                (service.key, *chunk),
            )
            deleted += max(cur.rowcount, 0)
        for area in ranges:
            cur = db.execute(
                f"DELETE FROM {ROWS_TABLE} WHERE service_key = ? AND ars >= ? AND ars < ?",  # noqa: S608
                (service.key, area, area + _AFTER_DIGITS),
            )
            deleted += max(cur.rowcount, 0)
        rows = self._compute(service, targets, agreements, evidence)
        self._write(rows)
        return len(rows), deleted

    # -- incremental: from changes or history ------------------------------------------------

    def scopes_for_payloads(self, payloads: Iterable[Mapping[str, Any]]) -> set[Scope]:
        """Return the scopes that records with these payloads (``record_to_dict`` form) touch.

        Use the old and the new payload of a changed record: both places need re-deriving.
        """
        leika_index: dict[str, list[str]] | None = None
        scopes: set[Scope] = set()
        for data in payloads:
            kind = data.get("kind")
            if kind == "service":
                scopes.add(Scope(service_key=data["key"]))
            elif kind == "agreement":
                ars = (data.get("subscriber") or {}).get("ars")
                if ars:
                    scopes.add(Scope(service_key=data["service_key"], ars=ars))
            elif kind in _EVIDENCE_KINDS:
                if leika_index is None:
                    leika_index = self._leika_index()
                for service_key in leika_index.get(data["leika_key"], ()):
                    scopes.add(Scope(service_key=service_key, ars=data["ars"]))
        return scopes

    def scopes_for_changes(self, source: str, changes: Iterable[Any]) -> set[Scope]:
        """Return the scopes touched by the changes of an ``efa_on_changes`` call.

        Call it after the changes were applied: deleted and replaced records are looked up
        in the store's history (their last content before the change).
        """
        from efa_core.connectors import Delete, Upsert
        from efa_core.serialization import record_to_dict

        payloads: list[Mapping[str, Any]] = []
        for change in changes:
            if isinstance(change, Upsert):
                payloads.append(record_to_dict(change.record))
                kind, key = change.record.KIND, change.record.natural_key
            elif isinstance(change, Delete):
                kind, key = change.kind, change.key
            else:
                continue
            payloads.extend(self._previous_payloads(source, kind, key, None))
        self._services = None
        return self.scopes_for_payloads(payloads)

    def _previous_payloads(
        self, source: str, kind: str, key: str, before_id: int | None
    ) -> list[Mapping[str, Any]]:
        """Return the last upsert payload(s) of a key before *before_id* (latest two if None)."""
        db = self._db
        where = " AND id < ?" if before_id is not None else ""
        params: tuple[Any, ...] = (key, source, kind) + (
            (before_id,) if before_id is not None else ()
        )
        rows = db.fetchall(
            f"SELECT payload{db.json_text} FROM history WHERE natural_key = ? AND source = ?"  # noqa: S608
            f" AND kind = ? AND op = 'upsert'{where} ORDER BY id DESC LIMIT 2",
            params,
        )
        out = []
        for (payload,) in rows[: 1 if before_id is not None else 2]:
            out.append(orjson.loads(payload) if isinstance(payload, (str, bytes)) else payload)
        return out

    def refresh(self) -> DeriveStats:
        """Bring the rows up to date with the store: incrementally from the history.

        Reads the history entries after the watermark, re-derives the scopes their old and
        new contents touch and advances the watermark.  Without a watermark (never derived)
        it derives everything.
        """
        mark = self._watermark()
        if mark is None:
            return self.derive()
        top = self._max_history_id()
        if top <= mark:
            return DeriveStats(full=False, services=0, scopes=0, rows_written=0, rows_deleted=0)
        self._services = None
        payloads: list[Mapping[str, Any]] = []
        for entry in self.store.history(after_id=mark):
            if entry.id > top:
                break
            if entry.payload is not None:
                payloads.append(entry.payload)
            if entry.old_hash is not None or entry.payload is None:
                payloads.extend(
                    self._previous_payloads(entry.source, entry.kind, entry.natural_key, entry.id)
                )
        scopes = self.scopes_for_payloads(payloads)
        with self.store.transaction():
            stats = self._derive_scopes(scopes)
            self._set_watermark(top)
        return stats

    # -- reading rows ------------------------------------------------------------------------

    _COLS = "service_key, ars, stage, agreement_state, agreement_since, flags, evidence"

    @staticmethod
    def _row(values: Sequence[Any]) -> RolloutRow:
        flags = int(values[5])
        return RolloutRow(
            service_key=values[0],
            ars=Ars(values[1]),
            stage=Stage(values[2]),
            agreement_state=None if values[3] is None else AgreementState(values[3]),
            agreement_since=None if values[4] is None else datetime.fromisoformat(values[4]),
            published=bool(flags & _F_PUBLISHED),
            routable=bool(flags & _F_ROUTABLE),
            live=bool(flags & _F_LIVE),
            offline=bool(flags & _F_OFFLINE),
            evidence=tuple(Evidence.from_json(e) for e in orjson.loads(values[6])),
        )

    def rows(
        self, service_key: str | None = None, *, within: str | Ars | None = None
    ) -> Iterator[RolloutRow]:
        """Yield the rows (of one service, and/or inside one area), by service and ARS."""
        where: list[str] = []
        params: list[Any] = []
        if service_key is not None:
            where.append("service_key = ?")
            params.append(service_key)
        if within is not None:
            prefix = str(within)
            where.append("ars >= ? AND ars < ?")
            params.extend([prefix, prefix + _AFTER_DIGITS])
        clause = (" WHERE " + " AND ".join(where)) if where else ""
        sql = f"SELECT {self._COLS} FROM {ROWS_TABLE}{clause} ORDER BY service_key, ars"  # noqa: S608
        for values in self._db.fetchall(sql, params):
            yield self._row(values)

    def row(self, service_key: str, ars: str | Ars) -> RolloutRow | None:
        """Return the row of *service_key* at exactly *ars* (None if the area has no row)."""
        values = self._db.fetchone(
            f"SELECT {self._COLS} FROM {ROWS_TABLE} WHERE service_key = ? AND ars = ?",  # noqa: S608
            (service_key, str(ars)),
        )
        return None if values is None else self._row(values)

    def stage_rows(self, service_key: str) -> list[tuple[str, int]]:
        """Return ``(ars, stage rank)`` of a service's rows: the cheap form for coverage."""
        return [
            (str(a), int(r))
            for a, r in self._db.fetchall(
                f"SELECT ars, stage_rank FROM {ROWS_TABLE} WHERE service_key = ?",  # noqa: S608
                (service_key,),
            )
        ]

    def stage_at(self, service_key: str, ars: str | Ars) -> Stage | None:
        """Return the stage of a service in any area (None for an unknown service).

        Areas without their own row take the stage of their nearest containing row area,
        else ``offered``.
        """
        if service_key not in self.services():
            return None
        prefixes = _prefixes(str(ars))
        marks = ", ".join("?" * len(prefixes))
        found = self._db.fetchall(
            f"SELECT ars, stage FROM {ROWS_TABLE} WHERE service_key = ?"  # noqa: S608
            f" AND ars IN ({marks})",
            (service_key, *prefixes),
        )
        if not found:
            return Stage.OFFERED
        return Stage(max(found, key=lambda r: len(r[0]))[1])


def _stage_order(value: str | None) -> int:
    return 99 if value is None else Stage(value).rank


def _minimal(areas: set[str]) -> list[str]:
    """Drop areas contained in another area of the set."""
    out: list[str] = []
    for area in sorted(areas, key=len):
        if not any(area.startswith(kept) for kept in out):
            out.append(area)
    return out


def _chunks(values: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


def derive(store: Store, keys: Iterable[Scope] | None = None) -> RolloutView:
    """Derive the rollout view of *store* (all of it, or the *keys* scopes) and return it."""
    view = RolloutView(store)
    view.derive(keys)
    return view
