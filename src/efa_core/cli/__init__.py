"""The ``efa`` command.

Each sub-command lives in a module of this package and is added to :data:`main` here.
Whatever a command prints passes :func:`efa_core.cli._terminal.for_terminal`: no control or
escape sequence from the data reaches the terminal.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from efa_core import __version__
from efa_core.cli._terminal import filtered_excepthook, for_terminal, safe_output

__all__ = ["main"]


class _Efa(click.Group):
    """The ``efa`` group: output and error messages without control or escape sequences."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        """Run ``efa``; an uncaught exception's traceback is printed filtered too."""
        sys.excepthook = filtered_excepthook(sys.excepthook)
        return super().main(*args, **kwargs)

    def invoke(self, ctx: click.Context) -> Any:
        with safe_output():
            try:
                return super().invoke(ctx)
            except click.ClickException as exc:
                # click declares message Final; it is shown only after this
                exc.message = for_terminal(exc.message)  # type: ignore[misc]
                raise


@click.group(cls=_Efa, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="efa")
def main() -> None:
    """efa: the state of 'Einer für Alle' service rollouts, joined from their sources."""


def _add_commands() -> None:
    from efa_core.cli import ids as _ids

    main.add_command(_ids.ids)

    from efa_core.cli import plugins as _plugins

    main.add_command(_plugins.plugins)

    from efa_core.cli import sync as _sync

    for command in (_sync.sync, _sync.status, _sync.history, _sync.quarantine):
        main.add_command(command)

    from efa_core.cli import rollout as _rollout

    for command in (
        _rollout.areas,
        _rollout.findings,
        _rollout.coverage,
        _rollout.costs,
        _rollout.explain,
    ):
        main.add_command(command)

    from efa_core.cli import plan as _plan

    main.add_command(_plan.plan)

    from efa_core.cli import report as _report

    main.add_command(_report.report)

    from efa_core.cli import demo as _demo

    main.add_command(_demo.demo)

    from efa_core.cli import new as _new

    main.add_command(_new.new)


_add_commands()
