r"""A fake FIT-Connect Routing API (v2) for tests: a plain ASGI app, no extra dependencies.

It serves the three operations of the spec (``fit-connect-routing-api.v2.0.0.yaml``) over
routes and areas the test adds::

    from efa_core.testing.servers import serve_asgi
    from efa_fitconnect.testing import RoutingApiFake

    fake = RoutingApiFake(page_limit=2)
    fake.add_route("99123456760610", "16055", name="Bürgeramt Weimar")
    with serve_asgi(fake) as base_url:
        ...  # GET {base_url}/v1/routes?leikaKey=99123456760610&ars=16055

It answers under :data:`BASE_PATH` (``/v1``) only, as the real servers do, so a connector's
``base_url`` is ``{base_url}/v1``:

* ``GET /v1/routes?leikaKey=&(ars|ags|areaId)=&offset=&limit=``: exactly one area parameter
  (else 400 ``application/problem+json``), ``limit`` 1 to 500 (default 100), ``offset`` 0
  to :data:`INT32_MAX`; a route matches the key and the exact area value it was added for;
* ``GET /v1/areas?areaSearchexpression=...`` (1 to 10 terms of the spec's pattern, ``*``
  wildcard; a term matches a word of the name or the postcode) with the same paging;
  answered as ``application/problem+json`` because the spec says so for the 200 response;
* ``GET /v1/info``: the version.

Parameters are checked as the spec says (its ``\d`` is ECMA's: ASCII digits only); another
method than GET gets 405 with ``Allow: GET``.

Like the real service it answers 403 to requests without ``User-Agent`` (the spec does not
document this; bot detection of the real service).  Every answer carries
``RateLimit-Limit/-Remaining/-Reset``; after :attr:`RateLimit.limit` requests in a window
the next request gets 429 with ``Retry-After`` and a fresh window starts (counted in
requests, not time, so tests never wait).  :meth:`~efa_core.testing.fakes.FakeApi.fail`
queues faults (500 problem+json by default).  Every exchange is recorded in
:attr:`~efa_core.testing.fakes.FakeApi.exchanges`, so tests can check them against the spec
(:mod:`efa_core.testing.contract`).

``destinationSignature`` values are JWS compact serializations (``alg`` PS512) of the
payload FIT-Connect signs; pass ``signer`` (bytes to sign -> signature bytes) to sign them
for real, else the signature part is a placeholder that no key verifies.
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from efa_core.testing.fakes import FakeApi, RateLimit

__all__ = [
    "ARS_URN_PREFIX",
    "BASE_PATH",
    "INT32_MAX",
    "LEIKA_URN_PREFIX",
    "RoutingApiFake",
    "b64url",
    "make_jws",
]


#: URN prefix of an ARS in a signed payload's ``gebietIDs``.
ARS_URN_PREFIX = "urn:de:bund:destatis:bevoelkerungsstatistik:schluessel:rs:"
#: URN prefix of a LeiKa key in a signed payload's ``leistungIDs``.
LEIKA_URN_PREFIX = "urn:de:fim:leika:leistung:"

_PROBLEM = "application/problem+json"
_JSON = "application/json"
#: The path of the API on its servers (``https://routing-api-prod.fit-connect.fitko.net/v1/``).
BASE_PATH = "/v1"


def b64url(data: bytes) -> str:
    """Base64url without padding, as JWS uses it."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def make_jws(
    payload: Mapping[str, Any],
    *,
    signer: Callable[[bytes], bytes] | None = None,
    kid: str = "fake-routing-key",
    alg: str = "PS512",
) -> str:
    """Return a compact JWS of *payload*; *signer* signs ``header.payload`` (else a placeholder)."""
    header = {"kid": kid, "typ": "jwt", "alg": alg}
    signing_input = (
        b64url(json.dumps(header, separators=(",", ":")).encode())
        + "."
        + b64url(json.dumps(payload, separators=(",", ":")).encode())
    )
    signature = signer(signing_input.encode("ascii")) if signer else b"unsigned-fake-signature"
    return signing_input + "." + b64url(signature)


