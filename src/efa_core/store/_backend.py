"""The thin dialect layer under :class:`efa_core.store.Store`: connections and hot paths.

Everything dialect-specific lives here: connecting, transactions, parameter style, how
timestamps and JSON travel, the per-batch bulk operations (lookup of existing keys, mirror upsert,
history insert, snapshot seen-keys) and the per-source sync lock.  SQLite uses the standard
library's :mod:`sqlite3` with ``executemany``; PostgreSQL uses psycopg 3 and sends a whole
batch by ``COPY`` (into the history, or into a temporary staging table that one
``INSERT … SELECT … ON CONFLICT`` then merges).
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sqlite3
import sys
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import unquote, unquote_plus, urlsplit

from efa_core.errors import ConfigError, EfaError
from efa_core.store._schema import Dialect

__all__ = [
    "Backend",
    "MirrorRow",
    "PostgresBackend",
    "SqliteBackend",
    "StoreLocked",
    "connect",
    "mask_text",
    "mask_url",
    "url_credentials",
]

log = logging.getLogger("efa_core.store")

#: Parameters per ``IN (...)`` chunk in SQLite (its limit is 32766 since 3.32, 999 before).
_SQLITE_CHUNK = 500

#: One mirror write: kind, natural_key, key_hash, leika_key, ars, payload JSON text,
#: content_hash, deleted, modified_at (or None), source fingerprint (or None).
MirrorRow = tuple[
    str, str, int, "str | None", "str | None", str, str, bool, "datetime | None", "bytes | None"
]

#: One existing row found by a lookup: kind, natural_key, content_hash, deleted, fingerprint.
FoundRow = tuple[str, str, str, Any, "bytes | None"]

#: One history row: kind, natural_key, op, old_hash, new_hash, payload JSON text or None.
HistoryRow = tuple[str, str, str, "str | None", "str | None", "str | None"]


class StoreLocked(EfaError):
    """Another process holds the sync lock of a source (or of the SQLite database)."""


#: Query parameters of a store URL whose values are credentials (libpq's ``password`` and
#: ``sslpassword``, and anything named like a secret).
_SECRET_PARAMETER = re.compile(r"pass|secret|token|key$|credential", re.IGNORECASE)

#: ``name=value`` in a query string.
_PARAMETER = re.compile(r"(?P<name>[^&;=]*)=(?P<value>[^&;]*)")


def url_credentials(url: str) -> list[str]:
    """Return the credential values written in *url*: its password and secret parameters.

    Both the raw (percent-encoded) and the decoded form of each, longest first, so that an
    error message quoting either can be masked (:func:`mask_text`).
    """
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:  # pragma: no cover - malformed URLs have no credentials to find
        return []
    found: set[str] = set()
    if password:
        found.add(password)
        found.add(unquote(password))
    for match in _PARAMETER.finditer(parts.query):
        if _SECRET_PARAMETER.search(unquote_plus(match["name"])) and match["value"]:
            found.add(match["value"])
            found.add(unquote_plus(match["value"]))
    return sorted(found, key=len, reverse=True)


def mask_text(text: str, url: str) -> str:
    """Return *text* with every credential of *url* (:func:`url_credentials`) masked."""
    for value in url_credentials(url):
        text = text.replace(value, "***")
    return text


def mask_url(url: str) -> str:
    """Return *url* with every credential replaced by ``***`` (for messages and reprs).

    Masks the password of the user part (``postgresql://user:***@host/db``) and the values
    of query parameters that carry one (``?password=***``, ``sslpassword``, ``...token``,
    ``...secret``, ``...key``), whatever their case.
    """
    if "://" not in url:
        return url  # a file path
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:  # pragma: no cover - malformed URLs are shown as they are
        return url
    netloc, query = parts.netloc, parts.query
    if password is not None:
        user, host = netloc.rsplit("@", 1)
        netloc = f"{user.split(':', 1)[0]}:***@{host}"

    def _mask(match: re.Match[str]) -> str:
        if _SECRET_PARAMETER.search(unquote_plus(match["name"])):
            return f"{match['name']}=***"
        return match[0]

    query = _PARAMETER.sub(_mask, query)
    if (netloc, query) == (parts.netloc, parts.query):
        return url
    # Rebuilt by hand: urlunsplit would turn sqlite:///x.db into sqlite:/x.db.
    out = f"{parts.scheme}://{netloc}{parts.path}"
    if query:
        out += f"?{query}"
    if parts.fragment:
        out += f"#{parts.fragment}"
    return out


def utc(value: datetime) -> datetime:
    """Return *value* in UTC; naive datetimes are rejected (the store is tz-aware only)."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value.isoformat()} given; pass a timezone-aware one")
    return value.astimezone(timezone.utc)


