"""The connector contract: how efa-core talks to a source or target system.

A *connector* is a class that knows one kind of system (the PVOG change feed, a folder of
XZuFi files, the FIT-Connect Routing API, a local JSON Lines file, ...).  A plugin registers
the class through the ``efa_register_connectors`` hook; ``efa.toml`` configures instances of
it (see :mod:`efa_core.config`).  Each class declares

* :attr:`Connector.type_name`: the name used in ``efa.toml`` (``type = "records-file"``),
* :attr:`Connector.capabilities`: what it can do (:class:`Capability`),
* :attr:`Connector.config_class`: an attrs class describing its options.

Pulling yields :class:`Batch` objects.  The semantics every connector keeps:

* **Cursors are opaque strings.**  The cursor of batch *N* resumes *after* batch *N*:
  ``pull(cursor=batch_n.cursor)`` yields exactly the changes that followed batch *N* in the
  uninterrupted pull.  ``pull(None)`` starts at the beginning.  A batch may carry
  ``cursor=None`` only if the pull cannot be resumed at that point.
* **Snapshot connectors** (:attr:`Capability.SNAPSHOT`) deliver everything the source has.
  ``complete=True`` on the last batch means "this is everything"; only then may the engine
  tombstone the records it holds for this source and did not receive.  Every earlier batch
  has ``complete=False``.  Inside one complete snapshot a ``(kind, natural key)`` appears at
  most once.
* **Change-feed connectors** (:attr:`Capability.CHANGE_FEED`) deliver upserts and deletes in
  the order the source made them; ``complete=True`` on the last batch means "caught up".
  A :class:`Delete` of a key the engine never saw (an *orphan delete*) is fine; it is a
  no-op downstream.
* **Records that fail validation at the edge** are not raised: they travel in
  :attr:`Batch.rejected` as :class:`Rejected` (the engine quarantines and counts them, the
  rest goes on).  Failures of the source itself (unreachable, bad credentials, a missing
  file) raise :class:`~efa_core.errors.ConnectorError` (or a subclass).
* **Every input object is accounted for**: it becomes a change, a :class:`Rejected`, or is
  counted in :attr:`Batch.skipped` with a reason (a footer line, an object kind the
  connector does not map).  Nothing disappears silently.
* **Problems worked around** (an optional cell dropped, a URL given its scheme) travel in
  :attr:`Batch.warnings`, a few summary lines that the run report keeps and shows.
* **Input the connector does not understand** (an unknown root element, an unsupported
  format version, no header row, not XML at all) raises
  :class:`~efa_core.errors.SourceNotUnderstood`: the run fails and nothing is deleted.
  It is never an empty, complete snapshot.
* **Source fingerprints** (optional) make unchanged input cheap: a connector gives each
  input object a :func:`fingerprint` of its raw bytes (``Upsert(record, fingerprint=…)``),
  the store keeps it with the records, and on the next pull the connector asks
  :meth:`Connector.stored_fingerprints` which of its objects are stored unchanged and
  lists those in :attr:`Batch.unchanged` instead of building their records.

Connectors are async context managers that own their clients::

    async with connector:
        async for batch in connector.pull(cursor):
            ...

Scripts that do not want to write asyncio code use the sync facade :func:`pull_sync`,
:func:`push_sync` and :func:`check_sync`.

Writing a connector means subclassing :class:`Connector` and overriding the *provider
methods* for the declared capabilities: :meth:`Connector.pull_batches`,
:meth:`Connector.push_changes`, and optionally :meth:`Connector.check_source`,
:meth:`Connector.setup` and :meth:`Connector.teardown`.  The public methods
(:meth:`~Connector.pull`, :meth:`~Connector.push`, :meth:`~Connector.check`) wrap them and
enforce the contract (capabilities, open state, result types).
"""

from __future__ import annotations

import asyncio
import enum
import functools
import hashlib
import logging
import re
import sys
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Collection,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeVar, Union

import attrs

from efa_core.errors import ConnectorError, PluginError

if TYPE_CHECKING:
    from efa_core.model import Record

