"""From rows of logical fields to records, with the agreement lifecycle checked.

Offers become services and providers; interest and contract lists become subscribers
and agreements.

A :class:`SourceRow` is one row of an export (or one entry of a local YAML file) with its
cells keyed by logical field (see :mod:`efa_marktplatz.columns`).  The functions here are
pure: they return :class:`~efa_core.connectors.Upsert` and
:class:`~efa_core.connectors.Rejected` items in a stable order.

**Offers.**  One row is one offer.  Rows with the same service key (the same offer id,
or, without ids, the same name) are one service: their LeiKa keys, OZG-IDs and reuse
channels are joined (the EfA-Marktplatz lists a service once per *Anbieter*, govdigital
and FITKO).  A row that contradicts an earlier one (another Land, operator, name or URL)
is rejected, naming the fields and the earlier row.

**Agreements.**  Rows with the same agreement key (service key, subscriber, reference)
are the status history of one agreement.  They are ordered by date (file order when a
row has no date) and replayed through the lifecycle
(:data:`efa_core.model.AGREEMENT_TRANSITIONS`).  A row whose status the lifecycle does not
allow at that point (``Vertragsschluss`` after ``zurückgezogen``) is *not* applied: the
agreement keeps its last legal state, and the row is reported as a
:class:`~efa_core.connectors.Rejected` whose problem, on path ``state``, starts with
``"lifecycle: "``, so the findings layer can pick it up from the quarantine.

**Only identity fields reject a row**: the service key or name and the LeiKa keys of an
offer; the service, the subscriber (its name, its ARS, or that it is an organisation) and
the status of an agreement.  A bad optional cell (a price ``ca. 500 €``, a URL ``siehe
Portal``, an unknown channel, a date ``gestern``) is dropped, a URL without scheme gets
``https://``, and each case is noted in a :class:`~efa_core.tabular.CellWarnings` that the
connector logs, one line per field and problem.

**Accounting.**  Every row ends as a record, a :class:`~efa_core.connectors.Rejected`, or a
:class:`~efa_core.connectors.Skipped` of its kind: a row joined into an earlier offer of the
same service, and a status row folded into an agreement listed earlier, are reported as
skipped (``service`` and ``agreement``), so that rows in = stored + quarantined + skipped.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from types import MappingProxyType
from typing import TypeVar

import attrs

from efa_core.connectors import Rejected, Skipped, Upsert, fingerprint
from efa_core.errors import EfaError, IllegalTransition
from efa_core.ids import Ars, ArsLevel, LeikaKey, OzgId
from efa_core.model import (
    AGREEMENT_TRANSITIONS,
    Agreement,
    AgreementState,
    Land,
    Provider,
    ProviderKind,
    ReuseChannel,
    Service,
    Subscriber,
    SubscriberKind,
)
from efa_core.tabular import (
    Cell,
    CellWarnings,
    Row,
    blank,
    cell_text,
    parse_ars,
    parse_date,
    parse_identifiers,
    parse_land,
    parse_leika_keys,
    parse_ozg_ids,
    parse_price,
    parse_url,
    single_line,
    slugify,
)
from efa_marktplatz.states import normalize_label, parse_state
from efa_marktplatz.values import KNOWN_CHANNELS, parse_channel, split_channels

__all__ = [
    "LIFECYCLE_PREFIX",
    "AgreementRow",
    "Item",
    "Offer",
    "SourceRow",
    "agreement_items",
    "offer_items",
    "parse_agreement_row",
    "parse_offer",
    "parse_subscriber_kind",
]

_T = TypeVar("_T")

#: The start of every lifecycle problem's message (path ``state``).
LIFECYCLE_PREFIX = "lifecycle: "

#: What the builders return: records, rejected and skipped rows, and the fingerprints of
#: input objects the store holds unchanged (see :func:`agreement_items`).
Item = Upsert | Rejected | Skipped | bytes

#: Asks the store which fingerprints it holds (``Connector.stored_fingerprints``).
Lookup = Callable[[list[bytes]], Mapping[bytes, tuple[int, ...]]]

#: How many fingerprints one store lookup asks about.
_LOOKUP_CHUNK = 5000


def _known(fingerprints: Sequence[bytes], lookup: Lookup | None) -> set[bytes]:
    """Return the *fingerprints* the store holds (none without *lookup*)."""
    if lookup is None:
        return set()
    known: set[bytes] = set()
    for start in range(0, len(fingerprints), _LOOKUP_CHUNK):
        known.update(lookup(list(fingerprints[start : start + _LOOKUP_CHUNK])))
    return known


def row_digest(row: SourceRow) -> bytes:
    """Return the digest of one row's cells, as read (a part of its group's fingerprint).

    A table row's cells are taken whole, with the columns no field claims (a change there
    only costs a rebuild); a YAML entry's values by field.
    """
    cells = row.table_row.cells if row.table_row is not None else sorted(row.values.items())
    return fingerprint(repr(cells))


def group_fingerprint(salt: str, digests: bytes | bytearray) -> bytes:
    """Return the fingerprint of one service or agreement from its rows' digests, in order.

    *digests* are the rows' :func:`row_digest` values, concatenated (16 bytes each).

    *salt* names the connector, its version, the options that change the mapping and the
    table's column layout.  Positions and headers do not decide the records, except in
    problems, and a row with problems is never fingerprinted.
    """
    return fingerprint(salt, bytes(digests))


_NO_VALUES: Mapping[str, Cell] = MappingProxyType({})


@attrs.frozen(kw_only=True)
class SourceRow:
    """One row of input with its cells keyed by logical field.

    Rows of a table are backed by the :class:`efa_core.tabular.Row` itself
    (:meth:`from_table`): its cells are looked up by column and its ``{header: text}`` is
    built only when a row is rejected, so a large export costs little per row.
    """

    #: Where it is, e.g. ``"offers.csv:row 7"``.
    position: str
    #: The raw input, for a Rejected (the YAML entry); see :attr:`input`.
    raw: object = None
    #: Logical field → cell (fields without a column are absent).
    values: Mapping[str, Cell] = attrs.field(default=_NO_VALUES)
    #: Logical field → the header it came from, to name it in problems.
    labels: Mapping[str, str] = attrs.field(factory=dict)
    #: The order of the row in its input (used to order the output).
    index: int = 0
    #: The table row behind it, if it came from a table.
    table_row: Row | None = None

    @classmethod
    def from_table(cls, row: Row, index: int) -> SourceRow:
        """Return the source row of a table's data *row* (the *index*-th of its input)."""
        return cls(position=row.position, labels=row.columns.headers, index=index, table_row=row)

    @property
    def input(self) -> object:
        """The raw input, for a Rejected: ``{header: text}`` of a table row, or :attr:`raw`."""
        return self.table_row.raw() if self.table_row is not None else self.raw

    def get(self, name: str) -> Cell:
        """Return the cell of field *name*, or ``None`` if blank or absent."""
        if self.table_row is not None:
            return self.table_row.get(name)
        cell = self.values.get(name)
        return None if blank(cell) else cell

    def text(self, name: str) -> str | None:
        """Return the text of field *name* on one line, or ``None`` if blank or absent.

        Line breaks inside a cell (Alt+Enter in a spreadsheet) and runs of spaces become
        one space: ``Stadt⏎Erfurt`` is ``Stadt Erfurt``.
        """
        cell = self.get(name)
        return None if cell is None else single_line(cell_text(cell))

    def block(self, name: str) -> str | None:
        """Return the stripped text of field *name* with its line breaks (a note's text)."""
        cell = self.get(name)
        return None if cell is None else cell_text(cell)

    def where(self, name: str) -> str:
        """How a problem names the field: the column header if it differs from *name*."""
        label = self.labels.get(name)
        return f"column {label!r}: " if label and label != name else ""


