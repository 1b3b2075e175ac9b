"""Exports shaped like real editorial systems write them (fixtures/messy-export).

The export of a made-up Landesredaktion Brandenburg, three files listed in an ``index.txt``
with a BOM, a comment, a blank line and CRLF line ends:

* ``…4711.xml``: XZuFi 2.2.0, UTF-8 with BOM, minified (everything on line 2), prefix
  ``ns2`` with a second prefix for the same namespace, names in several languages
  (``languageCode`` and ``xml:lang``, ``de-DE``, ``de-AT``, ``en``, ``pl``), HTML in CDATA,
  a ``<signatur>`` beside the entries, an empty ``schreibe``, a Leistung with a mistyped
  LeiKa key, bad areas among good ones, a Zuständigkeit written then deleted, one deleted
  then written, a Zuständigkeit and a Spezialisierung that file 2 writes again;
* ``…4712.xml``: XZuFi 2.3.1, ISO-8859-1, CRLF, pretty-printed, a comment before the root,
  the Leistung a Zuständigkeit of file 1 refers to, ``versionsinformation`` on the
  transfer object;
* ``…4713.xml``: a header-only message (a valid, empty part of the export).
"""

from __future__ import annotations

import shutil
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import pytest
from efa_xzufi import DEFAULT_LIMITS, TransferMessageReader
from efa_xzufi.connector import XZuFiDirConfig, XZuFiDirConnector
from lxml import etree

from efa_core.connectors import Upsert, pull_sync
from efa_core.ids import Ars
from efa_core.model import OrganisationUnit, Responsibility, Service, XZuFiObject
from efa_core.testing.accounting import assert_accounted

MESSY = Path(__file__).parent / "fixtures" / "messy-export"
FILE_1 = "XZUFI20261105020000000000004711.xml"
FILE_2 = "XZUFI20261105020000000000004712.xml"


def make(path: Path, **options: object) -> XZuFiDirConnector:
    return XZuFiDirConnector(XZuFiDirConfig(path=str(path), **options), name="lrs-bb")


@pytest.fixture
def messy(tmp_path: Path) -> Path:
    target = tmp_path / "export"
    shutil.copytree(MESSY, target)
    return target


def pulled(connector: XZuFiDirConnector):
    batches = list(pull_sync(connector))
    upserts = {c.key: c.record for b in batches for c in b.changes if isinstance(c, Upsert)}
    rejected = [r for b in batches for r in b.rejected]
    skipped = [s for b in batches for s in b.skipped]
    return batches, upserts, rejected, skipped


# -- counting the input independently (lxml, not efa-xzufi) ---------------------------------

_HEADER = {"nachrichtenkopf", "transaktionID", "transaktionPosition"}


def _areas(zustaendigkeit: etree._Element) -> int:
    """Responsibilities of one Zuständigkeit: its distinct areas (at least one)."""
    texts = {
        (g.text or "").strip().rpartition(":")[2] for g in zustaendigkeit.findall("{*}gebietID")
    }
    return max(1, len(texts))


def count_input(directory: Path, *, snapshot_kinds: bool = True) -> Counter[str]:
    """Count the input objects of an export per kind, the way the test reads the files."""
    lines = (directory / "index.txt").read_text(encoding="utf-8-sig").splitlines()
    names = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    counts: Counter[str] = Counter()
    for name in names:
        root = etree.parse(str(directory / name)).getroot()
        for child in root:
            local = etree.QName(child).localname
            if local in _HEADER:
                continue
            if local == "loesche":
                counts["loesche"] += len(child.findall("{*}id"))
                continue
            if local != "schreibe":
                counts[local] += 1  # an element beside the entries
                continue
            objects = [c for c in child if isinstance(c.tag, str)]
            if not objects:
                counts["schreibe"] += 1
            for obj in objects:
                kind = etree.QName(obj).localname
                for zustaendigkeit in obj.findall("{*}zustaendigkeit"):
                    counts["responsibility"] += _areas(zustaendigkeit)
                if kind == "zustaendigkeitTransferObjekt":
                    if not obj.findall("{*}zustaendigkeit"):
                        counts["responsibility"] += 1
                elif kind == "organisationseinheit":
                    counts["organisation-unit"] += 1
                elif kind == "onlinedienst":
                    counts["service"] += 1
                else:
                    counts["xzufi-object"] += 1
    return counts


