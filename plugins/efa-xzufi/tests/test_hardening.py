"""Hostile and broken input is refused with a clear error and bounded memory."""

from __future__ import annotations

import io

import pytest
from efa_xzufi import (
    Limits,
    TransferMessageReader,
    XZuFiFormatError,
    XZuFiRefused,
    parse_transfer_message,
)
from efa_xzufi._xml import iter_entries

from efa_core.connectors import Skipped

NS = 'xmlns="http://xoev.de/schemata/xzufi/2_2_0"'


def read(data: bytes, limits: Limits | None = None):
    return list(TransferMessageReader(data, name="evil.xml", limits=limits or Limits()))


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE m [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<m><schreibe><leistung><id a="&lol9;">&lol9;</id></leistung></schreibe></m>
"""


def test_billion_laughs_is_refused_at_the_doctype():
    with pytest.raises(XZuFiRefused) as raised:
        read(BILLION_LAUGHS)
    message = str(raised.value)
    assert message.startswith("evil.xml:line 2: contains a document type declaration")
    assert raised.value.line == 2


def test_external_entities_are_never_read(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-4711", encoding="utf-8")
    xxe = (
        f'<?xml version="1.0"?>\n<!DOCTYPE m [<!ENTITY x SYSTEM "file://{secret}">]>\n'
        f"<m {NS}><schreibe><leistung><id>&x;</id></leistung></schreibe></m>"
    ).encode()
    with pytest.raises(XZuFiRefused, match="document type declaration") as raised:
        read(xxe)
    assert "TOP-SECRET" not in str(raised.value)


def test_network_entities_are_never_fetched(efa_serve_asgi):
    hits: list[str] = []

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        hits.append(scope["path"])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"<x>FETCHED</x>"})

    base = efa_serve_asgi(app)
    for doctype in (
        f'<!DOCTYPE m [<!ENTITY x SYSTEM "{base}/entity">]>',
        f'<!DOCTYPE m SYSTEM "{base}/dtd">',
        f'<!DOCTYPE m PUBLIC "-//X//Y" "{base}/public">',
    ):
        data = f"<?xml version='1.0'?>{doctype}<m {NS}><schreibe/></m>".encode()
        with pytest.raises(XZuFiRefused, match="document type declaration"):
            read(data)
    assert hits == []


def test_doctype_after_comments_is_found():
    data = b"<?xml version='1.0'?>\n<!-- a comment -->\n<!-- another -->\n<!DOCTYPE m>\n<m/>"
    with pytest.raises(XZuFiRefused) as raised:
        read(data)
    assert raised.value.line == 4


def test_deep_nesting_is_refused_by_the_parser_limit():
    depth = 5000
    data = (
        f"<m {NS}><schreibe><leistung>".encode()
        + b"<a>" * depth
        + b"</a>" * depth
        + b"</leistung></schreibe></m>"
    )
    with pytest.raises(XZuFiRefused, match="depth") as raised:
        read(data)
    assert str(raised.value).startswith("evil.xml:line 1: ")


def test_configured_max_depth_applies_to_kept_objects():
    nested = b"<a>" * 20 + b"x" + b"</a>" * 20
    data = (
        f"<m {NS}><schreibe><spezialisierung>".encode()
        + nested
        + (b"</spezialisierung></schreibe></m>")
    )
    assert len(read(data)) == 1  # fine with the default limit (48)
    with pytest.raises(XZuFiRefused, match=r"deeper than 10 levels \(max_depth\)"):
        read(data, Limits(max_depth=10))


def test_oversized_text_is_refused():
    big = b"x" * (300 * 1024)
    data = (
        f"<m {NS}>\n<schreibe><leistung><id>L</id>\n<beschreibung>".encode()
        + big
        + (b"</beschreibung></leistung></schreibe></m>")
    )
    with pytest.raises(XZuFiRefused, match=r"longer than 200000 characters") as raised:
        read(data, Limits(max_text_chars=200_000))
    assert raised.value.line == 3
    # a text in a Zuständigkeit (read only three levels deep) is caught as well
    zto = (
        f"<m {NS}><schreibe><zustaendigkeitTransferObjekt><x>".encode()
        + big
        + (b"</x></zustaendigkeitTransferObjekt></schreibe></m>")
    )
    with pytest.raises(XZuFiRefused, match="max_text_chars"):
        read(zto, Limits(max_text_chars=200_000))


def test_oversized_entry_is_refused_while_reading():
    chunk = b"<x>" + b"y" * 1000 + b"</x>"
    data = f"<m {NS}><schreibe><leistung>".encode() + chunk * 2000 + (b"</leistung></schreibe></m>")
    with pytest.raises(XZuFiRefused, match=r"max_entry_bytes"):
        read(data, Limits(max_entry_bytes=1024 * 1024))


def test_oversized_file_is_refused():
    data = f"<m {NS}>".encode() + b"<schreibe/>" * 100_000 + b"</m>"
    with pytest.raises(XZuFiRefused, match=r"larger than the limit of 500000 bytes"):
        read(data, Limits(max_file_bytes=500_000))


def test_not_well_formed_names_file_and_line():
    data = f"<m {NS}>\n<schreibe>\n<leistung></schreibe>\n</m>".encode()
    with pytest.raises(XZuFiFormatError) as raised:
        read(data)
    assert str(raised.value).startswith("evil.xml:line 3: not well-formed XML")


def test_utf16_and_empty_input_are_format_errors(tmp_path):
    with pytest.raises(XZuFiFormatError, match="UTF-16"):
        read(f"<m {NS}/>".encode("utf-16"))
    with pytest.raises(XZuFiFormatError):
        read(b"")
    with pytest.raises(XZuFiFormatError, match="does not exist"):
        list(TransferMessageReader(tmp_path / "nope.xml"))


def test_memory_stays_flat_entries_are_cleared():
    data = f"<m {NS}>".encode() + b"<schreibe><leistung><id>L</id></leistung></schreibe>" * 5000
    data += b"</m>"
    sizes = []
    from efa_xzufi._xml import _DELETE_EVERY

    for element in iter_entries(io.BytesIO(data)):
        # earlier entries are cleared and deleted in bulk: at most _DELETE_EVERY of them
        # stay, all empty; only the parser's read-ahead follows
        earlier = list(element.itersiblings(preceding=True))
        assert len(earlier) < _DELETE_EVERY
        assert all(len(e) == 0 for e in earlier)
        sizes.append(len(element.getparent()))
    assert len(sizes) == 5000
    assert max(sizes) < 1000


def test_limits_validate():
    with pytest.raises(ValueError, match="max_depth"):
        Limits(max_depth=0)
    with pytest.raises(ValueError, match="at least 131072"):
        Limits(max_text_chars=1000)


def test_comments_and_processing_instructions_are_dropped():
    data = (
        f"<?xml version='1.0'?><?pi x?><!-- c --><m {NS}><schreibe><!-- c --><?pi y?>"
        '<leistung><id schemeAgencyID="A" schemeID="Leistung">L1</id><referenzLeiKa>'
        "<code>99115005104000</code></referenzLeiKa></leistung></schreibe></m>"
    ).encode()
    [leistung] = read(data)
    assert leistung.id.value == "L1"
    [skipped] = parse_transfer_message(data, raw_objects=False)
    assert isinstance(skipped, Skipped)
    assert skipped.kind == "leistung"
    [kept] = parse_transfer_message(data)
    assert kept.record.xml.startswith("<leistung")
    assert "<!--" not in kept.record.xml
    assert "<?pi" not in kept.record.xml