class _Problems:
    """Collects ``(field, message)`` problems of one row, and warnings of optional cells."""

    def __init__(self, row: SourceRow, warnings: CellWarnings | None = None) -> None:
        self.row = row
        self.items: list[tuple[str, str]] = []
        self.warnings = warnings

    def warn(self, name: str, what: str, value: str | None = None) -> None:
        """Note that the optional field *name* was repaired or dropped (*what* says how)."""
        if self.warnings is None:
            return
        label = self.row.labels.get(name)
        field = f"{name} (column {label!r})" if label and label != name else name
        shown = value if value is not None else cell_text(self.row.get(name))
        self.warnings.add(field, what, self.row.position, shown)

    def optional(self, name: str, parser: Callable[[Cell], _T], what: str) -> _T | None:
        """Parse an optional cell; a bad value is dropped with a warning, never a problem."""
        cell = self.row.get(name)
        if cell is None:
            return None
        try:
            return parser(cell)
        except (ValueError, EfaError):
            self.warn(name, what)
            return None

    def add(self, name: str, message: str) -> None:
        self.items.append((name, f"{self.row.where(name)}{message}"))

    def parse(self, name: str, parser: Callable[[Cell], object]) -> object | None:
        cell = self.row.get(name)
        if cell is None:
            return None
        try:
            return parser(cell)
        except (ValueError, EfaError) as exc:
            self.add(name, str(exc))
            return None

    def rejected(self, kind: str) -> Rejected:
        return Rejected(kind, self.row.position, self.row.input, self.items)


# -- offers ---------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Offer:
    """One parsed offer row (becomes a :class:`~efa_core.model.Service`)."""

    row: SourceRow
    key: str
    name: str
    leika_keys: tuple[LeikaKey, ...]
    land: Land | None = None
    operator: str | None = None
    channels: tuple[ReuseChannel, ...] = ()
    ozg_ids: tuple[OzgId, ...] = ()
    url: str | None = None
    onlinedienst_ids: tuple[str, ...] = ()
    offer_ids: tuple[str, ...] = ()
    price_model: str | None = None
    price: Decimal | None = None
    modified_at: datetime | None = None

    @property
    def operator_key(self) -> str | None:
        """The :class:`~efa_core.model.Provider` key of the operator (its name as a slug)."""
        return None if self.operator is None else slugify(self.operator)


