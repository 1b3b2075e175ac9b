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

**One area, several ARS.**  A kreisfreie Stadt is a Kreis and its own single Gemeinde:
``16055`` (as the OZG-Dashboard connector reads the padded ``160550000000``), ``160550000``
and ``160550000000`` are Weimar.  When the register (or, without one, the evidence itself)
says so -- the rule is in :mod:`efa_core.rollout.equivalence` -- evidence naming the Kreis
form is mapped onto the Gemeinde ARS: the row is kept at the 12-digit ARS, an agreement at
either form governs it, and :attr:`RolloutRow.aliases` lists the other forms, which
:meth:`RolloutView.row` and :meth:`RolloutView.stage_at` accept too.  The evidence keeps
the ARS its source named (:attr:`Evidence.ars`) and says where it was mapped
(:attr:`Evidence.mapped_to`).  A Landkreis (several Gemeinden) is never collapsed.

**The stage** of a row is ``terminated`` if its governing agreement is terminated, else the
highest stage with evidence (so "live without a contract" is stage ``live``, and a finding).
Because a row combines the evidence of its own area and all containing areas, the stage of
any area without its own row (e.g. a Gemeinde) equals the stage of the row at its nearest
containing row area (or ``offered``), where a row also stands for its aliases:
:mod:`efa_core.rollout.coverage` relies on that.

**Storage.**  Rows live in two tables of the store's database, ``rollout_rows`` and
``rollout_state`` (created on first use; a cache that :meth:`RolloutView.derive` can always
rebuild from the store: derived state is a pure function of the live mirror rows).
``rollout_state`` keeps the history id up to which the rows are current, so
:meth:`RolloutView.refresh` re-derives only what changed since, and the incremental result
equals a full derivation.  Because of the kreisfreie-Stadt rule, a change at an ARS also
re-derives the coarser areas that may be the same area as a Gemeinde some record names
(a change at ``160550000000`` re-derives ``16055``), and a changed Gemeinde of the register
re-derives those areas too.  ``rollout_state`` also records the layout version of the
tables: a cache written by an older version is dropped and derived afresh.

**Scale.**  Evidence is fetched with SQL filtered on the store's indexed ``leika_key`` and
``ars`` columns, one service at a time (memory is bounded by one service's evidence, about
11,000 Gemeinden); incremental runs fetch only the changed areas, their containing areas and
(for coarser areas) their subtree, and find a service's agreements there by natural key
(``"<service_key>@ars:<ARS>"``) through the store's unique ``(source, kind, natural_key)``
index, never reading other services' agreements.  The previous contents of the changed
records are read in batches.  A scoped derivation with very many areas for one service
(e.g. after a register import) derives that service in full instead.
"""

from __future__ import annotations

import bisect
import enum
import functools
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

import attrs
import orjson

from efa_core.ids import Ars
from efa_core.model import AgreementState, Stage
from efa_core.rollout.equivalence import (
    CANDIDATE_LENGTHS,
    Equivalence,
    equivalence,
    sorted_within,
    zero_filled_gemeinde,
)
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

#: The layout of the cache tables; a cache of another version is dropped and re-derived.
_LAYOUT = "2"
_STATE_DDL = (
    f"CREATE TABLE IF NOT EXISTS {STATE_TABLE} (name TEXT PRIMARY KEY, value TEXT NOT NULL)"
)
_ROWS_DDL = (
    f"CREATE TABLE IF NOT EXISTS {ROWS_TABLE} ("
    " service_key TEXT NOT NULL, ars TEXT NOT NULL, stage TEXT NOT NULL,"
    " stage_rank INTEGER NOT NULL, agreement_state TEXT, agreement_since TEXT,"
    " flags INTEGER NOT NULL, evidence TEXT NOT NULL, aliases TEXT NOT NULL,"
    " PRIMARY KEY (service_key, ars))"
)
#: More areas than this for one service in one scoped derivation: derive the service fully.
_MAX_SCOPE_AREAS = 500

_EVIDENCE_KINDS = ("responsibility", "route", "availability")
_PREFIX_LENGTHS = (2, 3, 5, 9, 12)
_CHUNK = 400
#: SELECTs per UNION ALL statement (SQLite allows 500).
_COMPOUND = 200
#: Upper bound for a subtree range on digit strings (":" sorts right after "9").
_AFTER_DIGITS = ":"

_T = TypeVar("_T")

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
    *ars* is the area as the source named it; *mapped_to* is the Gemeinde ARS it was mapped
    onto when that is the same area (a kreisfreie Stadt named as its Kreis), else None.
    """

    stage: Stage | None
    source: str
    kind: str
    natural_key: str
    ars: str | None
    at: datetime | None
    detail: str | None = None
    mapped_to: str | None = None

    @property
    def area(self) -> str | None:
        """The area the evidence is about in the view's form: :attr:`mapped_to` or :attr:`ars`."""
        return self.mapped_to if self.mapped_to is not None else self.ars

    def to_dict(self) -> dict[str, Any]:
        """Return the readable JSON form used by reports and findings."""
        return {
            "stage": None if self.stage is None else self.stage.value,
            "source": self.source,
            "kind": self.kind,
            "key": self.natural_key,
            "ars": self.ars,
            "mapped_to": self.mapped_to,
            "at": None if self.at is None else self.at.isoformat(),
            "detail": self.detail,
        }

    def to_json(self) -> list[Any]:
        """Return the compact JSON form stored in the rows table."""
        out = [
            None if self.stage is None else self.stage.value,
            self.source,
            self.kind,
            self.natural_key,
            self.ars,
            None if self.at is None else self.at.isoformat(),
            self.detail,
        ]
        if self.mapped_to is not None:
            out.append(self.mapped_to)
        return out

    @classmethod
    def from_json(cls, data: Sequence[Any]) -> Evidence:
        """Inverse of :meth:`to_json`."""
        return cls(
            stage=None if data[0] is None else _STAGE_OF[data[0]],
            source=data[1],
            kind=data[2],
            natural_key=data[3],
            ars=data[4],
            at=None if data[5] is None else _when(data[5]),
            detail=data[6],
            mapped_to=data[7] if len(data) > 7 else None,
        )