def test_every_object_of_the_messy_export_is_accounted_for(messy):
    expected = count_input(messy)
    assert expected == {
        "responsibility": 14,
        "xzufi-object": 7,
        "service": 3,
        "organisation-unit": 1,
        "loesche": 3,
        "schreibe": 1,
        "signatur": 1,
    }
    accounting = assert_accounted(make(messy, batch_size=4), expected)
    assert accounting.quarantined == {"responsibility": 4, "xzufi-object": 2}
    assert accounting.skipped == {"responsibility": 1, "loesche": 3, "schreibe": 1, "signatur": 1}


def test_accounted_with_kinds_switched_off(messy):
    counts = count_input(messy)
    # switched off, the objects are skipped under their XZuFi names
    expected = {
        "responsibility": counts["responsibility"],
        "leistung": 4,
        "spezialisierung": 2,
        "formular": 1,
        "onlinedienst": 3,
        "organisationseinheit": 1,
        "loesche": 3,
        "schreibe": 1,
        "signatur": 1,
    }
    connector = make(messy, services=False, organisation_units=False, raw_objects=False)
    assert_accounted(connector, expected)


def test_names_in_several_languages_and_with_html(messy):
    _, upserts, _, _ = pulled(make(messy))
    assert upserts["S12000_Onlinedienst_OD-AUSWEIS"].name == "Online-Ausweis & Adresse ändern"
    # only English and Polish: the first one
    assert upserts["S12000_Onlinedienst_OD-MELDE"].name == "Registration certificate"
    # variants as children carrying languageCode
    assert upserts["S12000_Onlinedienst_OD-SPAET"].name == "Wohnsitz anmelden - Gemeinde Panketal"
    unit = upserts["S12000_Organisationseinheit_OE-PANKETAL"]
    assert isinstance(unit, OrganisationUnit)
    assert unit.name == "Bürgerservice Panketal"  # "de" before "de-AT"
    leistung = next(iter(TransferMessageReader(MESSY / FILE_1, kinds=frozenset({"leistung"}))))
    assert leistung.name == "Personalausweis Änderung wegen Adressänderung"  # de-DE, xml:lang


def test_language_option_chooses_another_language(messy):
    _, upserts, _, _ = pulled(make(messy, language="en"))
    assert upserts["S12000_Onlinedienst_OD-AUSWEIS"].name == "Online identity card service"
    assert upserts["S12000_Organisationseinheit_OE-PANKETAL"].name == "Panketal citizens office"
    _, upserts, _, _ = pulled(make(messy, language="pl"))
    assert upserts["S12000_Onlinedienst_OD-MELDE"].name == "Zaswiadczenie o zameldowaniu"
    with pytest.raises(ValueError, match="language must be a language code"):
        make(messy, language="Deutsch!")


def test_a_bad_area_rejects_that_responsibility_alone(messy):
    _, upserts, rejected, _ = pulled(make(messy))
    z10 = sorted(str(r.ars) for k, r in upserts.items() if "Onlinedienst_Z-10#" in k)
    assert z10 == ["120600181181", "120605003154"]  # two of three areas
    [bad] = [r for r in rejected if "gebietID[2]" in r.problems[0][0]]
    assert bad.kind == "responsibility"
    assert bad.problems[0] == (
        "zustaendigkeitTransferObjekt/zustaendigkeit/gebietID[2]",
        "ARS '12060018118' has 11 digits; an ARS has 2, 3, 5, 9 or 12 digits",
    )
    # minified: the line alone would not tell, so the position names the entry
    assert bad.position == f"{FILE_1}:line 2, entry 7"
    # the quarantine keeps the Zuständigkeit with its target and just the bad area
    assert "OD-AUSWEIS" in bad.raw
    assert "12060018118" in bad.raw
    assert "120605003154" not in bad.raw