def _service_key(row: SourceRow, problems: _Problems) -> str | None:
    key = row.text("service_key")
    if key is not None:
        return key
    name = row.text("service_name")
    if name is None:
        problems.add("service_key", "missing: neither an offer id nor a service name is given")
        return None
    try:
        return slugify(name)
    except ValueError as exc:
        problems.add("service_name", str(exc))
        return None


def _federal(text: str | None) -> bool:
    """Whether a Land cell says the Bund provides the service (then there is no Land)."""
    return text is not None and normalize_label(text) in ("bund", "bundesweit")


_NOT_A_DATE = "not a date (dd.mm.yyyy or yyyy-mm-dd); stored without it"


def _url(problems: _Problems) -> str | None:
    """Return the offer's URL: ``www.…`` gets ``https://``; a non-URL is dropped."""
    text = problems.row.text("url")
    if text is None:
        return None
    try:
        url = parse_url(text)
    except ValueError:
        problems.warn("url", "not an http(s) URL; stored without one")
        return None
    if url != text:
        problems.warn("url", "no scheme; stored with https://")
    return url


def _channels(problems: _Problems) -> tuple[ReuseChannel, ...]:
    """Return the known channels of the cell; unknown ones are dropped with a warning."""
    cell = problems.row.get("channel")
    if cell is None:
        return ()
    channels, unknown = split_channels(cell)
    for text in unknown:
        problems.warn("channel", f"unknown reuse channel (known: {KNOWN_CHANNELS}); ignored", text)
    return channels


def _operator(problems: _Problems) -> str | None:
    operator = problems.row.text("operator")
    if operator is not None:
        try:
            slugify(operator)
        except ValueError:
            problems.warn("operator", "gives no key (no letters or digits); stored without it")
            return None
    return operator


def parse_offer(
    row: SourceRow,
    *,
    default_channels: Sequence[ReuseChannel] = (),
    warnings: CellWarnings | None = None,
) -> Offer | Rejected:
    """Parse one offer row.

    Only the identity fields (service key or name, LeiKa keys) reject the row, each problem
    named by its field; bad optional cells are dropped and noted in *warnings*.
    """
    problems = _Problems(row, warnings)
    name = row.text("service_name")
    if name is None:
        problems.add("service_name", "missing: the service has no name")
    key = _service_key(row, problems)
    leika = problems.parse("leika_keys", parse_leika_keys)
    if leika is None and row.get("leika_keys") is None:
        problems.add("leika_keys", "missing: a service needs at least one LeiKa key")
    if problems.items or name is None or key is None:
        return problems.rejected(Service.KIND)
    assert isinstance(leika, tuple)
    land = (
        None
        if _federal(row.text("land"))
        else problems.optional("land", parse_land, "not a Land; stored without one")
    )
    price = problems.optional(
        "price",
        parse_price,
        "not a price (a number >= 0, 'kostenfrei' or 'auf Anfrage'); stored without one",
    )
    offer_ids = problems.optional("offer_ids", parse_identifiers, "not an id; ignored") or ()
    offer = Offer(
        row=row,
        key=key,
        name=name,
        leika_keys=leika,
        land=land,
        operator=_operator(problems),
        channels=_channels(problems) or tuple(default_channels),
        ozg_ids=problems.optional("ozg_ids", parse_ozg_ids, "not an OZG-ID; stored without") or (),
        url=_url(problems),
        onlinedienst_ids=problems.optional(
            "onlinedienst_ids", parse_identifiers, "not an id; ignored"
        )
        or (),
        offer_ids=tuple(i for i in offer_ids if i != key),
        price_model=row.text("price_model"),
        price=price,
        modified_at=problems.optional("modified", parse_date, _NOT_A_DATE),
    )
    try:
        _service(offer)  # the model's own checks (key whitespace, ...)
    except (ValueError, EfaError) as exc:
        field = getattr(exc, "field", "$")
        names = {"key": "service_key", "name": "service_name", "leika_keys": "leika_keys"}
        problems.add(names.get(field, field), str(exc))
        return problems.rejected(Service.KIND)
    return offer


def _service(offer: Offer) -> Service:
    return Service(
        key=offer.key,
        name=offer.name,
        leika_keys=offer.leika_keys,
        ozg_ids=offer.ozg_ids,
        land=offer.land,
        operator=offer.operator_key,
        url=offer.url,
        onlinedienst_ids=offer.onlinedienst_ids,
        offer_ids=offer.offer_ids,
        reuse_channels=offer.channels,
        price_model=offer.price_model,
        price=offer.price,
        modified_at=offer.modified_at,
    )


def _union(first: tuple[_T, ...], second: tuple[_T, ...]) -> tuple[_T, ...]:
    return first + tuple(item for item in second if item not in first)


def _later(first: datetime | None, second: datetime | None) -> datetime | None:
    if first is None or second is None:
        return first or second
    return max(first, second)


