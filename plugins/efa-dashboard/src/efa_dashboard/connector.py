"""The ``dashboard`` connector: availability rows from the OZG-Dashboard API.

For every configured ARS scope the connector asks ``GET /v1/data/{ars}?includeBelow=true
&includeAbove=false`` (the ARS zero-filled to 12 digits, as the API wants; ``Accept:
application/json``) page by page (Spring pages: ``page`` from 0, ``size``), and maps each
row (``DvDataDto``) to an :class:`~efa_core.model.Availability`: LeiKa key, ARS, URL,
``online_status`` (``ok``/``nicht ok``), ``aktiv`` (``ja``/``nein``), coverage
(``art_flaechendeckung``), OZG-ID and name.  With ``areas = true`` (the default) it first
reads ``GET /v1/ars`` and delivers an :class:`~efa_core.model.Area` for each area inside
the scopes.

**Snapshot per scope set.**  One pull covers all configured scopes and ends with a
complete batch, so the engine may tombstone rows that vanished from them.  Rows outside
the scopes are ignored.  The cursor names the phase and the last page delivered
(``"ars:3"``, ``"data:16:0"``; ``end`` after a phase's last page).

**Zero-filled ARS.**  ``160550000000`` reads as Kreis ``16055`` (the kreisfreie Stadt
Weimar), as Gemeindeverband ``160550000`` and as Gemeinde ``160550000000``
(:meth:`efa_core.ids.Ars.padded_readings`).  The connector takes the shortest reading that
lies inside the scope the row was asked for: with scope ``16`` or ``16055`` that is
``16055``; with scope ``160550000000`` it is the Gemeinde.  Area records use the same rule
over all scopes.

Rows that do not validate become :class:`~efa_core.connectors.Rejected` with their
position (``"data 16 page 2 item 7"``); failures of the API raise
:class:`~efa_core.http.HttpError`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from typing import Any, ClassVar

import attrs
import httpx

from efa_core.connectors import Batch, Capability, CheckResult, Rejected, Upsert
from efa_core.errors import ConnectorError, InvalidIdentifier, ValidationError
from efa_core.http import HttpConnector, HttpError, HttpSettings, create_client, page_number
from efa_core.ids import Ars
from efa_core.model import Coverage
from efa_core.serialization import record_from_dict

__all__ = [
    "DEFAULT_URL",
    "DashboardConfig",
    "DashboardConnector",
    "read_padded_ars",
    "row_to_record",
]

log = logging.getLogger("efa_dashboard")

#: The public OZG-Dashboard API.
DEFAULT_URL = "https://dashboard-daten.digitale-verwaltung.de/api"

_PLUGIN_VERSION = "0.1.0"
_CURSOR = re.compile(r"(?:ars|data:(?P<scope>\d{2,12})):(?P<page>\d+|end)\Z")
_ONLINE = {"ok": True, "nicht ok": False}
_ACTIVE = {"ja": True, "nein": False}


def _page_size(instance: object, attribute: attrs.Attribute[Any], value: int) -> None:
    if not 1 <= value <= 2000:
        raise ValueError(f"{attribute.name} must be between 1 and 2000, got {value}")


def _check_scopes(
    instance: object, attribute: attrs.Attribute[Any], value: tuple[str, ...]
) -> None:
    if not value:
        raise ValueError('scopes needs at least one ARS, e.g. scopes = ["16"]')
    for text in value:
        try:
            Ars.parse(text)
        except InvalidIdentifier as exc:
            raise ValueError(f"scopes: {exc}") from exc


def _str_tuple(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(value)


@attrs.frozen(kw_only=True)
class DashboardConfig:
    """Options of a ``dashboard`` connector (one ``[connectors.NAME]`` table)."""

    #: The ARS scopes (2, 3, 5, 9 or 12 digits, canonical, e.g. ``"16"`` or ``"16055"``).
    scopes: tuple[str, ...] = attrs.field(converter=_str_tuple, validator=_check_scopes)
    #: The API's base URL.
    base_url: str = DEFAULT_URL
    #: Rows per request (``size``).
    page_size: int = attrs.field(default=500, validator=_page_size)
    #: Also deliver area records (names from ``/v1/ars``).
    areas: bool = True
    #: Requests per second (client side).
    rate_limit_per_second: float | None = None
    #: Attempts per request (retries on 429, 5xx and connection errors).
    attempts: int = 4
    #: Longest ``Retry-After`` accepted, in seconds.
    max_retry_after: float = 300.0
    #: Backoff before the first retry, in seconds (doubles per retry, plus jitter).
    initial_backoff: float = 0.5
    #: Upper bound of the backoff between retries, in seconds.
    max_backoff: float = 30.0

    @property
    def scope_ars(self) -> tuple[Ars, ...]:
        """The scopes as ARS, sorted, without repeats."""
        return tuple(sorted({Ars.parse(s) for s in self.scopes}, key=lambda a: a.value))


def read_padded_ars(padded: str, scopes: Sequence[Ars]) -> Ars | None:
    """Read a 12-digit zero-filled ARS: the shortest reading inside one of *scopes*.

    Returns ``None`` if no reading lies inside a scope.

    :raises efa_core.errors.InvalidIdentifier: *padded* is not a zero-filled ARS.
    """
    for reading in Ars.padded_readings(padded):
        if any(scope.contains(reading) for scope in scopes):
            return reading
    return None


def _spring_error(response: httpx.Response) -> HttpError:
    """Build the error of a failed answer; Spring's ``message`` is the detail if present."""
    error = HttpError.from_response(response)
    try:
        body = response.json()
    except ValueError:
        return error
    if isinstance(body, dict) and isinstance(body.get("message"), str) and body["message"]:
        reason = body.get("error")
        detail = f"{reason}: {body['message']}" if isinstance(reason, str) else body["message"]
        request = response.request
        return HttpError(
            f"failed with {response.status_code} {response.reason_phrase}",
            method=request.method,
            url=request.url,
            status=response.status_code,
            detail=detail,
        )
    return error


