"""``efa plugins``: list the installed plugins."""

from __future__ import annotations

import json
from collections.abc import Sequence

import attrs
import click

from efa_core.plugins import PluginInfo, PluginRegistry

__all__ = ["plugins"]

_COLUMNS = ("name", "version", "distribution", "hooks")


def _table(infos: Sequence[PluginInfo]) -> str:
    rows = [
        (
            info.name,
            info.version or "-",
            (info.distribution or "-") + (" (bundled)" if info.bundled else ""),
            ", ".join(info.hooks) or "-",
        )
        for info in infos
    ]
    header = tuple(column.upper() for column in _COLUMNS)
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in [header, *rows]
    )


@click.command(name="plugins")
@click.option("--all", "show_all", is_flag=True, help="Include the plugins bundled with efa-core.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list instead of a table.")
@click.pass_context
def plugins(ctx: click.Context, show_all: bool, as_json: bool) -> None:
    """List the installed efa-core plugins and the hooks they implement.

    Installed plugins are loaded as configured by EFA_LOAD_PLUGINS, EFA_DISABLED_PLUGINS
    and EFA_STRICT_PLUGINS.  An embedding program can pass its own PluginRegistry as the
    click context object.
    """
    registry = ctx.find_object(PluginRegistry) or PluginRegistry()
    infos = registry.list_plugins(all=show_all)
    if as_json:
        data = [attrs.asdict(info) for info in infos]
        click.echo(json.dumps(data, indent=2))
    elif infos:
        click.echo(_table(infos))
    else:
        hint = "" if show_all else " (use --all to include the bundled plugins)"
        click.echo(f"No plugins installed{hint}.")
