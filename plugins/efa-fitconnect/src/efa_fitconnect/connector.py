"""The ``fitconnect`` connector: FIT-Connect destinations from the Routing API v2.

What it asks
------------

The Routing API answers one question: which destinations serve LeiKa key *K* in area *A*?
The connector asks only the (key × area) pairs worth asking:

* with a store lent by the sync engine (:attr:`~efa_core.connectors.Connector.store`), the
  pairs the store knows as **contracted** (``agreement`` records in state ``contracted``:
  the LeiKa keys of their ``service`` × the subscriber's ARS) or **published**
  (``responsibility`` records: their LeiKa key × ARS);
* the explicit ``pairs`` of the configuration (``"99123456760610@16055"``), for use
  without a store, or in addition to it.

Pairs are de-duplicated and asked in sorted order.  Without any pair the pull yields
nothing and logs a warning (so a completed snapshot never deletes routes only because
the store was empty).

What it delivers
----------------

A SNAPSHOT over the asked pairs: one :class:`~efa_core.model.Route` per destination
(destination id, name, origin, the area asked for), one batch per page of ``GET
/routes``; the cursor ``"<key>@<ars>:<next offset>"`` (``":end"`` after a pair's last
page) resumes after that page.  The ``destinationSignature`` of each route is decoded;
its signed ``services[].gebietIDs / leistungIDs`` are kept as evidence on the route record
(``signed_areas``, ``signed_leika_keys``, ``signature_verified``) and, with the decoded
header and claims, in :attr:`FitConnectConnector.evidence`.  With ``signature_key``
configured the signature is verified (PS512) and a route that fails is quarantined as
:class:`~efa_core.connectors.Rejected`.

Errors: RFC 7807 problem answers become :class:`RoutingApiError` (an
:class:`~efa_core.http.HttpError`) with the problem's ``detail``; 429 and 5xx are retried
by the shared HTTP layer, honouring ``Retry-After`` and ``RateLimit-*``.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from typing import Any, ClassVar

import attrs
import httpx

from efa_core.connectors import Batch, Capability, CheckResult, Rejected, Skipped, Upsert
from efa_core.errors import ConfigError, ConnectorError, EfaError, InvalidIdentifier
from efa_core.http import (
    HttpConnector,
    HttpError,
    HttpSettings,
    create_client,
    json_body,
    offset_limit,
    paginate,
)
from efa_core.ids import Ars, LeikaKey
from efa_core.model import AgreementState, Contact, PostalAddress, Route
from efa_fitconnect.signature import (
    SignatureError,
    decode_destination_signature,
    load_public_keys,
    verify_signature,
)

__all__ = [
    "PRODUCTION_URL",
    "TESTING_URL",
    "FitConnectConfig",
    "FitConnectConnector",
    "FoundArea",
    "Pair",
    "RouteEvidence",
    "RoutingApiError",
    "pairs_from_store",
]

log = logging.getLogger("efa_fitconnect")

#: The production Routing API.
PRODUCTION_URL = "https://routing-api-prod.fit-connect.fitko.net/v1"
#: The test environment's Routing API.
TESTING_URL = "https://routing-api-testing.fit-connect.fitko.dev/v1"

_PLUGIN_VERSION = "0.1.0"
#: ``totalCount`` (an int, or a numeric string) proves the end; a page over ``limit`` is cut.
_ROUTES = offset_limit(items="routes", total="totalCount")
_AREAS = offset_limit(items="areas", total="totalCount")
_CURSOR = re.compile(r"(?P<leika>\d{14})@(?P<ars>\d{2,12}):(?P<offset>\d+|end)\Z")

#: A (LeiKa key, ARS) pair to ask the Routing API about.
Pair = tuple[LeikaKey, Ars]


def _page_size(instance: object, attribute: attrs.Attribute[Any], value: int) -> None:
    if not 1 <= value <= 500:
        raise ValueError(
            f"{attribute.name} must be between 1 and 500 (the API's maximum), got {value}"
        )


def _parse_pair(text: str) -> Pair:
    leika, sep, area = text.partition("@")
    if not sep:
        raise ValueError(f"pair {text!r} is not '<LeiKa key>@<ARS>', e.g. '99123456760610@16055'")
    try:
        return LeikaKey.parse(leika), Ars.parse(area)
    except InvalidIdentifier as exc:
        raise ValueError(f"pair {text!r}: {exc}") from exc


def _check_pairs(instance: object, attribute: attrs.Attribute[Any], value: tuple[str, ...]) -> None:
    for text in value:
        _parse_pair(text)


def _str_tuple(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(value)


@attrs.frozen(kw_only=True)
class FitConnectConfig:
    """Options of a ``fitconnect`` connector (one ``[connectors.NAME]`` table)."""

    #: The Routing API (production by default; ``TESTING_URL`` for the test environment).
    base_url: str = PRODUCTION_URL
    #: Pairs to ask in any case, as ``"<LeiKa key>@<ARS>"``.
    pairs: tuple[str, ...] = attrs.field(default=(), converter=_str_tuple, validator=_check_pairs)
    #: Derive pairs from the store lent by the sync engine (contracted and published).
    use_store: bool = True
    #: Routes per request (``limit``, 1 to 500).
    page_size: int = attrs.field(default=500, validator=_page_size)
    #: A PEM public key or a JWK / JWK Set file to verify ``destinationSignature`` with
    #: (needs the ``verify`` extra); ``None``: decode only.
    signature_key: str | None = None
    #: Timeouts, retries, rate limit, body limit, redirects, proxy (an ``[connectors.NAME.http]``
    #: table; see :class:`efa_core.http.HttpSettings`).  Its ``user_agent_suffix`` (e.g.
    #: ``"my-tool/1.0 (+mailto:me@example.org)"``) follows ``efa-fitconnect/<version>``.
    http: HttpSettings = attrs.field(factory=HttpSettings)


@attrs.frozen
class RouteEvidence:
    """What a route's ``destinationSignature`` says, kept as evidence."""

    #: The route's natural key.
    route_key: str
    #: The signed areas (``gebietIDs``) and LeiKa keys (``leistungIDs``).
    signed_areas: tuple[Ars, ...]
    signed_leika_keys: tuple[LeikaKey, ...]
    #: Whether a signed service names the asked key and an area containing the asked one.
    covers_pair: bool
    #: ``True``/``False`` after verification, ``None`` when no key is configured.
    verified: bool | None
    #: The decoded JWS header and payload.
    header: Mapping[str, Any] = attrs.field(repr=False)
    claims: Mapping[str, Any] = attrs.field(repr=False)


