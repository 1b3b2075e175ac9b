"""``efa plan``: status, show, onboarding and export on a store with a synced plan."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from efa_core.cli import main
from efa_core.model import AgreementState
from efa_core.store import Store
from rollout.helpers import agreement, availability, responsibility, service

from .helpers import ADORF, WEIMAR, base_plan, setup


@pytest.fixture
def db(store: Store, db_url: str) -> str:
    plan = base_plan().tick("anmeldung", ADORF, "interest")
    setup(
        store,
        service(),
        agreement(WEIMAR, AgreementState.CONTRACTED),
        availability(WEIMAR),
        responsibility("16061", target="S16000_Onlinedienst_OD-EWA"),
        plan=plan,
    )
    return db_url


def run(*args: str) -> str:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_status_table(db: str) -> None:
    german = run("plan", "status", "--db", db, "--today", "2025-06-01")
    assert "Plan th: Rollout Thüringen (Stand 01.06.2025)" in german
    assert "Pilot (Pilotwelle), Stichtag 15.01.2025, Ziel Go-Live 31.03.2025 – überschritten" in (
        german
    )
    assert "Welle 2 (Rollout-Welle)" in german
    assert "im Verzug: anmeldung Adorf" in german
    out = run("plan", "status", "--db", db, "--today", "2025-06-01", "--lang", "en")
    assert "Plan th: Rollout Thüringen (as of 2025-06-01)" in out
    assert "Pilot (pilot), Stichtag 2025-01-15, target go-live 2025-03-31 – passed" in out
    assert "behind: anmeldung Adorf" in out
    assert "Welle 2 (rollout)" in out


def test_status_json_and_csv(db: str) -> None:
    data = json.loads(
        run(
            "plan",
            "status",
            "th",
            "--db",
            db,
            "--today",
            "2025-06-01",
            "--format",
            "json",
            "--wave",
            "Pilot",
            "--cells",
        )
    )
    [pilot] = data["waves"]
    assert pilot["name"] == "Pilot"
    assert pilot["by_service"]["anmeldung"]["live"] == {"municipalities": 1, "population": 65000}
    assert {c["ars"] for c in pilot["cells"]} == {WEIMAR, ADORF}
    adorf = next(c for c in pilot["cells"] if c["ars"] == ADORF)
    interest = next(i for i in adorf["items"] if i["item"] == "interest")
    assert interest["ticked_by"] == "manual"
    rows = run(
        "plan", "status", "--db", db, "--today", "2025-06-01", "--format", "csv"
    ).splitlines()
    assert rows[0].startswith("wave,kind,target_golive,service,municipalities,population")
    assert rows[1].startswith("Pilot,pilot,2025-03-31,anmeldung,2,66000,")
    cells = run("plan", "status", "--db", db, "--format", "csv", "--cells").splitlines()
    assert cells[0].split(",")[:5] == ["wave", "service", "ars", "name", "stage"]
    assert len(cells) == 1 + 2 + 3  # the pilot's 2 and wave 2's 3 Gemeinden


def test_show_and_as_of(db: str) -> None:
    out = run("plan", "show", "--db", db, "--lang", "en")
    assert "plan th: Rollout Thüringen (Thüringen)" in out
    assert f"targets: {WEIMAR}, {ADORF}" in out
    assert "1 checklist items recorded by hand" in out
    german = run("plan", "show", "--db", db)
    assert "Plan th: Rollout Thüringen (Thüringen)" in german
    assert "  Welle Pilot (Pilotwelle): Stichtag 15.01.2025, Ziel Go-Live 31.03.2025" in german
    assert f"    Ziele: {WEIMAR}, {ADORF}" in german
    assert "  1 Punkte der Checkliste von Hand erfasst" in german
    result = CliRunner().invoke(main, ["plan", "show", "--db", db, "--as-of", "2000-01-01"])
    assert result.exit_code == 1
    assert "the store holds no plan on 2000-01-01" in result.output
    data = json.loads(run("plan", "show", "--db", db, "--json"))
    assert data["plan"]["kind"] == "rollout-plan"
    assert [w["name"] for w in data["waves"]] == ["Pilot", "Welle 2"]


def test_export_writes_a_file_that_reads_back(db: str, tmp_path: Path) -> None:
    from efa_core.rollout.planning import Plan

    out = run("plan", "export", "--db", db, "-o", str(tmp_path / "plan.yaml"))
    assert "the plan header for efa.toml" not in out  # a YAML plan holds its header
    assert Plan.read(tmp_path / "plan.yaml").waves == base_plan().waves
    out = run("plan", "export", "--db", db, "-o", str(tmp_path / "plan.csv"))
    assert 'plan = "th"' in out
    assert 'services = ["anmeldung"]' in out
    assert "Weimar, Stadt" in (tmp_path / "plan.csv").read_text(encoding="utf-8-sig")


def test_onboarding(db: str, tmp_path: Path) -> None:
    pytest.importorskip("efa_xzufi")
    result = CliRunner().invoke(
        main, ["plan", "onboarding", "th", "--wave", "Pilot", "-o", str(tmp_path), "--db", db]
    )
    assert result.exit_code == 0, result.output
    assert "wrote 2 questionnaires (CSV and XLSX)" in result.output
    # Weimar needs one, pointing to the Onlinedienst Eichsfeld's Zuständigkeit names;
    # Adorf lies in Eichsfeld: published already
    assert "(1 Zuständigkeiten)" in result.output
    assert "1 service × municipality pairs are published already" in result.output
    assert (tmp_path / "zustaendigkeiten.xml").is_file()
    result = CliRunner().invoke(
        main, ["plan", "onboarding", "th", "--wave", "X", "-o", str(tmp_path), "--db", db]
    )
    assert result.exit_code == 1
    assert "no wave 'X'; waves: 'Pilot', 'Welle 2'" in result.output


def test_no_plan_says_what_to_do(store: Store, db_url: str) -> None:
    setup(store, service())
    result = CliRunner().invoke(main, ["plan", "status", "--db", db_url])
    assert result.exit_code == 1
    assert "configure a source of type 'plan' and sync it" in result.output
