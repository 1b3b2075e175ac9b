"""The rollout view of a store: derive, refresh and read the rows of every service × area.

:class:`RolloutView` orchestrates; the parts are pure and live apart:
identities (:mod:`~efa_core.rollout.identity`), evidence placement
(:mod:`~efa_core.rollout.attribution`), one area's several ARS
(:mod:`~efa_core.rollout.equivalence`), stages (:mod:`~efa_core.rollout.stages`), the
row types (:mod:`~efa_core.rollout.rows`); the store is read through
:class:`~efa_core.store.EvidenceReader` and the cache tables are
:mod:`~efa_core.rollout._cache`.  The rules are in docs/rollout.md.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

import attrs
import orjson

from efa_core.ids import Ars
from efa_core.model import AgreementState, Stage
from efa_core.rollout._cache import RolloutCache
from efa_core.rollout.attribution import Placed, place
from efa_core.rollout.equivalence import (
    CANDIDATE_LENGTHS,
    Equivalence,
    Register,
    SortedRegister,
    coarser_readings,
    equivalence,
    zero_filled_gemeinde,
)
from efa_core.rollout.identity import IdentityRules, Resolution, ServiceInfo, resolve
from efa_core.rollout.rows import Evidence, Role, RolloutRow, RowFlag, Via
from efa_core.rollout.stages import (  # row flags as plain ints: a report reads 10^5 rows
    _AMBIGUOUS,
    _DISAGREEMENT,
    _LIVE,
    _OFFLINE,
    _OTHER_SOLUTION,
    _PUBLISHED,
    _ROUTABLE,
    RowValues,
    compute_rows,
    prefixes,
)
from efa_core.store import AgreementFact, EvidenceFact, EvidenceReader, NoteFact, Store

__all__ = [
    "DeriveStats",
    "Evidence",
    "Role",
    "RolloutRow",
    "RolloutView",
    "RowFlag",
    "Scope",
    "ServiceInfo",
    "Via",
    "derive",
]

#: More areas than this for one service in one scoped derivation: derive the service fully.
_MAX_SCOPE_AREAS = 500
_EVIDENCE_KINDS = ("responsibility", "route", "availability")
_STAGE_OF: dict[str, Stage] = {s.value: s for s in Stage}
_STATE_OF: dict[str, AgreementState] = {s.value: s for s in AgreementState}


@attrs.frozen(kw_only=True, slots=True)
class Scope:
    """A part of the derived view to re-derive: one service, all of it or one area's subtree.

    ``Scope("anmeldung", None)`` is every row of the service; ``Scope("anmeldung",
    "16055")`` the rows at ``16055`` and at the areas inside it.  The service may be named
    by any of its ids.
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

    def __add__(self, other: DeriveStats) -> DeriveStats:
        return DeriveStats(
            full=self.full or other.full,
            services=self.services + other.services,
            scopes=self.scopes + other.scopes,
            rows_written=self.rows_written + other.rows_written,
            rows_deleted=self.rows_deleted + other.rows_deleted,
        )


_NOTHING = DeriveStats(full=False, services=0, scopes=0, rows_written=0, rows_deleted=0)

# Reading rows back builds the same few values again and again: ARS (validated once per
# distinct string), timestamps and the evidence every row of a service shares.


@functools.lru_cache(maxsize=1 << 16)
def _ars(text: str) -> Ars:
    return Ars(text)


@functools.lru_cache(maxsize=1 << 12)
def _ars_list(text: str) -> tuple[Ars, ...]:
    return tuple(_ars(a) for a in text.split())


@functools.lru_cache(maxsize=1 << 14)
def _when(text: str) -> datetime:
    return datetime.fromisoformat(text)


@functools.lru_cache(maxsize=1 << 14)
def _shared_evidence(data: tuple[Any, ...]) -> Evidence:
    return Evidence.from_json(data)


#: Every RowFlag value, built once (flags fit in a byte).
_ROW_FLAGS = [RowFlag(i) for i in range(2 * int(max(RowFlag)))]


