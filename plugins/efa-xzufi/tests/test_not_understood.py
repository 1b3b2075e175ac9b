"""Input that is no XZuFi 2.2/2.3 transfer message fails loudly, before anything is delivered."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pytest
from efa_xzufi import TransferMessageReader, XZuFiNotUnderstood, XZuFiRefused
from efa_xzufi.connector import XZuFiDirConfig, XZuFiDirConnector

from efa_core.connectors import pull_sync
from efa_core.errors import SourceNotUnderstood

EXPORT = Path(__file__).parent / "fixtures" / "export"
FIRST = "XZUFI20260301060000000000000001.xml"

XZUFI_2_1_0 = b"""<?xml version="1.0" encoding="UTF-8"?>
<xzufi:leistungsverzeichnis.antwort.leistungsbericht.030108
    xmlns="http://xoev.de/schemata/xzufi/2_1_0" xmlns:xzufi="http://xoev.de/schemata/xzufi/2_1_0"
    produktbezeichnung="Portalverbund PoC" produkthersteller="X" produktversion="1"
    xzufiVersion="2.1.0">
  <xzufi:nachrichtenkopf>
    <xzufi:nachrichtUUID>76b4df51-e824-49f7-8fec-b4af3152a263</xzufi:nachrichtUUID>
  </xzufi:nachrichtenkopf>
  <xzufi:leistung><xzufi:id>L1</xzufi:id></xzufi:leistung>
