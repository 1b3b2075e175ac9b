"""``efa sync``, ``efa status``, ``efa history`` and ``efa quarantine``.

The store is found as every command finds it (:mod:`efa_core.cli._common`); ``status``,
``history`` and ``quarantine`` only read and never create a store.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Sequence
from typing import Any

import click

from efa_core.cli._common import (
    DB_ENV_VAR,
    choose_lang,
    config_option,
    db_option,
    default_store_url,
    json_option,
    lang_option,
    load,
    open_for_reading,
    open_for_writing,
    plugin_registry,
    resolve_store_url,
    table,
    time_text,
    warn_if_empty,
)
from efa_core.errors import EfaError
from efa_core.i18n import (
    OPERATION_NAMES,
    RUN_MODE_NAMES,
    RUN_STATUS_NAMES,
    M,
    Text,
    Translator,
)
from efa_core.store import RunStatus, SkipCount, SnapshotCheck, SourceState, record_facts
from efa_core.sync import SourceReport, SyncEngine, SyncProgress, SyncReport

__all__ = [
    "DB_ENV_VAR",
    "default_store_url",
    "history",
    "quarantine",
    "resolve_store_url",
    "status",
    "sync",
]

# -- efa sync -------------------------------------------------------------------------------------


class _Progress:
    """Rich progress lines on stderr, one per source (only on a terminal)."""

    def __init__(self, enabled: bool) -> None:
        self.progress: Any = None
        self.tasks: dict[str, Any] = {}
        if not enabled:
            return
        from rich.console import Console
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        from efa_core.cli._terminal import unfiltered

        # efa's own progress display moves the cursor: past the filter of data output
        console = Console(file=unfiltered(sys.stderr))
        if not console.is_terminal:
            return
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.description}"),
            TextColumn("{task.fields[detail]}"),
            TimeElapsedColumn(),
            console=console,
        )

    def __enter__(self) -> _Progress:
        if self.progress is not None:
            self.progress.start()
            # rich now sends what others print (log lines, warnings) above the bars, through
            # its own console, which writes past the filter: filter it before rich gets it
            from efa_core.cli._terminal import SafeStream

            for name in ("stdout", "stderr"):
                stream = getattr(sys, name)
                if not isinstance(stream, SafeStream):
                    setattr(sys, name, SafeStream(stream))
        return self

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.stop()

    def __call__(self, event: SyncProgress) -> None:
        if self.progress is None:
            return
        counts = event.counts
        detail = (
            f"{event.batches} batches, {event.records} records: +{counts.get('added', 0)} "
            f"~{counts.get('changed', 0)} -{counts.get('deleted', 0)}"
            f" !{counts.get('quarantined', 0)}"
        )
        if event.source not in self.tasks:
            self.tasks[event.source] = self.progress.add_task(
                event.source, total=None, detail=detail
            )
        task = self.tasks[event.source]
        if event.event == "finished":
            state = event.status.value if event.status else "finished"
            self.progress.update(task, detail=f"{detail} ({state})", total=1, completed=1)
        else:
            self.progress.update(task, detail=detail)


def _skip_json(skip: SkipCount) -> dict[str, Any]:
    return {
        "kind": skip.kind,
        "reason": skip.reason,
        "count": skip.count,
        "position": skip.position,
    }


def _snapshot_json(check: SnapshotCheck) -> dict[str, Any]:
    return {
        "delivered": check.delivered,
        "live": check.live,
        "missing": check.missing,
        "max_delete_share": check.max_delete_share,
        "refused": check.refused,
    }


def _skip_lines(source: str, skips: Sequence[SkipCount], tr: Translator) -> Iterator[str]:
    for skip in skips:
        where = tr(M.FIRST_AT, position=skip.position) if skip.position else ""
        yield tr(
            M.SKIPPED_LINE,
            source=source,
            n=tr.number(skip.count),
            kind=tr.kind(skip.kind),
            reason=skip.reason,
            where=where,
        )


def _snapshot_note(state: SourceState, tr: Translator) -> str:
    """Say whether a snapshot is running, or open after a run that failed or stopped."""
    if not state.snapshot_in_progress:
        return ""
    run = state.last_run
    running = run is not None and run.status is RunStatus.RUNNING
    return tr(M.SNAPSHOT_RUNNING if running else M.SNAPSHOT_OPEN)


def _header(tr: Translator, *names: Text) -> list[str]:
    return [tr(name).upper() for name in names]


def _problems(source: str, error: str | None, warnings: Sequence[str], tr: Translator) -> list[str]:
    """Return the lines of a run's error (technical, as it is) and warnings."""
    lines = [tr(M.SOURCE_ERROR, source=source, error=error)] if error else []
    return lines + [tr(M.SOURCE_WARNING, source=source, warning=w) for w in warnings]