def _merge(base: Offer, other: Offer) -> Offer | list[tuple[str, str]]:
    """Join *other* into *base*, or return the contradictions as problems."""
    conflicts: list[tuple[str, str]] = []
    for name, field in (
        ("service_name", "name"),
        ("land", "land"),
        ("operator", "operator"),
        ("url", "url"),
    ):
        mine, theirs = getattr(base, field), getattr(other, field)
        if mine is not None and theirs is not None and mine != theirs:
            conflicts.append(
                (
                    name,
                    f"{other.row.where(name)}{str(theirs)!r} contradicts {str(mine)!r} of "
                    f"{base.row.position} (same service key {base.key!r})",
                )
            )
    if conflicts:
        return conflicts
    return attrs.evolve(
        base,
        leika_keys=_union(base.leika_keys, other.leika_keys),
        ozg_ids=_union(base.ozg_ids, other.ozg_ids),
        onlinedienst_ids=_union(base.onlinedienst_ids, other.onlinedienst_ids),
        offer_ids=_union(base.offer_ids, other.offer_ids),
        channels=_union(base.channels, other.channels),
        land=base.land or other.land,
        operator=base.operator or other.operator,
        url=base.url or other.url,
        price_model=base.price_model or other.price_model,
        price=base.price if base.price is not None else other.price,
        modified_at=_later(base.modified_at, other.modified_at),
    )


class _Later:
    """Counts the rows that joined a group listed earlier, and where the first of them was."""

    def __init__(self) -> None:
        self.count = 0
        self.first: str | None = None

    def add(self, positions: Sequence[str], count: int) -> None:
        """Add a group's *count* rows after its first; *positions* starts with the first two."""
        if count > 0:
            self.count += count
            self.first = self.first or positions[1]

    def skipped(self, kind: str, reason: str) -> list[Item]:
        """Return one :class:`Skipped` for them (none if there are none)."""
        if not self.count:
            return []
        return [Skipped(kind, reason, count=self.count, position=self.first)]


#: Why a row joined into an earlier offer is reported as skipped.
JOINED_REASON = "another row of a service listed earlier (same service key): joined into it"
#: Why a status row folded into an agreement listed earlier is reported as skipped.
FOLDED_REASON = "a status row of an agreement listed earlier: part of its history"


#: Reads the rows of an export again (a second pass), for :func:`offer_items` and
#: :func:`agreement_items`.
Reread = Callable[[], Iterable[SourceRow]]


def _second_pass(groups: Iterable[_Group], known: set[bytes], reread: Reread | None) -> None:
    """Give the groups to build their rows, read again (with *reread*) or kept from pass one."""
    if reread is None:
        return
    wanted: dict[int, _Group] = {}
    for group in groups:
        if group.fingerprint is None or group.fingerprint not in known:
            wanted.update(dict.fromkeys(group.indexes, group))
    if not wanted:
        return
    for row in reread():
        owner = wanted.get(row.index)
        if owner is not None:
            owner.rows.append(row)


def offer_items(
    rows: Iterable[SourceRow],
    *,
    default_channels: Sequence[ReuseChannel] = (),
    warnings: CellWarnings | None = None,
    lookup: Lookup | None = None,
    salt: str = "",
    reread: Reread | None = None,
) -> list[Item]:
    """Turn offer rows into provider and service upserts, rejected and skipped rows.

    Records and rejected rows follow the input order (a provider before the first service
    it operates); rows joined into an earlier row of the same service come last, as one
    :class:`Skipped` of kind ``service``.  With *lookup*, services are fingerprinted as
    agreements are in :func:`agreement_items` (see there, also for *reread*); providers are
    built every time and carry none.
    """
    groups: dict[str, _Group] = {}
    order: list[tuple[int, Item | _Group]] = []
    for row in rows:
        key = row.text("service_key") or _service_key(row, _Problems(row, CellWarnings()))
        if key is None:  # no id and no usable name: read whole, for its problems
            rejected = parse_offer(row, default_channels=default_channels, warnings=warnings)
            assert isinstance(rejected, Rejected)  # a service needs a key
            order.append((row.index, rejected))
            continue
        group = groups.get(key)
        if group is None:
            group = groups[key] = _Group(key)
            order.append((row.index, group))
        group.add(row, keep=reread is None, digest=lookup is not None)
        if group.operator is None:
            group.operator = row.text("operator")
    known = _lookup(groups.values(), lookup, salt)
    _second_pass(groups.values(), known, reread)
    items: list[Item] = []
    providers: set[str] = set()
    joined = _Later()
    for _, entry in sorted(order, key=lambda e: e[0]):
        if not isinstance(entry, _Group):
            items.append(entry)
            continue
        fp = entry.fingerprint
        built: list[Item]
        if fp is not None and fp in known:
            operator = entry.operator
            built, kept, size = [fp], entry.positions, entry.size
        else:
            offer, built, kept = _build_offer(
                entry, default_channels=default_channels, warnings=warnings, fp=fp
            )
            operator = offer.operator if offer is not None else None
            size = len(kept)
        if kept and operator is not None:
            key = slugify(operator)
            if key not in providers:
                providers.add(key)
                provider = Provider(
                    key=key, name=operator, provider_kind=ProviderKind.IT_DIENSTLEISTER
                )
                items.append(Upsert(provider))
        items.extend(built)
        joined.add(kept, size - 1)
        entry.release()
    items.extend(joined.skipped(Service.KIND, JOINED_REASON))
    return items


