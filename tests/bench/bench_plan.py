"""Planning benchmark: plan status at national scale vs the rollout report it builds on.

    python tests/bench/bench_plan.py            # 11,004 Gemeinden × 30 services × 3 waves
    python tests/bench/bench_plan.py --quick    # 3 services

Issue 12's target: plan status for 11,004 municipalities × 30 services × 3 waves within 2×
the time of the rollout report it builds on, measured in the same run.

**Data** (one SQLite store in a temporary directory, built once, not timed as a contender):
the evidence of ``bench_rollout.py`` for ``--services`` services, each in every Gemeinde of
Germany (the real register, ``../shared/data/gemeindeverzeichnis-2020q4.csv``, read at run
time): responsibilities in 90 % of the pairs, availabilities in 40 %, agreements in 58 %.
Then one plan per Land (a plan belongs to one Land), each with every service and three
waves, together targeting every Gemeinde of Germany:

* ``Pilot`` (kind pilot): the Land's first five Gemeinden, as Gemeinde targets;
* ``Welle 2``: the first half of the Land's Kreise, as Kreis targets;
* ``Welle 3``: the Land itself (every Gemeinde not in an earlier wave).

1 % of the cells (service × Gemeinde) have checklist items recorded by hand (interest done,
Fachverfahren in progress), so the manual path is exercised too.  The plans are written
through :meth:`efa_core.store.Store.apply` as the ``plan`` source.

**Contenders**, interleaved per repetition (the order alternates):

* ``report``: :func:`efa_core.report.collect_report` for all of Germany, the rollout
  finding rules (the bundled ones without the planning rules), ``timeline=False``,
  ``plans=False``: the rollout report, as at national scale (issue 15);
* ``plan-status``: what ``efa plan status`` does for every plan: a current
  :class:`~efa_core.rollout.RolloutView`, :func:`~efa_core.rollout.planning.load_plans`
  and :func:`~efa_core.rollout.planning.plan_status` of each of the 16 plans;
* ``report+plans``: ``report`` with ``plans=True`` (the report computes plan vs actual
  from the rows it already read), for what the section adds to the report.

The answers are checked: the cells of all plans are every service × inhabited Gemeinde,
and the cells at stage live per service equal the report's live rows of inhabited
Gemeinden.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_rollout as br  # noqa: E402
from _bench2_util import interleaved_summary, machine_info  # noqa: E402

TODAY = date(2024, 1, 1)  # bench_rollout's BASE: the agreements are older, go-lives not
WAVES = (
    ("Pilot", "pilot", date(2023, 1, 15), date(2023, 6, 30)),
    ("Welle 2", "rollout", date(2023, 7, 1), date(2024, 6, 30)),
    ("Welle 3", "rollout", date(2024, 7, 1), date(2026, 12, 31)),
)


def plans(services: int, inhabited: set[str]) -> Iterator[Any]:
    """Yield one plan per Land over every *inhabited* Gemeinde (see the module docs)."""
    from efa_core.ids import Land
    from efa_core.rollout.planning import Plan

    keys = [br.service_key(s) for s in range(services)]
    gemeinden = br.bd.municipalities(None)
    for land in Land:
        mine = [g for g in gemeinden if g.startswith(land.value) and g in inhabited]
        kreise = sorted({g[:5] for g in mine})
        plan = Plan.build(
            f"plan-{land.value}",
            f"Rollout {land.name_de}",
            land,
            keys,
            planning_body=f"Roll-In {land.abbreviation}",
            financing="land-pays",
        )
        targets = (mine[:5], kreise[: max(1, len(kreise) // 2)], [land.value])
        for (name, kind, stichtag, golive), areas in zip(WAVES, targets, strict=True):
            plan = plan.with_wave(name, areas, kind=kind, stichtag=stichtag, target_golive=golive)
        for s, key in enumerate(keys):
            for i, ars in enumerate(mine):
                if (i * 31 + s * 17) % 100 == 0:  # 1 % of the cells
                    plan = plan.tick(key, ars, "interest", on=date(2023, 3, 1), by="Roll-In")
                    plan = plan.tick(key, ars, "fachverfahren", "in_progress", on=date(2023, 9, 1))
        yield plan


def build(store: Any, services: int) -> dict[str, Any]:
    """Write the evidence (bench_rollout's data) and the 16 plans; return counts."""
    from efa_core.rollout import AreaIndex

    out = br.build(store, br.Plan(services, services))
    t = time.perf_counter()
    inhabited = {g.ars for g in AreaIndex.load(store).gemeinden() if g.inhabited}
    records = [r for plan in plans(services, inhabited) for r in plan.records()]
    out["plan_records"] = br.apply_feed(store, "plan", records, "v0")
    out["plan_seconds"] = time.perf_counter() - t
    print(f"  loaded {out['plan_records']:>9,d} plan records", flush=True)
    return out


def rollout_rules() -> dict[str, Any]:
    """The bundled finding rules without the planning rules."""
    from efa_core.plugins import PluginRegistry
    from efa_core.rollout.planning import rules as planning_rules

    only_planning = PluginRegistry(bundled=(), entrypoints=False, env={})
    only_planning.register(planning_rules, name="planning")
    planning = set(only_planning.finding_rules())
    every = PluginRegistry(entrypoints=False, env={}).finding_rules()
    return {k: v for k, v in every.items() if k not in planning}


def report(store: Any, rules: Any, *, with_plans: bool) -> Any:
    """The national rollout report (no timeline), with or without plan vs actual."""
    from efa_core.report import collect_report

    return collect_report(store, rules, timeline=False, now=br.BASE, plans=with_plans)


def plan_statuses(store: Any) -> list[Any]:
    """What ``efa plan status`` does, for every plan of the store."""
    from efa_core.rollout import RolloutView
    from efa_core.rollout.planning import load_plans, plan_status

    view = RolloutView(store)
    view.refresh()
    return [plan_status(view, plan, today=TODAY) for plan in load_plans(store)]


def live_cells(statuses: list[Any]) -> tuple[int, dict[str, int]]:
    """The cells of all plans, and the cells at stage live per service."""
    from efa_core.model import Stage

    cells = 0
    live: dict[str, int] = defaultdict(int)
    for status in statuses:
        for wave in status.waves:
            cells += len(wave.cells)
            for cell in wave.cells:
                if cell.stage is Stage.LIVE:
                    live[cell.service_key] += 1
    return cells, dict(live)


def report_live(data: Any, inhabited: set[str]) -> dict[str, int]:
    """The report's live rows of inhabited Gemeinden, per service."""
    from efa_core.model import Stage

    live: dict[str, int] = defaultdict(int)
    for row in data.rows:
        if row.stage is Stage.LIVE and str(row.ars) in inhabited:
            live[row.service_key] += 1
    return dict(live)


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Build the data, then run the interleaved repetitions."""
    from efa_core.rollout import AreaIndex, RolloutView
    from efa_core.store import open_store

    rules = rollout_rules()
    results: list[dict[str, Any]] = []
    info: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="efa-bench-plan-", dir=args.tmp) as tmp:
        store = open_store(f"sqlite:///{Path(tmp) / 'efa.db'}")
        try:
            print("building the store", flush=True)
            t = time.perf_counter()
            info["data"] = build(store, args.services)
            info["data"]["build_seconds"] = time.perf_counter() - t
            seconds, stats = br.timed(lambda: RolloutView(store).derive())
            info["data"]["first_derive_seconds"] = seconds
            info["data"]["rows"] = stats.rows_written
            print(f"  first full derive: {stats.rows_written:,d} rows in {seconds:.1f} s")
            index = AreaIndex.load(store)
            inhabited = {g.ars for g in index.gemeinden() if g.inhabited}
            info["data"]["inhabited_gemeinden"] = len(inhabited)

            def note(rep: int, task: str, seconds: float) -> None:
                results.append({"rep": rep, "task": task, "seconds": seconds})
                print(f"  rep {rep} {task:14s} {seconds:8.3f} s", flush=True)

            for rep in range(1, args.reps + 1):
                trio: list[tuple[str, Callable[[], Any]]] = [
                    ("report", lambda: report(store, rules, with_plans=False)),
                    ("plan-status", lambda: plan_statuses(store)),
                    ("report+plans", lambda: report(store, rules, with_plans=True)),
                ]
                shift = rep % 3
                got: dict[str, Any] = {}
                for task, fn in trio[shift:] + trio[:shift]:
                    seconds, got[task] = br.timed(fn)
                    note(rep, task, seconds)
                cells, live = live_cells(got["plan-status"])
                assert cells == args.services * len(inhabited), (cells, len(inhabited))
                assert live == report_live(got["report"], inhabited), "live cells differ"
                assert live_cells(list(got["report+plans"].plans)) == (cells, live)
                info["cells"] = cells
                info["live_cells"] = sum(live.values())
                info["report_rows"] = len(got["report"].rows)
                del got
        finally:
            store.close()
    return {"data": info, "results": results}


def summarize(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians per task and medians of the per-repetition ratios."""
    return interleaved_summary(
        results,
        {
            "plan_status_over_report": ("plan-status", "report"),
            "report_with_plans_over_report": ("report+plans", "report"),
        },
    )


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run the benchmark."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 services")
    parser.add_argument("--services", type=int, default=None, help="default 30 (quick: 3)")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--tmp", default=None, help="where to put the store (default: TMPDIR)")
    parser.add_argument("--out", default=None, help="also write the results as JSON here")
    args = parser.parse_args(argv)
    args.services = args.services or (3 if args.quick else 30)
    machine = machine_info()
    print(json.dumps(machine), flush=True)
    started = time.perf_counter()
    outcome = run(args)
    summary = summarize(outcome["results"])
    document = {
        "machine": machine,
        "config": {"services": args.services, "reps": args.reps, "waves": len(WAVES)},
        **outcome,
        **summary,
        "total_seconds": time.perf_counter() - started,
    }
    if args.out:
        Path(args.out).write_text(json.dumps(document, indent=2, default=str))
        print(f"results written to {args.out}")
    print(json.dumps({k: v for k, v in document.items() if k != "results"}, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