def _report_json(report: SyncReport) -> str:
    def one(r: SourceReport) -> dict[str, Any]:
        data: dict[str, Any] = {
            "source": r.source,
            "run_id": r.run_id,
            "status": r.status.value,
            "mode": None if r.mode is None else r.mode.value,
            **r.counts(),
            "batches": r.batches,
            "duration": round(r.duration, 3),
            "cursor_before": r.cursor_before,
            "cursor_after": r.cursor_after,
            "error": r.error,
            "warnings": list(r.warnings),
            "by_kind": {kind: dict(counts) for kind, counts in r.by_kind.items()},
            "skipped_reasons": [_skip_json(skip) for skip in r.skipped_reasons],
            "snapshot": None if r.snapshot is None else _snapshot_json(r.snapshot),
        }
        if r.plan is not None:
            data["plan"] = {
                kind: {
                    "added": p.added,
                    "changed": p.changed,
                    "deleted": p.deleted,
                    "examples": {op: list(keys) for op, keys in p.examples.items()},
                }
                for kind, p in r.plan.kinds.items()
            }
        return data

    return json.dumps(
        {"dry_run": report.dry_run, "sources": [one(r) for r in report.reports]}, indent=2
    )


def _report_text(report: SyncReport, tr: Translator) -> Iterator[str]:
    header = _header(
        tr,
        M.COL_SOURCE,
        M.COL_STATUS,
        M.COL_ADDED,
        M.COL_CHANGED,
        M.COL_UNCHANGED,
        M.COL_DELETED,
        M.COL_ORPHANS,
        M.COL_QUARANTINED,
        M.COL_SKIPPED,
        M.COL_SECONDS,
    )
    n = tr.number
    rows = [
        (
            r.source,
            tr.name(RUN_STATUS_NAMES, r.status),
            n(r.added),
            n(r.changed),
            n(r.unchanged),
            n(r.deleted),
            n(r.orphan_deletes),
            n(r.quarantined),
            n(r.skipped),
            n(r.duration, 1),
        )
        for r in report.reports
    ]
    yield table(header, rows)
    for r in report.reports:
        yield from _problems(r.source, r.error, r.warnings, tr)
        yield from _skip_lines(r.source, r.skipped_reasons, tr)
        if r.plan is not None:
            if r.plan.empty:
                yield tr(M.NOTHING_WOULD_CHANGE, source=r.source)
            for kind, p in r.plan.kinds.items():
                yield tr(
                    M.PLAN_COUNTS,
                    source=r.source,
                    kind=tr.kind(kind),
                    added=n(p.added),
                    changed=n(p.changed),
                    deleted=n(p.deleted),
                )
                for op, keys in p.examples.items():
                    yield f"  {tr.name(OPERATION_NAMES, op)}: {', '.join(keys)}"
    if report.dry_run:
        yield tr(M.DRY_RUN)


@click.command(name="sync")
@click.argument("sources", nargs=-1, metavar="[SOURCE]...")
@click.option("--dry-run", is_flag=True, help="Show what would change; write nothing.")
@config_option
@db_option
@click.option(
    "--lock-timeout",
    type=float,
    default=60.0,
    show_default=True,
    help="Seconds to wait for a source that another process is syncing.",
)
@click.option("--progress/--no-progress", default=True, help="Show progress on a terminal.")
@click.option(
    "--allow-shrink",
    "allow_shrink",
    multiple=True,
    metavar="SOURCE",
    help="Let SOURCE's completed snapshot delete more than its max_delete_share (or "
    "everything) this time. Without SOURCE arguments, syncs only the sources named here.",
)
@json_option
@lang_option
@click.pass_context
def sync(
    ctx: click.Context,
    sources: tuple[str, ...],
    dry_run: bool,
    config_path: str | None,
    db: str | None,
    lock_timeout: float,
    progress: bool,
    allow_shrink: tuple[str, ...],
    as_json: bool,
    lang: str | None,
) -> None:
    """Pull the configured sources (all, or the SOURCEs named) into the store.

    Exits with status 1 if a source failed; what was committed before the failure stays,
    and the next run resumes from the stored cursor.  A snapshot that would delete more
    than the source's max_delete_share of its records (default 0.5), or that delivered
    nothing where records were stored, deletes nothing and fails: check the source, then
    allow it once with ``efa sync --allow-shrink SOURCE``.
    """
    config = load(config_path)
    if not config.connectors:
        where = config.path or "efa.toml"
        raise click.ClickException(f"no sources configured ({where} has no [connectors.*])")
    registry = plugin_registry(ctx)
    with open_for_writing(db, config) as store, _Progress(progress and not as_json) as bar:
        engine = SyncEngine(store, registry, config, progress=bar, lock_timeout=lock_timeout)
        chosen = sources or allow_shrink or None
        try:
            report = engine.run(chosen, dry_run=dry_run, allow_shrink=allow_shrink)
        except EfaError as exc:
            raise click.ClickException(str(exc)) from exc
    tr = choose_lang(lang, config)
    click.echo(_report_json(report) if as_json else "\n".join(_report_text(report, tr)))
    if not report.ok:
        ctx.exit(1)


