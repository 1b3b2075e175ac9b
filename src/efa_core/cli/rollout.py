"""``efa areas import``, ``efa findings``, ``efa coverage``, ``efa costs`` and ``efa explain``.

The store is found as every command finds it (:mod:`efa_core.cli._common`); ``findings``,
``coverage``, ``costs`` and ``explain`` never create one, and first bring the derived view
up to date (:meth:`efa_core.rollout.RolloutView.refresh`: incremental from the store's
history) with the configuration's ``[identity]`` and ``[rollout]`` tables and the plugins'
identity matchers.
``findings`` takes the rule options of ``[findings]`` in the configuration, then
``--contracted-days`` and ``--option``.
``findings``, ``coverage`` and ``costs`` print their tables in German, in English with ``--lang en``
(``--json`` is the same in both).
"""

from __future__ import annotations

import difflib
import json
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
    open_for_writing,
    plugin_registry,
    rule_options,
    table,
    warn_if_empty,
)
from efa_core.errors import EfaError
from efa_core.i18n import FIELD_NAMES, ROW_FLAG_NAMES, VIA_NAMES, M, Translator
from efa_core.ids import Ars, ArsLevel
from efa_core.model import AgreementState, Stage

__all__ = ["areas", "costs", "coverage", "explain", "findings"]


def _view(ctx: click.Context, store: Any, config: Any) -> Any:
    """Return the store's rollout view with the configured rules, brought up to date."""
    from efa_core.rollout import IdentityRules, RolloutView

    try:
        view = RolloutView(store, IdentityRules.from_config(config, plugin_registry(ctx)))
        view.refresh()
    except EfaError as exc:
        raise click.ClickException(str(exc)) from exc
    return view


def _unknown_service(view: Any, key: str) -> click.ClickException:
    """Return the error for an id no service has, with close matches among ids and names."""
    services = view.services()
    names = {info.name: info.key for info in services.values()}
    ids = [a for info in services.values() for a in info.aliases]
    close = difflib.get_close_matches(key, ids, n=3, cutoff=0.6)
    close += [names[n] for n in difflib.get_close_matches(key, list(names), n=3, cutoff=0.5)]
    hint = (
        f"; did you mean {', '.join(dict.fromkeys(close))}?"
        if close
        else f"; known: {', '.join(services) or 'none'}"
    )
    return click.ClickException(f"unknown service {key!r}{hint}")


# -- efa areas --------------------------------------------------------------------------------


@click.group(name="areas")
def areas() -> None:
    """Manage the official area register (Destatis Gemeindeverzeichnis)."""


