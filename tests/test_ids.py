"""Tests for efa_core.ids: value types, error messages, hierarchy, properties."""

from __future__ import annotations

import ast
import csv
import os
import pickle
from pathlib import Path

import attrs
import cattrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

import efa_core.ids
from efa_core.errors import InvalidIdentifier
from efa_core.ids import (
    AGS_URN_PREFIX,
    ARS_URN_PREFIX,
    LAND_URN_PREFIX,
    LEIKA_URN_PREFIX,
    Ags,
    Ars,
    ArsLevel,
    Land,
    LeikaKey,
    OzgId,
)

LAND_CODES = [f"{n:02d}" for n in range(1, 17)]


def digits(n: int) -> st.SearchStrategy[str]:
    return st.text(alphabet="0123456789", min_size=n, max_size=n)


def ars_values(lengths: tuple[int, ...] = (2, 3, 5, 9, 12)) -> st.SearchStrategy[str]:
    return st.builds(
        lambda land, rest, n: (land + rest)[:n],
        st.sampled_from(LAND_CODES),
        digits(10),
        st.sampled_from(lengths),
    )


def ags_values() -> st.SearchStrategy[str]:
    return st.builds(
        lambda land, rest, n: (land + rest)[:n],
        st.sampled_from(LAND_CODES),
        digits(6),
        st.sampled_from((2, 3, 5, 8)),
    )


leika_values = digits(14)
ozg_values = st.integers(min_value=1, max_value=10**12).map(str)


