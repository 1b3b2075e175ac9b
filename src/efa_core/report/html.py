"""The HTML report: one self-contained file with inline styles and hand-written SVG charts.

:func:`render_html` turns a :class:`~efa_core.report.data.ReportData` into a page that needs
no network and no script: the rollout funnel, the stages per Kreis, the stages over time,
a summary per service, plan vs actual of each plan (:mod:`efa_core.report.plan`), the
findings and the rollout rows.  Every value from the store is
escaped with :func:`html.escape` (text and attributes), so a service called
``<script>…</script>`` is shown as text and never runs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape

from efa_core import __version__
from efa_core.model import Stage
from efa_core.report.data import ReportData, agreement_text, evidence_text
from efa_core.report.plan import PLAN_CSS, render_plan_section
from efa_core.report.timeline import Timeline

__all__ = ["STAGE_COLORS", "render_html"]

#: The colour of each stage in the charts.
STAGE_COLORS = {
    Stage.TERMINATED: "#b91c1c",
    Stage.OFFERED: "#9ca3af",
    Stage.INTERESTED: "#f59e0b",
    Stage.CONTRACTED: "#0891b2",
    Stage.PUBLISHED: "#2563eb",
    Stage.ROUTABLE: "#7c3aed",
    Stage.LIVE: "#16a34a",
}
_FUNNEL = (
    Stage.OFFERED,
    Stage.INTERESTED,
    Stage.CONTRACTED,
    Stage.PUBLISHED,
    Stage.ROUTABLE,
    Stage.LIVE,
)
_ORDER = (Stage.TERMINATED, *_FUNNEL)

_CSS = """
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 2rem;
       color: #111827; background: #fff; line-height: 1.4; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; }
