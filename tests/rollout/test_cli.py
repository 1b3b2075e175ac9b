from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from efa_core.cli.rollout import areas, costs, coverage, explain, findings
from efa_core.model import AgreementState
from efa_core.store import open_store

from .helpers import NOW, agreement, availability, put, responsibility, service

CSV = (
    "\ufeffsatzart,textkennzeichen,land,rb,kreis,vb,gemeinde,gemeindename,flaeche,bevoelkerung\n"
    "10,,16,,,,,Thüringen,,\n"
    '40,41,16,0,55,,,"Weimar, Stadt",,\n'
    '50,50,16,0,55,0000,,"Weimar, Stadt",,\n'
    '60,61,16,0,55,0000,000,"Weimar, Stadt", 84.48," 65 228"\n'
    "40,44,16,0,61,,,Eichsfeld,,\n"
    "50,54,16,0,61,5001,,VG Eins,,\n"
    '60,64,16,0,61,5001,001,Adorf, 1.0," 1 000"\n'
    "10,,15,,,,,Sachsen-Anhalt,,\n"
    "40,41,15,0,01,,,Dessau,,\n"
    "50,50,15,0,01,0000,,Dessau,,\n"
    '60,61,15,0,01,0000,000,Dessau-Roßlau, 1.0," 80 000"\n'
)


@pytest.fixture
def filled(tmp_path: Path, db_url: str) -> str:
    register = tmp_path / "gv.csv"
    register.write_text(CSV, encoding="utf-8")
    result = CliRunner().invoke(areas, ["import", str(register), "--db", db_url])
    assert result.exit_code == 0, result.output
    assert result.output == "register: 11 neu, 0 geändert, 0 unverändert, 0 gelöscht\n"
    with open_store(db_url) as store:
        put(
            store,
            "registry",
            [
                service(),
                agreement("16", AgreementState.CONTRACTED, since=NOW - timedelta(days=400)),
                agreement("15", AgreementState.CONTRACTED),
            ],
        )
        put(store, "pvog", [responsibility("16061", target="S16_other")])
        put(store, "dashboard", [availability("160550000000"), availability("12")])
    return db_url