# -- exact error messages -------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Ars("1605"), "ARS '1605' has 4 digits; an ARS has 2, 3, 5, 9 or 12 digits"),
        (lambda: Ars("17"), "ARS '17' has Land '17'; a Land code is 01 to 16"),
        (lambda: Ars("00123"), "ARS '00123' has Land '00'; a Land code is 01 to 16"),
        (lambda: Ars("16a"), "ARS '16a' contains non-digits; an ARS has 2, 3, 5, 9 or 12 digits"),
        (lambda: Ars(""), "ARS '' is empty; an ARS has 2, 3, 5, 9 or 12 digits"),
        (lambda: Ars("16²"), "ARS '16²' contains non-digits; an ARS has 2, 3, 5, 9 or 12 digits"),
        (lambda: Ars(" 16"), "ARS ' 16' contains non-digits; an ARS has 2, 3, 5, 9 or 12 digits"),
        (lambda: Ars(16), "ARS 16 is a int, not a str"),  # type: ignore[arg-type]
        (
            lambda: Ars.parse("  1605 "),
            "ARS '1605' has 4 digits; an ARS has 2, 3, 5, 9 or 12 digits",
        ),
        (
            lambda: Ars.parse(ARS_URN_PREFIX + "1605"),
            f"ARS '{ARS_URN_PREFIX}1605' ends in '1605', which has 4 digits; "
            "an ARS has 2, 3, 5, 9 or 12 digits",
        ),
        (
            lambda: Ars.parse(LEIKA_URN_PREFIX + "99115005104000"),
            f"ARS '{LEIKA_URN_PREFIX}99115005104000' is not an ARS URN; "
            f"expected '{ARS_URN_PREFIX}<ARS>'",
        ),
        (
            lambda: LeikaKey("9911500510400"),
            "LeiKa key '9911500510400' has 13 digits; a LeiKa key has 14",
        ),
        (
            lambda: LeikaKey("99115005l04000"),
            "LeiKa key '99115005l04000' contains non-digits; a LeiKa key has 14 digits",
        ),
        (lambda: LeikaKey(""), "LeiKa key '' is empty; a LeiKa key has 14 digits"),
        (
            lambda: LeikaKey.parse(LEIKA_URN_PREFIX + "123"),
            f"LeiKa key '{LEIKA_URN_PREFIX}123' ends in '123', which has 3 digits; "
            "a LeiKa key has 14",
        ),
        (
            lambda: LeikaKey.parse("urn:x:99115005104000"),
            "LeiKa key 'urn:x:99115005104000' is not a LeiKa key URN; "
            f"expected '{LEIKA_URN_PREFIX}<LeiKa key>'",
        ),
        (lambda: Ags("1607704"), "AGS '1607704' has 7 digits; an AGS has 2, 3, 5 or 8 digits"),
        (lambda: Ags("17077043"), "AGS '17077043' has Land '17'; a Land code is 01 to 16"),
        (
            lambda: Ags("1607704x"),
            "AGS '1607704x' contains non-digits; an AGS has 2, 3, 5 or 8 digits",
        ),
        (
            lambda: Ags.parse(AGS_URN_PREFIX + "123456789"),
            f"AGS '{AGS_URN_PREFIX}123456789' ends in '123456789', which has 9 digits; "
            "an AGS has 2, 3, 5 or 8 digits",
        ),
        (lambda: Land("17"), "Land '17' is not a Land code; a Land code is 01 to 16"),
        (
            lambda: Land.parse("Thuringia"),
            "Land 'Thuringia' is not a Land code (01 to 16), abbreviation (e.g. 'TH') "
            "or name (e.g. 'Thüringen')",
        ),
        (
            lambda: Land.parse(LAND_URN_PREFIX + "17"),
            f"Land '{LAND_URN_PREFIX}17' ends in '17', which is not a Land code; "
            "a Land code is 01 to 16",
        ),
        (lambda: OzgId(""), "OZG-ID '' is empty; an OZG-ID is a positive whole number"),
        (
            lambda: OzgId("10x"),
            "OZG-ID '10x' contains non-digits; an OZG-ID is a positive whole number",
        ),
        (lambda: OzgId("0"), "OZG-ID '0' is zero; an OZG-ID is a positive whole number"),
        (
            lambda: OzgId.parse(" 000 "),
            "OZG-ID '000' is zero; an OZG-ID is a positive whole number",
        ),
        (
            lambda: OzgId("010000"),
            "OZG-ID '010000' has a leading zero; an OZG-ID is written without leading zeros "
            "(OzgId.parse strips them)",
        ),
        (
            lambda: OzgId.parse("urn:de:ozg:10000"),
            "OZG-ID 'urn:de:ozg:10000' is a URN; there is no URN form for it",
        ),
        (
            lambda: OzgId.from_int(0),
            "OZG-ID 0 is not a positive int; an OZG-ID is a positive whole number",
        ),
        (
            lambda: Ars("160775052").to_ags(),
            "ARS '160775052' is a Gemeindeverband (9 digits), which has no AGS; "
            "only a 2, 3, 5 or 12-digit ARS converts to an AGS",
        ),
        (
            lambda: Ags("16077043").to_ars(),
            "AGS '16077043' is a Gemeinde AGS, which lacks the 4-digit Gemeindeverband part "
            "of its ARS; pass verband= (e.g. '0000' for a kreisfreie Stadt)",
        ),
        (
            lambda: Ags("16077043").to_ars(verband="505"),
            "Gemeindeverband part '505' is not 4 digits; the Gemeindeverband part of an ARS "
            "(positions 6-9) has 4 digits",
        ),
        (
            lambda: Ags("16077043").to_ars(verband=Ars("160765052")),
            "Gemeindeverband '160765052' is not a 9-digit ARS in Kreis '16077' of AGS '16077043'",
        ),
        (
            lambda: Ags("16077").to_ars(verband="5052"),
            "AGS '16077' is at Kreis level; verband= applies only to an 8-digit AGS",
        ),
        (
            lambda: Ars.from_padded("16055"),
            "zero-filled ARS '16055' has 5 digits; a zero-filled ARS has 12 digits",
        ),
        (
            lambda: Ars.from_padded("170550000000"),
            "zero-filled ARS '170550000000' has Land '17'; a Land code is 01 to 16",
        ),
        (
            lambda: Ars.from_padded("160775052043", level=ArsLevel.KREIS),
            "zero-filled ARS '160775052043' has non-zero digits after position 5, "
            "so it is not a zero-filled Kreis",
        ),
        (
            lambda: Ags.from_padded("16055000", level=ArsLevel.GEMEINDEVERBAND),
            "zero-filled AGS '16055000' cannot be read as a Gemeindeverband, which has no AGS",
        ),
        (
            lambda: Ags.from_padded("16077043", level="kreis"),
            "zero-filled AGS '16077043' has non-zero digits after position 5, "
            "so it is not a zero-filled Kreis",
        ),
        (
            lambda: Ars("16055").at_level(ArsLevel.GEMEINDE),
            "ARS '16055' is at Kreis level, above Gemeinde",
        ),
    ],
)
def test_error_messages(make, message):
    with pytest.raises(InvalidIdentifier) as info:
        make()
    assert str(info.value) == message
    assert isinstance(info.value, ValueError)


