"""Plan vs actual: tables, CSV, JSON and HTML of a :class:`~efa_core.rollout.planning.PlanStatus`.

* :func:`plan_tables`: rich tables per wave (targets vs reached per stage, checklist
  completeness, behind, forecast, blockers), for ``efa plan status`` and ``efa demo``;
* :func:`progress_rows` / :func:`cell_rows` and :func:`render_plan_csv`: one row per wave ×
  service, or one per service × municipality with its checklist (the heat map's data);
* :func:`burnup_svg`, :func:`heatmap_html` and :func:`render_plan_section`: the "Plan vs
  actual" section of the HTML report (a burn-up chart per wave, the municipality ×
  checklist heat map, the blockers).

Labels, stage names, dates and numbers are German by default, English with ``lang="en"``
(:mod:`efa_core.i18n`); CSV and JSON are the same in both.
"""

from __future__ import annotations

import html
import io
from datetime import date, timedelta
from typing import Any

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from efa_core.i18n import ITEM_STATE_NAMES, M, Translator, translator
from efa_core.model import ItemState, Stage
from efa_core.rollout.planning import PlanStatus, Progress, WaveStatus
from efa_core.tabular import SafeCsvWriter

__all__ = [
    "HEATMAP_LIMIT",
    "PLAN_CSS",
    "burnup_svg",
    "cell_rows",
    "heatmap_html",
    "plan_tables",
    "progress_rows",
    "render_plan_csv",
    "render_plan_section",
    "render_plan_text",
]

_FUNNEL = (Stage.INTERESTED, Stage.CONTRACTED, Stage.PUBLISHED, Stage.ROUTABLE, Stage.LIVE)
#: The heat map shows at most this many municipality rows per wave (the CSV has them all).
HEATMAP_LIMIT = 200
_STATE_MARK = {
    ItemState.DONE: "✓",
    ItemState.IN_PROGRESS: "…",
    ItemState.OPEN: "·",
    ItemState.NOT_APPLICABLE: "–",
}


def _share(n: int, total: int) -> str:
    return f"{n}/{total}" if total else "-"


def _percent(value: float) -> str:
    return f"{value * 100:.0f} %"


def _forecast_text(status: WaveStatus | PlanStatus, tr: Translator) -> str:
    f = status.forecast
    if f.reason == "complete":
        done = tr(M.FORECAST_COMPLETE)
        return done + (f" ({tr.date(f.completion)})" if f.completion else "")
    if f.completion is None:
        why = f.reason if f.reason_text is None else tr.render(f.reason_text)
        return tr(M.FORECAST_NONE, reason=why)
    pace = tr.number(f.pace_per_week or 0.0, 1)
    return tr(M.FORECAST_AT, date=tr.date(f.completion), pace=pace)


def _wave_title(wave: WaveStatus, today: date, tr: Translator) -> str:
    w = wave.wave
    parts = [tr(M.WAVE_KIND, name=w.name, kind=tr.wave_kind(w.wave_kind))]
    if w.stichtag is not None:
        parts.append(tr(M.WAVE_STICHTAG, date=tr.date(w.stichtag)))
    if w.target_golive is not None:
        late = tr(M.WAVE_PASSED) if w.target_golive < today else ""
        parts.append(tr(M.WAVE_TARGET, date=tr.date(w.target_golive)) + late)
    return ", ".join(parts)


def progress_rows(status: PlanStatus) -> list[dict[str, Any]]:
    """Return one row per wave × service and one per wave (service ``"*"``)."""
    out = []
    for wave in status.waves:
        entries: list[tuple[str, Progress]] = [*wave.by_service.items(), ("*", wave.progress)]
        for service, p in entries:
            row: dict[str, Any] = {
                "wave": wave.name,
                "kind": wave.wave.wave_kind.value,
                "target_golive": (
                    "" if wave.wave.target_golive is None else wave.wave.target_golive.isoformat()
                ),
                "service": service,
                "municipalities": p.target.municipalities,
                "population": p.target.population,
            }
            for stage in _FUNNEL:
                row[stage.value] = p.reached[stage].municipalities
                row[f"{stage.value}_population"] = p.reached[stage].population
            row["checklist"] = round(p.completeness, 4)
            row["behind"] = p.behind
            row["forecast"] = (
                "" if wave.forecast.completion is None else wave.forecast.completion.isoformat()
            )
            out.append(row)
    return out


