"""A local fake of the PVOG Bereitstelldienst (change feed + OAuth2 token endpoint).

:class:`FakePvog` is an ASGI app; serve it with :func:`efa_core.testing.servers.serve_asgi`
(or the ``efa_serve_asgi`` fixture) and point a PVOG connector at the base URL::

    fake = FakePvog(PvogDataset(seed=7, zustaendigkeiten=300), page_size=20)
    with serve_asgi(fake) as base_url:
        ...  # token URL: base_url + fake.token_path, feed: base_url + V2_FEED_PATH

What it speaks (the v2 shape, see the efa-pvog docs for what is verified):

* ``POST {token_path}`` (form ``grant_type=client_credentials``, ``client_id``,
  ``client_secret``, or HTTP Basic) answers ``{"access_token", "token_type": "Bearer",
  "expires_in"}``; wrong credentials give 401 ``{"error": "invalid_client"}``.
* ``GET {V2_FEED_PATH}?index=N&ars=A`` (and the same under :data:`V3_FEED_PATH`, with
  XZuFi 2.3.1) with ``Authorization: Bearer <token>`` answers the envelope
  ``{"xzufiObjekte": "<XZuFi transfer message>", "vollstaendig": bool,
  "naechsterIndex": int, "naechsteAnfrageUrl": str}``.  ``index`` is a position in the
  generated event log (not a page number): a page holds the next ``page_size`` events at
  or after ``index`` that match the ARS restriction, and ``naechsterIndex`` is the position
  after the last one.  ``ars`` is ``%`` (everything) or an ARS prefix, optionally followed by
  ``%``; Zuständigkeiten (and their deletes) outside the prefix are left out, every other
  object is sent to everyone.

The dataset (:class:`PvogDataset`) is generated deterministically from a seed: Leistungen,
Onlinedienste and Organisationseinheiten first, then Zuständigkeiten interleaved with
updates, deletes of earlier ones, *orphan* deletes (of ids never sent, and of ids already
deleted) and, optionally, invalid objects.  A Zuständigkeit always follows its Leistung
and keeps its area for life.  :meth:`FakePvog.live_zustaendigkeiten` and
:meth:`FakePvog.feed_counts` tell what a consumer should end up with.

Faults (:class:`PvogFault`) are injected with :meth:`FakePvog.inject`, per feed index or
for the next feed request: 401 after revoking every token (token expiry), 429 with
``Retry-After``, 500, a response that stalls longer than a client's read timeout, a body
cut off mid-way (the connection closes), a page with malformed XML, and a body that is not
JSON.  :attr:`FakePvog.requests` records every request and the status it got.

The module needs only the standard library and attrs (it builds XML as text, escaped with
:mod:`xml.sax.saxutils`), so it imports no XZuFi parser and no ASGI framework.
"""

from __future__ import annotations

import asyncio
import base64
import enum
import json
import random
import secrets
import threading
import time
import urllib.parse
from collections.abc import Iterable, Mapping
from typing import Any, Final
from xml.sax.saxutils import escape, quoteattr

import attrs

from efa_core.testing.fakes import Receive, Scope, Send, serve_lifespan

__all__ = [
    "DEFAULT_AREAS",
    "V2_FEED_PATH",
    "V3_FEED_PATH",
    "FakePvog",
    "FeedCounts",
    "FeedEvent",
    "PvogDataset",
    "PvogFault",
    "RecordedRequest",
    "ZustaendigkeitFacts",
]

#: The path of the v2 feed (as on the PVOG demo system).
V2_FEED_PATH: Final = "/bereitstelldienst/api/v2/verwaltungsobjekte"
#: The path of the v3 feed (XZuFi 2.3.1); second-hand, see the efa-pvog docs.
V3_FEED_PATH: Final = "/bereitstelldienst/api/v3/verwaltungsobjekte/xzufi-2-3-1"

