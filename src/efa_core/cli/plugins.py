"""``efa plugins``: list the installed plugins and what each registers."""

from __future__ import annotations

import json
from collections.abc import Sequence

import attrs
import click

from efa_core.cli._common import (
    config_option,
    lang_of,
    lang_option,
    plugin_registry,
    table,
)
from efa_core.i18n import M, Translator
from efa_core.plugins import PluginInfo

__all__ = ["plugins"]

_HEADER = (M.COL_NAME, M.COL_VERSION, M.COL_DISTRIBUTION, M.COL_REGISTERS, M.COL_HOOKS)


def _registers(info: PluginInfo, tr: Translator) -> str:
    parts = [
        tr(label, names=", ".join(names))
        for label, names in (
            (M.REGISTERS_CONNECTORS, info.connectors),
            (M.REGISTERS_RULES, info.finding_rules),
            (M.REGISTERS_COSTS, info.cost_strategies),
            (M.REGISTERS_WRITERS, info.responsibility_writers),
        )
        if names
    ]
    return "; ".join(parts) or "-"


def _table(infos: Sequence[PluginInfo], tr: Translator) -> str:
    rows = [
        (
            info.name,
            info.version or "-",
            (info.distribution or "-") + (tr(M.BUNDLED) if info.bundled else ""),
            _registers(info, tr),
            ", ".join(info.hooks) or "-",
        )
        for info in infos
    ]
    return table([tr(h).upper() for h in _HEADER], rows)


@click.command(name="plugins")
@click.option("--all", "show_all", is_flag=True, help="Include the plugins bundled with efa-core.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list instead of a table.")
@lang_option
@config_option
@click.pass_context
def plugins(
    ctx: click.Context, show_all: bool, as_json: bool, lang: str | None, config_path: str | None
) -> None:
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
        return
    tr = lang_of(lang, config_path)
    if infos:
        click.echo(_table(infos, tr))
    else:
        click.echo(tr(M.NO_PLUGINS if show_all else M.NO_PLUGINS_HINT))
