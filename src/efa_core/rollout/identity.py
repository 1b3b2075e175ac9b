"""Service identity: one service per EfA offer, joined from the records of every source.

:func:`resolve` turns the live service records and the :class:`IdentityRules` (``efa.toml``
``[identity]``, plugin matchers) into a :class:`Resolution`: the canonical services
(:class:`ServiceInfo`), which id names which service, and which URL belongs to whom.
:func:`normalise_url` is how URLs are compared.  The rules are in docs/rollout.md,
"Service identity".

.. versionadded:: 0.2.0
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final, Protocol
from urllib.parse import urlsplit

import attrs
import orjson

from efa_core.errors import EfaError
from efa_core.ids import Land
from efa_core.store import ServiceRow

if TYPE_CHECKING:
    from efa_core.model import Service

__all__ = [
    "AttributeConflict",
    "IdentityLink",
    "IdentityMatcher",
    "IdentityRules",
    "Resolution",
    "ServiceInfo",
    "ServiceRecord",
    "normalise_url",
    "resolve",
]

#: Where links from the configuration say they come from.
CONFIG_ORIGIN: Final = "efa.toml [identity]"

_SLASHES = re.compile(r"/+")


def normalise_url(url: str | None) -> str | None:
    """Return the form in which URLs are compared, or None for no http(s) URL.

    The scheme, ``www.``, a default port, the query, the fragment and a trailing ``/`` are
    dropped and the host is lower-cased; the path keeps its case:
    ``"https://www.Example.org:443/Antrag/?v=1#top"`` becomes ``"example.org/Antrag"``.
    The query goes because portals put cache busters there (the OZG-Dashboard's own
    example ends in ``?v=1631864309988``).
    """
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    host = (parts.hostname or "").lower().rstrip(".")
    if parts.scheme.lower() not in ("http", "https") or not host:
        return None
    if host.startswith("www."):
        host = host[4:]
    if port is not None and port not in (80, 443):
        host = f"{host}:{port}"
    return host + _SLASHES.sub("/", parts.path).rstrip("/")


def _url_prefixes(normalised: str) -> Iterable[str]:
    """Yield *normalised* and each shorter prefix at a ``/``, longest first."""
    text = normalised
    while True:
        yield text
        cut = text.rfind("/")
        if cut <= 0:
            return
        text = text[:cut]


@attrs.frozen(order=True)
class IdentityLink:
    """One reason why two identifiers name the same offer.

    *a* and *b* are ids (service keys, offer ids, Onlinedienst ids); *reason* says who
    claims it, e.g. ``"marktplatz MP-101 names Onlinedienst S16000_Onlinedienst_OD-EWA"``.
    """

    a: str
    b: str
    reason: str


@attrs.frozen
class ServiceRecord:
    """One live service record, as identity matchers see it."""

    source: str
    record: Service

    @property
    def key(self) -> str:
        """The record's key in its source."""
        return self.record.key


class IdentityMatcher(Protocol):
    """A plugin's matcher: ``matcher(records) -> Iterable[IdentityLink]``.

    It sees every live service record of every source and returns the links it finds
    (e.g. "these two names are the same offer").  It must be deterministic: the same
    records give the same links.  Register it with the ``efa_register_identity_matchers``
    hook.
    """

    def __call__(self, records: Sequence[ServiceRecord]) -> Iterable[IdentityLink]:
        """Return links between the ids of *records* (or any other ids)."""