_NAMESPACES: Final = {
    "2.2.0": "http://xoev.de/schemata/xzufi/2_2_0",
    "2.3.1": "http://xoev.de/schemata/xzufi/2_3_1",
}

#: The areas Zuständigkeiten are spread over by default: Thüringen and Sachsen-Anhalt
#: (12-digit Gemeinde ARS and Kreis-level ARS) and one Brandenburg Gemeinde.
DEFAULT_AREAS: Final = (
    "160510000000",  # Erfurt
    "160520000000",  # Gera
    "160530000000",  # Jena
    "160550000000",  # Weimar
    "16061",  # Eichsfeld (Kreis)
    "160610001001",
    "16066",  # Schmalkalden-Meiningen (Kreis)
    "150020000000",  # Halle (Saale)
    "150030000000",  # Magdeburg
    "120600181181",  # Panketal
)

_REAL_LEIKA_KEYS: Final = (
    "99115005104000",
    "99115005104001",
    "99115003012000",
    "99008001011001",
    "99008004011002",
    "99085001011001",
    "99041006017000",
)


class PvogFault(enum.Enum):
    """A fault the fake can inject into a feed request."""

    #: Revoke every access token, then answer 401 (``invalid_token``, token expired).
    TOKEN_EXPIRED = "token-expired"  # noqa: S105 - a fault name, not a secret
    #: Answer 429 with ``Retry-After`` (:attr:`FakePvog.retry_after` seconds).
    RATE_LIMITED = "rate-limited"
    #: Answer 500.
    SERVER_ERROR = "server-error"
    #: Wait :attr:`FakePvog.stall_seconds` before answering (a client read timeout).
    TIMEOUT = "timeout"
    #: Send half of the body (Content-Length announces all of it), then close.
    TRUNCATED = "truncated"
    #: Answer 200 with a page whose ``xzufiObjekte`` is not well-formed XML.
    MALFORMED_XML = "malformed-xml"
    #: Answer 200 with a body that is not JSON.
    NOT_JSON = "not-json"


@attrs.frozen(kw_only=True)
class PvogDataset:
    """What the fake generates; the same arguments always give the same feed."""

    #: Seed of the generator.
    seed: int = 0
    leistungen: int = 12
    onlinedienste: int = 4
    organisationseinheiten: int = 4
    #: Zuständigkeiten created.
    zustaendigkeiten: int = 120
    #: Rewrites of earlier, still live Zuständigkeiten (new role, target and timestamp).
    updates: int = 20
    #: Deletes of earlier, still live Zuständigkeiten.
    deletes: int = 15
    #: Deletes of ids never sent or already deleted (orphans: no-ops for a consumer).
    orphan_deletes: int = 15
    #: Zuständigkeiten with an invalid area (``gebietID``); a consumer rejects them.
    invalid: int = 0
    #: The ARS the Zuständigkeiten are spread over.
    areas: tuple[str, ...] = DEFAULT_AREAS

    def events(self) -> tuple[FeedEvent, ...]:
        """Generate the event log (see the module docs)."""
        return _generate(self)


@attrs.frozen(kw_only=True)
class ZustaendigkeitFacts:
    """A Zuständigkeit as the fake knows it (values without scheme prefixes)."""

    #: The Zuständigkeit id's value, e.g. ``"Z17"``.
    id: str
    #: ``schemeAgencyID`` of the Zuständigkeit (the Mandant), e.g. ``"S16000"``.
    agency: str
    #: ``"ZustaendigkeitOnlinedienst"`` or ``"ZustaendigkeitOrganisationseinheit"``.
    scheme: str
    #: The target's id value (``"OD1"``, ``"OE3"``), scheme ``Onlinedienst`` or
    #: ``Organisationseinheit``, same agency as the Zuständigkeit.
    target: str
    #: The Leistung id value (``"L4"``) and its agency.
    leistung: str
    leistung_agency: str
    #: The LeiKa key of that Leistung.
    leika_key: str
    #: The area (gebietID).
    area: str
    #: The role code (``rolle/code``).
    role: str
    #: ``geaendertDatumZeit`` of the version (ISO 8601 with offset).
    modified: str
    #: ``False`` for an object a consumer must reject (invalid area).
    valid: bool = True


