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

from efa_core.cli.demo import demo
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
        "plan-th",
    }
    assert all(r.ok and r.quarantined == 0 for r in demo_result.sync.reports)
    assert demo_result.report_path.is_file()
    assert demo_result.db_path is not None
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
        # Jena is published for MP-101 but has no route
        ("published-without-route", "MP-101", "160530000000"),
        # Jena's Meldebescheinigung Zuständigkeit points to an Onlinedienst that is not
        # MP-103's (another solution) and that nobody knows
        ("unknown-online-service", "MP-103", "160530000000"),
        # the plan (plan.yaml): the pilot was due on 2024-10-31; Jena, Gera and Suhl are not
        # live for MP-101 ...
        ("behind-target", "MP-101", "160530000000"),
        ("behind-target", "MP-101", "160520000000"),
        ("behind-target", "MP-101", "160540000000"),
        # ... Suhl shows no uptake of its own (only the Land's contract covers it) ...
        ("pilot-without-uptake", "MP-101", "160540000000"),
        # ... the roll-in organisation ticked Jena's FIT-Connect destination, but there is
        # no route ...
        ("contradicted-tick", "MP-101", "160530000000"),
        # ... and onboardings started long ago and did not move since
        ("stalled-onboarding", "MP-101", "160530000000"),
        ("stalled-onboarding", "MP-101", "160520000000"),
        ("stalled-onboarding", "MP-102", "160700004004"),
        ("stalled-onboarding", "MP-102", "160560000000"),
        ("stalled-onboarding", "MP-102", "160540000000"),
        # Landkreis Sonneberg is live for MP-101 without being in a wave: welcome, visible
        ("outside-plan", "MP-101", "16072"),
    ]
    assert found == sorted(expected)
    severities = {f.rule: f.severity.value for f in demo_result.data.findings}
    assert severities["live-without-agreement"] == "error"


def test_the_plan_against_the_sources(demo_result: DemoResult) -> None:
    status = demo_result.plan
    assert status is not None
    pilot, wave2 = status.waves
    assert (pilot.name, wave2.name) == ("Pilot", "Welle 2")
    anmeldung = pilot.by_service["MP-101"]
    assert anmeldung.target.municipalities == 5
    assert anmeldung.reached[Stage.LIVE].municipalities == 2  # Erfurt and Weimar: on time
    assert {c.ars for c in pilot.behind} == {"160530000000", "160520000000", "160540000000"}
    # the second wave takes every Gemeinde of the Ilm-Kreis, Eisenach, and Gera and Suhl for
    # the Hundesteuer (their Wohnsitzanmeldung is in the pilot)
    assert wave2.by_service["MP-101"].target.municipalities == 17
    assert wave2.by_service["MP-102"].target.municipalities == 19
    assert wave2.behind == ()  # due by 2029-12-31
    assert [(o.service_key, o.ars) for o in status.outside] == [("MP-101", "16072")]


def test_one_service_per_offer_with_the_editorial_systems_onlinedienste(
    demo_result: DemoResult,
) -> None:
    # the Landesredaktion's Onlinedienste are joined with the Marktplatz offers
    # ([identity.onlinedienste] in the example's efa.toml): no duplicate services
    assert set(demo_result.data.services) == {"MP-101", "MP-102", "MP-103", "MP-104"}
    anmeldung = demo_result.data.services["MP-101"]
    assert anmeldung.name == "Wohnsitzanmeldung"  # the Marktplatz governs
    assert [(s, k) for s, k, _ in anmeldung.records] == [
        ("lrs-th", "S16000_Onlinedienst_OD-EWA"),
        ("marktplatz", "MP-101"),
    ]
    assert anmeldung.urls == ("anmeldung.example.org/thueringen",)
    rows = {(r.service_key, str(r.ars)): r for r in demo_result.data.rows}
    # dashboard rows are placed by their URL (Gera's is a path below the offer's URL)
    for key in (("MP-101", "160510000000"), ("MP-102", "160520000000")):
        assert [e.via.value for e in rows[key].evidence_for(Stage.LIVE)] == ["url"]  # type: ignore[union-attr]
    # Jena uses another Meldebescheinigung: not published for MP-103, but visible
    jena = rows["MP-103", "160530000000"]
    assert jena.stage is Stage.INTERESTED
    assert jena.other_solution
    assert not jena.published
    meldebescheinigung = next(
        c for c in demo_result.data.coverage if c.total.service_key == "MP-103"
    )
    assert meldebescheinigung.total.other_solution.gemeinden == 1
    with open_store(demo_result.store_url) as store:
        # the view remembers the rules it was derived with
        assert RolloutView(store).service("S16000_Onlinedienst_OD-EWA").key == "MP-101"  # type: ignore[union-attr]


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
    # plan vs actual: a burn-up chart per wave, the heat map, Sonneberg outside the plan
    section = page[page.index('<section class="plan" id="plan-th-rollout">') :]
    assert section.count('class="burnup"') == 2
    assert section.count('<table class="heatmap">') == 2
    assert "Außerhalb des Plans: MP-101 Sonneberg (online)" in section  # German by default
    assert "<h2>Plan und Ist: EfA-Rollout Thüringen</h2>" in section


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
    for value in (db, str(db), f"sqlite:///{db}"):
        with pytest.raises(DemoError, match="already exists"):
            run_demo(tmp_path / "out", db=value)
    assert db.read_bytes() == b""


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
    assert f"Bericht:  {out / 'efa-report.html'}" in result.output  # German by default
    assert "marktplatz synchronisiert: 21 neu, 0 in Quarantäne" in result.output
    # plan vs actual, next to the rollout table
    assert "Plan th-rollout: EfA-Rollout Thüringen" in result.output
    assert "Pilot (Pilotwelle), Stichtag 15.04.2024, Ziel Go-Live 31.10.2024 – überschritten" in (
        result.output
    )
    assert "außerhalb des Plans: MP-101 Sonneberg (online)" in result.output
    # a second run replaces the demo's own directory
    again = CliRunner().invoke(demo, ["--output", str(out)], terminal_width=200)
    assert again.exit_code == 0, again.output