def iso_utc(value: datetime) -> str:
    """Return *value* as UTC ISO-8601 text with microseconds (how SQLite keeps timestamps).

    The same text as ``utc(value).isoformat(timespec="microseconds")``, without converting
    a value that is in UTC already (the usual case, once per row on the hot path).
    """
    if value.tzinfo is timezone.utc:
        return value.isoformat(timespec="microseconds")
    return utc(value).isoformat(timespec="microseconds")


class Backend(ABC):
    """A connection to one database plus the dialect's SQL for the store's operations.

    Statements are written with ``?`` placeholders; the PostgreSQL backend rewrites them.
    A backend is used from one thread at a time.
    """

    dialect: ClassVar[Dialect]

    #: SQL expression turning a JSON column into text
    json_text: ClassVar[str]

    def __init__(self, url: str, *, read_only: bool = False) -> None:
        self.url = url
        #: Opened for reading only (:func:`efa_core.store.open_store` with ``read_only``):
        #: a SQLite file is opened read-only; nothing is created or migrated.
        self.read_only = read_only

    # -- plumbing --------------------------------------------------------------------------

    @abstractmethod
    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """Run one statement and return the DB-API cursor."""

    @abstractmethod
    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Run one statement for every parameter row."""

    def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run a query and return all rows."""
        return list(self.execute(sql, params).fetchall())

    def fetchone(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        """Run a query and return its first row (or ``None``)."""
        row = self.execute(sql, params).fetchone()
        return None if row is None else tuple(row)

    @abstractmethod
    def stream(self, sql: str, params: Sequence[Any] = (), size: int = 2000) -> Iterator[Any]:
        """Run a query and yield its rows without holding them all in memory."""

    @abstractmethod
    def begin(self) -> None:
        """Start a write transaction."""

    @abstractmethod
    def commit(self) -> None:
        """Commit the current transaction."""

    @abstractmethod
    def rollback(self) -> None:
        """Roll the current transaction back."""

    @property
    @abstractmethod
    def in_transaction(self) -> bool:
        """Whether a transaction is open."""

    @abstractmethod
    def close(self) -> None:
        """Close the connection (and release the locks it holds)."""

    @abstractmethod
    def table_exists(self, name: str) -> bool:
        """Whether a table named *name* exists."""

    @abstractmethod
    def lock_schema(self) -> None:
        """Inside a transaction: keep other processes from migrating at the same time."""

    @abstractmethod
    def ts(self, value: datetime) -> Any:
        """Convert an aware datetime to the dialect's parameter value."""

    @abstractmethod
    def from_ts(self, value: Any) -> datetime:
        """Convert a stored timestamp back to an aware UTC datetime."""

    def from_ts_opt(self, value: Any) -> datetime | None:
        """Like :meth:`from_ts`, passing ``None`` through."""
        return None if value is None else self.from_ts(value)

    @abstractmethod
    def try_lock_source(self, source: str) -> bool:
        """Try to take the sync lock of *source*; return whether it was taken."""

    @abstractmethod
    def unlock_source(self, source: str) -> None:
        """Release the sync lock of *source*."""

    # -- hot paths -------------------------------------------------------------------------

    @abstractmethod
    def lookup_keys(self, source: str, keys: Sequence[tuple[str, str, int]]) -> list[FoundRow]:
        """Return ``(kind, natural_key, content_hash, deleted, fingerprint)`` of these keys.

        *keys* are distinct ``(kind, natural_key, key_hash)``; the result may also contain
        rows of other keys with the same hash (the caller matches by key).
        """

    @abstractmethod
    def upsert_mirror(
        self, source: str, run_id: str, now: datetime, rows: Sequence[MirrorRow]
    ) -> None:
        """Insert or update mirror rows; ``first_seen`` is kept on update."""

    @abstractmethod
    def tombstone(
        self, source: str, run_id: str, now: datetime, keys: Sequence[tuple[str, str]]
    ) -> None:
        """Mark the given ``(kind, natural_key)`` rows deleted (payload and hash are kept)."""

    @abstractmethod
    def insert_history(
        self, source: str, run_id: str, now: datetime, rows: Sequence[HistoryRow]
    ) -> None:
        """Append history rows, in order."""

    @abstractmethod
    def tombstone_ids(
        self, run_id: str, now: datetime, ids: Sequence[int], previous_snapshot: Any
    ) -> None:
        """Tombstone the live rows with these ids (sorted), each with a history row.

        A row's ``last_seen`` becomes *previous_snapshot* (the completion time of the
        source's previous snapshot, which contained it) where that is later.
        """

    @abstractmethod
    def set_fingerprints(self, source: str, rows: Sequence[tuple[str, str, bytes | None]]) -> None:
        """Set the fingerprint of existing ``(kind, natural_key)`` rows (content unchanged)."""

    @abstractmethod
    def fingerprint_rows(
        self, source: str, fingerprints: Sequence[bytes]
    ) -> list[tuple[bytes, str, int]]:
        """Return ``(fingerprint, kind, key_hash)`` of the live rows carrying *fingerprints*."""


def connect(url: str, *, busy_timeout: float = 30.0, read_only: bool = False) -> Backend:
    """Open a backend for *url* (``sqlite:///…``, ``postgresql://…`` or a file path).

    :param read_only: open an existing database for reading only: a SQLite file is opened
        read-only (also on a read-only mount) and never created.
    """
    scheme = url.split(":", 1)[0].lower() if "://" in url else ""
    if scheme in {"postgresql", "postgres", "postgresql+psycopg"}:
        return PostgresBackend(url, read_only=read_only)
    if scheme in {"", "sqlite"}:
        return SqliteBackend(url, busy_timeout=busy_timeout, read_only=read_only)
    raise ConfigError(
        f"store URL {mask_url(url)!r}: unknown scheme {scheme!r}; "
        "use sqlite:///path/efa.db or postgresql://user@host/dbname"
    )


def sqlite_path(url: str) -> str:
    """Return the file path (or ``:memory:``) of a SQLite URL or plain path.

    ``sqlite:///efa.db`` is relative to the working directory, ``sqlite:////var/efa.db``
    absolute (SQLAlchemy's convention); ``sqlite://`` and ``sqlite:///:memory:`` are an
    in-memory database.  A URL without scheme is taken as a file path.
    """
    if "://" not in url:
        return str(Path(url).expanduser())
    rest = url.split("://", 1)[1]
    if rest in {"", "/", "/:memory:"}:
        return ":memory:"
    if not rest.startswith("/"):
        raise ConfigError(
            f"store URL {url!r}: a SQLite URL has three slashes before a relative path "
            "(sqlite:///efa.db) and four before an absolute one (sqlite:////var/lib/efa.db)"
        )
    rest = rest[1:].split("?", 1)[0]
    return str(Path(rest).expanduser())


class _FileLock:
    """An exclusive, non-blocking advisory lock on a file, released when the process dies."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._fd: int | None = None

    def try_acquire(self) -> bool:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
                import msvcrt

                msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            else:
                import fcntl

                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        if sys.platform == "win32":  # pragma: no cover
            import msvcrt

            with contextlib.suppress(OSError):
                msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
        os.close(fd)


class SqliteBackend(Backend):
    """SQLite through :mod:`sqlite3`: WAL journal, foreign keys on, a busy timeout.

    Sync locks: SQLite has one writer at a time anyway, so the sync lock of every source is
    one lock file beside the database (``efa.db.sync-lock``); two ``efa sync`` processes on
    the same file therefore run one after the other.
    """

    dialect = Dialect.SQLITE
    json_text = ""

    def __init__(self, url: str, *, busy_timeout: float = 30.0, read_only: bool = False) -> None:
        super().__init__(url, read_only=read_only and sqlite_path(url) != ":memory:")
        self.path = sqlite_path(url)
        if self.read_only:
            self.conn = self._open_read_only(busy_timeout)
        else:
            if self.path != ":memory:":
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            self.conn = sqlite3.connect(
                self.path, timeout=busy_timeout, isolation_level=None, check_same_thread=False
            )
        self.conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
        if not self.read_only:
            self.conn.execute("PRAGMA journal_mode = WAL")
            # In WAL mode NORMAL is safe against crashes of the process (it only risks the
            # last commits on power loss), and much faster than FULL.
            self.conn.execute("PRAGMA synchronous = NORMAL")
        self.conn.execute("PRAGMA foreign_keys = ON")
        self.conn.execute("PRAGMA cache_size = -32768")
        self._lock = None if self.path == ":memory:" else _FileLock(self.path + ".sync-lock")
        self._lock_holders: set[str] = set()

    def _open_read_only(self, busy_timeout: float) -> sqlite3.Connection:
        """Open the existing file read-only (``mode=ro``), never creating it.

        A WAL database needs its index file (``-shm``) beside it; where SQLite can create
        none (a read-only mount or folder), nothing can write the database either, so it
        is read as immutable.
        """
        path = Path(self.path)
        if not path.is_file():
            raise EfaError(
                f"no SQLite database at {path}: it "
                f"{'is not a file' if path.exists() else 'does not exist'}"
            )
        uri = path.absolute().as_uri().replace("file://", "file:", 1) + "?mode=ro"
        conn: sqlite3.Connection | None = None
        for suffix in ("", "&immutable=1"):
            conn = sqlite3.connect(
                uri + suffix,
                uri=True,
                timeout=busy_timeout,
                isolation_level=None,
                check_same_thread=False,
            )
            try:
                conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
            except sqlite3.OperationalError as exc:
                conn.close()
                if suffix or os.access(path.parent, os.W_OK):
                    raise EfaError(f"cannot read the SQLite database {path}: {exc}") from exc
                continue
            break
        assert conn is not None
        return conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """Run one statement and return the cursor."""
        return self.conn.execute(sql, params)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Run one statement for every parameter row."""
        self.conn.executemany(sql, rows)

    def stream(self, sql: str, params: Sequence[Any] = (), size: int = 2000) -> Iterator[Any]:
        """Yield the rows of a query in chunks of *size*."""
        cur = self.conn.execute(sql, params)
        try:
            while rows := cur.fetchmany(size):
                yield from rows
        finally:
            cur.close()

    def begin(self) -> None:
        """Start a write transaction (``BEGIN IMMEDIATE``: wait for other writers now)."""
        self.conn.execute("BEGIN IMMEDIATE")

    def commit(self) -> None:
        """Commit."""
        self.conn.execute("COMMIT")

    def rollback(self) -> None:
        """Roll back (a no-op outside a transaction)."""
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")

    @property
    def in_transaction(self) -> bool:
        """Whether a transaction is open."""
        return self.conn.in_transaction

    def close(self) -> None:
        """Close the connection and release the sync lock."""
        self.conn.close()
        if self._lock is not None:
            self._lock.release()
        self._lock_holders.clear()

    def table_exists(self, name: str) -> bool:
        """Whether the table exists."""
        row = self.fetchone(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)
        )
        return row is not None

    def lock_schema(self) -> None:
        """``BEGIN IMMEDIATE`` already excludes other writers."""

    def ts(self, value: datetime) -> str:
        """Return UTC ISO-8601 text with microseconds (sorts like the instant)."""
        return iso_utc(value)

    def from_ts(self, value: Any) -> datetime:
        """Parse stored ISO-8601 text."""
        return datetime.fromisoformat(value).astimezone(timezone.utc)

    def try_lock_source(self, source: str) -> bool:
        """Take the database's sync lock file (shared by all sources of this process)."""
        if self._lock is None:
            self._lock_holders.add(source)
            return True
        if not self._lock_holders and not self._lock.try_acquire():
            return False
        self._lock_holders.add(source)
        return True

    def unlock_source(self, source: str) -> None:
        """Release the lock once no source of this store holds it."""
        self._lock_holders.discard(source)
        if not self._lock_holders and self._lock is not None:
            self._lock.release()

    def lookup_keys(self, source: str, keys: Sequence[tuple[str, str, int]]) -> list[FoundRow]:
        """Fetch existing rows by ``(source, kind, natural_key)`` in chunks of ``IN (...)``.

        The unique index on the natural key keeps a batch's keys close together (and so
        their table rows, which were written together), where the key hashes are spread
        over the whole index: this reads far fewer pages than a lookup by key hash.
        """
        by_kind: dict[str, list[str]] = {}
        for kind, key, _ in keys:
            by_kind.setdefault(kind, []).append(key)
        out: list[FoundRow] = []
        for kind, names in by_kind.items():
            names.sort()
            for start in range(0, len(names), _SQLITE_CHUNK):
                chunk = names[start : start + _SQLITE_CHUNK]
                marks = ",".join("?" * len(chunk))
                out.extend(
                    self.conn.execute(
                        "SELECT kind, natural_key, content_hash, deleted, fingerprint"  # noqa: S608
                        " FROM records "
                        f"WHERE source = ? AND kind = ? AND natural_key IN ({marks})",
                        (source, kind, *chunk),
                    )
                )
        return out

    def upsert_mirror(
        self, source: str, run_id: str, now: datetime, rows: Sequence[MirrorRow]
    ) -> None:
        """``INSERT … ON CONFLICT DO UPDATE`` through ``executemany``."""
        t = self.ts(now)
        # A batch's records often share their modification time: format each once.
        stamps: dict[datetime, str] = {}

        def iso(value: datetime) -> str:
            text = stamps.get(value)
            if text is None:
                text = stamps[value] = iso_utc(value)
            return text

        self.conn.executemany(
            "INSERT INTO records (source, kind, natural_key, key_hash, leika_key, ars, payload,"
            " content_hash, deleted, first_seen, last_seen, fetched_at, modified_at, run_id,"
            " fingerprint) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (source, kind, natural_key) DO UPDATE SET"
            " key_hash = excluded.key_hash, leika_key = excluded.leika_key, ars = excluded.ars,"
            " payload = excluded.payload, content_hash = excluded.content_hash,"
            " deleted = excluded.deleted, last_seen = excluded.last_seen,"
            " fetched_at = excluded.fetched_at, modified_at = excluded.modified_at,"
            " run_id = excluded.run_id, fingerprint = excluded.fingerprint",
            (
                (
                    source,
                    kind,
                    key,
                    kh,
                    leika,
                    ars,
                    payload,
                    chash,
                    deleted,
                    t,
                    t,
                    t,
                    None if mod is None else iso(mod),
                    run_id,
                    fp,
                )
                for kind, key, kh, leika, ars, payload, chash, deleted, mod, fp in rows
            ),
        )

    def tombstone(
        self, source: str, run_id: str, now: datetime, keys: Sequence[tuple[str, str]]
    ) -> None:
        """Mark rows deleted, one ``UPDATE`` per key through ``executemany``."""
        t = self.ts(now)
        self.conn.executemany(
            "UPDATE records SET deleted = TRUE, last_seen = ?, run_id = ?, fingerprint = NULL"
            " WHERE source = ? AND kind = ? AND natural_key = ?",
            ((t, run_id, source, kind, key) for kind, key in keys),
        )

    def insert_history(
        self, source: str, run_id: str, now: datetime, rows: Sequence[HistoryRow]
    ) -> None:
        """Append history rows through ``executemany``."""
        t = self.ts(now)
        self.conn.executemany(
            "INSERT INTO history (source, kind, natural_key, op, old_hash, new_hash, payload,"
            " run_id, changed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            ((source, *row, run_id, t) for row in rows),
        )

    def tombstone_ids(
        self, run_id: str, now: datetime, ids: Sequence[int], previous_snapshot: Any
    ) -> None:
        """History rows, then the tombstones, by rowid in chunks of ``IN (...)``."""
        t = self.ts(now)
        seen_expr, params = _last_seen_expr(previous_snapshot)
        for start in range(0, len(ids), _SQLITE_CHUNK):
            chunk = list(ids[start : start + _SQLITE_CHUNK])
            marks = ",".join("?" * len(chunk))
            self.conn.execute(
                "INSERT INTO history (source, kind, natural_key, op, old_hash, new_hash,"  # noqa: S608
                " payload, run_id, changed_at) SELECT source, kind, natural_key, 'delete',"
                f" content_hash, NULL, NULL, ?, ? FROM records WHERE id IN ({marks})"
                " AND deleted = FALSE ORDER BY id",
                (run_id, t, *chunk),
            )
            self.conn.execute(
                f"UPDATE records SET deleted = TRUE, last_seen = {seen_expr}, run_id = ?,"  # noqa: S608
                f" fingerprint = NULL WHERE id IN ({marks}) AND deleted = FALSE",
                (*params, run_id, *chunk),
            )

    def set_fingerprints(self, source: str, rows: Sequence[tuple[str, str, bytes | None]]) -> None:
        """One ``UPDATE`` per row through ``executemany``."""
        self.conn.executemany(
            "UPDATE records SET fingerprint = ? WHERE source = ? AND kind = ? AND natural_key = ?",
            ((fp, source, kind, key) for kind, key, fp in rows),
        )

    def fingerprint_rows(
        self, source: str, fingerprints: Sequence[bytes]
    ) -> list[tuple[bytes, str, int]]:
        """Chunks of ``IN (...)`` over the partial fingerprint index (covering)."""
        out: list[tuple[bytes, str, int]] = []
        wanted = sorted(set(fingerprints))
        for start in range(0, len(wanted), _SQLITE_CHUNK):
            chunk = wanted[start : start + _SQLITE_CHUNK]
            marks = ",".join("?" * len(chunk))
            out.extend(
                self.conn.execute(
                    # no "fingerprint IS NOT NULL": SQLite would scan that as a range
                    "SELECT fingerprint, kind, key_hash FROM records"  # noqa: S608
                    f" WHERE source = ? AND deleted = FALSE AND fingerprint IN ({marks})",
                    (source, *chunk),
                )
            )
        return out


