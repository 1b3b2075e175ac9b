"""``efa report``.

``efa report`` finds the store as every command does (:mod:`efa_core.cli._common`; it never
creates one), brings the derived view up to date and prints (or writes with ``--output``)
the report as a table, CSV, JSON or a self-contained HTML page; table and HTML in German, or
in English with ``--lang en`` (CSV and JSON are the same in both).  The finding options come
from ``[findings]`` of the configuration, then ``--option``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import click

from efa_core.cli._common import (
    choose_lang,
    config_option,
    db_option,
    lang_option,
    load,
    open_for_reading,
    plugin_registry,
    rule_options,
    warn_if_empty,
)
from efa_core.errors import EfaError
from efa_core.model import Stage

if TYPE_CHECKING:
    from efa_core.report import ReportData
    from efa_core.rollout import RolloutRow

    _CsvWriter = Callable[[ReportData, TextIO, Iterable[RolloutRow]], int]

__all__ = ["report"]

_FORMATS = ("table", "csv", "json", "html")


def _write(text: str, output: str | None) -> None:
    if output is None:
        click.echo(text, nl=not text.endswith("\n"))
        return
    path = Path(output)
    try:
        path.write_text(text, encoding="utf-8", newline="")
    except OSError as exc:
        raise click.ClickException(f"cannot write {path}: {exc}") from exc
    click.echo(f"wrote {path}", err=True)


def _write_csv(
    data: ReportData, rows: Iterable[RolloutRow], output: str | None, write: _CsvWriter
) -> None:
    """Stream the CSV to *output* (or stdout), one service's rows in memory at a time."""
    if output is None:
        write(data, sys.stdout, rows)
        return
    path = Path(output)
    try:
        with path.open("w", encoding="utf-8", newline="") as out:
            write(data, out, rows)
    except OSError as exc:
        raise click.ClickException(f"cannot write {path}: {exc}") from exc
    click.echo(f"wrote {path}", err=True)


@click.command(name="report")
@click.option("--land", metavar="LAND", help="Only this Land (TH, 16 or Thüringen).")
@click.option("--kreis", metavar="ARS", help="Only this Kreis (its ARS, e.g. 16055).")
@click.option("--service", "services", multiple=True, metavar="KEY", help="Only this service.")
@click.option(
    "--stage",
    "stages",
    multiple=True,
    type=click.Choice([s.value for s in Stage], case_sensitive=False),
    help="Only rows at this stage (repeatable).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(_FORMATS, case_sensitive=False),
    default="table",
    show_default=True,
    help="Output format.",
)
@click.option("--output", "-o", metavar="FILE", help="Write to FILE instead of printing.")
@click.option(
    "--timeline",
    type=click.Choice(["auto", "history", "source", "none"], case_sensitive=False),
    default="auto",
    show_default=True,
    help="Clock of the stage-over-time chart (json/html); none: skip it.",
)
@click.option("--option", "option_values", multiple=True, metavar="NAME=VALUE", help="Rule option.")
@lang_option
@config_option
@db_option
@click.pass_context
def report(
    ctx: click.Context,
    land: str | None,
    kreis: str | None,
    services: tuple[str, ...],
    stages: tuple[str, ...],
    fmt: str,
    output: str | None,
    timeline: str,
    option_values: tuple[str, ...],
    lang: str | None,
    config_path: str | None,
    db: str | None,
) -> None:
    """Report the rollout: stage per service × area, coverage, findings, stages over time.

    For all of Germany the HTML page is a summary (by Land, the services, the findings
    counted); ``--land``, ``--kreis`` or ``--service`` list the rows and findings, and the
    CSV gives every row, written service by service.
    """
    from efa_core.report import (
        collect_report,
        iter_report_rows,
        render_html,
        render_json,
        write_csv,
    )
    from efa_core.report.formats import render_table
    from efa_core.rollout import IdentityRules

    fmt = fmt.lower()
    config = load(config_path)
    tr = choose_lang(lang, config)
    options = rule_options(option_values, config.findings)
    registry = plugin_registry(ctx)
    wants_timeline = fmt in ("json", "html") and timeline != "none"
    national = land is None and kreis is None and not services
    with open_for_reading(db, config, caches=True) as store:
        warn_if_empty(store, db, config, tr)
        identity = IdentityRules.from_config(config, registry)
        try:
            data = collect_report(
                store,
                {} if fmt == "csv" else registry.finding_rules(),
                land=land,
                kreis=kreis,
                services=services,
                stages=[s.lower() for s in stages],
                options=options,
                timeline=wants_timeline,
                timeline_clock=timeline.lower() if wants_timeline else "auto",  # type: ignore[arg-type]
                identity=identity,
                detail=fmt in ("json", "table") or (fmt == "html" and not national),
            )
        except EfaError as exc:
            raise click.ClickException(str(exc)) from exc
        if fmt == "csv":
            _write_csv(data, iter_report_rows(store, data, identity), output, write_csv)
            return
    if fmt == "json":
        _write(render_json(data) + "\n", output)
    elif fmt == "html":
        _write(render_html(data, lang=tr.lang), output)
    else:
        _write(
            render_table(data, color=output is None and sys.stdout.isatty(), lang=tr.lang),
            output,
        )
