"""The HTML report: one self-contained file with inline styles and hand-written SVG charts.

:func:`render_html` turns a :class:`~efa_core.report.data.ReportData` into a page that needs
no network and no script: the rollout funnel, the stages per Kreis, the stages over time,
a summary per service, plan vs actual of each plan (:mod:`efa_core.report.plan`), the
findings and the rollout rows, in German (the default) or English (``lang="en"``; labels
from :mod:`efa_core.i18n`).  Every value from the store is
escaped with :func:`html.escape` (text and attributes), so a service called
``<script>…</script>`` is shown as text and never runs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape

from efa_core import __version__
from efa_core.i18n import M, Text, Translator, translator
from efa_core.model import Stage
from efa_core.report.data import ReportData, agreement_text, evidence_text
from efa_core.report.plan import PLAN_CSS, render_plan_section
from efa_core.report.timeline import Timeline

__all__ = ["HTML_MAX_ROWS", "STAGE_COLORS", "render_html"]

#: At most this many rows and this many findings are listed on the page; the rest are
#: counted, and ``--format csv`` / ``json`` give them all (a page a browser still opens).
HTML_MAX_ROWS = 5000

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


def _stage_badge(stage: Stage, tr: Translator) -> str:
    return (
        f'<span class="stage stage-{_e(stage.value)}" '
        f'style="background:{STAGE_COLORS[stage]}">{_e(tr.stage(stage))}</span>'
    )


def _legend(stages: Iterable[Stage], tr: Translator) -> str:
    items = "".join(
        f'<span><i style="background:{STAGE_COLORS[s]}"></i>{_e(tr.stage(s))}</span>'
        for s in stages
    )
    return f'<div class="legend">{items}</div>'


def _funnel_svg(funnel: dict[Stage, int], tr: Translator) -> str:
    stages = (*_FUNNEL, Stage.TERMINATED)
    top = max([funnel[s] for s in stages] + [1])
    bar_h, gap, left, width = 26, 8, 150, 520
    height = len(stages) * (bar_h + gap) + gap
    parts = [
        f'<svg id="chart-funnel" class="chart" role="img" xmlns="http://www.w3.org/2000/svg" '
        f'width="{left + width + 80}" height="{height}" '
        f'viewBox="0 0 {left + width + 80} {height}">',
        f"<title>{_e(tr(M.FUNNEL_CHART))}</title>",
    ]
    for i, stage in enumerate(stages):
        y = gap + i * (bar_h + gap)
        w = round(width * funnel[stage] / top, 1)
        x = left + (width - w) / 2
        parts.append(
            f'<text x="{left - 8}" y="{y + bar_h * 0.68}" text-anchor="end">'
            f"{_e(tr.stage(stage))}</text>"
            f'<rect class="bar" data-stage="{_e(stage.value)}" x="{x}" y="{y}" width="{w}" '
            f'height="{bar_h}" fill="{STAGE_COLORS[stage]}" rx="3"/>'
            f'<text x="{left + width + 8}" y="{y + bar_h * 0.68}">{tr.number(funnel[stage])}</text>'
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


def _coverage_svg(data: ReportData, tr: Translator) -> str:
    rows = _kreis_rows(data)
    if not rows:
        return f'<p class="empty">{_e(tr(M.NO_GEMEINDEN))}</p>'
    bar_h, gap, left, width = 20, 6, 210, 480
    height = len(rows) * (bar_h + gap) + gap
    by_land = data.group_level.length == 2
    level = "land" if by_land else "kreis"
    parts = [
        f'<svg id="chart-coverage" class="chart" role="img" xmlns="http://www.w3.org/2000/svg" '
        f'width="{left + width + 120}" height="{height}" '
        f'viewBox="0 0 {left + width + 120} {height}">',
        f"<title>{_e(tr(M.PER_LAND_CHART if by_land else M.PER_KREIS_CHART))}</title>",
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
            label = tr(M.PER_KREIS_BAR, name=name, n=tr.number(n), stage=tr.stage(stage))
            parts.append(
                f'<rect class="bar" data-{level}="{_e(ars)}" data-stage="{_e(stage.value)}" '
                f'x="{x}" y="{y}" width="{w}" height="{bar_h}" fill="{STAGE_COLORS[stage]}">'
                f"<title>{_e(label)}</title></rect>"
            )
            x += w
        parts.append(
            f'<text x="{left + width + 8}" y="{y + bar_h * 0.72}">'
            f"{_e(tr(M.PER_KREIS_LIVE, live=tr.number(live), total=tr.number(total)))}</text>"
        )
    parts.append("</svg>")
    return "".join(parts) + _legend(_ORDER, tr)


def _timeline_svg(timeline: Timeline | None, tr: Translator) -> str:
    if timeline is None or not timeline.points:
        return f'<p class="empty">{_e(tr(M.NO_TIMELINE))}</p>'
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
        f"<title>{_e(tr(M.OVER_TIME_CHART))}</title>",
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" '
        'stroke="#6b7280"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="#6b7280"/>',
        f'<text x="{left - 6}" y="{top + 10}" text-anchor="end">{tr.number(high)}</text>',
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
            f"{_e(tr.date(points[i].at))}</text>"
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
            "<title>"
            + _e(
                tr(
                    M.OVER_TIME_POINT,
                    date=tr.date(points[i].at),
                    n=tr.number(points[i].reached[stage]),
                    stage=tr.stage(stage),
                )
            )
            + "</title></circle>"
            for i, (x, y) in enumerate(coords)
        )
    parts.append("</svg>")
    clock = tr(M.CLOCK_HISTORY if timeline.clock == "history" else M.CLOCK_SOURCE)
    return (
        "".join(parts)
        + _legend(_FUNNEL[1:], tr)
        + f'<p class="meta">{_e(tr(M.CLOCK, clock=clock))}</p>'
    )


def _table(
    header: Sequence[str], rows: Iterable[Sequence[str]], *, table_id: str, tr: Translator
) -> str:
    """Build a table; *rows* hold ready HTML (escape data before)."""
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(cells) + "</tr>" for cells in rows)
    if not body:
        return f'<p class="empty" id="{_e(table_id)}">{_e(tr(M.NONE))}</p>'
    return f'<table id="{_e(table_id)}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _td(value: object, *, num: bool = False) -> str:
    return f'<td class="num">{_e(value)}</td>' if num else f"<td>{_e(value)}</td>"


def _services_table(data: ReportData, tr: Translator) -> str:
    rows = []
    for report in data.coverage:
        total = report.total
        info = data.services.get(total.service_key)
        rows.append(
            [
                _td(total.service_key),
                _td(info.name if info else ""),
                _td(", ".join(info.leika_keys) if info else ""),
                _td(tr.number(total.gemeinden), num=True),
                *(_td(tr.number(total.reached[s].gemeinden), num=True) for s in _FUNNEL[1:]),
                _td(tr.number(total.at[Stage.TERMINATED].gemeinden), num=True),
                _td(tr.number(total.other_solution.gemeinden), num=True),
                _td(tr.number(total.ambiguous.gemeinden), num=True),
                _td(total.label if total.coverage is not None else tr(M.NOT_AVAILABLE)),
            ]
        )
    header = (
        tr(M.COL_SERVICE),
        tr(M.COL_NAME),
        tr(M.COL_LEIKA),
        tr(M.COL_GEMEINDEN),
        *(tr(M.COL_AT_LEAST, stage=tr.stage(s)) for s in _FUNNEL[1:]),
        tr.stage(Stage.TERMINATED),
        tr(M.COL_ANOTHER_SOLUTION),
        tr(M.COL_AMBIGUOUS_LOWER),
        tr(M.COL_COVERAGE_LIVE),
    )
    return _table(header, rows, table_id="table-services", tr=tr)


def _more(shown: int, total: int, message: Text, tr: Translator) -> str:
    if shown >= total:
        return ""
    text = tr(message, shown=tr.number(shown), total=tr.number(total))
    return f'<p class="meta more">{_e(text)}</p>'


def _finding_counts_table(data: ReportData, tr: Translator) -> str:
    rows = [
        [
            f'<td class="sev-{_e(severity)}">{_e(tr.severity(severity))}</td>',
            _td(rule),
            _td(tr.number(n), num=True),
        ]
        for (rule, severity), n in sorted(data.finding_counts.items())
    ]
    header = (tr(M.COL_SEVERITY), tr(M.COL_RULE), tr(M.COL_FINDINGS))
    return _table(header, rows, table_id="table-finding-counts", tr=tr)


def _no_detail(tr: Translator) -> str:
    return f'<p class="meta" id="no-detail">{_e(tr(M.NO_DETAIL))}</p>'


def _findings_table(data: ReportData, tr: Translator) -> str:
    if not data.detail:
        return _finding_counts_table(data, tr) + _no_detail(tr)
    rows = [
        [
            f'<td class="sev-{_e(f.severity.value)}">{_e(tr.severity(f.severity))}</td>',
            _td(f.rule),
            _td(f"{f.service} {data.service_name(f.service)}" if f.service else "-"),
            _td(data.area_label(f.area)),
            _td(f.render(tr)),
            _td("; ".join(f"{tr.kind(e.kind)} {e.natural_key} ({e.source})" for e in f.evidence)),
        ]
        for f in data.findings[:HTML_MAX_ROWS]
    ]
    header = (
        tr(M.COL_SEVERITY),
        tr(M.COL_RULE),
        tr(M.COL_SERVICE),
        tr(M.COL_AREA),
        tr(M.COL_MESSAGE),
        tr(M.COL_EVIDENCE),
    )
    return _table(header, rows, table_id="table-findings", tr=tr) + _more(
        len(rows), len(data.findings), M.MORE_FINDINGS, tr
    )


def _rows_table(data: ReportData, tr: Translator) -> str:
    if not data.detail:
        return _no_detail(tr)
    rows = []
    for row in data.rows[:HTML_MAX_ROWS]:
        evidence = "; ".join(
            evidence_text(e, lang=tr.lang) for e in row.evidence if e.kind != "service"
        )
        marks = [
            tr(text)
            for flag, text in (
                (row.offline, M.MARK_OFFLINE),
                (row.other_solution, M.MARK_OTHER),
                (row.ambiguous, M.MARK_AMBIGUOUS),
                (row.disagreement, M.MARK_DISAGREE),
            )
            if flag
        ]
        rows.append(
            [
                _td(f"{row.service_key} {data.service_name(row.service_key)}"),
                _td(data.area_label(row.ars)),
                "<td>"
                + _stage_badge(row.stage, tr)
                + "".join(f" <em>({_e(m)})</em>" for m in marks)
                + "</td>",
                _td(agreement_text(row, lang=tr.lang)),
                _td(evidence or "-"),
            ]
        )
    header = (
        tr(M.COL_SERVICE),
        tr(M.COL_AREA),
        tr(M.COL_STAGE),
        tr(M.COL_AGREEMENT),
        tr(M.COL_EVIDENCE),
    )
    return _table(header, rows, table_id="table-rows", tr=tr) + _more(
        len(rows), len(data.rows), M.MORE_ROWS, tr
    )


def render_html(data: ReportData, *, lang: str | None = None) -> str:
    """Return the report as one self-contained HTML page (no network, no scripts).

    :param lang: ``"de"`` (the default) or ``"en"``; the page's ``lang`` attribute, its
        labels, stage names, dates (``01.03.2024``) and numbers (``1.234``) follow it.
    :raises ValueError: an unknown language.
    """
    tr = translator(lang)
    filters = []
    if data.land is not None:
        filters.append(tr(M.FILTER_LAND, name=data.land.name_de, code=data.land.code))
    if data.kreis is not None:
        filters.append(tr(M.FILTER_KREIS, label=data.area_label(data.kreis)))
    if data.service_filter:
        filters.append(tr(M.FILTER_SERVICES, keys=", ".join(data.service_filter)))
    if data.stages:
        filters.append(tr(M.FILTER_STAGES, stages=", ".join(tr.stage(s) for s in data.stages)))
    where = "; ".join(filters) or tr(M.ALL_AREAS)
    counts = tr(
        M.COUNTS,
        services=tr.number(len(data.services)),
        rows=tr.number(data.row_count),
        findings=tr.number(data.finding_total),
    )
    generated = tr(
        M.GENERATED,
        at=tr.datetime(data.generated_at) + " UTC",
        store=data.store_url,
        version=__version__,
    )
    return "".join(
        [
            f'<!DOCTYPE html>\n<html lang="{tr.lang}"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{_e(data.title)}</title><style>{_CSS}{PLAN_CSS if data.plans else ''}"
            "</style></head><body>",
            f"<h1>{_e(data.title)}</h1>",
            f'<p class="meta">{_e(where)}. {_e(counts)}. {_e(generated)}</p>',
            f"<h2>{_e(tr(M.FUNNEL))}</h2>",
            f'<p class="meta">{_e(tr(M.FUNNEL_NOTE))}</p>',
            _funnel_svg(data.funnel, tr),
            f"<h2>{_e(tr(M.PER_LAND if data.group_level.length == 2 else M.PER_KREIS))}</h2>",
            _coverage_svg(data, tr),
            f"<h2>{_e(tr(M.OVER_TIME))}</h2>",
            _timeline_svg(data.timeline, tr),
            f"<h2>{_e(tr(M.SERVICES))}</h2>",
            _services_table(data, tr),
            *(render_plan_section(p, style=False, lang=tr.lang) for p in data.plans),
            f"<h2>{_e(tr(M.FINDINGS_N, n=tr.number(data.finding_total)))}</h2>",
            _findings_table(data, tr),
            f"<h2>{_e(tr(M.ROWS_N, n=tr.number(data.row_count)))}</h2>",
            _rows_table(data, tr),
            "</body></html>\n",
        ]
    )
