"""Exports shaped like the real ones: every row accounted for, only identity fields reject.

The fixtures in ``tests/data/real/`` are written the way registries and office programs
write exports: a title line with a comma above a ``;`` header, cp1252 or UTF-8 with BOM,
blank rows, the header repeated, ``Summe``/``Exportiert am`` footers, a LeiKa key Excel
turned into ``9,91E+13``, a line break inside a name, prices such as ``kostenfrei`` and
``auf Anfrage``, URLs without scheme, unknown channels, a Land column beside the
subscriber, a Zweckverband without ARS.  The tests count the rows of each file with the
standard library, independently of the connector, and check that the pull accounts for
every one of them (issue 10 §3, §4).
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections import Counter
from pathlib import Path

import pytest
from efa_marktplatz import MarktplatzConfig, MarktplatzConnector

from conftest import DATA
from efa_core.connectors import Rejected, Upsert, pull_sync
from efa_core.errors import SourceNotUnderstood
from efa_core.model import ReuseChannel, SubscriberKind
from efa_core.tabular import TableRefused
from efa_core.testing.accounting import assert_accounted

REAL = DATA / "real"
OFFERS = REAL / "angebote_titel_fusszeile_cp1252.csv"
AGREEMENTS = REAL / "interessen_titel_fusszeile_bom.csv"
_FOOTER_WORDS = ("Summe", "Exportiert")


def count_rows(path: Path, encoding: str, header_first_cell: str, kind: str) -> Counter[str]:
    """Classify every record of a CSV fixture by its fixtures' conventions (not the reader's).

    Records above the header are title lines (or blank); below it, a record is blank, the
    header again, a footer (its first cell starts with Summe or Exportiert), or data.
    """
    text = path.read_bytes().decode(encoding)
    records = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    header = next(i for i, r in enumerate(records) if r and r[0] == header_first_cell)
    counts: Counter[str] = Counter()
    for index, record in enumerate(records):
        if index == header:
            continue
        if not any(cell.strip() for cell in record):
            counts["blank-line"] += 1
        elif index < header:
            counts["title-line"] += 1
        elif record == records[header]:
            counts["header-line"] += 1
        elif record[0].startswith(_FOOTER_WORDS):
            counts["footer-line"] += 1
        else:
            counts[kind] += 1
    return counts


def column(path: Path, encoding: str, name: str) -> list[str]:
    """The non-blank cells of column *name* in the data rows of a fixture."""
    text = path.read_bytes().decode(encoding)
    records = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    header = next(i for i, r in enumerate(records) if name in r)
    at = records[header].index(name)
    return [
        r[at]
        for r in records[header + 1 :]
        if len(r) > at and r[at].strip() and r != records[header]
    ]


def pull(**options):
    """Return the upserts, the rejected rows and the run warnings (joined) of a pull."""
    connector = MarktplatzConnector(MarktplatzConfig(**options), name="mp")
    upserts = {}
    rejected = {}
    warnings: list[str] = []
    for batch in pull_sync(connector):
        for change in batch.changes:
            assert isinstance(change, Upsert)
            upserts[change.kind, change.key] = change.record
        for item in batch.rejected:
            rejected[item.position.rsplit("/", 1)[-1]] = item
        warnings.extend(batch.warnings)
    return upserts, rejected, "\n".join(warnings)


def test_offers_export_accounts_for_every_row():
    counts = count_rows(OFFERS, "cp1252", "Angebots-ID", "service")
    assert counts == {
        "service": 8,
        "title-line": 1,
        "blank-line": 4,
        "header-line": 1,
        "footer-line": 2,
    }
    operators = set(column(OFFERS, "cp1252", "Betreiber"))
    connector = MarktplatzConnector(MarktplatzConfig(offers=str(OFFERS)), name="mp")
    accounting = assert_accounted(connector, {**counts, "provider": len(operators)})
    # 8 rows: 5 services, 2 rejected (a LeiKa key Excel turned into a number, no name),
    # 1 joined into the service listed once per Anbieter
    assert accounting.stored["service"] == 5
    assert accounting.quarantined == {"service": 2}
    assert accounting.skipped["service"] == 1


def test_offers_optional_cells_never_reject():
    upserts, rejected, log = pull(offers=str(OFFERS))
    services = {key: r for (kind, key), r in upserts.items() if kind == "service"}
    assert sorted(services) == ["MP-101", "MP-102", "MP-103", "MP-105", "MP-106"]
    elterngeld = services["MP-102"]
    assert elterngeld.name == "Elterngeld Digital"  # the line break in the cell is a space
    assert elterngeld.price == 0  # kostenfrei
    assert elterngeld.url == "https://www.elterngeld.example.de/antrag"  # www. got https://
    hund = services["MP-103"]
    assert hund.price is None  # auf Anfrage: unknown
    assert hund.url is None  # 'siehe Portal' dropped
    assert hund.modified_at is None  # 'gestern' dropped
    assert hund.reuse_channels == (ReuseChannel.MARKTPLATZ_FITKO,)  # 'Brieftaube' dropped
    gewerbe = services["MP-105"]
    assert (gewerbe.land, gewerbe.price) == (None, None)  # 'Atlantis', '-5' dropped
    assert services["MP-106"].price == 12.5
    assert services["MP-101"].reuse_channels == (
        ReuseChannel.MARKTPLATZ_GOVDIGITAL,
        ReuseChannel.MARKTPLATZ_FITKO,
    )
    # the run's warnings name the source, file, field, what happened, rows and values
    assert "source 'mp', offers file" in log
    assert "url (column 'URL'): no scheme; stored with https://: 1 row" in log
    assert "'www.elterngeld.example.de/antrag'" in log
    assert "channel (column 'Anbieter'): unknown reuse channel" in log
    assert "'Brieftaube'" in log
    assert "price (column 'Preis'): not a price" in log
    assert "land (column 'Umsetzendes Land'): not a Land; stored without one" in log
    # only identity fields reject
    ((field, message),) = rejected["angebote_titel_fusszeile_cp1252.csv:row 8"].problems
    assert field == "leika_keys"
    assert message == (
        "column 'Leistungsschlüssel': '9,91E+13': the spreadsheet stored the LeiKa key as a "
        "number and lost digits; format the column as text"
    )
    ((field, _),) = rejected["angebote_titel_fusszeile_cp1252.csv:row 13"].problems
    assert field == "service_name"
    assert len(rejected) == 2


def test_agreements_export_accounts_for_every_row():
    counts = count_rows(AGREEMENTS, "utf-8-sig", "Angebots-ID", "agreement")
    assert counts == {"agreement": 11, "title-line": 1, "blank-line": 1, "footer-line": 2}
    # subscribers with a valid identity; 'Gemeinde Irgendwo' (no ARS) and 'Stadt Weimar'
    # (its only row has an unknown status) have none
    names = {" ".join(name.split()) for name in column(AGREEMENTS, "utf-8-sig", "Nachnutzer")}
    assert len(names) == 7
    subscribers = len(names - {"Gemeinde Irgendwo", "Stadt Weimar"})
    connector = MarktplatzConnector(MarktplatzConfig(agreements=str(AGREEMENTS)), name="mp")
    accounting = assert_accounted(connector, {**counts, "subscriber": subscribers})
    # 11 rows: 5 agreements, 3 rejected (a lifecycle violation, no ARS, unknown status),
    # 3 status rows folded into the history of an agreement listed earlier
    assert (accounting.stored["agreement"], accounting.quarantined["agreement"]) == (5, 3)
    assert accounting.skipped["agreement"] == 3


def test_agreements_subscribers_are_never_the_land_column():
    upserts, rejected, log = pull(agreements=str(AGREEMENTS))
    subscribers = {key: r for (kind, key), r in upserts.items() if kind == "subscriber"}
    assert sorted(subscribers) == [
        "ars:16",  # 'Thüringen' in the Nachnutzer column: the Land itself
        "ars:160510000000",
        "ars:160530000000",
        "org:kdn-dachverband",
        "org:zweckverband-kommunale-datenverarbeitung-oldenburg",
    ]
    # a Zweckverband without ARS stays an organisation, not its Land (Niedersachsen)
    oldenburg = subscribers["org:zweckverband-kommunale-datenverarbeitung-oldenburg"]
    assert (oldenburg.subscriber_kind, oldenburg.ars) == (SubscriberKind.ORGANISATION, None)
    assert "an organisation by its name" in log
    kdn = upserts["agreement", "MP-102@org:kdn-dachverband"]
    assert kdn.channel is None  # 'Brieftaube' ignored with a warning
    jena = upserts["agreement", "MP-102@ars:160530000000"]
    assert jena.state.value == "withdrawn"  # its first date '31.02.2024' dropped, row kept
    assert "date (column 'Datum'): not a date" in log
    problems = {position: r.problems[0] for position, r in rejected.items()}
    assert problems["interessen_titel_fusszeile_bom.csv:row 10"][1].startswith("lifecycle: ")
    assert problems["interessen_titel_fusszeile_bom.csv:row 11"][0] == "subscriber_ars"
    assert problems["interessen_titel_fusszeile_bom.csv:row 13"][0] == "state"
    weimar = rejected["interessen_titel_fusszeile_bom.csv:row 13"]
    assert weimar.raw["Nachnutzer"] == "Stadt\r\nWeimar"  # the raw input as received


def test_a_land_column_alone_names_no_subscriber(tmp_path: Path):
    path = tmp_path / "va.csv"
    path.write_text("Leistung;Land;Status\r\nWohngeld;Thüringen;Beitritt\r\n", encoding="utf-8")
    with pytest.raises(SourceNotUnderstood, match="no column for subscriber_name"):
        pull(agreements=str(path))
    upserts, _, _ = pull(agreements=str(path), columns={"subscriber_name": "Land"})
    assert ("agreement", "wohngeld@ars:16") in upserts


def test_a_header_only_export_is_an_empty_snapshot_with_a_warning(tmp_path: Path):
    path = tmp_path / "leer.csv"
    path.write_text("Angebots-ID;Leistung;LeiKa\r\n\r\n", encoding="utf-8")
    connector = MarktplatzConnector(MarktplatzConfig(offers=str(path)), name="mp")
    batches = list(pull_sync(connector))
    assert batches[-1].complete
    assert not any(batch.changes for batch in batches)
    assert batches[-1].warnings == (
        f"source 'mp', offers file '{path}': a header row but no data rows; read as an empty table",
    )
    assert_accounted(batches, {"blank-line": 1})


def test_a_header_only_xlsx_export_is_an_empty_snapshot_with_a_warning(tmp_path: Path):
    # issue 14 §2: a header-only spreadsheet must be reported like a header-only CSV
    import openpyxl

    path = tmp_path / "leer.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Angebote"
    sheet.append(["Angebots-ID", "Leistung", "LeiKa-Schlüssel"])
    book.save(path)
    connector = MarktplatzConnector(MarktplatzConfig(offers=str(path)), name="mp")
    batches = list(pull_sync(connector))
    assert batches[-1].complete
    assert not any(batch.changes for batch in batches)
    assert batches[-1].warnings == (
        f"source 'mp', offers file '{path}': a header row but no data rows; read as an empty table",
    )


def _xlsx_with_merges(path: Path) -> Path:
    import openpyxl

    book = openpyxl.Workbook()
    offers = book.active
    offers.title = "Angebote"
    for row in [
        ["EfA-Marktplatz: Leistungsangebote"],  # merged over A1:F1
        ["Angebots-ID", "Leistung", "LeiKa-Schlüssel", "Umsetzendes Land", "Betreiber", "Anbieter"],
        ["MP-201", "Wohngeld", "99108004000000", "Schleswig-Holstein", "Dataport", "govdigital"],
        [None, None, "99108004000000", None, None, "FITKO"],  # A3:A4, B3:B4, D3:D4, E3:E4
        ["MP-202", "Bauantrag", 99108000000000, "Bayern", "AKDB", "FITKO"],  # see below
        ["MP-203", "Hundesteuer", 99011001000000, "Hessen", "ekom21", None],
        ["Summe: 4"],  # merged over A7:F7
    ]:
        offers.append(row)
    for ref in ("A1:F1", "A3:A4", "B3:B4", "D3:D4", "E3:E4", "A7:F7"):
        offers.merge_cells(ref)
    interests = book.create_sheet("Interessen")
    for row in [
        ["Angebots-ID", "Leistung", "Nachnutzer", "ARS", "Status", "Datum"],
        ["MP-201", "Wohngeld", "Kiel", 10020000000, "Interessenbekundung", "01.02.2024"],
        [None, None, "Lübeck", 10030000000, "Interessenbekundung", "02.02.2024"],
        [None, None, "Flensburg", 10010000000, "Vertragsschluss", "03.02.2024"],  # A2:B4
        ["MP-203", "Hundesteuer", "Stadt Kassel", 66110000000, "Abstimmung", "01.03.2024"],
    ]:
        interests.append(row)
    interests.merge_cells("A2:A4")
    interests.merge_cells("B2:B4")
    book.save(path)
    # an exporter that writes numbers in scientific notation: a float LeiKa cell
    out = io.BytesIO()
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"<v>99108000000000</v>", b"<v>9.9108E+13</v>")
            target.writestr(info, data)
    path.write_bytes(out.getvalue())
    return path


def _xlsx_counts(path: Path, sheet: str, header_row: int, kind: str) -> Counter[str]:
    """Count a sheet's rows with openpyxl itself (not efa_core.tabular)."""
    import openpyxl

    rows = list(openpyxl.load_workbook(path)[sheet].iter_rows(values_only=True))
    counts: Counter[str] = Counter()
    for number, values in enumerate(rows, start=1):
        texts = [str(v) for v in values if v is not None]
        if number == header_row:
            continue
        if not texts:
            counts["blank-line"] += 1
        elif number < header_row:
            counts["title-line"] += 1
        elif texts[0].startswith(_FOOTER_WORDS):
            counts["footer-line"] += 1
        else:
            counts[kind] += 1
    return counts