def _to_row(values: Sequence[Any]) -> RolloutRow:
    flags = int(values[6])
    evidence = []
    for data in orjson.loads(values[7]):
        if data[2] == "service":
            evidence.append(_shared_evidence(tuple(data)))  # shared by every row of the service
        else:
            evidence.append(Evidence.from_json(data))
    return RolloutRow(
        service_key=values[0],
        ars=_ars(values[1]),
        stage=_STAGE_OF[values[2]],
        agreement_state=None if values[4] is None else _STATE_OF[values[4]],
        agreement_since=None if values[5] is None else _when(values[5]),
        published=bool(flags & _PUBLISHED),
        routable=bool(flags & _ROUTABLE),
        live=bool(flags & _LIVE),
        offline=bool(flags & _OFFLINE),
        evidence=tuple(evidence),
        aliases=_ars_list(values[8]) if values[8] else (),
        ambiguous=bool(flags & _AMBIGUOUS),
        other_solution=bool(flags & _OTHER_SOLUTION),
        disagreement=bool(flags & _DISAGREEMENT),
        readings=_ars_list(values[9]) if values[9] else (),
    )


class _StoreRegister:
    """A :class:`~efa_core.rollout.equivalence.Register` that asks the store (scoped runs)."""

    def __init__(self, reader: EvidenceReader) -> None:
        self._reader = reader
        self._present: bool | None = None
        self._has: dict[str, bool] = {}

    @property
    def present(self) -> bool:
        if self._present is None:
            self._present = self._reader.has_register()
        return self._present

    def has(self, ars: str) -> bool:
        found = self._has.get(ars)
        if found is None:
            found = self._has[ars] = bool(self._reader.registered([ars]))
        return found

    def gemeinden(self, area: str) -> Sequence[str]:
        return self._reader.register_gemeinden(area, limit=2)