</xzufi:leistungsverzeichnis.antwort.leistungsbericht.030108>
"""

XHTML_MAINTENANCE = b"""<?xml version="1.0" encoding="UTF-8"?>
<html xmlns="http://www.w3.org/1999/xhtml" lang="de">
<head><title>Wartungsarbeiten</title></head>
<body><h1>Das Redaktionssystem wird gewartet.</h1><p>Bitte versuchen Sie es sp&#228;ter.</p></body>
</html>
"""

HTML_ERROR = (
    b"<!DOCTYPE html>\n<html lang=de><head><meta charset=utf-8><title>502 Bad Gateway</title>"
    b"</head><body><h1>502 Bad Gateway</h1><hr>nginx</body></html>\n"
)

CASES = {
    "xzufi-2.1.0": (XZUFI_2_1_0, "is an XZuFi 2.1.0 message"),
    "xhtml-page": (XHTML_MAINTENANCE, "is a web page (root element <html>"),
    "html-page": (HTML_ERROR, "is an HTML page (<!DOCTYPE html>)"),
    "empty": (b"", "is empty (0 bytes)"),
    "blank": (b"\r\n  \r\n", "contains no XML element"),
    "pdf": (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "is not XML: a PDF document"),
    "xlsx": (b"PK\x03\x04\x14\x00\x06\x00", "is not XML: a ZIP archive"),
    "gzip": (gzip.compress(b"<m/>"), "is not XML: gzip-compressed data"),
    "json": (b'{"xzufiObjekte": "<m/>"}', "is not XML: JSON"),
    "csv": (b"Leistung;Gebiet\n99115005104000;16055\n", "is not XML: its first character"),
    "foreign-root": (
        b'<?xml version="1.0"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/'
        b'envelope/"><soap:Body/></soap:Envelope>',
        "the root element <Envelope> in namespace 'http://schemas.xmlsoap.org/soap/envelope/' "
        "is not an XZuFi transfer message",
    ),
    "no-namespace": (
        b"<transfer.operation><nachrichtenkopf/></transfer.operation>",
        "the root element <transfer.operation> (no namespace) is not an XZuFi",
    ),
    "single-object": (
        b'<leistung xmlns="http://xoev.de/schemata/xzufi/2_2_0"><id>L1</id></leistung>',
        "the root element is <leistung>, a part of a transfer message",
    ),
    "declared-3.0": (
        b'<t xmlns="http://xoev.de/schemata/xzufi/2_2_0" xzufiVersion="3.0.0">'
        b"<nachrichtenkopf/></t>",
        "is an XZuFi 3.0.0 message",
    ),
    "no-header-no-entry": (
        b'<t xmlns="http://xoev.de/schemata/xzufi/2_3_1"><transaktionID>1</transaktionID></t>',
        "has neither a nachrichtenkopf nor any schreibe/loesche entry",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_reader_says_what_it_found(case):
    data, message = CASES[case]
    with pytest.raises(XZuFiNotUnderstood) as raised:
        list(TransferMessageReader(data, name=f"{case}.xml"))
    assert message in str(raised.value)
    assert str(raised.value).startswith(f"{case}.xml")
    assert isinstance(raised.value, SourceNotUnderstood)


def test_nothing_of_a_page_is_quoted():
    secret = b"admin:$6$x7Kq:19000:0:99999:7:::\n"
    with pytest.raises(XZuFiNotUnderstood) as raised:
        list(TransferMessageReader(secret))
    assert "admin" not in str(raised.value)
    assert "x7Kq" not in str(raised.value)


@pytest.mark.parametrize(
    "declaration",
    [b"version='1.0' encoding='xml-shifted'", b'version="1.0" encoding="UTF-8"', b""],
)
def test_xzufi_namespaces_and_declared_versions_that_are_read(declaration):
    for root in (
        b'<t xmlns="http://xoev.de/schemata/xzufi/2_2_0">',
        b'<t xmlns="https://xoev.de/schemata/xzufi/2_3_1/">',
        b'<x:t xmlns:x="urn:own-export" xzufiVersion="2.2.0">',
        b'<t xmlns="http://xoev.de/schemata/xzufi/2_2_0" xzufiVersion="String">',
    ):
        end = b"</x:t>" if root.startswith(b"<x:") else b"</t>"
        data = (b"<?xml " + declaration + b"?>" if declaration else b"") + root
        data += b"<nachrichtenkopf/>" + end
        if b"xml-shifted" in declaration:
            with pytest.raises(XZuFiRefused, match="declares the encoding 'xml-shifted'"):
                list(TransferMessageReader(data))
            continue
        assert list(TransferMessageReader(data)) == []


def test_utf7_cannot_hide_a_doctype():
    # "+ADw-!DOCTYPE" is "<!DOCTYPE" in UTF-7: refused for its encoding before any parsing
    data = (
        b'<?xml version="1.0" encoding="UTF-7"?>\n'
        b"+ADw-!DOCTYPE m +AFs-+ADw-!ENTITY x SYSTEM +ACI-file:///etc/passwd+ACI-+AD4-+AF0-+AD4-\n"
        b"+ADw-m+AD4-+ACY-x+ADs-+ADw-/m+AD4-"
    )
    with pytest.raises(XZuFiRefused, match="declares the encoding 'UTF-7'") as raised:
        list(TransferMessageReader(data, name="u7.xml"))
    assert "passwd" not in str(raised.value)


@pytest.fixture
def export(tmp_path: Path) -> Path:
    target = tmp_path / "export"
    shutil.copytree(EXPORT, target)
    return target


@pytest.mark.parametrize("case", ["xzufi-2.1.0", "xhtml-page", "html-page", "pdf", "empty"])
def test_the_connector_fails_with_source_not_understood_before_any_batch(export, case):
    data, message = CASES[case]
    (export / "XZUFI20260302060000000000000002.xml").write_bytes(data)
    delivered = []
    connector = XZuFiDirConnector(XZuFiDirConfig(path=str(export), batch_size=1), name="lrs-th")

    def pull() -> None:
        for batch in pull_sync(connector):
            delivered.append(batch)

    with pytest.raises(SourceNotUnderstood) as raised:
        pull()
    assert delivered == []  # the second file is not understood: nothing of the first either
    error = raised.value
    assert error.source == "lrs-th"
    assert error.where is not None
    assert error.where.startswith("XZUFI20260302060000000000000002.xml")
    assert message in str(error)
    assert str(error).startswith("source 'lrs-th', XZUFI20260302060000000000000002.xml")


def test_a_header_only_export_is_a_valid_empty_snapshot(export):
    header_only = (
        b'<?xml version="1.0"?>\n<xzufi:transfer.operation xmlns:xzufi="http://xoev.de/'
        b'schemata/xzufi/2_2_0" xzufiVersion="2.2.0"><xzufi:nachrichtenkopf><xzufi:'
        b"nachrichtUUID>1</xzufi:nachrichtUUID></xzufi:nachrichtenkopf>"
        b"</xzufi:transfer.operation>"
    )
    (export / FIRST).write_bytes(header_only)
    (export / "index.txt").write_text(FIRST + "\n", encoding="utf-8")
    [batch] = pull_sync(XZuFiDirConnector(XZuFiDirConfig(path=str(export)), name="lrs-th"))
    assert batch.complete
    assert batch.changes == ()
    assert batch.rejected == ()


@pytest.mark.parametrize(
    ("index", "found"),
    [
        (HTML_ERROR, "index.txt: is a web page, not a list of file names"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "index.txt: is not UTF-8 text"),
    ],
)
def test_an_index_that_is_no_list_of_names_is_not_understood(export, index, found):
    (export / "index.txt").write_bytes(index)
    connector = XZuFiDirConnector(XZuFiDirConfig(path=str(export)), name="lrs-th")
    with pytest.raises(SourceNotUnderstood, match=found) as raised:
        list(pull_sync(connector))
    assert raised.value.source == "lrs-th"


def test_an_index_served_as_a_maintenance_page_over_http(efa_serve_asgi, export):
    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        body = HTML_ERROR if scope["path"].endswith("index.txt") else b"not found"
        status = 200 if scope["path"].endswith("index.txt") else 404
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": body})

    connector = XZuFiDirConnector(XZuFiDirConfig(path=efa_serve_asgi(app)), name="lrs-th")
    with pytest.raises(SourceNotUnderstood, match="is a web page"):
        list(pull_sync(connector))