@attrs.frozen(kw_only=True)
class IdentityRules:
    """How the view joins records into services beyond what the sources say themselves.

    Built from ``efa.toml`` by :meth:`from_config` (``[identity]`` and ``[rollout]``).
    """

    #: Groups of ids that are one offer; the first id of a group becomes the service's key.
    same: tuple[tuple[str, ...], ...] = ()
    #: Groups of ids that are never one offer, whatever links say.
    distinct: tuple[tuple[str, ...], ...] = ()
    #: More Onlinedienst ids of an offer: ``{id: (onlinedienst id, ...)}``.
    onlinedienste: Mapping[str, tuple[str, ...]] = attrs.field(factory=dict)
    #: More URLs of an offer: ``{id: (url, ...)}``.
    urls: Mapping[str, tuple[str, ...]] = attrs.field(factory=dict)
    #: Sources in order of precedence when sources disagree (unlisted ones come after).
    source_priority: tuple[str, ...] = ()
    #: The plugins' matchers by name (``registry.identity_matchers()``).
    matchers: Mapping[str, Callable[..., Iterable[IdentityLink]]] = attrs.field(factory=dict)

    @classmethod
    def from_config(cls, config: Any, registry: Any = None) -> IdentityRules:
        """Return the rules of an :class:`~efa_core.config.EfaConfig` and a registry's matchers."""
        identity = config.identity
        return cls(
            same=identity.same,
            distinct=identity.distinct,
            onlinedienste=identity.onlinedienste,
            urls=identity.urls,
            source_priority=config.rollout.source_priority,
            matchers={} if registry is None else dict(registry.identity_matchers()),
        )

    def to_json(self) -> str:
        """Return the rules as JSON (the matchers by name), as the view stores them."""
        return orjson.dumps(
            {
                "same": self.same,
                "distinct": self.distinct,
                "onlinedienste": dict(sorted(self.onlinedienste.items())),
                "urls": dict(sorted(self.urls.items())),
                "source_priority": self.source_priority,
                "matchers": sorted(self.matchers),
            }
        ).decode()

    @classmethod
    def from_json(
        cls,
        text: str,
        matchers: Mapping[str, Callable[..., Iterable[IdentityLink]]] | None = None,
    ) -> IdentityRules:
        """Inverse of :meth:`to_json`; the matchers it names are taken from *matchers*."""
        data = orjson.loads(text)
        matchers = matchers or {}
        return cls(
            same=tuple(tuple(g) for g in data["same"]),
            distinct=tuple(tuple(g) for g in data["distinct"]),
            onlinedienste={k: tuple(v) for k, v in data["onlinedienste"].items()},
            urls={k: tuple(v) for k, v in data["urls"].items()},
            source_priority=tuple(data["source_priority"]),
            matchers={n: matchers[n] for n in data["matchers"] if n in matchers},
        )

    def priority(self, source: str) -> int:
        """Return the rank of *source* in :attr:`source_priority` (lower wins)."""
        try:
            return self.source_priority.index(source)
        except ValueError:
            return len(self.source_priority)


@attrs.frozen(kw_only=True)
class AttributeConflict:
    """Records of one service disagree on an attribute (provider Land, operator, URL host)."""

    field: str
    #: ``(source, key, value)`` of every record with a value, governing one first.
    values: tuple[tuple[str, str, str], ...]

    @property
    def governing(self) -> tuple[str, str, str]:
        """The value that counts: by source priority, then the most recent record."""
        return self.values[0]


@attrs.frozen(kw_only=True)
class ServiceInfo:
    """A service as the derived view sees it: one EfA offer over all sources.

    :attr:`key` is the canonical key (the one rows, findings and costs use); every id in
    :attr:`aliases` finds it too (:meth:`efa_core.rollout.RolloutView.service`).
    """

    key: str
    name: str
    #: The LeiKa keys of all its records, sorted.
    leika_keys: tuple[str, ...]
    #: ``(source, natural_key, at)`` of each service record joined into it; *at* is its
    #: ``modified_at``, else when it was fetched.
    records: tuple[tuple[str, str, datetime | None], ...]
    #: Every id it is known by: record keys, offer ids, Onlinedienst ids; sorted.
    aliases: tuple[str, ...] = ()
    #: The Onlinedienst ids of the offer (from records and ``[identity.onlinedienste]``).
    onlinedienst_ids: tuple[str, ...] = ()
    #: Its URLs, normalised (:func:`normalise_url`).
    urls: tuple[str, ...] = ()
    #: The OZG ids its records name, in numeric order.  Like LeiKa keys they name the Leistung, not
    #: the offer: they never join records (shown by ``efa explain service``).
    ozg_ids: tuple[str, ...] = ()
    #: The governing provider Land, operator and URL (see :attr:`conflicts`).
    land: Land | None = None
    operator: str | None = None
    url: str | None = None
    #: Attributes its records disagree on (a ``sources-disagree`` finding each).
    conflicts: tuple[AttributeConflict, ...] = ()
    #: The links that joined its ids (for ``efa explain service``).
    links: tuple[IdentityLink, ...] = ()
    #: Links that were not followed: forbidden by ``distinct``, or a URL shared without a
    #: common LeiKa key.
    refused: tuple[IdentityLink, ...] = ()

    def identity_signature(self) -> str:
        """Return a digest of what decides which evidence belongs to the service."""
        return _digest([self.key, self.aliases, self.onlinedienst_ids, self.urls, self.leika_keys])

    def row_signature(self) -> str:
        """Return a digest of what its rows hold of it besides evidence (its records)."""
        return _digest(
            [[s, k, None if at is None else at.isoformat()] for s, k, at in self.records]
        )


