"""``efa demo``: the Thüringen example, synced through the real connectors, and its report.

The demo copies the example into a folder (default ``./efa-demo``) whose ``efa.toml`` names
the store, the sources and the finding options, so afterwards ``cd efa-demo`` and every
command works there without flags.
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from efa_core.cli._common import DB_ENV_VAR, lang_option, plugin_registry
from efa_core.errors import EfaError
from efa_core.i18n import M, translator

__all__ = ["demo"]


def _shown(path: Path) -> str:
    """*path* relative to the working directory where it lies below it, else absolute."""
    try:
        relative = path.relative_to(Path.cwd())
    except ValueError:
        return str(path)
    return str(relative) if str(relative) != "." else "."


@click.command(name="demo")
@click.option(
    "--db",
    metavar="URL|PATH",
    help="The store to fill: a file path, sqlite:///… or postgresql://… (a SQLite file must "
    "not exist, a PostgreSQL database must hold no efa-core data; default: "
    "<output>/efa-demo.db). Not read from $" + DB_ENV_VAR + ".",
)
@click.option(
    "--output",
    "-o",
    metavar="DIR",
    type=click.Path(file_okay=False),
    default="efa-demo",
    show_default=True,
    help="Folder for the example's files, its efa.toml, the store and the HTML report.",
)
@lang_option
@click.pass_context
def demo(ctx: click.Context, db: str | None, output: str, lang: str | None) -> None:
    """Sync the Thüringen example through the real connectors and report on it.

    Needs the connector plugins efa-xzufi, efa-marktplatz and efa-dashboard; no network.
    """
    from rich.console import Console

    from efa_core.report import findings_table, rollout_table, run_demo
    from efa_core.store import mask_url

    console = Console(highlight=False)
    if not console.is_terminal:
        console.width = 160  # a file or pipe: do not wrap the tables at 80 columns
    try:
        result = run_demo(output, db=db, registry=plugin_registry(ctx), lang=lang)
    except EfaError as exc:
        raise click.ClickException(str(exc)) from exc
    tr = translator(lang)
    for r in result.sync.reports:
        n = tr.number
        synced = tr(M.DEMO_SYNCED, source=r.source, added=n(r.added), quarantined=n(r.quarantined))
        console.print(synced, markup=False)
    console.print(rollout_table(result.data, lang=lang))
    if result.plan is not None:
        from efa_core.report.plan import plan_tables

        console.print(plan_tables(result.plan, lang=lang))
    console.print(findings_table(result.data, lang=lang))
    console.print(tr(M.DEMO_STORE, url=mask_url(result.store_url)), markup=False)
    console.print(tr(M.DEMO_REPORT, path=result.report_path), markup=False)
    folder = _shown(result.output_dir)
    cd = "" if folder == "." else f"cd {folder} && "
    console.print(tr(M.DEMO_NEXT, cd=cd), markup=False, soft_wrap=True)
    name = result.config_path.name
    if "${PGPASSWORD}" in result.config_path.read_text(encoding="utf-8"):
        console.print(tr(M.DEMO_PASSWORD, file=name), markup=False)
    if os.environ.get(DB_ENV_VAR):
        console.print(tr(M.DEMO_ENV_WINS, var=DB_ENV_VAR, file=name), markup=False)