def _build_offer(
    group: _Group,
    *,
    default_channels: Sequence[ReuseChannel],
    warnings: CellWarnings | None,
    fp: bytes | None,
) -> tuple[Offer | None, list[Item], list[str]]:
    """Build one service from its rows: the offer, its items and the positions kept."""
    collector = warnings if warnings is not None else CellWarnings()
    before = len(collector)
    offer: Offer | None = None
    rejected: list[Item] = []
    kept: list[str] = []
    for row in group.rows:
        parsed = parse_offer(row, default_channels=default_channels, warnings=collector)
        if isinstance(parsed, Rejected):
            rejected.append(parsed)
            continue
        merged = parsed if offer is None else _merge(offer, parsed)
        if isinstance(merged, list):
            rejected.append(Rejected(Service.KIND, row.position, row.input, merged))
            continue
        offer = merged
        kept.append(row.position)
    if offer is None:
        return None, rejected, []
    clean = not rejected and len(collector) == before
    upsert = Upsert(_service(offer), fingerprint=fp if clean else None)
    return offer, [upsert, *rejected], kept


# -- agreements -----------------------------------------------------------------------------

_SUBSCRIBER_KINDS: dict[str, SubscriberKind] = {
    normalize_label(label): kind
    for label, kind in (
        ("Land", SubscriberKind.LAND),
        ("Bundesland", SubscriberKind.LAND),
        ("Kreis", SubscriberKind.KREIS),
        ("Landkreis", SubscriberKind.KREIS),
        ("kreisfreie Stadt", SubscriberKind.KREISFREIE_STADT),
        ("Stadtkreis", SubscriberKind.KREISFREIE_STADT),
        ("Gemeindeverband", SubscriberKind.GEMEINDEVERBAND),
        ("Verbandsgemeinde", SubscriberKind.GEMEINDEVERBAND),
        ("Verwaltungsgemeinschaft", SubscriberKind.GEMEINDEVERBAND),
        ("Amt", SubscriberKind.GEMEINDEVERBAND),
        ("Gemeinde", SubscriberKind.GEMEINDE),
        ("Stadt", SubscriberKind.GEMEINDE),
        ("kreisangehörige Stadt", SubscriberKind.GEMEINDE),
        ("Kommune", SubscriberKind.GEMEINDE),
        ("Markt", SubscriberKind.GEMEINDE),
        ("Organisation", SubscriberKind.ORGANISATION),
        ("IT-Dienstleister", SubscriberKind.ORGANISATION),
        ("Zweckverband", SubscriberKind.ORGANISATION),
        ("Behörde", SubscriberKind.ORGANISATION),
        *((kind.value, kind) for kind in SubscriberKind),
    )
}

_LEVEL_KINDS = {
    ArsLevel.LAND: SubscriberKind.LAND,
    ArsLevel.KREIS: SubscriberKind.KREIS,
    ArsLevel.GEMEINDEVERBAND: SubscriberKind.GEMEINDEVERBAND,
    ArsLevel.GEMEINDE: SubscriberKind.GEMEINDE,
}


def parse_subscriber_kind(cell: Cell) -> SubscriberKind:
    """Parse a subscriber kind: ``Land``, ``Landkreis``, ``kreisfreie Stadt``, ``Gemeinde``, ..."""
    text = cell_text(cell)
    found = _SUBSCRIBER_KINDS.get(normalize_label(text))
    if found is None:
        known = ", ".join(kind.value for kind in SubscriberKind)
        raise ValueError(f"{text!r} is not a kind of subscriber; known: {known}")
    return found


@attrs.frozen(kw_only=True)
class AgreementRow:
    """One parsed status row of an agreement."""

    row: SourceRow
    service_key: str
    subscriber: Subscriber
    state: AgreementState
    #: When the row's status was reached, if known.
    at: datetime | None = None
    channel: ReuseChannel | None = None
    reference: str | None = None
    modified_at: datetime | None = None
    #: The natural key of the agreement this row belongs to (set by :func:`parse_agreement_row`).
    key: str = ""

    def agreement(self, state: AgreementState, since: datetime | None) -> Agreement:
        """Build the agreement in *state* since *since* from this row's other fields."""
        return Agreement(
            service_key=self.service_key,
            subscriber=self.subscriber,
            state=state,
            state_since=since,
            channel=self.channel,
            reference=self.reference,
            modified_at=self.modified_at,
        )


#: Words that make a name without ARS an organisation (a Zweckverband, an IT-Dienstleister).
_ORGANISATION_WORDS: frozenset[str] = frozenset(
    {
        "zweckverband",
        "gmbh",
        "aoer",
        "anstalt",
        "koerperschaft",
        "rechenzentrum",
        "dienstleister",
        "datenverarbeitung",
        "datenzentrale",
        "ministerium",
        "ev",
        "eg",
    }
)


