"""``efa demo`` end to end: the Thüringen example through the real connector plugins.

The expectations follow from the example's design (see
``src/efa_core/examples/thueringen/README.md``), not from a recorded run.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from efa_core.cli.report import demo
from efa_core.model import Stage
from efa_core.plugins import PluginRegistry
from efa_core.report import DemoError, DemoResult, run_demo
from efa_core.report.demo import REQUIRED_PLUGINS
from efa_core.rollout import RolloutView
from efa_core.store import open_store


def _need_plugins() -> None:
    known = PluginRegistry().connectors()
    missing = [dist for kind, dist in REQUIRED_PLUGINS.items() if kind not in known]
    if missing:
        message = f"connector plugins not installed: {', '.join(missing)}"
        if os.environ.get("CI"):
            pytest.fail(message + " (CI must run the demo: install ./plugins/*)")
        pytest.skip(message)


@pytest.fixture(scope="module")
def demo_result(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoResult]:
    _need_plugins()
    return run_demo(tmp_path_factory.mktemp("demo") / "out")


def test_every_source_synced(demo_result: DemoResult) -> None:
    assert {r.source for r in demo_result.sync.reports} == {
        "marktplatz",
        "lrs-th",
        "fit-connect",
        "dashboard-th",
    }
    assert all(r.ok and r.quarantined == 0 for r in demo_result.sync.reports)
    assert demo_result.report_path.is_file()
    assert demo_result.db_path.is_file()


def test_stages_follow_the_example(demo_result: DemoResult) -> None:
    with open_store(demo_result.store_url) as store:
        view = RolloutView(store)
        view.refresh()

        def stage(service: str, ars: str) -> Stage | None:
            return view.stage_at(service, ars)

        # MP-101 Wohnsitzanmeldung: the Land's contract covers every Gemeinde (Thüringen
        # pays for its Kommunen) ...
        assert stage("MP-101", "160700029029") is Stage.CONTRACTED  # Ilmenau: contract only
        # ... Jena has a Zuständigkeit but no FIT-Connect route ...
        assert stage("MP-101", "160530000000") is Stage.PUBLISHED
        # ... Erfurt, Weimar and the whole Landkreis Sonneberg are routed and online.
        assert stage("MP-101", "160510000000") is Stage.LIVE
        assert stage("MP-101", "160550000000") is Stage.LIVE
        assert stage("MP-101", "160720018018") is Stage.LIVE  # Sonneberg, Stadt (via 16072)
        # MP-102 Hundesteuer: Suhl only declared interest, Eisenach signed, the Ilm-Kreis
        # is published and routed (Arnstadt's dashboard row says offline: not live), Gera
        # is online without any agreement.
        assert stage("MP-102", "160540000000") is Stage.INTERESTED
        assert stage("MP-102", "160560000000") is Stage.CONTRACTED
        assert stage("MP-102", "160700004004") is Stage.ROUTABLE
        assert stage("MP-102", "160700029029") is Stage.ROUTABLE  # Ilmenau, via the Kreis
        assert stage("MP-102", "160520000000") is Stage.LIVE
        # MP-103 Meldebescheinigung: Weimar terminated its contract.
        assert stage("MP-103", "160550000000") is Stage.TERMINATED
        # MP-104 Personalausweis: Gera withdrew its interest: back to offered.
        assert stage("MP-104", "160520000000") is Stage.OFFERED
        row = view.row("MP-104", "160520000000")
        assert row is not None
        assert row.agreement_state is not None
        assert row.agreement_state.value == "withdrawn"
    # every stage of the funnel appears somewhere in the example
    assert {r.stage for r in demo_result.data.rows} == set(Stage)


def test_findings_follow_the_example(demo_result: DemoResult) -> None:
    found = sorted((f.rule, f.service or "", str(f.area)) for f in demo_result.data.findings)
    expected = [
        # Arnstadt's dashboard row says "nicht ok"
        ("dashboard-offline", "MP-102", "160700004004"),
        # Eisenach's contract (2024-02-01) is far older than 90 days, nothing published
        ("contracted-not-published", "MP-102", "160560000000"),
        # Gera: online on the dashboard without interest or contract.  The dashboard row
        # reads as the Kreis 16052; the register says the kreisfreie Stadt is its single
        # Gemeinde, so the finding is at the Gemeinde ARS (the rollout's canonical form).
        ("live-without-agreement", "MP-102", "160520000000"),
        # Jena is published for MP-101 and MP-103 but has no route for either
        ("published-without-route", "MP-101", "160530000000"),
        ("published-without-route", "MP-103", "160530000000"),
        # Jena's MP-103 Zuständigkeit points to an Onlinedienst not in findings.json
        ("unknown-online-service", "MP-103", "160530000000"),
    ]
    assert found == sorted(expected)
    severities = {f.rule: f.severity.value for f in demo_result.data.findings}
    assert severities["live-without-agreement"] == "error"


def test_coverage_by_kreis(demo_result: DemoResult) -> None:
    anmeldung = next(c for c in demo_result.data.coverage if c.total.service_key == "MP-101")
    by_kreis = {str(g.area): g for g in anmeldung.groups}
    # All 8 Gemeinden of the Landkreis Sonneberg are live (Kreis-level route and row).
    assert by_kreis["16072"].gemeinden == 8
    assert by_kreis["16072"].reached[Stage.LIVE].gemeinden == 8
    assert by_kreis["16072"].label == "kreisweit flächendeckend"
    assert by_kreis["16070"].reached[Stage.LIVE].gemeinden == 0


def test_the_html_report_names_the_example(demo_result: DemoResult) -> None:
    page = demo_result.report_path.read_text(encoding="utf-8")
    assert "EfA-Rollout Thüringen (Beispiel)" in page
    assert "Sonneberg (16072)" in page


def test_demo_refuses_foreign_output_and_existing_db(tmp_path: Path) -> None:
    _need_plugins()
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    with pytest.raises(DemoError, match="was not made by efa demo"):
        run_demo(foreign)
    assert (foreign / "notes.txt").read_text() == "keep me"
    db = tmp_path / "there.db"
    db.write_bytes(b"")
    with pytest.raises(DemoError, match="already exists"):
        run_demo(tmp_path / "out", db=db)


def test_missing_plugins_name_the_pip_command(tmp_path: Path) -> None:
    bare = PluginRegistry(entrypoints=False)
    with pytest.raises(DemoError) as info:
        run_demo(tmp_path / "out", registry=bare)
    message = str(info.value)
    for dist in ("efa-xzufi", "efa-marktplatz", "efa-dashboard"):
        assert dist in message
    assert (
        "pip install ./plugins/efa-dashboard ./plugins/efa-marktplatz ./plugins/efa-xzufi"
        in message
    )
    assert not (tmp_path / "out").exists()


def test_cli_demo_prints_tables_and_report_path(tmp_path: Path) -> None:
    _need_plugins()
    out = tmp_path / "cli-demo"
    result = CliRunner().invoke(demo, ["--output", str(out)], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "live-without-agreement" in result.output
    assert f"report: {out / 'efa-report.html'}" in result.output
    # a second run replaces the demo's own directory
    again = CliRunner().invoke(demo, ["--output", str(out)], terminal_width=200)
    assert again.exit_code == 0, again.output