def _digest(value: Any) -> str:
    return hashlib.blake2b(orjson.dumps(value), digest_size=12).hexdigest()


@attrs.frozen
class Resolution:
    """Which records are which service: the result of :func:`resolve`."""

    #: Canonical key -> service, sorted by key.
    services: Mapping[str, ServiceInfo]
    #: Every id (record keys, offer and Onlinedienst ids) -> its canonical key.
    aliases: Mapping[str, str]
    #: Normalised URL -> the canonical keys that have it.
    url_owners: Mapping[str, tuple[str, ...]]
    #: LeiKa key -> the canonical keys that list it, sorted.
    by_leika: Mapping[str, tuple[str, ...]]

    def canonical(self, ref: str) -> str | None:
        """Return the canonical key of the service *ref* names (any alias), or None."""
        return self.aliases.get(ref)

    def url_owner_keys(self, url: str | None) -> tuple[str, ...]:
        """Return the services whose URL is the longest ``/``-prefix of *url* (or ``()``)."""
        normalised = normalise_url(url)
        if normalised is None:
            return ()
        for prefix in _url_prefixes(normalised):
            found = self.url_owners.get(prefix)
            if found:
                return found
        return ()


# -- resolution -------------------------------------------------------------------------------


@attrs.frozen
class _Rec:
    source: str
    key: str
    name: str
    leika: tuple[str, ...]
    ozg_ids: tuple[str, ...]
    offer_ids: tuple[str, ...]
    onlinedienst_ids: tuple[str, ...]
    url: str | None
    land: str | None
    operator: str | None
    modified_at: datetime | None
    seen: datetime | None
    payload: Mapping[str, Any] = attrs.field(eq=False, repr=False)


def _rec(row: ServiceRow) -> _Rec:
    payload = row.payload
    return _Rec(
        source=row.source,
        key=payload["key"],
        name=payload["name"],
        leika=tuple(payload.get("leika_keys") or ()),
        ozg_ids=tuple(payload.get("ozg_ids") or ()),
        offer_ids=tuple(payload.get("offer_ids") or ()),
        onlinedienst_ids=tuple(payload.get("onlinedienst_ids") or ()),
        url=payload.get("url"),
        land=payload.get("land"),
        operator=payload.get("operator"),
        modified_at=row.modified_at,
        seen=row.modified_at or row.fetched_at,
        payload=payload,
    )


class _Union:
    """Union-find over ids with "never together" constraints, in a fixed order."""

    def __init__(self, distinct: Iterable[Sequence[str]]) -> None:
        self.parent: dict[str, str] = {}
        self.forbidden: dict[str, set[str]] = defaultdict(set)
        for group in distinct:
            for a in group:
                self.forbidden[a].update(b for b in group if b != a)
        # per root: the constrained ids in its component
        self.constrained: dict[str, set[str]] = {}

    def find(self, x: str) -> str:
        parent = self.parent.setdefault(x, x)
        if parent == x:
            if x not in self.constrained:
                self.constrained[x] = {x} if x in self.forbidden else set()
            return x
        root = self.find(parent)
        self.parent[x] = root
        return root

    def union(self, a: str, b: str) -> bool | None:
        """Join the components of *a* and *b*: True, None if already one, False if forbidden."""
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return None
        for x in self.constrained[ra]:
            if self.forbidden[x] & self.constrained[rb]:
                return False
        if rb < ra:
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.constrained[ra] |= self.constrained.pop(rb)
        return True


