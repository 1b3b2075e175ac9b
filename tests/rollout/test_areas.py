from __future__ import annotations

import io
import os
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from efa_core.areas import (
    RegisterError,
    import_register,
    read_register,
    read_register_csv,
)
from efa_core.ids import Ars, ArsLevel
from efa_core.store import Store

REGISTER_NAME = "gemeindeverzeichnis-2020q4.csv"


def _real_register() -> Path:
    for parent in Path(__file__).resolve().parents:
        candidate = parent / "shared" / "data" / REGISTER_NAME
        if candidate.is_file():
            return candidate
    message = f"shared/data/{REGISTER_NAME} not found beside the repository"
    if os.environ.get("CI"):
        pytest.fail(message + " (CI must run the real-register tests)")
    pytest.skip(message)


@pytest.fixture(scope="module")
def real_areas() -> list:
    return list(read_register(_real_register()))


def test_real_register_counts(real_areas: list) -> None:
    levels = Counter(a.level for a in real_areas)
    assert levels[ArsLevel.GEMEINDE] == 11004
    assert levels[ArsLevel.KREIS] == 401
    assert levels[ArsLevel.LAND] == 16
    gemeinden = [a for a in real_areas if a.level is ArsLevel.GEMEINDE]
    assert sum(a.population or 0 for a in gemeinden) == 83166711
    per_land: dict[str, int] = defaultdict(int)
    for a in gemeinden:
        per_land[a.ars.value[:2]] += a.population or 0
    laender = {a.natural_key: a for a in real_areas if a.level is ArsLevel.LAND}
    assert {k: v.population for k, v in laender.items()} == dict(per_land)
    assert laender["16"].name == "Thüringen"
    assert laender["16"].population == 2133378
    th_gemeinden = [a for a in gemeinden if a.ars.value.startswith("16")]
    th_kreise = [
        a for a in real_areas if a.level is ArsLevel.KREIS and a.ars.value.startswith("16")
    ]
    assert (len(th_gemeinden), len(th_kreise)) == (633, 23)


def test_real_register_structure(real_areas: list) -> None:
    by_ars = {a.ars: a for a in real_areas}
    for area in real_areas:
        if area.level is not ArsLevel.LAND:
            assert area.parent in by_ars, area
    weimar = by_ars[Ars("160550000000")]
    assert weimar.area_type == "Kreisfreie Stadt"
    assert weimar.ars.to_ags().value == "16055000"
    uninhabited = [a for a in real_areas if a.area_type == "Gemeindefreies Gebiet, unbewohnt"]
    assert len(uninhabited) == 208
    assert all(not a.population for a in uninhabited)


def test_real_register_import(store: Store) -> None:
    report = import_register(store, _real_register())
    assert report.ok
    assert report.added == 16056
    again = import_register(store, _real_register())
    assert (again.added, again.unchanged) == (0, 16056)
    assert store.count("register", "area") == 16056


_HEADER = (
    "satzart,textkennzeichen,land,rb,kreis,vb,gemeinde,"
    "gemeindename,flaeche,bevoelkerung,maennlich\n"
)


def _csv(*lines: str) -> io.StringIO:
    return io.StringIO("\ufeff" + _HEADER + "".join(line + "\n" for line in lines))


def test_csv_quirks_and_population_sums() -> None:
    from efa_core.areas import assemble_areas

    rows = _csv(
        "10,,16,,,,,Thüringen,,,",
        '40,44,16,0,61,,,"Eichsfeld, Landkreis",,,',
        "50,54,16,0,61,5001,,VG Eins,,,",
        '60,64,16,0,61,5001,001,Adorf, 3.5," 1 234",600',
        "60,66,16,0,61,5001,002,Forst, 1.0,,",
        "30,,08,1,,,,Region X,,,",
    )
    areas = {a.natural_key: a for a in assemble_areas(read_register_csv(rows, name="t.csv"))}
    assert set(areas) == {"16", "16061", "160615001", "160615001001", "160615001002"}
    assert areas["160615001001"].population == 1234
    assert areas["160615001002"].population is None
    assert areas["16061"].population == 1234
    assert areas["16061"].parent == Ars("16")
    assert areas["16061"].area_type == "Landkreis"


def test_csv_errors_name_file_line_and_field() -> None:
    with pytest.raises(RegisterError, match=r"t\.csv:line 2: field 'bevoelkerung'"):
        list(read_register_csv(_csv("60,64,16,0,61,5001,001,Adorf,1,12x,"), name="t.csv"))
    with pytest.raises(RegisterError, match=r"t\.csv:line 2: field 'kreis': expected 2 digits"):
        list(read_register_csv(_csv("40,44,16,0,6,,,K,,,"), name="t.csv"))
    with pytest.raises(RegisterError, match="missing column"):
        list(read_register_csv(io.StringIO("a,b\n1,2\n"), name="t.csv"))


def test_xlsx_in_the_gv_isys_layout(tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Onlineprodukt_Gemeinden"
    ws.append(["Gemeindeverzeichnis-Informationssystem GV-ISys"])
    ws.append(["Alle politisch selbständigen Gemeinden mit ausgewählten Merkmalen am 31.12.2020"])
    ws.append([])
    ws.append(
        [
            "Satzart",
            "Text-kenn-zeichen",
            "Amtlicher Regionalschlüssel (ARS)",
            None,
            None,
            None,
            None,
            "Gemeindename",
            "Fläche km2",
            "Bevölkerung",
            None,
            None,
            None,
            "Postleit-zahl",
            "Geografische Mittelpunktkoordinaten",
            None,
        ]
    )
    ws.append(
        [
            None,
            None,
            "Land",
            "RB",
            "Kreis",
            "VB",
            "Gem",
            None,
            None,
            "insgesamt",
            "männlich",
            "weiblich",
            "je km2",
            None,
            "Längengrad",
            "Breitengrad",
        ]
    )
    ws.append(["10", None, "16", None, None, None, None, "Thüringen"])
    ws.append(["40", "41", "16", "0", "55", None, None, "Weimar, Stadt"])
    ws.append(["50", "50", "16", "0", "55", "0000", None, "Weimar, Stadt"])
    ws.append(
        [
            60,
            61,
            16,
            0,
            55,
            0,
            0,
            "Weimar, Stadt",
            84.48,
            65228,
            31393,
            33835,
            772,
            "99423",
            "11,32",
            "50,98",
        ]
    )
    ws.append(["1) Footnote"])
    path = tmp_path / "AuszugGV4QAktuell.xlsx"
    wb.save(path)
    areas = {a.natural_key: a for a in read_register(path)}
    assert set(areas) == {"16", "16055", "160550000", "160550000000"}
    assert areas["160550000000"].population == 65228
    assert areas["16"].population == 65228
    assert areas["160550000000"].area_type == "Kreisfreie Stadt"


def test_unknown_format(tmp_path: Path) -> None:
    with pytest.raises(RegisterError, match="unknown register format"):
        read_register(tmp_path / "x.pdf")