def _organisation_by_name(name: str) -> bool:
    """Whether *name* names an organisation (``Zweckverband …``, ``… GmbH``, ``… AöR``)."""
    folded = normalize_label(name).replace("e v", "ev").split()
    return any(
        word in _ORGANISATION_WORDS or word.startswith(("zweckverband", "rechenzentrum"))
        for word in folded
    )


def _organisation(
    name: str, ars: Ars | None, problems: _Problems, row: SourceRow
) -> Subscriber | None:
    try:
        org_id = slugify(name)
    except ValueError as exc:
        problems.add("subscriber_name", str(exc))
        return None
    return Subscriber(
        subscriber_kind=SubscriberKind.ORGANISATION, name=name, organisation_id=org_id, ars=ars
    )


def _subscriber(row: SourceRow, problems: _Problems) -> Subscriber | None:
    """Return the subscriber: an area by its ARS, a Land by its name, or an organisation.

    The subscriber is the named organisation or area (``subscriber_name``) and its ARS; a
    Land column is never taken for it.  Without an ARS, a Land's name is that Land; a kind
    ``Organisation`` (or ``Zweckverband``, ``IT-Dienstleister`` …), or a name that says so
    (``Zweckverband …``, ``… GmbH``), is an organisation subscriber; anything else needs
    its ARS.  An unknown kind is ignored with a warning and the ARS tells the level.
    """
    name = row.text("subscriber_name")
    ars = problems.parse("subscriber_ars", parse_ars)
    kind = problems.optional(
        "subscriber_kind",
        parse_subscriber_kind,
        "not a kind of subscriber (Land, Kreis, kreisfreie Stadt, Gemeinde, Organisation); ignored",
    )
    if problems.items:
        return None
    if name is None:
        if not isinstance(ars, Ars):
            problems.add("subscriber_name", "missing: the subscriber has no name and no ARS")
            return None
        name = str(ars)
        problems.warn("subscriber_name", "no name; the ARS is used as the name", name)
    if not isinstance(ars, Ars):
        try:
            land = parse_land(name)
        except ValueError:
            land = None
        if land is not None and kind in (None, SubscriberKind.LAND):
            ars, kind = land.ars, SubscriberKind.LAND
        elif kind is None and _organisation_by_name(name):
            kind = SubscriberKind.ORGANISATION
            problems.warn(
                "subscriber_kind", "no ARS and no kind; an organisation by its name", name
            )
    if kind is SubscriberKind.ORGANISATION:
        return _organisation(name, ars if isinstance(ars, Ars) else None, problems, row)
    if not isinstance(ars, Ars):
        what = "is not a Land" if kind is None else f"is a {kind.value}"
        problems.add(
            "subscriber_ars",
            f"missing: {name!r} {what}, so it needs its ARS (Regionalschlüssel); "
            "or give subscriber_kind 'Organisation'",
        )
        return None
    if not isinstance(kind, SubscriberKind):
        kind = _LEVEL_KINDS.get(ars.level)
        if kind is None:
            problems.add(
                "subscriber_ars",
                f"{ars} is a Regierungsbezirk; give the kind of subscriber (subscriber_kind)",
            )
            return None
    try:
        return Subscriber(subscriber_kind=kind, name=name, ars=ars)
    except (ValueError, EfaError) as exc:
        problems.add("subscriber_name", str(exc))
        return None


def parse_agreement_row(
    row: SourceRow,
    *,
    states: Mapping[str, AgreementState] | None = None,
    default_channel: ReuseChannel | None = None,
    warnings: CellWarnings | None = None,
    identity: tuple[str, Subscriber] | None = None,
) -> AgreementRow | Rejected:
    """Parse one status row of an interest/contract list.

    Only the identity fields (service, subscriber, status) reject the row, each problem
    named by its field; bad optional cells (dates, channel, kind) are dropped and noted in
    *warnings*.

    :param states: extra status labels (normalized) from the ``states`` option.
    :param identity: the row's service key and subscriber, if :func:`agreement_identity`
        found them already.
    """
    problems = _Problems(row, warnings)
    if identity is None:
        service_key = _service_key(row, problems)
        subscriber = _subscriber(row, problems)
    else:
        service_key, subscriber = identity
    state: object = None
    state_text = row.text("state")
    if state_text is None:
        problems.add("state", "missing: no status given")
    else:
        try:
            state = parse_state(state_text, states)
        except ValueError as exc:
            problems.add("state", str(exc))
    reference = row.text("reference")
    if problems.items or service_key is None or subscriber is None:
        return problems.rejected(Agreement.KIND)
    assert isinstance(state, AgreementState)
    at = problems.optional("date", parse_date, _NOT_A_DATE)
    start = problems.optional("contract_start", parse_date, _NOT_A_DATE)
    end = problems.optional("contract_end", parse_date, _NOT_A_DATE)
    channel = problems.optional(
        "channel", parse_channel, f"unknown reuse channel (known: {KNOWN_CHANNELS}); ignored"
    )
    modified = problems.optional("modified", parse_date, _NOT_A_DATE)
    if at is None and state is AgreementState.CONTRACTED:
        at = start
    elif at is None and state is AgreementState.TERMINATED:
        at = end
    parsed = AgreementRow(
        row=row,
        service_key=service_key,
        subscriber=subscriber,
        state=state,
        at=at,
        channel=channel if channel is not None else default_channel,
        reference=reference,
        modified_at=modified,
    )
    try:
        key = parsed.agreement(parsed.state, parsed.at).natural_key
    except (ValueError, EfaError) as exc:
        field = getattr(exc, "field", "$")
        problems.add("service_key" if field == "service_key" else field, str(exc))
        return problems.rejected(Agreement.KIND)
    return attrs.evolve(parsed, key=key)