# -- efa status -----------------------------------------------------------------------------------


@click.command(name="status")
@config_option
@db_option
@json_option
@lang_option
def status(config_path: str | None, db: str | None, as_json: bool, lang: str | None) -> None:
    """Show each source's last run, record counts, cursor and quarantine."""
    config = load(config_path)
    tr = choose_lang(lang, config)
    with open_for_reading(db, config) as store:
        states = store.source_states()
        details = {
            s.source: store.run_details(s.last_run.run_id) for s in states if s.last_run is not None
        }
        url = store.url
        if not as_json:
            warn_if_empty(store, db, config, tr)
    if as_json:
        click.echo(
            json.dumps(
                [
                    {
                        "source": s.source,
                        "mode": None if s.mode is None else s.mode.value,
                        "cursor": s.cursor,
                        "snapshot_in_progress": s.snapshot_in_progress,
                        "last_snapshot_at": None
                        if s.last_snapshot_at is None
                        else s.last_snapshot_at.isoformat(),
                        "live_records": s.live_records,
                        "deleted_records": s.deleted_records,
                        "quarantined": s.quarantined,
                        "last_run": None
                        if s.last_run is None
                        else {
                            "run_id": s.last_run.run_id,
                            "status": s.last_run.status.value,
                            "started_at": s.last_run.started_at.isoformat(),
                            "finished_at": None
                            if s.last_run.finished_at is None
                            else s.last_run.finished_at.isoformat(),
                            "counts": dict(s.last_run.counts),
                            "by_kind": {
                                kind: dict(counts)
                                for kind, counts in details[s.source].by_kind.items()
                            },
                            "skipped_reasons": [
                                _skip_json(skip) for skip in details[s.source].skipped
                            ],
                            "error": s.last_run.error,
                            "warnings": list(s.last_run.warnings),
                        },
                    }
                    for s in states
                ],
                indent=2,
            )
        )
        return
    click.echo(tr(M.STORE_AT, url=url))
    configured = [name for name in config.connectors if name not in {s.source for s in states}]
    if not states and not configured:
        return
    n = tr.number
    rows = []
    for s in states:
        run = s.last_run
        counts = run.counts if run else {}
        changes = (
            f"+{n(counts.get('added', 0))} ~{n(counts.get('changed', 0))} "
            f"-{n(counts.get('deleted', 0))}"
        )
        rows.append(
            (
                s.source,
                "-" if s.mode is None else tr.name(RUN_MODE_NAMES, s.mode),
                time_text(run.started_at if run else None, tr),
                tr.name(RUN_STATUS_NAMES, run.status) if run else "-",
                changes if run else "-",
                n(s.live_records),
                n(s.deleted_records),
                tr(M.QUARANTINED_TOTAL, n=n(counts.get("quarantined", 0)), total=n(s.quarantined))
                if run
                else n(s.quarantined),
                n(counts.get("skipped", 0)) if run else "-",
                (s.cursor or "-") + _snapshot_note(s, tr),
            )
        )
    rows.extend((name, "-", tr(M.NEVER), "-", "-", "0", "0", "0", "-", "-") for name in configured)
    header = _header(
        tr,
        M.COL_SOURCE,
        M.COL_MODE,
        M.COL_LAST_RUN,
        M.COL_STATUS,
        M.COL_CHANGES,
        M.COL_RECORDS,
        M.COL_DELETED,
        M.COL_QUARANTINED,
        M.COL_SKIPPED,
        M.COL_CURSOR,
    )
    click.echo(table(header, rows))
    for s in states:
        if s.last_run is None:
            continue
        for line in _problems(s.source, s.last_run.error, s.last_run.warnings, tr):
            click.echo(line)
        for line in _skip_lines(s.source, details[s.source].skipped, tr):
            click.echo(line)


# -- efa history ----------------------------------------------------------------------------------