def test_xlsx_merged_cells_on_every_sheet_and_float_keys(tmp_path: Path):
    path = _xlsx_with_merges(tmp_path / "export.xlsx")
    offer_counts = _xlsx_counts(path, "Angebote", 2, "service")
    assert offer_counts == {"service": 4, "title-line": 1, "footer-line": 1}
    connector = MarktplatzConnector(
        MarktplatzConfig(offers=str(path), offers_sheet="Angebote"), name="mp"
    )
    assert_accounted(connector, {**offer_counts, "provider": 2})  # Dataport, ekom21
    upserts, rejected, _ = pull(offers=str(path), offers_sheet="Angebote")
    # the merged id, name, Land and operator fill the FITKO row: one service, two channels
    wohngeld = upserts["service", "MP-201"]
    assert wohngeld.reuse_channels == (
        ReuseChannel.MARKTPLATZ_GOVDIGITAL,
        ReuseChannel.MARKTPLATZ_FITKO,
    )
    (bau,) = rejected.values()
    assert bau.position.endswith("export.xlsx[Angebote]:row 5")
    assert "stored the LeiKa key as a number and lost digits" in bau.problems[0][1]

    interest_counts = _xlsx_counts(path, "Interessen", 1, "agreement")
    assert interest_counts == {"agreement": 4}
    connector = MarktplatzConnector(
        MarktplatzConfig(agreements=str(path), agreements_sheet="Interessen"), name="mp"
    )
    assert_accounted(connector, {**interest_counts, "subscriber": 4})
    upserts, rejected, _ = pull(agreements=str(path), agreements_sheet="Interessen")
    assert not rejected
    assert {key for kind, key in upserts if kind == "agreement"} == {
        "MP-201@ars:010020000000",
        "MP-201@ars:010030000000",
        "MP-201@ars:010010000000",
        "MP-203@ars:066110000000",
    }