def cell_rows(status: PlanStatus) -> tuple[list[str], list[list[str]]]:
    """Return the header and one row per service × municipality, with its checklist."""
    keys: dict[str, str] = {}
    for wave in status.waves:
        for cell in wave.cells:
            for item in cell.checklist:
                keys.setdefault(item.key, item.label)
    header = ["wave", "service", "ars", "name", "stage", "live", "behind", "done", "applicable"]
    header += list(keys)
    rows = []
    for wave in status.waves:
        behind = {(c.service_key, c.ars) for c in wave.behind}
        for cell in wave.cells:
            states = {
                item.key: (state.value if source != 1 else f"{state.value} (manual)")
                for item, state, source in zip(
                    cell.checklist, cell.states, cell.sources, strict=True
                )
            }
            for index, _ in cell.contradictions:
                states[cell.checklist[index].key] += " contradicted"
            rows.append(
                [
                    wave.name,
                    cell.service_key,
                    cell.ars,
                    status.names.get(cell.ars, ""),
                    cell.stage.value,
                    "" if not cell.live else (cell.live_on.isoformat() if cell.live_on else "yes"),
                    "yes" if (cell.service_key, cell.ars) in behind else "",
                    str(cell.done),
                    str(cell.applicable),
                    *(states.get(k, "") for k in keys),
                ]
            )
    return header, rows


def render_plan_csv(status: PlanStatus, *, cells: bool = False) -> str:
    """Return the progress rows (or with *cells* the per-municipality checklists) as CSV."""
    buffer = io.StringIO(newline="")
    writer = SafeCsvWriter(buffer, lineterminator="\n")
    if cells:
        header, rows = cell_rows(status)
        writer.writerow(header)
        writer.writerows(rows)
    else:
        progress = progress_rows(status)
        if progress:
            writer.writerow(list(progress[0]))
            writer.writerows([list(r.values()) for r in progress])
    return buffer.getvalue()


def plan_tables(status: PlanStatus, *, behind_limit: int = 10, lang: str | None = None) -> Group:
    """Return the plan's status as rich renderables: a table per wave and the summary.

    :param lang: ``"de"`` (the default) or ``"en"``.
    """
    tr = translator(lang)
    title = tr(
        M.PLAN_TITLE,
        key=status.plan.key,
        name=status.plan.plan.name,
        today=tr.date(status.today),
    )
    parts: list[Any] = [Text(title)]
    for wave in status.waves:
        table = Table(title=_wave_title(wave, status.today, tr), title_justify="left")
        headings = (
            tr(M.COL_SERVICE),
            tr(M.COL_TARGET),
            *(tr.stage(s) for s in _FUNNEL),
            tr(M.COL_CHECKLIST),
            tr(M.COL_BEHIND),
        )
        for index, name in enumerate(headings):
            table.add_column(name, overflow="fold", justify="left" if index == 0 else "right")
        entries: list[tuple[str, Progress]] = [*wave.by_service.items()]
        if len(entries) > 1:
            entries.append((tr(M.ALL_SERVICES), wave.progress))
        for service, p in entries:
            total = p.target.municipalities
            table.add_row(
                Text(service),
                Text(f"{tr.number(total)} ({tr.number(p.target.population)})"),
                *(Text(_share(p.reached[s].municipalities, total)) for s in _FUNNEL),
                Text(_percent(p.completeness)),
                Text(str(p.behind), style="red" if p.behind else ""),
            )
        parts.append(table)
        lines = [tr(M.FORECAST_LINE, text=_forecast_text(wave, tr))]
        top = [b for b in wave.blockers if b.next_for][:3]
        if top:
            items = ", ".join(f"{b.item.label} ({b.next_for})" for b in top)
            lines.append(tr(M.BLOCKERS_LINE, items=items))
        if wave.behind:
            shown = [
                f"{c.service_key} {status.names.get(c.ars, c.ars)}"
                for c in wave.behind[:behind_limit]
            ]
            more = len(wave.behind) - len(shown)
            lines.append(
                tr(M.BEHIND_LINE, items=", ".join(shown))
                + (tr(M.AND_MORE, n=tr.number(more)) if more > 0 else "")
            )
        parts.append(Text("\n".join(lines)))
    if status.outside:
        outside = ", ".join(
            f"{o.service_key} {status.names.get(o.ars, o.ars)} ({tr.stage(o.stage)})"
            for o in status.outside[:behind_limit]
        )
        parts.append(Text(tr(M.OUTSIDE_LINE, items=outside)))
    return Group(*parts)


def render_plan_text(
    status: PlanStatus, *, width: int = 150, color: bool = False, lang: str | None = None
) -> str:
    """Render :func:`plan_tables` as text (in *lang*, German by default)."""
    buffer = io.StringIO()
    console = Console(
        file=buffer, width=width, force_terminal=color, no_color=not color, highlight=False
    )
    console.print(plan_tables(status, lang=lang))
    return buffer.getvalue()


