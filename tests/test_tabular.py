"""efa_core.tabular on exports shaped the way registries and office programs write them."""

from __future__ import annotations

import io
import logging
import os
import re
import sys
import zipfile
from datetime import datetime
from pathlib import Path

import pytest

from efa_core.errors import ConnectorError, SourceNotUnderstood
from efa_core.tabular import (
    Field,
    Limits,
    Schema,
    TableRefused,
    detect_encoding,
    is_footer,
    open_rows,
    open_table,
    sniff_delimiters,
)

openpyxl = pytest.importorskip("openpyxl")

OFFERS = Schema(
    [
        Field("key", "the offer id", ("Angebots-ID", "ID")),
        Field("name", "the service's name", ("Leistung", "Name"), required=True),
        Field("leika", "the LeiKa keys", ("LeiKa-Schlüssel", "LeiKa"), required=True),
        Field("land", "the implementing Land", ("Umsetzendes Land", "Land")),
    ]
)

HEADER = "Leistung{d}LeiKa-Schlüssel{d}Umsetzendes Land\r\n"
ROW = "Führerschein{d}99018005000000{d}Thüringen\r\n"


def read(source, schema=OFFERS, **options):
    """Return ``(table, [(number, values), ...])`` of a whole table."""
    with open_table(source, schema, **options) as table:
        rows = [(row.number, row.values()) for row in table]
    return table, rows