def test_rejected_rows_keep_the_raw_row():
    _, rejected, _ = pull(offers=str(OFFERS))
    bad = rejected["angebote_titel_fusszeile_cp1252.csv:row 8"]
    assert isinstance(bad, Rejected)
    assert bad.raw["Leistungsschlüssel"] == "9,91E+13"
    assert bad.raw["Preis"] == "ca. 500 €/Jahr"


def test_limits_refuse_an_export_with_its_name(tmp_path: Path):
    path = tmp_path / "gross.csv"
    rows = "".join(f"MP-{n};Leistung {n};99000000000{n:03d}\r\n" for n in range(50))
    path.write_text("Angebots-ID;Leistung;LeiKa\r\n" + rows, encoding="utf-8")
    with pytest.raises(TableRefused, match=r"offers file '.*gross\.csv': more than 10 rows"):
        pull(offers=str(path), max_rows=10)
    with pytest.raises(TableRefused, match=r"gross\.csv': the file has \d+ bytes.*max_file_bytes"):
        pull(offers=str(path), max_file_bytes=100)
    with pytest.raises(ValueError, match="max_rows must be at least 1"):
        MarktplatzConfig(offers=str(path), max_rows=0)


def test_a_login_page_saved_as_the_export_is_not_understood(tmp_path: Path):
    page = tmp_path / "angebote.csv"
    page.write_bytes(
        b"<!DOCTYPE html>\n<html><head><title>Marktplatz - Anmeldung</title></head>"
        b"<body><form>Sitzung abgelaufen</form></body></html>\n"
    )
    with pytest.raises(SourceNotUnderstood) as raised:
        pull(offers=str(page))
    assert str(raised.value) == (
        f"source 'mp', offers file {str(page)!r}: is a web page (HTML), not a table: perhaps "
        "a login or error page was saved in place of the export"
    )