def test_error_carries_kind_value_rule():
    with pytest.raises(InvalidIdentifier) as info:
        Ars("1605")
    assert (info.value.kind, info.value.value) == ("ARS", "1605")
    assert info.value.rule == "has 4 digits; an ARS has 2, 3, 5, 9 or 12 digits"


def test_unknown_level_name():
    with pytest.raises(ValueError, match="ARS level 'ort' is not one of land, "):
        Ars.from_padded("160550000000", level="ort")


# -- LeiKa key --------------------------------------------------------------------------


def test_leika_parts():
    key = LeikaKey.parse(" 99115005104001\n")
    assert key.parts() == {
        "kennung": "99",
        "leistungsgruppierung": "115",
        "leistungskennung": "005",
        "verrichtung": "104",
        "verrichtungsdetail": "001",
    }
    assert key.is_federal
    assert not LeikaKey("01115005104001").is_federal
    assert key.urn == "urn:de:fim:leika:leistung:99115005104001"
    assert LeikaKey.parse("URN:DE:FIM:LEIKA:LEISTUNG:99134005017000") == LeikaKey("99134005017000")
    assert repr(key) == "LeikaKey('99115005104001')"


def test_constructor_is_strict_but_parse_strips():
    with pytest.raises(InvalidIdentifier):
        LeikaKey(" 99115005104000")
    with pytest.raises(InvalidIdentifier):
        LeikaKey(LEIKA_URN_PREFIX + "99115005104000")
    assert str(LeikaKey.parse("\t99115005104000 ")) == "99115005104000"


# -- Land -------------------------------------------------------------------------------


def test_land_table():
    table = [(land.code, land.abbreviation, land.name_de) for land in Land]
    assert table == [
        ("01", "SH", "Schleswig-Holstein"),
        ("02", "HH", "Hamburg"),
        ("03", "NI", "Niedersachsen"),
        ("04", "HB", "Bremen"),
        ("05", "NW", "Nordrhein-Westfalen"),
        ("06", "HE", "Hessen"),
        ("07", "RP", "Rheinland-Pfalz"),
        ("08", "BW", "Baden-Württemberg"),
        ("09", "BY", "Bayern"),
        ("10", "SL", "Saarland"),
        ("11", "BE", "Berlin"),
        ("12", "BB", "Brandenburg"),
        ("13", "MV", "Mecklenburg-Vorpommern"),
        ("14", "SN", "Sachsen"),
        ("15", "ST", "Sachsen-Anhalt"),
        ("16", "TH", "Thüringen"),
    ]


@pytest.mark.parametrize(
    "text",
    ["16", " TH ", "th", "Thüringen", "thüringen", "Thueringen", LAND_URN_PREFIX + "16"],
)
def test_land_parse(text):
    assert Land.parse(text) is Land.TH


def test_land_parse_names_with_hyphens_and_umlauts():
    assert Land.parse("Baden-Württemberg") is Land.BW
    assert Land.parse("baden wuerttemberg") is Land.BW
    assert Land.parse("Mecklenburg-Vorpommern") is Land.MV


