"""The ``efa sync / status / history / quarantine`` commands."""

from __future__ import annotations

import json
import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from efa_core.cli.sync import (
    default_store_url,
    history,
    quarantine,
    resolve_store_url,
    status,
    sync,
)
from efa_core.config import EfaConfig, parse_config
from efa_core.plugins import PluginRegistry
from efa_core.store import open_store


@click.group()
def efa() -> None:
    """The commands under test, as the lead wires them into ``efa``."""


for command in (sync, status, history, quarantine):
    efa.add_command(command)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("EFA_DB", raising=False)
    monkeypatch.delenv("EFA_CONFIG", raising=False)
    monkeypatch.setenv("EFA_LANG", "en")  # the English output; German: its own test
    notes = tmp_path / "notes.jsonl"
    notes.write_text(
        '{"kind": "area", "ars": "16", "name": "Thüringen"}\n'
        '{"kind": "area", "ars": "1605"}\n'
        '{"kind": "area", "ars": "16055", "name": "Weimar"}\n',
        encoding="utf-8",
    )
    (tmp_path / "efa.toml").write_text(
        '[store]\nurl = "sqlite:///efa.db"\n\n'
        '[connectors.notes]\ntype = "records-file"\npath = "notes.jsonl"\n',
        encoding="utf-8",
    )
    return tmp_path


def run(*args: str) -> tuple[int, str]:
    """Exit code and stdout (errors: stdout and stderr)."""
    registry = PluginRegistry(entrypoints=False, env={})  # isolated from installed plugins
    result = CliRunner().invoke(efa, list(args), obj=registry, catch_exceptions=False)
    return result.exit_code, result.stdout if result.exit_code == 0 else result.output


def test_sync_status_history_quarantine(project: Path) -> None:
    code, out = run("sync", "--dry-run")
    assert code == 0, out
    assert "notes/area: +2 added" in out
    assert "dry run: nothing was written" in out
    code, out = run("sync")
    assert code == 0, out
    assert out.splitlines()[1].split()[:4] == ["notes", "succeeded", "2", "0"]
    assert (project / "efa.db").exists(), "[store] url of efa.toml is used"

    code, out = run("status")
    assert "notes" in out
    assert "succeeded" in out
    data = json.loads(run("status", "--json")[1])
    assert data[0]["live_records"] == 2
    assert data[0]["quarantined"] == 1

    (project / "notes.jsonl").write_text('{"kind": "area", "ars": "16", "name": "TH"}\n')
    assert run("sync")[0] == 0
    code, out = run("history", "16")  # an ARS: the records inside the area too
    assert code == 0
    assert [line.split()[2:6] for line in out.splitlines()[1:]] == [
        ["notes", "area", "16", "upsert"],
        ["notes", "area", "16055", "upsert"],
        ["notes", "area", "16", "upsert"],
        ["notes", "area", "16055", "delete"],
    ]
    entries = json.loads(run("history", "160", "--prefix", "--json")[1])
    assert [(e["key"], e["op"]) for e in entries] == [("16055", "upsert"), ("16055", "delete")]
    assert run("history", "nope")[0] == 1

    code, out = run("quarantine")
    assert "nothing in quarantine" in out  # the last run had no invalid lines
    code, out = run("quarantine", "notes", "--all")
    assert "notes.jsonl:line 2" in out
    assert "$.ars: ARS '1605' has 4 digits" in out


def test_sync_status_and_history_speak_german_by_default(project: Path) -> None:
    code, out = run("sync", "--dry-run", "--lang", "de")
    assert code == 0, out
    assert out.splitlines()[0].split()[:4] == ["QUELLE", "STATUS", "NEU", "GEÄNDERT"]
    assert "notes/Gebiet: +2 neu, ~0 geändert, -0 gelöscht" in out
    assert "Probelauf: nichts wurde geschrieben" in out
    assert run("sync")[0] == 0
    code, out = run("status", "--lang", "de")
    assert out.splitlines()[0] == "Speicher: sqlite:///efa.db"
    row = out.splitlines()[2].split()
    assert row[:2] == ["notes", "Vollabzug"]
    assert re.fullmatch(r"\d\d\.\d\d\.\d{4}", row[2])  # the last run's date, 01.03.2024
    assert row[4:6] == ["erfolgreich", "+2"]
    assert "1 (insgesamt 1)" in out
    code, out = run("history", "16", "--lang", "de")
    assert out.splitlines()[0].split()[:3] == ["GEÄNDERT", "AM", "QUELLE"]
    assert out.splitlines()[1].split()[2:6] == ["notes", "Gebiet", "16", "geschrieben"]
    assert run("history", "nope", "--lang", "de")[1] == "keine Historie für 'nope'\n"
    code, out = run("quarantine", "notes", "--all", "--lang", "de")
    assert re.match(r"notes notes\.jsonl:line 2 \(Gebiet\), \d\d\.\d\d\.\d{4} ", out)
    assert "  Rohdaten: " in out


