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

from typing import Final

from efa_core.tabular import Field, Schema

__all__ = ["AGREEMENTS", "ALL_FIELDS", "OFFERS"]


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


#: The fields of an offers export (Leistungsangebote).
OFFERS: Final = Schema(
    [
        Field(
            "service_key",
            "the offer's id in the registry; without it the key is made from the name",
            (*_SERVICE_KEY_HEADERS, "ID"),
        ),
        Field(
            "service_name",
            "the service's name",
            (
                "Leistung",
                "Onlinedienst",
                "Leistungsname",
                "Leistungsangebot",
                "OZG-Leistung",
                "Name",
            ),
            required=True,
        ),
        Field(
            "leika_keys",
            "the LeiKa keys (Leistungsschlüssel), several separated by commas",
            (
                "Leistungsschlüssel",
                "LeiKa-Schlüssel",
                "LeiKa-Schlüssel (Leistungsschlüssel)",
                "LeiKa-Key",
                "LeiKa",
            ),
            required=True,
        ),
        Field(
            "land",
            "the implementing Land (umsetzendes Land)",
            ("Umsetzendes Land", "Bereitstellendes Land", "Bereitsteller", "UL", "Land"),
        ),
        Field(
            "operator",
            "the operator (Betreiber, an IT-Dienstleister)",
            ("Betreiber", "Betreibender IT-Dienstleister", "IT-Dienstleister", "IT-DL"),
        ),
        Field(
            "channel",
            "the reuse channels (FIT-Store, govdigital, FITKO, Verwaltungsabkommen)",
            _CHANNEL_HEADERS,
        ),
        Field(
            "price_model",
            "the price model (Preismodell, as the registry words it)",
            ("Preismodell", "Kostenmodell", "Finanzierungsmodell"),
        ),
        Field(
            "price",
            "the price in euros, a German number such as 1.234,56",
            ("Preis", "Preis (EUR)", "Kosten", "Kosten (EUR)", "Entgelt"),
        ),
        Field("ozg_ids", "the OZG-IDs", ("OZG-ID", "OZG-IDs", "OZG-Leistungs-ID")),
        Field("url", "where citizens use the service", ("URL", "Link", "Onlinedienst-URL")),
        Field(
            "onlinedienst_ids",
            "the ids of the XZuFi/PVOG Onlinedienste that implement the offer",
            ("Onlinedienst-ID", "Onlinedienst-IDs", "PVOG-ID", "PVOG-IDs"),
        ),
        Field(
            "offer_ids",
            "the offer's ids in other registries (e.g. the Marktplatz id in a FIT-Store export)",
            ("Weitere Angebots-IDs", "Marktplatz-ID", "FIT-Store-ID", "Angebots-ID (Marktplatz)"),
        ),
        Field("modified", "when the registry last changed the offer", _MODIFIED_HEADERS),
    ]
)

#: The fields of an interest/contract list (Interessenbekundungen, Verträge).
AGREEMENTS: Final = Schema(
    [
        Field(
            "service_key",
            "the offer's id in the registry (the service key)",
            (*_SERVICE_KEY_HEADERS, "service"),
        ),
        Field(
            "service_name",
            "the service's name (the key is made from it when there is no offer id)",
            ("Leistung", "Onlinedienst", "Leistungsname", "Leistungsangebot", "OZG-Leistung"),
        ),
        Field(
            "subscriber_name",
            "the subscriber (Nachnutzer: a Kommune, a Land or an organisation)",
            (
                "Nachnutzer",
                "Nachnutzende Stelle",
                "Nachnutzende Kommune",
                "Nachnutzende Organisation",
                "Kommune",
                "Interessent",
                "Organisation",
                "Nachnutzendes Land",
                "subscriber",
            ),
            required=True,
        ),
        Field(
            "subscriber_ars",
            "the subscriber's ARS (Regionalschlüssel)",
            ("ARS", "Regionalschlüssel", "Amtlicher Regionalschlüssel", "RS", "ars"),
        ),
        Field(
            "subscriber_kind",
            "the kind of subscriber (Land, Kreis, kreisfreie Stadt, Gemeinde, Organisation)",
            ("Nachnutzertyp", "Art des Nachnutzers", "Art", "Typ"),
        ),
        Field(
            "state",
            "the status or process stage (Interessenbekundung, Abstimmung, Vertragsschluss, ...)",
            ("Status", "Phase", "Prozessschritt", "Zustand", "Vorgangsstatus"),
            required=True,
        ),
        Field(
            "date",
            "when the status was reached",
            ("Datum", "Statusdatum", "Status seit", "seit"),
        ),
        Field(
            "contract_start",
            "the start of the contract (used as the date of 'contracted' without a Datum)",
            ("Vertragsbeginn", "Vertragsdatum", "Vertragsschluss am", "Datum Vertragsschluss"),
        ),
        Field(
            "contract_end",
            "the end of the contract (used as the date of 'terminated' without a Datum)",
            ("Vertragsende", "Kündigungsdatum", "gekündigt zum"),
        ),
        Field(
            "reference",
            "the registry's reference of the agreement (Vorgangs- or Vertragsnummer)",
            ("Referenz", "Vorgangsnummer", "Vertragsnummer", "Aktenzeichen", "Vorgangs-ID"),
        ),
        Field("channel", "the reuse channel of the agreement", _CHANNEL_HEADERS),
        Field("modified", "when the registry last changed the entry", _MODIFIED_HEADERS),
    ],
    one_of=[("service_key", "service_name")],
)

#: Every logical field name (offers and agreements), for checking the ``columns`` option.
ALL_FIELDS: Final[frozenset[str]] = frozenset(OFFERS.names) | frozenset(AGREEMENTS.names)