@attrs.frozen(kw_only=True)
class FeedEvent:
    """One entry of the generated event log."""

    #: ``"schreibe"`` or ``"loesche"``.
    operation: str
    #: ``leistung``, ``onlinedienst``, ``organisationseinheit``, ``zustaendigkeit``
    #: (written as a ``zustaendigkeitTransferObjekt``), or for deletes the ``klasse``.
    kind: str
    #: The object id's value.
    id: str
    agency: str
    #: The XML of the entry (one ``schreibe`` or ``loesche`` element).
    xml: str
    #: The area of a Zuständigkeit (or of the Zuständigkeit a delete refers to).
    area: str | None = None
    #: For a Zuständigkeit: what was written.
    facts: ZustaendigkeitFacts | None = None
    #: For a delete: ``True`` if it deletes nothing (id never sent or already deleted).
    orphan: bool = False


@attrs.frozen(kw_only=True)
class FeedCounts:
    """What a consumer of the whole feed (for one ARS restriction) sees."""

    #: Valid Zuständigkeiten written (creations and updates).
    written: int
    #: Deletes of live Zuständigkeiten.
    deleted: int
    #: Deletes that hit nothing.
    orphan_deletes: int
    #: Invalid Zuständigkeiten (to be rejected).
    invalid: int
    #: Zuständigkeiten live at the end.
    live: int


@attrs.frozen(kw_only=True)
class RecordedRequest:
    """One request the fake received."""

    method: str
    path: str
    #: The query parameters (last value per name).
    params: Mapping[str, str]
    #: The status answered (``None`` for a truncated body).
    status: int | None
    #: The fault injected into it, if any.
    fault: PvogFault | None = None


# -- generation -------------------------------------------------------------------------------

_NS_PREFIX: Final = "xzufi"


def _el(name: str, content: str, **attributes: str) -> str:
    attrs_text = "".join(f" {key}={quoteattr(value)}" for key, value in attributes.items())
    return f"<{_NS_PREFIX}:{name}{attrs_text}>{content}</{_NS_PREFIX}:{name}>"


def _id(name: str, value: str, agency: str, scheme: str) -> str:
    return _el(name, escape(value), schemeAgencyID=agency, schemeID=scheme)


def _version(modified: str) -> str:
    return _el("versionsinformation", _el("geaendertDatumZeit", escape(modified)))


def _timestamp(position: int) -> str:
    minutes = position
    return (
        f"2026-01-{1 + minutes // 1440 % 28:02d}T{minutes // 60 % 24:02d}:"
        f"{minutes % 60:02d}:00+01:00"
    )


def _agency_of(area: str) -> str:
    return f"S{area[:2]}000"


def _zustaendigkeit_xml(facts: ZustaendigkeitFacts) -> str:
    target_scheme = (
        "Onlinedienst" if facts.scheme == "ZustaendigkeitOnlinedienst" else "Organisationseinheit"
    )
    inner = (
        _id("id", facts.id, facts.agency, facts.scheme)
        + _id("leistungID", facts.leistung, facts.leistung_agency, "Leistung")
        + _el("gebietID", escape(facts.area))
        + _el("rolle", f"<code>{escape(facts.role)}</code>")
    )
    objekt = (
        _id("uebergeordnetesObjektID", facts.target, facts.agency, target_scheme)
        + _el("zustaendigkeit", inner)
        + _version(facts.modified)
    )
    return _el("schreibe", _el("zustaendigkeitTransferObjekt", objekt))


