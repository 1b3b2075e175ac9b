"""Report formats on a small store: table, CSV, JSON, HTML (escaping), and ``efa report``."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from efa_core.cli.report import report
from efa_core.errors import EfaError
from efa_core.model import Stage
from efa_core.plugins import PluginRegistry
from efa_core.report import (
    collect_report,
    render_csv,
    render_html,
    render_json,
    render_table,
)
from efa_core.store import Store

from .helpers import EVIL_NAME, NOW


def test_collect_follows_the_small_store(small_store: Store, registry: PluginRegistry) -> None:
    data = collect_report(small_store, registry.finding_rules(), land="TH", now=NOW)
    stages = {(r.service_key, str(r.ars)): r.stage for r in data.rows}
    # Weimar: contract + responsibility + route + dashboard row of its Kreis -> live; the
    # dashboard's Kreis 16055 and the Gemeinde 160550000000 are one area (the register says
    # the kreisfreie Stadt is its single Gemeinde): one row, at the Gemeinde ARS.
    # Eichsfeld: its contract only; Dessau-Roßlau lies outside Thüringen.
    assert stages == {
        ("anmeldung", "160550000000"): Stage.LIVE,
        ("anmeldung", "16061"): Stage.CONTRACTED,
        ("hund", "160550000000"): Stage.INTERESTED,
    }
    # Eichsfeld's contract (2024-02-01) is older than 90 days at NOW and nothing is
    # published.  Weimar's contract (naming the Gemeinde 160550000000) governs the dashboard
    # row naming its Kreis 16055 too: no live-without-agreement.
    found = sorted((f.rule, str(f.area)) for f in data.findings)
    assert found == [("contracted-not-published", "16061")]
    weimar = next(r for r in data.rows if r.service_key == "anmeldung" and r.live)
    assert [str(a) for a in weimar.aliases] == ["16055", "160550000"]
    (online,) = weimar.evidence_for(Stage.LIVE)
    assert (online.ars, online.mapped_to) == ("16055", "160550000000")
    # Funnel over the 3 Thüringen Gemeinden x 2 services: anmeldung reaches contracted in
    # all three (Weimar live, Adorf and Bdorf through Eichsfeld), hund is interested in one.
    assert data.funnel[Stage.OFFERED] == 6
    assert data.funnel[Stage.INTERESTED] == 4
    assert data.funnel[Stage.CONTRACTED] == 3
    assert data.funnel[Stage.LIVE] == 1


def test_filters_by_stage_and_service(small_store: Store, registry: PluginRegistry) -> None:
    data = collect_report(
        small_store, registry.finding_rules(), services=["anmeldung"], stages=["live"], now=NOW
    )
    assert {(r.service_key, str(r.ars)) for r in data.rows} == {
        ("anmeldung", "160550000000"),
    }
    assert list(data.services) == ["anmeldung"]


def test_unknown_service_stage_and_land_are_errors(
    small_store: Store, registry: PluginRegistry
) -> None:
    rules = registry.finding_rules()
    with pytest.raises(EfaError, match=r"unknown service.*nope.*known: anmeldung, hund"):
        collect_report(small_store, rules, services=["nope"], timeline=False)
    with pytest.raises(EfaError, match="known stages"):
        collect_report(small_store, rules, stages=["done"], timeline=False)
    with pytest.raises(EfaError, match="unknown Land 'XX'"):
        collect_report(small_store, rules, land="XX", timeline=False)


def test_csv_has_one_line_per_row(small_store: Store, registry: PluginRegistry) -> None:
    data = collect_report(small_store, registry.finding_rules(), now=NOW, timeline=False)
    lines = list(csv.DictReader(io.StringIO(render_csv(data))))
    assert len(lines) == len(data.rows) == 4  # with Dessau-Roßlau: no --land
    weimar = next(r for r in lines if r["service"] == "anmeldung" and r["ars"] == "160550000000")
    assert weimar["stage"] == "live"
    assert weimar["area"] == "Weimar, Stadt"
    assert weimar["agreement_since"] == "2024-01-10"
    assert weimar["sources"].split() == ["dashboard", "fit", "lrs", "registry"]


def test_csv_defuses_formulas(small_store: Store, registry: PluginRegistry) -> None:
    # issue 14 §3: a name that German Excel (splitting on ';') would open as a formula
    with small_store.transaction():
        small_store.backend.execute(
            "UPDATE records SET payload = REPLACE(payload, ?, ?) WHERE kind = 'service'",
            ("<script>", "X;=cmd|' /C calc'!A0 <script>"),
        )
    data = collect_report(small_store, registry.finding_rules(), land="TH", now=NOW)
    text = render_csv(data)
    assert "\"X;'=cmd|' /C calc'!A0 <script>" in text
    assert ";=" not in text


def test_json_is_complete(small_store: Store, registry: PluginRegistry) -> None:
    data = collect_report(small_store, registry.finding_rules(), land="16", now=NOW)
    doc = json.loads(render_json(data))
    assert doc["land"] == "TH"
    assert {r["ars"] for r in doc["rows"]} == {"160550000000", "16061"}
    assert doc["funnel"]["live"] == 1
    assert {f["rule"] for f in doc["findings"]} == {"contracted-not-published"}
    assert doc["timeline"]["points"][-1]["reached"]["live"] == 1
    kreise = {g["area"] for g in doc["coverage"][0]["groups"]}
    assert kreise == {"16055", "16061"}


def test_table_shows_rows_and_findings(small_store: Store, registry: PluginRegistry) -> None:
    data = collect_report(small_store, registry.finding_rules(), land="TH", now=NOW)
    text = render_table(data, width=200)
    assert "160550000000 Weimar, Stadt" in text
    assert "contracted-not-published" in text
    # Rich markup in data stays literal (the evil name has brackets-free HTML, check it).
    assert "<script>" in text


def test_html_escapes_data(small_store: Store, registry: PluginRegistry) -> None:
    data = collect_report(small_store, registry.finding_rules(), now=NOW)
    page = render_html(data)
    assert "<script" not in page  # the service name is text, not an element
    assert (
        "&lt;script&gt;document.title=&#x27;pwned&#x27;&lt;/script&gt; &amp; &quot;Hund&quot;"
        in page
    )
    assert EVIL_NAME not in page
    # self-contained: no external resources, no scripts
    assert not re.search(r"\s(src|href)\s*=", page)
    assert page.count("<svg") == 3


def test_html_charts_have_data(small_store: Store, registry: PluginRegistry) -> None:
    page = render_html(collect_report(small_store, registry.finding_rules(), land="TH", now=NOW))
    funnel = re.search(r'<svg id="chart-funnel".*?</svg>', page, re.S)
    assert funnel is not None
    live = re.search(
        r'<rect class="bar" data-stage="live" x="[\d.]+" y="[\d.]+" width="([\d.]+)"',
        funnel.group(0),
    )
    assert live is not None
    assert float(live.group(1)) > 0
    assert 'data-kreis="16061"' in page
    assert re.search(r'<path class="line" data-stage="live" d="M[\d.]+,[\d.]+', page)


def test_cli_report_formats(tmp_path: Path, small_store: Store, db_url: str) -> None:
    runner = CliRunner()
    result = runner.invoke(report, ["--db", db_url, "--land", "TH", "--format", "csv"])
    assert result.exit_code == 0, result.output
    assert "Dessau" not in result.output
    assert "anmeldung,Wohnsitzanmeldung,160550000000" in result.output

    out = tmp_path / "r.html"
    result = runner.invoke(report, ["--db", db_url, "--format", "html", "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")

    result = runner.invoke(report, ["--db", db_url, "--format", "json", "--timeline", "none"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["timeline"] is None

    result = runner.invoke(report, ["--db", db_url, "--stage", "contracted"])
    assert result.exit_code == 0, result.output
    assert "16061 Eichsfeld" in result.output
    assert "Weimar, Stadt" not in result.output.split("Findings")[0]

    result = runner.invoke(report, ["--db", db_url, "--service", "nope"])
    assert result.exit_code == 1
    assert "unknown service(s) nope" in result.output


def _visible_text(page: str) -> str:
    """The page's text without markup, style and the findings table."""
    page = re.sub(
        r'<table id="table-findings">.*?</table>|<style>.*?</style>', "", page, flags=re.S
    )
    return re.sub(r"<[^>]+>", " ", page)


