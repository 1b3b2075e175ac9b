"""Reports on the derived rollout view: table, CSV, JSON and a self-contained HTML page.

* :func:`collect_report` gathers what a report shows (:class:`ReportData`) from a store;
* :func:`render_table`, :func:`render_csv`, :func:`render_json` and :func:`render_html`
  render it;
* :func:`stage_timeline` counts the stages at a series of dates (history or source dates);
  :class:`TimelineCounter` does so from rows a caller has read anyway;
* :func:`run_demo` runs ``efa demo``: the Thüringen example, synced through the real
  connectors, with its report.
"""

from __future__ import annotations

from efa_core.report.data import ReportData, collect_report, iter_report_rows, row_to_dict
from efa_core.report.demo import DemoError, DemoResult, check_plugins, run_demo
from efa_core.report.formats import (
    findings_table,
    render_csv,
    render_json,
    render_table,
    rollout_table,
    write_csv,
)
from efa_core.report.html import render_html
from efa_core.report.timeline import Timeline, TimelineCounter, TimelinePoint, stage_timeline

__all__ = [
    "DemoError",
    "DemoResult",
    "ReportData",
    "Timeline",
    "TimelineCounter",
    "TimelinePoint",
    "check_plugins",
    "collect_report",
    "findings_table",
    "iter_report_rows",
    "render_csv",
    "render_html",
    "render_json",
    "render_table",
    "rollout_table",
    "row_to_dict",
    "run_demo",
    "stage_timeline",
    "write_csv",
]