#: The largest ``offset`` / ``limit`` the spec allows (``format: int32``).
INT32_MAX = 2**31 - 1
#: The spec's patterns; its ``\d`` is ECMA's: ASCII digits only.
_AREA_PATTERNS = {
    "ars": re.compile(r"(?:[0-9]{2}|[0-9]{3}|[0-9]{5}|[0-9]{9}|[0-9]{12})"),
    "ags": re.compile(r"(?:[0-9]{2}|[0-9]{3}|[0-9]{5}|[0-9]{8})"),
}
_LEIKA = re.compile(r"99[0-9]{12}")
#: The spec's ``areaSearchexpression`` item pattern ``^(\*?([^\*]{2,})\*?)*$`` without
#: its nested quantifiers (which backtrack exponentially): words of two or more characters
#: other than ``*``, joined by one or two ``*``, with at most one ``*`` before and after.
_SEARCH_TERM = re.compile(r"(?:\*?[^*]{2,}(?:\*{1,2}[^*]{2,})*\*?)?")
_INTEGER = re.compile(r"[+-]?[0-9]+")


def _int(query: Mapping[str, str], name: str, default: int) -> int | str:
    """Return an ``int32`` query parameter written in ASCII digits, or the 400 message."""
    value = query.get(name)
    if value is None:
        return default
    if not _INTEGER.fullmatch(value) or abs(int(value)) > INT32_MAX:
        return f"{name} must be a 32-bit integer, got {value!r}"
    return int(value)