def test_areas_import_is_idempotent(filled: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        areas, ["import", str(tmp_path / "gv.csv"), "--db", filled, "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["unchanged"] == 11


def test_areas_import_speaks_english_when_asked(filled: str, tmp_path: Path) -> None:
    args = ["import", str(tmp_path / "gv.csv"), "--db", filled]
    result = CliRunner().invoke(areas, [*args, "--lang", "en"])
    assert result.output == "register: 0 added, 0 changed, 11 unchanged, 0 deleted\n"
    result = CliRunner(env={"EFA_LANG": "en"}).invoke(areas, args)
    assert result.output == "register: 0 added, 0 changed, 11 unchanged, 0 deleted\n"
    result = CliRunner(env={"EFA_LANG": "en"}).invoke(areas, [*args, "--json"])
    counts = json.loads(result.output)
    assert (counts["source"], counts["added"], counts["unchanged"]) == ("register", 0, 11)


def test_findings_command(filled: str) -> None:
    result = CliRunner().invoke(findings, ["--db", filled, "--json"])
    assert result.exit_code == 0, result.output
    rules = {(f["rule"], f["area"]) for f in json.loads(result.output)}
    assert ("live-without-agreement", "12") in rules
    assert ("unknown-online-service", "16061") in rules
    assert ("published-without-route", "16061") in rules
    assert ("unknown-area", "12") in rules
    text = CliRunner().invoke(findings, ["--db", filled, "--rule", "dashboard-offline"])
    assert text.exit_code == 0
    assert text.output == "keine Befunde\n"
    text = CliRunner().invoke(
        findings, ["--db", filled, "--rule", "dashboard-offline", "--lang", "en"]
    )
    assert text.output == "no findings\n"
    bad = CliRunner().invoke(findings, ["--db", filled, "--rule", "nope"])
    assert bad.exit_code == 1
    assert "unknown finding rule" in bad.output


def test_coverage_command(filled: str) -> None:
    result = CliRunner().invoke(
        coverage, ["anmeldung", "--db", filled, "--within", "16", "--by", "kreis", "--json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)[0]
    assert report["total"]["gemeinden"] == 2
    assert report["total"]["population"] == 66228
    assert report["total"]["label"] == "kreisweit flächendeckend"
    assert [g["area"] for g in report["groups"]] == ["16055", "16061"]
    text = CliRunner().invoke(coverage, ["--db", filled])
    assert text.exit_code == 0
    assert "in mind. einer Kommune verfügbar" in text.output or "kreisweit" in text.output
    unknown = CliRunner().invoke(coverage, ["nope", "--db", filled])
    assert unknown.exit_code == 1
    assert "unknown service" in unknown.output


def test_costs_command(filled: str) -> None:
    result = CliRunner().invoke(costs, ["anmeldung", "--db", filled, "--year", "2016", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["year"] == 2016
    assert {s["payer"] for s in data["shares"]} == {"15", "16"}
    assert sum(float(s["rounded"]) for s in data["shares"]) == pytest.approx(1)
    capita = CliRunner().invoke(costs, ["anmeldung", "--db", filled, "--strategy", "per-capita"])
    assert capita.exit_code == 0, capita.output
    assert "Einwohner 66.228" in capita.output  # the basis in the reader's language
    # the shares as the language writes a decimal: 0,1234 (German, the default), 0.1234
    shares = re.findall(r"\s([01][.,]\d{4})\s", capita.output)
    assert capita.output.startswith("ZAHLER")
    assert len(shares) == 2
    assert all("," in s for s in shares), shares
    english = CliRunner().invoke(
        costs, ["anmeldung", "--db", filled, "--strategy", "per-capita", "--lang", "en"]
    )
    assert english.output.startswith("PAYER")
    assert re.findall(r"\s([01][.,]\d{4})\s", english.output) == [
        s.replace(",", ".") for s in shares
    ]
    missing = CliRunner().invoke(costs, ["anmeldung", "--db", filled, "--year", "1999"])
    assert missing.exit_code == 1
    assert "no Königsteiner Schlüssel for 1999" in missing.output


def _with_identity(tmp_path: Path, filled: str) -> Path:
    """Add a FIT-Store record of the same offer and an efa.toml that links its Onlinedienst."""
    from efa_core.ids import OzgId
    from efa_core.model import Service

    from .helpers import L1

    with open_store(filled) as store:
        put(
            store,
            "fitstore",
            [
                Service(
                    key="FS-17",
                    name="Anmeldung (FIT-Store)",
                    leika_keys=(L1,),
                    offer_ids=("anmeldung",),
                    ozg_ids=(OzgId("10331"),),
                    url="https://anmeldung.example/",
                )
            ],
        )
        put(store, "pvog", [responsibility("160550000000", target="S15_own")])
    config = tmp_path / "efa.toml"
    config.write_text(
        "[identity.onlinedienste]\n"
        'anmeldung = ["S16_OD-ANMELDUNG"]\n'
        "[rollout]\n"
        'source_priority = ["registry"]\n',
        encoding="utf-8",
    )
    return config


def test_explain_service_shows_the_joins(filled: str, tmp_path: Path) -> None:
    config = _with_identity(tmp_path, filled)
    args = ["--db", filled, "--config", str(config)]
    result = CliRunner().invoke(explain, ["service", "FS-17", *args, "--lang", "en"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "service anmeldung: Anmeldung"
    assert lines[2].startswith("  fitstore FS-17 (")
    assert lines[3].startswith("  registry anmeldung")
    assert "ids: FS-17, S16_OD-ANMELDUNG, anmeldung" in lines
    assert "OZG ids: 10331" in lines  # shown, but an OZG id joins nothing (it names a Leistung)
    assert "  FS-17 = anmeldung: fitstore FS-17 names offer id anmeldung" in lines
    assert "  anmeldung = S16_OD-ANMELDUNG: efa.toml [identity].onlinedienste of anmeldung" in lines
    german = CliRunner().invoke(explain, ["service", "FS-17", *args]).output.splitlines()
    assert german[:2] == ["Dienst anmeldung: Anmeldung", "Datensätze:"]
    assert re.fullmatch(r"  fitstore FS-17 \(\d\d\.\d\d\.\d{4}\)", german[2])
    assert "Kennungen: FS-17, S16_OD-ANMELDUNG, anmeldung" in german
    assert "OZG-IDs: 10331" in german
    assert "zusammengeführt, weil:" in german
    data = json.loads(CliRunner().invoke(explain, ["service", "anmeldung", *args, "--json"]).output)
    assert data["key"] == "anmeldung"
    assert data["urls"] == ["anmeldung.example"]
    assert data["onlinedienst_ids"] == ["S16_OD-ANMELDUNG"]
    assert data["ozg_ids"] == ["10331"]
    unknown = CliRunner().invoke(explain, ["service", "anmeldnug", *args])
    assert unknown.exit_code == 1
    assert "unknown service 'anmeldnug'; did you mean anmeldung?" in unknown.output


def test_explain_row_lists_roles_and_coverage_counts_other_solutions(
    filled: str, tmp_path: Path
) -> None:
    config = _with_identity(tmp_path, filled)
    args = ["--db", filled, "--config", str(config)]
    result = CliRunner().invoke(explain, ["row", "FS-17", "160550000000", *args, "--lang", "en"])
    assert result.exit_code == 0, result.output
    # the dashboard row's URL is not the offer's (now that its URL is known), and the
    # responsibility names another Onlinedienst: Weimar uses another solution
    assert result.output.startswith(
        "anmeldung in 160550000000: contracted (agreement contracted; other-solution)"
    )
    assert "other-solution  onlinedienst" in result.output
    assert "other-solution  url" in result.output
    german = CliRunner().invoke(explain, ["row", "FS-17", "160550000000", *args]).output
    assert german.startswith(
        "anmeldung in 160550000000: Vertrag geschlossen (Vereinbarung Vertrag geschlossen; "
        "andere Lösung)"
    )
    assert german.splitlines()[1].split()[:3] == ["STAND", "ROLLE", "ÜBER"]
    assert "andere Lösung  Onlinedienst" in german
    assert "andere Lösung  URL" in german
    table = CliRunner().invoke(coverage, ["anmeldung", *args, "--within", "16", "--lang", "en"])
    assert table.exit_code == 0, table.output
    assert table.output.split()[11:14] == ["OTHER", "AMBIGUOUS", "COVERAGE"]
    table = CliRunner().invoke(coverage, ["anmeldung", *args, "--within", "16"])
    assert table.exit_code == 0, table.output
    header = re.split(r"\s{2,}", table.output.splitlines()[0].strip())
    assert header[-3:] == ["ANDERE LÖSUNG", "MEHRDEUTIG", "ABDECKUNG"]
    data = CliRunner().invoke(coverage, ["FS-17", *args, "--within", "16", "--json"])
    total = json.loads(data.output)[0]["total"]
    # Weimar, and Adorf through the Eichsfeld's responsibility for another Onlinedienst
    assert total["other_solution"] == {"gemeinden": 2, "population": 66228}
    assert total["ambiguous"] == {"gemeinden": 0, "population": 0}
    assert total["service"] == "anmeldung"


def test_costs_of_an_unknown_service_suggest_close_matches(filled: str) -> None:
    result = CliRunner().invoke(costs, ["Anmeldnug", "--db", filled])
    assert result.exit_code == 1
    assert "unknown service 'Anmeldnug'; did you mean anmeldung?" in result.output
    none = CliRunner().invoke(costs, ["xyz", "--db", filled])
    assert "unknown service 'xyz'; known: anmeldung" in none.output


def test_history_of_an_area_shows_the_records_inside_it(filled: str) -> None:
    from efa_core.cli.sync import history

    result = CliRunner().invoke(history, ["16", "--db", filled, "--json"])
    assert result.exit_code == 0, result.output
    keys = {(e["kind"], e["key"]) for e in json.loads(result.output)}
    assert ("responsibility", "99115005104000@16061->onlinedienst:S16_other") in keys
    assert ("agreement", "anmeldung@ars:16") in keys
    assert ("area", "16055") in keys
    assert ("area", "16") in keys
    assert not any(k.startswith("15") for _, k in keys if _ == "area")
    kreis = CliRunner().invoke(history, ["16061", "--db", filled, "--json"])
    assert {e["kind"] for e in json.loads(kreis.output)} == {"area", "responsibility"}
