"""The logical fields of registry exports and the column headers that carry them.

Neither the EfA-Marktplatz nor the FIT-Store publishes an export format, so the default
headers below are an **assumption**: the usual German names of the data these registries
show (domain research, §5).  Users name other headers with the ``columns`` option
(``columns = { service_name = "Name des Dienstes" }``); a configured header replaces the
defaults of its field.

Headers match case-insensitively, with umlauts, punctuation and spacing folded
(``LeiKa-Schlüssel`` = ``leika schluessel``).  The logical field name itself is accepted
as a header as well (``service_name``), which is handy for hand-written files.  Columns
that no field claims are ignored.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Final

import attrs

from efa_marktplatz.states import normalize_label

__all__ = [
    "AGREEMENT_FIELDS",
    "AGREEMENT_REQUIRED",
    "ALL_FIELDS",
    "OFFER_FIELDS",
    "OFFER_REQUIRED",
    "ColumnMap",
    "FieldSpec",
    "MissingColumns",
    "resolve_columns",
]


@attrs.frozen
class FieldSpec:
    """A logical field of an export: its name, what it means and the headers that carry it."""

    #: The logical name, as used in the ``columns`` option (e.g. ``"service_name"``).
    name: str
    #: What the field holds, for people (used in errors and docs).
    description: str
    #: The default headers, most specific first.
    headers: tuple[str, ...]


_SERVICE_KEY_HEADERS = (
    "Angebots-ID",
    "Angebot-ID",
    "Angebotsnummer",
    "Angebots-Nr.",
    "Leistungsangebot-ID",
)
_CHANNEL_HEADERS = ("Kanal", "Anbieter", "Vertriebskanal", "Nachnutzungsweg")
_MODIFIED_HEADERS = (
    "Stand",
    "Zuletzt geändert",
    "Aktualisiert am",
    "Aktualisiert",
    "Änderungsdatum",
)


def _fields(*specs: FieldSpec) -> Mapping[str, FieldSpec]:
    return MappingProxyType({spec.name: spec for spec in specs})


#: The fields of an offers export (Leistungsangebote), by logical name.
OFFER_FIELDS: Final[Mapping[str, FieldSpec]] = _fields(
    FieldSpec(
        "service_key",
        "the offer's id in the registry; without it the key is made from the name",
        (*_SERVICE_KEY_HEADERS, "ID"),
    ),
    FieldSpec(
        "service_name",
        "the service's name",
        ("Leistung", "Onlinedienst", "Leistungsname", "Leistungsangebot", "OZG-Leistung", "Name"),
    ),
    FieldSpec(
        "leika_keys",
        "the LeiKa keys (Leistungsschlüssel), several separated by commas",
        (
            "Leistungsschlüssel",
            "LeiKa-Schlüssel",
            "LeiKa-Schlüssel (Leistungsschlüssel)",
            "LeiKa-Key",
            "LeiKa",
        ),
    ),
    FieldSpec(
        "land",
        "the implementing Land (umsetzendes Land)",
        ("Umsetzendes Land", "Bereitstellendes Land", "Bereitsteller", "UL", "Land"),
    ),
    FieldSpec(
        "operator",
        "the operator (Betreiber, an IT-Dienstleister)",
        ("Betreiber", "Betreibender IT-Dienstleister", "IT-Dienstleister", "IT-DL"),
    ),
    FieldSpec(
        "channel",
        "the reuse channels (FIT-Store, govdigital, FITKO, Verwaltungsabkommen)",
        _CHANNEL_HEADERS,
    ),
    FieldSpec(
        "price_model",
        "the price model (Preismodell, as the registry words it)",
        ("Preismodell", "Kostenmodell", "Finanzierungsmodell"),
    ),
    FieldSpec(
        "price",
        "the price in euros, a German number such as 1.234,56",
        ("Preis", "Preis (EUR)", "Kosten", "Kosten (EUR)", "Entgelt"),
    ),
    FieldSpec("ozg_ids", "the OZG-IDs", ("OZG-ID", "OZG-IDs", "OZG-Leistungs-ID")),
    FieldSpec("url", "where citizens use the service", ("URL", "Link", "Onlinedienst-URL")),
    FieldSpec(
        "onlinedienst_ids",
        "the ids of the XZuFi/PVOG Onlinedienste that implement the offer",
        ("Onlinedienst-ID", "Onlinedienst-IDs", "PVOG-ID", "PVOG-IDs"),
    ),
    FieldSpec(
        "offer_ids",
        "the offer's ids in other registries (e.g. the Marktplatz id in a FIT-Store export)",
        ("Weitere Angebots-IDs", "Marktplatz-ID", "FIT-Store-ID", "Angebots-ID (Marktplatz)"),
    ),
    FieldSpec("modified", "when the registry last changed the offer", _MODIFIED_HEADERS),
)

#: The fields of an interest/contract list (Interessenbekundungen, Verträge), by name.
AGREEMENT_FIELDS: Final[Mapping[str, FieldSpec]] = _fields(
    FieldSpec(
        "service_key",
        "the offer's id in the registry (the service key)",
        (*_SERVICE_KEY_HEADERS, "service"),
    ),
    FieldSpec(
        "service_name",
        "the service's name (the key is made from it when there is no offer id)",
        ("Leistung", "Onlinedienst", "Leistungsname", "Leistungsangebot", "OZG-Leistung"),
    ),
    FieldSpec(
        "subscriber_name",
        "the subscriber (Nachnutzer: a Kommune, a Land or an organisation)",
        (
            "Nachnutzer",
            "Nachnutzende Stelle",
            "Nachnutzende Kommune",
            "Kommune",
            "Interessent",
            "Nachnutzendes Land",
            "Land",
            "subscriber",
        ),
    ),
    FieldSpec(
        "subscriber_ars",
        "the subscriber's ARS (Regionalschlüssel)",
        ("ARS", "Regionalschlüssel", "Amtlicher Regionalschlüssel", "RS", "ars"),
    ),
    FieldSpec(
        "subscriber_kind",
        "the kind of subscriber (Land, Kreis, kreisfreie Stadt, Gemeinde, Organisation)",
        ("Nachnutzertyp", "Art des Nachnutzers", "Art", "Typ"),
    ),
    FieldSpec(
        "state",
        "the status or process stage (Interessenbekundung, Abstimmung, Vertragsschluss, ...)",
        ("Status", "Phase", "Prozessschritt", "Zustand", "Vorgangsstatus"),
    ),
    FieldSpec(
        "date",
        "when the status was reached",
        ("Datum", "Statusdatum", "Status seit", "seit"),
    ),
    FieldSpec(
        "contract_start",
        "the start of the contract (used as the date of 'contracted' without a Datum)",
        ("Vertragsbeginn", "Vertragsdatum", "Vertragsschluss am", "Datum Vertragsschluss"),
    ),
    FieldSpec(
        "contract_end",
        "the end of the contract (used as the date of 'terminated' without a Datum)",
        ("Vertragsende", "Kündigungsdatum", "gekündigt zum"),
    ),
    FieldSpec(
        "reference",
        "the registry's reference of the agreement (Vorgangs- or Vertragsnummer)",
        ("Referenz", "Vorgangsnummer", "Vertragsnummer", "Aktenzeichen", "Vorgangs-ID"),
    ),
    FieldSpec("channel", "the reuse channel of the agreement", _CHANNEL_HEADERS),
    FieldSpec("modified", "when the registry last changed the entry", _MODIFIED_HEADERS),
)

#: Every logical field name (offers and agreements), for checking the ``columns`` option.
ALL_FIELDS: Final[frozenset[str]] = frozenset(OFFER_FIELDS) | frozenset(AGREEMENT_FIELDS)

#: Groups of fields of which an offers export needs at least one each.
OFFER_REQUIRED: Final[tuple[tuple[str, ...], ...]] = (("service_name",), ("leika_keys",))
#: Groups of fields of which an interest/contract list needs at least one each.
AGREEMENT_REQUIRED: Final[tuple[tuple[str, ...], ...]] = (
    ("service_key", "service_name"),
    ("subscriber_name",),
    ("state",),
)


@attrs.frozen
class ColumnMap:
    """Which column (0-based index) holds which logical field, found in a header row."""

    #: Logical field name → column index.
    indexes: Mapping[str, int]
    #: Logical field name → the header text as written in the file.
    headers: Mapping[str, str]


class MissingColumns(Exception):
    """The header row lacks required fields; :attr:`message` says which and what is accepted."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def accepted_headers(spec: FieldSpec, overrides: Mapping[str, str]) -> tuple[str, ...]:
    """Return the headers accepted for *spec*: the configured one, or the defaults and the name."""
    if spec.name in overrides:
        return (overrides[spec.name],)
    return (*spec.headers, spec.name)


