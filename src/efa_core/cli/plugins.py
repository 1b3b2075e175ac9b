"""``efa plugins``: list the installed plugins and what each registers."""

from __future__ import annotations

import json
from collections.abc import Sequence

import attrs
import click

from efa_core.cli._common import plugin_registry, table
from efa_core.plugins import PluginInfo

__all__ = ["plugins"]

_HEADER = ("NAME", "VERSION", "DISTRIBUTION", "REGISTERS", "HOOKS")


def _registers(info: PluginInfo) -> str:
    parts = [
        f"{label}: {', '.join(names)}"
        for label, names in (
            ("connector types", info.connectors),
            ("finding rules", info.finding_rules),
            ("cost strategies", info.cost_strategies),
            ("responsibility writers", info.responsibility_writers),
        )
        if names
    ]
    return "; ".join(parts) or "-"


def _table(infos: Sequence[PluginInfo]) -> str:
    rows = [
        (
            info.name,
            info.version or "-",
            (info.distribution or "-") + (" (bundled)" if info.bundled else ""),
            _registers(info),
            ", ".join(info.hooks) or "-",
        )
        for info in infos
    ]
    return table(_HEADER, rows)


@click.command(name="plugins")
@click.option("--all", "show_all", is_flag=True, help="Include the plugins bundled with efa-core.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list instead of a table.")
@click.pass_context
def plugins(ctx: click.Context, show_all: bool, as_json: bool) -> None:
    """List the installed efa-core plugins: what each registers, and the hooks it implements.

    A plugin registers connector types, finding rules, cost strategies and writers of
    Zuständigkeiten.  Installed
    plugins are loaded as configured by EFA_LOAD_PLUGINS, EFA_DISABLED_PLUGINS and
    EFA_STRICT_PLUGINS.  An embedding program can pass its own PluginRegistry as the click
    context object.
    """
    infos = plugin_registry(ctx).list_plugins(all=show_all)
    if as_json:
        click.echo(json.dumps([attrs.asdict(info) for info in infos], indent=2))
    elif infos:
        click.echo(_table(infos))
    else:
        hint = "" if show_all else " (use --all to include the bundled plugins)"
        click.echo(f"No plugins installed{hint}.")