_QMARK = re.compile(r"\?")

#: Seconds between the server's checks, during a statement, that the client is still there.
CLIENT_CHECK_SECONDS = 2
#: TCP keepalives on both ends of a PostgreSQL connection: the first probe after this many
#: idle seconds, then every interval, and the peer is taken for gone after this many misses.
KEEPALIVE_IDLE_SECONDS = 30
KEEPALIVE_INTERVAL_SECONDS = 10
KEEPALIVE_COUNT = 3


class PostgresBackend(Backend):
    """PostgreSQL through psycopg 3 (install ``efa-core[postgres]``).

    The connection runs in autocommit mode with explicit ``BEGIN``/``COMMIT``; batches travel
    by ``COPY``.  Sync locks are session-level advisory locks
    (``pg_try_advisory_lock``) keyed by a 64-bit hash of the source name; PostgreSQL releases
    them when the connection ends, also when the process was killed.
    """

    dialect = Dialect.POSTGRESQL
    json_text = "::text"

    def __init__(self, url: str, *, read_only: bool = False) -> None:
        super().__init__(url, read_only=read_only)
        try:
            import psycopg
        except ImportError as exc:  # pragma: no cover - depends on the installation
            raise ConfigError(
                f"store URL {mask_url(url)!r} needs psycopg 3: pip install 'efa-core[postgres]'"
            ) from exc
        conninfo = re.sub(r"^postgresql\+psycopg://", "postgresql://", url)
        try:
            self.conn = psycopg.connect(
                conninfo,
                autocommit=True,
                keepalives=1,
                keepalives_idle=KEEPALIVE_IDLE_SECONDS,
                keepalives_interval=KEEPALIVE_INTERVAL_SECONDS,
                keepalives_count=KEEPALIVE_COUNT,
            )
        except psycopg.Error as exc:  # refused, bad credentials, a malformed URL
            # Never chained: a traceback would show the original message, which may quote
            # a credential of the URL.
            text = mask_text(str(exc), url)
            raise EfaError(f"cannot connect to {mask_url(url)}: {text}".strip()) from None
        self.conn.execute("SET TIME ZONE 'UTC'")
        self._die_with_the_client()
        self._sql_cache: dict[str, str] = {}
        self._cursor_no = 0

    def _die_with_the_client(self) -> None:
        """Make the server end this session soon after its client is gone.

        A killed client's session would otherwise keep running its statement, holding the
        sources' advisory locks, until the statement ends.  The server checks the socket
        every :data:`CLIENT_CHECK_SECONDS` while a statement runs (PostgreSQL 14 and later:
        ``client_connection_check_interval``) and sends TCP keepalives when the session is
        idle, so a vanished client host is noticed too; the client sends keepalives as well
        (a vanished server).  Locks die with their session.
        """
        settings = {
            "tcp_keepalives_idle": KEEPALIVE_IDLE_SECONDS,
            "tcp_keepalives_interval": KEEPALIVE_INTERVAL_SECONDS,
            "tcp_keepalives_count": KEEPALIVE_COUNT,
        }
        if self.conn.info.server_version >= 140000:
            settings["client_connection_check_interval"] = CLIENT_CHECK_SECONDS * 1000
        for name, value in settings.items():
            self.conn.execute(f"SET {name} = {int(value)}")

    def _q(self, sql: str) -> str:
        out = self._sql_cache.get(sql)
        if out is None:
            out = self._sql_cache[sql] = _QMARK.sub("%s", sql.replace("%", "%%"))
        return out

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """Run one statement and return the cursor."""
        if not params:
            return self.conn.execute(sql)
        return self.conn.execute(self._q(sql), params)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Run one statement for every parameter row (pipelined by psycopg)."""
        with self.conn.cursor() as cur:
            cur.executemany(self._q(sql), rows)

    def stream(self, sql: str, params: Sequence[Any] = (), size: int = 2000) -> Iterator[Any]:
        """Yield rows through a server-side cursor (inside a transaction)."""
        self._cursor_no += 1
        name = f"efa_stream_{self._cursor_no}"
        own = not self.in_transaction
        if own:
            self.conn.execute("BEGIN")
        try:
            with self.conn.cursor(name=name) as cur:
                cur.itersize = size
                cur.execute(self._q(sql), params)
                yield from cur
        finally:
            if own and self.in_transaction:
                self.conn.execute("COMMIT")

    def begin(self) -> None:
        """Start a transaction."""
        self.conn.execute("BEGIN")

    def commit(self) -> None:
        """Commit."""
        self.conn.execute("COMMIT")

    def rollback(self) -> None:
        """Roll back (a no-op outside a transaction)."""
        if self.in_transaction:
            self.conn.execute("ROLLBACK")

    @property
    def in_transaction(self) -> bool:
        """Whether a transaction is open (or failed and not yet rolled back)."""
        from psycopg.pq import TransactionStatus

        return self.conn.info.transaction_status in {
            TransactionStatus.INTRANS,
            TransactionStatus.INERROR,
        }

    def close(self) -> None:
        """Close the connection (PostgreSQL releases its advisory locks)."""
        self.conn.close()

    def table_exists(self, name: str) -> bool:
        """Whether the table exists in the current schema search path."""
        row = self.fetchone("SELECT to_regclass(?) IS NOT NULL", (name,))
        return bool(row and row[0])

    def lock_schema(self) -> None:
        """Take a transaction-level advisory lock reserved for migrations."""
        self.execute("SELECT pg_advisory_xact_lock(?)", (_MIGRATION_LOCK,))

    def ts(self, value: datetime) -> datetime:
        """Pass aware datetimes through (as UTC)."""
        return utc(value)

    def from_ts(self, value: Any) -> datetime:
        """Return the timestamptz as an aware UTC datetime."""
        return utc(value)

    def try_lock_source(self, source: str) -> bool:
        """``pg_try_advisory_lock`` on the source's lock key."""
        row = self.fetchone("SELECT pg_try_advisory_lock(?)", (_source_lock_key(source),))
        return bool(row and row[0])

    def unlock_source(self, source: str) -> None:
        """``pg_advisory_unlock`` on the source's lock key."""
        if not self.conn.closed:
            self.execute("SELECT pg_advisory_unlock(?)", (_source_lock_key(source),))

    def lookup_keys(self, source: str, keys: Sequence[tuple[str, str, int]]) -> list[FoundRow]:
        """One query per kind: a probe of the unique index per key (``LATERAL``).

        Not ``natural_key = ANY(array)``: with statistics taken while the source was small
        (during its first load, before autovacuum analyses the table again), the planner
        scans all the source's rows of the kind and filters them by the array, once per
        batch, which makes a load quadratic (63 s instead of 2 s for 100,000 records).
        Equality on every column of the unique index is at most one row whatever the
        statistics say, so each key is one index probe; ``OFFSET 0`` keeps the planner
        from turning the probes back into one join (a hash join over the source's rows).
        """
        by_kind: dict[str, list[str]] = {}
        for kind, key, _ in keys:
            by_kind.setdefault(kind, []).append(key)
        out: list[FoundRow] = []
        for kind, names in by_kind.items():
            out.extend(
                self.fetchall(
                    "SELECT r.kind, r.natural_key, r.content_hash, r.deleted, r.fingerprint"
                    " FROM unnest(?::text[]) AS u(natural_key) CROSS JOIN LATERAL ("
                    "SELECT kind, natural_key, content_hash, deleted, fingerprint FROM records"
                    " WHERE source = ? AND kind = ? AND natural_key = u.natural_key OFFSET 0) r",
                    (sorted(names), source, kind),
                )
            )
        return out

    def _stage(self, table: str, columns: str, rows: Iterable[Sequence[Any]]) -> None:
        """COPY *rows* into an (emptied) temporary staging table of this session."""
        ddl = _STAGING[table]
        self.conn.execute(f"CREATE TEMP TABLE IF NOT EXISTS {table} ({ddl})")
        self.conn.execute(f"TRUNCATE {table}")
        with self.conn.cursor() as cur, cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    def upsert_mirror(
        self, source: str, run_id: str, now: datetime, rows: Sequence[MirrorRow]
    ) -> None:
        """COPY the rows into a staging table, then one ``INSERT … ON CONFLICT DO UPDATE``."""
        if not rows:
            return
        self._stage(
            "efa_stage_records",
            "kind, natural_key, key_hash, leika_key, ars, payload, content_hash, deleted,"
            " modified_at, fingerprint",
            rows,
        )
        t = utc(now)
        self.execute(
            "INSERT INTO records (source, kind, natural_key, key_hash, leika_key, ars, payload,"
            " content_hash, deleted, first_seen, last_seen, fetched_at, modified_at, run_id,"
            " fingerprint)"
            " SELECT ?, u.kind, u.natural_key, u.key_hash, u.leika_key, u.ars, u.payload::jsonb,"
            " u.content_hash, u.deleted, ?, ?, ?, u.modified_at, ?, u.fingerprint"
            " FROM efa_stage_records u"
            " ON CONFLICT (source, kind, natural_key) DO UPDATE SET"
            " key_hash = excluded.key_hash, leika_key = excluded.leika_key, ars = excluded.ars,"
            " payload = excluded.payload, content_hash = excluded.content_hash,"
            " deleted = excluded.deleted, last_seen = excluded.last_seen,"
            " fetched_at = excluded.fetched_at, modified_at = excluded.modified_at,"
            " run_id = excluded.run_id, fingerprint = excluded.fingerprint",
            (source, t, t, t, run_id),
        )

    def tombstone(
        self, source: str, run_id: str, now: datetime, keys: Sequence[tuple[str, str]]
    ) -> None:
        """One ``UPDATE … WHERE id = ANY(ARRAY(…))``: the rows' ids by a probe per key.

        Not ``UPDATE … FROM unnest(…)`` joined on the key: with statistics taken while the
        source was small, the planner hash-joins the batch with all the source's rows, once
        per batch (see :meth:`lookup_keys`).  The ids come from the per-key probe of
        :meth:`lookup_keys`; an array computed by a subquery counts as a few elements for
        the planner, so the rows are then fetched through the primary key.
        """
        if not keys:
            return
        kinds, nkeys = zip(*keys, strict=True)
        self.execute(
            "UPDATE records SET deleted = TRUE, last_seen = ?, run_id = ?, fingerprint = NULL"  # noqa: S608
            f" WHERE id = ANY(ARRAY(SELECT r.id {_PROBE_IDS}))",
            (utc(now), run_id, list(kinds), list(nkeys), source),
        )

    def insert_history(
        self, source: str, run_id: str, now: datetime, rows: Sequence[HistoryRow]
    ) -> None:
        """COPY the rows straight into the history (ids follow the row order)."""
        if not rows:
            return
        t = utc(now)
        with (
            self.conn.cursor() as cur,
            cur.copy(
                "COPY history (source, kind, natural_key, op, old_hash, new_hash, payload,"
                " run_id, changed_at) FROM STDIN"
            ) as copy,
        ):
            for row in rows:
                copy.write_row((source, *row, run_id, t))

    def tombstone_ids(
        self, run_id: str, now: datetime, ids: Sequence[int], previous_snapshot: Any
    ) -> None:
        """Two statements with ``id = ANY(array)``: no join for the planner to misjudge."""
        t = utc(now)
        seen_expr, params = _last_seen_expr(previous_snapshot)
        wanted = list(ids)
        self.execute(
            "INSERT INTO history (source, kind, natural_key, op, old_hash, new_hash, payload,"
            " run_id, changed_at) SELECT source, kind, natural_key, 'delete', content_hash,"
            " NULL, NULL, ?, ? FROM records WHERE id = ANY(?::bigint[]) AND deleted = FALSE"
            " ORDER BY id",
            (run_id, t, wanted),
        )
        self.execute(
            f"UPDATE records SET deleted = TRUE, last_seen = {seen_expr}, run_id = ?,"  # noqa: S608
            " fingerprint = NULL WHERE id = ANY(?::bigint[]) AND deleted = FALSE",
            (*params, run_id, wanted),
        )

    def set_fingerprints(self, source: str, rows: Sequence[tuple[str, str, bytes | None]]) -> None:
        """One ``UPDATE``: the rows' ids by a probe per key, then the rows by primary key.

        Not ``UPDATE … FROM unnest(…)`` joined on the key, for the reason given at
        :meth:`tombstone`.  The batch's ids and fingerprints are computed once (a ``WITH``
        referenced twice is materialised); the rows to update are found by
        ``id = ANY(ARRAY(…))`` through the primary key, and joined with the batch by id,
        both linear in the batch.  A key given twice gets its last fingerprint.
        """
        if not rows:
            return
        last = {(kind, key): fp for kind, key, fp in rows}
        kinds, keys = zip(*last, strict=True)
        self.execute(
            f"WITH b AS (SELECT r.id, u.fingerprint {_PROBE_IDS_FP})"  # noqa: S608
            " UPDATE records SET fingerprint = b.fingerprint FROM b"
            " WHERE records.id = ANY(ARRAY(SELECT id FROM b)) AND records.id = b.id",
            (list(kinds), list(keys), list(last.values()), source),
        )

    def fingerprint_rows(
        self, source: str, fingerprints: Sequence[bytes]
    ) -> list[tuple[bytes, str, int]]:
        """One query: a probe of the partial fingerprint index per fingerprint (``LATERAL``).

        Not ``fingerprint = ANY(array)``, for the reason given at :meth:`lookup_keys`.
        ``fingerprint IS NOT NULL`` lets the planner use the partial index for a probe (it
        does not derive it from the join condition), and ``deleted`` is tested outside the
        probe, so that the partial index of live rows, which would scan the source's rows
        and filter them, is no candidate.
        """
        if not fingerprints:
            return []
        return [
            (bytes(fp), kind, int(kh))
            for fp, kind, kh in self.fetchall(
                "SELECT r.fingerprint, r.kind, r.key_hash"
                " FROM unnest(?::bytea[]) AS u(fingerprint) CROSS JOIN LATERAL ("
                "SELECT fingerprint, kind, key_hash, deleted FROM records WHERE source = ?"
                " AND fingerprint = u.fingerprint AND fingerprint IS NOT NULL OFFSET 0) r"
                " WHERE NOT r.deleted",
                (sorted(set(fingerprints)), source),
            )
        ]