def _generate(dataset: PvogDataset) -> tuple[FeedEvent, ...]:
    rng = random.Random(dataset.seed)  # noqa: S311 - test data, not cryptography
    if not dataset.areas:
        raise ValueError("PvogDataset.areas must not be empty")
    n_leistungen = max(1, dataset.leistungen)
    events: list[FeedEvent] = []
    leistungen: list[tuple[str, str, str]] = []  # (id, agency, leika key)
    for number in range(n_leistungen):
        if number < len(_REAL_LEIKA_KEYS):
            key = _REAL_LEIKA_KEYS[number]
        else:
            key = f"99{rng.randrange(10**12):012d}"
        agency = "B100019" if number % 2 == 0 else "S16000"
        ident = f"L{number}"
        leistungen.append((ident, agency, key))
        name = f"Leistung {number} ({key})"
        content = (
            _id("id", ident, agency, "Leistung")
            + _el("referenzLeiKa", f"<code>{key}</code>")
            + _el(
                "modulText",
                _el("leikaTextmodul", "<code>02</code>")
                + _el("inhalt", escape(name), languageCode="de"),
            )
            + _version(_timestamp(len(events)))
        )
        events.append(
            FeedEvent(
                operation="schreibe",
                kind="leistung",
                id=ident,
                agency=agency,
                xml=_el("schreibe", _el("leistung", content)),
            )
        )
    lands = sorted({area[:2] for area in dataset.areas})
    for kind, count, prefix in (
        ("onlinedienst", max(1, dataset.onlinedienste), "OD"),
        ("organisationseinheit", max(1, dataset.organisationseinheiten), "OE"),
    ):
        for land in lands:
            agency = f"S{land}000"
            for number in range(count):
                ident = f"{prefix}{number}"
                if kind == "onlinedienst":
                    content = (
                        _id("id", ident, agency, "Onlinedienst")
                        + _el("bezeichnung", f"Onlinedienst {number}", languageCode="de")
                        + _el(
                            "link",
                            _el("typ", "<code>01</code>")
                            + _el("link", f"https://od{number}.land{land}.example/start"),
                        )
                    )
                else:
                    content = _id("id", ident, agency, "Organisationseinheit") + _el(
                        "name", _el("name", f"Amt {number}", languageCode="de")
                    )
                events.append(
                    FeedEvent(
                        operation="schreibe",
                        kind=kind,
                        id=ident,
                        agency=agency,
                        xml=_el("schreibe", _el(kind, content)),
                    )
                )

    ops = (
        ["create"] * dataset.zustaendigkeiten
        + ["update"] * dataset.updates
        + ["delete"] * dataset.deletes
        + ["orphan"] * dataset.orphan_deletes
        + ["invalid"] * dataset.invalid
    )
    rng.shuffle(ops)
    live: dict[str, ZustaendigkeitFacts] = {}
    gone: dict[str, ZustaendigkeitFacts] = {}
    created = 0
    never_sent = 0
    pending: list[str] = []
    queue = list(ops)
    while queue:
        op = queue.pop(0)
        if op in ("update", "delete") and not live:
            if "create" not in queue and not pending:
                continue  # nothing left to update or delete
            pending.append(op)
            continue
        if op == "create" or op == "invalid":
            number = created
            created += 1
            area = rng.choice(dataset.areas) if op == "create" else "1234"
            leistung, leistung_agency, key = leistungen[rng.randrange(len(leistungen))]
            online = rng.random() < 0.5
            scheme = (
                "ZustaendigkeitOnlinedienst" if online else "ZustaendigkeitOrganisationseinheit"
            )
            count = max(1, dataset.onlinedienste if online else dataset.organisationseinheiten)
            facts = ZustaendigkeitFacts(
                id=f"Z{number}",
                agency=_agency_of(area) if op == "create" else "S16000",
                scheme=scheme,
                target=f"{'OD' if online else 'OE'}{rng.randrange(count)}",
                leistung=leistung,
                leistung_agency=leistung_agency,
                leika_key=key,
                area=area,
                role="01",
                modified=_timestamp(len(events)),
                valid=op == "create",
            )
            if op == "create":
                live[facts.id] = facts
            events.append(_schreibe_event(facts))
        elif op == "update":
            old = live[rng.choice(sorted(live))]
            online = old.scheme == "ZustaendigkeitOnlinedienst"
            count = max(1, dataset.onlinedienste if online else dataset.organisationseinheiten)
            facts = attrs.evolve(
                old,
                target=f"{'OD' if online else 'OE'}{rng.randrange(count)}",
                role="02" if old.role == "01" else "01",
                modified=_timestamp(len(events)),
            )
            live[facts.id] = facts
            events.append(_schreibe_event(facts))
        elif op == "delete":
            facts = live.pop(rng.choice(sorted(live)))
            gone[facts.id] = facts
            events.append(_loesche_event(facts.id, facts.agency, facts.scheme, facts.area, False))
        else:  # orphan
            if gone and rng.random() < 0.5:
                facts = gone[rng.choice(sorted(gone))]
                events.append(
                    _loesche_event(facts.id, facts.agency, facts.scheme, facts.area, True)
                )
            else:
                area = rng.choice(dataset.areas)
                ident = f"X{never_sent}"
                never_sent += 1
                events.append(
                    _loesche_event(
                        ident, _agency_of(area), "ZustaendigkeitOrganisationseinheit", area, True
                    )
                )
        if pending and live:
            queue = pending + queue
            pending = []
    return tuple(events)