def test_a_bad_embedded_area_keeps_the_organisation_unit_and_its_other_areas(messy):
    _, upserts, rejected, _ = pulled(make(messy))
    assert "S12000_Organisationseinheit_OE-PANKETAL" in upserts
    embedded = sorted(
        (str(r.leika_key), str(r.ars))
        for r in upserts.values()
        if isinstance(r, Responsibility) and r.responsibility_id is None
    )
    assert embedded == [
        ("99008001011001", "12060"),
        ("99008001011001", "120600181181"),
        ("99115003012000", "120600181181"),
    ]
    [empty] = [r for r in rejected if r.problems[0][0].startswith("organisationseinheit/")]
    assert empty.problems[0] == (
        "organisationseinheit/zustaendigkeit[2]/gebietID",
        "ARS '' is empty; an ARS has 2, 3, 5, 9 or 12 digits",
    )
    assert "OE-PANKETAL" in empty.raw


def test_a_leistung_named_in_a_later_file_resolves(messy):
    _, upserts, _, _ = pulled(make(messy))
    z15 = upserts["S12000_ZustaendigkeitOrganisationseinheit_Z-15"]
    assert str(z15.leika_key) == "99115005104000"  # L-SPAET is in file 2


def test_duplicate_ids_the_later_wins_the_earlier_is_quarantined(messy):
    batches, upserts, rejected, _ = pulled(make(messy))
    # the run report counts them
    assert batches[-1].warnings == (
        "2 duplicate id(s): the earlier copies were quarantined, the later ones kept",
        "1 object(s) written and deleted again within the export: left out of the snapshot",
    )
    assert all(not b.warnings for b in batches[:-1])
    z11 = upserts["S12000_ZustaendigkeitOnlinedienst_Z-11"]
    assert z11.role == "02"  # the copy in file 2
    assert z11.modified_at == datetime(2026, 11, 4, 17, 45, tzinfo=timezone.utc)
    duplicates = sorted(
        (r.kind, r.position, r.problems[0][1]) for r in rejected if r.problems[0][0] == "id"
    )
    assert duplicates == [
        (
            "responsibility",
            f"{FILE_1}:line 2, entry 8",
            "duplicate id 'S12000_ZustaendigkeitOnlinedienst_Z-11': also at "
            f"{FILE_2}:line 21, which replaces it",
        ),
        (
            "xzufi-object",
            f"{FILE_1}:line 2, entry 14",
            f"duplicate id 'S12000_Spezialisierung_SP-1': also at {FILE_2}:line 51, which "
            "replaces it",
        ),
    ]
    spezialisierung = upserts["spezialisierung:S12000_Spezialisierung_SP-1"]
    assert isinstance(spezialisierung, XZuFiObject)
    assert "Version 2, überarbeitet" in spezialisierung.xml


def test_write_and_delete_in_one_export_the_later_operation_wins(messy):
    batches, upserts, _, skipped = pulled(make(messy))
    assert not [c for b in batches for c in b.changes if not isinstance(c, Upsert)]
    assert "S12000_ZustaendigkeitOnlinedienst_Z-12" not in upserts  # written, then deleted
    assert "S12000_ZustaendigkeitOnlinedienst_Z-13" in upserts  # deleted, then written
    [gone] = [s for s in skipped if s.kind == "responsibility"]
    assert gone.reason == "written, then deleted by a later loesche in the same export"
    assert gone.position == f"{FILE_1}:line 2, entry 9"