# -- HTML -------------------------------------------------------------------------------------


def burnup_svg(
    wave: WaveStatus,
    today: date,
    *,
    width: int = 480,
    height: int = 200,
    lang: str | None = None,
) -> str:
    """Return an SVG burn-up chart of *wave*: the target line vs the cells reached live.

    The target line rises from 0 at the Stichtag to all cells at the target go-live date;
    the reached line steps up at each go-live date (undated go-lives count from today).
    """
    tr = translator(lang)
    total = len(wave.cells)
    dates = sorted(c.live_on or today for c in wave.cells if c.live)
    w = wave.wave
    start_candidates = [d for d in (w.stichtag, *(dates[:1])) if d is not None]
    start = min(start_candidates) if start_candidates else today - timedelta(days=30)
    end_candidates = [d for d in (w.target_golive, today, wave.forecast.completion) if d]
    end = max(end_candidates)
    if end <= start:
        end = start + timedelta(days=1)
    span = (end - start).days
    pad = 30

    def x(day: date) -> float:
        return pad + (width - 2 * pad) * (day - start).days / span

    def y(count: float) -> float:
        return height - pad - (height - 2 * pad) * (count / total if total else 0)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="burnup" width="{width}" '
        f'height="{height}" role="img" '
        f'aria-label="{html.escape(tr(M.BURNUP_LABEL, name=w.name))}">',
        f'<line x1="{pad}" y1="{y(0):.1f}" x2="{width - pad}" y2="{y(0):.1f}" class="axis"/>',
        f'<text x="{pad}" y="{height - 8}" class="label">{tr.date(start)}</text>',
        f'<text x="{width - pad}" y="{height - 8}" class="label" text-anchor="end">'
        f"{tr.date(end)}</text>",
        f'<text x="4" y="{y(total) + 4:.1f}" class="label">{total}</text>',
        f'<text x="4" y="{y(0) + 4:.1f}" class="label">0</text>',
        # the legend, top right
        f'<line x1="{width - 150}" y1="10" x2="{width - 130}" y2="10" class="legend target"/>',
        f'<text x="{width - 126}" y="14" class="label">{html.escape(tr(M.LEGEND_TARGET))}</text>',
        f'<line x1="{width - 80}" y1="10" x2="{width - 60}" y2="10" class="legend reached"/>',
        f'<text x="{width - 56}" y="14" class="label">{html.escape(tr.stage(Stage.LIVE))}</text>',
    ]
    if w.target_golive is not None:
        begin = w.stichtag or start
        parts.append(
            f'<polyline class="target" fill="none" points="{x(begin):.1f},{y(0):.1f} '
            f'{x(w.target_golive):.1f},{y(total):.1f} {x(end):.1f},{y(total):.1f}"/>'
        )
    points = [f"{x(start):.1f},{y(0):.1f}"]
    count = 0
    for day in dates:
        points.append(f"{x(day):.1f},{y(count):.1f}")
        count += 1
        points.append(f"{x(day):.1f},{y(count):.1f}")
    points.append(f"{x(min(today, end)):.1f},{y(count):.1f}")
    parts.append(f'<polyline class="reached" fill="none" points="{" ".join(points)}"/>')
    parts.append(
        f'<line x1="{x(min(today, end)):.1f}" y1="{pad}" x2="{x(min(today, end)):.1f}" '
        f'y2="{height - pad}" class="today"/>'
    )
    parts.append("</svg>")
    return "".join(parts)


def heatmap_html(
    status: PlanStatus,
    wave: WaveStatus,
    *,
    limit: int = HEATMAP_LIMIT,
    lang: str | None = None,
) -> str:
    """Return the municipality × checklist heat map of *wave* as an HTML table."""
    tr = translator(lang)
    if not wave.cells:
        return f"<p>{html.escape(tr(M.NO_MUNICIPALITIES))}</p>"
    checklist = wave.cells[0].checklist
    head = "".join(
        f'<th title="{html.escape(i.label)}">{html.escape(i.key)}</th>' for i in checklist
    )
    rows = []
    for cell in wave.cells[:limit]:
        why = dict(cell.contradictions)
        tds = []
        for index, (item, state) in enumerate(zip(cell.checklist, cell.states, strict=True)):
            css = state.value + (" manual" if cell.sources[index] == 1 else "")
            title = f"{item.label}: {tr.name(ITEM_STATE_NAMES, state)}"
            on = cell.dates[index]
            if on is not None:
                title += f" ({tr.date(on)})"
            if index in why:
                css += " contradicted"
                title += f" – {tr.render(why[index])}"
            tds.append(f'<td class="{css}" title="{html.escape(title)}">{_STATE_MARK[state]}</td>')
        name = status.names.get(cell.ars, "")
        rows.append(
            f"<tr><td>{html.escape(cell.service_key)}</td>"
            f"<td>{html.escape(cell.ars)} {html.escape(name)}</td>"
            f"<td>{html.escape(tr.stage(cell.stage))}</td>{''.join(tds)}</tr>"
        )
    more = len(wave.cells) - limit
    note = f"<p>{html.escape(tr(M.MORE_IN_CSV, n=tr.number(more)))}</p>" if more > 0 else ""
    headings = "".join(
        f"<th>{html.escape(tr(h))}</th>" for h in (M.COL_SERVICE, M.COL_MUNICIPALITY, M.COL_STAGE)
    )
    return (
        f'<table class="heatmap"><thead><tr>{headings}'
        f"{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>{note}"
    )


