"""Every object of a feed page is accounted for; a page that is no XZuFi message fails.

The pages are messages of this test's own making, shaped like the Bereitstelldienst sends
them: one minified XZuFi string per page, mixed prefixes, objects the connector does not
map (Leistungen, Onlinedienste, OEs, Spezialisierungen, Formulare), deletes of every class,
an empty ``schreibe``, an element beside the entries, a bad area among good ones.  A small
ASGI app serves them with a token endpoint; the counts come from lxml, not from efa-xzufi.
"""

from __future__ import annotations

import json
import urllib.parse
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from efa_pvog import PvogConfig, PvogConnector
from lxml import etree

from efa_core.connectors import pull_sync
from efa_core.errors import SourceNotUnderstood
from efa_core.http import HttpSettings
from efa_core.secret import Secret
from efa_core.testing.accounting import assert_accounted

FEED = "/bereitstelldienst/api/v2/verwaltungsobjekte"
NS = "http://xoev.de/schemata/xzufi/2_2_0"


def _message(body: str, prefix: str = "x") -> str:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><{prefix}:transfer.operation '
        f'xmlns:{prefix}="{NS}" xzufiVersion="2.2.0" produktbezeichnung="PVOG">'
        f"<{prefix}:nachrichtenkopf><{prefix}:nachrichtUUID>u</{prefix}:nachrichtUUID>"
        f"</{prefix}:nachrichtenkopf>{body}</{prefix}:transfer.operation>"
    )


def _zto(zid: str, leistung: str, *areas: str, target: str = "OD-1") -> str:
    gebiete = "".join(f"<x:gebietID>{a}</x:gebietID>" for a in areas)
    return (
        "<x:schreibe><x:zustaendigkeitTransferObjekt>"
        f'<x:uebergeordnetesObjektID schemeAgencyID="S16000" schemeID="Onlinedienst">{target}'
        "</x:uebergeordnetesObjektID><x:zustaendigkeit>"
        f'<x:id schemeAgencyID="S16000" schemeID="ZustaendigkeitOnlinedienst">{zid}</x:id>'
        f'<x:leistungID schemeAgencyID="S16000" schemeID="Leistung">{leistung}</x:leistungID>'
        f"{gebiete}<x:rolle><code>01</code></x:rolle></x:zustaendigkeit>"
        "</x:zustaendigkeitTransferObjekt></x:schreibe>"
    )


def _loesche(klasse: str, *ids: str) -> str:
    inner = "".join(f'<x:id schemeAgencyID="S16000" schemeID="{klasse}">{i}</x:id>' for i in ids)
    return f'<x:loesche klasse="{klasse}">{inner}</x:loesche>'


PAGES = [
    _message(
        '<x:schreibe><x:leistung><x:id schemeAgencyID="S16000" schemeID="Leistung">L-1</x:id>'
        "<x:referenzLeiKa><code>99115005104000</code></x:referenzLeiKa></x:leistung></x:schreibe>"
        '<x:schreibe><x:leistung><x:id schemeAgencyID="S16000" schemeID="Leistung">L-KAPUTT'
        "</x:id><x:referenzLeiKa><code>991150051</code></x:referenzLeiKa></x:leistung>"
        "</x:schreibe>"
        '<x:schreibe><x:onlinedienst><x:id schemeAgencyID="S16000" schemeID="Onlinedienst">'
        'OD-1</x:id><x:bezeichnung languageCode="de">Anmeldung</x:bezeichnung></x:onlinedienst>'
        "</x:schreibe>"
        + _zto("Z-1", "L-1", "160550000000", "1605", "16055")
        + _zto("Z-2", "L-KAPUTT", "16055")
        + '<x:schreibe><x:organisationseinheit><x:id schemeAgencyID="S16000" '
        'schemeID="Organisationseinheit">OE-1</x:id><x:zustaendigkeit><x:leistungID '
        'schemeAgencyID="S16000" schemeID="Leistung">L-1</x:leistungID><x:gebietID>160510000000'
        "</x:gebietID><x:gebietID>x</x:gebietID></x:zustaendigkeit></x:organisationseinheit>"
        "</x:schreibe>"
        + _loesche("Zustaendigkeit", "Z-0", "Z-00")
        + _loesche("Onlinedienst", "OD-0")
    ),
    _message(
        '<x:schreibe><x:spezialisierung><x:id schemeAgencyID="S16000" schemeID="Spezialisierung">'
        "SP-1</x:id></x:spezialisierung></x:schreibe>"
        '<x:schreibe><x:formular><x:id schemeAgencyID="S16000" schemeID="Formular">F-1</x:id>'
        "</x:formular></x:schreibe><x:schreibe/><x:hinweis>Teillieferung</x:hinweis>"
        + _zto("Z-3", "L-1", "16")
        + _zto("Z-4", "L-UNBEKANNT", "16", "15")
        + _loesche("LeistungSpezialisierung", "SP-0")
        + _loesche("Leistung", "L-0")
    ),
    "",  # an empty last page
]