@attrs.frozen
class FoundArea:
    """An area found by ``GET /areas``."""

    area_id: str
    name: str
    area_type: str


class RoutingApiError(HttpError):
    """An error answer of the Routing API; RFC 7807 fields in :attr:`problem`."""

    #: The problem document (``type``, ``title``, ``status``, ``detail``, ...), if any.
    problem: Mapping[str, Any] | None = None

    @classmethod
    def from_problem(cls, response: httpx.Response) -> RoutingApiError:
        """Build the error for a read error *response*, keeping its problem document."""
        error = cls.from_response(response)
        assert isinstance(error, RoutingApiError)
        try:
            body = response.json()
        except ValueError:
            body = None
        error.problem = body if isinstance(body, dict) else None
        return error


def pairs_from_store(store: Any) -> set[Pair]:
    """Return the (LeiKa key, ARS) pairs *store* knows as contracted or published.

    Contracted: ``agreement`` records in state ``contracted`` with an area subscriber
    (its ARS) × the LeiKa keys of the agreement's ``service`` (looked up in the same
    source first, then in any source).  Published: ``responsibility`` records.
    Records that do not decode are skipped with a log message.
    """
    from efa_core.serialization import record_from_dict

    def records(kind: str) -> Iterable[tuple[str, Any]]:
        for row in store.records(kind=kind):
            try:
                yield str(row.source), record_from_dict(dict(row.payload))
            except (EfaError, ValueError, TypeError) as exc:
                log.warning("skipping stored %s %r: %s", kind, row.natural_key, exc)

    services: dict[tuple[str | None, str], tuple[LeikaKey, ...]] = {}
    for source, service in records("service"):
        services[source, service.key] = service.leika_keys
        services.setdefault((None, service.key), service.leika_keys)
    pairs: set[Pair] = set()
    for source, agreement in records("agreement"):
        if agreement.state is not AgreementState.CONTRACTED or agreement.subscriber.ars is None:
            continue
        keys = services.get((source, agreement.service_key)) or services.get(
            (None, agreement.service_key)
        )
        if not keys:
            log.info(
                "agreement %r: no stored service %r", agreement.natural_key, agreement.service_key
            )
            continue
        pairs.update((key, agreement.subscriber.ars) for key in keys)
    for _, responsibility in records("responsibility"):
        pairs.add((responsibility.leika_key, responsibility.ars))
    return pairs


