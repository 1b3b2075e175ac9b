"""Fixtures of the efa-marktplatz tests: the sample exports and an XLSX writer."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from datetime import date, datetime
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"

#: The offers sheet of the XLSX sample: a title row above the header, typed cells.
XLSX_OFFERS: list[list[object]] = [
    ["Export EfA-Marktplatz, Stand 01.03.2024"],
    [],
    [
        "Angebots-ID",
        "Onlinedienst",
        "LeiKa-Schlüssel",
        "Umsetzendes Land",
        "Betreiber",
        "Kanal",
        "Preis",
        "Stand",
    ],
    [
        "MP-010",
        "Bauantrag online",
        99009001000000,
        "Mecklenburg-Vorpommern",
        "DVZ M-V",
        "govdigital, FITKO",
        1234.56,
        datetime(2024, 2, 1),
    ],
    [
        "MP-011",
        "Hundesteuer",
        "99011001000000",
        16,
        None,
        "FIT-Store",
        "2.500,00",
        date(2024, 2, 2),
    ],
    ["MP-012", "Kaputt", 123, "Mars", None, "Brieftaube", "viel", "gestern"],
]

#: The interest list sheet of the XLSX sample (ARS as numbers, as Excel stores them).
XLSX_AGREEMENTS: list[list[object]] = [
    ["Angebots-ID", "Nachnutzer", "Regionalschlüssel", "Phase", "Datum", "Vertragsbeginn"],
    ["MP-010", "Kiel", 10020000000, "Interessenbekundung", datetime(2024, 1, 5), None],
    ["MP-010", "Kiel", 10020000000, "Vertragsschluss", None, datetime(2024, 4, 1)],
    ["MP-011", "Stadt Erfurt", 160510000000, "Abstimmung", "03.03.2024", None],
    ["MP-011", "Stadt Erfurt", 160510000000, "Interessenbekundung", "01.02.2024", None],
    ["MP-011", "Niemand", "abc", "Abstimmung", "03.03.2024", None],
]


@pytest.fixture
def anyio_backend() -> str:
    """Run async tests on asyncio only."""
    return "asyncio"


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """A copy of the sample exports in tmp_path (tests may change them)."""
    target = tmp_path / "data"
    shutil.copytree(DATA, target)
    return target


def _write_xlsx(path: Path, sheets: dict[str, Sequence[Sequence[object]]]) -> Path:
    import openpyxl

    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(list(row))
    book.save(path)
    return path


@pytest.fixture
def write_xlsx() -> Callable[[Path, dict[str, Sequence[Sequence[object]]]], Path]:
    """Return ``write(path, {sheet title: rows})``, which writes an XLSX workbook."""
    return _write_xlsx


@pytest.fixture
def xlsx_export(tmp_path: Path) -> Path:
    """An XLSX export with an offers sheet and an interest list sheet."""
    return _write_xlsx(
        tmp_path / "marktplatz.xlsx", {"Angebote": XLSX_OFFERS, "Interessen": XLSX_AGREEMENTS}
    )