__all__ = [
    "PULL_CAPABILITIES",
    "Batch",
    "Capability",
    "Change",
    "CheckResult",
    "Connector",
    "Delete",
    "PushResult",
    "Rejected",
    "Skipped",
    "StoreView",
    "Upsert",
    "check_sync",
    "fingerprint",
    "key_hash",
    "pull_sync",
    "push_sync",
    "validate_connector_class",
]

logger = logging.getLogger(__name__)

_T = TypeVar("_T")

#: What a ``type_name`` looks like: lower-case words joined by hyphens, e.g. ``records-file``.
_TYPE_NAME = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*\Z")


class Capability(enum.Enum):
    """What a connector can do; declared in :attr:`Connector.capabilities`."""

    #: Pull delivers everything the source has; the last batch is ``complete``.
    SNAPSHOT = "snapshot"
    #: Pull delivers upserts and deletes since a cursor; the last batch means "caught up".
    CHANGE_FEED = "change-feed"
    #: Push writes planned changes to the target system.
    PUSH = "push"


#: The capabilities that make :meth:`Connector.pull` available (a connector has at most one).
PULL_CAPABILITIES = frozenset({Capability.SNAPSHOT, Capability.CHANGE_FEED})


def _fingerprint_or_none(value: bytes | None) -> bytes | None:
    if value is None:
        return None
    if not isinstance(value, bytes) or not 8 <= len(value) <= 64:
        raise TypeError(
            f"a fingerprint is 8 to 64 bytes (use efa_core.connectors.fingerprint()), "
            f"got {value!r:.40}"
        )
    return value


def fingerprint(*parts: bytes | str) -> bytes:
    """Return the 16-byte fingerprint of an input object's raw *parts* (BLAKE2b-128).

    Pass first a salt naming what decides the mapping besides the bytes: the connector,
    its version and the options that change the records, then the object's raw bytes, e.g.
    ``fingerprint("records-file 1", line)``.  The salt keys the hash; further parts are
    length-prefixed, so ``("s", "ab", "c")`` and ``("s", "a", "bc")`` differ.  Strings are
    UTF-8 encoded.  About a microsecond for a short line.
    """
    if not parts:
        raise TypeError("fingerprint() needs at least the object's bytes")
    if len(parts) == 1:
        return hashlib.blake2b(_as_bytes(parts[0]), digest_size=16).digest()
    key = _salt_key(parts[0])
    if len(parts) == 2:
        return hashlib.blake2b(_as_bytes(parts[1]), digest_size=16, key=key).digest()
    digest = hashlib.blake2b(digest_size=16, key=key)
    for part in parts[1:]:
        data = _as_bytes(part)
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)
    return digest.digest()


def _as_bytes(part: bytes | str) -> bytes:
    return part.encode() if isinstance(part, str) else bytes(part)


@functools.lru_cache(maxsize=64)
def _salt_key(salt: bytes | str) -> bytes:
    data = _as_bytes(salt) or b"\x00"
    return data if len(data) <= 64 else hashlib.blake2b(data, digest_size=64).digest()


def key_hash(kind: str, natural_key: str) -> int:
    """Return the store's stable signed 64-bit hash of ``(kind, natural_key)`` (BLAKE2b).

    The store keys its bookkeeping by it; :meth:`Connector.stored_fingerprints` answers with
    these hashes, so a connector can find duplicates among unchanged and new objects alike.
    """
    data = _key_prefix(kind) + natural_key.encode()
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "big", signed=True)


@functools.lru_cache(maxsize=64)
def _key_prefix(kind: str) -> bytes:
    """Return the bytes :func:`key_hash` puts before a key of *kind* (a few kinds, each once)."""
    return kind.encode() + b"\x1f"