# Reading rows back from the view's own table builds the same few values again and again:
# stages and states by value, ARS (validated once per distinct string), timestamps and the
# evidence every row of a service shares (its Service records).  All are immutable.
_STAGE_OF: dict[str, Stage] = {s.value: s for s in Stage}
_STATE_OF: dict[str, AgreementState] = {s.value: s for s in AgreementState}


@functools.lru_cache(maxsize=1 << 16)
def _ars(text: str) -> Ars:
    return Ars(text)


@functools.lru_cache(maxsize=1 << 12)
def _aliases(text: str) -> tuple[Ars, ...]:
    return tuple(_ars(a) for a in text.split())


@functools.lru_cache(maxsize=1 << 14)
def _when(text: str) -> datetime:
    return datetime.fromisoformat(text)


@functools.lru_cache(maxsize=1 << 14)
def _evidence(data: tuple[Any, ...]) -> Evidence:
    return Evidence.from_json(data)


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
    #: The other ARS of the same area: the Kreis (and Gemeindeverband, for a Stadtstaat
    #: also the Land) of a kreisfreie Stadt whose row is at its Gemeinde ARS.
    aliases: tuple[Ars, ...] = ()

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
        db = self._db
        with self.store.transaction():
            db.execute(_STATE_DDL)
            row = db.fetchone(
                f"SELECT value FROM {STATE_TABLE} WHERE name = ?",  # noqa: S608
                ("layout",),
            )
            if row is None or row[0] != _LAYOUT:
                # an older cache (or none): drop it; the next refresh derives in full
                db.execute(f"DROP TABLE IF EXISTS {ROWS_TABLE}")
                db.execute(f"DELETE FROM {STATE_TABLE}")  # noqa: S608
                db.execute(
                    f"INSERT INTO {STATE_TABLE} (name, value) VALUES (?, ?)",  # noqa: S608
                    ("layout", _LAYOUT),
                )
            db.execute(_ROWS_DDL)

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
            # "source IN sources" (every record's source is there) lets the store's
            # (source, kind, natural_key) index find the services without a full scan
            " FROM records WHERE source IN (SELECT source FROM sources) AND kind = 'service'"
            " AND deleted = FALSE ORDER BY source, id"
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
        sql = (
            f"SELECT {self._agreement_cols()} FROM records WHERE kind = 'agreement'"  # noqa: S608
            " AND deleted = FALSE AND ars IS NOT NULL" + where
        )
        return self._agreement_facts_from(sql, params)

    def _agreement_cols(self) -> str:
        return (
            f"source, natural_key, ars, payload{self._db.json_text}, modified_at, fetched_at,"
            " first_seen"
        )

    def _agreement_facts_from(self, sql: str, params: Sequence[Any]) -> Iterator[_Fact]:
        """Yield the facts of a query selecting :meth:`_agreement_cols`."""
        db = self._db
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

    def _agreement_sources(self) -> list[str]:
        """Return the sources that hold agreement records (live or deleted)."""
        return [
            str(source)
            for (source,) in self._db.fetchall("SELECT source FROM sources ORDER BY source")
            if self._db.fetchone(
                "SELECT 1 FROM records WHERE source = ? AND kind = 'agreement' LIMIT 1",
                (source,),
            )
        ]

    def _service_agreement_facts(
        self,
        service_key: str,
        sources: Sequence[str],
        exact: Sequence[str] | None = None,
        ranges: Sequence[str] = (),
    ) -> list[_Fact]:
        """Return the agreement facts of one service: all (*exact* None) or in some areas.

        *exact* are ARS looked up exactly, *ranges* ARS whose subtree is read.  The records
        are found by natural key through the store's unique ``(source, kind, natural_key)``
        index, so other services' agreements in the same areas are never read: an agreement's
        key is ``"<service_key>@<subscriber key>"`` (:attr:`efa_core.model.Agreement.
        natural_key`), an area subscriber's key ``"ars:<ARS>"``, optionally followed by
        ``"#<reference>"``.  Keys of the service that are not ``"ars:"`` keys (organisations,
        which may name an area in their ``ars``) are read in full and filtered by ARS.
        """
        prefix = f"{service_key}@"
        end = service_key + chr(ord("@") + 1)  # every key starting with prefix sorts below
        bounds: list[tuple[str, str]]
        if exact is None:
            bounds = [(prefix, end)]
        else:
            sub = f"{prefix}ars:"
            # "<sub><ARS>" and "<sub><ARS>#<reference>" ("#" sorts below "$" and the digits)
            bounds = [(f"{sub}{a}", f"{sub}{a}$") for a in exact]
            bounds += [(f"{sub}{a}", f"{sub}{a}{_AFTER_DIGITS}") for a in ranges]
            # everything else of the service: below and above the "ars:" keys
            bounds += [(prefix, sub), (f"{prefix}ars;", end)]
        one = (
            f"SELECT {self._agreement_cols()} FROM records WHERE source = ?"  # noqa: S608
            " AND kind = 'agreement' AND natural_key >= ? AND natural_key < ?"
            " AND deleted = FALSE AND ars IS NOT NULL"
        )
        parts = [(source, lo, hi) for source in sources for lo, hi in bounds]
        found: dict[tuple[str, str], _Fact] = {}
        for start in range(0, len(parts), _COMPOUND):
            chunk = parts[start : start + _COMPOUND]
            sql = " UNION ALL ".join([one] * len(chunk))
            params = [value for part in chunk for value in part]
            for fact in self._agreement_facts_from(sql, params):
                found.setdefault((fact[1], fact[2]), fact)
        wanted = None if exact is None else set(exact)
        out = []
        for fact in found.values():
            if fact[6][0] != service_key:
                continue  # a key with "@" in it sharing the prefix
            ars = fact[3]
            if (
                wanted is not None
                and ars not in wanted
                and not any(ars.startswith(r) for r in ranges)
            ):
                continue
            out.append(fact)
        return out

    # -- computing rows --------------------------------------------------------------------

    @staticmethod
    def _index(facts: Iterable[_Fact], same: Equivalence | None = None) -> dict[str, list[_Fact]]:
        """Index facts by area, in the view's form (kreisfreie Städte at the Gemeinde ARS)."""
        index: dict[str, list[_Fact]] = defaultdict(list)
        for fact in facts:
            index[fact[3] if same is None else same(fact[3])].append(fact)
        return index

    def _register_gemeinden(self, area: str) -> list[str]:
        """Return up to two distinct register Gemeinden inside *area*, sorted."""
        return [
            str(r[0])
            for r in self._db.fetchall(
                "SELECT DISTINCT ars FROM records WHERE kind = 'area' AND deleted = FALSE"
                " AND LENGTH(ars) = 12 AND ars >= ? AND ars < ? ORDER BY ars LIMIT 2",
                (area, area + _AFTER_DIGITS),
            )
        ]

    def _all_register_gemeinden(self) -> list[str]:
        """Return every register Gemeinde (12-digit ARS of a live area record), sorted."""
        return sorted(
            str(r[0])
            for r in self._db.fetchall(
                "SELECT DISTINCT ars FROM records WHERE kind = 'area' AND deleted = FALSE"
                " AND LENGTH(ars) = 12"
            )
        )

    def _derive_service(
        self,
        service: ServiceInfo,
        agreement_facts: Sequence[_Fact],
        register: Sequence[str],
    ) -> list[tuple[Any, ...]]:
        """Return every table row of *service* (a full derivation of one service)."""
        facts = [f for k in service.leika_keys for f in self._evidence_facts(k, "", ())]
        same = equivalence(
            {f[3] for f in agreement_facts} | {f[3] for f in facts},
            lambda area: sorted_within(register, area, limit=2),
        )
        agreements = self._index(agreement_facts, same)
        evidence = self._index(facts, same)
        return self._compute(
            service, set(agreements) | set(evidence), agreements, evidence, same.aliases
        )

    def _compute(
        self,
        service: ServiceInfo,
        areas: Iterable[str],
        agreements: Mapping[str, list[_Fact]],
        evidence: Mapping[str, list[_Fact]],
        aliases: Mapping[str, tuple[str, ...]],
    ) -> list[tuple[Any, ...]]:
        """Return table rows for *areas* of *service* (facts indexed in the view's form)."""
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
            governing_area = area
            for prefix in reversed(prefixes):
                found = agreements.get(prefix)
                if found:
                    governing = found
                    governing_area = prefix
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
                    + ([governing_area] if fact[3] != governing_area else [])
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
                    ev.append(
                        [stage_value, fact[1], kind, fact[2], fact[3], fact[4], fact[5]]
                        + ([prefix] if fact[3] != prefix else [])
                    )
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
                    " ".join(aliases.get(area, ())),
                )
            )
        return out

    def _write(self, rows: Sequence[tuple[Any, ...]]) -> None:
        if rows:
            self._db.executemany(
                f"INSERT INTO {ROWS_TABLE} (service_key, ars, stage, stage_rank,"  # noqa: S608
                " agreement_state, agreement_since, flags, evidence, aliases)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
        register = self._all_register_gemeinden()
        written = 0
        for service in services.values():
            rows = self._derive_service(
                service, agreements_by_service.get(service.key, ()), register
            )
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
        register: list[str] | None = None
        sources: list[str] | None = None
        for service_key, raw_areas in sorted(by_service.items()):
            service = services.get(service_key)
            areas: list[str] = []
            if service is not None and None not in raw_areas:
                areas = _minimal(self._expand({a for a in raw_areas if a is not None}))
            if service is None or None in raw_areas or len(areas) > _MAX_SCOPE_AREAS:
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
                if register is None:
                    register = self._all_register_gemeinden()
                if sources is None:
                    sources = self._agreement_sources()
                agreement_facts = self._service_agreement_facts(service_key, sources)
                rows = self._derive_service(service, agreement_facts, register)
                self._write(rows)
                written += len(rows)
                continue
            scopes += len(areas)
            if sources is None:
                sources = self._agreement_sources()
            w, d = self._derive_subtrees(service, areas, sources)
            written += w
            deleted += d
        return DeriveStats(
            full=False,
            services=len(by_service),
            scopes=scopes,
            rows_written=written,
            rows_deleted=deleted,
        )

    def _derive_subtrees(
        self, service: ServiceInfo, areas: list[str], sources: Sequence[str]
    ) -> tuple[int, int]:
        db = self._db
        exact = sorted({a for a in areas if len(a) == 12})
        ranges = sorted(a for a in areas if len(a) < 12)
        ancestors = sorted({p for a in areas for p in _prefixes(a)[:-1]})
        lookups = sorted(set(exact) | set(ancestors))
        agreement_facts = self._service_agreement_facts(service.key, sources, lookups, ranges)
        facts: list[_Fact] = []
        for chunk in _chunks(lookups):
            marks = ", ".join("?" * len(chunk))
            for leika in service.leika_keys:
                facts.extend(self._evidence_facts(leika, f" AND ars IN ({marks})", chunk))
        for area in ranges:
            bounds = (area, area + _AFTER_DIGITS)
            for leika in service.leika_keys:
                facts.extend(self._evidence_facts(leika, " AND ars >= ? AND ars < ?", bounds))

        def inside(ars: str) -> bool:
            return any(ars.startswith(a) for a in areas)

        # Only areas inside the scope can be the same area as a Gemeinde here: _expand made
        # every coarser candidate whose Gemeinde some record names part of the scope.
        same = equivalence(
            {f[3] for f in agreement_facts} | {f[3] for f in facts},
            self._register_gemeinden,
            eligible=inside,
        )
        agreements = self._index(agreement_facts, same)
        evidence = self._index(facts, same)
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
        rows = self._compute(service, targets, agreements, evidence, same.aliases)
        self._write(rows)
        return len(rows), deleted

    def _named(self, values: Iterable[str]) -> set[str]:
        """Return those of *values* that some live record of any kind and source names."""
        wanted = sorted(set(values))
        found: set[str] = set()
        for chunk in _chunks(wanted):
            marks = ", ".join("?" * len(chunk))
            found.update(
                str(r[0])
                for r in self._db.fetchall(
                    f"SELECT DISTINCT ars FROM records WHERE deleted = FALSE"  # noqa: S608
                    f" AND ars IN ({marks})",
                    chunk,
                )
            )
        return found

    def _expand(self, areas: set[str]) -> set[str]:
        """Add the coarser areas whose sameness with a Gemeinde a change at *areas* may alter.

        For a changed ARS ``X`` and each coarser ``A`` (Land, Regierungsbezirk, Kreis) around
        it, whether ``A`` is the same area as the Gemeinde ``A`` zero-filled depends on what
        is named inside ``A``.  That can only hold if the Gemeinde is ``X`` itself or some
        record (of any kind: evidence or the register) names it; then ``A`` is re-derived.
        """
        candidates = _candidates(areas)
        named = self._named(g for pairs in candidates.values() for _, g in pairs)
        out = set(areas)
        for area, pairs in candidates.items():
            out.update(a for a, g in pairs if g == area or g in named)
        return out

    # -- incremental: from changes or history ------------------------------------------------

    def scopes_for_payloads(self, payloads: Iterable[Mapping[str, Any]]) -> set[Scope]:
        """Return the scopes that records with these payloads (``record_to_dict`` form) touch.

        Use the old and the new payload of a changed record: both places need re-deriving.
        A Gemeinde of the register (an area record) touches, for every service, the coarser
        areas that may be the same area as a Gemeinde (see :meth:`_expand`); call this after
        the changes were applied.
        """
        leika_index: dict[str, list[str]] | None = None
        scopes: set[Scope] = set()
        register_changes: set[str] = set()
        for data in payloads:
            kind = data.get("kind")
            if kind == "area":
                ars = data.get("ars")
                if isinstance(ars, str) and len(ars) == 12:
                    register_changes.add(ars)
            elif kind == "service":
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
        if register_changes:
            touched = self._expand(register_changes) - register_changes
            for service_key in self.services():
                scopes.update(Scope(service_key=service_key, ars=a) for a in touched)
        return scopes

    def scopes_for_changes(self, source: str, changes: Iterable[Any]) -> set[Scope]:
        """Return the scopes touched by the changes of an ``efa_on_changes`` call.

        Call it after the changes were applied: deleted and replaced records are looked up
        in the store's history (their last content before the change).
        """
        from efa_core.connectors import Delete, Upsert
        from efa_core.serialization import record_to_dict

        payloads: list[Mapping[str, Any]] = []
        wanted: list[tuple[str, str, str, int | None]] = []
        for change in changes:
            if isinstance(change, Upsert):
                payloads.append(record_to_dict(change.record))
                kind, key = change.record.KIND, change.record.natural_key
            elif isinstance(change, Delete):
                kind, key = change.kind, change.key
            else:
                continue
            wanted.append((source, kind, key, None))
        for found in self._previous_payloads(wanted):
            payloads.extend(found)
        self._services = None
        return self.scopes_for_payloads(payloads)

    def _previous_payloads(
        self, wanted: Sequence[tuple[str, str, str, int | None]]
    ) -> list[list[Mapping[str, Any]]]:
        """Return, per ``(source, kind, key, before_id)``, the key's last upsert payload(s).

        With a *before_id* the last upsert before that history id (zero or one payload),
        else the latest two, newest first.  Two queries per chunk of keys, whatever the
        number of changed records: the upsert ids of the keys, then the chosen payloads.
        """
        db = self._db
        ids: dict[tuple[str, str, str], list[int]] = defaultdict(list)
        for chunk in _chunks(sorted({w[2] for w in wanted})):
            marks = ", ".join("?" * len(chunk))
            for source, kind, key, entry_id in db.fetchall(
                "SELECT source, kind, natural_key, id FROM history"  # noqa: S608
                f" WHERE op = 'upsert' AND natural_key IN ({marks})",
                chunk,
            ):
                ids[(source, kind, key)].append(int(entry_id))
        for found in ids.values():
            found.sort()
        picks: list[list[int]] = []
        for source, kind, key, before_id in wanted:
            found = ids.get((source, kind, key), [])
            if before_id is None:
                picks.append(found[-1:-3:-1])
            else:
                at = bisect.bisect_left(found, before_id)
                picks.append(found[at - 1 : at] if at else [])
        payloads: dict[int, Mapping[str, Any]] = {}
        for id_chunk in _chunks(sorted({i for p in picks for i in p})):
            marks = ", ".join("?" * len(id_chunk))
            for entry_id, payload in db.fetchall(
                f"SELECT id, payload{db.json_text} FROM history WHERE id IN ({marks})",  # noqa: S608
                id_chunk,
            ):
                payloads[int(entry_id)] = (
                    orjson.loads(payload) if isinstance(payload, (str, bytes)) else payload
                )
        return [[payloads[i] for i in p if i in payloads] for p in picks]

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
        wanted: list[tuple[str, str, str, int | None]] = []
        for entry in self.store.history(after_id=mark):
            if entry.id > top:
                break
            if entry.payload is not None:
                payloads.append(entry.payload)
            if entry.old_hash is not None or entry.payload is None:
                wanted.append((entry.source, entry.kind, entry.natural_key, entry.id))
        for found in self._previous_payloads(wanted):
            payloads.extend(found)
        scopes = self.scopes_for_payloads(payloads)
        with self.store.transaction():
            stats = self._derive_scopes(scopes)
            self._set_watermark(top)
        return stats

    # -- reading rows ------------------------------------------------------------------------

    _COLS = "service_key, ars, stage, agreement_state, agreement_since, flags, evidence, aliases"

    @staticmethod
    def _row(values: Sequence[Any]) -> RolloutRow:
        flags = int(values[5])
        evidence = []
        for data in orjson.loads(values[6]):
            if data[2] == "service":
                # shared by every row of the service: build it once
                evidence.append(_evidence(tuple(data)))
            else:
                evidence.append(Evidence.from_json(data))
        return RolloutRow(
            service_key=values[0],
            ars=_ars(values[1]),
            stage=_STAGE_OF[values[2]],
            agreement_state=None if values[3] is None else _STATE_OF[values[3]],
            agreement_since=None if values[4] is None else _when(values[4]),
            published=bool(flags & _F_PUBLISHED),
            routable=bool(flags & _F_ROUTABLE),
            live=bool(flags & _F_LIVE),
            offline=bool(flags & _F_OFFLINE),
            evidence=tuple(evidence),
            aliases=_aliases(values[7]) if values[7] else (),
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
        """Return the row of *service_key* at exactly *ars* (None if the area has no row).

        An alias finds its row: ``row(key, "16055")`` is the row at ``160550000000`` when
        the view treats the two as one area (:attr:`RolloutRow.aliases`).
        """
        text = str(ars)
        sql = f"SELECT {self._COLS} FROM {ROWS_TABLE} WHERE service_key = ? AND ars = ?"  # noqa: S608
        values = self._db.fetchone(sql, (service_key, text))
        if values is None:
            gemeinde = zero_filled_gemeinde(text)
            if gemeinde is not None and gemeinde != text:
                values = self._db.fetchone(sql, (service_key, gemeinde))
                if values is not None and text not in str(values[7]).split():
                    values = None
        return None if values is None else self._row(values)

    def stage_rows(
        self, service_key: str, *, within: str | Ars | None = None
    ) -> list[tuple[str, int]]:
        """Return ``(ars, stage rank)`` of a service's rows: the cheap form for coverage.

        :param within: only the rows inside this area and at the areas containing it:
            every row the stage of an area inside *within* can come from.
        """
        sql = f"SELECT ars, stage_rank FROM {ROWS_TABLE} WHERE service_key = ?"  # noqa: S608
        if within is None:
            found = self._db.fetchall(sql, (service_key,))
        else:
            prefix = str(within)
            found = self._db.fetchall(
                sql + " AND ars >= ? AND ars < ?", (service_key, prefix, prefix + _AFTER_DIGITS)
            )
            containing = [prefix[:n] for n in _PREFIX_LENGTHS if n < len(prefix)]
            if containing:
                found += self._db.fetchall(
                    sql + f" AND ars IN ({', '.join('?' * len(containing))})",
                    (service_key, *containing),
                )
        return [(str(a), int(r)) for a, r in found]

    def stage_at(self, service_key: str, ars: str | Ars) -> Stage | None:
        """Return the stage of a service in any area (None for an unknown service).

        Areas without their own row take the stage of their nearest containing row area
        (a row also stands for its :attr:`~RolloutRow.aliases`), else ``offered``.
        """
        if service_key not in self.services():
            return None
        prefixes = _prefixes(str(ars))
        gemeinden = {p: zero_filled_gemeinde(p) for p in prefixes}
        lookups = sorted(set(prefixes) | {g for g in gemeinden.values() if g is not None})
        marks = ", ".join("?" * len(lookups))
        found = {
            str(a): (Stage(s), str(al).split())
            for a, s, al in self._db.fetchall(
                f"SELECT ars, stage, aliases FROM {ROWS_TABLE} WHERE service_key = ?"  # noqa: S608
                f" AND ars IN ({marks})",
                (service_key, *lookups),
            )
        }
        for prefix in reversed(prefixes):
            if prefix in found:
                return found[prefix][0]
            gemeinde = gemeinden[prefix]
            if gemeinde is not None and prefix in found.get(gemeinde, (None, ()))[1]:
                return found[gemeinde][0]
        return Stage.OFFERED


def _stage_order(value: str | None) -> int:
    return 99 if value is None else Stage(value).rank


def _minimal(areas: set[str]) -> list[str]:
    """Drop areas contained in another area of the set."""
    out: list[str] = []
    for area in sorted(areas, key=len):
        if not any(area.startswith(kept) for kept in out):
            out.append(area)
    return out


def _candidates(areas: Iterable[str]) -> dict[str, list[tuple[str, str]]]:
    """Return, per ARS, its coarser areas that may be a Gemeinde: ``(area, Gemeinde ARS)``."""
    out: dict[str, list[tuple[str, str]]] = {}
    for ars in areas:
        pairs = []
        for n in CANDIDATE_LENGTHS:
            if n < len(ars):
                gemeinde = zero_filled_gemeinde(ars[:n])
                if gemeinde is not None:
                    pairs.append((ars[:n], gemeinde))
        out[ars] = pairs
    return out


def _chunks(values: Sequence[_T]) -> Iterator[Sequence[_T]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


def derive(store: Store, keys: Iterable[Scope] | None = None) -> RolloutView:
    """Derive the rollout view of *store* (all of it, or the *keys* scopes) and return it."""
    view = RolloutView(store)
    view.derive(keys)
    return view