def _choice(value: object, table: Mapping[str, bool]) -> bool | str | None:
    if value is None:
        return None
    if isinstance(value, str) and value.strip().lower() in table:
        return table[value.strip().lower()]
    return f"expected one of {', '.join(repr(k) for k in table)}, got {value!r}"


def row_to_record(row: Mapping[str, Any], ars: Ars, position: str) -> Any:
    """Map one ``DvDataDto`` row (its ARS already read) to an ``availability`` record.

    :raises efa_core.errors.ValidationError: naming each field that does not fit.
    """
    problems: list[tuple[str, str]] = []
    data: dict[str, Any] = {
        "kind": "availability",
        "leika_key": row.get("leika_key"),
        "ars": str(ars),
    }
    url = row.get("url")
    data["url"] = url.strip() if isinstance(url, str) and url.strip() else None
    for field, source, table in (
        ("online", "online_status", _ONLINE),
        ("active", "aktiv", _ACTIVE),
    ):
        value = _choice(row.get(source), table)
        if isinstance(value, str):
            problems.append((f"$.{source}", value))
        else:
            data[field] = value
    coverage = row.get("art_flaechendeckung")
    if coverage is not None:
        try:
            data["coverage"] = Coverage.parse(str(coverage)).value
        except ValueError as exc:
            problems.append(("$.art_flaechendeckung", str(exc)))
    ozgid = row.get("ozgid")
    if ozgid is not None:
        data["ozg_id"] = str(ozgid)
    name = row.get("leika_bezeichnung") or row.get("leika_name")
    if isinstance(name, str) and name.strip():
        data["name"] = name.strip()
    if problems:
        raise ValidationError(problems, context=position)
    return record_from_dict(data, context=position)