@attrs.frozen
class Upsert:
    """Create or replace one record; :attr:`kind` and :attr:`key` come from the record."""

    #: The typed record (one of :data:`efa_core.model.RECORD_TYPES`).
    record: Record
    #: The :func:`fingerprint` of the input object the record was built from, if the
    #: connector gives one: stored with the record, it lets the next pull skip building the
    #: object's records while its bytes stay the same.  Give it only when the whole object
    #: was turned into records (none of it rejected or skipped), and give every record of
    #: the object the same fingerprint.
    fingerprint: bytes | None = attrs.field(
        default=None, kw_only=True, converter=_fingerprint_or_none
    )

    @property
    def kind(self) -> str:
        """The record's kind, e.g. ``"service"`` (its class's ``KIND``)."""
        kind: str = self.record.KIND
        return kind

    @property
    def key(self) -> str:
        """The record's natural key inside its source."""
        key: str = self.record.natural_key
        return key


@attrs.frozen
class Delete:
    """Remove the record of *kind* with the natural *key* (unknown keys are a no-op)."""

    #: The record kind, e.g. ``"responsibility"``.
    kind: str
    #: The natural key of the record to delete.
    key: str


#: One change of a pull or push: :class:`Upsert` or :class:`Delete`.
Change = Union[Upsert, Delete]  # noqa: UP007 - a runtime alias, usable in isinstance()


def _problem_tuple(problems: Iterable[tuple[object, object]]) -> tuple[tuple[str, str], ...]:
    return tuple((str(path), str(message)) for path, message in problems)


@attrs.frozen
class Rejected:
    """A record that failed validation at the edge; the engine quarantines it.

    The rest of the batch goes on; rejected records are counted and kept for review.
    """

    #: The record kind if it could be told, else ``None`` (e.g. for invalid JSON).
    kind: str | None
    #: Where the input was, e.g. ``"records.jsonl:line 120"`` or ``"page 3 item 7"``.
    position: str
    #: The raw input as received (a line of text, a decoded JSON object, an XML fragment).
    raw: object
    #: Every problem as ``(path, message)``, e.g. ``("$.leika_key", "must have 14 digits")``.
    problems: tuple[tuple[str, str], ...] = attrs.field(converter=_problem_tuple)


@attrs.frozen
class Skipped:
    """Input objects a connector deliberately did not turn into records, with the reason.

    Skipping is not rejecting: a footer line (``Summe: 8 Vorgänge``), an empty trailing line
    or an XZuFi object kind the connector does not map is not bad data.  The engine adds the
    counts to the run's report, so that *objects in the input = stored + quarantined +
    skipped* holds per kind.
    """

    #: The kind of input object skipped, e.g. ``"footer-line"``, ``"spezialisierung"``, or a
    #: record kind.
    kind: str
    #: Why, for people, e.g. ``"summary line"``.
    reason: str
    #: How many objects of this kind were skipped for this reason in the batch.
    count: int = 1
    #: Where (the first one) was, e.g. ``"export.csv:line 212"``; ``None`` if not useful.
    position: str | None = None


# One typed converter per field type: the attrs mypy plugin cannot use a generic one.
def _change_tuple(changes: Iterable[Change]) -> tuple[Change, ...]:
    return tuple(changes)


def _rejected_tuple(rejected: Iterable[Rejected]) -> tuple[Rejected, ...]:
    return tuple(rejected)


def _skipped_tuple(skipped: Iterable[Skipped]) -> tuple[Skipped, ...]:
    return tuple(skipped)