def _date_text(value: datetime | None) -> str:
    return "no date" if value is None else value.date().isoformat()


def _lifecycle(row: AgreementRow, current: Agreement, since_row: SourceRow, why: str) -> Rejected:
    message = (
        f"{LIFECYCLE_PREFIX}{row.row.where('state')}status {row.row.text('state')!r} "
        f"({row.state.value}, {_date_text(row.at)}) does not follow {current.state.value!r} "
        f"({_date_text(current.state_since)}, {since_row.position}): {why}; the agreement "
        f"{current.natural_key!r} keeps the state {current.state.value!r}"
    )
    return Rejected(Agreement.KIND, row.row.position, row.row.input, [("state", message)])


def _fold(rows: Sequence[AgreementRow]) -> tuple[Agreement, list[Rejected]]:
    """Replay the status rows of one agreement through the lifecycle."""
    if all(row.at is not None for row in rows):
        rows = sorted(rows, key=lambda row: row.at or datetime.min)
    first = rows[0]
    current = first.agreement(first.state, first.at)
    since_row = first.row
    rejected: list[Rejected] = []
    for row in rows[1:]:
        channel = current.channel or row.channel
        modified = _later(current.modified_at, row.modified_at)
        if row.state is current.state:
            since = current.state_since or row.at
            current = attrs.evolve(
                current, state_since=since, channel=channel, modified_at=modified
            )
            continue
        allowed = AGREEMENT_TRANSITIONS[current.state]
        if row.state not in allowed:
            targets = ", ".join(s.value for s in allowed) or "nothing (it is final)"
            why = f"from {current.state.value!r} the lifecycle allows {targets}"
            rejected.append(_lifecycle(row, current, since_row, why))
            continue
        if row.at is not None:
            try:
                moved, _ = current.transition(row.state, at=row.at)
            except (IllegalTransition, ValueError, EfaError) as exc:
                rejected.append(_lifecycle(row, current, since_row, str(exc)))
                continue
        else:
            moved = attrs.evolve(current, state=row.state, state_since=None)
        current = attrs.evolve(moved, channel=channel, modified_at=modified)
        since_row = row.row
    return current, rejected


@attrs.define
class _Group:
    """The rows of one service or agreement (see :func:`agreement_items`).

    Pass one keeps, per row, only its index, position and digest (the rows themselves only
    without a second pass); after the store said which groups are unchanged, pass two reads
    the rows of the others again, so a re-sync holds little per unchanged row.
    """

    key: str
    #: How many rows the group has.
    size: int = 0
    #: The positions of its first two rows (enough to report the rows after the first).
    positions: list[str] = attrs.Factory(list)
    #: The row indexes (for pass two) and the rows' digests, packed.
    indexes: array[int] = attrs.Factory(lambda: array("q"))
    digests: bytearray = attrs.Factory(bytearray)
    #: The rows to build from (pass two, or kept from pass one).
    rows: list[SourceRow] = attrs.Factory(list)
    #: The subscriber of the group's first row (agreements).
    subscriber: Subscriber | None = None
    #: The first operator named in the group's rows (offers).
    operator: str | None = None
    fingerprint: bytes | None = None

    def add(self, row: SourceRow, *, keep: bool, digest: bool) -> None:
        """Note one row of the group; keep the row itself if it will not be read again."""
        self.size += 1
        self.indexes.append(row.index)
        if len(self.positions) < 2:
            self.positions.append(row.position)
        if digest:
            self.digests += row_digest(row)
        if keep:
            self.rows.append(row)

    def release(self) -> None:
        """Let go of the rows once the group's items are made."""
        self.rows, self.indexes, self.digests = [], array("q"), bytearray()


def _lookup(groups: Iterable[_Group], lookup: Lookup | None, salt: str) -> set[bytes]:
    """Fingerprint the groups and return the fingerprints the store holds."""
    if lookup is None:
        return set()
    fingerprints = []
    for group in groups:
        group.fingerprint = group_fingerprint(salt, group.digests)
        fingerprints.append(group.fingerprint)
    return _known(fingerprints, lookup)


def _subscriber_of(
    row: SourceRow, cache: dict[tuple[Cell, ...], Subscriber | None]
) -> Subscriber | None:
    """Return the row's subscriber (``None`` if it has a problem), cached by its cells."""
    cells = (row.get("subscriber_name"), row.get("subscriber_ars"), row.get("subscriber_kind"))
    if cells not in cache:
        problems = _Problems(row, CellWarnings())
        subscriber = _subscriber(row, problems)
        cache[cells] = None if problems.items else subscriber
    return cache[cells]


