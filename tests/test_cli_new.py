"""``efa new connector``: the template renders a package whose own tests pass."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from efa_core.cli import main
from efa_core.cli.new import render_connector, template_values
from efa_core.connectors import pull_sync
from efa_core.testing.accounting import assert_accounted

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib


@pytest.mark.parametrize(
    ("name", "package", "class_prefix"),
    [
        ("routing-th", "efa_routing_th", "RoutingTh"),
        ("lrs", "efa_lrs", "Lrs"),
        ("k2", "efa_k2", "K2"),
    ],
)
def test_names(name: str, package: str, class_prefix: str) -> None:
    values = template_values(name)
    assert values["package"] == package
    assert values["dist"] == f"efa-{name}"
    assert values["class_prefix"] == class_prefix


@pytest.mark.parametrize("name", ["Routing", "2x", "a_b", "a--b", "a-", "", "a b"])
def test_bad_names_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="is no connector name"):
        template_values(name)


def test_the_command_writes_a_complete_package(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["new", "connector", "routing-th"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "efa-routing-th/ angelegt (8 Dateien): der Konnektortyp 'routing-th'",
        'weiter:   cd efa-routing-th && pip install -e ".[test]" && pytest',
    ]
    english = CliRunner().invoke(main, ["new", "connector", "other", "--lang", "en"])
    assert english.output.splitlines() == [
        "created efa-other/ (8 files): the connector type 'other'",
        'next:   cd efa-other && pip install -e ".[test]" && pytest',
    ]
    root = tmp_path / "efa-routing-th"
    names = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
    assert names == [
        "README.md",
        "pyproject.toml",
        "src/efa_routing_th/__init__.py",
        "src/efa_routing_th/connector.py",
        "src/efa_routing_th/plugin.py",
        "src/efa_routing_th/py.typed",
        "tests/data/rows.jsonl",
        "tests/test_efa_routing_th.py",
    ]
    for path in root.rglob("*"):
        if path.is_file() and path.suffix in (".py", ".toml", ".md"):
            text = path.read_text(encoding="utf-8")
            assert "${" not in text, path
            if path.suffix == ".py":
                ast.parse(text, filename=str(path))
    project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["project"]["name"] == "efa-routing-th"
    assert project["project"]["entry-points"]["efa_core"] == {"routing-th": "efa_routing_th.plugin"}
    # a second run does not overwrite anything
    again = CliRunner().invoke(main, ["new", "connector", "routing-th"])
    assert again.exit_code == 1
    assert "exists and is not empty" in again.output


def test_the_generated_connector_works(tmp_path: Path, monkeypatch) -> None:
    render_connector("probe-x", tmp_path / "pkg")
    monkeypatch.syspath_prepend(str(tmp_path / "pkg" / "src"))
    from efa_probe_x import ProbeXConfig, ProbeXConnector

    rows = tmp_path / "pkg" / "tests" / "data" / "rows.jsonl"
    connector = ProbeXConnector(ProbeXConfig(path=str(rows), batch_size=3), name="probe")
    assert_accounted(connector, {"availability": 5, "?": 1, "blank-line": 1})
    batches = list(pull_sync(connector))
    assert [b.complete for b in batches] == [False, False, True]
    for module in [m for m in sys.modules if m.startswith("efa_probe_x")]:
        del sys.modules[module]


@pytest.mark.slow
def test_the_generated_packages_tests_pass(tmp_path: Path) -> None:
    # nox -s template does the same with the package installed (entry point included).
    root = tmp_path / "efa-probe"
    render_connector("probe", root)
    env = {**os.environ, "PYTHONPATH": str(root / "src")}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-k",
            "not finds_the_installed",
        ],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