def _schreibe_event(facts: ZustaendigkeitFacts) -> FeedEvent:
    return FeedEvent(
        operation="schreibe",
        kind="zustaendigkeit",
        id=facts.id,
        agency=facts.agency,
        xml=_zustaendigkeit_xml(facts),
        area=facts.area,
        facts=facts,
    )


def _loesche_event(ident: str, agency: str, scheme: str, area: str, orphan: bool) -> FeedEvent:
    xml = f'<{_NS_PREFIX}:loesche klasse="Zustaendigkeit">' + _id("id", ident, agency, scheme)
    xml += f"</{_NS_PREFIX}:loesche>"
    return FeedEvent(
        operation="loesche",
        kind="Zustaendigkeit",
        id=ident,
        agency=agency,
        xml=xml,
        area=area,
        orphan=orphan,
    )


def _ars_matches(restriction: str, area: str | None) -> bool:
    """Whether an event with *area* belongs to the feed restricted to *restriction*."""
    if area is None:
        return True  # not area-bound: sent to everyone
    prefix = restriction.rstrip("%")
    if not prefix:
        return True
    return area.startswith(prefix)


def _valid_restriction(restriction: str) -> bool:
    prefix = restriction[:-1] if restriction.endswith("%") else restriction
    return prefix == "" or (prefix.isdigit() and len(prefix) in (2, 3, 5, 9, 12))


# -- the server -------------------------------------------------------------------------------


@attrs.define
class _Injection:
    fault: PvogFault
    index: int | None
    remaining: int | None  # None: until cleared


