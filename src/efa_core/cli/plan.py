"""``efa plan``: rollout plans against what the sources show.

``efa plan status [PLAN] [--wave W]``
    Targets vs reached per wave and service, checklist completeness, the municipalities
    behind the target date, the forecast and the blockers (table, CSV or JSON).
``efa plan show [PLAN] [--as-of DATE]``
    The plan itself: waves, targets, checklist, as it is or as the store knew it then.
``efa plan onboarding PLAN --wave W -o DIR``
    The onboarding package of a wave: the Zuständigkeiten for the editorial system and a
    questionnaire per municipality.
``efa plan export [PLAN] -o FILE``
    Write the plan as YAML, CSV or XLSX (by the suffix), e.g. to edit it and sync it back.

Plans come from sources of type ``plan`` (``efa sync``).  The store is found as for every
command; the derived view is brought up to date first.
"""

from __future__ import annotations

import json
import sys
from datetime import date, datetime, time, timezone
from pathlib import Path
from typing import Any

import click

from efa_core.cli._common import (
    choose_lang,
    config_option,
    db_option,
    json_option,
    lang_option,
    load,
    open_for_reading,
    plugin_registry,
    warn_if_empty,
)
from efa_core.errors import EfaError
from efa_core.i18n import M, Translator

__all__ = ["plan"]


def _day(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not a date (YYYY-MM-DD)", param_hint=option
        ) from None


def _view(ctx: click.Context, store: Any, config: Any) -> Any:
    """Return the store's rollout view with the configured identity rules, up to date."""
    from efa_core.rollout import IdentityRules, RolloutView

    view = RolloutView(store, IdentityRules.from_config(config, plugin_registry(ctx)))
    view.refresh()
    return view


def _write(text: str, output: str | None) -> None:
    if output is None:
        click.echo(text, nl=not text.endswith("\n"))
        return
    try:
        Path(output).write_text(text, encoding="utf-8", newline="")
    except OSError as exc:
        raise click.ClickException(f"cannot write {output}: {exc}") from exc
    click.echo(f"wrote {output}", err=True)


@click.group(name="plan")
def plan() -> None:
    """Rollout plans: waves, onboarding checklists, progress against plan."""


@plan.command(name="status")
@click.argument("key", metavar="[PLAN]", required=False)
@click.option("--wave", "waves", multiple=True, metavar="NAME", help="Only this wave.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(("table", "csv", "json"), case_sensitive=False),
    default="table",
    show_default=True,
    help="Output format.",
)
@click.option(
    "--cells",
    is_flag=True,
    help="csv/json: one row per service × municipality with its checklist.",
)
@click.option("--today", metavar="DATE", help="Measure against this day (default: today).")
@click.option("--output", "-o", metavar="FILE", help="Write to FILE instead of printing.")
@lang_option
@config_option
@db_option
@click.pass_context
def status(
    ctx: click.Context,
    key: str | None,
    waves: tuple[str, ...],
    fmt: str,
    cells: bool,
    today: str | None,
    output: str | None,
    lang: str | None,
    config_path: str | None,
    db: str | None,
) -> None:
    """Show targets vs reached per wave: stages, checklists, behind, forecast, blockers."""
    from efa_core.report.plan import render_plan_csv, render_plan_text
    from efa_core.rollout.planning import load_plan, plan_status

    day = _day(today, "--today")
    config = load(config_path)
    with open_for_reading(db, config, caches=True) as store:
        if fmt == "table":
            warn_if_empty(store, db, config, choose_lang(lang, config))
        try:
            view = _view(ctx, store, config)
            found = plan_status(view, load_plan(store, key), today=day, waves=waves or None)
        except EfaError as exc:
            raise click.ClickException(str(exc)) from exc
    fmt = fmt.lower()
    if fmt == "json":
        _write(json.dumps(found.to_dict(cells=cells), indent=2, ensure_ascii=False) + "\n", output)
    elif fmt == "csv":
        _write(render_plan_csv(found, cells=cells), output)
    else:
        color = output is None and sys.stdout.isatty()
        text = render_plan_text(found, color=color, lang=choose_lang(lang, config).lang)
        _write(text, output)


def _show(found: Any, tr: Translator) -> str:
    p = found.plan
    lines = [
        tr(M.SHOW_PLAN, key=p.key, name=p.name, land=p.land.name_de),
        tr(
            M.SHOW_SOURCE,
            source=found.source or "-",
            body=p.planning_body or "-",
            financing=p.financing or "-",
        ),
    ]
    for entry in p.services:
        extras = [x for x in (tr(M.SHOW_FEES) if entry.fees else None, entry.onlinedienst) if x]
        lines.append(
            tr(M.SHOW_SERVICE, key=entry.key, extras=f" ({', '.join(extras)})" if extras else "")
        )
        items = ", ".join(item.key for item in p.checklist_for(entry.key))
        lines.append(tr(M.SHOW_CHECKLIST, items=items))
    for wave in found.waves:
        when = ", ".join(
            tr(label, date=tr.date(value))
            for label, value in (
                (M.WAVE_STICHTAG, wave.stichtag),
                (M.SHOW_WAVE_TARGET, wave.target_golive),
            )
            if value is not None
        )
        kind = tr.wave_kind(wave.wave_kind)
        lines.append(tr(M.SHOW_WAVE, name=wave.name, kind=kind, when=f": {when}" if when else ""))
        lines.append(tr(M.SHOW_TARGETS, items=", ".join(str(t) for t in wave.targets)))
        if wave.services:
            lines.append(tr(M.SHOW_SERVICES, items=", ".join(wave.services)))
    lines.append(tr(M.SHOW_RECORDED, n=tr.number(len(found.items))))
    return "\n".join(lines)


