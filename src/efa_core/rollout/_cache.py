"""The derived view's own tables in the store's database: rows, services, watermark.

``rollout_rows`` holds one row per service × area, ``rollout_services`` each service's
signatures (to tell which services an identity change touches), ``rollout_state`` the
layout version, the history id the rows are current up to and the source priority they
were derived with.  All three are a cache: a full derivation rebuilds them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from efa_core.rollout.stages import RowValues
from efa_core.store import AFTER_DIGITS
from efa_core.store._backend import Backend
from efa_core.store._schema import Dialect

__all__ = ["LAYOUT", "RolloutCache"]

#: The layout of the tables; a cache of another layout is dropped and derived afresh.
LAYOUT = "4"  # 4: route and dashboard evidence carry record_facts in detail

_DDL = (
    "CREATE TABLE IF NOT EXISTS rollout_state (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS rollout_rows ("
    " service_key TEXT NOT NULL, ars TEXT NOT NULL, stage TEXT NOT NULL,"
    " stage_rank INTEGER NOT NULL, agreement_state TEXT, agreement_since TEXT,"
    " flags INTEGER NOT NULL, evidence TEXT NOT NULL, aliases TEXT NOT NULL,"
    " readings TEXT NOT NULL, PRIMARY KEY (service_key, ars))",
    "CREATE TABLE IF NOT EXISTS rollout_services (service_key TEXT PRIMARY KEY,"
    " identity TEXT NOT NULL, rowsig TEXT NOT NULL, leika TEXT NOT NULL)",
)
_SELECT_ROWS = (
    "SELECT service_key, ars, stage, stage_rank, agreement_state, agreement_since, flags,"
    " evidence, aliases, readings FROM rollout_rows"
)


class RolloutCache:
    """Reads and writes the derived view's tables (SQL over its own tables only)."""

    def __init__(self, backend: Backend) -> None:
        self._db = backend

    # -- layout and state ---------------------------------------------------------------

    def ensure(self) -> None:
        """Create the tables; drop a cache of another layout (call inside a transaction).

        On a SQLite store opened read-only the tables are temporary ones, empty at first,
        which shadow the stored ones for this connection: the view is derived afresh and
        nothing is written to the file.
        """
        db = self._db
        if db.read_only and db.dialect is Dialect.SQLITE:
            for ddl in _DDL:
                db.execute(ddl.replace("CREATE TABLE", "CREATE TEMP TABLE", 1))
            db.execute(
                "INSERT OR IGNORE INTO temp.rollout_state (name, value) VALUES ('layout', ?)",
                (LAYOUT,),
            )
            return
        db.execute(_DDL[0])
        row = db.fetchone("SELECT value FROM rollout_state WHERE name = 'layout'")
        if row is None or row[0] != LAYOUT:
            db.execute("DROP TABLE IF EXISTS rollout_rows")
            db.execute("DROP TABLE IF EXISTS rollout_services")
            db.execute("DELETE FROM rollout_state")
            db.execute("INSERT INTO rollout_state (name, value) VALUES ('layout', ?)", (LAYOUT,))
        for ddl in _DDL[1:]:
            db.execute(ddl)

    def state(self, name: str) -> str | None:
        """Return a value of ``rollout_state`` (None: not set)."""
        row = self._db.fetchone("SELECT value FROM rollout_state WHERE name = ?", (name,))
        return None if row is None else str(row[0])

    def set_state(self, name: str, value: str) -> None:
        """Set a value of ``rollout_state``."""
        self._db.execute("DELETE FROM rollout_state WHERE name = ?", (name,))
        self._db.execute("INSERT INTO rollout_state (name, value) VALUES (?, ?)", (name, value))

    def watermark(self) -> int | None:
        """Return the history id the rows are current up to (None: never derived)."""
        value = self.state("history_id")
        return None if value is None else int(value)

    def set_watermark(self, value: int) -> None:
        """Record that the rows are current up to history id *value*."""
        self.set_state("history_id", str(value))

    # -- service signatures -------------------------------------------------------------

    def signatures(self) -> dict[str, tuple[str, str, tuple[str, ...]]]:
        """Return ``key -> (identity signature, row signature, LeiKa keys)`` as last derived."""
        return {
            str(k): (str(i), str(r), tuple(str(leika).split()))
            for k, i, r, leika in self._db.fetchall(
                "SELECT service_key, identity, rowsig, leika FROM rollout_services"
            )
        }

    def put_signatures(self, values: Mapping[str, tuple[str, str, Sequence[str]]]) -> None:
        """Store the signatures of these services (replacing theirs)."""
        rows = [(k, i, r, " ".join(leika)) for k, (i, r, leika) in sorted(values.items())]
        self._db.executemany(
            "DELETE FROM rollout_services WHERE service_key = ?", [(r[0],) for r in rows]
        )
        self._db.executemany(
            "INSERT INTO rollout_services (service_key, identity, rowsig, leika)"
            " VALUES (?, ?, ?, ?)",
            rows,
        )

    def drop_signatures(self, keys: Iterable[str]) -> None:
        """Forget the signatures of services that no longer exist."""
        self._db.executemany(
            "DELETE FROM rollout_services WHERE service_key = ?", [(k,) for k in keys]
        )

    # -- rows ---------------------------------------------------------------------------

    def clear(self) -> int:
        """Delete every row and signature; return the number of rows deleted."""
        row = self._db.fetchone("SELECT COUNT(*) FROM rollout_rows")
        self._db.execute("DELETE FROM rollout_rows")
        self._db.execute("DELETE FROM rollout_services")
        return int(row[0]) if row else 0

    def delete_service(self, service_key: str) -> int:
        """Delete every row of a service; return how many."""
        cur = self._db.execute("DELETE FROM rollout_rows WHERE service_key = ?", (service_key,))
        return max(int(cur.rowcount), 0)

    def delete_at(self, service_key: str, areas: Iterable[str]) -> int:
        """Delete a service's rows at exactly these areas; return how many."""
        deleted = 0
        for area in areas:
            cur = self._db.execute(
                "DELETE FROM rollout_rows WHERE service_key = ? AND ars = ?", (service_key, area)
            )
            deleted += max(cur.rowcount, 0)
        return deleted

    def delete_within(self, service_key: str, area: str) -> int:
        """Delete a service's rows at *area* and inside it; return how many."""
        cur = self._db.execute(
            "DELETE FROM rollout_rows WHERE service_key = ? AND ars >= ? AND ars < ?",
            (service_key, area, area + AFTER_DIGITS),
        )
        return max(int(cur.rowcount), 0)

    def write(self, rows: Sequence[RowValues]) -> None:
        """Insert rows (their keys must be free)."""
        if rows:
            self._db.executemany(
                "INSERT INTO rollout_rows (service_key, ars, stage, stage_rank,"
                " agreement_state, agreement_since, flags, evidence, aliases, readings)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )

    def rows(self, service_key: str | None, within: str | None) -> Iterator[tuple[Any, ...]]:
        """Yield stored rows (of one service and/or inside one area) by service and ARS."""
        db = self._db
        if service_key is None and within is None:
            return db.stream(_SELECT_ROWS + " ORDER BY service_key, ars")
        if within is None:
            return db.stream(_SELECT_ROWS + " WHERE service_key = ? ORDER BY ars", (service_key,))
        bounds = (within, within + AFTER_DIGITS)
        if service_key is None:
            return db.stream(
                _SELECT_ROWS + " WHERE ars >= ? AND ars < ? ORDER BY service_key, ars", bounds
            )
        return db.stream(
            _SELECT_ROWS + " WHERE service_key = ? AND ars >= ? AND ars < ? ORDER BY ars",
            (service_key, *bounds),
        )

    def row(self, service_key: str, ars: str) -> tuple[Any, ...] | None:
        """Return the stored row at exactly *ars*, or None."""
        return self._db.fetchone(
            _SELECT_ROWS + " WHERE service_key = ? AND ars = ?", (service_key, ars)
        )

    def stage_rows(self, service_key: str, within: str | None) -> list[tuple[str, int, int]]:
        """Return ``(ars, stage rank, flags)`` of a service's rows (inside *within*).

        With *within*, also the rows at the areas containing it.
        """
        sql = "SELECT ars, stage_rank, flags FROM rollout_rows WHERE service_key = ?"
        db = self._db
        if within is None:
            found = db.fetchall(sql, (service_key,))
        else:
            found = db.fetchall(
                sql + " AND ars >= ? AND ars < ?", (service_key, within, within + AFTER_DIGITS)
            )
            for n in (2, 3, 5, 9):
                if n < len(within):
                    found += db.fetchall(sql + " AND ars = ?", (service_key, within[:n]))
        return [(str(a), int(r), int(f)) for a, r, f in found]

    def stages_at(self, service_key: str, areas: Iterable[str]) -> dict[str, tuple[str, str]]:
        """Return ``ars -> (stage, aliases)`` of a service's rows at exactly these areas."""
        out: dict[str, tuple[str, str]] = {}
        for area in sorted(set(areas)):
            row = self._db.fetchone(
                "SELECT stage, aliases FROM rollout_rows WHERE service_key = ? AND ars = ?",
                (service_key, area),
            )
            if row is not None:
                out[area] = (str(row[0]), str(row[1]))
        return out