#: The styles of :func:`render_plan_section` (the HTML report puts them into its head).
PLAN_CSS = """
.plan .burnup .axis{stroke:#888}
.plan .burnup .target{stroke:#999;stroke-dasharray:4 3}
.plan .burnup .reached{stroke:#1b7f3b;stroke-width:2}.plan .burnup .today{stroke:#c33}
.plan .burnup .label{font-size:10px;fill:#555}
.plan table.heatmap td{text-align:center}
.plan table.heatmap td.done{background:#cfe8d5}
.plan table.heatmap td.in_progress{background:#fbeab0}
.plan table.heatmap td.open{background:#f4d0d0}
.plan table.heatmap td.not_applicable{background:#eee;color:#999}
.plan table.heatmap td.contradicted{outline:2px solid #c33}
.plan table.heatmap td.manual{font-style:italic}
"""


def render_plan_section(status: PlanStatus, *, style: bool = True, lang: str | None = None) -> str:
    """Return the "Plan vs actual" section of the HTML report.

    :param style: include :data:`PLAN_CSS` (a self-contained fragment); the report leaves
        it out and puts the styles into its head.
    :param lang: ``"de"`` (the default) or ``"en"``.
    """
    tr = translator(lang)
    css = f"<style>{PLAN_CSS}</style>" if style else ""
    intro = tr(M.PLAN_AS_OF, today=tr.date(status.today), forecast=_forecast_text(status, tr))
    out = [
        f'<section class="plan" id="plan-{html.escape(status.plan.key)}">{css}',
        f"<h2>{html.escape(tr(M.PLAN_VS_ACTUAL, name=status.plan.plan.name))}</h2>",
        f"<p>{html.escape(intro)}</p>",
    ]
    for wave in status.waves:
        p = wave.progress
        out.append(f"<h3>{html.escape(_wave_title(wave, status.today, tr))}</h3>")
        out.append(burnup_svg(wave, status.today, lang=tr.lang))
        cells = "".join(
            f"<td>{_share(p.reached[s].municipalities, p.target.municipalities)}</td>"
            for s in _FUNNEL
        )
        head = (
            [tr(M.COL_TARGET)]
            + [tr.stage(s) for s in _FUNNEL]
            + [tr(M.COL_CHECKLIST), tr(M.COL_BEHIND), tr(M.COL_FORECAST)]
        )
        out.append(
            "<table><thead><tr>"
            + "".join(f"<th>{html.escape(h)}</th>" for h in head)
            + "</tr></thead><tbody><tr>"
            f"<td>{tr.number(p.target.municipalities)} ({tr.number(p.target.population)})</td>"
            f"{cells}<td>{_percent(p.completeness)}</td><td>{tr.number(p.behind)}</td>"
            f"<td>{html.escape(_forecast_text(wave, tr))}</td></tr></tbody></table>"
        )
        blockers = [b for b in wave.blockers if b.open_in][:5]
        if blockers:
            items = ", ".join(
                tr(M.BLOCKER, label=b.item.label, next=b.next_for, open=b.open_in) for b in blockers
            )
            out.append(f"<p>{html.escape(tr(M.BLOCKERS_PARA, items=items))}</p>")
        out.append(heatmap_html(status, wave, lang=tr.lang))
    if status.outside:
        items = ", ".join(
            f"{o.service_key} {status.names.get(o.ars, o.ars)} ({tr.stage(o.stage)})"
            for o in status.outside
        )
        out.append(f"<p>{html.escape(tr(M.OUTSIDE_PARA, items=items))}</p>")
    out.append("</section>")
    return "".join(out)