class FakePvog:
    """The fake Bereitstelldienst as an ASGI app (see the module docs).

    :param dataset: what to serve (default: ``PvogDataset()``).
    :param page_size: events per page.
    :param client_id: the client id the token endpoint accepts.
    :param client_secret: the client secret the token endpoint accepts.
    :param token_lifetime: ``expires_in`` of issued tokens, in seconds; a token older than
        that is refused with 401.
    :param token_path: where the token endpoint is.
    :param retry_after: the ``Retry-After`` value (seconds) sent with 429.
    :param stall_seconds: how long a TIMEOUT fault waits before answering.
    """

    def __init__(
        self,
        dataset: PvogDataset | None = None,
        *,
        page_size: int = 25,
        client_id: str = "efa-test-client",
        client_secret: str = "fake-pvog-secret-4711",  # noqa: S107 - a test credential
        token_lifetime: float = 300.0,
        token_path: str = "/auth/realms/pvog/protocol/openid-connect/token",  # noqa: S107
        retry_after: float = 1.0,
        stall_seconds: float = 2.0,
    ) -> None:
        if page_size < 1:
            raise ValueError(f"page_size must be at least 1, got {page_size}")
        self.dataset = dataset if dataset is not None else PvogDataset()
        self.events = self.dataset.events()
        self.page_size = page_size
        self.client_id = client_id
        self.client_secret = client_secret
        self.token_lifetime = token_lifetime
        self.token_path = token_path
        self.retry_after = retry_after
        self.stall_seconds = stall_seconds
        #: Every request received, in order.
        self.requests: list[RecordedRequest] = []
        self._tokens: dict[str, float] = {}
        self._injections: list[_Injection] = []
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return (
            f"<FakePvog events={len(self.events)} page_size={self.page_size} "
            f"requests={len(self.requests)}>"
        )

    # -- test API -------------------------------------------------------------------------

    def inject(self, fault: PvogFault, *, index: int | None = None, times: int | None = 1) -> None:
        """Inject *fault* into the next *times* feed requests (``None``: until cleared).

        :param index: only requests for this feed ``index``; ``None``: any feed request.
        """
        if times is not None and times < 1:
            raise ValueError(f"times must be at least 1 or None, got {times}")
        with self._lock:
            self._injections.append(_Injection(fault, index, times))

    def clear_faults(self) -> None:
        """Remove every injected fault that has not fired yet."""
        with self._lock:
            self._injections.clear()

    def revoke_tokens(self) -> None:
        """Make every issued access token invalid (as if it had expired)."""
        with self._lock:
            self._tokens.clear()

    def feed_requests(self) -> list[RecordedRequest]:
        """Return the requests to the feed (not to the token endpoint), in order."""
        return [r for r in self.requests if r.path != self.token_path]

    def page_starts(self, ars: str = "%") -> list[int]:
        """Return the ``index`` of every page of a full pull from 0 (the last one included)."""
        starts = []
        index = 0
        while True:
            starts.append(index)
            _, next_index, complete = self._page(index, ars)
            if complete:
                return starts
            index = next_index

    def live_zustaendigkeiten(self, ars: str = "%") -> dict[str, ZustaendigkeitFacts]:
        """Return the valid Zuständigkeiten live after the whole feed (restricted to *ars*)."""
        live: dict[str, ZustaendigkeitFacts] = {}
        for event in self.events:
            if not _ars_matches(ars, event.area):
                continue
            if event.facts is not None and event.facts.valid:
                live[event.id] = event.facts
            elif event.operation == "loesche" and event.kind == "Zustaendigkeit":
                live.pop(event.id, None)
        return live

    def feed_counts(self, ars: str = "%") -> FeedCounts:
        """Count what the whole feed (restricted to *ars*) holds for a consumer."""
        written = deleted = orphans = invalid = 0
        for event in self.events:
            if not _ars_matches(ars, event.area):
                continue
            if event.facts is not None:
                if event.facts.valid:
                    written += 1
                else:
                    invalid += 1
            elif event.operation == "loesche":
                if event.orphan:
                    orphans += 1
                else:
                    deleted += 1
        return FeedCounts(
            written=written,
            deleted=deleted,
            orphan_deletes=orphans,
            invalid=invalid,
            live=len(self.live_zustaendigkeiten(ars)),
        )

    def message(self, events: Iterable[FeedEvent], *, version: str = "2.2.0") -> str:
        """Build an XZuFi transfer message holding *events* (schreibe first, then loesche)."""
        chosen = list(events)
        namespace = _NAMESPACES[version]
        p = _NS_PREFIX
        parts = [
            '<?xml version="1.0" encoding="UTF-8"?>\n',
            f'<{p}:transfer.operation xmlns:{p}="{namespace}" produktbezeichnung="efa-core '
            f'FakePvog" produkthersteller="efa-core" produktversion="1" '
            f'xzufiVersion="{version}">',
            _el(
                "nachrichtenkopf",
                _el("nachrichtUUID", f"00000000-0000-4000-8000-{len(chosen):012d}")
                + _el("erstelltDatumZeit", "2026-01-01T00:00:00Z")
                + _el("sender", "FakePvog"),
            ),
            _el("transaktionID", "fake"),
        ]
        parts.extend(e.xml for e in chosen if e.operation == "schreibe")
        parts.extend(e.xml for e in chosen if e.operation == "loesche")
        parts.append(f"</{p}:transfer.operation>")
        return "".join(parts)

    # -- paging ---------------------------------------------------------------------------

    def _page(self, index: int, ars: str) -> tuple[list[FeedEvent], int, bool]:
        """Return ``(events, naechsterIndex, vollstaendig)`` for a request at *index*."""
        chosen: list[FeedEvent] = []
        position = max(index, 0)
        total = len(self.events)
        while position < total and len(chosen) < self.page_size:
            event = self.events[position]
            position += 1
            if _ars_matches(ars, event.area):
                chosen.append(event)
        rest = range(position, total)
        complete = not any(_ars_matches(ars, self.events[i].area) for i in rest)
        next_index = total if complete else position
        return chosen, next_index, complete

    # -- ASGI -----------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI request (lifespan events are acknowledged)."""
        if await serve_lifespan(scope, receive, send):
            return
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        method: str = scope["method"]
        path: str = scope["path"]
        query = scope.get("query_string", b"").decode("latin-1")
        params = dict(urllib.parse.parse_qsl(query, keep_blank_values=True))
        headers = {
            name.decode("latin-1").lower(): value.decode("latin-1")
            for name, value in scope.get("headers", [])
        }
        if path == self.token_path:
            status, payload = self._token(method, headers, body)
            self._record(method, path, params, status, None)
            await _send_json(send, status, payload)
            return
        if path in (V2_FEED_PATH, V3_FEED_PATH):
            await self._feed(scope, send, method, path, params, headers)
            return
        self._record(method, path, params, 404, None)
        await _send_json(send, 404, {"error": "not found", "path": path})

    def _record(
        self,
        method: str,
        path: str,
        params: Mapping[str, str],
        status: int | None,
        fault: PvogFault | None,
    ) -> None:
        with self._lock:
            self.requests.append(
                RecordedRequest(
                    method=method, path=path, params=dict(params), status=status, fault=fault
                )
            )

    def _token(
        self, method: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, dict[str, Any]]:
        if method != "POST":
            return 405, {"error": "invalid_request", "error_description": "use POST"}
        form = dict(urllib.parse.parse_qsl(body.decode("utf-8", "replace")))
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        authorization = headers.get("authorization", "")
        if authorization.lower().startswith("basic "):
            try:
                decoded = base64.b64decode(authorization[6:]).decode("utf-8")
            except ValueError:
                decoded = ""
            user, _, password = decoded.partition(":")
            client_id = urllib.parse.unquote(user)
            client_secret = urllib.parse.unquote(password)
        if form.get("grant_type") != "client_credentials":
            return 400, {"error": "unsupported_grant_type"}
        if client_id != self.client_id or client_secret != self.client_secret:
            return 401, {"error": "invalid_client", "error_description": "bad credentials"}
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._tokens[token] = time.monotonic() + self.token_lifetime
        return 200, {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": self.token_lifetime,
        }

    def _authorized(self, headers: Mapping[str, str]) -> bool:
        scheme, _, token = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            return False
        with self._lock:
            expires = self._tokens.get(token.strip())
        return expires is not None and time.monotonic() < expires

    def _take_fault(self, index: int) -> PvogFault | None:
        with self._lock:
            for injection in self._injections:
                if injection.index is None or injection.index == index:
                    if injection.remaining is not None:
                        injection.remaining -= 1
                        if injection.remaining <= 0:
                            self._injections.remove(injection)
                    return injection.fault
        return None

    async def _feed(
        self,
        scope: Scope,
        send: Send,
        method: str,
        path: str,
        params: Mapping[str, str],
        headers: Mapping[str, str],
    ) -> None:
        if method != "GET":
            self._record(method, path, params, 405, None)
            await _send_json(send, 405, {"error": "use GET"})
            return
        if not self._authorized(headers):
            self._record(method, path, params, 401, None)
            await _send_json(
                send,
                401,
                {"error": "invalid_token"},
                [("www-authenticate", 'Bearer error="invalid_token"')],
            )
            return
        try:
            index = int(params.get("index", "0"))
        except ValueError:
            self._record(method, path, params, 400, None)
            await _send_json(send, 400, {"error": "index must be an integer"})
            return
        ars = params.get("ars", "%")
        if not _valid_restriction(ars):
            self._record(method, path, params, 400, None)
            await _send_json(send, 400, {"error": f"invalid ars {ars!r}"})
            return
        fault = self._take_fault(index)
        if fault is PvogFault.TOKEN_EXPIRED:
            self.revoke_tokens()
            self._record(method, path, params, 401, fault)
            await _send_json(
                send,
                401,
                {"error": "invalid_token", "error_description": "token expired"},
                [("www-authenticate", 'Bearer error="invalid_token", error_description="expired"')],
            )
            return
        if fault is PvogFault.RATE_LIMITED:
            self._record(method, path, params, 429, fault)
            await _send_json(
                send,
                429,
                {"error": "too many requests"},
                [("retry-after", f"{self.retry_after:g}")],
            )
            return
        if fault is PvogFault.SERVER_ERROR:
            self._record(method, path, params, 500, fault)
            await _send_json(send, 500, {"error": "internal server error"})
            return
        recorded = False
        if fault is PvogFault.TIMEOUT:
            self._record(method, path, params, 200, fault)
            recorded = True
            await asyncio.sleep(self.stall_seconds)
        if fault is PvogFault.NOT_JSON:
            self._record(method, path, params, 200, fault)
            await _send_bytes(send, 200, b"<html>maintenance</html>", "text/html")
            return
        events, next_index, complete = self._page(index, ars)
        version = "2.3.1" if path == V3_FEED_PATH else "2.2.0"
        xml = self.message(events, version=version)
        if fault is PvogFault.MALFORMED_XML:
            xml = xml[: len(xml) // 2] + "<xzufi:kaputt>& </"
        host = headers.get("host", "127.0.0.1")
        scheme = scope.get("scheme", "http")
        next_query = urllib.parse.urlencode({"index": next_index, "ars": ars})
        envelope = {
            "xzufiObjekte": xml,
            "vollstaendig": complete,
            "naechsterIndex": next_index,
            "naechsteAnfrageUrl": f"{scheme}://{host}{path}?{next_query}",
        }
        payload = json.dumps(envelope, ensure_ascii=False).encode("utf-8")
        if fault is PvogFault.TRUNCATED:
            self._record(method, path, params, None, fault)
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(payload)).encode()),
                    ],
                }
            )
            await send(
                {
                    "type": "http.response.body",
                    "body": payload[: len(payload) // 2],
                    "more_body": True,
                }
            )
            return  # the server closes the connection: the client sees a cut-off body
        if not recorded:
            self._record(method, path, params, 200, fault)
        await _send_bytes(send, 200, payload, "application/json")


async def _send_json(
    send: Send,
    status: int,
    payload: Any,
    headers: list[tuple[str, str]] | None = None,
) -> None:
    body = json.dumps(payload).encode("utf-8")
    await _send_bytes(send, status, body, "application/json", headers)


async def _send_bytes(
    send: Send,
    status: int,
    body: bytes,
    content_type: str,
    headers: list[tuple[str, str]] | None = None,
) -> None:
    raw_headers = [
        (b"content-type", content_type.encode("latin-1")),
        (b"content-length", str(len(body)).encode("latin-1")),
    ]
    raw_headers.extend((k.encode("latin-1"), v.encode("latin-1")) for k, v in headers or ())
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": body})
