"""Reading exports: encodings, delimiters, header rows, column mapping, XLSX."""

from __future__ import annotations

from datetime import datetime

import pytest
from efa_marktplatz.columns import (
    AGREEMENT_FIELDS,
    AGREEMENT_REQUIRED,
    OFFER_FIELDS,
    OFFER_REQUIRED,
)
from efa_marktplatz.tabular import decode_text, detect_delimiter, read_table

from conftest import DATA
from efa_core.errors import ConnectorError


def offers(data: bytes, **options):
    return read_table(
        data,
        where="offers.csv",
        fields=OFFER_FIELDS,
        required=OFFER_REQUIRED,
        columns=options.pop("columns", {}),
        **options,
    )


def cell(table, row_no: int, field: str):
    for number, cells in table.rows:
        if number == row_no:
            return cells[table.columns.indexes[field]]
    raise AssertionError(f"no row {row_no}")


HEADER = "Leistung{d}Leistungsschlüssel{d}Umsetzendes Land\r\n"
ROW = "Führerschein{d}99018005000000{d}Thüringen\r\n"


@pytest.mark.parametrize("delimiter", [";", ",", "\t"])
@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252"])
def test_encodings_and_delimiters_are_detected(delimiter, encoding):
    data = (HEADER + ROW).format(d=delimiter).encode(encoding)
    table = offers(data)
    assert table.delimiter == delimiter
    assert table.encoding == ("cp1252" if encoding == "cp1252" else "utf-8")
    assert table.columns.headers["leika_keys"] == "Leistungsschlüssel"  # no BOM in the header
    assert cell(table, 2, "service_name") == "Führerschein"


def test_the_sample_files_decode():
    bom = (DATA / "marktplatz_angebote_semikolon_bom.csv").read_bytes()
    assert bom.startswith(b"\xef\xbb\xbf")
    table = offers(bom)
    assert (table.encoding, table.delimiter, table.header_row) == ("utf-8", ";", 1)
    assert table.columns.headers["service_key"] == "Angebots-ID"
    cp = (DATA / "fitstore_angebote_cp1252.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        cp.decode("utf-8")
    table = offers(cp)
    assert table.encoding == "cp1252"
    assert cell(table, 3, "service_name") == "Führungszeugnis beantragen"
    assert table.columns.headers["price_model"] == "Kostenmodell"


def test_configured_encoding_and_delimiter_win():
    data = "Leistung|LeiKa|Land\r\nÄ|99018005000000|TH\r\n".encode("latin-1")
    table = offers(data, encoding="latin-1", delimiter="|")
    assert cell(table, 2, "service_name") == "Ä"
    with pytest.raises(ConnectorError, match=r"offers\.csv: line 2 is not utf-8 text"):
        offers(b"Leistung;LeiKa\r\n\xe4;1\r\n", encoding="utf-8")


def test_undecodable_bytes_name_file_and_line():
    with pytest.raises(ConnectorError) as raised:
        decode_text(b"Leistung\nok\n\x81\x8d", None, "x.csv")
    assert "x.csv: line 3 is neither utf-8 nor cp1252 text" in str(raised.value)
    assert "'encoding'" in str(raised.value)


def test_sniffer_copes_with_quotes_and_single_columns():
    assert detect_delimiter('"Leistung, Name";"LeiKa"\n') == ";"
    assert detect_delimiter("Leistung\n") == ","
    assert detect_delimiter("Export vom 01.02.2024\nLeistung;LeiKa\n") == ";"


def test_title_rows_above_the_header_are_skipped_and_rows_count_from_one():
    data = (
        "Export EfA-Marktplatz\r\nStand: 01.03.2024\r\n\r\n"
        "Leistung;LeiKa-Schlüssel;Irgendwas\r\nA;99018005000000;x\r\n;;\r\nB;99018005000001;y\r\n"
    ).encode()
    table = offers(data)
    assert table.header_row == 4
    assert [number for number, _ in table.rows] == [5, 7]  # the blank row 6 is skipped
    assert "Irgendwas" not in table.columns.headers.values()  # unknown columns are ignored


def test_missing_required_column_names_file_field_and_accepted_headers():
    data = "Name des Dienstes;Schlüssel\r\nA;99018005000000\r\n".encode()
    with pytest.raises(ConnectorError) as raised:
        read_table(
            data,
            where="marktplatz connector 'mp': offers file 'angebote.csv'",
            fields=OFFER_FIELDS,
            required=OFFER_REQUIRED,
            columns={},
        )
    message = str(raised.value)
    assert message.startswith("marktplatz connector 'mp': offers file 'angebote.csv': ")
    assert "no column for service_name" in message
    assert "no column for leika_keys" in message
    assert "'Leistung'" in message
    assert "'LeiKa-Schlüssel'" in message
    assert "headers found: 'Name des Dienstes', 'Schlüssel'" in message
    assert "columns.service_name" in message


def test_columns_option_replaces_the_default_headers():
    data = "Name des Dienstes;Schlüssel;Leistung\r\nA;99018005000000;B\r\n".encode()
    table = offers(data, columns={"service_name": "Name des Dienstes", "leika_keys": "Schlüssel"})
    assert cell(table, 2, "service_name") == "A"
    with pytest.raises(ConnectorError) as raised:
        offers(b"Leistung;LeiKa\r\n", columns={"service_name": "Titel"})
    assert "accepted headers: 'Titel'" in str(raised.value)


def test_agreements_need_a_service_subscriber_and_status():
    with pytest.raises(ConnectorError) as raised:
        read_table(
            b"Nachnutzer;Datum\r\nErfurt;01.01.2024\r\n",
            where="ib.csv",
            fields=AGREEMENT_FIELDS,
            required=AGREEMENT_REQUIRED,
            columns={},
        )
    assert "no column for service_key or service_name" in str(raised.value)
    assert "no column for state" in str(raised.value)
    assert "subscriber_name" not in str(raised.value)


def test_empty_and_old_excel_files_are_refused():
    with pytest.raises(ConnectorError, match="empty"):
        offers(b"\r\n\r\n")
    with pytest.raises(ConnectorError, match=r"\.xls"):
        offers(b"\xd0\xcf\x11\xe0" + b"\0" * 100)
    with pytest.raises(ConnectorError, match="not a readable XLSX"):
        offers(b"PK\x03\x04broken")


def test_xlsx_sheets_and_typed_cells(xlsx_export):
    data = xlsx_export.read_bytes()
    table = offers(data)  # the first sheet
    assert table.format == "xlsx"
    assert table.header_row == 3
    assert cell(table, 4, "leika_keys") == 99009001000000
    assert cell(table, 4, "modified") == datetime(2024, 2, 1)
    other = read_table(
        data,
        where="x",
        fields=AGREEMENT_FIELDS,
        required=AGREEMENT_REQUIRED,
        columns={},
        sheet="Interessen",
    )
    assert other.columns.headers["state"] == "Phase"
    with pytest.raises(
        ConnectorError, match="no sheet named 'Verträge'; sheets: 'Angebote', 'Interessen'"
    ):
        offers(data, sheet="Verträge")
