"""``efa areas import``, ``efa findings``, ``efa coverage`` and ``efa costs``.

The store is found as for ``efa sync`` (``--db``, ``$EFA_DB``, the configuration, the
default).  ``findings``, ``coverage`` and ``costs`` first bring the derived view up to date
(:meth:`efa_core.rollout.RolloutView.refresh`: incremental from the store's history).
"""

from __future__ import annotations

import json
from typing import Any

import click

from efa_core.cli.sync import _config, _config_option, _db_option, _json_option, _open, _table
from efa_core.errors import EfaError
from efa_core.ids import Ars, ArsLevel
from efa_core.model import Stage

__all__ = ["areas", "costs", "coverage", "findings"]


def _registry(ctx: click.Context) -> Any:
    """Return the registry passed by an embedding program, or a fresh one.

    The built-in finding rules and cost strategies are a bundled plugin
    (:data:`efa_core.plugins.DEFAULT_PLUGINS`), so every registry has them.
    """
    from efa_core.plugins import PluginRegistry

    return ctx.find_object(PluginRegistry) or PluginRegistry()


def _options(values: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in values:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise click.BadParameter(f"{item!r} is not NAME=VALUE", param_hint="--option")
        try:
            out[name.strip()] = json.loads(value)
        except json.JSONDecodeError:
            out[name.strip()] = value
    return out


# -- efa areas --------------------------------------------------------------------------------


@click.group(name="areas")
def areas() -> None:
    """Manage the official area register (Destatis Gemeindeverzeichnis)."""


@areas.command(name="import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--source", default="register", show_default=True, help="Source name to store as.")
@_config_option
@_db_option
@_json_option
def areas_import(
    file: str, source: str, config_path: str | None, db: str | None, as_json: bool
) -> None:
    """Import the municipality register FILE (Auszug GV as .csv or .xlsx) into the store.

    A new register version replaces the old one: ARS it no longer contains are deleted
    (kept in the history).
    """
    from efa_core.areas import import_register

    config = _config(config_path)
    with _open(db, config) as store:
        try:
            report = import_register(store, file, source=source)
        except EfaError as exc:
            raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps({"source": source, "run_id": report.run_id, **report.counts()}))
    else:
        click.echo(
            f"{source}: {report.added} added, {report.changed} changed, "
            f"{report.unchanged} unchanged, {report.deleted} deleted"
        )


# -- efa findings -----------------------------------------------------------------------------


@click.command(name="findings")
@click.option("--service", "services", multiple=True, metavar="KEY", help="Only this service.")
@click.option("--rule", "rules", multiple=True, metavar="NAME", help="Only this rule.")
@click.option(
    "--contracted-days", type=int, default=None, help="Days a contract may wait for publication."
)
@click.option("--option", "option_values", multiple=True, metavar="NAME=VALUE", help="Rule option.")
@_config_option
@_db_option
@_json_option
@click.pass_context
def findings(
    ctx: click.Context,
    services: tuple[str, ...],
    rules: tuple[str, ...],
    contracted_days: int | None,
    option_values: tuple[str, ...],
    config_path: str | None,
    db: str | None,
    as_json: bool,
) -> None:
    """List contradictions between sources and stalled rollouts."""
    from efa_core.rollout import RolloutView, run_findings

    options = _options(option_values)
    if contracted_days is not None:
        options["contracted_days"] = contracted_days
    registry = _registry(ctx)
    config = _config(config_path)
    with _open(db, config) as store:
        try:
            view = RolloutView(store)
            view.refresh()
            found = list(
                run_findings(
                    view,
                    registry.finding_rules(),
                    services=services or None,
                    only=rules or None,
                    options=options,
                )
            )
        except EfaError as exc:
            raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps([f.to_dict() for f in found], indent=2, ensure_ascii=False))
        return
    if not found:
        click.echo("no findings")
        return
    click.echo(
        _table(
            ("SEVERITY", "RULE", "SERVICE", "AREA", "MESSAGE"),
            [
                (f.severity.value, f.rule, f.service or "-", str(f.area or "-"), f.message)
                for f in found
            ],
        )
    )


# -- efa coverage -----------------------------------------------------------------------------