_HEADER = {"nachrichtenkopf", "transaktionID", "transaktionPosition"}
_KINDS = {
    "leistung": "leistung",
    "onlinedienst": "onlinedienst",
    "organisationseinheit": "organisationseinheit",
    "spezialisierung": "spezialisierung",
    "formular": "formular",
}


def count_input(pages: list[str]) -> tuple[Counter[str], int]:
    """Count the objects of the pages per kind with lxml; also the Zuständigkeit deletes."""
    counts: Counter[str] = Counter()
    deletes = 0
    for page in pages:
        if not page:
            continue
        root = etree.fromstring(page.encode())
        for child in root:
            local = etree.QName(child).localname
            if local in _HEADER:
                continue
            if local == "loesche":
                ids = len(child.findall("{*}id"))
                if child.get("klasse") == "Zustaendigkeit":
                    deletes += ids
                else:
                    counts["loesche"] += ids
                continue
            if local != "schreibe":
                counts[local] += 1
                continue
            objects = [c for c in child if isinstance(c.tag, str)]
            if not objects:
                counts["schreibe"] += 1
            for obj in objects:
                kind = etree.QName(obj).localname
                for zustaendigkeit in obj.findall("{*}zustaendigkeit"):
                    areas = {g.text for g in zustaendigkeit.findall("{*}gebietID")}
                    counts["responsibility"] += max(1, len(areas))
                if kind != "zustaendigkeitTransferObjekt":
                    counts[_KINDS.get(kind, kind)] += 1
    return counts, deletes


def feed_app(pages: list[str]) -> Callable[..., Any]:
    """A Bereitstelldienst serving *pages* (index = page number), with a token endpoint."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        if scope["path"] == "/token":
            body: dict[str, Any] = {"access_token": "t", "token_type": "Bearer", "expires_in": 600}
        else:
            query = urllib.parse.parse_qs(scope["query_string"].decode())
            index = int(query.get("index", ["0"])[0])
            body = {
                "xzufiObjekte": pages[index],
                "vollstaendig": index == len(pages) - 1,
                "naechsterIndex": index + 1,
            }
        payload = json.dumps(body).encode()
        headers = [(b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": payload})

    return app


def connector(base_url: str) -> PvogConnector:
    config = PvogConfig(
        base_url=base_url,
        auth_url=base_url + "/token",
        client_id="efa",
        client_secret=Secret("accounting-secret"),
        follow_next_url=False,
        http=HttpSettings(initial_backoff=0, max_backoff=0),
    )
    return PvogConnector(config, name="pvog-test")


def test_every_object_of_the_feed_is_accounted_for(efa_serve_asgi) -> None:
    expected, deletes = count_input(PAGES)
    assert expected == {
        "responsibility": 9,
        "leistung": 2,
        "onlinedienst": 1,
        "organisationseinheit": 1,
        "spezialisierung": 1,
        "formular": 1,
        "loesche": 3,
        "schreibe": 1,
        "hinweis": 1,
    }
    accounting = assert_accounted(connector(efa_serve_asgi(feed_app(PAGES))), expected)
    assert accounting.deleted == {"responsibility": deletes}
    # one bad area of Z-1, one of OE-1's, Z-2 (invalid Leistung), both areas of Z-4
    assert accounting.quarantined == {"responsibility": 5}
    assert accounting.stored == {"responsibility": 4}


@pytest.mark.parametrize(
    ("page", "found"),
    [
        (
            '<html xmlns="http://www.w3.org/1999/xhtml"><body>Wartung</body></html>',
            "is a web page",
        ),
        (
            '<?xml version="1.0"?><x:leistungsverzeichnis.antwort.leistungsbericht.030108 '
            'xmlns:x="http://xoev.de/schemata/xzufi/2_1_0"><x:nachrichtenkopf/>'
            "</x:leistungsverzeichnis.antwort.leistungsbericht.030108>",
            "is an XZuFi 2.1.0 message",
        ),
    ],
)
def test_a_page_that_is_no_xzufi_message_fails_the_pull(efa_serve_asgi, page, found) -> None:
    base_url = efa_serve_asgi(feed_app([PAGES[0], page, ""]))
    delivered: list[object] = []

    def pull() -> None:
        for batch in pull_sync(connector(base_url)):
            delivered.append(batch)

    with pytest.raises(SourceNotUnderstood) as raised:
        pull()
    assert len(delivered) == 1  # the good first page; the cursor stays before the bad one
    assert raised.value.source == "pvog-test"
    assert raised.value.where == "feed page index=1"
    assert found in str(raised.value)