class RolloutView:
    """The derived rollout view of a store: one :class:`RolloutRow` per service × area.

    :param store: the store (the view uses its connection: do not use it while a sync
        engine writes through the same store object).
    :param rules: identity links, forbidden links, matchers and source priority
        (:meth:`IdentityRules.from_config`).  Default: the rules the view was last derived
        with (they are stored with the rows; their matchers are looked up among the
        installed plugins), else none: what the sources say alone.

    Bring it up to date with :meth:`refresh` (incremental from the store's history, after
    syncs; also applies changed *rules*) or :meth:`derive`; read it with :meth:`rows`,
    :meth:`row`, :meth:`stage_at`, :meth:`services` and :meth:`service`.  Rows are kept
    per canonical service key (:attr:`ServiceInfo.key`); every method that takes a service
    key accepts any of its ids.
    """

    def __init__(self, store: Store, rules: IdentityRules | None = None) -> None:
        self.store = store
        self._reader = EvidenceReader(store.backend)
        self._cache = RolloutCache(store.backend)
        self._resolution: Resolution | None = None
        self._notes: dict[str, list[NoteFact]] | None = None
        with store.transaction():
            self._cache.ensure()
        self.rules = rules if rules is not None else self._stored_rules()

    def _stored_rules(self) -> IdentityRules:
        """Return the rules the rows were last derived with (none stored: no rules)."""
        text = self._cache.state("rules")
        if text is None:
            return IdentityRules()
        matchers: Mapping[str, Any] = {}
        if '"matchers":[]' not in text:
            from efa_core.plugins import PluginRegistry

            matchers = PluginRegistry().identity_matchers()
        return IdentityRules.from_json(text, matchers)

    # -- services ----------------------------------------------------------------------

    def resolution(self, *, reload: bool = False) -> Resolution:
        """Return which records are which service (cached; *reload* reads them again)."""
        if self._resolution is None or reload:
            self._resolution = resolve(self._reader.services(), self.rules)
            self._notes = None
        return self._resolution

    def services(self, *, reload: bool = False) -> Mapping[str, ServiceInfo]:
        """Return the services by canonical key (cached; *reload* re-reads)."""
        return self.resolution(reload=reload).services

    def service(self, ref: str) -> ServiceInfo | None:
        """Return the service that any of its ids (*ref*) names, or None."""
        resolution = self.resolution()
        key = resolution.canonical(ref)
        return None if key is None else resolution.services[key]

    def _canonical(self, ref: str) -> str | None:
        return self.resolution().canonical(ref)

    def notes(self, service_key: str) -> list[Evidence]:
        """Return the notes about a service that name no area (those with one are in rows)."""
        key = self._canonical(service_key)
        return [
            Evidence(
                stage=None,
                source=n.source,
                kind="note",
                natural_key=n.key,
                ars=None,
                at=None if n.at is None else _when(n.at),
                detail=n.text,
                role=Role.NOTE,
                via=Via.KEY,
            )
            for n in self._notes_of().get(key or "", ())
            if n.ars is None
        ]

    def _notes_of(self) -> dict[str, list[NoteFact]]:
        """Return the notes by canonical service (read once per resolution)."""
        if self._notes is None:
            resolution = self.resolution()
            notes: dict[str, list[NoteFact]] = defaultdict(list)
            for note in self._reader.notes():
                key = resolution.canonical(note.service_ref)
                if key is not None:
                    notes[key].append(note)
            self._notes = dict(notes)
        return self._notes

    # -- state -------------------------------------------------------------------------

    @property
    def is_current(self) -> bool:
        """Whether the rows reflect every change the store's history holds.

        (A change of the rules is only seen by :meth:`refresh`.)
        """
        mark = self._cache.watermark()
        return mark is not None and mark >= self._reader.max_history_id()

    def _settings(self) -> str:
        """Return what every row depends on: the source priority, whether a register exists.

        The register decides zero-filled keys (with one) or records their readings
        (without one) in every service, so its arrival re-derives everything.  (The other
        rules change services, which :meth:`_sync_identity` finds.)
        """
        register = "register" if self._reader.has_register() else "no-register"
        return " ".join([register, *self.rules.source_priority])

    def _remember_rules(self) -> None:
        self._cache.set_state("rules", self.rules.to_json())

    def _settings_changed(self) -> bool:
        return self._cache.state("settings") != self._settings()

    # -- derivation --------------------------------------------------------------------

    def derive(self, keys: Iterable[Scope] | None = None) -> DeriveStats:
        """Derive the rows: all of them (*keys* ``None``) or the given scopes only.

        A full derivation replaces every row; a scoped one first applies identity changes
        (re-deriving the services they touch) and then replaces the rows inside each
        scope.  Either way the result equals what a full derivation of the current store
        gives.  The watermark advances only on a full derivation (see :meth:`refresh`).
        """
        mark = self._reader.max_history_id()
        with self.store.transaction():
            if keys is None or self._settings_changed():
                stats = self._derive_full()
                self._cache.set_watermark(mark)
                self._cache.set_state("settings", self._settings())
            else:
                done, stats = self._sync_identity()
                stats = stats + self._derive_scopes(keys, done)
            self._remember_rules()
        return stats

    def refresh(self) -> DeriveStats:
        """Bring the rows up to date: changed rules, then the history since the watermark.

        Without a watermark (never derived), or after the source priority changed, it
        derives everything.
        """
        mark = self._cache.watermark()
        if mark is None or self._settings_changed():
            return self.derive()
        top = self._reader.max_history_id()
        with self.store.transaction():
            done, stats = self._sync_identity()
            if top > mark:
                payloads: list[Mapping[str, Any]] = []
                wanted: list[tuple[str, str, str, int | None]] = []
                for entry in self.store.history(after_id=mark):
                    if entry.id > top:
                        break
                    if entry.payload is not None:
                        payloads.append(entry.payload)
                    if entry.old_hash is not None or entry.payload is None:
                        wanted.append((entry.source, entry.kind, entry.natural_key, entry.id))
                for found in self._reader.previous_payloads(wanted):
                    payloads.extend(found)
                stats = stats + self._derive_scopes(self.scopes_for_payloads(payloads), done)
                self._cache.set_watermark(top)
            self._remember_rules()
        return stats

    def _derive_full(self) -> DeriveStats:
        deleted = self._cache.clear()
        resolution = self.resolution(reload=True)
        register = SortedRegister(self._reader.register())
        sources = self._reader.agreement_sources()
        written = 0
        for service in resolution.services.values():
            rows = self._derive_service(service, register, sources)
            self._cache.write(rows)
            written += len(rows)
        self._cache.put_signatures(_signatures(resolution.services.values()))
        n = len(resolution.services)
        return DeriveStats(
            full=True, services=n, scopes=n, rows_written=written, rows_deleted=deleted
        )

    def _sync_identity(self) -> tuple[set[str], DeriveStats]:
        """Re-derive the services whose identity or records changed; return them and stats.

        A service whose ids, URLs or LeiKa keys changed is re-derived together with every
        service sharing a LeiKa key with it (before or after the change): the placement
        of that key's evidence depends on all of them.
        """
        resolution = self.resolution(reload=True)
        stored = self._cache.signatures()
        now = _signatures(resolution.services.values())
        identity_changed = {k for k in now if k not in stored or stored[k][0] != now[k][0]}
        gone = set(stored) - set(now)
        keys = {
            x
            for k in identity_changed | gone
            for x in (*stored.get(k, ("", "", ()))[2], *now.get(k, ("", "", ()))[2])
        }
        redo = {k for k in now if k in stored and stored[k][1] != now[k][1]} | identity_changed
        redo |= {s for leika in keys for s in resolution.by_leika.get(leika, ())}
        if not redo and not gone:
            return set(), _NOTHING
        deleted = sum(self._cache.delete_service(k) for k in gone | redo)
        self._cache.drop_signatures(gone)
        register = SortedRegister(self._reader.register()) if redo else SortedRegister(())
        sources = self._reader.agreement_sources()
        written = 0
        for key in sorted(redo):
            rows = self._derive_service(resolution.services[key], register, sources)
            self._cache.write(rows)
            written += len(rows)
        self._cache.put_signatures({k: now[k] for k in redo})
        stats = DeriveStats(
            full=False,
            services=len(redo | gone),
            scopes=len(redo | gone),
            rows_written=written,
            rows_deleted=deleted,
        )
        return redo, stats

    def _derive_scopes(self, keys: Iterable[Scope], done: set[str]) -> DeriveStats:
        resolution = self.resolution()
        by_service: dict[str, set[str | None]] = defaultdict(set)
        for scope in keys:
            canonical = resolution.canonical(scope.service_key) or scope.service_key
            if canonical not in done:
                by_service[canonical].add(scope.ars)
        written = deleted = scopes = 0
        register: Register | None = None
        full_register: SortedRegister | None = None
        sources: list[str] | None = None
        for key, raw_areas in sorted(by_service.items()):
            service = resolution.services.get(key)
            areas: list[str] = []
            if service is not None and None not in raw_areas:
                areas = _minimal(self._expand({a for a in raw_areas if a is not None}))
            if sources is None:
                sources = self._reader.agreement_sources()
            if service is None or None in raw_areas or len(areas) > _MAX_SCOPE_AREAS:
                deleted += self._cache.delete_service(key)
                scopes += 1
                if service is None:
                    continue
                if full_register is None:
                    full_register = SortedRegister(self._reader.register())
                rows = self._derive_service(service, full_register, sources)
                self._cache.write(rows)
                written += len(rows)
                continue
            scopes += len(areas)
            if register is None:
                register = _StoreRegister(self._reader)
            w, d = self._derive_subtrees(service, areas, register, sources)
            written += w
            deleted += d
        return DeriveStats(
            full=False,
            services=len(by_service),
            scopes=scopes,
            rows_written=written,
            rows_deleted=deleted,
        )

    def _derive_service(
        self, service: ServiceInfo, register: Register, sources: Sequence[str]
    ) -> list[RowValues]:
        """Return every row of *service* (a full derivation of one service)."""
        agreements = self._reader.agreements(service.aliases, sources)
        facts = {k: list(self._reader.evidence(k)) for k in service.leika_keys}
        notes = [n for n in self._notes_of().get(service.key, ()) if n.ars is not None]
        same = equivalence(_named(agreements, facts, notes), register)
        return self._rows(service, None, agreements, facts, notes, same)

    def _derive_subtrees(
        self,
        service: ServiceInfo,
        areas: list[str],
        register: Register,
        sources: Sequence[str],
    ) -> tuple[int, int]:
        exact = sorted({a for a in areas if len(a) == 12})
        ranges = sorted(a for a in areas if len(a) < 12)
        ancestors = {p for a in areas for p in prefixes(a)[:-1]}
        lookups = sorted(set(exact) | ancestors)

        def inside(ars: str) -> bool:
            return any(ars.startswith(a) for a in areas)

        agreements = self._reader.agreements(service.aliases, sources, exact=lookups, ranges=ranges)
        facts = {
            k: list(self._reader.evidence(k, exact=lookups, ranges=ranges))
            for k in service.leika_keys
        }
        notes = [
            n
            for n in self._notes_of().get(service.key, ())
            if n.ars is not None and (n.ars in lookups or inside(n.ars))
        ]
        # Only areas inside the scope can be the same area as a Gemeinde here: _expand made
        # every coarser candidate whose Gemeinde some record names part of the scope.
        same = equivalence(_named(agreements, facts, notes), register, eligible=inside)
        deleted = self._cache.delete_at(service.key, exact)
        deleted += sum(self._cache.delete_within(service.key, a) for a in ranges)
        rows = self._rows(service, inside, agreements, facts, notes, same)
        self._cache.write(rows)
        return len(rows), deleted

    def _rows(
        self,
        service: ServiceInfo,
        inside: Any,
        agreements: Sequence[AgreementFact],
        facts: Mapping[str, Sequence[EvidenceFact]],
        notes: Sequence[NoteFact],
        same: Equivalence,
    ) -> list[RowValues]:
        """Place the evidence, index everything by area and compute the rows (in scope)."""
        resolution = self.resolution()
        placed: dict[str, list[Placed]] = defaultdict(list)
        for leika, found in facts.items():
            for p in place(found, resolution.by_leika.get(leika, ()), resolution, same):
                if p.concerns(service.key):
                    placed[p.area].append(p)
        by_area: dict[str, list[AgreementFact]] = defaultdict(list)
        for a in agreements:
            by_area[same(a.ars)].append(a)
        notes_at: dict[str, list[NoteFact]] = defaultdict(list)
        for n in notes:
            notes_at[same(n.ars or "")].append(n)
        areas = set(by_area) | set(placed) | set(notes_at)
        if inside is not None:
            areas = {a for a in areas if inside(a)}
        return compute_rows(
            service,
            areas,
            by_area,
            placed,
            notes_at,
            same.aliases,
            same.readings,
            self.rules.priority,
        )

    def _expand(self, areas: set[str]) -> set[str]:
        """Add the coarser areas whose rows a change at *areas* may move.

        For a changed ARS ``X`` and each coarser ``A`` (Land, Regierungsbezirk, Kreis)
        around it, whether ``A`` is the same area as the Gemeinde ``A`` zero-filled depends
        on what is named inside ``A``.  That can only hold if the Gemeinde is ``X`` itself
        or some record (of any kind: evidence or the register) names it; then ``A`` is
        re-derived.  A changed zero-filled 12-digit key also re-derives the coarser areas
        it may stand for.
        """
        candidates = _candidates(areas)
        named = self._reader.named(g for pairs in candidates.values() for _, g in pairs)
        out = set(areas)
        for area, pairs in candidates.items():
            out.update(a for a, g in pairs if g == area or g in named)
            if len(area) == 12:
                out.update(coarser_readings(area))
        return out

    # -- incremental: from changes or history ------------------------------------------------

    def scopes_for_payloads(self, payloads: Iterable[Mapping[str, Any]]) -> set[Scope]:
        """Return the scopes that records with these payloads (``record_to_dict`` form) touch.

        Use the old and the new payload of a changed record: both places need re-deriving.
        A service record touches its whole service (identity changes are also found by
        :meth:`refresh` and :meth:`derive` themselves).  An area record of the register
        touches, for every service, the areas whose sameness with another form it decides
        (see :meth:`_expand`); call this after the changes were applied.
        """
        resolution = self.resolution()
        scopes: set[Scope] = set()
        register_changes: set[str] = set()
        for data in payloads:
            kind = data.get("kind")
            if kind == "area":
                ars = data.get("ars")
                if isinstance(ars, str):
                    register_changes.add(ars)
            elif kind == "service":
                scopes.add(Scope(service_key=resolution.canonical(data["key"]) or data["key"]))
            elif kind == "agreement":
                ars = (data.get("subscriber") or {}).get("ars")
                key = resolution.canonical(data["service_key"])
                if ars and key:
                    scopes.add(Scope(service_key=key, ars=ars))
            elif kind == "note":
                self._notes = None
                found = _note_place(data)
                key = None if found is None else resolution.canonical(found[0])
                if found is not None and key is not None and found[1] is not None:
                    scopes.add(Scope(service_key=key, ars=found[1]))
            elif kind in _EVIDENCE_KINDS:
                for key in resolution.by_leika.get(data["leika_key"], ()):
                    scopes.add(Scope(service_key=key, ars=data["ars"]))
        if register_changes:
            touched = self._register_touches(register_changes)
            for key in resolution.services:
                scopes.update(Scope(service_key=key, ars=a) for a in touched)
        return scopes

    def _register_touches(self, changes: set[str]) -> set[str]:
        """Return the areas whose rows a change of these register areas may move."""
        gemeinden = {a for a in changes if len(a) == 12}
        touched = self._expand(gemeinden) - gemeinden
        # a coarser area decides where its zero-filled key's evidence goes
        zero = {a: a.ljust(12, "0") for a in changes if len(a) < 12}
        named = self._reader.named(zero.values())
        touched.update(a for a, g in zero.items() if g in named)
        named12 = self._reader.named(gemeinden)
        for g in gemeinden & named12:
            touched.update(coarser_readings(g))
        return touched

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
        for found in self._reader.previous_payloads(wanted):
            payloads.extend(found)
        self.resolution(reload=True)
        return self.scopes_for_payloads(payloads)

    # -- reading rows ------------------------------------------------------------------------

    def rows(
        self, service_key: str | None = None, *, within: str | Ars | None = None
    ) -> Iterator[RolloutRow]:
        """Yield the rows (of one service, and/or inside one area), by service and ARS."""
        key = None if service_key is None else (self._canonical(service_key) or service_key)
        for values in self._cache.rows(key, None if within is None else str(within)):
            yield _to_row(values)

    def row(self, service_key: str, ars: str | Ars) -> RolloutRow | None:
        """Return the row of a service at exactly *ars* (None if the area has no row).

        An alias finds its row: ``row(key, "16055")`` is the row at ``160550000000`` when
        the view treats the two as one area (:attr:`RolloutRow.aliases`).
        """
        key = self._canonical(service_key) or service_key
        text = str(ars)
        values = self._cache.row(key, text)
        if values is None:
            gemeinde = zero_filled_gemeinde(text)
            if gemeinde is not None and gemeinde != text:
                values = self._cache.row(key, gemeinde)
                if values is not None and text not in str(values[8]).split():
                    values = None
        return None if values is None else _to_row(values)

    def stage_rows(
        self, service_key: str, *, within: str | Ars | None = None
    ) -> list[tuple[str, int]]:
        """Return ``(ars, stage rank)`` of a service's rows: the cheap form for coverage.

        :param within: only the rows inside this area and at the areas containing it:
            every row the stage of an area inside *within* can come from.
        """
        return [(a, r) for a, r, _ in self.flag_rows(service_key, within=within)]

    def flag_rows(
        self, service_key: str, *, within: str | Ars | None = None
    ) -> list[tuple[str, int, RowFlag]]:
        """Return ``(ars, stage rank, flags)`` of a service's rows (like :meth:`stage_rows`).

        .. versionadded:: 0.2.0
        """
        key = self._canonical(service_key) or service_key
        return [
            (a, r, _ROW_FLAGS[f])
            for a, r, f in self._cache.stage_rows(key, None if within is None else str(within))
        ]

    def stage_at(self, service_key: str, ars: str | Ars) -> Stage | None:
        """Return the stage of a service in any area (None for an unknown service).

        Areas without their own row take the stage of their nearest containing row area
        (a row also stands for its :attr:`~RolloutRow.aliases`), else ``offered``.
        """
        key = self._canonical(service_key)
        if key is None:
            return None
        chain = prefixes(str(ars))
        gemeinden = {p: zero_filled_gemeinde(p) for p in chain}
        found = self._cache.stages_at(
            key, set(chain) | {g for g in gemeinden.values() if g is not None}
        )
        for prefix in reversed(chain):
            if prefix in found:
                return _STAGE_OF[found[prefix][0]]
            gemeinde = gemeinden[prefix]
            if gemeinde is not None and gemeinde in found:
                stage, aliases = found[gemeinde]
                if prefix in aliases.split():
                    return _STAGE_OF[stage]
        return Stage.OFFERED