def test_land_value_behaviour():
    assert str(Land.TH) == "16"
    assert f"{Land.TH}" == "16"
    assert Land("16") is Land.TH
    assert Land.TH.urn == "urn:de:bund:destatis:bevoelkerungsstatistik:schluessel:bundesland:16"
    assert Land.TH.ars == Ars("16")
    assert sorted([Land.TH, Land.SH, Land.BY]) == [Land.SH, Land.BY, Land.TH]
    assert Land.SH < Land.HH <= Land.HH
    assert Land.TH > Land.ST >= Land.ST
    assert {Land.TH: 1}[Land.parse("TH")] == 1


def test_land_does_not_compare_with_strings():
    with pytest.raises(TypeError):
        assert Land.TH < "17"  # type: ignore[operator]


# -- ARS --------------------------------------------------------------------------------


def test_ars_gemeinde():
    ars = Ars.parse(" 160775052043 ")
    assert ars.level is ArsLevel.GEMEINDE
    assert ars.land is Land.TH
    assert ars.parts() == {
        "land": "16",
        "regierungsbezirk": "0",
        "kreis": "77",
        "gemeindeverband": "5052",
        "gemeinde": "043",
    }
    assert ars.regierungsbezirk is None
    assert ars.kreis == Ars("16077")
    assert ars.gemeindeverband == Ars("160775052")
    assert ars.parent() == Ars("160775052")
    assert ars.ancestors() == (Ars("160775052"), Ars("16077"), Ars("16"))
    assert ars.to_ags() == Ags("16077043")
    assert ars.urn == "urn:de:bund:destatis:bevoelkerungsstatistik:schluessel:rs:160775052043"
    assert repr(ars) == "Ars('160775052043')"


def test_ars_with_regierungsbezirk():
    # Panketal-like key in Bayern: 09 1 62 0000 000 is München (kreisfreie Stadt, RB 1).
    muenchen = Ars("091620000000")
    assert muenchen.regierungsbezirk == Ars("091")
    assert muenchen.ancestors() == (Ars("091620000"), Ars("09162"), Ars("091"), Ars("09"))
    assert Ars("09162").parent() == Ars("091")
    assert Ars("091").parent() == Ars("09")
    assert Ars("091").level is ArsLevel.REGIERUNGSBEZIRK


def test_kreis_without_regierungsbezirk_has_land_as_parent():
    assert Ars("16055").parent() == Ars("16")
    assert Ars("12060").parent() == Ars("12")
    # "160" is well-formed but names no area; its parent is the Land.
    assert Ars("160").parent() == Ars("16")
    assert not Ars("160").has_regierungsbezirk
    assert Ars("16").parent() is None
    assert Ars("16").ancestors() == ()


def test_contains_is_prefix_containment():
    assert Ars("16").contains(Ars("160775052043"))
    assert Ars("16077").contains(Ars("16077"))
    assert not Ars("16077").contains(Ars("16076"))
    assert not Ars("160775052043").contains(Ars("16077"))
    assert not Ars("01").contains(Ars("11001"))


def test_at_level():
    ars = Ars("091620000000")
    assert ars.at_level(ArsLevel.KREIS) == Ars("09162")
    assert ars.at_level("land") == Ars("09")
    assert ars.at_level(ArsLevel.GEMEINDE) == ars


@pytest.mark.parametrize(
    ("ars", "ags"),
    [
        ("16", "16"),
        ("091", "091"),
        ("16055", "16055"),
        ("120600181181", "12060181"),  # Panketal, amtsfrei
        ("120605003154", "12060154"),  # Marienwerder, Amt Biesenthal-Barnim
        ("160550000000", "16055000"),  # Weimar, kreisfreie Stadt
    ],
)
def test_ars_to_ags(ars, ags):
    assert Ars(ars).to_ags() == Ags(ags)