@click.command(name="history")
@click.argument("key")
@click.option("--source", help="Only this source.")
@click.option("--kind", help="Only this record kind (e.g. responsibility).")
@click.option("--prefix", is_flag=True, help="KEY is a prefix of the natural keys.")
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=1000,
    show_default=True,
    help="At most this many entries (1 or more).",
)
@config_option
@db_option
@json_option
@lang_option
def history(
    key: str,
    source: str | None,
    kind: str | None,
    prefix: bool,
    limit: int,
    config_path: str | None,
    db: str | None,
    as_json: bool,
    lang: str | None,
) -> None:
    """Show what changed when, and from which source, for the record(s) with natural KEY.

    A KEY that is an ARS (e.g. ``16055``) also shows the records inside that area: every
    record whose area (an agreement's subscriber area) starts with it.
    """
    config = load(config_path)
    tr = choose_lang(lang, config)
    with open_for_reading(db, config) as store:
        if not as_json:
            warn_if_empty(store, db, config, tr)
        entries = list(
            store.history(
                None if prefix else key,
                key_prefix=key if prefix else None,
                source=source,
                kind=kind,
                limit=limit,
            )
        )
        if not prefix and _is_area(key):
            from efa_core.store import EvidenceReader

            inside = EvidenceReader(store.backend).history_in_area(
                key, source=source, kind=kind, limit=limit
            )
            merged = {e.id: e for e in [*entries, *inside]}
            entries = [merged[i] for i in sorted(merged)][:limit]
    if as_json:
        click.echo(
            json.dumps(
                [
                    {
                        "changed_at": e.changed_at.isoformat(),
                        "source": e.source,
                        "kind": e.kind,
                        "key": e.natural_key,
                        "op": e.op.value,
                        "old_hash": e.old_hash,
                        "new_hash": e.new_hash,
                        "run_id": e.run_id,
                        "facts": record_facts(e.kind, e.payload),
                        "payload": e.payload,
                    }
                    for e in entries
                ],
                indent=2,
                ensure_ascii=False,
            )
        )
        return
    if not entries:
        click.echo(tr(M.NO_HISTORY, key=key))
        raise click.exceptions.Exit(1)
    header = _header(
        tr,
        M.COL_CHANGED_AT,
        M.COL_SOURCE,
        M.COL_KIND,
        M.COL_KEY,
        M.COL_OP,
        M.COL_CONTENT,
        M.COL_RUN,
        M.COL_DETAILS,
    )
    click.echo(
        table(
            header,
            [
                (
                    time_text(e.changed_at, tr),
                    e.source,
                    tr.kind(e.kind),
                    e.natural_key,
                    tr.name(OPERATION_NAMES, e.op),
                    (e.new_hash or e.old_hash or "-")[:10],
                    e.run_id[:8],
                    record_facts(e.kind, e.payload) or "",
                )
                for e in entries
            ],
        )
    )


def _is_area(key: str) -> bool:
    """Whether *key* is written like an ARS (2, 3, 5, 9 or 12 digits)."""
    return key.isascii() and key.isdigit() and len(key) in (2, 3, 5, 9, 12)


# -- efa quarantine -------------------------------------------------------------------------------


@click.command(name="quarantine")
@click.argument("source", required=False)
@click.option(
    "--all",
    "show_all",
    is_flag=True,
    help="Every run's quarantined records, not only each source's last run.",
)
@config_option
@db_option
@json_option
@lang_option
def quarantine(
    source: str | None,
    show_all: bool,
    config_path: str | None,
    db: str | None,
    as_json: bool,
    lang: str | None,
) -> None:
    """List records that failed validation: where they were and what is wrong."""
    config = load(config_path)
    tr = choose_lang(lang, config)
    with open_for_reading(db, config) as store:
        if not as_json:
            warn_if_empty(store, db, config, tr)
        if show_all:
            entries = list(store.quarantine(source))
        else:
            names = [source] if source else store.sources()
            entries = []
            for name in names:
                runs = [r for r in store.runs(name) if r.status is not RunStatus.RUNNING]
                if runs:
                    entries.extend(store.quarantine(name, run_id=runs[0].run_id))
    if as_json:
        click.echo(
            json.dumps(
                [
                    {
                        "source": e.source,
                        "run_id": e.run_id,
                        "kind": e.kind,
                        "position": e.position,
                        "problems": [list(p) for p in e.problems],
                        "raw": e.raw,
                        "quarantined_at": e.quarantined_at.isoformat(),
                    }
                    for e in entries
                ],
                indent=2,
                ensure_ascii=False,
            )
        )
        return
    if not entries:
        click.echo(tr(M.NOTHING_IN_QUARANTINE))
        return
    for e in entries:
        kind = tr.kind(e.kind) if e.kind else tr(M.UNKNOWN_KIND)
        at = time_text(e.quarantined_at, tr)
        click.echo(
            tr(M.QUARANTINE_ENTRY, source=e.source, position=e.position or "-", kind=kind, at=at)
        )
        for path, message in e.problems:  # the validation's own words (technical)
            click.echo(f"  {path}: {message}")
        if e.raw:
            raw = e.raw if len(e.raw) <= 200 else e.raw[:197] + "..."
            click.echo(tr(M.RAW, raw=raw))