@areas.command(name="import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--source", default="register", show_default=True, help="Source name to store as.")
@lang_option
@config_option
@db_option
@json_option
def areas_import(
    file: str,
    source: str,
    lang: str | None,
    config_path: str | None,
    db: str | None,
    as_json: bool,
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
        tr = choose_lang(lang, config)
        counts = M.AREAS_IMPORTED.fill(
            source=source,
            added=report.added,
            changed=report.changed,
            unchanged=report.unchanged,
            deleted=report.deleted,
        )
        click.echo(tr.render(counts))


# -- efa findings -----------------------------------------------------------------------------


@click.command(name="findings")
@click.option("--service", "services", multiple=True, metavar="KEY", help="Only this service.")
@click.option("--rule", "rules", multiple=True, metavar="NAME", help="Only this rule.")
@click.option(
    "--contracted-days", type=int, default=None, help="Days a contract may wait for publication."
)
@click.option("--option", "option_values", multiple=True, metavar="NAME=VALUE", help="Rule option.")
@lang_option
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
    lang: str | None,
    config_path: str | None,
    db: str | None,
    as_json: bool,
) -> None:
    """List contradictions between sources and stalled rollouts."""
    from efa_core.rollout import run_findings

    config = load(config_path)
    tr = choose_lang(lang, config)
    options = rule_options(option_values, config.findings)
    if contracted_days is not None:
        options["contracted_days"] = contracted_days
    registry = plugin_registry(ctx)
    with open_for_reading(db, config, caches=True) as store:
        if not as_json:
            warn_if_empty(store, db, config, tr)
        view = _view(ctx, store, config)
        for key in services:
            if view.service(key) is None:
                raise _unknown_service(view, key)
        try:
            found = list(
                run_findings(
                    view,
                    registry.finding_rules(),
                    services=[view.service(k).key for k in services] or None,
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
        click.echo(tr(M.NO_FINDINGS))
        return
    header = (M.COL_SEVERITY, M.COL_RULE, M.COL_SERVICE, M.COL_AREA, M.COL_MESSAGE)
    click.echo(
        table(
            [tr(h).upper() for h in header],
            [
                (
                    tr.severity(f.severity),
                    f.rule,
                    f.service or "-",
                    str(f.area or "-"),
                    f.render(tr),
                )
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
@lang_option
@config_option
@db_option
@json_option
@click.pass_context
def coverage(
    ctx: click.Context,
    services: tuple[str, ...],
    within: str | None,
    by: str | None,
    stage: str,
    lang: str | None,
    config_path: str | None,
    db: str | None,
    as_json: bool,
) -> None:
    """Show municipalities and population per stage, in the OZG-Dashboard's vocabulary.

    OTHER (ANDERE LÖSUNG) counts the Gemeinden where another solution is in use, AMBIGUOUS
    (MEHRDEUTIG) those where evidence could belong to several offers (counted for none).
    """
    from efa_core.rollout import AreaIndex
    from efa_core.rollout.coverage import coverage as coverage_of

    try:
        area = None if within is None else Ars.parse(within)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--within") from exc
    config = load(config_path)
    tr = choose_lang(lang, config)
    with open_for_reading(db, config, caches=True) as store:
        if not as_json:
            warn_if_empty(store, db, config, tr)
        view = _view(ctx, store, config)
        keys = list(services) or list(view.services())
        for key in keys:
            if view.service(key) is None:
                raise _unknown_service(view, key)
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
    header = [tr(h).upper() for h in (M.COL_SERVICE, M.COL_AREA, M.COL_GEMEINDEN, M.COL_POPULATION)]
    header += [tr.stage(s).upper() for s in Stage]
    header += [tr(h).upper() for h in (M.COL_OTHER, M.COL_AMBIGUOUS, M.COL_COVERAGE)]
    lines = []
    for r in reports:
        for row in (r.total, *r.groups):
            area_label = "DE" if row.area is None else f"{row.area} {row.name or ''}".strip()
            lines.append(
                (
                    row.service_key,
                    area_label,
                    tr.number(row.gemeinden),
                    tr.number(row.population),
                    *(tr.number(row.reached[s].gemeinden) for s in Stage),
                    tr.number(row.other_solution.gemeinden),
                    tr.number(row.ambiguous.gemeinden),
                    row.label if row.coverage is not None else tr(M.NOT_AVAILABLE),
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
@lang_option
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
    lang: str | None,
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
    tr = choose_lang(lang, config)
    with open_for_reading(db, config, caches=True) as store:
        if not as_json:
            warn_if_empty(store, db, config, tr)
        view = _view(ctx, store, config)
        info = view.service(service)
        if info is None:
            raise _unknown_service(view, service)
        try:
            split = service_costs(
                store,
                info.key,
                strategies[strategy],
                name=strategy,
                year=year,
                options=rule_options(option_values),
                refs=info.aliases,
                priority=view.rules.priority,
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
    header = [tr(h).upper() for h in (M.COL_PAYER, M.COL_NAME, M.COL_SHARE, M.COL_BASIS)]
    click.echo(
        table(
            header,
            [
                (str(s.payer), s.name or "-", tr.decimal(str(r)), s.render_basis(tr))
                for s, r in rounded
            ],
        )
    )


# -- efa explain ------------------------------------------------------------------------------


@click.group(name="explain")
def explain() -> None:
    """Explain how the derived view came to a service or a row."""


@explain.command(name="service")
@click.argument("key")
@config_option
@db_option
@json_option
@lang_option
@click.pass_context
def explain_service(
    ctx: click.Context,
    key: str,
    config_path: str | None,
    db: str | None,
    as_json: bool,
    lang: str | None,
) -> None:
    """Show which records joined into the service KEY (any of its ids), and why."""
    config = load(config_path)
    tr = choose_lang(lang, config)
    with open_for_reading(db, config, caches=True) as store:
        view = _view(ctx, store, config)
        info = view.service(key)
        if info is None:
            raise _unknown_service(view, key)
    if as_json:
        click.echo(json.dumps(_service_dict(info), indent=2, ensure_ascii=False))
        return
    lines = [tr(M.EXPLAIN_SERVICE, key=info.key, name=info.name), tr(M.EXPLAIN_RECORDS)]
    lines += [
        f"  {source} {record_key}" + (f" ({tr.date(at)})" if at else "")
        for source, record_key, at in info.records
    ]
    lines.append(tr(M.EXPLAIN_IDS, ids=", ".join(info.aliases)))
    if info.onlinedienst_ids:
        lines.append(tr(M.EXPLAIN_ONLINEDIENSTE, ids=", ".join(info.onlinedienst_ids)))
    if info.urls:
        lines.append(tr(M.EXPLAIN_URLS, urls=", ".join(info.urls)))
    lines.append(tr(M.EXPLAIN_LEIKA, keys=", ".join(info.leika_keys)))
    if info.ozg_ids:
        lines.append(tr(M.EXPLAIN_OZG, ids=", ".join(info.ozg_ids)))
    if info.links:
        lines.append(tr(M.EXPLAIN_JOINED))
        lines += [f"  {link.a} = {link.b}: {link.reason}" for link in info.links]
    if info.refused:
        lines.append(tr(M.EXPLAIN_NOT_JOINED))
        lines += [f"  {link.a} / {link.b}: {link.reason}" for link in info.refused]
    attributes = [
        tr(label, value=value)
        for label, value in (
            (M.ATTRIBUTE_LAND, None if info.land is None else info.land.value),
            (M.ATTRIBUTE_OPERATOR, info.operator),
            (M.ATTRIBUTE_URL, info.url),
        )
        if value is not None
    ]
    if attributes:
        lines.append(tr(M.EXPLAIN_ATTRIBUTES, items=", ".join(attributes)))
    for conflict in info.conflicts:
        values = "; ".join(f"{v} ({s} {k})" for s, k, v in conflict.values)
        field = tr.name(FIELD_NAMES, conflict.field)
        lines.append(tr(M.EXPLAIN_DISAGREE, field=field, values=values))
    click.echo("\n".join(lines))


def _detail(evidence: Any, tr: Translator) -> str:
    """Return an evidence's detail; an agreement's state by its name in *tr*'s language."""
    detail: str = evidence.detail or ""
    if evidence.kind == "agreement" and detail in _AGREEMENT_STATES:
        return tr.agreement(_AGREEMENT_STATES[detail])
    return detail


_AGREEMENT_STATES = {s.value: s for s in AgreementState}


def _service_dict(info: Any) -> dict[str, Any]:
    return {
        "key": info.key,
        "name": info.name,
        "records": [
            {"source": s, "key": k, "at": None if at is None else at.isoformat()}
            for s, k, at in info.records
        ],
        "ids": list(info.aliases),
        "onlinedienst_ids": list(info.onlinedienst_ids),
        "urls": list(info.urls),
        "leika_keys": list(info.leika_keys),
        "ozg_ids": list(info.ozg_ids),
        "links": [{"a": x.a, "b": x.b, "reason": x.reason} for x in info.links],
        "refused": [{"a": x.a, "b": x.b, "reason": x.reason} for x in info.refused],
        "land": None if info.land is None else info.land.value,
        "operator": info.operator,
        "url": info.url,
        "conflicts": [
            {
                "field": c.field,
                "values": [{"source": s, "key": k, "value": v} for s, k, v in c.values],
            }
            for c in info.conflicts
        ],
    }


@explain.command(name="row")
@click.argument("service")
@click.argument("ars")
@config_option
@db_option
@json_option
@lang_option
@click.pass_context
def explain_row(
    ctx: click.Context,
    service: str,
    ars: str,
    config_path: str | None,
    db: str | None,
    as_json: bool,
    lang: str | None,
) -> None:
    """Show the stage of SERVICE in the area ARS with each piece of evidence and its role."""
    try:
        area = Ars.parse(ars)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="ARS") from exc
    config = load(config_path)
    tr = choose_lang(lang, config)
    with open_for_reading(db, config, caches=True) as store:
        view = _view(ctx, store, config)
        info = view.service(service)
        if info is None:
            raise _unknown_service(view, service)
        row = view.row(info.key, area)
        stage = view.stage_at(info.key, area)
    if row is None:
        message = tr(
            M.EXPLAIN_NO_ROW,
            service=info.key,
            area=area,
            stage=tr.stage(stage) if stage else "-",
        )
        if as_json:
            click.echo(json.dumps({"service": info.key, "ars": str(area), "row": None}))
        else:
            click.echo(message)
        return
    if as_json:
        from efa_core.report.data import row_to_dict

        click.echo(json.dumps(row_to_dict(row), indent=2, ensure_ascii=False))
        return
    flags = [
        tr.name(ROW_FLAG_NAMES, (f.name or "").lower().replace("_", "-"))
        for f in type(row.flags)
        if f & row.flags
    ]
    state = "-" if row.agreement_state is None else tr.agreement(row.agreement_state)
    click.echo(
        tr(
            M.EXPLAIN_ROW,
            service=info.key,
            area=row.ars,
            stage=tr.stage(row.stage),
            state=state,
            flags=", ".join(flags) or tr(M.NO_FLAGS),
        )
    )
    header = (
        M.COL_STAGE,
        M.COL_ROLE,
        M.COL_VIA,
        M.COL_SOURCE,
        M.COL_KIND,
        M.COL_KEY,
        M.COL_AREA,
        M.COL_DATE,
        M.COL_DETAIL,
    )
    click.echo(
        table(
            [tr(h).upper() for h in header],
            [
                (
                    "-" if e.stage is None else tr.stage(e.stage),
                    tr.role(e.role),
                    "-" if e.via is None else tr.name(VIA_NAMES, e.via),
                    e.source,
                    tr.kind(e.kind),
                    e.natural_key,
                    e.area or "-",
                    tr(M.DATE_UNKNOWN_SHORT) if e.at is None else tr.date(e.at),
                    _detail(e, tr) + (f" [{', '.join(e.candidates)}]" if e.candidates else ""),
                )
                for e in row.evidence
            ],
        )
    )