class FitConnectConnector(HttpConnector):
    """Pull FIT-Connect routes for the pairs worth asking (a SNAPSHOT connector).

    :param transport: replaces the network in tests.
    """

    type_name: ClassVar[str] = "fitconnect"
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.SNAPSHOT})
    config_class: ClassVar[type[Any]] = FitConnectConfig

    config: FitConnectConfig

    def __init__(
        self,
        config: FitConnectConfig,
        *,
        name: str,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__(config, name=name, transport=transport)
        self._keys: Mapping[str | None, Any] | None = None
        #: Route natural key -> signature evidence, for the routes of the latest pull.
        self.evidence: dict[str, RouteEvidence] = {}
        #: (field, problem) -> [rows, first position, first value] of the links left out
        #: in this pull; reported on its last batch.
        self._dropped: dict[tuple[str, str], list[Any]] = {}

    async def setup(self) -> None:
        """Load the verification key (if configured) and create the HTTP client."""
        if self.config.signature_key is not None:
            try:
                self._keys = load_public_keys(self.config.signature_key)
            except ConfigError as exc:
                raise ConfigError(f"{self.label}: signature_key: {exc}") from exc
        await super().setup()

    def make_client(self) -> httpx.AsyncClient:
        """Create the HTTP client."""
        settings = self.config.http
        suffix = f"efa-fitconnect/{_PLUGIN_VERSION}"
        if settings.user_agent_suffix:
            suffix += f" {settings.user_agent_suffix}"
        settings = attrs.evolve(settings, user_agent_suffix=suffix)
        return create_client(
            base_url=self.config.base_url,
            settings=settings,
            transport=self.transport,
            clock=self.clock,
            headers={"Accept": "application/json, application/problem+json"},
        )

    # -- API calls -------------------------------------------------------------------------

    async def _get(self, path: str, params: Mapping[str, Any]) -> Any:
        response = await self.client.get(path, params=httpx.QueryParams(params))
        await response.aread()
        if not response.is_success:
            raise RoutingApiError.from_problem(response)
        return json_body(response)

    async def info(self) -> tuple[int, int, int]:
        """``GET /info``: the API's version as ``(major, minor, patch)``."""
        body = await self._get("/info", {})
        try:
            version = body["version"]
            return int(version["major"]), int(version["minor"]), int(version["patch"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ConnectorError(f"{self.label}: /info has no version: {body!r}") from exc

    async def routes(
        self,
        leika_key: LeikaKey | str,
        *,
        ars: Ars | str | None = None,
        ags: str | None = None,
        area_id: str | None = None,
        offset: int = 0,
        limit: int | None = None,
    ) -> Mapping[str, Any]:
        """``GET /routes`` for one key and exactly one of *ars*, *ags*, *area_id*: one page."""
        areas = {k: str(v) for k, v in (("ars", ars), ("ags", ags), ("areaId", area_id)) if v}
        if len(areas) != 1:
            raise ValueError("give exactly one of ars, ags and area_id")
        params = {
            "leikaKey": str(leika_key),
            **areas,
            "offset": offset,
            "limit": limit or self.config.page_size,
        }
        body = await self._get("/routes", params)
        if not isinstance(body, dict) or not isinstance(body.get("routes"), list):
            raise ConnectorError(f"{self.label}: /routes answered without a 'routes' list")
        return body

    async def search_areas(self, *terms: str, limit: int = 100) -> list[FoundArea]:
        """``GET /areas``: areas whose name or postcode matches every term (``*`` wildcard)."""
        if not 1 <= len(terms) <= 10:
            raise ValueError("give 1 to 10 search terms")
        query: list[tuple[str, str | int | float | bool | None]] = [
            ("areaSearchexpression", t) for t in terms
        ]
        query += [("offset", "0"), ("limit", str(limit))]
        found: list[FoundArea] = []
        async for page in self._pages("/areas", httpx.QueryParams(query), _AREAS):
            found.extend(
                FoundArea(str(a["id"]), str(a["name"]), str(a["type"])) for a in page.items
            )
        return found

    async def _pages(
        self, path: str, params: httpx.QueryParams, strategy: Any
    ) -> AsyncIterator[Any]:
        """Walk a paged answer; error answers become :class:`RoutingApiError`."""
        try:
            async for page in paginate(self.client, path, params, next_page=strategy):
                yield page
        except HttpError as exc:
            if exc.response is None or isinstance(exc, RoutingApiError):
                raise
            raise RoutingApiError.from_problem(exc.response) from None

    async def check_source(self) -> CheckResult:
        """Ask ``/info``: proves the API is reachable and accepts our User-Agent."""
        try:
            major, minor, patch = await self.info()
        except ConnectorError as exc:
            return CheckResult(False, str(exc))
        return CheckResult(
            True, f"Routing API {major}.{minor}.{patch} answers at {self.config.base_url}"
        )

    # -- pull ------------------------------------------------------------------------------

    def pairs(self) -> list[Pair]:
        """Return the pairs to ask, sorted: from the configuration and (if lent) the store."""
        pairs = {_parse_pair(text) for text in self.config.pairs}
        if self.config.use_store and self.store is not None:
            pairs |= pairs_from_store(self.store)
        return sorted(pairs, key=lambda p: (p[0].value, p[1].value))

    async def pull_batches(self, cursor: str | None) -> AsyncIterator[Batch]:
        """Yield one batch per ``/routes`` page, pair by pair, after *cursor*."""
        start: tuple[str, str] | None = None
        start_offset: int | None = 0
        if cursor is not None:
            match = _CURSOR.match(cursor)
            if match is None:
                raise ConnectorError(
                    f"{self.label}: invalid cursor {cursor!r}; expected '<key>@<ars>:<offset>'"
                )
            start = (match["leika"], match["ars"])
            start_offset = None if match["offset"] == "end" else int(match["offset"])
        pairs = self.pairs()
        if not pairs:
            where = "configured pairs" if self.store is None else "configured pairs or the store"
            log.warning(
                "%s: no (LeiKa key, area) pair to ask (%s give none); nothing pulled",
                self.label,
                where,
            )
            return
        if cursor is None:
            self.evidence = {}
        todo: list[tuple[Pair, int]] = []
        for pair in pairs:
            key = (pair[0].value, pair[1].value)
            if start is None or key > start:
                todo.append((pair, 0))
            elif key == start and start_offset is not None:
                todo.append((pair, start_offset))
        if not todo:  # resumed after the last pair: the snapshot is whole
            yield Batch((), cursor, complete=True)
            return
        self._dropped = {}
        for number, ((leika_key, ars), offset) in enumerate(todo, start=1):
            last_pair = number == len(todo)
            params = httpx.QueryParams(
                {
                    "leikaKey": leika_key.value,
                    "ars": ars.value,
                    "offset": str(offset),
                    "limit": str(self.config.page_size),
                }
            )
            # A pair ends only where ``totalCount`` proves it; a page without a usable total
            # fails the pull, so a cut-off snapshot never completes (and deletes nothing).
            seen: set[str] = set()
            async for page in self._pages("/routes", params, _ROUTES):
                at = int(page.response.request.url.params.get("offset", "0"))
                changes, rejected, skipped = self._page(leika_key, ars, at, page.items, seen)
                position = "end" if page.last else str(at + len(page.items))
                complete = page.last and last_pair
                warnings = self.take_warnings()
                if complete:  # the links left out, once for the whole pull
                    warnings += self._dropped_lines()
                yield Batch(
                    changes,
                    f"{leika_key}@{ars}:{position}",
                    complete=complete,
                    rejected=rejected,
                    skipped=skipped,
                    warnings=warnings,
                )

    def _dropped_lines(self) -> tuple[str, ...]:
        return tuple(
            f"source {self.name!r}: {field}: {problem}: {count} route{'' if count == 1 else 's'}"
            f" (first at {position}: {value!r})"
            for (field, problem), (count, position, value) in self._dropped.items()
        )

    def _drop(self, field: str, problem: str, position: str, value: object) -> None:
        log.debug("%s: %s: %s %r: %s", self.label, position, field, value, problem)
        entry = self._dropped.get((field, problem))
        if entry is None:
            self._dropped[(field, problem)] = [1, position, value]
        else:
            entry[0] += 1

    def _page(
        self, leika_key: LeikaKey, ars: Ars, offset: int, items: Sequence[Any], seen: set[str]
    ) -> tuple[list[Upsert], list[Rejected], list[Skipped]]:
        changes: list[Upsert] = []
        rejected: list[Rejected] = []
        skipped: list[Skipped] = []
        for index, item in enumerate(items):
            position = f"/routes {leika_key}@{ars} item {offset + index}"
            try:
                record, evidence = self._route(leika_key, ars, item, position)
            except _Invalid as exc:
                rejected.append(Rejected("route", position, item, [(exc.path, exc.message)]))
                continue
            if record.natural_key in seen:
                reason = "repeats a destination already delivered for this pair"
                if skipped:
                    skipped[0] = attrs.evolve(skipped[0], count=skipped[0].count + 1)
                else:
                    skipped.append(Skipped("route", reason, position=position))
                continue
            seen.add(record.natural_key)
            self.evidence[record.natural_key] = evidence
            changes.append(Upsert(record))
        return changes, rejected, skipped

    def _route(
        self, leika_key: LeikaKey, ars: Ars, item: object, position: str = ""
    ) -> tuple[Route, RouteEvidence]:
        if not isinstance(item, dict):
            raise _Invalid("$", f"expected an object, got {type(item).__name__}")
        destination = item.get("destinationId")
        token = item.get("destinationSignature")
        if not isinstance(token, str):
            raise _Invalid("$.destinationSignature", "missing or not a string")
        try:
            signature = decode_destination_signature(token)
        except SignatureError as exc:
            raise _Invalid("$.destinationSignature", str(exc)) from None
        verified = None
        if self._keys is not None:
            try:
                verify_signature(signature, self._keys)
            except SignatureError as exc:
                raise _Invalid("$.destinationSignature", str(exc)) from None
            verified = True
        if signature.destination_id not in (None, destination):
            raise _Invalid(
                "$.destinationSignature",
                f"signs destinationId {signature.destination_id!r}, not {destination!r}",
            )
        try:
            destination_id = uuid.UUID(str(destination))
        except ValueError as exc:
            raise _Invalid("$.destinationId", str(exc)) from None
        links = _links(item, lambda field, url: self._drop(field, _NO_URL, position, url))
        try:
            record = Route(
                leika_key=leika_key,
                ars=ars,
                destination_id=destination_id,
                name=_text(item.get("destinationName")),
                origin=_text(item.get("origin")),
                signed_areas=signature.areas,
                signed_leika_keys=signature.leika_keys,
                signature_verified=verified,
                signed_at=_signed_at(signature.claims.get("iat")),
                submission_host=_text(signature.claims.get("submissionHost")),
                contacts=_contacts(item.get("contactPersons")),
                addresses=_addresses(item),
                processing_duration=_duration(item.get("processingDuration")),
                privacy_policy_url=links.get("privacy_policy_url"),
                imprint_url=links.get("imprint_url"),
                accessibility_url=links.get("accessibility_url"),
                contact_form_url=links.get("contact_form_url"),
            )
        except ValueError as exc:
            raise _Invalid("$", str(exc)) from None
        covers = signature.covers(leika_key, ars)
        if not covers:
            log.info(
                "%s: route %s: the signature names %s / %s, not the asked pair",
                self.label,
                record.natural_key,
                [str(a) for a in signature.areas],
                [str(k) for k in signature.leika_keys],
            )
        evidence = RouteEvidence(
            route_key=record.natural_key,
            signed_areas=signature.areas,
            signed_leika_keys=signature.leika_keys,
            covers_pair=covers,
            verified=verified,
            header=signature.header,
            claims=signature.claims,
        )
        return record, evidence


class _Invalid(Exception):
    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


def _text(value: object) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


_LINKS = {
    "privacyPolicyUrl": "privacy_policy_url",
    "imprintUrl": "imprint_url",
    "accessibilityUrl": "accessibility_url",
    "contactFormUrl": "contact_form_url",
}


_NO_URL = "not an http(s) URL; the route is kept without it"


def _links(item: Mapping[str, Any], drop: Callable[[str, str], None]) -> dict[str, str]:
    """Return the destination's links that are http(s) URLs; *drop* hears of the others."""
    links: dict[str, str] = {}
    for source, field in _LINKS.items():
        url = _text(item.get(source))
        if url is None:
            continue
        if not url.lower().startswith(("https://", "http://")) or any(c.isspace() for c in url):
            drop(source, url)
            continue
        links[field] = url
    return links


def _signed_at(value: object) -> dt.datetime | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        return dt.datetime.fromtimestamp(value, tz=dt.timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None


def _contacts(value: object) -> tuple[Contact, ...]:
    if not isinstance(value, list):
        return ()
    contacts = []
    for person in value:
        if not isinstance(person, dict):
            continue
        contact = Contact(
            name=_text(person.get("name")),
            phone=_text(person.get("tel")),
            fax=_text(person.get("fax")),
            email=_text(person.get("email")),
        )
        if contact != Contact():
            contacts.append(contact)
    return tuple(contacts)


def _addresses(item: Mapping[str, Any]) -> tuple[PostalAddress, ...]:
    addresses = []
    for source, usage in (
        ("address", "visit"),
        ("postalAddress", "postal"),
        ("postOfficeBox", "po-box"),
    ):
        value = item.get(source)
        if not isinstance(value, dict):
            continue
        address = PostalAddress(
            usage=usage,
            street=_text(value.get("street")),
            house_number=_text(value.get("houseNumber")),
            additional=_text(value.get("additional")),
            po_box=_text(value.get("postOfficeBox")),
            zip=_text(value.get("zip")),
            city=_text(value.get("city")),
        )
        if address != PostalAddress(usage=usage):
            addresses.append(address)
    return tuple(addresses)


def _duration(value: object) -> str | None:
    """``processingDuration`` as text: ``"2-5 workday"``, ``"5 day"``."""
    if not isinstance(value, dict):
        return None
    low, high, unit = value.get("minDuration"), value.get("maxDuration"), _text(value.get("unit"))
    numbers = [str(n) for n in (low, high) if isinstance(n, int) and not isinstance(n, bool)]
    if not numbers:
        return None
    span = "-".join(dict.fromkeys(numbers))
    return f"{span} {unit}" if unit else span
