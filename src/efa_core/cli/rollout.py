"""``efa areas import``, ``efa findings``, ``efa coverage`` and ``efa costs``.

The store is found as every command finds it (:mod:`efa_core.cli._common`); ``findings``,
``coverage`` and ``costs`` never create one, and first bring the derived view up to date
(:meth:`efa_core.rollout.RolloutView.refresh`: incremental from the store's history).
``findings`` takes the rule options of ``[findings]`` in the configuration, then
``--contracted-days`` and ``--option``.
"""

from __future__ import annotations

import json

import click

from efa_core.cli._common import (
    config_option,
    db_option,
    json_option,
    load,
    open_for_reading,
    open_for_writing,
    plugin_registry,
    rule_options,
    table,
    warn_if_empty,
)
from efa_core.errors import EfaError
from efa_core.ids import Ars, ArsLevel
from efa_core.model import Stage

__all__ = ["areas", "costs", "coverage", "findings"]


# -- efa areas --------------------------------------------------------------------------------


@click.group(name="areas")
def areas() -> None:
    """Manage the official area register (Destatis Gemeindeverzeichnis)."""


@areas.command(name="import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--source", default="register", show_default=True, help="Source name to store as.")
@config_option
@db_option
@json_option
def areas_import(
    file: str, source: str, config_path: str | None, db: str | None, as_json: bool
) -> None:
    """Import the municipality register FILE (Auszug GV as .csv or .xlsx) into the store.

    A new register version replaces the old one: ARS it no longer contains are deleted
    (kept in the history).
    """
    from efa_core.areas import import_register

    config = load(config_path)
    with open_for_writing(db, config) as store:
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
@config_option
@db_option
@json_option
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

    config = load(config_path)
    options = rule_options(option_values, config.findings)
    if contracted_days is not None:
        options["contracted_days"] = contracted_days
    registry = plugin_registry(ctx)
    with open_for_reading(db, config) as store:
        if not as_json:
            warn_if_empty(store, db, config)
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
        table(
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
@config_option
@db_option
@json_option
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
    config = load(config_path)
    with open_for_reading(db, config) as store:
        if not as_json:
            warn_if_empty(store, db, config)
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
    click.echo(table(header, lines))


# -- efa costs --------------------------------------------------------------------------------


@click.command(name="costs")
@click.argument("service")
@click.option("--year", type=int, help="Year of the Königsteiner Schlüssel table.")
@click.option("--strategy", default="koenigsteiner", show_default=True, help="Cost strategy.")
@click.option("--places", type=int, default=4, show_default=True, help="Decimal places shown.")
@click.option("--option", "option_values", multiple=True, metavar="NAME=VALUE", help="Option.")
@config_option
@db_option
@json_option
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

    strategies = plugin_registry(ctx).cost_strategies()
    if strategy not in strategies:
        raise click.BadParameter(
            f"unknown strategy {strategy!r}; known: {', '.join(strategies)}",
            param_hint="--strategy",
        )
    config = load(config_path)
    with open_for_reading(db, config) as store:
        if not as_json:
            warn_if_empty(store, db, config)
        try:
            split = service_costs(
                store,
                service,
                strategies[strategy],
                name=strategy,
                year=year,
                options=rule_options(option_values),
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
        table(
            ("PAYER", "NAME", "SHARE", "BASIS"),
            [(str(s.payer), s.name or "-", str(r), s.basis) for s, r in rounded],
        )
    )