class DashboardConnector(HttpConnector):
    """Pull availability rows (and area names) for configured ARS scopes (SNAPSHOT).

    :param transport: replaces the network in tests.
    """

    type_name: ClassVar[str] = "dashboard"
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.SNAPSHOT})
    config_class: ClassVar[type[Any]] = DashboardConfig

    config: DashboardConfig

    def make_client(self) -> httpx.AsyncClient:
        """Create the HTTP client."""
        settings = HttpSettings(
            attempts=self.config.attempts,
            rate_limit_per_second=self.config.rate_limit_per_second,
            max_retry_after=self.config.max_retry_after,
            initial_backoff=self.config.initial_backoff,
            max_backoff=self.config.max_backoff,
            user_agent_suffix=f"efa-dashboard/{_PLUGIN_VERSION}",
        )
        return create_client(
            base_url=self.config.base_url,
            settings=settings,
            transport=self.transport,
            clock=self.clock,
            headers={"Accept": "application/json"},
        )

    async def _page(self, path: str, params: Mapping[str, str]) -> tuple[httpx.Response, Any]:
        response = await self.client.get(path, params=params)
        await response.aread()
        if not response.is_success:
            raise _spring_error(response)
        try:
            body = response.json()
        except ValueError as exc:
            raise ConnectorError(f"{self.label}: {response.request.url} is not JSON") from exc
        if not isinstance(body, dict) or not isinstance(body.get("content"), list):
            raise ConnectorError(
                f"{self.label}: {response.request.url} is not a page (no 'content' list)"
            )
        return response, body

    async def check_source(self) -> CheckResult:
        """Fetch one area from ``/v1/ars``: proves the API answers."""
        try:
            await self._page("/v1/ars", {"page": "0", "size": "1"})
        except ConnectorError as exc:
            return CheckResult(False, str(exc))
        return CheckResult(True, f"OZG-Dashboard API answers at {self.config.base_url}")

    def _phases(self) -> list[tuple[str, Ars | None]]:
        phases: list[tuple[str, Ars | None]] = [("ars", None)] if self.config.areas else []
        return phases + [("data", scope) for scope in self.config.scope_ars]

    async def pull_batches(self, cursor: str | None) -> AsyncIterator[Batch]:
        """Yield one batch per page: ``/v1/ars`` first (if enabled), then each scope."""
        phases = self._phases()
        first_phase, first_page = 0, 0
        if cursor is not None:
            match = _CURSOR.match(cursor)
            wanted = (
                ("data", Ars.parse(match["scope"])) if match and match["scope"] else ("ars", None)
            )
            if match is None or wanted not in phases:
                raise ConnectorError(
                    f"{self.label}: invalid cursor {cursor!r} for scopes "
                    f"{list(self.config.scopes)}; expected 'ars:<page>' or 'data:<ars>:<page>'"
                )
            first_phase = phases.index(wanted)
            if match["page"] == "end":
                first_phase += 1
            else:
                first_page = int(match["page"]) + 1
        if first_phase >= len(phases):
            yield Batch((), cursor, complete=True)
            return
        scopes = self.config.scope_ars
        seen: set[tuple[str, str]] = set()
        next_page = page_number(total_pages="totalPages")
        for index in range(first_phase, len(phases)):
            kind, scope = phases[index]
            page = first_page if index == first_phase else 0
            last_phase = index == len(phases) - 1
            while True:
                params = {"page": str(page), "size": str(self.config.page_size)}
                if kind == "ars":
                    path, label = "/v1/ars", "ars"
                else:
                    assert scope is not None
                    path, label = f"/v1/data/{scope.padded()}", f"data:{scope}"
                    params.update({"includeBelow": "true", "includeAbove": "false"})
                response, body = await self._page(path, params)
                where = f"{label.replace(':', ' ')} page {page}"
                if kind == "ars":
                    changes, rejected = self._areas(body["content"], scopes, where, seen)
                else:
                    assert scope is not None
                    changes, rejected = self._rows(body["content"], scope, where, seen)
                following = next_page(response)
                done = following is None or not body["content"]
                yield Batch(
                    changes,
                    f"{label}:{'end' if done else page}",
                    complete=done and last_phase,
                    rejected=rejected,
                )
                if done:
                    break
                page += 1

    def _rows(
        self, rows: list[Any], scope: Ars, where: str, seen: set[tuple[str, str]]
    ) -> tuple[list[Upsert], list[Rejected]]:
        changes: list[Upsert] = []
        rejected: list[Rejected] = []
        for number, row in enumerate(rows, start=1):
            position = f"{where} item {number}"
            if not isinstance(row, dict):
                problem = ("$", f"expected an object, got {type(row).__name__}")
                rejected.append(Rejected("availability", position, row, [problem]))
                continue
            try:
                ars = read_padded_ars(str(row.get("ars")), [scope])
            except InvalidIdentifier as exc:
                rejected.append(Rejected("availability", position, row, [("$.ars", str(exc))]))
                continue
            if ars is None:
                log.debug(
                    "%s: %s: ARS %s is outside scope %s", self.label, position, row["ars"], scope
                )
                continue
            try:
                record = row_to_record(row, ars, position)
            except ValidationError as exc:
                rejected.append(Rejected("availability", position, row, exc.problems))
                continue
            key = ("availability", record.natural_key)
            if key not in seen:
                seen.add(key)
                changes.append(Upsert(record))
        return changes, rejected

    def _areas(
        self, items: list[Any], scopes: Sequence[Ars], where: str, seen: set[tuple[str, str]]
    ) -> tuple[list[Upsert], list[Rejected]]:
        changes: list[Upsert] = []
        rejected: list[Rejected] = []
        for number, item in enumerate(items, start=1):
            position = f"{where} item {number}"
            if not isinstance(item, dict):
                problem = ("$", f"expected an object, got {type(item).__name__}")
                rejected.append(Rejected("area", position, item, [problem]))
                continue
            try:
                ars = read_padded_ars(str(item.get("ars")), scopes)
            except InvalidIdentifier as exc:
                rejected.append(Rejected("area", position, item, [("$.ars", str(exc))]))
                continue
            if ars is None:
                continue
            try:
                record = record_from_dict(
                    {"kind": "area", "ars": str(ars), "name": item.get("arsName")},
                    context=position,
                )
            except ValidationError as exc:
                problems = [(p.replace("$.name", "$.arsName"), m) for p, m in exc.problems]
                rejected.append(Rejected("area", position, item, problems))
                continue
            key = ("area", record.natural_key)
            if key not in seen:
                seen.add(key)
                changes.append(Upsert(record))
        return changes, rejected
