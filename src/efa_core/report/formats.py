"""Text formats of a report: rich tables, CSV and JSON (HTML is :mod:`efa_core.report.html`).

* :func:`rollout_table` and :func:`findings_table` build :class:`rich.table.Table` objects;
  :func:`render_table` renders both as text (what ``efa report --format table`` prints).
  Their labels, stage names and dates are German by default, English with ``lang="en"``
  (:mod:`efa_core.i18n`).
* :func:`render_csv` (:func:`write_csv` to a file, streaming): one line per derived row
  (service × area), with the sources of its evidence, whether another solution is in use
  or evidence is ambiguous there, and its notes, written by
  :class:`efa_core.tabular.SafeCsvWriter`: a ``'`` before every place a spreadsheet would
  start a formula (also after a ``;`` inside a value, a no-break space or in fullwidth
  ``＝``), and every value with a ``;`` or ``,`` quoted.
* :func:`render_json`: :meth:`ReportData.to_dict <efa_core.report.data.ReportData.to_dict>`
  as indented JSON.

CSV and JSON are for programs: their columns, keys and values (``contracted``,
``2024-03-01``) are the same in every language.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable
from typing import TextIO

from rich.console import Console
from rich.table import Table
from rich.text import Text

from efa_core.i18n import M, translator
from efa_core.model import Stage
from efa_core.report.data import ReportData, agreement_text
from efa_core.rollout import Role, RolloutRow
from efa_core.tabular import SafeCsvWriter

__all__ = [
    "CSV_COLUMNS",
    "findings_table",
    "render_csv",
    "render_json",
    "render_table",
    "rollout_table",
    "write_csv",
]

#: The columns of :func:`render_csv`.
CSV_COLUMNS = (
    "service",
    "service_name",
    "ars",
    "area",
    "stage",
    "agreement_state",
    "agreement_since",
    "published",
    "routable",
    "live",
    "offline",
    "sources",
    "other_solution",
    "ambiguous",
    "notes",
)

_STAGE_STYLE = {
    Stage.TERMINATED: "red",
    Stage.OFFERED: "dim",
    Stage.INTERESTED: "yellow",
    Stage.CONTRACTED: "cyan",
    Stage.PUBLISHED: "blue",
    Stage.ROUTABLE: "magenta",
    Stage.LIVE: "green",
}
_SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "dim"}


def rollout_table(data: ReportData, *, lang: str | None = None) -> Table:
    """Return the rollout rows as a rich table (service, area, stage, evidence sources).

    :param lang: ``"de"`` (the default) or ``"en"``.
    """
    tr = translator(lang)
    table = Table(title=tr(M.ROLLOUT_TABLE, title=data.title), title_justify="left")
    for heading in (M.COL_SERVICE, M.COL_AREA, M.COL_STAGE, M.COL_AGREEMENT, M.COL_EVIDENCE):
        table.add_column(tr(heading), overflow="fold")
    for row in data.rows:
        sources = sorted(
            {
                f"{tr.kind(e.kind)}@{e.source}"
                for e in row.evidence
                if e.kind != "service" and e.role is not Role.NOTE
            }
        )
        sources += [tr(M.NOTE_SOURCE, text=e.detail) for e in row.evidence_with(Role.NOTE)]
        stage = Text(tr.stage(row.stage), style=_STAGE_STYLE[row.stage])
        if row.offline:
            stage.append(" " + tr(M.OFFLINE), style="red")
        if row.other_solution:
            stage.append(" " + tr(M.SHORT_OTHER), style="yellow")
        if row.ambiguous:
            stage.append(" " + tr(M.SHORT_AMBIGUOUS), style="yellow")
        # Data goes in as Text, never as markup: a name like "[bold]" stays literal.
        table.add_row(
            Text(f"{row.service_key} {data.service_name(row.service_key)}"),
            Text(data.area_label(row.ars)),
            stage,
            Text(agreement_text(row, lang=tr.lang)),
            Text(", ".join(sources) or "-"),
        )
    return table


def findings_table(data: ReportData, *, lang: str | None = None) -> Table:
    """Return the findings as a rich table (labels in *lang*: ``"de"``, the default, or ``"en"``).

    A finding's sentence is in *lang* too (:meth:`~efa_core.rollout.Finding.render`).
    """
    tr = translator(lang)
    title = tr(M.FINDINGS_N, n=tr.number(len(data.findings)))
    table = Table(title=title, title_justify="left")
    for heading in (M.COL_SEVERITY, M.COL_RULE, M.COL_SERVICE, M.COL_AREA, M.COL_MESSAGE):
        table.add_column(tr(heading), overflow="fold")
    for f in data.findings:
        table.add_row(
            Text(tr.severity(f.severity), style=_SEVERITY_STYLE.get(f.severity.value, "")),
            Text(f.rule),
            Text(f.service or "-"),
            Text(data.area_label(f.area)),
            Text(f.render(tr)),
        )
    return table


def render_table(
    data: ReportData, *, width: int = 140, color: bool = False, lang: str | None = None
) -> str:
    """Render the rollout table and the findings table as text (in *lang*, default German)."""
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        width=width,
        force_terminal=color,
        no_color=not color,
        highlight=False,
        emoji=False,
    )
    console.print(rollout_table(data, lang=lang))
    console.print(findings_table(data, lang=lang))
    return buffer.getvalue()


def render_csv(data: ReportData) -> str:
    """Return the rows as CSV (header :data:`CSV_COLUMNS`, CRLF line ends)."""
    out = io.StringIO()
    write_csv(data, out)
    return out.getvalue()


def write_csv(data: ReportData, out: TextIO, rows: Iterable[RolloutRow] | None = None) -> int:
    """Write the rows as CSV to *out*, as :func:`render_csv`; return the rows written.

    :param rows: the rows to write instead of :attr:`ReportData.rows`, e.g. streamed
        service by service with :func:`~efa_core.report.iter_report_rows`: then memory
        stays at one service's rows, whatever the size of the store.
    """
    writer = SafeCsvWriter(out)
    writer.writerow(CSV_COLUMNS)
    written = 0
    for row in data.rows if rows is None else rows:
        written += 1
        sources = sorted({e.source for e in row.evidence})
        writer.writerow(
            (
                row.service_key,
                data.service_name(row.service_key),
                str(row.ars),
                data.area_names.get(str(row.ars)),
                row.stage.value,
                None if row.agreement_state is None else row.agreement_state.value,
                None if row.agreement_since is None else row.agreement_since.date().isoformat(),
                row.published,
                row.routable,
                row.live,
                row.offline,
                " ".join(sources),
                row.other_solution,
                row.ambiguous,
                " | ".join(e.detail or "" for e in row.evidence_with(Role.NOTE)),
            )
        )
    return written


def render_json(data: ReportData) -> str:
    """Return the whole report as indented JSON."""
    return json.dumps(data.to_dict(), indent=2, ensure_ascii=False)