def xlsx(sheets: dict[str, list[list[object]]], merges: dict[str, list[str]] | None = None):
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
        for ref in (merges or {}).get(title, []):
            sheet.merge_cells(ref)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def rewrite_part(data: bytes, part: str, change) -> bytes:
    """Return the XLSX *data* with the ZIP member *part* rewritten by *change*."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            content = source.read(info.filename)
            target.writestr(info, change(content) if info.filename == part else content)
    return out.getvalue()


# -- encodings and delimiters ---------------------------------------------------------------


@pytest.mark.parametrize("delimiter", [";", ",", "\t", "|"])
@pytest.mark.parametrize(
    ("encoding", "reported"),
    [
        ("utf-8", "utf-8"),
        ("utf-8-sig", "utf-8"),
        ("cp1252", "cp1252"),
        ("utf-16", "utf-16"),  # with BOM, as Excel's "Unicode text" writes it
        ("utf-16-le", "utf-16-le"),
        ("utf-16-be", "utf-16-be"),
    ],
)
def test_encodings_and_delimiters_are_detected(delimiter, encoding, reported):
    data = (HEADER + ROW).format(d=delimiter).encode(encoding)
    table, rows = read(data)
    assert (table.format, table.encoding, table.delimiter) == ("csv", reported, delimiter)
    assert table.columns.headers["leika"] == "LeiKa-Schlüssel"  # no BOM in the header
    assert rows == [(2, {"name": "Führerschein", "leika": "99018005000000", "land": "Thüringen"})]


def test_utf16_is_told_by_its_nul_bytes():
    assert detect_encoding("Leistung;LeiKa".encode("utf-16-le")) == ("utf-16-le",)
    assert detect_encoding("Leistung;LeiKa".encode("utf-16-be")) == ("utf-16-be",)
    assert detect_encoding(b"Leistung;LeiKa") == ("utf-8-sig", "cp1252")


def test_undecodable_text_names_the_line_and_the_option():
    data = b"Leistung;LeiKa\nok;1\n\x81\x8d;2\n"
    with pytest.raises(SourceNotUnderstood) as raised:
        open_table(data, OFFERS, name="x.csv", source_name="mp")
    message = str(raised.value)
    assert message.startswith("source 'mp', x.csv: line 3 is neither utf-8 nor cp1252 text")
    assert "'encoding'" in message


def test_configured_encoding_and_delimiter_win():
    data = "Leistung|LeiKa|Land\r\nÄ|99018005000000|TH\r\n".encode("latin-1")
    _, rows = read(data, encoding="latin-1", delimiter="|")
    assert rows[0][1]["name"] == "Ä"
    with pytest.raises(SourceNotUnderstood, match=r"line 2 is not utf-8 text"):
        open_table(b"Leistung;LeiKa\r\n\xe4;1\r\n", OFFERS, encoding="utf-8")


def test_delimiter_is_sniffed_below_a_title_line_with_commas():
    data = (
        "EfA-Marktplatz, Export Interessenbekundungen vom 05.11.2024\r\n"
        "Angebots-ID;Leistung;LeiKa-Schlüssel;Land\r\n"
        "MP-1;Wohnsitzanmeldung, Ummeldung;99115005104000;Hamburg\r\n"
        "MP-2;Elterngeld;99041008012000;Bremen\r\n"
    ).encode()
    table, rows = read(data)
    assert (table.delimiter, table.header_row) == (";", 2)
    assert rows[0] == (
        3,
        {"key": "MP-1", "name": "Wohnsitzanmeldung, Ummeldung", "leika": "99115005104000"}
        | {"land": "Hamburg"},
    )
    assert sniff_delimiters(data.decode().splitlines(keepends=True))[0] == ";"


def test_a_header_with_a_quoted_delimiter_still_decides():
    data = b'Leistung;"LeiKa"\r\n"A, B";99018005000000\r\n"C, D, E";1\r\n'
    table, rows = read(data)
    assert table.delimiter == ";"
    assert rows[0][1]["name"] == "A, B"


# -- the header row and rows that hold no data ----------------------------------------------


def test_title_rows_blank_rows_footers_and_repeated_headers_are_skipped_and_counted():
    data = (
        "EfA-Marktplatz, Export Angebote\r\n"
        "Stand: 05.11.2024\r\n"
        "\r\n"
        "Leistung;LeiKa-Schlüssel;Irgendwas\r\n"  # row 4
        "A;99018005000000;x\r\n"
        ";;\r\n"
        "Leistung;LeiKa-Schlüssel;Irgendwas\r\n"  # a printed export repeats its header
        "B;99018005000001;y\r\n"
        "Summe: 8 Vorgänge;;\r\n"
        "Exportiert am 05.11.2024 14:03 von M. Muster\r\n"
        "\r\n"
        "\r\n"
    ).encode("cp1252")
    table, rows = read(data, name="angebote.csv")
    assert table.header_row == 4
    assert [number for number, _ in rows] == [5, 8]
    assert "Irgendwas" not in table.columns.headers.values()
    skipped = {s.kind: (s.count, s.position) for s in table.skipped}
    assert skipped == {
        "title-line": (2, "angebote.csv:row 1"),
        "blank-line": (4, "angebote.csv:row 3"),
        "header-line": (1, "angebote.csv:row 7"),
        "footer-line": (2, "angebote.csv:row 9"),
    }
    # every record of the file is a header, a data row or counted as skipped
    assert 1 + len(rows) + sum(s.count for s in table.skipped) == 12
    assert table.data_rows == 2


@pytest.mark.parametrize(
    "cells",
    [
        ["Exportiert am 05.11.2024"],
        ["Summe: 8 Vorgänge", "", ""],
        ["Summe", "", "8"],
        ["Anzahl Datensätze: 12"],
        ["Gesamt", "1.234,56 €"],
        ["8 Vorgänge"],
        ["Seite 2 von 3"],
        ["Summe: 8", "Summe: 8", "Summe: 8"],  # a merged cell, filled
    ],
)
def test_footers(cells):
    assert is_footer(cells)


@pytest.mark.parametrize(
    "cells",
    [
        ["Summe-Dienst", "99018005000000"],
        ["Gesamtschule Anmeldung", "99018005000000", "TH"],
        ["Stand", "Wohnsitzanmeldung", "Hamburg"],
        ["MP-1", "Summe: 8"],
        [],
    ],
)
def test_data_rows_are_no_footers(cells):
    assert not is_footer(cells)


def test_a_header_only_file_is_an_empty_table():
    table, rows = read(b"Leistung;LeiKa\r\n")
    assert rows == []
    assert table.data_rows == 0


@pytest.mark.parametrize("data", [b"", b"\r\n\r\n", b"\xef\xbb\xbf", b";;;\r\n"])
def test_an_empty_file_is_not_understood(data):
    with pytest.raises(SourceNotUnderstood, match=r"x\.csv: the file is empty"):
        open_table(data, OFFERS, name="x.csv")


def test_no_header_row_names_fields_accepted_headers_and_headers_found():
    with pytest.raises(SourceNotUnderstood) as raised:
        open_table("Name des Dienstes;Schlüssel\r\nA;1\r\n".encode(), OFFERS, name="a.csv")
    message = str(raised.value)
    assert message.startswith("a.csv: no header row found: ")
    assert "no column for name (the service's name)" in message
    assert "no column for leika" in message
    assert "accepted headers: 'LeiKa-Schlüssel', 'LeiKa', 'leika'" in message
    assert "headers found: 'Name des Dienstes', 'Schlüssel'" in message
    assert "columns.name" in message


def test_the_header_must_be_among_the_first_rows():
    data = ("Titel\r\n" * 5 + "Leistung;LeiKa\r\nA;1\r\n").encode()
    assert read(data)[0].header_row == 6
    with pytest.raises(SourceNotUnderstood, match="no header row"):
        open_table(data, OFFERS, limits=Limits(header_search=5))


def test_columns_option_replaces_the_default_headers():
    data = "Name des Dienstes;Schlüssel;Leistung\r\nA;1;B\r\n".encode()
    _, rows = read(data, columns={"name": "Name des Dienstes", "leika": "Schlüssel"})
    assert rows[0][1] == {"name": "A", "leika": "1"}
    with pytest.raises(SourceNotUnderstood, match="accepted headers: 'Titel'"):
        open_table(b"Leistung;LeiKa\r\n", OFFERS, columns={"name": "Titel"})


def test_one_of_groups():
    schema = Schema(
        [Field("key", "id", ("ID",)), Field("name", "name", ("Name",))], one_of=[("key", "name")]
    )
    assert read(b"Name\r\nx\r\n", schema)[1] == [(2, {"name": "x"})]
    with pytest.raises(SourceNotUnderstood, match="no column for key or name"):
        open_table(b"Other\r\nx\r\n", schema)


def test_schema_checks_itself_and_the_columns_option():
    with pytest.raises(ValueError, match="defined twice"):
        Schema([Field("a", "x"), Field("a", "y")])
    with pytest.raises(ValueError, match="unknown field"):
        Schema([Field("a", "x")], one_of=[("a", "b")])
    with pytest.raises(ValueError, match="identifier"):
        Field("no name", "x")
    with pytest.raises(ValueError, match=r"unknown field\(s\) 'nmae'; known fields: "):
        OFFERS.check_columns({"nmae": "Titel"})
    with pytest.raises(ValueError, match=r"columns\.name must name a header"):
        OFFERS.check_columns({"name": " "})


def test_rows_give_cells_by_field_text_on_one_line_and_raw():
    data = b'Leistung;LeiKa;Bemerkung\r\n"Wohnsitz-\nanmeldung  ";99018005000000;\r\n'
    with open_table(data, OFFERS, name="a.csv") as table:
        (row,) = list(table)
    assert row.position == "a.csv:row 2"  # the quoted line break stays in one row
    assert row["name"] == "Wohnsitz-\nanmeldung  "
    assert row.text("name") == "Wohnsitz- anmeldung"
    assert row.get("land") is None
    assert row.raw() == {"Leistung": "Wohnsitz-\nanmeldung", "LeiKa": "99018005000000"}


def test_rows_can_be_read_once():
    with open_table(b"Leistung;LeiKa\r\nA;1\r\n", OFFERS) as table:
        list(table)
        with pytest.raises(RuntimeError, match="once"):
            list(table)


def test_raw_rows_without_a_schema():
    data = b"Export vom 1.2.2024, alle Angebote\r\nA;B;C\r\n1;2;3\r\n"
    with open_rows(data, name="r.csv") as rows:
        assert rows.delimiter == ";"
        assert list(rows) == [
            (1, ("Export vom 1.2.2024, alle Angebote",)),
            (2, ("A", "B", "C")),
            (3, ("1", "2", "3")),
        ]


def test_nul_characters_are_removed_with_a_warning(caplog):
    data = b"Leistung;LeiKa\r\nA\x00B;1\r\n"
    with caplog.at_level(logging.WARNING, logger="efa_core.tabular"):
        _, rows = read(data, name="n.csv")
    assert rows[0][1]["name"] == "AB"
    assert "n.csv: NUL characters in the text were removed" in caplog.text


def test_a_quote_never_closed_is_not_understood():
    data = b'Leistung;LeiKa\r\n"A;1\r\n' + b"x" * 200_000 + b"\r\n"
    with (
        open_table(data, OFFERS, name="q.csv") as table,
        pytest.raises(SourceNotUnderstood, match=r"q\.csv: row 2 is not readable as CSV"),
    ):
        list(table)


# -- files, formats and limits --------------------------------------------------------------


def test_paths_bytes_and_file_objects(tmp_path: Path):
    data = (HEADER + ROW).format(d=";").encode()
    path = tmp_path / "a.csv"
    path.write_bytes(data)
    for source in (path, str(path), data, io.BytesIO(data)):
        assert read(source)[1][0][1]["name"] == "Führerschein"
    assert read(path)[0].name == str(path)


def test_missing_files_directories_and_fifos(tmp_path: Path):
    with pytest.raises(ConnectorError, match=r"x\.csv: the file does not exist"):
        open_table(tmp_path / "x.csv", OFFERS, where="x.csv")
    with pytest.raises(ConnectorError, match="a directory"):
        open_table(tmp_path, OFFERS)
    if hasattr(os, "mkfifo"):
        fifo = tmp_path / "pipe.csv"
        os.mkfifo(fifo)
        with pytest.raises(ConnectorError, match="not a regular file"):
            open_table(fifo, OFFERS)


def test_old_excel_opendocument_and_broken_zip_are_not_understood():
    with pytest.raises(SourceNotUnderstood, match=r"old binary Excel file \(\.xls\)"):
        open_table(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, OFFERS)
    ods = io.BytesIO()
    with zipfile.ZipFile(ods, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", "<x/>")
    with pytest.raises(SourceNotUnderstood, match=r"OpenDocument spreadsheet \(\.ods\)"):
        open_table(ods.getvalue(), OFFERS)
    with pytest.raises(SourceNotUnderstood, match="broken ZIP archive"):
        open_table(b"PK\x03\x04broken", OFFERS)
    plain = io.BytesIO()
    with zipfile.ZipFile(plain, "w") as archive:
        archive.writestr("data.csv", "a;b")
    with pytest.raises(SourceNotUnderstood, match="not an XLSX workbook"):
        open_table(plain.getvalue(), OFFERS)


@pytest.mark.parametrize(
    ("data", "said"),
    [
        (
            b"\xef\xbb\xbf\r\n<!DOCTYPE html>\r\n<html lang=de><head><title>Anmeldung</title>"
            b"</head><body><form>Benutzer;Passwort geheim123</form></body></html>\r\n",
            "is a web page (HTML), not a table: perhaps a login or error page",
        ),
        (
            b'<?xml version="1.0"?>\n<Workbook xmlns="urn:schemas-microsoft-com:office:'
            b'spreadsheet"><Worksheet/></Workbook>\n',
            "is XML, not a table (CSV or XLSX)",
        ),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "this is a PDF document"),
        (b"\x1f\x8b\x08\x00\x00\x00\x00\x00", "this is gzip-compressed data"),
    ],
    ids=["login-page", "xml-spreadsheet-2003", "pdf", "gzip"],
)
def test_what_is_no_table_is_named_and_never_quoted(data: bytes, said: str):
    with pytest.raises(SourceNotUnderstood) as raised:
        open_table(data, OFFERS, name="angebote.csv", source_name="mp")
    assert said in str(raised.value)
    assert str(raised.value).startswith("source 'mp', angebote.csv")
    assert "geheim123" not in str(raised.value)
    assert "Anmeldung" not in str(raised.value)


def test_a_table_whose_cells_hold_markup_is_still_a_table():
    table = open_table(b"Leistung;LeiKa\n<b>Wohngeld</b>;99115005104000\n", OFFERS)
    assert [row.cells[0] for row in table] == ["<b>Wohngeld</b>"]
    with pytest.raises(SourceNotUnderstood, match="headers found: '<b>Leistung</b>', 'LeiKa'"):
        open_table(b"<b>Leistung</b>;LeiKa\nWohngeld;99115005104000\n", OFFERS)


def test_limits_refuse_with_the_file_name_and_option(tmp_path: Path):
    data = ("Leistung;LeiKa\r\n" + "A;1\r\n" * 50).encode()
    with pytest.raises(TableRefused, match=r"big\.csv: the file has \d+ bytes.*max_file_bytes"):
        open_table(data, OFFERS, name="big.csv", limits=Limits(max_file_bytes=100))
    with (
        open_table(data, OFFERS, name="big.csv", limits=Limits(max_rows=10)) as table,
        pytest.raises(TableRefused, match=r"big\.csv: more than 10 rows \(max_rows\)"),
    ):
        list(table)
    book = xlsx({"A": [["Leistung", "LeiKa"], ["A", 1]]})
    with pytest.raises(TableRefused, match=r"b\.xlsx: the workbook part .*max_unpacked_bytes"):
        open_table(book, OFFERS, name="b.xlsx", limits=Limits(max_unpacked_bytes=500))
    with pytest.raises(ValueError, match="positive"):
        Limits(max_rows=0)


def test_xlsx_without_openpyxl_names_the_extra(monkeypatch):
    book = xlsx({"A": [["Leistung", "LeiKa"], ["A", 1]]})
    monkeypatch.setitem(sys.modules, "openpyxl", None)
    with pytest.raises(SourceNotUnderstood, match=re.escape("efa-core[xlsx]")):
        open_table(book, OFFERS, name="a.xlsx")


# -- XLSX -----------------------------------------------------------------------------------


def test_xlsx_sheets_and_typed_cells():
    data = xlsx(
        {
            "Angebote": [
                ["Export EfA-Marktplatz, Stand 01.03.2024"],
                [],
                ["Angebots-ID", "Leistung", "LeiKa-Schlüssel", "Stand"],
                ["MP-10", "Bauantrag", 99009001000000, datetime(2024, 2, 1)],
            ],
            "Interessen": [["Name", "LeiKa"], ["x", "99009001000000"]],
        }
    )
    table, rows = read(data)
    assert (table.format, table.sheet, table.sheets) == (
        "xlsx",
        "Angebote",
        ("Angebote", "Interessen"),
    )
    assert table.header_row == 3
    assert rows == [(4, {"key": "MP-10", "name": "Bauantrag", "leika": 99009001000000})]
    assert read(data, sheet="Interessen")[1] == [(2, {"name": "x", "leika": "99009001000000"})]
    with pytest.raises(
        SourceNotUnderstood, match="no sheet named 'V'; sheets: 'Angebote', 'Interessen'"
    ):
        open_table(data, OFFERS, sheet="V")


def test_xlsx_merged_cells_fill_every_covered_cell_on_every_sheet():
    rows = [
        ["EfA-Marktplatz: Angebote"],  # a title merged over A1:C1
        ["Leistung", "LeiKa", "Land"],
        ["Wohnsitzanmeldung", 99115005104000, "Hamburg"],  # A3:A4 and C3:C5 merged down
        [None, 99115005104001, None],
        ["Elterngeld", 99041008012000, None],
        ["Summe: 3"],  # a footer merged over A6:C6
    ]
    merges = ["A1:C1", "A3:A4", "C3:C5", "A6:C6"]
    data = xlsx({"Eins": rows, "Zwei": rows}, {"Eins": merges, "Zwei": merges})
    for sheet in ("Eins", "Zwei"):
        table, read_rows = read(data, sheet=sheet)
        assert read_rows == [
            (3, {"name": "Wohnsitzanmeldung", "leika": 99115005104000, "land": "Hamburg"}),
            (4, {"name": "Wohnsitzanmeldung", "leika": 99115005104001, "land": "Hamburg"}),
            (5, {"name": "Elterngeld", "leika": 99041008012000, "land": "Hamburg"}),
        ]
        assert {s.kind: s.count for s in table.skipped} == {"title-line": 1, "footer-line": 1}


def test_xlsx_with_an_understated_dimension_reads_every_row():
    data = xlsx({"A": [["Leistung", "LeiKa"], ["A", 1], ["B", 2], ["C", 3]]})

    def understate(xml: bytes) -> bytes:
        changed, count = re.subn(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:B2"', xml)
        assert count == 1
        return changed

    lying = rewrite_part(data, "xl/worksheets/sheet1.xml", understate)
    _, rows = read(lying)
    assert [values["name"] for _, values in rows] == ["A", "B", "C"]


def test_xlsx_with_damaged_sheet_xml_is_not_understood_naming_file_and_sheet():
    # issue 14 §2: a truncated sheet ended in a raw xml ParseError traceback
    data = xlsx({"Angebote": [["Leistung", "LeiKa"], ["A", 1], ["B", 2]]})
    damaged = rewrite_part(data, "xl/worksheets/sheet1.xml", lambda xml: xml[:-40])
    with pytest.raises(SourceNotUnderstood) as raised:
        read(damaged, name="angebote.xlsx", source_name="mp")
    message = str(raised.value)
    assert message.startswith("source 'mp', angebote.xlsx: sheet 'Angebote' is damaged after row")
    assert "save it again" in message
    assert raised.value.__cause__ is None


def test_xlsx_merge_scan_reads_prefixed_elements():
    data = xlsx({"A": [["Leistung", "LeiKa"], ["A", 1], [None, 2]]}, {"A": ["A2:A3"]})

    def prefix(xml: bytes) -> bytes:
        return xml.replace(b"<mergeCell ", b"<x:mergeCell ").replace(
            b"<worksheet ",
            b'<worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main" ',
        )

    _, rows = read(rewrite_part(data, "xl/worksheets/sheet1.xml", prefix))
    assert [values["name"] for _, values in rows] == ["A", "A"]