h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid #e5e7eb; }
.meta { color: #6b7280; font-size: .9rem; }
table { border-collapse: collapse; font-size: .85rem; margin: .5rem 0; }
th, td { border: 1px solid #e5e7eb; padding: .25rem .5rem; text-align: left;
         vertical-align: top; }
th { background: #f9fafb; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.stage { display: inline-block; padding: 0 .4rem; border-radius: .6rem; color: #fff;
         font-size: .8rem; }
.sev-error { color: #b91c1c; font-weight: bold; }
.sev-warning { color: #b45309; }
.legend span { display: inline-block; margin-right: 1rem; font-size: .8rem; }
.legend i { display: inline-block; width: .8rem; height: .8rem; margin-right: .3rem;
            vertical-align: middle; }
svg text { font-family: inherit; font-size: 12px; fill: #111827; }
.empty { color: #6b7280; font-style: italic; }
"""


def _e(value: object) -> str:
    """Escape *value* for HTML text and attribute values."""
    return escape("" if value is None else str(value), quote=True)


def _stage_badge(stage: Stage) -> str:
    return (
        f'<span class="stage stage-{_e(stage.value)}" '
        f'style="background:{STAGE_COLORS[stage]}">{_e(stage.value)}</span>'
    )


def _legend(stages: Iterable[Stage]) -> str:
    items = "".join(
        f'<span><i style="background:{STAGE_COLORS[s]}"></i>{_e(s.value)}</span>' for s in stages
    )
    return f'<div class="legend">{items}</div>'


def _funnel_svg(funnel: dict[Stage, int]) -> str:
    stages = (*_FUNNEL, Stage.TERMINATED)
    top = max([funnel[s] for s in stages] + [1])
    bar_h, gap, left, width = 26, 8, 110, 520
    height = len(stages) * (bar_h + gap) + gap
    parts = [
        f'<svg id="chart-funnel" class="chart" role="img" xmlns="http://www.w3.org/2000/svg" '
        f'width="{left + width + 80}" height="{height}" '
        f'viewBox="0 0 {left + width + 80} {height}">',
        "<title>Rollout funnel: service × Gemeinde pairs that reached each stage</title>",
    ]
    for i, stage in enumerate(stages):
        y = gap + i * (bar_h + gap)
        w = round(width * funnel[stage] / top, 1)
        x = left + (width - w) / 2
        parts.append(
            f'<text x="{left - 8}" y="{y + bar_h * 0.68}" text-anchor="end">'
            f"{_e(stage.value)}</text>"
            f'<rect class="bar" data-stage="{_e(stage.value)}" x="{x}" y="{y}" width="{w}" '
            f'height="{bar_h}" fill="{STAGE_COLORS[stage]}" rx="3"/>'
            f'<text x="{left + width + 8}" y="{y + bar_h * 0.68}">{funnel[stage]}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _kreis_rows(data: ReportData) -> list[tuple[str, str, dict[Stage, int], int]]:
    """Per Kreis: (ARS, name, pairs at exactly each stage, Gemeinden live over services)."""
    kreise: dict[str, tuple[str, dict[Stage, int], int]] = {}
    for report in data.coverage:
        for group in report.groups:
            key = str(group.area)
            name, counts, live = kreise.get(key, (group.name or key, dict.fromkeys(Stage, 0), 0))
            for stage in Stage:
                counts[stage] += group.at[stage].gemeinden
            kreise[key] = (name, counts, live + group.reached[Stage.LIVE].gemeinden)
    return [(k, n, c, live) for k, (n, c, live) in sorted(kreise.items())]


def _coverage_svg(data: ReportData) -> str:
    rows = _kreis_rows(data)
    if not rows:
        return '<p class="empty">No Gemeinden known in this area (import a register).</p>'
    bar_h, gap, left, width = 20, 6, 210, 480
    height = len(rows) * (bar_h + gap) + gap
    parts = [
        f'<svg id="chart-coverage" class="chart" role="img" xmlns="http://www.w3.org/2000/svg" '
        f'width="{left + width + 120}" height="{height}" '
        f'viewBox="0 0 {left + width + 120} {height}">',
        "<title>Stages per Kreis: service × Gemeinde pairs at each stage</title>",
    ]
    for i, (ars, name, counts, live) in enumerate(rows):
        y = gap + i * (bar_h + gap)
        total = sum(counts.values()) or 1
        parts.append(
            f'<text x="{left - 8}" y="{y + bar_h * 0.72}" text-anchor="end">'
            f"{_e(name)} ({_e(ars)})</text>"
        )
        x = float(left)
        for stage in _ORDER:
            n = counts[stage]
            if not n:
                continue
            w = round(width * n / total, 1)
            parts.append(
                f'<rect class="bar" data-kreis="{_e(ars)}" data-stage="{_e(stage.value)}" '
                f'x="{x}" y="{y}" width="{w}" height="{bar_h}" fill="{STAGE_COLORS[stage]}">'
                f"<title>{_e(name)}: {n} × {_e(stage.value)}</title></rect>"
            )
            x += w
        parts.append(
            f'<text x="{left + width + 8}" y="{y + bar_h * 0.72}">live {live}/{total}</text>'
        )
    parts.append("</svg>")
    return "".join(parts) + _legend(_ORDER)


def _timeline_svg(timeline: Timeline | None) -> str:
    if timeline is None or not timeline.points:
        return '<p class="empty">No timeline (nothing synced yet, or not asked for).</p>'
    points = timeline.points
    left, right, top, bottom, width, height = 50, 20, 10, 40, 640, 240
    plot_w, plot_h = width - left - right, height - top - bottom
    high = max([p.reached[Stage.INTERESTED] for p in points] + [1])
    first, last = points[0].at.timestamp(), points[-1].at.timestamp()
    span = (last - first) or 1.0

    def xy(index: int, value: int) -> tuple[float, float]:
        x = left + (
            plot_w / 2 if last == first else plot_w * (points[index].at.timestamp() - first) / span
        )
        return round(x, 1), round(top + plot_h - plot_h * value / high, 1)

    parts = [
        f'<svg id="chart-timeline" class="chart" role="img" xmlns="http://www.w3.org/2000/svg" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}">',
        "<title>Stages over time: service × Gemeinde pairs that had reached each stage</title>",
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" '
        'stroke="#6b7280"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="#6b7280"/>',
        f'<text x="{left - 6}" y="{top + 10}" text-anchor="end">{high}</text>',
        f'<text x="{left - 6}" y="{top + plot_h}" text-anchor="end">0</text>',
    ]
    labels = {0, len(points) - 1, len(points) // 2}
    for i in sorted(labels):
        x, _ = xy(i, 0)
        anchor = "middle"
        if len(points) > 1 and i == 0:
            anchor = "start"
        elif len(points) > 1 and i == len(points) - 1:
            anchor = "end"
        parts.append(
            f'<text x="{x}" y="{height - 12}" text-anchor="{anchor}">'
            f"{_e(points[i].at.date().isoformat())}</text>"
        )
    for stage in _FUNNEL[1:]:
        coords = [xy(i, p.reached[stage]) for i, p in enumerate(points)]
        d = " ".join(f"{'M' if i == 0 else 'L'}{x},{y}" for i, (x, y) in enumerate(coords))
        parts.append(
            f'<path class="line" data-stage="{_e(stage.value)}" d="{d}" fill="none" '
            f'stroke="{STAGE_COLORS[stage]}" stroke-width="2"/>'
        )
        parts.extend(
            f'<circle cx="{x}" cy="{y}" r="3" fill="{STAGE_COLORS[stage]}">'
            f"<title>{_e(points[i].at.date().isoformat())}: {points[i].reached[stage]} × "
            f"{_e(stage.value)} or further</title></circle>"
            for i, (x, y) in enumerate(coords)
        )
    parts.append("</svg>")
    clock = (
        "what efa-core knew at each date (store history)"
        if timeline.clock == "history"
        else "the dates the sources give (contract dates, modification dates; "
        "else when efa-core first saw a record)"
    )
    return "".join(parts) + _legend(_FUNNEL[1:]) + f'<p class="meta">Clock: {_e(clock)}.</p>'


def _table(header: Sequence[str], rows: Iterable[Sequence[str]], *, table_id: str) -> str:
    """Build a table; *rows* hold ready HTML (escape data before)."""
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(cells) + "</tr>" for cells in rows)
    if not body:
        return f'<p class="empty" id="{_e(table_id)}">None.</p>'
    return f'<table id="{_e(table_id)}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _td(value: object, *, num: bool = False) -> str:
    return f'<td class="num">{_e(value)}</td>' if num else f"<td>{_e(value)}</td>"


def _services_table(data: ReportData) -> str:
    rows = []
    for report in data.coverage:
        total = report.total
        info = data.services.get(total.service_key)
        rows.append(
            [
                _td(total.service_key),
                _td(info.name if info else ""),
                _td(", ".join(info.leika_keys) if info else ""),
                _td(total.gemeinden, num=True),
                *(_td(total.reached[s].gemeinden, num=True) for s in _FUNNEL[1:]),
                _td(total.at[Stage.TERMINATED].gemeinden, num=True),
                _td(total.other_solution.gemeinden, num=True),
                _td(total.ambiguous.gemeinden, num=True),
                _td(total.label),
            ]
        )
    header = (
        "Service",
        "Name",
        "LeiKa keys",
        "Gemeinden",
        *(f"≥ {s.value}" for s in _FUNNEL[1:]),
        "terminated",
        "another solution",
        "ambiguous",
        "Coverage (live)",
    )
    return _table(header, rows, table_id="table-services")


def _findings_table(data: ReportData) -> str:
    rows = [
        [
            f'<td class="sev-{_e(f.severity.value)}">{_e(f.severity.value)}</td>',
            _td(f.rule),
            _td(f"{f.service} {data.service_name(f.service)}" if f.service else "-"),
            _td(data.area_label(f.area)),
            _td(f.message),
            _td("; ".join(f"{e.kind} {e.natural_key} ({e.source})" for e in f.evidence)),
        ]
        for f in data.findings
    ]
    return _table(
        ("Severity", "Rule", "Service", "Area", "Message", "Evidence"),
        rows,
        table_id="table-findings",
    )


def _rows_table(data: ReportData) -> str:
    rows = []
    for row in data.rows:
        evidence = "; ".join(evidence_text(e) for e in row.evidence if e.kind != "service")
        marks = [
            text
            for flag, text in (
                (row.offline, "dashboard: offline"),
                (row.other_solution, "another solution in use"),
                (row.ambiguous, "ambiguous evidence"),
                (row.disagreement, "sources disagree"),
            )
            if flag
        ]
        rows.append(
            [
                _td(f"{row.service_key} {data.service_name(row.service_key)}"),
                _td(data.area_label(row.ars)),
                "<td>"
                + _stage_badge(row.stage)
                + "".join(f" <em>({_e(m)})</em>" for m in marks)
                + "</td>",
                _td(agreement_text(row)),
                _td(evidence or "-"),
            ]
        )
    return _table(
        ("Service", "Area", "Stage", "Agreement", "Evidence"), rows, table_id="table-rows"
    )


def render_html(data: ReportData) -> str:
    """Return the report as one self-contained HTML page (no network, no scripts)."""
    filters = []
    if data.land is not None:
        filters.append(f"Land {data.land.name_de} ({data.land.code})")
    if data.service_filter:
        filters.append("services " + ", ".join(data.service_filter))
    if data.stages:
        filters.append("rows at " + ", ".join(s.value for s in data.stages))
    where = "; ".join(filters) or "all areas and services"
    counts = f"{len(data.services)} services, {len(data.rows)} rows, {len(data.findings)} findings"
    return "".join(
        [
            '<!DOCTYPE html>\n<html lang="de"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{_e(data.title)}</title><style>{_CSS}{PLAN_CSS if data.plans else ''}"
            "</style></head><body>",
            f"<h1>{_e(data.title)}</h1>",
            f'<p class="meta">{_e(where)}. {_e(counts)}. Generated '
            f"{_e(data.generated_at.strftime('%Y-%m-%d %H:%M UTC'))} from {_e(data.store_url)} "
            f"by efa-core {_e(__version__)}.</p>",
            "<h2>Rollout funnel</h2>",
            '<p class="meta">Service × Gemeinde pairs that reached each stage '
            "(terminated: exactly).</p>",
            _funnel_svg(data.funnel),
            "<h2>Stages per Kreis</h2>",
            _coverage_svg(data),
            "<h2>Stages over time</h2>",
            _timeline_svg(data.timeline),
            "<h2>Services</h2>",
            _services_table(data),
            *(render_plan_section(p, style=False) for p in data.plans),
            f"<h2>Findings ({len(data.findings)})</h2>",
            _findings_table(data),
            f"<h2>Rollout rows ({len(data.rows)})</h2>",
            _rows_table(data),
            "</body></html>\n",
        ]
    )