@plan.command(name="show")
@click.argument("key", metavar="[PLAN]", required=False)
@click.option(
    "--as-of", "as_of", metavar="DATE", help="The plan as the store knew it at the end of DATE."
)
@config_option
@db_option
@json_option
@lang_option
def show(
    key: str | None,
    as_of: str | None,
    config_path: str | None,
    db: str | None,
    as_json: bool,
    lang: str | None,
) -> None:
    """Show a plan: its services, checklist and waves (PLAN: needed if there are several)."""
    from efa_core.rollout.planning import load_plan
    from efa_core.serialization import record_to_dict

    day = _day(as_of, "--as-of")
    when = None if day is None else datetime.combine(day, time.max, tzinfo=timezone.utc)
    config = load(config_path)
    with open_for_reading(db, config, caches=True) as store:
        try:
            found = load_plan(store, key, as_of=when)
        except EfaError as exc:
            raise click.ClickException(str(exc)) from exc
    if as_json:
        data = {
            "source": found.source,
            "plan": record_to_dict(found.plan),
            "waves": [record_to_dict(w) for w in found.waves],
            "items": [record_to_dict(i) for i in found.items],
        }
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    click.echo(_show(found, choose_lang(lang, config)))


@plan.command(name="onboarding")
@click.argument("key", metavar="PLAN")
@click.option("--wave", required=True, metavar="NAME", help="The wave.")
@click.option(
    "--output",
    "-o",
    required=True,
    metavar="DIR",
    type=click.Path(file_okay=False),
    help="The folder to write into (created if missing).",
)
@click.option(
    "--format",
    "fmt",
    default="xzufi-2.2.0",
    show_default=True,
    metavar="NAME",
    help="The writer of the Zuständigkeiten (see `efa plugins --all`).",
)
@click.option("--sender", metavar="TEXT", help="The sender (default: the planning body).")
@config_option
@db_option
@click.pass_context
def onboarding(
    ctx: click.Context,
    key: str,
    wave: str,
    output: str,
    fmt: str,
    sender: str | None,
    config_path: str | None,
    db: str | None,
) -> None:
    """Write a wave's onboarding package: Zuständigkeiten and questionnaires."""
    from efa_core.rollout.planning import load_plan
    from efa_core.rollout.planning.onboarding import write_onboarding

    writers = plugin_registry(ctx).responsibility_writers()
    config = load(config_path)
    with open_for_reading(db, config, caches=True) as store:
        try:
            view = _view(ctx, store, config)
            package = write_onboarding(
                view,
                load_plan(store, key),
                wave,
                output,
                writers=writers,
                format=fmt,
                sender=sender,
            )
        except EfaError as exc:
            raise click.ClickException(str(exc)) from exc
    for path in package.responsibility_files:
        click.echo(f"wrote {path} ({package.responsibilities} Zuständigkeiten)")
    municipalities = len(package.questionnaires) // 2
    click.echo(f"wrote {municipalities} questionnaires (CSV and XLSX) into {package.directory}")
    for note in package.notes:
        click.echo(f"note: {note}", err=True)


@plan.command(name="export")
@click.argument("key", metavar="[PLAN]", required=False)
@click.option(
    "--output", "-o", required=True, metavar="FILE", help="plan.yaml, plan.csv or plan.xlsx."
)
@click.option("--as-of", "as_of", metavar="DATE", help="The plan as the store knew it then.")
@config_option
@db_option
def export(
    key: str | None, output: str, as_of: str | None, config_path: str | None, db: str | None
) -> None:
    """Write a plan as YAML, CSV or XLSX (a table's header goes into efa.toml: printed)."""
    from efa_core.default_plugins.plan import table_options
    from efa_core.rollout import AreaIndex
    from efa_core.rollout.planning import load_plan

    day = _day(as_of, "--as-of")
    when = None if day is None else datetime.combine(day, time.max, tzinfo=timezone.utc)
    config = load(config_path)
    with open_for_reading(db, config, caches=True) as store:
        try:
            found = load_plan(store, key, as_of=when)
            names = {
                a: i.name
                for a, i in AreaIndex.load(store, within=found.land.code).areas.items()
                if i.name
            }
            path = found.write(output, names=names)
            options = (
                None if path.suffix.lower() in (".yaml", ".yml") else table_options(found.plan)
            )
        except (EfaError, ValueError) as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(f"wrote {path}", err=True)
    if options is not None:
        click.echo("the plan header for efa.toml:")
        click.echo('[connectors.plan]\ntype = "plan"')
        click.echo(f"path = {json.dumps(str(path))}")
        for name, value in options.items():
            if isinstance(value, dict):
                inner = ", ".join(f"{json.dumps(k)} = {json.dumps(v)}" for k, v in value.items())
                click.echo(f"{name} = {{ {inner} }}")
            else:
                click.echo(f"{name} = {json.dumps(value, ensure_ascii=False)}")