def test_services_get_the_keys_of_kept_zustaendigkeiten_only(messy):
    _, upserts, _, _ = pulled(make(messy))
    melde = upserts["S12000_Onlinedienst_OD-MELDE"]
    assert isinstance(melde, Service)
    # Z-11 (kept copy), Z-13; Z-12 was deleted again, Z-14 rejected: all L-MELDE anyway
    assert [str(k) for k in melde.leika_keys] == ["99115003012000"]
    assert str(upserts["S12000_Onlinedienst_OD-SPAET"].leika_keys[0]) == "99115005104000"


def test_the_same_export_twice_gives_the_same_batches(messy):
    first = list(pull_sync(make(messy, batch_size=3)))
    again = list(pull_sync(make(messy, batch_size=3)))
    assert first == again
    keys = [c.key for b in first for c in b.changes]
    assert len(keys) == len(set(keys))  # no key twice in one snapshot


def test_a_cursor_resumes_the_resolved_snapshot(messy):
    batches = list(pull_sync(make(messy, batch_size=3)))
    resumed = list(pull_sync(make(messy, batch_size=3), batches[2].cursor))
    assert resumed == batches[3:]


def test_the_header_only_file_is_a_valid_empty_message():
    reader = TransferMessageReader(MESSY / "XZUFI20261105020000000000004713.xml")
    assert list(reader) == []
    assert reader.info is not None
    assert reader.info.version == "2.3.1"


def test_latin1_and_crlf_are_read(messy):
    _, upserts, _, _ = pulled(make(messy))
    z20 = upserts["S12000_ZustaendigkeitOnlinedienst_Z-20"]
    assert z20.ars == Ars("120600181181")
    assert z20.target_id == "S12000_Onlinedienst_OD-SPAET"


def test_positions_in_pretty_files_stay_plain_lines():
    rejected = [
        item
        for item in TransferMessageReader(
            b'<m xmlns="http://xoev.de/schemata/xzufi/2_2_0">\n<nachrichtenkopf/>\n'
            b"<schreibe><zustaendigkeitTransferObjekt><zustaendigkeit><gebietID>1"
            b"</gebietID></zustaendigkeit></zustaendigkeitTransferObjekt></schreibe>\n"
            b"<schreibe><leistung><id>L</id></leistung></schreibe>\n</m>",
            name="p.xml",
        )
        if type(item).__name__ == "InvalidObject"
    ]
    assert [r.position for r in rejected] == ["p.xml:line 3"]


def test_elements_beside_the_entries_are_found_anywhere_in_a_long_message():
    leistung = (
        '<schreibe><leistung><id schemeAgencyID="A" schemeID="Leistung">L{n}</id>'
        "<referenzLeiKa><code>99115005104000</code></referenzLeiKa></leistung></schreibe>"
    )
    body = "".join(
        leistung.format(n=n) + ("<anmerkung>x</anmerkung>" if n in (3, 100, 199) else "")
        for n in range(200)
    )
    data = (
        '<m xmlns="http://xoev.de/schemata/xzufi/2_2_0"><nachrichtenkopf/><transaktionID>1'
        f"</transaktionID>{body}</m>"
    ).encode()
    items = list(TransferMessageReader(data, name="lang.xml"))
    strays = [i for i in items if type(i).__name__ == "SkippedEntry"]
    assert [s.kind for s in strays] == ["anmerkung"] * 3
    assert len(items) == 203


def test_the_survey_keeps_eight_bytes_per_object(tmp_path):
    """Duplicate detection holds a hash per object, never the ids (tracemalloc)."""
    import tracemalloc

    from efa_xzufi.snapshot import _survey
    from efa_xzufi.testing import generate_transfer_message

    peaks = []
    for size in (4_000, 20_000):
        path = tmp_path / f"g{size}.xml"
        catalogue = {"n_leistungen": 50, "n_onlinedienste": 5, "n_organisationseinheiten": 5}
        generate_transfer_message(path, size, **catalogue)
        tracemalloc.start()
        survey = _survey([(path, path.name)], DEFAULT_LIMITS)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
        assert survey.duplicates == {}
    per_object = (peaks[1] - peaks[0]) / 16_000
    assert per_object < 24, f"{per_object:.1f} bytes per object"
