"""The registry schemas on the sample exports (reading itself is tested in efa-core)."""

from __future__ import annotations

from datetime import datetime

import pytest
from efa_marktplatz.columns import AGREEMENTS, OFFERS

from conftest import DATA
from efa_core.errors import SourceNotUnderstood
from efa_core.tabular import open_table


def rows(source, schema=OFFERS, **options):
    with open_table(source, schema, **options) as table:
        return table, {row.number: row for row in table}


def test_the_sample_files_decode():
    bom = (DATA / "marktplatz_angebote_semikolon_bom.csv").read_bytes()
    assert bom.startswith(b"\xef\xbb\xbf")
    table, read = rows(bom)
    assert (table.encoding, table.delimiter, table.header_row) == ("utf-8", ";", 1)
    assert table.columns.headers["service_key"] == "Angebots-ID"
    cp = (DATA / "fitstore_angebote_cp1252.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        cp.decode("utf-8")
    table, read = rows(cp)
    assert table.encoding == "cp1252"
    assert read[3]["service_name"] == "Führungszeugnis beantragen"
    assert table.columns.headers["price_model"] == "Kostenmodell"


def test_agreements_need_a_service_subscriber_and_status():
    with pytest.raises(SourceNotUnderstood) as raised:
        open_table(b"Nachnutzer;Datum\r\nErfurt;01.01.2024\r\n", AGREEMENTS, name="ib.csv")
    assert "no column for service_key or service_name" in str(raised.value)
    assert "no column for state" in str(raised.value)
    assert "subscriber_name" not in str(raised.value)


def test_xlsx_sheets_and_typed_cells(xlsx_export):
    data = xlsx_export.read_bytes()
    table, read = rows(data)  # the first sheet
    assert (table.format, table.header_row) == ("xlsx", 3)
    assert read[4]["leika_keys"] == 99009001000000
    assert read[4]["modified"] == datetime(2024, 2, 1)
    other, _ = rows(data, AGREEMENTS, sheet="Interessen")
    assert other.columns.headers["state"] == "Phase"
