"""The ``pvog`` connector: the PVOG Bereitstelldienst change feed as efa-core changes.

One feed page is one :class:`~efa_core.connectors.Batch`:

* ``schreibe`` of a ``zustaendigkeitTransferObjekt`` (and the Zuständigkeiten embedded in
  an ``organisationseinheit``) becomes an :class:`~efa_core.connectors.Upsert` of a
  :class:`~efa_core.model.Responsibility`, keyed by the Zuständigkeit's composite id;
* ``loesche klasse="Zustaendigkeit"`` becomes a :class:`~efa_core.connectors.Delete` of
  that key.  Deletes of Zuständigkeiten never seen (PVOG keeps deletes forever, so there are
  millions of them) are *orphan deletes*: the engine counts and ignores them;
* an object that cannot be read (an invalid ARS, a Zuständigkeit whose Leistung is
  unknown) becomes a :class:`~efa_core.connectors.Rejected`; the rest of the page goes on;
* Leistungen are not records; the connector remembers their LeiKa keys (a Zuständigkeit
  names its Leistung only by id).  Leistungen, Onlinedienste, Organisationseinheiten,
  Spezialisierungen, other objects and their deletes are reported per batch as
  :class:`~efa_core.connectors.Skipped` with the reason (and counted in
  :attr:`PvogConnector.skipped`), so every object of a page is accounted for;
* a page whose XZuFi message is no XZuFi 2.2/2.3 transfer message (an HTML error page,
  another version) fails the pull with :class:`~efa_core.errors.SourceNotUnderstood`.

The cursor of a batch is the page's ``naechsterIndex`` and ``naechsteAnfrageUrl`` (plus
the ARS restriction): a pull resumes exactly after the last page stored.  A page that cannot
be used (malformed XML, not JSON, an unusable envelope, retries exhausted) fails the pull
with a :class:`~efa_core.errors.ConnectorError` *before* anything of it is delivered, so the
stored cursor stays at the last good page and nothing is skipped.

When a pull resumes from a cursor, the Leistungen of the pages before it are not in memory.
The first time a Zuständigkeit names a Leistung the connector does not know, it reads the
feed from index 0 up to the cursor once, keeping only the Leistungen (a *Leistung
backfill*), and then maps the page.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import re
import urllib.parse
from collections import Counter
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from typing import Any, ClassVar, Final

import attrs
import httpx
from efa_xzufi import (
    LEIKA_SCHEME_ID,
    InvalidObject,
    LeistungIndex,
    LeistungObject,
    OrganisationseinheitObject,
    RecordMapper,
    TransferMessageReader,
    XZuFiError,
    XZuFiItem,
    XZuFiNotUnderstood,
    ZustaendigkeitObject,
)

from efa_core.connectors import Batch, Capability, CheckResult, Delete, Rejected, Skipped, Upsert
from efa_core.errors import ConnectorError, InvalidIdentifier, SourceNotUnderstood
from efa_core.http import (
    Clock,
    HttpConnector,
    HttpSettings,
    OAuth2ClientCredentials,
    Page,
    Step,
    create_client,
    next_url,
    paginate,
    redact_url,
)
from efa_core.ids import Ars
from efa_core.secret import Secret
from efa_pvog.feed import FeedCursor, FeedPage, PvogFeedError, parse_envelope

__all__ = ["V2_FEED_PATH", "V3_FEED_PATH", "PvogConfig", "PvogConnector"]

log = logging.getLogger("efa_pvog")

#: The feed path of the Bereitstelldienst v2 (verified on the PVOG demo system).
V2_FEED_PATH: Final = "/bereitstelldienst/api/v2/verwaltungsobjekte"
#: The feed path of the Bereitstelldienst v3 for XZuFi 2.3.1 (second-hand).
V3_FEED_PATH: Final = "/bereitstelldienst/api/v3/verwaltungsobjekte/xzufi-2-3-1"

_LOOPBACK: Final = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
_ARS_RESTRICTION = re.compile(r"\A(%|[0-9]+%?)\Z")


def _check_url(instance: object, attribute: attrs.Attribute[Any], value: str) -> None:
    if not isinstance(value, str):
        raise ValueError(f"{attribute.name} must be a string, got {type(value).__name__}")
    parsed = urllib.parse.urlsplit(value)
    if parsed.scheme not in ("https", "http") or not parsed.hostname:
        raise ValueError(f"{attribute.name} must be an absolute https:// URL, got {value!r}")
    if parsed.scheme == "http" and parsed.hostname not in _LOOPBACK:
        raise ValueError(
            f"{attribute.name} {value!r} uses plain http; the feed carries OAuth2 tokens, so "
            "only https:// is allowed (http:// only for 127.0.0.1 / localhost)"
        )


def _check_client_id(instance: object, attribute: attrs.Attribute[Any], value: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("client_id must not be empty")


def _check_path(instance: object, attribute: attrs.Attribute[Any], value: str) -> None:
    if not isinstance(value, str) or not value.startswith("/") or "?" in value:
        raise ValueError(
            f"feed_path must be a path starting with '/' and without query, got {value!r}"
        )


def _check_ars(instance: object, attribute: attrs.Attribute[Any], value: str) -> None:
    if not isinstance(value, str) or not _ARS_RESTRICTION.match(value):
        raise ValueError(
            f"ars must be '%' (everything) or an ARS such as '16' or '16055', optionally "
            f"followed by '%', got {value!r}"
        )
    prefix = value.rstrip("%")
    if prefix:
        try:
            Ars(prefix)
        except InvalidIdentifier as exc:
            raise ValueError(f"ars: {exc}") from None


def _check_index(instance: object, attribute: attrs.Attribute[Any], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"start_index must be a non-negative integer, got {value!r}")


@attrs.frozen(kw_only=True)
class PvogConfig:
    """Options of a ``pvog`` connector (one ``[connectors.NAME]`` table).

    There is no default server: ``base_url`` and ``auth_url`` are required, so a
    configuration never talks to a production system by accident.
    """

    #: The Bereitstelldienst host, e.g. ``https://public.demo.pvog.dataport.de`` (demo, v2).
    base_url: str = attrs.field(validator=_check_url)
    #: The OAuth2 token endpoint (client credentials).
    auth_url: str = attrs.field(validator=_check_url)
    #: The OAuth2 client id registered for the feed.
    client_id: str = attrs.field(validator=_check_client_id)
    #: The OAuth2 client secret (write ``"${PVOG_CLIENT_SECRET}"`` in ``efa.toml``).
    client_secret: Secret
    #: The feed path below ``base_url``; :data:`V3_FEED_PATH` selects v3 (XZuFi 2.3.1).
    feed_path: str = attrs.field(default=V2_FEED_PATH, validator=_check_path)
    #: The ARS restriction sent as ``ars``: ``"%"`` for everything, or an ARS (prefix).
    ars: str = attrs.field(default="%", validator=_check_ars)
    #: The feed index of the first pull (without a stored cursor).
    start_index: int = attrs.field(default=0, validator=_check_index)
    #: OAuth2 scopes to request (``None``: none, the usual choice).
    scope: str | None = None
    #: Follow the server's ``naechsteAnfrageUrl`` (only on the ``base_url`` host); else
    #: build the next request from ``naechsterIndex``.
    follow_next_url: bool = True
    #: Timeouts, retries, rate limit, proxy (see :class:`efa_core.http.HttpSettings`).
    http: HttpSettings = attrs.field(factory=HttpSettings)


def _same_origin(url: str, base: httpx.URL) -> bool:
    try:
        target = httpx.URL(url)
    except httpx.InvalidURL:
        return False
    return (target.scheme, target.host, target.port) == (base.scheme, base.host, base.port)


class PvogConnector(HttpConnector):
    """Pull the PVOG Bereitstelldienst change feed (a CHANGE_FEED connector).

    :param transport: replaces the network in tests (wrapped with retries like the default).
    :param clock: time source for retries and token expiry (tests).
    """

    type_name: ClassVar[str] = "pvog"
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.CHANGE_FEED})
    config_class: ClassVar[type[Any]] = PvogConfig

    config: PvogConfig

    def __init__(
        self,
        config: PvogConfig,
        *,
        name: str,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(config, name=name, transport=transport, clock=clock or Clock())
        self._base = httpx.URL(config.base_url)
        #: Composite Leistung id -> LeiKa keys, learned from the pages read so far.
        self._leistungen = LeistungIndex()
        #: Every page from index 0 up to this index has been read into ``_leistungen``.
        self._covered: int | None = None
        #: XZuFi objects and deletes that have no record kind, counted by kind.
        self.skipped: Counter[str] = Counter()
        #: How many Leistung backfills ran (see the module docs).
        self.backfills = 0

    # -- lifecycle ------------------------------------------------------------------------

    def make_client(self) -> httpx.AsyncClient:
        """Create the HTTP client with OAuth2 client-credentials authentication."""
        from efa_pvog import __version__

        config = self.config
        settings = config.http
        if settings.user_agent_suffix is None:
            settings = attrs.evolve(settings, user_agent_suffix=f"efa-pvog/{__version__}")
        auth = OAuth2ClientCredentials(
            token_url=config.auth_url,
            client_id=config.client_id,
            client_secret=config.client_secret,
            scope=config.scope,
            clock=self.clock,
        )
        return create_client(
            base_url=config.base_url,
            settings=settings,
            auth=auth,
            transport=self.transport,
            headers={"Accept": "application/json"},
            clock=self.clock,
        )

    # -- requests -------------------------------------------------------------------------

    def _where(self, index: int) -> str:
        return f"{self.label}: feed page index={index}"

    def _pages(
        self, start: FeedCursor, *, follow: bool = True
    ) -> tuple[_FeedWalk, AsyncGenerator[Page, None]]:
        """Walk the feed from *start* with :func:`efa_core.http.paginate`.

        Returns the walk (its :attr:`_FeedWalk.page` is the checked page just yielded) and
        the pages.  The HTTP layer retries errors while a body is read (a cut-off body, a
        stall past the read timeout) like connection errors, so nothing is retried here.
        """
        walk = _FeedWalk(self, start, follow=follow)
        url, params = walk.request(start)
        return walk, paginate(self.client, url, params, next_page=walk)

    # -- XZuFi ------------------------------------------------------------------------------

    def _read(self, page: FeedPage, kinds: frozenset[str] | None = None) -> list[XZuFiItem]:
        """Read every object of the page's messages (the whole page, or nothing)."""
        items: list[XZuFiItem] = []
        for number, message in enumerate(page.messages, start=1):
            name = f"{self.name} page index={page.index}"
            if len(page.messages) > 1:
                name += f" message {number}"
            try:
                items.extend(TransferMessageReader(message, name=name, kinds=kinds))
            except XZuFiNotUnderstood as exc:
                raise SourceNotUnderstood(
                    f"the XZuFi message in 'xzufiObjekte' {exc.reason}; the pull stops before "
                    "this page (the stored cursor still points at it)",
                    source=self.name,
                    where=f"feed page index={page.index}",
                ) from exc
            except XZuFiError as exc:
                raise PvogFeedError(
                    f"{self._where(page.index)}: the XZuFi message in 'xzufiObjekte' cannot "
                    f"be read: {exc}; the pull stops before this page (the stored cursor "
                    "still points at it)",
                    index=page.index,
                ) from exc
        return items

    def _learn(self, items: Sequence[XZuFiItem]) -> None:
        for item in items:
            if isinstance(item, LeistungObject) or (
                isinstance(item, InvalidObject) and item.kind == "leistung"
            ):
                self._leistungen.add(item)

    def _unknown_leistungen(self, items: Sequence[XZuFiItem]) -> list[str]:
        unknown: list[str] = []
        for item in items:
            entries: Sequence[ZustaendigkeitObject]
            if isinstance(item, ZustaendigkeitObject):
                entries = (item,)
            elif isinstance(item, OrganisationseinheitObject):
                entries = item.zustaendigkeiten
            else:
                continue
            for entry in entries:
                ident = entry.leistung_id
                if ident.scheme_id != LEIKA_SCHEME_ID and ident.composite not in self._leistungen:
                    unknown.append(ident.composite)
        return unknown

    async def _backfill(self, until: int) -> None:
        """Read the Leistungen of the pages from index 0 (or where known) up to *until*."""
        self.backfills += 1
        position = FeedCursor(index=self._covered or 0, url=None, ars=self.config.ars)
        log.info(
            "%s: resuming at index %d with Leistungen unknown; reading the Leistungen of "
            "indexes %d to %d once",
            self.label,
            until,
            position.index,
            until,
        )
        if position.index < until:
            walk, pages = self._pages(position, follow=False)
            async with contextlib.aclosing(pages):
                async for _ in pages:
                    page = walk.page
                    self._learn(self._read(page, kinds=frozenset({"leistung"})))
                    if page.complete or page.next_index >= until:
                        break
        self._covered = until

    async def _map(
        self, page: FeedPage
    ) -> tuple[list[Upsert | Delete], list[Rejected], list[Skipped]]:
        items = self._read(page)
        self._learn(items)
        unknown = self._unknown_leistungen(items)
        if unknown and (self._covered is None or self._covered < page.index):
            log.debug(
                "%s: page index=%d names unknown Leistungen %s", self.label, page.index, unknown[:5]
            )
            await self._backfill(page.index)
        if self._covered == page.index:
            self._covered = page.next_index
        mapper = RecordMapper(self._leistungen, services=False)
        changes: list[Upsert | Delete] = []
        rejected: list[Rejected] = []
        skipped: dict[tuple[str, str], Skipped] = {}
        for item in items:
            for mapped in mapper.map(item):
                self._sort(mapped, changes, rejected, skipped)
        for mapped in mapper.finish():
            self._sort(mapped, changes, rejected, skipped)
        self.skipped.update(mapper.skipped)
        return changes, rejected, list(skipped.values())

    @staticmethod
    def _sort(
        mapped: Upsert | Delete | Rejected | Skipped,
        changes: list[Upsert | Delete],
        rejected: list[Rejected],
        skipped: dict[tuple[str, str], Skipped],
    ) -> None:
        if isinstance(mapped, Rejected):
            rejected.append(mapped)
        elif isinstance(mapped, Skipped):
            # one entry per kind and reason, counted, at its first position
            same = skipped.get((mapped.kind, mapped.reason))
            skipped[(mapped.kind, mapped.reason)] = (
                mapped if same is None else attrs.evolve(same, count=same.count + mapped.count)
            )
        else:
            changes.append(mapped)

    # -- the contract -------------------------------------------------------------------------

    def _start(self, cursor: str | None) -> FeedCursor:
        config = self.config
        if cursor is None:
            if config.start_index == 0 and self._covered is None:
                self._covered = 0
            return FeedCursor(index=config.start_index, url=None, ars=config.ars)
        position = FeedCursor.decode(cursor, where=self.label)
        if position.ars != config.ars:
            raise PvogFeedError(
                f"{self.label}: the stored cursor was written for ars={position.ars!r}, but "
                f"the connector is configured with ars={config.ars!r}; resuming would skip or "
                "repeat data, so reset the source's cursor to read the feed from the start"
            )
        return position

    async def pull_batches(self, cursor: str | None) -> AsyncIterator[Batch]:
        """Yield one batch per feed page, starting after *cursor*.

        The walk ends where a page says ``vollstaendig``; a page that repeats a request or
        the messages of an earlier page ends it with :class:`~efa_core.http.PagingError`.
        """
        walk, pages = self._pages(self._start(cursor))
        async with contextlib.aclosing(pages):
            async for _ in pages:
                page = walk.page
                changes, rejected, skipped = await self._map(page)
                following = FeedCursor(
                    index=page.next_index, url=page.next_url, ars=self.config.ars
                )
                log.debug(
                    "%s: page index=%d: %d changes, %d rejected, next index %d%s",
                    self.label,
                    page.index,
                    len(changes),
                    len(rejected),
                    page.next_index,
                    " (complete)" if page.complete else "",
                )
                yield Batch(
                    changes,
                    following.encode(),
                    complete=page.complete,
                    rejected=rejected,
                    skipped=skipped,
                    warnings=self.take_warnings(),
                )

    async def check_source(self) -> CheckResult:
        """Fetch a token and the first page: proves the credentials and the feed work."""
        position = FeedCursor(index=self.config.start_index, url=None, ars=self.config.ars)
        walk, pages = self._pages(position)
        try:
            async with contextlib.aclosing(pages):
                await anext(pages)
        except ConnectorError as exc:
            return CheckResult(False, str(exc))
        page = walk.page
        return CheckResult(
            True,
            f"{self.label}: {redact_url(self._base)} accepted the client credentials of "
            f"{self.config.client_id!r}; the feed page at index {page.index} holds "
            f"{len(page.messages)} XZuFi message(s)"
            + (" and the feed is complete" if page.complete else ""),
        )