@click.command(name="coverage")
@click.argument("services", nargs=-1, metavar="[SERVICE]...")
@click.option("--within", metavar="ARS", help="Only this area (e.g. 16 for Thüringen).")
@click.option(
    "--by",
    type=click.Choice(["land", "kreis"], case_sensitive=False),
    help="Also report each Land or Kreis.",
)
@click.option(
    "--stage",
    type=click.Choice([s.value for s in Stage], case_sensitive=False),
    default=Stage.LIVE.value,
    show_default=True,
    help="The stage the classification is about.",
)
@_config_option
@_db_option
@_json_option
def coverage(
    services: tuple[str, ...],
    within: str | None,
    by: str | None,
    stage: str,
    config_path: str | None,
    db: str | None,
    as_json: bool,
) -> None:
    """Show municipalities and population per stage, in the OZG-Dashboard's vocabulary."""
    from efa_core.rollout import AreaIndex, RolloutView
    from efa_core.rollout.coverage import coverage as coverage_of

    try:
        area = None if within is None else Ars.parse(within)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--within") from exc
    config = _config(config_path)
    with _open(db, config) as store:
        view = RolloutView(store)
        view.refresh()
        known = view.services()
        keys = list(services) or list(known)
        unknown = [k for k in keys if k not in known]
        if unknown:
            raise click.ClickException(
                f"unknown service(s) {', '.join(unknown)}; known: {', '.join(known) or 'none'}"
            )
        index = AreaIndex.load(store)
        level = None if by is None else ArsLevel.parse(by)
        reports = [
            coverage_of(view, k, within=area, by=level, stage=Stage(stage), areas=index)
            for k in keys
        ]
    if as_json:
        click.echo(
            json.dumps(
                [
                    {
                        "total": r.total.to_dict(),
                        "groups": [g.to_dict() for g in r.groups],
                    }
                    for r in reports
                ],
                indent=2,
                ensure_ascii=False,
            )
        )
        return
    header = (
        "SERVICE",
        "AREA",
        "GEMEINDEN",
        "POPULATION",
        *(s.value.upper() for s in Stage),
        "COVERAGE",
    )
    lines = []
    for r in reports:
        for row in (r.total, *r.groups):
            area_label = "DE" if row.area is None else f"{row.area} {row.name or ''}".strip()
            lines.append(
                (
                    row.service_key,
                    area_label,
                    str(row.gemeinden),
                    str(row.population),
                    *(str(row.reached[s].gemeinden) for s in Stage),
                    row.label,
                )
            )
    click.echo(_table(header, lines))


# -- efa costs --------------------------------------------------------------------------------


@click.command(name="costs")
@click.argument("service")
@click.option("--year", type=int, help="Year of the Königsteiner Schlüssel table.")
@click.option("--strategy", default="koenigsteiner", show_default=True, help="Cost strategy.")
@click.option("--places", type=int, default=4, show_default=True, help="Decimal places shown.")
@click.option("--option", "option_values", multiple=True, metavar="NAME=VALUE", help="Option.")
@_config_option
@_db_option
@_json_option
@click.pass_context
def costs(
    ctx: click.Context,
    service: str,
    year: int | None,
    strategy: str,
    places: int,
    option_values: tuple[str, ...],
    config_path: str | None,
    db: str | None,
    as_json: bool,
) -> None:
    """Split the costs of SERVICE among its contracted participants."""
    from efa_core.rollout import service_costs

    strategies = _registry(ctx).cost_strategies()
    if strategy not in strategies:
        raise click.BadParameter(
            f"unknown strategy {strategy!r}; known: {', '.join(strategies)}",
            param_hint="--strategy",
        )
    config = _config(config_path)
    with _open(db, config) as store:
        try:
            split = service_costs(
                store,
                service,
                strategies[strategy],
                name=strategy,
                year=year,
                options=_options(option_values),
            )
        except EfaError as exc:
            raise click.ClickException(str(exc)) from exc
    rounded = split.rounded(places)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "service": split.service_key,
                    "strategy": split.strategy,
                    "year": split.year,
                    "shares": [
                        {
                            "payer": str(s.payer),
                            "name": s.name,
                            "share": f"{s.share.numerator}/{s.share.denominator}",
                            "rounded": str(r),
                            "basis": s.basis,
                            "pays_for": [str(a) for a in s.pays_for],
                        }
                        for s, r in rounded
                    ],
                },
                indent=2,
                ensure_ascii=False,
            )
        )
        return
    click.echo(
        _table(
            ("PAYER", "NAME", "SHARE", "BASIS"),
            [(str(s.payer), s.name or "-", str(r), s.basis) for s, r in rounded],
        )
    )