def test_ags_to_ars_needs_verband_for_gemeinde():
    assert Ags("12060181").to_ars(verband="0181") == Ars("120600181181")
    assert Ars.from_ags("12060154", verband=Ars("120605003")) == Ars("120605003154")
    assert Ars.from_ags("16055") == Ars("16055")
    assert Ars.from_ags(" 091 ") == Ars("091")


def test_padded_and_readings():
    assert Ars("16055").padded() == "160550000000"
    assert Ars("160775052043").padded() == "160775052043"
    assert Ars.from_padded("160550000000") == Ars("16055")
    assert Ars.from_padded(" 160550000000 ", level="gemeinde") == Ars("160550000000")
    assert Ars.from_padded("160550000000", level=ArsLevel.GEMEINDEVERBAND) == Ars("160550000")
    assert Ars.padded_readings("160550000000") == (
        Ars("16055"),
        Ars("160550000"),
        Ars("160550000000"),
    )
    assert Ars.padded_readings("160775052043") == (Ars("160775052043"),)
    # A zero-filled Gemeindeverband: shortest reading first.
    assert Ars.padded_readings("120605003000") == (Ars("120605003"), Ars("120605003000"))
    # Berlin: the Land, zero-filled, is also the Gemeinde Berlin.
    assert Ars.from_padded("110000000000") == Ars("11")
    assert Ars.padded_readings("110000000000")[-1] == Ars("110000000000")
    assert len(Ars.padded_readings("110000000000")) == 5


def test_ags_padded():
    assert Ags("16055").padded() == "16055000"
    assert Ags.from_padded("16055000") == Ags("16055")
    assert Ags.from_padded("16055000", level="gemeinde") == Ags("16055000")
    assert Ags.padded_readings("16055000") == (Ags("16055"), Ags("16055000"))


# -- AGS --------------------------------------------------------------------------------


def test_ags_basics():
    ags = Ags.parse(AGS_URN_PREFIX + "16077043")
    assert ags == Ags("16077043")
    assert ags.level is ArsLevel.GEMEINDE
    assert ags.land is Land.TH
    assert ags.parts() == {"land": "16", "regierungsbezirk": "0", "kreis": "77", "gemeinde": "043"}
    assert ags.parent() == Ags("16077")
    assert Ags("16077").parent() == Ags("16")
    assert Ags("09162").parent() == Ags("091")
    assert Ags("16").parent() is None
    assert Ags("16").contains(ags)
    assert ags.urn == "urn:de:bund:destatis:bevoelkerungsstatistik:schluessel:ags:16077043"
    assert repr(ags) == "Ags('16077043')"


# -- OZG-ID -----------------------------------------------------------------------------


def test_ozg_id():
    assert OzgId.parse(" 010000 ") == OzgId("10000")
    assert int(OzgId("10631")) == 10631
    assert OzgId.from_int(106) == OzgId("106")
    assert sorted([OzgId("10000"), OzgId("9"), OzgId("106")]) == [
        OzgId("9"),
        OzgId("106"),
        OzgId("10000"),
    ]
    assert not hasattr(OzgId("1"), "urn")
    with pytest.raises(InvalidIdentifier):
        OzgId.from_int(True)  # a bool is not an id


# -- value-type mechanics ---------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [LeikaKey("99115005104000"), Ars("16055"), Ags("16055000"), OzgId("10000")],
)
def test_immutable_hashable_slotted(value):
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        value.value = "1"
    assert not hasattr(value, "__dict__")
    assert hash(value) == hash(type(value)(value.value))
    assert pickle.loads(pickle.dumps(value)) == value


def test_types_do_not_compare_equal_across_kinds():
    assert Ars("16055") != Ags("16055")
    assert Ars("16055") != "16055"
    with pytest.raises(TypeError):
        assert Ars("16055") < Ags("16056")  # type: ignore[operator]