def resolve(rows: Iterable[ServiceRow], rules: IdentityRules | None = None) -> Resolution:
    """Join service records into canonical services.

    :param rows: every live service record (:meth:`efa_core.store.EvidenceReader.services`).
    :param rules: the configured links, forbidden links and matchers.
    :raises efa_core.errors.EfaError: a matcher fails or returns something else than
        :class:`IdentityLink` objects (the message names the matcher).

    Deterministic: links are followed in a fixed order (configuration, the sources' own
    ids, matchers, shared URLs; each sorted), a link that would join ids the
    configuration keeps ``distinct`` is refused, and the canonical key is chosen by
    rule (see docs/rollout.md).
    """
    rules = rules or IdentityRules()
    recs = sorted((_rec(row) for row in rows), key=lambda r: (r.key, r.source))
    keys = sorted({r.key for r in recs})
    by_key: dict[str, list[_Rec]] = defaultdict(list)
    for r in recs:
        by_key[r.key].append(r)

    # -- the links, by class: 0 configuration, 1 the sources' ids, 2 matchers, 3 URLs
    links: list[tuple[int, IdentityLink]] = []
    for group in rules.same:
        links += [(0, IdentityLink(group[0], x, f"{CONFIG_ORIGIN} same")) for x in group[1:]]
    for key, ids in rules.onlinedienste.items():
        links += [(0, IdentityLink(key, x, f"{CONFIG_ORIGIN}.onlinedienste of {key}")) for x in ids]
    for r in recs:
        links += [
            (1, IdentityLink(r.key, x, f"{r.source} {r.key} names offer id {x}"))
            for x in r.offer_ids
        ]
        links += [
            (1, IdentityLink(r.key, x, f"{r.source} {r.key} names Onlinedienst {x}"))
            for x in r.onlinedienst_ids
        ]
    if rules.matchers:
        links += _matcher_links(recs, rules.matchers)
    urls: dict[str, set[str]] = defaultdict(set)
    for r in recs:
        normalised = normalise_url(r.url)
        if normalised is not None:
            urls[normalised].add(r.key)
    for key, extra in rules.urls.items():
        for url in extra:
            normalised = normalise_url(url)
            if normalised is not None:
                urls[normalised].add(key)
    leika_of = {k: {x for r in by_key[k] for x in r.leika} for k in keys}
    refused_url: list[IdentityLink] = []
    for url, owners in sorted(urls.items()):
        known = sorted(k for k in owners if k in by_key)
        for i, a in enumerate(known):
            for b in known[i + 1 :]:
                if leika_of[a] & leika_of[b]:
                    links.append((3, IdentityLink(a, b, f"both have the URL {url}")))
                else:
                    refused_url.append(
                        IdentityLink(a, b, f"both have the URL {url} but no LeiKa key in common")
                    )

    # -- union in order
    union = _Union(rules.distinct)
    for key in keys:
        union.find(key)
    accepted: list[IdentityLink] = []
    refused: list[IdentityLink] = list(refused_url)
    for _, link in sorted(links):
        if link.a == link.b:
            continue
        done = union.union(link.a, link.b)
        if done is False:
            refused.append(
                attrs.evolve(link, reason=f"{link.reason} (refused: {CONFIG_ORIGIN} distinct)")
            )
        else:
            accepted.append(link)

    # -- components with records become services
    members: dict[str, list[str]] = defaultdict(list)
    for x in list(union.parent):
        members[union.find(x)].append(x)
    first_of_group: dict[str, int] = {}
    for n, group in enumerate(rules.same):
        first_of_group.setdefault(group[0], n)
    od_ids_all = {x for r in recs for x in r.onlinedienst_ids} | {
        x for extra_ids in rules.onlinedienste.values() for x in extra_ids
    }
    services: dict[str, ServiceInfo] = {}
    aliases: dict[str, str] = {}
    url_owners: dict[str, set[str]] = defaultdict(set)
    by_leika: dict[str, set[str]] = defaultdict(set)
    for member_ids in members.values():
        record_keys = sorted(x for x in member_ids if x in by_key)
        if not record_keys:
            continue
        id_set = set(member_ids)
        group_recs = sorted(
            (r for k in record_keys for r in by_key[k]), key=lambda r: _governing(r, rules)
        )
        canonical = _canonical(record_keys, group_recs, first_of_group, od_ids_all, rules)
        od_ids = sorted(
            {x for r in group_recs for x in r.onlinedienst_ids}
            | {x for k in id_set for x in rules.onlinedienste.get(k, ())}
        )
        service_urls = sorted(u for u, owners in urls.items() if owners & id_set)
        service_leika = sorted({x for r in group_recs for x in r.leika})
        land, operator, service_url, conflicts = _attributes(group_recs)
        info = ServiceInfo(
            key=canonical,
            name=group_recs[0].name,
            leika_keys=tuple(service_leika),
            records=tuple(sorted((r.source, r.key, r.seen) for r in group_recs)),
            aliases=tuple(sorted(id_set)),
            onlinedienst_ids=tuple(od_ids),
            urls=tuple(service_urls),
            ozg_ids=tuple(
                sorted({x for r in group_recs for x in r.ozg_ids}, key=lambda x: (len(x), x))
            ),
            land=None if land is None else Land(land),
            operator=operator,
            url=service_url,
            conflicts=conflicts,
            links=tuple(
                sorted(l for l in accepted if l.a in id_set or l.b in id_set)  # noqa: E741
            ),
            refused=tuple(sorted(l for l in refused if l.a in id_set or l.b in id_set)),  # noqa: E741
        )
        services[canonical] = info
        for x in member_ids:
            aliases[x] = canonical
        for u in service_urls:
            url_owners[u].add(canonical)
        for k in service_leika:
            by_leika[k].add(canonical)
    return Resolution(
        services=dict(sorted(services.items())),
        aliases=aliases,
        url_owners={u: tuple(sorted(o)) for u, o in url_owners.items()},
        by_leika={k: tuple(sorted(v)) for k, v in by_leika.items()},
    )


