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

from efa_core.connectors import Batch, Capability, CheckResult, Rejected, Skipped, Upsert
from efa_core.errors import ConnectorError, InvalidIdentifier, ValidationError
from efa_core.http import HttpConnector, HttpSettings, create_client, page_number, paginate
from efa_core.ids import Ars, Land
from efa_core.model import Coverage
from efa_core.serialization import record_from_dict

__all__ = [
    "DEFAULT_URL",
    "DashboardConfig",
    "DashboardConnector",
    "Normalised",
    "read_padded_ars",
    "row_to_record",
]

log = logging.getLogger("efa_dashboard")

#: The public OZG-Dashboard API.
DEFAULT_URL = "https://dashboard-daten.digitale-verwaltung.de/api"

_PLUGIN_VERSION = "0.1.0"
_CURSOR = re.compile(r"(?:ars|data:(?P<scope>\d{2,12})):(?P<page>\d+|end)\Z")
_ONLINE = {"ok": True, "nicht ok": False}
#: Spring pages: ``last`` or ``totalPages`` prove the end; a page over ``size`` is refused.
_SPRING = page_number(items="content", total_pages="totalPages", last="last", size_param="size")
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
    #: Timeouts, retries, rate limit, body limit, redirects, proxy (an ``[connectors.NAME.http]``
    #: table; see :class:`efa_core.http.HttpSettings`).
    http: HttpSettings = attrs.field(factory=HttpSettings)

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


def _choice(value: object, table: Mapping[str, bool]) -> bool | str | None:
    if value is None:
        return None
    if isinstance(value, str) and value.strip().lower() in table:
        return table[value.strip().lower()]
    return f"expected one of {', '.join(repr(k) for k in table)}, got {value!r}"


_OUTSIDE = "outside the configured scopes"
_DUPLICATE = "repeats a row already delivered in this snapshot"


def _counted(skipped: list[Skipped]) -> list[Skipped]:
    """Merge single skips into one :class:`Skipped` per kind and reason (first position)."""
    merged: dict[tuple[str, str], Skipped] = {}
    for skip in skipped:
        key = (skip.kind, skip.reason)
        have = merged.get(key)
        merged[key] = skip if have is None else attrs.evolve(have, count=have.count + 1)
    return list(merged.values())


@attrs.define
class Normalised:
    """What :func:`row_to_record` changed in spec-valid rows, counted for the run's warnings."""

    #: reason -> [rows, the first row's position]
    reasons: dict[str, list[Any]] = attrs.field(factory=dict)

    def note(self, reason: str, position: str) -> None:
        """Count one row changed for *reason*."""
        entry = self.reasons.setdefault(reason, [0, position])
        entry[0] += 1

    def lines(self, label: str) -> list[str]:
        """One warning per reason: how many rows, and the first one."""
        return [
            f"{label}: {n} row{'s' if n != 1 else ''} with {reason} (first: {first})"
            for reason, (n, first) in self.reasons.items()
        ]


_NO_SCHEME = "a url without scheme, stored with https://"
_OZGID_0 = "ozgid 0, stored without an OZG-Leistung"
_NO_LAND = "an ars_federal_state that is no Land, stored without one"
_NO_URL = "a url that is no http(s) URL, stored without one"


def _normalise(
    normalised: Normalised | None, reason: str, position: str, message: str, *args: object
) -> None:
    """Note one normalised row, logged at debug level and counted in *normalised*.

    The run's warnings then say it once per reason; where nothing counts the rows
    (*normalised* is None), each is logged as a warning.
    """
    if normalised is None:
        log.warning("%s: " + message, position, *args)
        return
    log.debug("%s: " + message, position, *args)
    normalised.note(reason, position)


def _normalised_url(value: object, position: str, normalised: Normalised | None) -> str | None:
    """Return the row's URL, with ``https://`` added to a URL without scheme (warned)."""
    if not isinstance(value, str) or not value.strip():
        return None
    url = value.strip()
    if "://" not in url and not any(c.isspace() for c in url) and "." in url.split("/", 1)[0]:
        _normalise(
            normalised,
            _NO_SCHEME,
            position,
            "url %r has no scheme; stored as 'https://%s'",
            url,
            url,
        )
        url = "https://" + url
    if (
        not url.lower().startswith(("https://", "http://"))
        or not url.split("//", 1)[1]
        or any(c.isspace() for c in url)
    ):
        # the availability is what counts; a url that is none ('nicht angegeben') must not
        # cost the row (issue 10)
        _normalise(
            normalised, _NO_URL, position, "url %r is no http(s) URL; stored without one", url
        )
        return None
    return url