def test_html_is_german_by_default_and_english_by_option(
    small_store: Store, registry: PluginRegistry
) -> None:
    data = collect_report(small_store, registry.finding_rules(), land="TH", now=NOW)
    german = render_html(data)
    assert german == render_html(data, lang="de")
    assert '<html lang="de">' in german
    for label in (
        "<h2>Rollout-Trichter</h2>",
        "<h2>Stand je Kreis</h2>",
        "<h2>Befunde (1)</h2>",
        "<th>Dienst</th><th>Gebiet</th><th>Stand</th>",
        ">Vertrag geschlossen</span>",  # Eichsfeld's stage badge
        "Vertrag geschlossen seit 01.02.2024",  # its agreement
        '<td class="sev-warning">Warnung</td>',
        "Erstellt am ",
    ):
        assert label in german, label
    assert re.search(r'<svg id="chart-timeline".*?>\d\d\.\d\d\.\d{4}</text>', german, re.S)

    english = render_html(data, lang="en")
    assert '<html lang="en">' in english
    for label in (
        "<h2>Rollout funnel</h2>",
        "<h2>Findings (1)</h2>",
        "<th>Service</th><th>Area</th><th>Stage</th>",
        ">contracted</span>",
        "contracted since 2024-02-01",
        '<td class="sev-warning">warning</td>',
    ):
        assert label in english, label
    # no label of the other language (the findings' messages are the rules' own, English)
    for german_word in ("Rollout-Trichter", "Dienst", "Vertrag geschlossen", "seit", "Befunde"):
        assert german_word not in _visible_text(english)
    for english_word in ("Rollout funnel", "Findings", "since", "contracted", "Generated"):
        assert english_word not in _visible_text(german)
    assert german.count("<tr>") == english.count("<tr>")
    with pytest.raises(ValueError, match="unknown language"):
        render_html(data, lang="fr")


