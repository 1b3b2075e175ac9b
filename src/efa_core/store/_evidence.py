"""The store's read API for the derived views: evidence, agreements, services and the register.

:class:`EvidenceReader` answers the few questions the rollout view (:mod:`efa_core.rollout`)
asks of the live mirror, each as one indexed query that returns compact named tuples
instead of records.  The queries rely on these indexes of ``records``: the unique
``(source, kind, natural_key)`` one (agreements by service key, services, notes),
``(leika_key, ars)`` (evidence of a LeiKa key, optionally in areas) and ``(ars)``.

.. versionadded:: 0.2.0
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, Final, NamedTuple, TypeVar

import orjson

from efa_core.store._backend import Backend
from efa_core.store.types import HistoryEntry, Operation

__all__ = [
    "AFTER_DIGITS",
    "AgreementFact",
    "AreaRow",
    "EvidenceFact",
    "EvidenceReader",
    "NoteFact",
    "ServiceRow",
    "record_facts",
]

#: Names every source, so that a query by kind alone finds its rows through the unique
#: ``(source, kind, natural_key)`` index, one source at a time.  Without it SQLite scans
#: every record (or walks the partial live-rows index ``(source, id, …) WHERE NOT
#: deleted``, which a ``deleted = FALSE`` term lets it choose); the rollout benchmark's
#: store has about 10^5 records for a few hundred services and areas.
_EVERY_SOURCE: Final = "source IN (SELECT source FROM sources)"

_T = TypeVar("_T")

#: Upper bound of a subtree range on digit strings: ``":"`` sorts right after ``"9"``.
AFTER_DIGITS = ":"
#: Values per ``IN (...)`` list (SQLite allows 32766 parameters; PostgreSQL many more).
_IN_LIMIT = 400
#: SELECTs per ``UNION ALL`` statement (SQLite allows 500).
_UNION_LIMIT = 200


class EvidenceFact(NamedTuple):
    """A responsibility, route or availability record, as the rollout view reads it."""

    kind: str
    source: str
    key: str
    leika: str
    ars: str
    #: When the source says it changed (``modified_at``), else when it was fetched (ISO).
    at: str | None
    #: What it names: an Onlinedienst or OE id (responsibility), a URL (availability).
    target: str | None
    #: Responsibility: ``"onlinedienst"`` or ``"organisationseinheit"``; else None.
    target_kind: str | None
    #: Availability: the dashboard's online status (None: not given, or another kind).
    online: bool | None
    #: What else people need from a route or dashboard row (:func:`record_facts`).
    facts: str | None = None


class AgreementFact(NamedTuple):
    """An agreement with a subscriber ARS, as the rollout view reads it."""

    source: str
    key: str
    ars: str
    #: The agreement's ``service_key`` as its source wrote it (an id of the offer).
    service_ref: str
    state: str
    #: ``state_since`` (ISO), or None: the source gives no date.
    since: str | None
    #: ``state_since``, else the source's ``modified_at`` (ISO); never a sync time.
    at: str | None


class NoteFact(NamedTuple):
    """A note (the user's own knowledge) that names a service."""

    source: str
    key: str
    text: str
    #: The service id the note names (``service_key``, else from ``agreement_key``).
    service_ref: str
    #: The area it is about (the subscriber's or the agreement's ARS), if one is named.
    ars: str | None
    #: ``on``, else ``modified_at`` (ISO), else None.
    at: str | None


class ServiceRow(NamedTuple):
    """One live service record: its source, key, content and dates."""

    source: str
    key: str
    payload: Mapping[str, Any]
    #: When the source says it changed (None: not said).
    modified_at: datetime | None
    #: When it was last fetched.
    fetched_at: datetime | None = None


class AreaRow(NamedTuple):
    """One area record (live or deleted) of any source."""

    ars: str
    payload: Mapping[str, Any] | None
    deleted: bool
    last_seen: datetime


def record_facts(kind: str, payload: Mapping[str, Any] | None) -> str | None:
    """Say in one line what a route or dashboard row tells people beyond its key.

    A route (FIT-Connect): when its addressing data was signed (``iat``), the submission
    host, the destination's privacy-policy, imprint and contact-form URLs and its contact
    persons.  An availability (OZG-Dashboard): the OZG-Leistung's and the area's names.
    ``None`` for other kinds and when the record says none of it.

    .. versionadded:: 0.2.0
    """
    if not payload:
        return None
    parts: list[str] = []
    if kind == "route":
        signed = payload.get("signed_at")
        if signed:
            parts.append(f"signed {str(signed)[:10]}")
        if payload.get("submission_host"):
            parts.append(f"submission host {payload['submission_host']}")
        for field, label in (
            ("privacy_policy_url", "privacy"),
            ("imprint_url", "imprint"),
            ("contact_form_url", "contact form"),
        ):
            if payload.get(field):
                parts.append(f"{label} {payload[field]}")
        contacts = []
        for contact in payload.get("contacts") or ():
            if isinstance(contact, Mapping):
                named = [contact.get(k) for k in ("name", "email", "phone") if contact.get(k)]
                if named:
                    contacts.append(" ".join(str(n) for n in named))
        if contacts:
            parts.append("contact " + ", ".join(contacts))
    elif kind == "availability":
        if payload.get("ozg_name"):
            parts.append(f"OZG {payload['ozg_name']}")
        if payload.get("area_name"):
            parts.append(f"area {payload['area_name']}")
    return "; ".join(parts) or None


def _chunks(values: Sequence[_T], size: int = _IN_LIMIT) -> Iterator[Sequence[_T]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _marks(n: int) -> str:
    return ", ".join("?" * n)


def _json(value: Any) -> Any:
    return orjson.loads(value) if isinstance(value, (str, bytes)) else value


def _ars_of_subscriber_key(text: str | None) -> str | None:
    """``"ars:16055"`` and ``"svc@ars:16055#IB-1"`` give ``"16055"``; anything else None."""
    if not text:
        return None
    _, sep, rest = text.rpartition("ars:")
    if not sep:
        return None
    digits = rest.split("#", 1)[0]
    return digits if digits.isdigit() and len(digits) in (2, 3, 5, 9, 12) else None


class EvidenceReader:
    """Reads the live mirror for the derived views; see the module docs for the indexes.

    Every method reads live (not deleted) records of every source unless it says
    otherwise.  Results that can be large (evidence of a LeiKa key across Germany) are
    bounded by one LeiKa key or one service; nothing here reads a whole kind at once
    except services, notes and the register, which are small.
    """

    def __init__(self, backend: Backend) -> None:
        self._db = backend

    # -- services, notes, the register ------------------------------------------------------

    def services(self) -> Iterator[ServiceRow]:
        """Yield every live service record, by source and insertion order."""
        db = self._db
        rows = db.fetchall(
            f"SELECT source, id, natural_key, payload{db.json_text}, modified_at, fetched_at"  # noqa: S608
            f" FROM records WHERE {_EVERY_SOURCE} AND kind = 'service' AND deleted = FALSE"
        )
        # sorted here: an ORDER BY (source, id) makes SQLite walk the live-rows index
        # (source, id, …) through every record of every source instead
        for source, _, key, payload, modified, fetched in sorted(rows, key=lambda r: r[:2]):
            yield ServiceRow(
                source, key, _json(payload), db.from_ts_opt(modified), db.from_ts_opt(fetched)
            )

    def records_of_kind(self, kind: str) -> Iterator[tuple[str, str, Any]]:
        """Yield ``(source, natural_key, payload)`` of every live record of *kind*.

        By source and insertion order, found through the ``(source, kind, natural_key)``
        index: for the kinds with few records among many (plans, waves, checklist items),
        where :meth:`efa_core.store.Store.records` would walk every record in id order.
        """
        db = self._db
        rows = db.fetchall(
            f"SELECT source, id, natural_key, payload{db.json_text} FROM records"  # noqa: S608
            f" WHERE {_EVERY_SOURCE} AND kind = ? AND deleted = FALSE",
            (kind,),
        )
        for source, _, key, payload in sorted(rows, key=lambda r: r[:2]):
            yield source, key, _json(payload)

    def notes(self) -> list[NoteFact]:
        """Return every live note that names a service (by ``service_key`` or agreement)."""
        db = self._db
        out: list[NoteFact] = []
        for source, key, payload in db.fetchall(
            f"SELECT source, natural_key, payload{db.json_text} FROM records"  # noqa: S608
            " WHERE source IN (SELECT source FROM sources) AND kind = 'note'"
            " AND deleted = FALSE ORDER BY source, natural_key"
        ):
            data = _json(payload)
            agreement = data.get("agreement_key")
            ref = data.get("service_key") or (agreement.split("@", 1)[0] if agreement else None)
            if not ref:
                continue
            ars = _ars_of_subscriber_key(data.get("subscriber")) or _ars_of_subscriber_key(
                agreement
            )
            at = data.get("on") or data.get("modified_at")
            out.append(NoteFact(source, key, data["text"], ref, ars, _iso_text(at)))
        return out

    def register(self) -> list[str]:
        """Return the ARS of every live area record (the register), sorted, distinct."""
        return sorted(
            {
                str(r[0])
                for r in self._db.fetchall(
                    f"SELECT ars FROM records WHERE {_EVERY_SOURCE} AND kind = 'area'"  # noqa: S608
                    " AND deleted = FALSE AND ars IS NOT NULL"
                )
            }
        )

    def register_gemeinden(self, area: str, *, limit: int) -> list[str]:
        """Return up to *limit* distinct register Gemeinden (12-digit ARS) inside *area*, sorted."""
        return [
            str(r[0])
            for r in self._db.fetchall(
                "SELECT DISTINCT ars FROM records WHERE kind = 'area' AND deleted = FALSE"
                " AND LENGTH(ars) = 12 AND ars >= ? AND ars < ? ORDER BY ars LIMIT ?",
                (area, area + AFTER_DIGITS, limit),
            )
        ]

    def registered(self, values: Iterable[str]) -> set[str]:
        """Return those of *values* that are the ARS of a live area record."""
        return self._present(values, " AND kind = 'area'")

    def has_register(self) -> bool:
        """Whether any live area record exists."""
        return (
            self._db.fetchone(
                f"SELECT 1 FROM records WHERE {_EVERY_SOURCE} AND kind = 'area'"  # noqa: S608
                " AND deleted = FALSE LIMIT 1"
            )
            is not None
        )

    def named(self, values: Iterable[str]) -> set[str]:
        """Return those of *values* that some live record of any kind and source names."""
        return self._present(values, "")

    def _present(self, values: Iterable[str], where: str) -> set[str]:
        found: set[str] = set()
        for chunk in _chunks(sorted(set(values))):
            found.update(
                str(r[0])
                for r in self._db.fetchall(
                    "SELECT DISTINCT ars FROM records WHERE deleted = FALSE"  # noqa: S608
                    f"{where} AND ars IN ({_marks(len(chunk))})",
                    chunk,
                )
            )
        return found

    def areas(
        self, *, within: str | None = None, lengths: Iterable[int] | None = None
    ) -> Iterator[AreaRow]:
        """Yield the area records (live and deleted) of every source, by id.

        :param within: only areas inside this ARS.
        :param lengths: only ARS of these lengths.
        """
        db = self._db
        where = ""
        params: list[object] = []
        if within:
            where += " AND ars >= ? AND ars < ?"
            params += [within, within + AFTER_DIGITS]
        if lengths is not None:
            wanted = sorted(set(lengths))
            where += f" AND LENGTH(ars) IN ({_marks(len(wanted))})"
            params += wanted
        for ars, payload, deleted, seen in db.fetchall(
            f"SELECT ars, payload{db.json_text}, deleted, last_seen FROM records"  # noqa: S608
            f" WHERE {_EVERY_SOURCE} AND kind = 'area' AND ars IS NOT NULL{where} ORDER BY id",
            params,
        ):
            yield AreaRow(
                str(ars), None if deleted else _json(payload), bool(deleted), db.from_ts(seen)
            )

    # -- evidence -----------------------------------------------------------------------

    def evidence(
        self, leika: str, *, exact: Sequence[str] | None = None, ranges: Sequence[str] = ()
    ) -> Iterator[EvidenceFact]:
        """Yield the responsibilities, routes and availabilities of one LeiKa key.

        :param exact: only at these ARS (None: everywhere; then *ranges* is ignored).
        :param ranges: also inside these ARS (their subtrees).
        """
        if exact is None:
            yield from self._evidence(leika, "", ())
            return
        for chunk in _chunks(sorted(set(exact))):
            yield from self._evidence(leika, f" AND ars IN ({_marks(len(chunk))})", chunk)
        for area in ranges:
            yield from self._evidence(
                leika, " AND ars >= ? AND ars < ?", (area, area + AFTER_DIGITS)
            )

    def _evidence(self, leika: str, where: str, params: Sequence[Any]) -> Iterator[EvidenceFact]:
        db = self._db
        sql = (
            f"SELECT kind, source, natural_key, ars, payload{db.json_text},"  # noqa: S608
            " modified_at, fetched_at FROM records WHERE leika_key = ? AND deleted = FALSE"
            " AND kind IN ('responsibility', 'route', 'availability')" + where
        )
        for kind, source, key, ars, payload, modified, fetched in db.fetchall(
            sql, (leika, *params)
        ):
            at = db.from_ts(modified if modified is not None else fetched).isoformat()
            data = _json(payload)
            if kind == "route":
                facts = record_facts(kind, data)
                yield EvidenceFact(kind, source, key, leika, ars, at, None, None, None, facts)
            elif kind == "responsibility":
                yield EvidenceFact(
                    kind, source, key, leika, ars, at, data["target_id"], data["target_kind"], None
                )
            else:
                yield EvidenceFact(
                    kind,
                    source,
                    key,
                    leika,
                    ars,
                    at,
                    data.get("url"),
                    None,
                    data.get("online"),
                    record_facts(kind, data),
                )

    # -- agreements ---------------------------------------------------------------------

    def agreement_sources(self) -> list[str]:
        """Return the sources that hold agreement records (live or deleted), sorted."""
        return [
            str(source)
            for (source,) in self._db.fetchall("SELECT source FROM sources ORDER BY source")
            if self._db.fetchone(
                "SELECT 1 FROM records WHERE source = ? AND kind = 'agreement' LIMIT 1",
                (source,),
            )
        ]

    def agreements(
        self,
        refs: Iterable[str],
        sources: Sequence[str],
        *,
        exact: Sequence[str] | None = None,
        ranges: Sequence[str] = (),
    ) -> list[AgreementFact]:
        """Return the agreements whose service key is one of *refs*: all, or in some areas.

        :param refs: the ids the offer is known by (an agreement's ``service_key``).
        :param sources: the sources to look in (:meth:`agreement_sources`).
        :param exact: only subscriber ARS exactly these (None: every agreement of *refs*).
        :param ranges: also subscriber ARS inside these areas.

        Agreements are found by natural key through the unique ``(source, kind,
        natural_key)`` index, so other services' agreements in the same areas are never
        read: an agreement's key is ``"<service_key>@<subscriber key>"``
        (:attr:`efa_core.model.Agreement.natural_key`), an area subscriber's key
        ``"ars:<ARS>"``, optionally followed by ``"#<reference>"``.  Keys of other
        subscriber forms (organisations, which may name an area in their ``ars``) are read
        for the service and filtered by ARS.
        """
        bounds: list[tuple[str, str]] = []
        for ref in sorted(set(refs)):
            prefix = f"{ref}@"
            end = ref + chr(ord("@") + 1)  # every key starting with prefix sorts below
            if exact is None:
                bounds.append((prefix, end))
                continue
            sub = f"{prefix}ars:"
            # "<sub><ARS>" and "<sub><ARS>#<reference>" ("#" sorts below "$" and the digits)
            bounds += [(f"{sub}{a}", f"{sub}{a}$") for a in exact]
            bounds += [(f"{sub}{a}", f"{sub}{a}{AFTER_DIGITS}") for a in ranges]
            # everything else of the service: below and above the "ars:" keys
            bounds += [(prefix, sub), (f"{prefix}ars;", end)]
        if not bounds:
            return []
        db = self._db
        one = (
            f"SELECT source, natural_key, ars, payload{db.json_text}, modified_at"  # noqa: S608
            " FROM records WHERE source = ? AND kind = 'agreement'"
            " AND natural_key >= ? AND natural_key < ? AND deleted = FALSE AND ars IS NOT NULL"
        )
        parts = [(source, lo, hi) for source in sources for lo, hi in bounds]
        wanted_refs = set(refs)
        wanted = None if exact is None else set(exact)
        found: dict[tuple[str, str], AgreementFact] = {}
        for chunk in _chunks(parts, _UNION_LIMIT):
            sql = " UNION ALL ".join([one] * len(chunk))
            params = [value for part in chunk for value in part]
            for source, key, ars, payload, modified in db.fetchall(sql, params):
                if (source, key) in found:
                    continue
                data = _json(payload)
                if data["service_key"] not in wanted_refs:
                    continue  # a key with "@" in it sharing the prefix
                if (
                    wanted is not None
                    and ars not in wanted
                    and not any(ars.startswith(r) for r in ranges)
                ):
                    continue
                since = _iso_text(data.get("state_since"))
                at = since or (None if modified is None else db.from_ts(modified).isoformat())
                found[(source, key)] = AgreementFact(
                    source, key, ars, data["service_key"], data["state"], since, at
                )
        return sorted(found.values())

    # -- history ------------------------------------------------------------------------

    def max_history_id(self) -> int:
        """Return the id of the newest history entry (0: none)."""
        row = self._db.fetchone("SELECT MAX(id) FROM history")
        return int(row[0]) if row and row[0] is not None else 0

    def previous_payloads(
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
            for source, kind, key, entry_id in db.fetchall(
                "SELECT source, kind, natural_key, id FROM history"  # noqa: S608
                f" WHERE op = 'upsert' AND natural_key IN ({_marks(len(chunk))})",
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
            for entry_id, payload in db.fetchall(
                f"SELECT id, payload{db.json_text} FROM history"  # noqa: S608
                f" WHERE id IN ({_marks(len(id_chunk))})",
                id_chunk,
            ):
                payloads[int(entry_id)] = _json(payload)
        return [[payloads[i] for i in p if i in payloads] for p in picks]

    def history_in_area(
        self,
        area: str,
        *,
        source: str | None = None,
        kind: str | None = None,
        limit: int | None = None,
    ) -> Iterator[HistoryEntry]:
        """Yield the history of the records (live or deleted) inside *area*, oldest first.

        A record is inside when its ARS column starts with *area* (an agreement's is its
        subscriber's ARS), so ``"16"`` is every record of Thüringen's areas.
        """
        db = self._db
        where = ""
        params: list[Any] = [area, area + AFTER_DIGITS]
        if source is not None:
            where += " AND r.source = ?"
            params.append(source)
        if kind is not None:
            where += " AND r.kind = ?"
            params.append(kind)
        sql = (
            "SELECT h.id, h.source, h.kind, h.natural_key, h.op, h.old_hash, h.new_hash,"  # noqa: S608
            f" h.payload{db.json_text}, h.run_id, h.changed_at FROM history h JOIN records r"
            " ON r.source = h.source AND r.kind = h.kind AND r.natural_key = h.natural_key"
            f" WHERE r.ars >= ? AND r.ars < ?{where} ORDER BY h.id"
        )
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        for row in db.stream(sql, params):
            yield HistoryEntry(
                id=int(row[0]),
                source=row[1],
                kind=row[2],
                natural_key=row[3],
                op=Operation(row[4]),
                old_hash=row[5],
                new_hash=row[6],
                payload=None if row[7] is None else _json(row[7]),
                run_id=row[8],
                changed_at=db.from_ts(row[9]),
            )


def _iso_text(value: Any) -> str | None:
    """Normalise an ISO datetime text from a payload (None stays None)."""
    if not value:
        return None
    return datetime.fromisoformat(str(value)).isoformat()