def _governing(r: _Rec, rules: IdentityRules) -> tuple[Any, ...]:
    """Order records by precedence: source priority, most recent, source, key."""
    stamp = -r.modified_at.timestamp() if r.modified_at is not None else float("inf")
    return (rules.priority(r.source), stamp, r.source, r.key)


def _canonical(
    record_keys: Sequence[str],
    group_recs: Sequence[_Rec],
    first_of_group: Mapping[str, int],
    od_ids: set[str],
    rules: IdentityRules,
) -> str:
    """Choose the configured first id of a ``same`` group, else a registry-like key."""
    configured = [k for k in record_keys if k in first_of_group]
    if configured:
        return min(configured, key=lambda k: (first_of_group[k], k))
    best_source: dict[str, int] = {}
    for r in group_recs:
        best_source.setdefault(r.key, rules.priority(r.source))
    return min(record_keys, key=lambda k: (k in od_ids, best_source[k], k))


def _attributes(
    recs: Sequence[_Rec],
) -> tuple[str | None, str | None, str | None, tuple[AttributeConflict, ...]]:
    """Return the governing provider Land, operator and URL, and the records' conflicts."""
    conflicts = []
    chosen: list[str | None] = []
    compare: tuple[tuple[str, Callable[[_Rec], str | None], Callable[[str], str]], ...] = (
        ("land", lambda r: r.land, lambda v: v),
        ("operator", lambda r: r.operator, lambda v: v.casefold()),
        ("url", lambda r: r.url, lambda v: (normalise_url(v) or v).split("/", 1)[0]),
    )
    for name, get, same_as in compare:
        values = [(r.source, r.key, v) for r in recs if (v := get(r)) is not None]
        chosen.append(values[0][2] if values else None)
        if len({same_as(v) for _, _, v in values}) > 1:
            conflicts.append(AttributeConflict(field=name, values=tuple(values)))
    return chosen[0], chosen[1], chosen[2], tuple(conflicts)


def _matcher_links(
    recs: Sequence[_Rec], matchers: Mapping[str, Callable[..., Iterable[IdentityLink]]]
) -> list[tuple[int, IdentityLink]]:
    from efa_core.model import Service
    from efa_core.serialization import record_from_dict

    records = []
    for r in recs:
        record = record_from_dict({"kind": "service", **r.payload})
        assert isinstance(record, Service)
        records.append(ServiceRecord(r.source, record))
    out: list[tuple[int, IdentityLink]] = []
    for name in sorted(matchers):
        try:
            found = list(matchers[name](records))
        except Exception as exc:
            raise EfaError(f"identity matcher {name!r} failed: {exc}") from exc
        for link in found:
            if not isinstance(link, IdentityLink):
                raise EfaError(
                    f"identity matcher {name!r} returned {type(link).__name__}, not an IdentityLink"
                )
            out.append((2, attrs.evolve(link, reason=f"matcher {name}: {link.reason}")))
    return out