def _str_tuple(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(items)


def _fingerprint_tuple(items: Iterable[bytes]) -> tuple[bytes, ...]:
    out = tuple(items)
    for item in out:
        _fingerprint_or_none(item)
    return out


@attrs.frozen
class Batch:
    """One batch of a pull: changes, the cursor after them, and whether the pull is done."""

    #: The upserts and deletes, in the order the source made them.
    changes: tuple[Change, ...] = attrs.field(converter=_change_tuple)
    #: Opaque cursor that resumes after this batch (``None``: not resumable here).
    cursor: str | None
    #: ``True`` on the last batch: the snapshot is whole, or the feed is caught up.
    complete: bool
    #: Records of this batch that failed validation (quarantined, counted).
    rejected: tuple[Rejected, ...] = attrs.field(default=(), converter=_rejected_tuple)
    #: Input objects of this batch that were deliberately not turned into records.
    skipped: tuple[Skipped, ...] = attrs.field(default=(), converter=_skipped_tuple)
    #: Fingerprints of input objects that :meth:`Connector.stored_fingerprints` found
    #: stored: their records are kept as they are (alive in a snapshot, counted unchanged)
    #: without being built again.
    unchanged: tuple[bytes, ...] = attrs.field(default=(), converter=_fingerprint_tuple)
    #: What the connector worked around, for the run report (``efa status`` shows them):
    #: an optional cell dropped or repaired, an empty input.  Keep them few (one line per
    #: kind of problem, with a count), never one per record.
    warnings: tuple[str, ...] = attrs.field(default=(), converter=_str_tuple)


@attrs.frozen(kw_only=True)
class PushResult:
    """What a push wrote."""

    #: How many changes were written to the target.
    written: int
    #: Where they went, for people: a path, a URL, a system name.
    target: str
    #: Files written (if the target is files), in the order they were written.
    paths: tuple[str, ...] = attrs.field(default=(), converter=_str_tuple)
    #: Human-readable notes (e.g. "2 deletes of unknown keys ignored").
    messages: tuple[str, ...] = attrs.field(default=(), converter=_str_tuple)


@attrs.frozen
class CheckResult:
    """The result of :meth:`Connector.check`: is the source reachable, are credentials valid."""

    #: ``True`` if the connector can work with its source.
    ok: bool
    #: What was checked or what is wrong, for people (never contains secrets).
    detail: str


def validate_connector_class(cls: object) -> None:
    """Check that *cls* is a usable connector class.

    Used when a class is defined (for subclasses that declare a ``type_name``) and by the
    plugin registry when a plugin registers a class.

    :raises efa_core.errors.PluginError: naming the class and every problem found.
    """
    if not (isinstance(cls, type) and issubclass(cls, Connector)):
        raise PluginError(f"{cls!r} is not a subclass of efa_core.connectors.Connector")
    problems: list[str] = []
    type_name = getattr(cls, "type_name", None)
    if not isinstance(type_name, str) or not _TYPE_NAME.match(type_name):
        problems.append(
            f"type_name must be lower-case words joined by hyphens (e.g. 'records-file'), "
            f"got {type_name!r}"
        )
    capabilities = getattr(cls, "capabilities", None)
    if (
        not isinstance(capabilities, frozenset)
        or not capabilities
        or not all(isinstance(c, Capability) for c in capabilities)
    ):
        problems.append(
            f"capabilities must be a non-empty frozenset of Capability, got {capabilities!r}"
        )
    else:
        if capabilities >= PULL_CAPABILITIES:
            problems.append(
                "capabilities declare both SNAPSHOT and CHANGE_FEED; a connector has one pull "
                "mode (register two connector types for a source that offers both)"
            )
        can_pull = bool(capabilities & PULL_CAPABILITIES)
        pulls = cls.pull_batches is not Connector.pull_batches
        if can_pull and not pulls:
            problems.append("capabilities declare a pull mode but pull_batches() is not defined")
        if pulls and not can_pull:
            problems.append("pull_batches() is defined but capabilities declare no pull mode")
        pushes = cls.push_changes is not Connector.push_changes
        if Capability.PUSH in capabilities and not pushes:
            problems.append("capabilities declare PUSH but push_changes() is not defined")
        if pushes and Capability.PUSH not in capabilities:
            problems.append("push_changes() is defined but capabilities do not declare PUSH")
    config_class = getattr(cls, "config_class", None)
    if not (isinstance(config_class, type) and attrs.has(config_class)):
        problems.append(f"config_class must be an attrs class, got {config_class!r}")
    if problems:
        raise PluginError(
            f"connector class {cls.__module__}.{cls.__qualname__} is not usable: "
            + "; ".join(problems)
        )


class StoreView(Protocol):
    """Read access to the store, lent by the sync engine to connectors that ask targeted questions.

    A connector such as the FIT-Connect routing connector asks only about what the store
    already knows (the LeiKa key × area pairs that are contracted or published).  The engine
    sets :attr:`Connector.store` before it opens the connector; outside the engine it is
    ``None`` unless the caller sets it.  :class:`efa_core.store.Store` satisfies this protocol.
    """

    def records(
        self,
        source: str | None = None,
        kind: str | None = None,
        *,
        include_deleted: bool = False,
        leika_key: str | None = None,
        ars: str | None = None,
    ) -> Iterator[Any]:
        """Yield stored rows (``kind``, ``natural_key``, ``payload``, ``leika_key``, ``ars``)."""
        ...

    def stored_fingerprints(
        self, source: str, fingerprints: Collection[bytes]
    ) -> Mapping[bytes, tuple[int, ...]]:
        """Return which *fingerprints* live records of *source* carry, with their key hashes.

        Fingerprints not stored are absent from the result.  The key hashes are
        :func:`key_hash` of the records built from that object.
        """
        ...


class Connector:
    """Base class of all connectors.

    Subclasses set the three class attributes and override the provider methods that match
    their capabilities.  Callers use the async context manager and the public methods::

        async with RecordsFileConnector(config, name="own-notes") as connector:
            async for batch in connector.pull():
                ...

    A connector instance may be entered again after it was closed; it must not be entered
    twice at the same time.
    """

    #: The connector type, as written in ``efa.toml`` (``type = "..."``); unique per registry.
    type_name: ClassVar[str]
    #: What this connector can do; at most one of SNAPSHOT and CHANGE_FEED.
    capabilities: ClassVar[frozenset[Capability]]
    #: The attrs class of its options (the ``[connectors.NAME]`` table without ``type``).
    config_class: ClassVar[type[Any]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # Concrete connectors (those with a type_name, also inherited) are checked at once;
        # intermediate base classes without one are not.
        if hasattr(cls, "type_name"):
            validate_connector_class(cls)

    def __init__(self, config: Any, *, name: str) -> None:
        """Create a connector instance named *name* (the ``efa.toml`` table) from *config*."""
        if not hasattr(type(self), "type_name"):
            raise TypeError(
                f"{type(self).__qualname__} declares no type_name; it cannot be instantiated"
            )
        if not isinstance(config, self.config_class):
            raise TypeError(
                f"{self.type_name} connector {name!r}: config must be a "
                f"{self.config_class.__qualname__}, not {type(config).__qualname__}"
            )
        #: The instance's name (the table name in ``efa.toml``, e.g. ``pvog-th``).
        self.name = name
        #: The structured configuration (an instance of :attr:`config_class`).
        self.config = config
        #: Read access to the store, set by the sync engine (``None`` outside it).
        self.store: StoreView | None = None
        self._open = False

    def __repr__(self) -> str:
        state = "open" if self._open else "closed"
        return f"<{type(self).__qualname__} {self.name!r} type={self.type_name!r} {state}>"

    @property
    def label(self) -> str:
        """How errors name this connector, e.g. ``records-file connector 'own-notes'``."""
        return f"{self.type_name} connector {self.name!r}"

    @property
    def is_open(self) -> bool:
        """``True`` inside ``async with connector:``."""
        return self._open

    @property
    def pull_mode(self) -> Capability | None:
        """SNAPSHOT, CHANGE_FEED, or ``None`` for a push-only connector."""
        modes = self.capabilities & PULL_CAPABILITIES
        return next(iter(modes)) if modes else None

    # -- lifecycle ------------------------------------------------------------------------

    async def __aenter__(self) -> Connector:
        if self._open:
            raise ConnectorError(f"{self.label} is already open")
        logger.debug("opening %s", self.label)
        await self.setup()
        self._open = True
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Release the connector's clients and files; calling it twice is harmless."""
        if not self._open:
            return
        self._open = False
        logger.debug("closing %s", self.label)
        await self.teardown()

    # -- public operations ------------------------------------------------------------------

    def pull(self, cursor: str | None = None) -> AsyncIterator[Batch]:
        """Pull batches of changes, starting after *cursor* (``None``: from the beginning).

        :raises efa_core.errors.ConnectorError: the connector cannot pull, is not open, or
            its source failed.
        """
        if not self.capabilities & PULL_CAPABILITIES:
            raise self._unsupported("pull", "SNAPSHOT or CHANGE_FEED")
        self._require_open("pull")
        if cursor is not None and not isinstance(cursor, str):
            raise ConnectorError(f"{self.label}: a cursor is a string, not {type(cursor).__name__}")
        return self._checked_pull(cursor)

    async def push(self, changes: Sequence[Change]) -> PushResult:
        """Write the planned *changes* to the target system.

        :raises efa_core.errors.ConnectorError: the connector cannot push, is not open, or
            the target failed.
        """
        if Capability.PUSH not in self.capabilities:
            raise self._unsupported("push", "PUSH")
        self._require_open("push")
        changes = tuple(changes)
        for position, change in enumerate(changes):
            if not isinstance(change, (Upsert, Delete)):
                raise ConnectorError(
                    f"{self.label}: push() takes Upsert and Delete changes; item {position} "
                    f"is a {type(change).__qualname__}"
                )
        result = await self.push_changes(changes)
        if not isinstance(result, PushResult):
            raise ConnectorError(
                f"{self.label}: push_changes() returned {type(result).__qualname__}, "
                "not a PushResult"
            )
        return result

    async def check(self) -> CheckResult:
        """Report whether the source is reachable and the credentials are valid.

        Problems with the source are reported as ``CheckResult(ok=False, ...)``, not raised.

        :raises efa_core.errors.ConnectorError: the connector is not open.
        """
        self._require_open("check")
        result = await self.check_source()
        if not isinstance(result, CheckResult):
            raise ConnectorError(
                f"{self.label}: check_source() returned {type(result).__qualname__}, "
                "not a CheckResult"
            )
        return result

    # -- provider methods (override these) ---------------------------------------------------

    async def setup(self) -> None:
        """Create clients and open resources; called on ``async with`` entry.

        The default does nothing.  Failures should raise ConnectorError naming the source.
        """

    async def teardown(self) -> None:
        """Release what :meth:`setup` created; called once on exit.  The default does nothing."""

    def pull_batches(self, cursor: str | None) -> AsyncIterator[Batch]:
        """Yield the batches after *cursor*; implement as ``async def`` with ``yield``.

        Called by :meth:`pull` only when the connector declares a pull mode and is open.
        """
        raise self._unsupported("pull", "SNAPSHOT or CHANGE_FEED")

    async def push_changes(self, changes: Sequence[Change]) -> PushResult:
        """Write *changes* to the target; called by :meth:`push` for PUSH connectors."""
        raise self._unsupported("push", "PUSH")

    async def check_source(self) -> CheckResult:
        """Probe the source; called by :meth:`check`.

        The default reports success, since opening the connector succeeded; override it to
        make a cheap authenticated request.
        """
        return CheckResult(ok=True, detail=f"{self.label} opened (no check implemented)")

    # -- source fingerprints ------------------------------------------------------------------

    def stored_fingerprints(
        self, fingerprints: Collection[bytes]
    ) -> Mapping[bytes, tuple[int, ...]]:
        """Ask the store which of *fingerprints* this source's live records carry.

        Returns each stored fingerprint with the :func:`key_hash` of its records; an empty
        mapping without a store (outside the sync engine, e.g. in the accounting helper),
        so the connector builds every object then.  Ask once per batch, not per object.
        The call blocks until the store answers: call it from a worker thread (as a
        connector that reads files does anyway) or use :meth:`astored_fingerprints`.
        """
        if self.store is None or not fingerprints:
            return {}
        ask = getattr(self.store, "stored_fingerprints", None)
        if ask is None:  # a StoreView from before fingerprints: build everything
            return {}
        return dict(ask(self.name, fingerprints))

    async def astored_fingerprints(
        self, fingerprints: Collection[bytes]
    ) -> Mapping[bytes, tuple[int, ...]]:
        """Like :meth:`stored_fingerprints`, without blocking the event loop."""
        if self.store is None or not fingerprints:
            return {}
        return await asyncio.to_thread(self.stored_fingerprints, fingerprints)

    # -- helpers -----------------------------------------------------------------------------

    def _unsupported(self, operation: str, needed: str) -> ConnectorError:
        declared = ", ".join(sorted(c.name for c in self.capabilities)) or "none"
        return ConnectorError(
            f"{self.label} cannot {operation}: that needs capability {needed}, "
            f"but it declares {declared}"
        )

    def _require_open(self, operation: str) -> None:
        if not self._open:
            raise ConnectorError(
                f"{self.label}: {operation}() called outside 'async with connector:'; "
                "open the connector first"
            )

    async def _checked_pull(self, cursor: str | None) -> AsyncIterator[Batch]:
        source = self.pull_batches(cursor)
        try:
            async for batch in source:
                if not isinstance(batch, Batch):
                    raise ConnectorError(
                        f"{self.label}: pull_batches() yielded {type(batch).__qualname__}, "
                        "not a Batch"
                    )
                yield batch
                self._require_open("pull")
        finally:
            aclose = getattr(source, "aclose", None)
            if aclose is not None:
                await aclose()


# -- sync facade ------------------------------------------------------------------------------


def _refuse_in_running_loop(function: str) -> None:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    raise ConnectorError(
        f"{function}() cannot run inside a running event loop; in async code use "
        "'async with connector:' and 'async for batch in connector.pull(cursor)' "
        "(or 'await connector.push(...)', 'await connector.check()')"
    )


def _refuse_open(connector: Connector, function: str) -> None:
    if connector.is_open:
        raise ConnectorError(
            f"{function}() opens and closes {connector.label} itself, but it is already open"
        )


class _PrivateLoop:
    """An event loop owned by the sync facade; it never becomes the thread's current loop."""

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()

    def run(self, awaitable: Awaitable[_T]) -> _T:
        return self._loop.run_until_complete(awaitable)

    def close(self) -> None:
        try:
            self._loop.run_until_complete(self._loop.shutdown_asyncgens())
            self._loop.run_until_complete(self._loop.shutdown_default_executor())
        finally:
            self._loop.close()


def pull_sync(connector: Connector, cursor: str | None = None) -> Iterator[Batch]:
    """Pull from *connector* without asyncio code: open it, yield its batches, close it.

    Runs the connector on a private event loop, step by step in the calling thread, so it
    works in scripts and in threads without a loop.  Stop early with ``break``; the
    connector is closed when the iterator is closed or garbage-collected.

    :raises efa_core.errors.ConnectorError: called inside a running event loop (use the
        async API there), the connector is already open, or the pull failed.
    """
    _refuse_in_running_loop("pull_sync")
    _refuse_open(connector, "pull_sync")
    return _pull_sync(connector, cursor)


def _pull_sync(connector: Connector, cursor: str | None) -> Iterator[Batch]:
    _refuse_in_running_loop("pull_sync")
    loop = _PrivateLoop()
    try:
        loop.run(connector.__aenter__())
        try:
            batches = connector.pull(cursor)
            try:
                while True:
                    try:
                        batch = loop.run(anext(batches))
                    except StopAsyncIteration:
                        return
                    yield batch
            finally:
                aclose: Callable[[], Awaitable[None]] | None = getattr(batches, "aclose", None)
                if aclose is not None:
                    loop.run(aclose())
        finally:
            loop.run(connector.__aexit__(*sys.exc_info()))
    finally:
        loop.close()


def _run_opened(connector: Connector, function: str, operation: Callable[[], Awaitable[_T]]) -> _T:
    _refuse_in_running_loop(function)
    _refuse_open(connector, function)

    async def main() -> _T:
        async with connector:
            return await operation()

    loop = _PrivateLoop()
    try:
        return loop.run(main())
    finally:
        loop.close()


def push_sync(connector: Connector, changes: Sequence[Change]) -> PushResult:
    """Open *connector*, push *changes*, close it; the sync twin of :meth:`Connector.push`.

    :raises efa_core.errors.ConnectorError: called inside a running event loop, the
        connector is already open or cannot push, or the target failed.
    """
    return _run_opened(connector, "push_sync", lambda: connector.push(changes))


def check_sync(connector: Connector) -> CheckResult:
    """Open *connector*, check it, close it; the sync twin of :meth:`Connector.check`.

    :raises efa_core.errors.ConnectorError: called inside a running event loop or the
        connector is already open.
    """
    return _run_opened(connector, "check_sync", connector.check)
