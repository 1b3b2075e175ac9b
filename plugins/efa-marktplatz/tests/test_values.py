"""The cell parsers: German dates and numbers, keys with lost zeros, Länder, channels."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from efa_marktplatz.states import parse_state
from efa_marktplatz.values import (
    parse_ars,
    parse_channel,
    parse_channels,
    parse_date,
    parse_land,
    parse_leika_keys,
    parse_number,
    slugify,
)

from efa_core.ids import Ars, LeikaKey
from efa_core.model import AgreementState, Land, ReuseChannel


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("12.05.2024", (2024, 5, 12, 0, 0)),
        ("1.6.2024", (2024, 6, 1, 0, 0)),
        ("12.05.24", (2024, 5, 12, 0, 0)),
        ("12.05.2024 14:30", (2024, 5, 12, 14, 30)),
        ("2024-05-12", (2024, 5, 12, 0, 0)),
        (" 2024-05-12T08:15:00 ", (2024, 5, 12, 8, 15)),
        (date(2024, 5, 12), (2024, 5, 12, 0, 0)),
        (datetime(2024, 5, 12, 9, 0), (2024, 5, 12, 9, 0)),
    ],
)
def test_dates_are_german_local_time(cell, expected):
    value = parse_date(cell)
    assert (value.year, value.month, value.day, value.hour, value.minute) == expected
    # German summer time: midnight in Berlin is 22:00 UTC of the day before
    assert value.utcoffset() == timedelta(hours=2)


def test_dates_with_offset_keep_it():
    value = parse_date("2024-01-10T10:00:00Z")
    assert value == datetime(2024, 1, 10, 10, tzinfo=timezone.utc)
    assert parse_date("10.01.2024").utcoffset() == timedelta(hours=1)  # winter time


@pytest.mark.parametrize("cell", ["31.02.2024", "2024-13-01", "gestern", "12/05/2024", 45000])
def test_bad_dates_say_what_is_expected(cell):
    with pytest.raises(ValueError, match="date"):
        parse_date(cell)


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("1.234,56", "1234.56"),
        ("1234,56", "1234.56"),
        ("1.234", "1234"),
        ("1.234.567", "1234567"),
        ("12.5", "12.5"),
        ("0", "0"),
        ("-3,5", "-3.5"),
        ("1.234,56 €", "1234.56"),
        ("EUR 2.500,00", "2500.00"),
        (1234.5, "1234.5"),
        (7, "7"),
    ],
)
def test_german_numbers(cell, expected):
    assert parse_number(cell) == Decimal(expected)


@pytest.mark.parametrize("cell", ["1,234,56", "12.34.5", "viel", "", "1.2345,6"])
def test_bad_numbers(cell):
    with pytest.raises(ValueError, match="not a number"):
        parse_number(cell)


def test_leika_keys_split_dedupe_and_restore_zeros():
    assert parse_leika_keys("99115005104000, 99115005104000;99041008012000") == (
        LeikaKey("99115005104000"),
        LeikaKey("99041008012000"),
    )
    # a spreadsheet number lost the leading zero of a non-federal key
    assert parse_leika_keys(1005104000000) == (LeikaKey("01005104000000"),)
    assert parse_leika_keys(99115005104000.0) == (LeikaKey("99115005104000"),)
    with pytest.raises(ValueError, match="'12345' has 5 digits") as raised:
        parse_leika_keys("12345 99115005104000 abc")
    assert "'abc'" in str(raised.value)


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("160510000000", "160510000000"),
        (160510000000, "160510000000"),
        (10020000000, "010020000000"),  # Kiel, leading zero lost in Excel
        ("1001", "01001"),
        (1, "01"),
        ("16", "16"),
        ("16 055", "16055"),
    ],
)
def test_ars_restores_lost_leading_zero(cell, expected):
    assert parse_ars(cell) == Ars(expected)


def test_ars_rejects_nonsense():
    with pytest.raises(ValueError, match="ARS"):
        parse_ars("1234567")


@pytest.mark.parametrize(
    "cell", ["Thüringen", "thueringen", "TH", "16", 16, "Freistaat Thüringen", "Land Thüringen"]
)
def test_land(cell):
    assert parse_land(cell) is Land.TH


def test_land_names_and_city_states():
    assert parse_land("Freie und Hansestadt Hamburg") is Land.HH
    with pytest.raises(ValueError, match="Atlantis"):
        parse_land("Atlantis")


def test_channels():
    assert parse_channel("FIT-Store") is ReuseChannel.FIT_STORE
    assert parse_channel("govdigital eG") is ReuseChannel.MARKTPLATZ_GOVDIGITAL
    assert parse_channel("FITKO") is ReuseChannel.MARKTPLATZ_FITKO
    assert parse_channel("marktplatz_fitko") is ReuseChannel.MARKTPLATZ_FITKO
    assert parse_channel("Verwaltungsabkommen") is ReuseChannel.VERWALTUNGSABKOMMEN
    assert parse_channels("govdigital, FITKO und govdigital") == (
        ReuseChannel.MARKTPLATZ_GOVDIGITAL,
        ReuseChannel.MARKTPLATZ_FITKO,
    )
    with pytest.raises(ValueError, match="'Brieftaube' is not a reuse channel"):
        parse_channels("FITKO / Brieftaube")


def test_slugify():
    assert slugify("Wohnsitz-Anmeldung (Ummeldung)") == "wohnsitz-anmeldung-ummeldung"
    assert slugify("Führungszeugnis beantragen") == "fuehrungszeugnis-beantragen"
    assert slugify("Straße  Café") == "strasse-cafe"
    with pytest.raises(ValueError, match="no key"):
        slugify("---")


@pytest.mark.parametrize(
    ("text", "state"),
    [
        ("Interessenbekundung", AgreementState.INTERESTED),
        ("in Abstimmung", AgreementState.NEGOTIATING),
        ("Angebot/Nachnutzungsvertrag", AgreementState.NEGOTIATING),
        ("Angebot / Nachnutzungsvertrag", AgreementState.NEGOTIATING),
        ("VERTRAGSSCHLUSS", AgreementState.CONTRACTED),
        ("Vertrag geschlossen", AgreementState.CONTRACTED),
        ("gekündigt", AgreementState.TERMINATED),
        ("gekuendigt", AgreementState.TERMINATED),
        ("abgelehnt", AgreementState.DECLINED),
        ("zurückgezogen", AgreementState.WITHDRAWN),
        ("contracted", AgreementState.CONTRACTED),
    ],
)
def test_registry_states_map_onto_the_lifecycle(text, state):
    assert parse_state(text) is state


def test_unknown_states_point_to_the_option_and_extra_labels_win():
    with pytest.raises(ValueError, match="'states' option"):
        parse_state("abgeschlossen")
    assert parse_state("Abgeschlossen", {"abgeschlossen": AgreementState.CONTRACTED}) is (
        AgreementState.CONTRACTED
    )
