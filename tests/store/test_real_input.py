"""Issue 10, "done when", end to end on both backends: an XZuFi export through ``efa sync``.

A good export is synced; then the same directory holds an XZuFi 2.1.0 message, an XHTML
maintenance page, a header-only message, or 4 of its 10 Zuständigkeiten: each run fails
with exit status 1 and its reason, ``efa status`` shows it, and every record stays live
until ``--allow-shrink`` lets the shrink through.  Zero-filled region keys as editorial
systems write them (``160740000000``, ``160000000000``) are mapped to their Kreis and Land
through the register, and ``efa coverage`` counts the Kreis's Gemeinden.

The exports are written here (not the demo's): one message per directory, made-up
Zuständigkeiten of a Thüringen Onlinedienst.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from efa_core.areas import import_areas
from efa_core.cli import main
from efa_core.ids import Ars
from efa_core.model import Area
from efa_core.store import open_store
from efa_core.testing import isolated_registry

xzufi = pytest.importorskip("efa_xzufi.plugin")

SOURCE = "lrs-th"
NS = "http://xoev.de/schemata/xzufi/2_2_0"
MESSAGE = "XZUFI20261106020000000000000001.xml"
#: Ten Gemeinden of the made-up register below (Saale-Holzland-Kreis 16074).
GEMEINDEN = [f"160745001{n:03d}" for n in range(1, 11)]


def _zustaendigkeit(number: int, area: str) -> str:
    return (
        "<schreibe><zustaendigkeitTransferObjekt>"
        '<uebergeordnetesObjektID schemeAgencyID="S16000" schemeID="Onlinedienst">OD-1'
        "</uebergeordnetesObjektID><zustaendigkeit>"
        f'<id schemeAgencyID="S16000" schemeID="ZustaendigkeitOnlinedienst">Z-{number}</id>'
        '<leistungID schemeAgencyID="S16000" schemeID="Leistung">L-1</leistungID>'
        f"<gebietID>{area}</gebietID><rolle><code>01</code></rolle></zustaendigkeit>"
        "</zustaendigkeitTransferObjekt></schreibe>\n"
    )


def _message(areas: list[str]) -> bytes:
    body = (
        '<schreibe><leistung><id schemeAgencyID="S16000" schemeID="Leistung">L-1</id>'
        "<referenzLeiKa><code>99115005104000</code></referenzLeiKa></leistung></schreibe>\n"
        '<schreibe><onlinedienst><id schemeAgencyID="S16000" schemeID="Onlinedienst">OD-1</id>'
        '<bezeichnung languageCode="de">Wohnsitz anmelden</bezeichnung></onlinedienst>'
        "</schreibe>\n" + "".join(_zustaendigkeit(n, a) for n, a in enumerate(areas, start=1))
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<transfer.operation xmlns="{NS}" '
        f'xzufiVersion="2.2.0">\n<nachrichtenkopf><nachrichtUUID>u-1</nachrichtUUID>'
        f"</nachrichtenkopf>\n{body}</transfer.operation>\n"
    ).encode()


XZUFI_2_1_0 = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b"<xzufi:leistungsverzeichnis.antwort.leistungsbericht.030108 "
    b'xmlns:xzufi="http://xoev.de/schemata/xzufi/2_1_0" xzufiVersion="2.1.0">'
    b"<xzufi:nachrichtenkopf/><xzufi:leistung><xzufi:id>L1</xzufi:id></xzufi:leistung>"
    b"</xzufi:leistungsverzeichnis.antwort.leistungsbericht.030108>\n"
)
XHTML_PAGE = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<html xmlns="http://www.w3.org/1999/xhtml">'
    b"<head><title>Wartung</title></head><body><p>Wartungsarbeiten bis 6 Uhr</p></body></html>"
)
HEADER_ONLY = (
    f'<?xml version="1.0"?><transfer.operation xmlns="{NS}" xzufiVersion="2.2.0">'
    "<nachrichtenkopf><nachrichtUUID>u-2</nachrichtUUID></nachrichtenkopf>"
    "</transfer.operation>"
).encode()


@pytest.fixture
def project(tmp_path: Path, store_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("EFA_DB", raising=False)
    monkeypatch.delenv("EFA_CONFIG", raising=False)
    export = tmp_path / "export"
    export.mkdir()
    (export / "index.txt").write_text(MESSAGE + "\n", encoding="utf-8")
    (export / MESSAGE).write_bytes(_message(GEMEINDEN))
    (tmp_path / "efa.toml").write_text(
        f"[store]\nurl = {json.dumps(store_url)}\n\n"
        f'[connectors.{SOURCE}]\ntype = "xzufi-dir"\npath = "export"\n',
        encoding="utf-8",
    )
    return tmp_path


def efa(*args: str) -> tuple[int, str]:
    registry = isolated_registry()
    registry.register(xzufi, name="xzufi")
    result = CliRunner().invoke(main, list(args), obj=registry, catch_exceptions=False)
    return result.exit_code, result.output


def live(store_url: str) -> list[str]:
    with open_store(store_url) as store:
        return sorted(str(r.payload["ars"]) for r in store.records(SOURCE, "responsibility"))


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (XZUFI_2_1_0, "is an XZuFi 2.1.0 message"),
        (XHTML_PAGE, "is a web page (root element <html>"),
        (HEADER_ONLY, "the snapshot delivered no records, but the store holds 12 live records"),
    ],
    ids=["xzufi-2.1.0", "xhtml-page", "header-only"],
)
def test_an_export_not_understood_after_a_good_run_deletes_nothing(
    project: Path, store_url: str, content: bytes, reason: str
) -> None:
    code, out = efa("sync")
    assert code == 0, out
    assert live(store_url) == GEMEINDEN
    (project / "export" / MESSAGE).write_bytes(content)
    code, out = efa("sync")
    assert code == 1
    assert reason in out
    assert live(store_url) == GEMEINDEN
    code, out = efa("status", "--json")
    [state] = json.loads(out)
    assert state["last_run"]["status"] == "failed"
    assert reason in state["last_run"]["error"]
    assert state["live_records"] == 12  # ten Zuständigkeiten, the Onlinedienst, the Leistung


def test_a_sixty_percent_shrink_is_refused_unless_allowed(project: Path, store_url: str) -> None:
    areas = [f"160745001{n:03d}" for n in range(1, 24)]
    (project / "export" / MESSAGE).write_bytes(_message(areas))
    assert efa("sync")[0] == 0  # 23 Zuständigkeiten, the Onlinedienst, the Leistung: 25
    (project / "export" / MESSAGE).write_bytes(_message(areas[:8]))  # 15 of 25 gone: 60 %
    refusal = (
        "the snapshot would delete 15 of 25 live records (60%), more than max_delete_share "
        "= 0.5 allows; nothing was deleted"
    )
    code, out = efa("sync", "--dry-run")
    assert code == 1
    assert refusal in out
    code, out = efa("sync")
    assert code == 1
    assert refusal in out
    assert f"run 'efa sync --allow-shrink {SOURCE}' once" in out
    assert live(store_url) == sorted(areas)
    code, out = efa("status")
    assert refusal in out
    code, out = efa("sync", "--allow-shrink", SOURCE, "--json")
    assert code == 0, out
    [report] = json.loads(out)["sources"]
    assert (report["status"], report["deleted"]) == ("succeeded", 15)
    assert live(store_url) == sorted(areas[:8])


#: A made-up register: the Land, the Saale-Holzland-Kreis with ten Gemeinden, Jena.
REGISTER = [
    Area(ars=Ars("16"), name="Thüringen", population=120_000),
    Area(ars=Ars("16074"), name="Saale-Holzland-Kreis", parent=Ars("16"), population=10_000),
    Area(ars=Ars("160745001"), name="VG Holzland", parent=Ars("16074"), population=10_000),
    *(
        Area(ars=Ars(code), name=f"Gemeinde {n}", parent=Ars("160745001"), population=1000)
        for n, code in enumerate(GEMEINDEN, start=1)
    ),
    Area(ars=Ars("16053"), name="Jena", parent=Ars("16"), population=110_000),
    Area(ars=Ars("160530000000"), name="Jena, Stadt", parent=Ars("16053"), population=110_000),
]


def test_zero_filled_keys_count_the_gemeinden_of_their_area(project: Path, store_url: str) -> None:
    # the editorial system names the Kreis and the Land zero-filled, Jena by its Gemeinde key
    (project / "export" / MESSAGE).write_bytes(
        _message(["160740000000", "160000000000", "160530000000"])
    )
    assert efa("sync")[0] == 0
    code, out = efa("coverage", "--json", "--stage", "published", "--within", "16074")
    assert code == 0, out
    [report] = json.loads(out)
    # without a register nothing is guessed: the key counts as written, and a finding says so
    assert report["total"]["gemeinden"] == 1
    code, out = efa("findings")
    assert "160740000000" in out
    assert "Gemeindeverzeichnis importieren (efa areas import)" in out
    with open_store(store_url) as store:
        import_areas(store, REGISTER)
    # the register arrived: a re-derive decides, nothing is synced again
    code, out = efa("coverage", "--json", "--stage", "published", "--within", "16074")
    assert code == 0, out
    [report] = json.loads(out)
    published = report["total"]["reached"]["published"]
    assert (published["gemeinden"], published["population"]) == (10, 10_000)
    code, out = efa("coverage", "--json", "--stage", "published", "--within", "16")
    [report] = json.loads(out)
    assert report["total"]["reached"]["published"]["gemeinden"] == 11  # the Land: all