def resolve_columns(
    header: Sequence[str],
    fields: Mapping[str, FieldSpec],
    required: Sequence[tuple[str, ...]],
    overrides: Mapping[str, str],
) -> ColumnMap:
    """Map the logical *fields* onto the columns of *header*.

    :raises MissingColumns: a group of *required* has no column; the message names the
        fields, the accepted headers and the headers found.
    """
    positions: dict[str, int] = {}
    for index, text in enumerate(header):
        key = normalize_label(text)
        if key:
            positions.setdefault(key, index)
    indexes: dict[str, int] = {}
    for spec in fields.values():
        for candidate in accepted_headers(spec, overrides):
            found = positions.get(normalize_label(candidate))
            if found is not None:
                indexes[spec.name] = found
                break
    problems = []
    for group in required:
        if not any(name in indexes for name in group):
            wanted = " or ".join(group)
            accepted = ", ".join(
                repr(h) for name in group for h in accepted_headers(fields[name], overrides)
            )
            what = "; ".join(fields[name].description for name in group)
            problems.append(
                f"no column for {wanted} ({what}); accepted headers: {accepted} "
                f"(name another with the option columns.{group[0]})"
            )
    if problems:
        found_headers = ", ".join(repr(h) for h in header if h.strip()) or "none"
        raise MissingColumns("; ".join(problems) + f"; headers found: {found_headers}")
    return ColumnMap(
        indexes=MappingProxyType(indexes),
        headers=MappingProxyType({name: header[i] for name, i in indexes.items()}),
    )
