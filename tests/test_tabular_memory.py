"""Reading a table streams it: peak memory does not grow with the file (RSS in a subprocess).

Before efa_core.tabular streamed, a 15 MB CSV of 200k rows peaked at 462 MB and a 19 MB
XLSX of 1M rows at 1.53 GB (issue 14).  The child process reads every row through
:func:`efa_core.tabular.open_table` and reports how far its peak RSS rose above what it
used after the imports; reading a file whole would raise it by far more than the bound.
"""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytest.importorskip("openpyxl")

_CHILD = """
import json, resource, sys
import openpyxl, efa_core.tabular._xlsx
from efa_core.tabular import Field, Schema, open_table

schema = Schema([Field("key", "id", ("ID",), required=True), Field("ars", "ARS", ("ARS",)),
                 Field("state", "status", ("Status",))])
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
count = 0
with open_table(sys.argv[1], schema) as table:
    for row in table:
        count += 1
        last = row.values()
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"rows": count, "rise_kib": after - before, "last": str(last["key"])}))
"""

_NAME = "Stadt Nummer {i} mit einem längeren Namen, wie Exporte sie haben"
_NOTE = "Kickoff mit der Pilotkommune am 12. Mai, Folgetermin offen"


def _measure(path: Path, rows: int) -> int:
    result = subprocess.run(
        [sys.executable, "-c", _CHILD, str(path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    report = json.loads(result.stdout)
    assert report["rows"] == rows
    assert report["last"] == f"MP-{rows - 1:07d}"
    return int(report["rise_kib"]) // 1024


def _write_csv(path: Path, rows: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("EfA-Marktplatz, Export Interessenbekundungen vom 05.11.2024\r\n")
        out.write("ID;Name;ARS;Status;Datum;Bemerkung\r\n")
        for i in range(rows):
            name = _NAME.format(i=i)
            out.write(
                f"MP-{i:07d};{name};{160510000000 + i};Interessenbekundung;01.02.2024;{_NOTE}\r\n"
            )


def test_reading_a_csv_of_120k_rows_keeps_memory_flat(tmp_path: Path):
    path = tmp_path / "big.csv"
    _write_csv(path, 120_000)
    assert path.stat().st_size > 15_000_000
    rise = _measure(path, 120_000)
    assert rise < 25, f"reading 120k CSV rows raised the peak RSS by {rise} MB"


_SHEET_START = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    b'<dimension ref="A1:F2"/><sheetData>'  # understated, as some exporters write it
)
_PARTS = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
        'package/2006/content-types"><Default Extension="rels" ContentType="application/'
        'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" '
        'ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType='
        '"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'
    ),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
        'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://'
        'schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
        'Target="xl/workbook.xml"/></Relationships>'
    ),
    "xl/workbook.xml": (
        '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats'
        '.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/'
        'officeDocument/2006/relationships"><sheets><sheet name="Interessen" sheetId="1" '
        'r:id="rId1"/></sheets></workbook>'
    ),
    "xl/_rels/workbook.xml.rels": (
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
        'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://'
        'schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
        'Target="worksheets/sheet1.xml"/></Relationships>'
    ),
}


def _cell(ref: str, value: object) -> str:
    if isinstance(value, int):
        return f'<c r="{ref}"><v>{value}</v></c>'
    return f'<c r="{ref}" t="inlineStr"><is><t>{value}</t></is></c>'


def _write_xlsx(path: Path, rows: int) -> None:
    """Write a one-sheet workbook by hand (openpyxl's writer would take minutes)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in _PARTS.items():
            archive.writestr(name, text)
        with archive.open("xl/worksheets/sheet1.xml", "w") as sheet:
            sheet.write(_SHEET_START)
            header = ["ID", "Name", "ARS", "Status", "Datum", "Bemerkung"]
            cells = "".join(_cell(f"{c}1", v) for c, v in zip("ABCDEF", header, strict=True))
            sheet.write(f'<row r="1">{cells}</row>'.encode())
            for i in range(rows):
                number = i + 2
                values = [
                    f"MP-{i:07d}",
                    _NAME.format(i=i),
                    160510000000 + i,
                    "Interessenbekundung",
                    "01.02.2024",
                    _NOTE,
                ]
                cells = "".join(
                    _cell(f"{c}{number}", v) for c, v in zip("ABCDEF", values, strict=True)
                )
                sheet.write(f'<row r="{number}" ht="15" customHeight="1">{cells}</row>'.encode())
            sheet.write(b"</sheetData></worksheet>")


@pytest.mark.slow
def test_reading_an_xlsx_of_300k_rows_keeps_memory_flat(tmp_path: Path):
    path = tmp_path / "big.xlsx"
    _write_xlsx(path, 300_000)
    rise = _measure(path, 300_000)
    # openpyxl's own iteration keeps ~70 bytes per row read (+21 MB here), and reading
    # the rows whole would add hundreds of MB
    assert rise < 15, f"reading 300k XLSX rows raised the peak RSS by {rise} MB"