def test_table_is_german_by_default_and_english_by_option(
    small_store: Store, registry: PluginRegistry
) -> None:
    data = collect_report(small_store, registry.finding_rules(), land="TH", now=NOW)
    german = render_table(data, width=200)
    assert "EfA-Rollout Thüringen: Stand je Dienst × Gebiet" in german
    assert "Vertrag geschlossen seit 01.02.2024" in german
    assert "Befunde (1)" in german
    assert "Warnung" in german
    english = render_table(data, width=200, lang="en")
    assert "EfA-Rollout Thüringen: stage per service × area" in english
    assert "contracted since 2024-02-01" in english
    assert "Findings (1)" in english


def test_cli_report_language(tmp_path: Path, small_store: Store, db_url: str) -> None:
    runner = CliRunner()
    out = tmp_path / "r.html"
    args = ["--db", db_url, "--format", "html", "--output", str(out)]
    assert runner.invoke(report, args).exit_code == 0
    assert '<html lang="de">' in out.read_text(encoding="utf-8")
    assert runner.invoke(report, [*args, "--lang", "en"]).exit_code == 0
    assert '<html lang="en">' in out.read_text(encoding="utf-8")
    assert runner.invoke(report, args, env={"EFA_LANG": "en"}).exit_code == 0
    assert '<html lang="en">' in out.read_text(encoding="utf-8")
    config = tmp_path / "efa.toml"
    config.write_text('[report]\nlang = "en"\n', encoding="utf-8")
    result = runner.invoke(report, ["--db", db_url, "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert "stage per service × area" in result.output
    # CSV is for programs: the same columns and values in every language
    csv_de = runner.invoke(report, ["--db", db_url, "--format", "csv"]).output
    csv_en = runner.invoke(report, ["--db", db_url, "--format", "csv", "--lang", "en"]).output
    assert csv_de == csv_en
    assert ",contracted," in csv_de
