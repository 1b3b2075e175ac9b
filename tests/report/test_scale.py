"""Reports at national scale: a summary page, the detail of a scope, every row as CSV (issue 15)."""

from __future__ import annotations

import csv
import io
import tracemalloc
from pathlib import Path

import attrs
import pytest
from click.testing import CliRunner

from efa_core.cli.report import report
from efa_core.errors import EfaError
from efa_core.plugins import PluginRegistry
from efa_core.report import (
    ReportData,
    collect_report,
    iter_report_rows,
    render_csv,
    render_html,
    write_csv,
)
from efa_core.report.html import HTML_MAX_ROWS
from efa_core.rollout import RolloutView
from efa_core.store import Store, open_store

from .helpers import NOW, national_like


def test_the_national_page_summarises_by_land_and_counts_rows_and_findings(
    small_store: Store, registry: PluginRegistry
) -> None:
    full = collect_report(small_store, registry.finding_rules(), now=NOW)
    summary = collect_report(small_store, registry.finding_rules(), now=NOW, detail=False)
    assert summary.rows == ()
    assert summary.findings == ()
    assert summary.row_count == len(full.rows) == 4
    assert summary.finding_total == len(full.findings)
    assert summary.funnel == full.funnel
    page = render_html(summary, lang="en")
    assert "<h2>Stages per Land</h2>" in page
    assert "<h2>Stand je Land</h2>" in render_html(summary)
    assert 'data-land="16"' in page
    assert 'data-land="15"' in page
    assert 'id="table-rows"' not in page
    assert 'id="no-detail"' in page
    assert 'id="table-finding-counts"' in page
    assert "contracted-not-published" in page
    assert f"{summary.row_count} rows" in page


def test_a_kreis_report_lists_only_the_kreis(small_store: Store, registry: PluginRegistry) -> None:
    data = collect_report(small_store, registry.finding_rules(), kreis="16061", now=NOW)
    assert data.land is not None
    assert data.land.code == "16"
    assert data.within == "16061"
    assert {str(r.ars) for r in data.rows} == {"16061"}
    assert [str(g.area) for g in data.coverage[0].groups] == ["16061"]
    assert "Eichsfeld" in data.title
    with pytest.raises(EfaError, match="lies in Thüringen, not in Sachsen-Anhalt"):
        collect_report(small_store, {}, land="ST", kreis="16061")
    with pytest.raises(EfaError, match="--kreis wants the ARS"):
        collect_report(small_store, {}, kreis="Eichsfeld")


def test_the_page_lists_at_most_html_max_rows(small_store: Store, registry: PluginRegistry) -> None:
    data = collect_report(small_store, registry.finding_rules(), now=NOW)
    rows = data.rows * (HTML_MAX_ROWS // len(data.rows) + 1)
    many = attrs.evolve(data, rows=rows, row_count=len(rows))
    page = render_html(many, lang="en")
    listed = page.split('id="table-rows"')[1]
    assert listed.count("<tr><td>") == HTML_MAX_ROWS
    assert f"{HTML_MAX_ROWS:,} of {len(rows):,} rows listed" in page


def test_the_streamed_csv_equals_the_rendered_one(
    small_store: Store, registry: PluginRegistry
) -> None:
    full = collect_report(small_store, {}, now=NOW, timeline=False)
    summary = collect_report(small_store, {}, now=NOW, timeline=False, detail=False)
    out = io.StringIO()
    assert write_csv(summary, out, iter_report_rows(small_store, summary)) == 4
    assert out.getvalue() == render_csv(full)
    staged = collect_report(small_store, {}, stages=["contracted"], land="TH", detail=False)
    lines = list(csv.DictReader(io.StringIO(render_csv(staged))))
    assert lines == []  # detail=False lists nothing
    streamed = io.StringIO()
    write_csv(staged, streamed, iter_report_rows(small_store, staged))
    assert [r["ars"] for r in csv.DictReader(io.StringIO(streamed.getvalue()))] == ["16061"]


def test_cli_kreis_and_the_national_page(tmp_path: Path, small_store: Store, db_url: str) -> None:
    runner = CliRunner()
    result = runner.invoke(report, ["--db", db_url, "--kreis", "16061", "--format", "csv"])
    assert result.exit_code == 0, result.output
    assert [r["ars"] for r in csv.DictReader(io.StringIO(result.output))] == ["16061"]
    out = tmp_path / "de.html"
    result = runner.invoke(report, ["--db", db_url, "--format", "html", "-o", str(out)])
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    assert 'id="no-detail"' in page
    assert "Stand je Land" in page
    out = tmp_path / "rows.csv"
    result = runner.invoke(report, ["--db", db_url, "--format", "csv", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert len(out.read_text(encoding="utf-8").splitlines()) == 1 + 4


def _summary_peak(tmp_path: Path, services: int) -> tuple[int, ReportData]:
    registry = PluginRegistry(entrypoints=False)
    with open_store(f"sqlite:///{tmp_path / f'{services}.db'}") as store:
        national_like(store, services)
        RolloutView(store).derive()
        tracemalloc.start()
        try:
            data = collect_report(
                store, registry.finding_rules(), now=NOW, detail=False, timeline_clock="source"
            )
            render_html(data)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    return peak, data


def test_the_national_summary_holds_one_service_at_a_time(tmp_path: Path) -> None:
    # Issue 15: a national HTML report held every row, finding and a scratch store per
    # timeline date (8.2 GB at 11,004 Gemeinden x 100 services); the summary's memory is
    # one service's rows plus what the page shows, so 8x the services must not cost 8x.
    small, few = _summary_peak(tmp_path, 2)
    large, many = _summary_peak(tmp_path, 16)
    assert (few.row_count, many.row_count) == (2 * 300, 16 * 300)
    assert many.finding_total > 0
    assert large < small * 2, (small, large)


def _derive_peak(tmp_path: Path, services: int) -> tuple[int, int]:
    with open_store(f"sqlite:///{tmp_path / f'derive-{services}.db'}") as store:
        national_like(store, services)
        tracemalloc.start()
        try:
            rows = RolloutView(store).derive().rows_written
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    return peak, rows


def test_a_full_derive_holds_one_service_at_a_time(tmp_path: Path) -> None:
    # Issue 15: a full derive loaded every agreement first (144 MB at 10 national services,
    # 2.3 GB at 300); it derives service by service now, so 8x the services stay flat.
    small, few = _derive_peak(tmp_path, 2)
    large, many = _derive_peak(tmp_path, 16)
    assert (few, many) == (2 * 300, 16 * 300)
    assert large < small * 2, (small, large)