def agreement_items(
    rows: Iterable[SourceRow],
    *,
    states: Mapping[str, AgreementState] | None = None,
    default_channel: ReuseChannel | None = None,
    rejected: Iterable[tuple[int, Rejected]] = (),
    warnings: CellWarnings | None = None,
    lookup: Lookup | None = None,
    salt: str = "",
    reread: Reread | None = None,
) -> list[Item]:
    """Turn status rows into subscriber and agreement upserts, rejected and skipped rows.

    Rows of one agreement are folded through the lifecycle (see the module docs); the
    output follows the input order (an agreement at its first row, its subscriber before
    it).  *rejected* adds ``(index, item)`` pairs the caller rejected already, placed by
    their index.  The status rows folded into an agreement listed earlier come last, as
    one :class:`Skipped` of kind ``agreement``.

    **Fingerprints.**  With *lookup* (``Connector.stored_fingerprints``), each agreement's
    rows are fingerprinted (:func:`group_fingerprint` with *salt*); an agreement the store
    holds with that fingerprint is not built again but given back as its fingerprint (a
    ``bytes`` item, for ``Batch.unchanged``).  Agreements built cleanly (no rejected row,
    no warning) carry their fingerprint; the others none, so they are read again next time
    and report their problems again.  Subscribers are taken from the agreements' first
    rows every time (there are few) and carry no fingerprint.

    **Two passes.**  With *reread* (a function that yields the same rows again, with the
    same indexes), pass one keeps only each row's index, position and digest, and pass two
    reads the rows of the agreements to build: memory then grows with the changed rows,
    not with the file.  Without it, the rows are kept from pass one.
    """
    groups: dict[str, _Group] = {}
    order: list[tuple[int, Item | _Group]] = list(rejected)
    cache: dict[tuple[Cell, ...], Subscriber | None] = {}
    for row in rows:
        service_key = row.text("service_key") or _service_key(row, _Problems(row, CellWarnings()))
        subscriber = _subscriber_of(row, cache)
        if service_key is None or subscriber is None:
            parsed = parse_agreement_row(
                row, states=states, default_channel=default_channel, warnings=warnings
            )
            if isinstance(parsed, Rejected):
                order.append((row.index, parsed))
                continue
            service_key, subscriber = parsed.service_key, parsed.subscriber
        reference = row.text("reference")
        key = f"{service_key}@{subscriber.natural_key}"
        if reference is not None:
            key = f"{key}#{reference}"
        group = groups.get(key)
        if group is None:
            group = groups[key] = _Group(key, subscriber=subscriber)
            order.append((row.index, group))
        group.add(row, keep=reread is None, digest=lookup is not None)
    known = _lookup(groups.values(), lookup, salt)
    _second_pass(groups.values(), known, reread)
    items: list[Item] = []
    subscribers: set[str] = set()
    folded = _Later()
    for _, entry in sorted(order, key=lambda e: e[0]):
        if not isinstance(entry, _Group):
            items.append(entry)
            continue
        fp = entry.fingerprint
        built: list[Item]
        if fp is not None and fp in known:
            built, positions, size = [fp], entry.positions, entry.size
        else:
            built, positions = _build_agreement(
                entry, states=states, default_channel=default_channel, warnings=warnings, fp=fp
            )
            size = len(positions)
        if not positions:  # every row rejected
            items.extend(built)
            entry.release()
            continue
        assert entry.subscriber is not None
        if entry.subscriber.natural_key not in subscribers:
            subscribers.add(entry.subscriber.natural_key)
            items.append(Upsert(entry.subscriber))
        items.extend(built)
        folded.add(positions, size - 1)  # the first kept row is the agreement, the others history
        entry.release()
    items.extend(folded.skipped(Agreement.KIND, FOLDED_REASON))
    return items


def _build_agreement(
    group: _Group,
    *,
    states: Mapping[str, AgreementState] | None,
    default_channel: ReuseChannel | None,
    warnings: CellWarnings | None,
    fp: bytes | None,
) -> tuple[list[Item], list[str]]:
    """Build one agreement from its rows: its items, and the positions of the rows kept."""
    collector = warnings if warnings is not None else CellWarnings()
    before = len(collector)
    parsed: list[AgreementRow] = []
    items: list[Item] = []
    for row in group.rows:
        result = parse_agreement_row(
            row, states=states, default_channel=default_channel, warnings=collector
        )
        if isinstance(result, Rejected):
            items.append(result)
        else:
            parsed.append(result)
    if not parsed:
        return items, []
    agreement, violations = _fold(parsed)
    clean = not items and not violations and len(collector) == before
    upsert = Upsert(agreement, fingerprint=fp if clean else None)
    rejected_at = {violation.position for violation in violations}
    kept = [r.row.position for r in parsed if r.row.position not in rejected_at]
    return [upsert, *violations, *items], kept