def test_sync_failure_exits_1_and_db_option_wins(project: Path, tmp_path: Path) -> None:
    (project / "notes.jsonl").unlink()
    other = tmp_path / "other.db"
    code, out = run("sync", "--db", f"sqlite:///{other}", "--json")
    assert code == 1
    report = json.loads(out[out.index("{") :])
    assert report["sources"][0]["status"] == "failed"
    assert "does not exist" in report["sources"][0]["error"]
    assert other.exists()
    assert not (project / "efa.db").exists()


def test_env_var_names_the_store(project: Path, tmp_path: Path, monkeypatch) -> None:
    db = tmp_path / "env.db"
    monkeypatch.setenv("EFA_DB", f"sqlite:///{db}")
    assert run("sync")[0] == 0
    with open_store(f"sqlite:///{db}") as store:
        assert store.count() == 2


def test_unknown_source_and_no_config(project: Path, tmp_path: Path) -> None:
    code, out = run("sync", "nope")
    assert code == 1
    assert "no connector named 'nope'" in out
    (project / "efa.toml").unlink()
    code, out = run("sync")
    assert code == 1
    assert "no sources configured" in out


def test_store_url_resolution() -> None:
    config = parse_config({"store": {"url": "sqlite:///from-config.db"}}, env={})
    assert resolve_store_url("sqlite:///given.db", config) == "sqlite:///given.db"
    assert resolve_store_url(None, config) == "sqlite:///from-config.db"
    default = resolve_store_url(None, EfaConfig())
    assert default == default_store_url()
    assert default.startswith("sqlite:///")
    assert default.endswith("efa.db")


def _lines(path: Path, *codes: str) -> None:
    path.write_text(
        "".join(f'{{"kind": "area", "ars": "{c}", "name": "A{c}"}}\n' for c in codes),
        encoding="utf-8",
    )


def test_a_refused_shrink_exits_1_and_allow_shrink_lets_it_through(project: Path) -> None:
    notes = project / "notes.jsonl"
    _lines(notes, "01", "02", "03", "04")
    assert run("sync")[0] == 0
    notes.write_text(notes.read_text().splitlines()[0] + '\n{"kind": "area", "ars": "1"}\n')
    code, out = run("sync")
    assert code == 1
    assert "notes: source 'notes': the snapshot would delete 3 of 4 live records (75%)" in out
    assert "run 'efa sync --allow-shrink notes' once" in out

    code, out = run("status")
    row = next(line for line in out.splitlines() if line.startswith("notes"))
    assert row.split()[4] == "failed"
    assert "1 (total 1)" in row, "QUARANTINED: the last run's, with the total beside it"
    assert "would delete 3 of 4 live records" in out
    state = json.loads(run("status", "--json")[1])[0]
    assert state["live_records"] == 4
    assert state["last_run"]["status"] == "failed"
    assert state["last_run"]["by_kind"] == {"area": {"quarantined": 1, "unchanged": 1}}

    code, out = run("sync", "--allow-shrink", "notes", "--json")
    assert code == 0, out
    report = json.loads(out)["sources"][0]
    assert (report["source"], report["deleted"], report["snapshot"]["missing"]) == ("notes", 3, 3)
    assert run("status", "--json")[1].count('"live_records": 1') == 1


def test_an_emptied_records_file_is_reported_and_deletes_nothing(project: Path) -> None:
    notes = project / "notes.jsonl"
    assert run("sync")[0] == 0
    notes.write_text("\n\n", encoding="utf-8")
    code, out = run("sync")
    assert code == 1
    assert "the snapshot delivered no records, but the store holds 2 live records" in out
    code, out = run("sync", "--allow-shrink", "notes")
    assert code == 0
    assert "warning: the snapshot of source 'notes' delivered no records" in out
    code, out = run("status")
    assert "warning: the snapshot of source 'notes' delivered no records" in out


def test_sync_output_counts_skipped_input(project: Path, tmp_path: Path) -> None:
    code, out = run("sync")
    assert code == 0
    assert out.splitlines()[0].split() == [
        "SOURCE",
        "STATUS",
        "ADDED",
        "CHANGED",
        "UNCHANGED",
        "DELETED",
        "ORPHANS",
        "QUARANTINED",
        "SKIPPED",
        "SECONDS",
    ]
    report = json.loads(run("sync", "--json")[1])["sources"][0]
    assert report["skipped"] == 0
    assert report["by_kind"] == {"area": {"quarantined": 1, "unchanged": 2}}


@pytest.mark.parametrize("limit", ["0", "-3"])
def test_history_limit_below_one_is_refused(project: Path, limit: str) -> None:
    # Issue 14 §4: `history --limit 0` said "no history" for a key that has some.
    assert run("sync")[0] == 0
    code, out = run("history", "16", "--limit", limit)
    assert code == 2
    assert "--limit" in out
    assert "x>=1" in out
    assert "no history" not in out
    code, out = run("history", "16", "--limit", "1")
    assert code == 0
    assert len(out.splitlines()) == 2