#: The ids of a batch's ``(kind, natural_key)`` rows: one probe of the unique index per key,
#: fenced by ``OFFSET 0`` (see :meth:`PostgresBackend.lookup_keys`).  Parameters: the kinds,
#: the keys, the source.
_PROBE_IDS = (
    "FROM unnest(?::text[], ?::text[]) AS u(kind, natural_key)"
    " CROSS JOIN LATERAL (SELECT id FROM records WHERE source = ? AND kind = u.kind"
    " AND natural_key = u.natural_key OFFSET 0) r"
)
#: As :data:`_PROBE_IDS` with a fingerprint per key (parameters: kinds, keys, fingerprints,
#: source).
_PROBE_IDS_FP = _PROBE_IDS.replace(
    "?::text[]) AS u(kind, natural_key)",
    "?::text[], ?::bytea[]) AS u(kind, natural_key, fingerprint)",
)

#: Column definitions of the PostgreSQL staging tables (temporary, per session).
_STAGING = {
    "efa_stage_records": (
        "kind text, natural_key text, key_hash bigint, leika_key text, ars text, payload text,"
        " content_hash text, deleted boolean, modified_at timestamptz, fingerprint bytea"
    ),
}


def _last_seen_expr(previous_snapshot: Any) -> tuple[str, list[Any]]:
    if previous_snapshot is None:
        return "last_seen", []
    return "CASE WHEN last_seen < ? THEN ? ELSE last_seen END", [
        previous_snapshot,
        previous_snapshot,
    ]


#: Advisory lock key for migrations ("efa-mig" as an integer).
_MIGRATION_LOCK = 0x6566612D6D6967


def _source_lock_key(source: str) -> int:
    from efa_core.store._keys import key_hash

    return key_hash("efa_core.sync-lock", source)
