"""What every ``efa`` command shares: finding the store, never creating one to read, hints."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from efa_core.cli import main
from efa_core.cli._common import StoreChoice, choose_store, rule_options
from efa_core.config import EfaConfig, parse_config
from efa_core.plugins import PluginRegistry
from efa_core.store import open_store

READING = [
    ["status"],
    ["history", "16"],
    ["quarantine"],
    ["findings"],
    ["coverage"],
    ["costs", "anmeldung"],
    ["report"],
]


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in ("EFA_DB", "EFA_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def efa(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    registry = PluginRegistry(entrypoints=False, env={})
    result = CliRunner().invoke(main, list(args), obj=registry, env=env)
    return result.exit_code, result.output


@pytest.mark.parametrize("command", READING, ids=lambda c: c[0])
def test_reading_commands_never_create_a_store(here: Path, command: list[str]) -> None:
    # Issue 14 §4: `efa status` on a mistyped path created an empty database and its folders.
    target = here / "typo" / "deeper" / "efa.db"
    code, out = efa(*command, "--db", str(target))
    assert code == 1
    assert f"no store at {target}: it does not exist (looked there because of --db)" in out
    assert "efa demo" in out
    assert "efa sync" in out
    assert not (here / "typo").exists()


def test_the_message_names_where_the_value_came_from(here: Path) -> None:
    code, out = efa("status", env={"EFA_DB": "missing.db"})
    assert code == 1
    assert "no store at missing.db: it does not exist (looked there because of $EFA_DB)" in out
    (here / "efa.toml").write_text('[store]\nurl = "sqlite:///from-config.db"\n')
    code, out = efa("findings")
    assert code == 1
    assert "no store at from-config.db" in out
    assert "because of [store] url of efa.toml" in out
    assert list(here.iterdir()) == [here / "efa.toml"]


@pytest.mark.parametrize("value", ["sqlite:efa.db", "sqlite:", "postgresql:efa"])
def test_a_scheme_without_slashes_is_refused(here: Path, value: str) -> None:
    # Issue 14 §4: `--db sqlite:efa.db` created a file named `sqlite:efa.db`.
    (here / "efa.toml").write_text('[connectors.a]\ntype = "records-file"\npath = "a.jsonl"\n')
    for command in (["status"], ["sync"], ["areas", "import", __file__]):
        code, out = efa(*command, "--db", value)
        assert code == 1, out
        assert "without '//'" in out
    assert list(here.iterdir()) == [here / "efa.toml"]


def test_a_plain_path_and_a_url_name_the_same_store(here: Path) -> None:
    with open_store(str(here / "plain.db")):
        pass
    for value in ("plain.db", f"sqlite:///{here / 'plain.db'}", "sqlite:///plain.db"):
        code, out = efa("status", "--db", value)
        assert code == 0, out
        assert "enthält noch keine Daten" in out


def test_an_empty_store_says_where_it_is_and_what_to_run(here: Path) -> None:
    with open_store("sqlite:///empty.db"):
        pass
    for command in (["status"], ["findings"], ["coverage"], ["report"], ["quarantine"]):
        code, out = efa(*command, "--db", "empty.db")
        assert code == 0, (command, out)
        assert "der Speicher empty.db (--db) enthält noch keine Daten" in out
        assert "efa demo" in out
        assert "efa areas import DATEI" in out


@pytest.mark.parametrize(
    "command", [["status"], ["history", "X"], ["findings"], ["plan", "status", "P"]]
)
def test_the_empty_store_hint_speaks_the_asked_language(here: Path, command: list[str]) -> None:
    with open_store("sqlite:///empty.db"):
        pass
    _, out = efa(*command, "--db", "empty.db", "--lang", "en")
    assert "the store empty.db (--db) holds no data yet" in out
    assert "efa areas import FILE" in out
    assert "enthält" not in out
    _, out = efa(*command, "--db", "empty.db", env={"EFA_LANG": "en"})
    assert "holds no data yet" in out
    (here / "efa.toml").write_text('[report]\nlang = "en"\n')
    _, out = efa(*command, "--db", "empty.db")
    assert "holds no data yet" in out


def test_status_runs_when_a_sources_variable_is_unset(here: Path) -> None:
    # Issue 14 §4: `efa status` refused to run when a connector's variable was unset.
    (here / "efa.toml").write_text(
        '[store]\nurl = "efa.db"\n\n'
        '[connectors.pvog]\ntype = "pvog"\nclient_secret = "${NOT_SET_ANYWHERE}"\n\n'
        '[connectors.notes]\ntype = "records-file"\npath = "notes.jsonl"\n'
    )
    (here / "notes.jsonl").write_text('{"kind": "area", "ars": "16", "name": "Thüringen"}\n')
    code, out = efa("sync", "notes")
    assert code == 0, out
    code, out = efa("status")
    assert code == 0, out
    assert "notes" in out
    assert "pvog" in out
    code, out = efa("sync", "pvog")
    assert code == 1
    assert "'NOT_SET_ANYWHERE', which is not set" in out


def test_store_choice_origin_and_sqlite_file(here: Path) -> None:
    config = parse_config({"store": {"url": "sqlite:////var/efa.db"}}, env={}, path=Path("e.toml"))
    assert choose_store(None, config) == StoreChoice(
        "sqlite:////var/efa.db", "[store] url of e.toml"
    )
    assert choose_store(None, config).sqlite_file == Path("/var/efa.db")
    default = choose_store(None, EfaConfig())
    assert default.origin.startswith("the default")
    assert default.url.endswith("efa.db")
    assert StoreChoice("postgresql://u:pw@h/db", "--db").sqlite_file is None
    assert StoreChoice("postgresql://u:pw@h/db", "--db").describe() == (
        "postgresql://u:***@h/db (--db)"
    )
    assert StoreChoice("sqlite://", "--db").sqlite_file is None
    assert StoreChoice("~/x.db", "--db").sqlite_file == Path.home() / "x.db"


def test_rule_options_start_from_the_configuration() -> None:
    base = {"contracted_days": 90, "known_onlinedienste": ["a"]}
    assert rule_options(["contracted_days=30", "label=x y"], base) == {
        "contracted_days": 30,
        "known_onlinedienste": ["a"],
        "label": "x y",
    }
    assert base["contracted_days"] == 90