@pytest.mark.parametrize("cls", [LeikaKey, Ars, Ags, OzgId, Land])
def test_cattrs_round_trip_via_str_and_parse(cls):
    converter = cattrs.Converter()
    converter.register_unstructure_hook(cls, str)
    converter.register_structure_hook(cls, lambda v, _: cls.parse(v))
    sample = {
        LeikaKey: LeikaKey("99115005104000"),
        Ars: Ars("160775052043"),
        Ags: Ags("16077043"),
        OzgId: OzgId("10000"),
        Land: Land.TH,
    }[cls]
    data = converter.unstructure(sample)
    assert isinstance(data, str)
    assert converter.structure(data, cls) == sample


def test_ids_module_imports_nothing_but_attrs_stdlib_and_errors():
    tree = ast.parse(Path(efa_core.ids.__file__).read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module or "")
    assert imported <= {
        "__future__",
        "enum",
        "collections.abc",
        "typing",
        "attrs",
        "efa_core.errors",
    }


# -- properties -------------------------------------------------------------------------


@given(leika_values)
def test_leika_round_trips(text):
    key = LeikaKey(text)
    assert LeikaKey.parse(str(key)) == key
    assert LeikaKey.parse(f"  {key.urn}\n") == key
    assert "".join(key.parts().values()) == text


@given(ars_values())
def test_ars_round_trips(text):
    ars = Ars(text)
    assert str(ars) == text
    assert Ars.parse(f" {ars} ") == ars
    assert Ars.parse(ars.urn) == ars
    assert ars.level.length == len(text)
    assert "".join(ars.parts().values()) == text


@given(ars_values())
def test_parent_contains_child_and_chain_ends_at_land(text):
    ars = Ars(text)
    parent = ars.parent()
    if parent is not None:
        assert parent.contains(ars)
        assert parent.level < ars.level
    chain = ars.ancestors()
    if ars.level is ArsLevel.LAND:
        assert chain == ()
    else:
        assert chain[-1] == Ars(text[:2])
        assert all(a.contains(ars) for a in chain)
        assert all(
            a.level is not ArsLevel.REGIERUNGSBEZIRK or a.has_regierungsbezirk for a in chain
        )
    assert ars.contains(ars)


@given(ars_values((2, 3, 5, 12)))
def test_ars_ags_round_trip(text):
    ars = Ars(text)
    ags = ars.to_ags()
    verband = text[5:9] if len(text) == 12 else None
    assert ags.to_ars(verband=verband) == ars
    assert Ars.from_ags(str(ags), verband=verband) == ars
    assert ags.land is ars.land
    assert ags.level is ars.level


@given(ags_values())
def test_ags_round_trips(text):
    ags = Ags(text)
    assert Ags.parse(f" {ags} ") == ags
    assert Ags.parse(ags.urn) == ags
    parent = ags.parent()
    if parent is not None:
        assert parent.contains(ags)
    verband = "0000" if len(text) == 8 else None
    assert ags.to_ars(verband=verband).to_ags() == ags
    assert Ags.from_padded(ags.padded(), level=ags.level) == ags
    assert ags in Ags.padded_readings(ags.padded())


@given(ars_values())
def test_padded_round_trip_with_explicit_level(text):
    ars = Ars(text)
    padded = ars.padded()
    assert len(padded) == 12
    assert padded.startswith(text)
    assert Ars.from_padded(padded, level=ars.level) == ars
    readings = Ars.padded_readings(padded)
    assert ars in readings
    assert readings[0] == Ars.from_padded(padded)
    assert all(r.padded() == padded for r in readings)
    assert list(readings) == sorted(readings)


@given(st.lists(ars_values(), max_size=20))
def test_ars_order_is_string_order(texts):
    assert [str(a) for a in sorted(Ars(t) for t in texts)] == sorted(texts)


@given(st.lists(leika_values, max_size=20))
def test_leika_order_is_string_order(texts):
    assert [str(k) for k in sorted(LeikaKey(t) for t in texts)] == sorted(texts)


@given(st.lists(ags_values(), max_size=20))
def test_ags_order_is_string_order(texts):
    assert [str(a) for a in sorted(Ags(t) for t in texts)] == sorted(texts)