class RoutingApiFake(FakeApi):
    """The fake Routing API; see the module docs.

    :param page_limit: cap on ``limit`` (the real API allows 500); smaller values make
        short result lists span several pages, so paging is exercised.
    :param signer: signs ``destinationSignature`` (bytes -> signature), or ``None``.
    :param require_user_agent: answer 403 to requests without ``User-Agent``.
    """

    def __init__(
        self,
        *,
        page_limit: int = 500,
        signer: Callable[[bytes], bytes] | None = None,
        rate_limit: RateLimit | None = None,
        require_user_agent: bool = True,
        version: tuple[int, int, int] = (2, 0, 0),
    ) -> None:
        super().__init__(rate_limit=rate_limit)
        self.page_limit = page_limit
        self.signer = signer
        self.require_user_agent = require_user_agent
        self.version = version
        #: ``(leikaKey, parameter, value)`` -> route objects, in the order added.
        self.routes: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
        #: Area objects ``{id, name, type}`` plus a private ``"_zip"`` list.
        self.areas: list[dict[str, Any]] = []

    def add_route(
        self,
        leika_key: str,
        ars: str | None = None,
        *,
        ags: str | None = None,
        area_id: str | None = None,
        destination_id: str | uuid.UUID | None = None,
        name: str | None = None,
        origin: str | None = "PVOG",
        gebiet_ids: Sequence[str] | None = None,
        leistung_ids: Sequence[str] | None = None,
        signature: str | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """Add a route found for *leika_key* in one area (``ars``, ``ags`` or ``area_id``).

        The signed payload names ``gebiet_ids`` (ARS, plain or URN; default: *ars*) and
        ``leistung_ids`` (default: *leika_key*).  *fields* are more route properties
        (``destinationShortName``, ``contactPersons``, ...).  Returns the route object.
        """
        areas = [(p, v) for p, v in (("ars", ars), ("ags", ags), ("areaId", area_id)) if v]
        if len(areas) != 1:
            raise ValueError("give exactly one of ars, ags and area_id")
        destination = str(destination_id or uuid.uuid4())
        if signature is None:
            gebiete = list(gebiet_ids) if gebiet_ids is not None else ([ars] if ars else [])
            leistungen = list(leistung_ids) if leistung_ids is not None else [leika_key]
            payload = {
                "submissionHost": "submission-api-testing.fit-connect.fitko.dev",
                "iss": "https://portal.auth-testing.fit-connect.fitko.dev",
                "services": [
                    {
                        "gebietIDs": [_urn(ARS_URN_PREFIX, g) for g in gebiete],
                        "leistungIDs": [_urn(LEIKA_URN_PREFIX, k) for k in leistungen],
                    }
                ],
                "destinationId": destination,
                "iat": 1637863481,
                "jti": str(uuid.uuid5(uuid.NAMESPACE_URL, destination + leika_key)),
            }
            signature = make_jws(payload, signer=self.signer)
        route: dict[str, Any] = {"destinationId": destination, "destinationSignature": signature}
        if name is not None:
            route["destinationName"] = name
        if origin is not None:
            route["origin"] = origin
        route.update(fields)
        parameter, value = areas[0]
        self.routes.setdefault((leika_key, parameter, value), []).append(route)
        return route

    def add_area(
        self, area_id: str, name: str, area_type: str, *, zips: Iterable[str] = ()
    ) -> dict[str, Any]:
        """Add an area for ``GET /areas`` (found by words of *name* or by *zips*)."""
        area = {"id": area_id, "name": name, "type": area_type, "_zip": list(zips)}
        self.areas.append(area)
        return area

    def handle(
        self, method: str, path: str, query: list[tuple[str, str]], headers: Mapping[str, str]
    ) -> tuple[int, str, Any, Mapping[str, str]]:
        """Answer ``/v1/routes``, ``/v1/areas`` and ``/v1/info`` (see the module docs)."""
        if self.require_user_agent and not headers.get("user-agent"):
            return self._problem(403, "Forbidden", "requests need a User-Agent header", path)
        local = path.removeprefix(BASE_PATH) if path.startswith(BASE_PATH + "/") else None
        if local not in ("/routes", "/areas", "/info"):
            return self._problem(404, "Not Found", f"no resource {path}", path)
        if method != "GET":
            status, content_type, body, _ = self._problem(
                405, "Method Not Allowed", f"{method} is not allowed on {path}", path
            )
            return status, content_type, body, {"Allow": "GET"}
        if local == "/info":
            major, minor, patch = self.version
            return 200, _JSON, {"version": {"major": major, "minor": minor, "patch": patch}}, {}
        single = dict(query)
        offset = _int(single, "offset", 0)
        limit = _int(single, "limit", 100)
        for value in (offset, limit):
            if isinstance(value, str):
                return self._problem(400, "Bad Request", value, path)
        assert isinstance(offset, int)
        assert isinstance(limit, int)
        if offset < 0 or not 1 <= limit <= 500:
            return self._problem(
                400, "Bad Request", f"offset must be >= 0 and limit 1 to 500 (got {limit})", path
            )
        page = min(limit, self.page_limit)
        if local == "/routes":
            return self._routes(single, offset, page, path)
        terms = [v for k, v in query if k == "areaSearchexpression"]
        if not 1 <= len(terms) <= 10:
            return self._problem(
                400, "Bad Request", "areaSearchexpression needs 1 to 10 terms", path
            )
        for term in terms:
            if not _SEARCH_TERM.fullmatch(term):
                detail = (
                    f"areaSearchexpression {term!r}: words of at least two characters, "
                    "'*' as a wildcard before or after a word"
                )
                return self._problem(400, "Bad Request", detail, path)
        found = [a for a in self.areas if all(_term_matches(t, a) for t in terms if t)]
        chunk = [{k: v for k, v in a.items() if not k.startswith("_")} for a in found]
        chunk = chunk[offset : offset + page]
        body = {"count": len(chunk), "offset": offset, "totalCount": len(found), "areas": chunk}
        # The spec declares the 200 answer of /areas as application/problem+json.
        return 200, _PROBLEM, body, {}

    def _routes(
        self, query: Mapping[str, str], offset: int, page: int, path: str
    ) -> tuple[int, str, Any, Mapping[str, str]]:
        leika_key = query.get("leikaKey")
        if not leika_key or not _LEIKA.fullmatch(leika_key):
            return self._problem(
                400, "Bad Request", f"leikaKey must match ^99\\d{{12}}$, got {leika_key!r}", path
            )
        given = [(p, query[p]) for p in ("ars", "ags", "areaId") if p in query]
        if len(given) != 1:
            names = ", ".join(p for p, _ in given) or "none"
            return self._problem(
                400,
                "Bad Request",
                f"exactly one of ars, ags and areaId must be given (got {names})",
                path,
            )
        parameter, value = given[0]
        # areaId: the spec's pattern ^\d{1,} only asks for a leading digit.
        pattern = _AREA_PATTERNS.get(parameter)
        if pattern is not None:
            valid = pattern.fullmatch(value) is not None
        else:
            valid = value[:1].isascii() and value[:1].isdigit()
        if not valid:
            return self._problem(400, "Bad Request", f"invalid {parameter} {value!r}", path)
        found = self.routes.get((leika_key, parameter, value), [])
        chunk = found[offset : offset + page]
        body = {"count": len(chunk), "offset": offset, "totalCount": len(found), "routes": chunk}
        return 200, _JSON, body, {}

    def _problem(
        self, status: int, title: str, detail: str, path: str
    ) -> tuple[int, str, Any, Mapping[str, str]]:
        return status, _PROBLEM, self.error_body(status, title, detail, path), {}


def _urn(prefix: str, value: str) -> str:
    return value if value.startswith("urn:") else prefix + value


def _term_matches(term: str, area: Mapping[str, Any]) -> bool:
    pattern = re.escape(term.casefold()).replace(r"\*", ".*")
    words = re.split(r"[\s()/-]+", str(area["name"]).casefold())
    return any(re.fullmatch(pattern, w) for w in [*words, *area.get("_zip", [])] if w)
