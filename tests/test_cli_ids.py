"""Tests for ``efa ids``."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from efa_core.cli import main
from efa_core.cli.ids import detect_kind, explain
from efa_core.errors import InvalidIdentifier


def runner() -> CliRunner:
    """A runner that keeps stderr apart (the default from click 8.2 on)."""
    try:
        return CliRunner(mix_stderr=False)  # type: ignore[call-arg]  # click < 8.2
    except TypeError:
        return CliRunner()


def run(*args: str):
    return runner().invoke(main, ["ids", *args])


def field(output: str, label: str) -> str:
    """Return the value of the first aligned ``label  value`` line."""
    for line in output.splitlines():
        if line.startswith("  ") and line.strip().startswith(label + " "):
            return line.strip()[len(label) :].strip()
    raise AssertionError(f"no {label!r} line in:\n{output}")


def test_gemeinde_ars_human_output():
    result = run("160775052043", "--lang", "en")
    assert result.exit_code == 0, result.stdout
    lines = result.stdout.splitlines()
    assert lines[0] == "160775052043: Gemeinde-level ARS in Land 16 Thüringen"
    assert field(result.stdout, "Land") == "16 Thüringen (TH)"
    assert field(result.stdout, "Kreis") == "16077"
    assert field(result.stdout, "Gemeindeverband") == "160775052"
    assert field(result.stdout, "AGS") == "16077043"
    assert field(result.stdout, "parent") == "160775052 (Gemeindeverband)"
    assert field(result.stdout, "Regierungsbezirk") == "none (position 3 is 0)"
    assert (
        field(result.stdout, "URN")
        == "urn:de:bund:destatis:bevoelkerungsstatistik:schluessel:rs:160775052043"
    )
    assert "ambiguous" not in result.stdout
    # Values of all rows start in the same column.
    columns = {len(line) - len(line[2:].split("  ", 1)[1].lstrip()) for line in lines[1:]}
    assert len(columns) == 1


def test_human_output_is_german_by_default():
    result = run("160775052043", "99115005104000", "16055000")
    assert result.exit_code == 0, result.stdout
    lines = result.stdout.splitlines()
    assert lines[0] == "160775052043: ARS der Ebene Gemeinde im Land 16 Thüringen"
    assert field(result.stdout, "übergeordnet") == "160775052 (Gemeindeverband)"
    assert field(result.stdout, "Regierungsbezirk") == "keiner (Stelle 3 ist 0)"
    assert field(result.stdout, "aufgefüllt") == "160775052043"
    assert "99115005104000: Leistungsschlüssel (Bund, 99er)" in lines
    assert field(result.stdout, "Bund") == "ja"
    assert "16055000: AGS der Ebene Gemeinde im Land 16 Thüringen (mehrdeutig)" in lines
    assert field(result.stdout, "ARS") == "keiner"
    assert (
        field(result.stdout, "Hinweis") == "der ARS braucht den 4-stelligen "
        "Gemeindeverbandsteil (Stellen 6-9), den ein AGS nicht enthält"
    )
    for english in ("parent", "zero-filled", "level", "note", "none"):
        assert english not in result.stdout


def test_language_from_environment_and_config(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    english = run("TH", "--lang", "en").stdout
    assert english.splitlines()[0] == "TH: Land 16 Thüringen (TH)"
    assert runner().invoke(main, ["ids", "10000"], env={"EFA_LANG": "en"}).stdout == (
        run("10000", "--lang", "en").stdout
    )
    assert "Hinweis" in run("10000").stdout
    (tmp_path / "efa.toml").write_text('[report]\nlang = "en"\n', encoding="utf-8")
    assert run("10000").stdout == run("10000", "--lang", "en").stdout
    assert "Hinweis" in run("10000", "--lang", "de").stdout


def test_json_is_english_whatever_the_language():
    values = ["160550000000", "99115005104000", "16077043", "160775052", "16055"]
    german = run("--json", *values)
    english = run("--json", "--lang", "en", *values)
    assert german.stdout == english.stdout
    data = json.loads(german.stdout)
    assert data[0]["summary"] == "Gemeinde-level ARS in Land 16 Thüringen (ambiguous)"
    assert data[1]["summary"] == "LeiKa key (federal, 99er)"
    assert data[3]["notes"] == ["a Gemeindeverband has no AGS"]
    assert data == [explain(v) for v in values]


def test_zero_filled_kreis_shows_all_readings():
    result = run("160550000000", "--lang", "en")
    assert result.exit_code == 0
    assert "(ambiguous)" in result.stdout.splitlines()[0]
    assert (
        "readings: Kreis 16055, Gemeindeverband 160550000, Gemeinde 160550000000" in result.stdout
    )


def test_json_output():
    result = run("--json", "160550000000", "99115005104000", "TH", "16077043", "120645410")
    assert result.exit_code == 0, result.stdout
    data = json.loads(result.stdout)
    assert [d["kind"] for d in data] == ["ars", "leika", "land", "ags", "ars"]
    weimar, leika, land, ags, verband = data
    assert weimar["ambiguous"] is True
    assert weimar["readings"] == [
        {"value": "16055", "level": "kreis"},
        {"value": "160550000", "level": "gemeindeverband"},
        {"value": "160550000000", "level": "gemeinde"},
    ]
    assert weimar["ags"] == "16055000"
    assert weimar["ancestors"] == ["160550000", "16055", "16"]
    assert weimar["land"] == {"code": "16", "name": "Thüringen", "abbreviation": "TH"}
    assert leika["parts"]["leistungsgruppierung"] == "115"
    assert leika["federal"] is True
    assert leika["urn"] == "urn:de:fim:leika:leistung:99115005104000"
    assert land["input"] == "TH"
    assert land["value"] == "16"
    assert land["urn"] == "urn:de:bund:destatis:bevoelkerungsstatistik:schluessel:bundesland:16"
    assert ags["ars"] is None
    assert ags["parent"] == "16077"
    assert any("Gemeindeverband part" in note for note in ags["notes"])
    assert verband["ags"] is None
    assert verband["level"] == "gemeindeverband"


def test_invalid_values_exit_2_but_valid_ones_are_printed():
    result = runner().invoke(main, ["ids", "--json", "1605", "16055", "99115005l04000"])
    assert result.exit_code == 2
    assert [d["value"] for d in json.loads(result.stdout)] == ["16055"]
    assert result.stderr.splitlines() == [
        "Error: ARS '1605' has 4 digits; an ARS has 2, 3, 5, 9 or 12 digits",
        "Error: LeiKa key '99115005l04000' contains non-digits; a LeiKa key has 14 digits",
    ]


def test_invalid_only_human():
    result = run("17")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == "Error: ARS '17' has Land '17'; a Land code is 01 to 16\n"


def test_unknown_text():
    result = run("foo")
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: identifier 'foo' is not a LeiKa key (14 digits)")
    assert "--as ozg" in result.stderr


def test_as_ozg():
    result = run("--as", "ozg", "--json", "010000")
    assert result.exit_code == 0
    assert json.loads(result.stdout)[0]["value"] == "10000"
    plain = run("10000", "--lang", "en")
    assert "can also be an OZG-ID" in plain.stdout
    assert "können auch eine OZG-ID sein" in run("10000").stdout


def test_no_values_is_a_usage_error():
    assert run().exit_code == 2


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("99115005104000", "leika"),
        ("9911500510400", "leika"),
        ("99115005l04000", "leika"),
        ("16", "ars"),
        ("160", "ars"),
        ("16055", "ars"),
        ("160775052", "ars"),
        ("160775052043", "ars"),
        ("1605", "ars"),
        ("16077043", "ags"),
        ("TH", "land"),
        ("Thüringen", "land"),
        ("urn:de:fim:leika:leistung:99115005104000", "leika"),
        ("urn:de:bund:destatis:bevoelkerungsstatistik:schluessel:rs:120645410", "ars"),
        ("urn:de:bund:destatis:bevoelkerungsstatistik:schluessel:ags:16077043", "ags"),
        ("urn:de:bund:destatis:bevoelkerungsstatistik:schluessel:bundesland:16", "land"),
    ],
)
def test_detect_kind(text, kind):
    assert detect_kind(text) == kind


def test_detect_unknown_urn():
    with pytest.raises(InvalidIdentifier, match="'urn:x:1' is not a LeiKa key"):
        detect_kind("urn:x:1")


def test_explain_urn_input():
    info = explain("urn:de:bund:destatis:bevoelkerungsstatistik:schluessel:rs:120645410")
    assert info["value"] == "120645410"
    assert info["kreis"] == "12064"
    assert info["land"]["abbreviation"] == "BB"


@pytest.mark.parametrize("command", [["ids", "10000"], ["plugins"]])
def test_a_broken_config_does_not_stop_commands_that_only_read_its_language(
    tmp_path, monkeypatch, command
):
    # efa ids and efa plugins read efa.toml only for [report] lang: beside a broken one they
    # still work (they are how one finds out what is wrong), in the default language.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "efa.toml").write_text("[report\nlang = 'en'\n", encoding="utf-8")
    result = runner().invoke(main, command)
    assert result.exit_code == 0, result.output
    assert "the configuration was not read" in result.stderr
    assert "efa.toml" in result.stderr
    english = runner().invoke(main, [*command, "--lang", "en"])
    assert english.exit_code == 0
    assert "the configuration was not read" not in english.stderr  # not read at all
    assert english.stdout != result.stdout  # German by default