@given(st.lists(ozg_values, max_size=20))
def test_ozg_order_is_numeric(texts):
    assert [int(o) for o in sorted(OzgId(t) for t in texts)] == sorted(int(t) for t in texts)


@given(ozg_values, st.integers(min_value=0, max_value=3))
def test_ozg_parse_round_trip(text, zeros):
    ozg = OzgId.parse(" " + "0" * zeros + text + " ")
    assert str(ozg) == text
    assert OzgId.parse(str(ozg)) == ozg


@given(st.text(max_size=16))
def test_parse_never_raises_anything_but_invalid_identifier(text):
    for cls in (LeikaKey, Ars, Ags, OzgId, Land):
        try:
            value = cls.parse(text)
        except InvalidIdentifier:
            continue
        assert cls.parse(str(value)) == value


# -- real data --------------------------------------------------------------------------

_REGISTER = (
    Path(os.environ.get("EFA_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
    / "gemeindeverzeichnis-2020q4.csv"
)


@pytest.mark.skipif(not _REGISTER.exists(), reason="Gemeindeverzeichnis not available")
def test_gemeindeverzeichnis():
    """Every key in the official register parses; hierarchy and AGS agree with it."""
    with _REGISTER.open(encoding="utf-8-sig", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["satzart"] != "30"]  # 30: statistical Region
    known = {r["land"] + r["rb"] + r["kreis"] + r["vb"] + r["gemeinde"] for r in rows}
    gemeinden = [r for r in rows if r["satzart"] == "60"]
    assert len(gemeinden) == 11_004
    missing = set()
    ambiguous = set()
    for r in gemeinden:
        ars = Ars(r["land"] + r["rb"] + r["kreis"] + r["vb"] + r["gemeinde"])
        assert ars.to_ags() == Ags(r["land"] + r["rb"] + r["kreis"] + r["gemeinde"])
        assert ars.to_ags().to_ars(verband=r["vb"]) == ars
        missing.update(a.value for a in ars.ancestors() if a.value not in known)
        if len(Ars.padded_readings(ars.padded())) > 1:
            ambiguous.add(ars)
    # The only ancestors the register lacks are the Kreis '00' of two areas outside any
    # Kreis (the German-Luxembourgish condominium and the coastal waters).
    assert missing == {"07000", "13000"}
    # Exactly the kreisfreie Städte (Gemeindeverband 0000, Gemeinde 000) are ambiguous.
    assert ambiguous == {
        Ars(r["land"] + r["rb"] + r["kreis"] + r["vb"] + r["gemeinde"])
        for r in gemeinden
        if r["vb"] == "0000" and r["gemeinde"] == "000"
    }
    assert Ars("160550000000") in ambiguous


@given(
    st.one_of(
        st.text(alphabet="0123456789١²16 \tx", max_size=15),
        st.text(alphabet="0123456789", min_size=1, max_size=15),
        st.tuples(
            st.sampled_from(["00", "01", "09", "16", "17", "20", "99"]),
            st.text(alphabet="0123456789", max_size=12),
        ).map("".join),
    )
)
def test_validators_fast_paths_accept_exactly_what_the_rules_accept(text: str) -> None:
    """The constructors' fast paths (issue 15) accept no text that the rules reject."""
    from efa_core.ids import _ars_rule, _leika_rule
    from efa_core.model import Responsibility, TargetKind

    for cls, rule in ((Ars, _ars_rule), (LeikaKey, _leika_rule)):
        try:
            cls(text)
            accepted = True
        except ValueError:
            accepted = False
        assert accepted == (rule(text) is None), (cls, text)
    try:
        Responsibility(
            leika_key=LeikaKey("99115005104000"),
            ars=Ars("16"),
            target_kind=TargetKind.ONLINEDIENST,
            target_id=text,
        )
        accepted = True
    except ValueError:
        accepted = False
    assert accepted == (bool(text.strip()) and text == text.strip()), text
