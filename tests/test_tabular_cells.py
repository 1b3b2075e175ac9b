"""The cell parsers of efa_core.tabular: German dates, numbers and prices, keys, URLs."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from efa_core.ids import Ars, Land, LeikaKey, OzgId
from efa_core.tabular import (
    cell_text,
    parse_ars,
    parse_date,
    parse_land,
    parse_leika_keys,
    parse_number,
    parse_ozg_ids,
    parse_price,
    parse_url,
    single_line,
    slugify,
)


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


def test_slugify():
    assert slugify("Wohnsitz-Anmeldung (Ummeldung)") == "wohnsitz-anmeldung-ummeldung"
    assert slugify("Führungszeugnis beantragen") == "fuehrungszeugnis-beantragen"
    assert slugify("Straße  Café") == "strasse-cafe"
    with pytest.raises(ValueError, match="no key"):
        slugify("---")


@pytest.mark.parametrize(
    "cell", ["9,91E+13", "9.9108E+13", " 9,91151E+13 ", 99115005104000.0, 9.9e13]
)
def test_leika_keys_that_excel_turned_into_numbers_say_so(cell):
    with pytest.raises(ValueError, match="LeiKa key") as raised:
        parse_leika_keys(cell)
    message = str(raised.value)
    assert "the spreadsheet stored the LeiKa key as a number and lost digits" in message
    assert "format the column as text" in message
    assert "'9'" not in message  # never split at the decimal comma


def test_ars_stored_as_a_float_is_refused_too():
    with pytest.raises(ValueError, match="stored the ARS as a number and lost digits"):
        parse_ars("1,6051E+11")
    with pytest.raises(ValueError, match="stored the ARS as a number"):
        parse_ars(160510000000.0)


def test_ozg_ids_and_land_codes_accept_whole_floats():
    assert parse_ozg_ids(123.0) == (OzgId("123"),)
    assert parse_ozg_ids("123, 0456; 123") == (OzgId("123"), OzgId("456"))
    assert parse_land(16.0) is Land.TH


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("kostenfrei", Decimal(0)),
        ("Kostenlos", Decimal(0)),
        ("gebührenfrei", Decimal(0)),
        ("auf Anfrage", None),
        ("Preis auf Anfrage", None),
        ("nach Vereinbarung", None),
        ("k. A.", None),
        ("-", None),
        ("1.234,56 €", Decimal("1234.56")),
        ("500,- EUR", Decimal("500")),
        (0, Decimal(0)),
    ],
)
def test_prices(cell, expected):
    assert parse_price(cell) == expected


@pytest.mark.parametrize("cell", ["ca. 500 €/Jahr", "-5", "viel"])
def test_bad_prices(cell):
    with pytest.raises(ValueError, match=r"number|negative"):
        parse_price(cell)


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("https://example.de/a?b=1", "https://example.de/a?b=1"),
        ("HTTP://example.de", "HTTP://example.de"),
        ("www.wohnsitz.example.de/anmelden", "https://www.wohnsitz.example.de/anmelden"),
        ("portal.thueringen.de", "https://portal.thueringen.de"),
        (" www.example.de ", "https://www.example.de"),
    ],
)
def test_urls_get_a_scheme(cell, expected):
    assert parse_url(cell) == expected


@pytest.mark.parametrize(
    "cell", ["siehe Portal", "intern", "https://", "ftp://x.de", "Portal.de x"]
)
def test_bad_urls(cell):
    with pytest.raises(ValueError, match="URL"):
        parse_url(cell)


def test_text_of_cells():
    assert cell_text(12.0) == "12"
    assert cell_text(12.5) == "12.5"
    assert cell_text(True) == "ja"
    assert cell_text(date(2024, 5, 1)) == "2024-05-01"
    assert cell_text("  x ") == "x"
    assert single_line("Stadt\r\nErfurt\n ") == "Stadt Erfurt"
    assert single_line("Wohnsitz-\nanmeldung  (Ummeldung)") == "Wohnsitz- anmeldung (Ummeldung)"