def _text(value: object) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def row_to_record(
    row: Mapping[str, Any], ars: Ars, position: str, normalised: Normalised | None = None
) -> Any:
    """Map one ``DvDataDto`` row (its ARS already read) to an ``availability`` record.

    What the spec allows is kept: a URL without scheme (``www.x.de/a``) gets ``https://``
    and an ``ozgid`` of 0 (no OZG-Leistung) is stored as none; a url that is none
    (``nicht angegeben``) is left out, never costing the row.  Each is counted in
    *normalised* for the run's warnings, one line per reason, and logged per row at debug
    level (as a warning without *normalised*).

    :raises efa_core.errors.ValidationError: naming each field that does not fit.
    """
    problems: list[tuple[str, str]] = []
    data: dict[str, Any] = {
        "kind": "availability",
        "leika_key": row.get("leika_key"),
        "ars": str(ars),
        "url": _normalised_url(row.get("url"), position, normalised),
    }
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
    if ozgid in (0, "0"):
        _normalise(
            normalised, _OZGID_0, position, "ozgid 0 names no OZG-Leistung; stored without one"
        )
    elif ozgid is not None:
        data["ozg_id"] = str(ozgid)
    name = row.get("leika_bezeichnung") or row.get("leika_name")
    data["name"] = _text(name)
    data["ozg_name"] = _text(row.get("ozg_bezeichnung"))
    data["area_name"] = _text(row.get("ars_name"))
    land = _text(row.get("ars_federal_state"))
    if land is None and isinstance(row.get("ars"), str):
        land = row["ars"][:2]
    try:
        data["land"] = None if land is None else str(Land.parse(land))
    except InvalidIdentifier:
        _normalise(
            normalised,
            _NO_LAND,
            position,
            "ars_federal_state %r is no Land; stored without one",
            land,
        )
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
        settings = self.config.http
        if settings.user_agent_suffix is None:
            settings = attrs.evolve(settings, user_agent_suffix=f"efa-dashboard/{_PLUGIN_VERSION}")
        return create_client(
            base_url=self.config.base_url,
            settings=settings,
            transport=self.transport,
            clock=self.clock,
            headers={"Accept": "application/json"},
        )

    async def check_source(self) -> CheckResult:
        """Fetch one area from ``/v1/ars``: proves the API answers."""
        try:
            async for _ in paginate(
                self.client, "/v1/ars", {"page": "0", "size": "1"}, next_page=_SPRING, max_pages=1
            ):
                break
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
        normalised = Normalised()
        for index in range(first_phase, len(phases)):
            kind, scope = phases[index]
            page = first_page if index == first_phase else 0
            last_phase = index == len(phases) - 1
            params = {"page": str(page), "size": str(self.config.page_size)}
            if kind == "ars":
                path, label = "/v1/ars", "ars"
            else:
                assert scope is not None
                path, label = f"/v1/data/{scope.padded()}", f"data:{scope}"
                params.update({"includeBelow": "true", "includeAbove": "false"})
            # A phase ends only where a page proves it (``last`` or ``totalPages``); a page
            # that proves nothing fails the pull, so a cut-off snapshot never completes.
            async for result in paginate(self.client, path, params, next_page=_SPRING):
                number = int(result.response.request.url.params.get("page", "0"))
                where = f"{label.replace(':', ' ')} page {number}"
                skipped: list[Skipped] = []
                items = list(result.items)
                if kind == "ars":
                    changes, rejected = self._areas(items, scopes, where, seen, skipped)
                else:
                    assert scope is not None
                    changes, rejected = self._rows(items, scope, where, seen, skipped, normalised)
                complete = result.last and last_phase
                yield Batch(
                    changes,
                    f"{label}:{'end' if result.last else number}",
                    complete=complete,
                    rejected=rejected,
                    skipped=_counted(skipped),
                    warnings=[
                        *self.take_warnings(),
                        *(normalised.lines(self.label) if complete else ()),
                    ],
                )

    def _rows(
        self,
        rows: list[Any],
        scope: Ars,
        where: str,
        seen: set[tuple[str, str]],
        skipped: list[Skipped],
        normalised: Normalised,
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
                skipped.append(Skipped("availability", _OUTSIDE, position=position))
                continue
            try:
                record = row_to_record(row, ars, position, normalised)
            except ValidationError as exc:
                rejected.append(Rejected("availability", position, row, exc.problems))
                continue
            key = ("availability", record.natural_key)
            if key in seen:
                skipped.append(Skipped("availability", _DUPLICATE, position=position))
            else:
                seen.add(key)
                changes.append(Upsert(record))
        return changes, rejected

    def _areas(
        self,
        items: list[Any],
        scopes: Sequence[Ars],
        where: str,
        seen: set[tuple[str, str]],
        skipped: list[Skipped],
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
                skipped.append(Skipped("area", _OUTSIDE, position=position))
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
            if key in seen:
                skipped.append(Skipped("area", _DUPLICATE, position=position))
            else:
                seen.add(key)
                changes.append(Upsert(record))
        return changes, rejected