class _FeedWalk:
    """The feed's paging for :func:`efa_core.http.paginate`: next-URL mode, ``vollstaendig``.

    Each page is checked (:func:`~efa_pvog.feed.parse_envelope`; :class:`PvogFeedError`
    naming the index when it cannot be used) and kept in :attr:`page`.  The next request is
    ``naechsteAnfrageUrl`` when the connector follows it and it stays on ``base_url``'s
    host, else the feed path with ``naechsterIndex``; ``vollstaendig: true`` proves the end.
    The page's items, for paginate's loop detection, are digests of its messages.
    """

    def __init__(self, connector: PvogConnector, start: FeedCursor, *, follow: bool) -> None:
        self._connector = connector
        self._follow = follow and connector.config.follow_next_url
        #: Where the request just sent reads (the index the next page is checked against).
        self._position = start
        self._page: FeedPage | None = None
        self._decide = next_url(key=self._next_target, done="vollstaendig")

    @property
    def page(self) -> FeedPage:
        """The checked page of the last answer."""
        assert self._page is not None, "no page read yet"
        return self._page

    def request(self, position: FeedCursor) -> tuple[str, dict[str, str] | None]:
        """Return ``(url, query)`` of the request reading *position*."""
        connector = self._connector
        url = position.url
        if self._follow and url is not None:
            if _same_origin(url, connector._base):
                return url, None
            log.warning(
                "%s: naechsteAnfrageUrl %s is not on %s; using naechsterIndex instead",
                connector.label,
                redact_url(url),
                connector._base.host,
            )
        params = {"index": str(position.index), "ars": position.ars}
        return connector.config.feed_path, params

    def _next_target(self, body: Any) -> str | None:
        page = self.page
        following = FeedCursor(
            index=page.next_index, url=page.next_url, ars=self._connector.config.ars
        )
        url, params = self.request(following)
        if params is not None:  # the feed path below base_url, with naechsterIndex
            url = str(self._connector.client.build_request("GET", url, params=params).url)
        return url

    def __call__(self, response: httpx.Response, body: Any) -> Step:
        index = self._position.index
        self._page = page = parse_envelope(body, index=index, where=self._connector._where(index))
        step = self._decide(response, body)
        self._position = FeedCursor(
            index=page.next_index, url=page.next_url, ars=self._connector.config.ars
        )
        digests = [hashlib.blake2b(m, digest_size=16).hexdigest() for m in page.messages]
        return Step(digests, step.next)