def _signatures(services: Iterable[ServiceInfo]) -> dict[str, tuple[str, str, tuple[str, ...]]]:
    return {
        s.key: (s.identity_signature(), s.row_signature(), tuple(s.leika_keys)) for s in services
    }


def _named(
    agreements: Sequence[AgreementFact],
    facts: Mapping[str, Sequence[EvidenceFact]],
    notes: Sequence[NoteFact],
) -> set[str]:
    """Every ARS the service's agreements, evidence (of its LeiKa keys) and notes name."""
    named = {a.ars for a in agreements} | {n.ars for n in notes if n.ars is not None}
    for found in facts.values():
        named.update(f.ars for f in found)
    return named


def _note_place(data: Mapping[str, Any]) -> tuple[str, str | None] | None:
    """``(service id, ARS or None)`` a note payload names, or None."""
    agreement = data.get("agreement_key")
    ref = data.get("service_key") or (agreement.split("@", 1)[0] if agreement else None)
    if not ref:
        return None
    for text in (data.get("subscriber"), agreement):
        if text and "ars:" in text:
            digits = text.rpartition("ars:")[2].split("#", 1)[0]
            if digits.isdigit():
                return ref, digits
    return ref, None


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


def derive(
    store: Store, keys: Iterable[Scope] | None = None, *, rules: IdentityRules | None = None
) -> RolloutView:
    """Derive the rollout view of *store* (all of it, or the *keys* scopes) and return it."""
    view = RolloutView(store, rules)
    view.derive(keys)
    return view