# -- after the demo: its folder is a working efa project (issue 13 §1) -------------------------


def _efa(folder: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    from efa_core.cli import main

    old = Path.cwd()
    os.chdir(folder)
    try:
        result = CliRunner().invoke(
            main, list(args), env={"EFA_DB": None, "EFA_CONFIG": None, **(env or {})}
        )
    finally:
        os.chdir(old)
    return result.exit_code, result.output


def test_the_demo_folder_works_without_flags(demo_result: DemoResult) -> None:
    import json

    folder = demo_result.output_dir
    assert demo_result.config_path == folder / "efa.toml"
    code, out = _efa(folder, "findings", "--json")
    assert code == 0, out
    found = sorted((f["rule"], f["service"], f["area"]) for f in json.loads(out))
    demo_found = [(f.rule, f.service, str(f.area)) for f in demo_result.data.findings]
    assert found == sorted(demo_found), "efa findings in the demo folder = the demo's findings"
    code, out = _efa(folder, "report")
    assert code == 0, out
    assert "MP-101" in out
    assert "holds no data" not in out
    assert "noch keine Daten" not in out
    code, out = _efa(folder, "coverage", "MP-101", "--by", "kreis")
    assert code == 0, out
    assert "kreisweit" in out
    code, out = _efa(folder, "status")
    assert code == 0, out
    assert "dashboard-th" in out
    assert "Speicher: " in out
    assert "efa-demo.db" in out


def test_the_demo_folder_syncs_again_offline_and_unchanged(
    demo_result: DemoResult, tmp_path: Path
) -> None:
    # The example can be used by hand: `efa sync` in the folder, no server, no variables.
    import shutil

    folder = tmp_path / "copy"
    shutil.copytree(demo_result.output_dir, folder)
    code, out = _efa(folder, "sync", "--json")
    assert code == 0, out
    import json

    reports = {r["source"]: r for r in json.loads(out)["sources"]}
    assert set(reports) == {"marktplatz", "lrs-th", "fit-connect", "dashboard-th", "plan-th"}
    assert all(r["status"] == "succeeded" for r in reports.values())
    assert all(r["added"] == r["changed"] == r["deleted"] == 0 for r in reports.values())


def test_demo_db_takes_a_url_or_a_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _need_plugins()
    monkeypatch.chdir(tmp_path)
    for number, value in enumerate(["plain.db", f"sqlite:///{tmp_path / 'url.db'}"]):
        out = tmp_path / f"out{number}"
        result = run_demo(out, db=value, timeline=False)
        assert result.db_path is not None
        assert result.db_path.is_file()
        assert result.db_path.parent == tmp_path
        # The folder's efa.toml names that store, so commands there find it.
        code, text = _efa(out, "status", "--json")
        assert code == 0, text
        sources = {s["source"] for s in json_list(text)}  # type: ignore[index]
        assert sources == {
            "register",
            "marktplatz",
            "lrs-th",
            "fit-connect",
            "dashboard-th",
            "plan-th",
        }


def json_list(text: str) -> list[object]:
    import json

    data = json.loads(text)
    assert isinstance(data, list)
    return data


def test_the_demo_does_not_import_the_dashboard_fake() -> None:
    # Core never imports a plugin's test helpers: the demo reads a saved dashboard answer.
    import subprocess
    import sys

    code = (
        "import sys, efa_core.report.demo, efa_core.cli.demo; "
        "print([m for m in sys.modules if 'fakes' in m])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_second_source_naming_the_offers_by_other_ids_adds_no_service_and_no_finding(
    demo_result: DemoResult, tmp_path: Path
) -> None:
    """Issue 11, done when: the demo plus a source that names the same services otherwise."""
    import json
    import shutil

    from efa_core.ids import Ars, LeikaKey
    from efa_core.model import Availability, Service
    from efa_core.serialization import record_to_dict

    folder = tmp_path / "copy"
    shutil.copytree(demo_result.output_dir, folder)
    records = [
        # by the Marktplatz offer id, with the URL written differently
        Service(
            key="FS-2024-17",
            name="Wohnsitzanmeldung (FIT-Store)",
            leika_keys=(LeikaKey("99115005104000"),),
            offer_ids=("MP-101",),
            url="http://www.anmeldung.example.org/thueringen/",
        ),
        # by its URL alone (the Landesredaktion's Onlinedienst has it)
        Service(
            key="FS-2024-18",
            name="Hundesteuer",
            leika_keys=(LeikaKey("99041006017000"),),
            url="https://hundesteuer.example.org/thueringen?lang=de",
        ),
        # by the Onlinedienst that implements it
        Service(
            key="FS-2024-19",
            name="Meldebescheinigung online",
            leika_keys=(LeikaKey("99115003012000"),),
            onlinedienst_ids=("S16000_Onlinedienst_OD-MELDEBESCHEINIGUNG",),
        ),
        # a dashboard-like row naming the Hundesteuer by a URL below its own (Gera is live)
        Availability(
            leika_key=LeikaKey("99041006017000"),
            ars=Ars("160520000000"),
            url="https://hundesteuer.example.org/thueringen/gera/",
            online=True,
        ),
    ]
    (folder / "fitstore.jsonl").write_text(
        "".join(json.dumps(record_to_dict(r)) + "\n" for r in records), encoding="utf-8"
    )
    config = folder / "efa.toml"
    config.write_text(
        config.read_text(encoding="utf-8")
        + '\n[connectors.fitstore]\ntype = "records-file"\npath = "fitstore.jsonl"\n',
        encoding="utf-8",
    )
    code, out = _efa(folder, "sync", "fitstore")
    assert code == 0, out

    code, out = _efa(folder, "report", "--format", "json", "--timeline", "none")
    assert code == 0, out
    report = json.loads(out)
    assert [s["key"] for s in report["services"]] == ["MP-101", "MP-102", "MP-103", "MP-104"]
    found = sorted((f["rule"], f["service"], f["area"]) for f in report["findings"])
    demo_found = sorted((f.rule, f.service, str(f.area)) for f in demo_result.data.findings)
    assert found == demo_found, "no finding appears or goes"
    stages = {(r["service"], r["ars"]): r["stage"] for r in report["rows"]}
    demo_stages = {(r.service_key, str(r.ars)): r.stage.value for r in demo_result.data.rows}
    assert stages == demo_stages
    gera = next(r for r in report["rows"] if (r["service"], r["ars"]) == ("MP-102", "160520000000"))
    assert {(e["source"], e["via"]) for e in gera["evidence"] if e["stage"] == "live"} == {
        ("dashboard-th", "url"),
        ("fitstore", "url"),
    }

    code, out = _efa(folder, "explain", "service", "FS-2024-18", "--json")
    assert code == 0, out
    hundesteuer = json.loads(out)
    assert hundesteuer["key"] == "MP-102"
    assert {(link["a"], link["b"], link["reason"]) for link in hundesteuer["links"]} == {
        (
            "MP-102",
            "S16000_Onlinedienst_OD-HUNDESTEUER",
            "efa.toml [identity].onlinedienste of MP-102",
        ),
        (
            "FS-2024-18",
            "S16000_Onlinedienst_OD-HUNDESTEUER",
            "both have the URL hundesteuer.example.org/thueringen",
        ),
    }
    code, out = _efa(folder, "explain", "service", "MP-101")
    assert code == 0, out
    assert "  FS-2024-17 = MP-101: fitstore FS-2024-17 names offer id MP-101" in out
    code, out = _efa(folder, "explain", "service", "FS-2024-19")
    assert code == 0, out
    assert out.startswith("Dienst MP-103: Meldebescheinigung\n")
    assert (
        "  FS-2024-19 = S16000_Onlinedienst_OD-MELDEBESCHEINIGUNG: fitstore FS-2024-19 names "
        "Onlinedienst S16000_Onlinedienst_OD-MELDEBESCHEINIGUNG"
    ) in out
