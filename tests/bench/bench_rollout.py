"""Rollout benchmark: coverage and the Thüringen report vs plain SQL; incremental refresh.

    python tests/bench/bench_rollout.py            # 30 national + 270 Thüringen services, 3 reps
    python tests/bench/bench_rollout.py --quick    # 3 national + 27 Thüringen services
    python tests/bench/bench_rollout.py --national 10,40   # issue 15: national stores
    python tests/bench/bench_rollout.py --national 100 --keep DIR --tasks report-html
                                  # keep the store in DIR, reuse it, run only some tasks

``--national S1,S2,…`` builds one store per count, every service with evidence in every
Gemeinde of Germany, and measures in a fresh subprocess each (peak RSS is the child's
``VmHWM``): the full derivation, the national HTML report (``efa report --format html``:
``collect_report(detail=False)`` with the timeline, then ``render_html``), the CSV of
every row (``write_csv`` of ``iter_report_rows``), the Thüringen HTML report with its rows,
and the baseline ``read-rows``: every derived row of the store read with one plain SQL
statement (no objects).  The pages are opened in headless Chromium when it is installed.

**Data** (one SQLite store in a temporary directory, built once, not timed as a contender):
the real register (``../shared/data/gemeindeverzeichnis-2020q4.csv``, read at run time via
:func:`efa_core.areas.import_register`; ``EFA_BENCH_REGISTER`` overrides the path), then
``--services`` synthetic services of which the first ``--de-services`` have evidence in every
Gemeinde of Germany and the others in every Gemeinde of Thüringen.  Per service × Gemeinde
(deterministic pseudo-random buckets): a responsibility in 90 %, a dashboard availability in
40 % (35 % online, 5 % offline), an agreement in 58 % (40 % contracted, 15 % interested, 3 %
terminated).  All evidence is at Gemeinde level (12-digit ARS), so that the plain SQL
baselines below compute the same answer without prefix containment.  Everything is written
through :meth:`efa_core.store.Store.apply` (change-feed runs, batches of 5,000).

**Contenders**, interleaved per repetition (the order alternates):

* ``coverage``: :func:`efa_core.rollout.coverage` of service 0 across Germany on a current
  view vs ``coverage-sql``: one SQL statement over ``records`` that counts, per Gemeinde of
  the register, an online availability (live), a responsibility (published) and a
  terminated agreement (found by its natural key), and sums the population.  The results
  (Gemeinden, live Gemeinden and population, published-or-further Gemeinden) are asserted
  equal.
* ``report``: :func:`efa_core.report.collect_report` with the built-in finding rules,
  ``land="TH"``, ``timeline=False``; ``report-nofindings`` the same with no rules; vs
  ``report-sql``: one SQL statement that selects the same rows (service × area in
  Thüringen with their stage inputs and evidence keys, grouped), the stage computed in
  Python, plus live Gemeinden per service × Kreis.  Rows, stages, evidence counts and the
  per-Kreis live counts are asserted equal.
* ``refresh`` vs ``derive``: 1 % of the responsibility and availability records change
  (availabilities flip ``online``, responsibilities get a new ``modified_at``), applied with
  ``Store.apply``; then :meth:`RolloutView.refresh` (incremental, from the history) is
  timed, its rows are snapshotted, and a full :meth:`RolloutView.derive` of the same state
  is timed; both row sets are asserted equal.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_data as bd  # noqa: E402
from _bench2_util import interleaved_summary, machine_info  # noqa: E402

BATCH = 5000
BASE = datetime(2024, 1, 1, tzinfo=timezone.utc)
SOURCES = {"responsibility": "pvog", "availability": "dashboard", "agreement": "agreements"}
RANK = {"terminated": 0, "offered": 1, "interested": 2, "contracted": 3, "published": 4}


# -- data ------------------------------------------------------------------------------------


def service_key(s: int) -> str:
    """The key of synthetic service *s*."""
    return f"svc{s:03d}"


def buckets(s: int, i: int) -> tuple[int, int]:
    """Two independent pseudo-random buckets 0..99 for service *s* × Gemeinde number *i*."""
    a = (s * 2654435761 + i * 40503 + 12345) % 1_000_003 % 100
    b = (s * 97 + i * 7919 + (i * i) % 101) % 100
    return a, b


def changed(i: int, s: int, rep: int) -> bool:
    """Whether the pair is in the 1 % changed by repetition *rep* (1-based; never twice)."""
    return rep > 0 and (i + s) % 100 == (rep * 37) % 100


def online_at(s: int, i: int, version: int) -> bool | None:
    """The availability's ``online`` after *version* change sets (None: no availability)."""
    a, _ = buckets(s, i)
    if a >= 40:
        return None
    online = a < 35
    flips = sum(1 for rep in range(1, version + 1) if changed(i, s, rep))
    return online if flips % 2 == 0 else not online


def records(s: int, areas: list[str], kind: str, *, version: int = 0) -> Iterator[Any]:
    """Yield service *s*'s records of *kind* over *areas* (all, for version 0; else the changed)."""
    from efa_core.ids import Ars, LeikaKey
    from efa_core.model import (
        Agreement,
        AgreementState,
        Availability,
        Responsibility,
        Subscriber,
        SubscriberKind,
        TargetKind,
    )

    leika = LeikaKey(bd.leika_key(s))
    key = service_key(s)
    for i, ars in enumerate(areas):
        if version and not changed(i, s, version):
            continue
        a, b = buckets(s, i)
        if kind == "responsibility" and a < 90:
            yield Responsibility(
                leika_key=leika,
                ars=Ars(ars),
                target_kind=TargetKind.ONLINEDIENST,
                target_id=key,
                leistung_id=f"L{s}",
                modified_at=BASE + timedelta(days=version),
            )
        elif kind == "availability":
            online = online_at(s, i, version)
            if online is not None:
                yield Availability(
                    leika_key=leika,
                    ars=Ars(ars),
                    url=f"https://{key}.example.org/",
                    online=online,
                    modified_at=BASE + timedelta(days=version),
                )
        elif kind == "agreement" and b < 58:
            state = (
                AgreementState.CONTRACTED
                if b < 40
                else AgreementState.INTERESTED
                if b < 55
                else AgreementState.TERMINATED
            )
            yield Agreement(
                service_key=key,
                subscriber=Subscriber(
                    subscriber_kind=SubscriberKind.GEMEINDE, name=f"Gemeinde {ars}", ars=Ars(ars)
                ),
                state=state,
                state_since=BASE - timedelta(days=200 + b),
                modified_at=BASE,
            )


def apply_feed(store: Any, source: str, items: Iterable[Any], cursor: str) -> int:
    """Write *items* (records) into *store* as one change-feed run of *source*."""
    from efa_core.connectors import Upsert
    from efa_core.store import RunMode, RunStatus, prepare

    run = store.begin_run(source, RunMode.CHANGE_FEED)
    batch: list[Any] = []
    n = 0
    for item in items:
        batch.append(prepare(Upsert(item)))
        if len(batch) == BATCH:
            store.apply(run.run_id, source, batch, cursor=None, mode=RunMode.CHANGE_FEED)
            n += len(batch)
            batch = []
    store.apply(run.run_id, source, batch, cursor=cursor, mode=RunMode.CHANGE_FEED)
    n += len(batch)
    store.finish_run(run.run_id, RunStatus.SUCCEEDED)
    return n


class Plan:
    """Which services cover which Gemeinden."""

    def __init__(self, services: int, de_services: int) -> None:
        self.services = services
        self.de_services = de_services
        self.de = bd.municipalities(None)
        self.th = bd.municipalities("16")

    def areas(self, s: int) -> list[str]:
        """The Gemeinden service *s* has evidence in."""
        return self.de if s < self.de_services else self.th

    def all(self, kind: str, version: int = 0) -> Iterator[Any]:
        """Every record of *kind* (version 0) or the changed ones of *version*."""
        for s in range(self.services):
            yield from records(s, self.areas(s), kind, version=version)


def build(store: Any, plan: Plan) -> dict[str, Any]:
    """Import the register and write services and evidence; return counts and timings."""
    from efa_core.areas import import_register
    from efa_core.ids import LeikaKey
    from efa_core.model import Service

    out: dict[str, Any] = {}
    t = time.perf_counter()
    report = import_register(store, bd.REGISTER)
    out["areas"] = report.added
    out["register_seconds"] = time.perf_counter() - t
    services = (
        Service(key=service_key(s), name=f"Dienst {s}", leika_keys=(LeikaKey(bd.leika_key(s)),))
        for s in range(plan.services)
    )
    out["services"] = apply_feed(store, "catalogue", services, "v0")
    for kind, source in SOURCES.items():
        t = time.perf_counter()
        out[kind] = apply_feed(store, source, plan.all(kind), "v0")
        out[f"{kind}_seconds"] = time.perf_counter() - t
        print(f"  loaded {out[kind]:>9,d} {kind} in {out[f'{kind}_seconds']:.1f} s", flush=True)
    return out


def change(store: Any, plan: Plan, version: int) -> int:
    """Apply change set *version* (1 % of responsibilities and availabilities)."""
    n = apply_feed(store, "pvog", plan.all("responsibility", version), f"v{version}")
    n += apply_feed(store, "dashboard", plan.all("availability", version), f"v{version}")
    return n


# -- contenders --------------------------------------------------------------------------------


def coverage_engine(store: Any, key: str) -> tuple[int, ...]:
    """``coverage()`` of *key* across Germany; return the compared numbers."""
    from efa_core.model import Stage
    from efa_core.rollout import RolloutView, coverage

    total = coverage(RolloutView(store), key).total
    live = total.reached[Stage.LIVE]
    return (
        total.gemeinden,
        live.gemeinden,
        live.population,
        total.reached[Stage.PUBLISHED].gemeinden,
    )


COVERAGE_SQL = """
SELECT COUNT(*),
       SUM(CASE WHEN live AND NOT term THEN 1 ELSE 0 END),
       SUM(CASE WHEN live AND NOT term THEN pop ELSE 0 END),
       SUM(CASE WHEN (live OR pub) AND NOT term THEN 1 ELSE 0 END)
FROM (
  SELECT COALESCE(json_extract(g.payload, '$.population'), 0) AS pop,
    EXISTS (SELECT 1 FROM records v WHERE v.leika_key = :leika AND v.ars = g.ars
            AND v.kind = 'availability' AND v.deleted = 0
            AND json_extract(v.payload, '$.online') = 1) AS live,
    EXISTS (SELECT 1 FROM records r WHERE r.leika_key = :leika AND r.ars = g.ars
            AND r.kind IN ('responsibility', 'route') AND r.deleted = 0) AS pub,
    EXISTS (SELECT 1 FROM records a WHERE a.source = 'agreements' AND a.kind = 'agreement'
            AND a.natural_key = :service || '@ars:' || g.ars AND a.deleted = 0
            AND json_extract(a.payload, '$.state') = 'terminated') AS term
  FROM records g
  WHERE g.kind = 'area' AND g.deleted = 0 AND length(g.ars) = 12
)
"""


def coverage_sql(store: Any, key: str, leika: str) -> tuple[int, ...]:
    """The plain SQL baseline of :func:`coverage_engine`."""
    conn = store.backend.conn  # plain sqlite3
    row = conn.execute(COVERAGE_SQL, {"leika": leika, "service": key}).fetchone()
    return tuple(int(v or 0) for v in row)


def report_engine(store: Any, rules: Any) -> Any:
    """``collect_report`` for Thüringen without the timeline."""
    from efa_core.report import collect_report

    return collect_report(store, rules, land="TH", timeline=False, now=BASE)


def report_summary(data: Any) -> tuple[dict[tuple[str, str], tuple[str, int]], dict[Any, int]]:
    """What is compared: rows -> (stage, evidence count), (service, Kreis) -> live Gemeinden."""
    from efa_core.model import Stage

    rows = {(r.service_key, str(r.ars)): (r.stage.value, len(r.evidence)) for r in data.rows}
    kreise = {
        (c.total.service_key, str(g.area)): g.reached[Stage.LIVE].gemeinden
        for c in data.coverage
        for g in c.groups
    }
    return rows, kreise


REPORT_SQL = """
WITH svc AS MATERIALIZED (
  SELECT natural_key AS service_key, leika_key FROM records
  WHERE kind = 'service' AND deleted = 0
), ev AS (
  SELECT svc.service_key, r.ars,
    CASE r.kind WHEN 'responsibility' THEN 4 WHEN 'route' THEN 5
      ELSE CASE WHEN json_extract(r.payload, '$.online') = 1 THEN 6 ELSE 1 END END AS rank,
    NULL AS state, r.source, r.natural_key, r.modified_at
  FROM svc CROSS JOIN records r ON r.leika_key = svc.leika_key
  WHERE r.kind IN ('responsibility', 'route', 'availability') AND r.deleted = 0
    AND r.ars >= :lo AND r.ars < :hi
  UNION ALL
  SELECT json_extract(a.payload, '$.service_key'), a.ars, 1,
    json_extract(a.payload, '$.state'), a.source, a.natural_key, a.modified_at
  FROM records a
  WHERE a.kind = 'agreement' AND a.deleted = 0 AND a.ars >= :lo AND a.ars < :hi
)
SELECT service_key, ars, MAX(rank), MAX(state), COUNT(*),
  group_concat(source || ' ' || natural_key || ' ' || COALESCE(modified_at, ''), char(10))
FROM ev GROUP BY service_key, ars ORDER BY service_key, ars
"""


def report_sql(store: Any, land: str = "16") -> tuple[dict[Any, Any], dict[Any, int]]:
    """The plain SQL baseline of the report: rows with stages and evidence, Kreis counts."""
    conn = store.backend.conn  # plain sqlite3
    rows: dict[tuple[str, str], tuple[str, int]] = {}
    evidence: dict[tuple[str, str], list[str]] = {}
    live: dict[tuple[str, str], int] = defaultdict(int)
    for key, ars, rank, state, n, concat in conn.execute(
        REPORT_SQL, {"lo": land, "hi": land + ":"}
    ):
        if state == "terminated":
            stage = "terminated"
        else:
            best = max(int(rank), RANK.get(state or "", 1))
            stage = ["terminated", "offered", "interested", "contracted", "published"][min(best, 4)]
            stage = {5: "routable", 6: "live"}.get(best, stage)
        rows[key, ars] = (stage, int(n) + 1)  # + the service's own "offered" evidence
        evidence[key, ars] = concat.split("\n")
        if stage == "live":
            live[key, ars[:5]] += 1
    # every Kreis of the Land with a Gemeinde, for every service (zeros included)
    kreise_sql = (
        "SELECT DISTINCT substr(ars, 1, 5) FROM records WHERE kind = 'area' AND deleted = 0"
        " AND length(ars) = 12 AND ars >= ? AND ars < ?"
    )
    kreise = [k for (k,) in conn.execute(kreise_sql, (land, land + ":"))]
    services = [
        k for (k,) in conn.execute("SELECT natural_key FROM records WHERE kind = 'service'")
    ]
    counts = {(s, k): live.get((s, k), 0) for s in services for k in kreise}
    return rows, counts


def snapshot(store: Any) -> list[tuple[Any, ...]]:
    """Every derived row (what refresh and derive must agree on)."""
    return store.backend.fetchall(
        "SELECT service_key, ars, stage, stage_rank, agreement_state, flags, evidence"
        " FROM rollout_rows ORDER BY service_key, ars"
    )


# -- orchestration ------------------------------------------------------------------------------


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """Run *fn*; return (seconds, result)."""
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Build the data, then run the interleaved repetitions."""
    from efa_core.plugins import PluginRegistry
    from efa_core.rollout import RolloutView
    from efa_core.store import open_store

    rules = PluginRegistry(entrypoints=False, env={}).finding_rules()
    plan = Plan(args.services, args.de_services)
    results: list[dict[str, Any]] = []
    info: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="efa-bench-rollout-", dir=args.tmp) as tmp:
        store = open_store(f"sqlite:///{Path(tmp) / 'efa.db'}")
        try:
            print("building the store", flush=True)
            t = time.perf_counter()
            info["data"] = build(store, plan)
            info["data"]["build_seconds"] = time.perf_counter() - t
            seconds, stats = timed(lambda: RolloutView(store).derive())
            info["data"]["first_derive_seconds"] = seconds
            info["data"]["rows"] = stats.rows_written
            info["data"]["db_mib"] = (Path(tmp) / "efa.db").stat().st_size / 2**20
            print(f"  first full derive: {stats.rows_written:,d} rows in {seconds:.1f} s")
            key0, leika0 = service_key(0), bd.leika_key(0)

            def note(rep: int, task: str, seconds: float, **extra: Any) -> None:
                results.append({"rep": rep, "task": task, "seconds": seconds, **extra})
                print(f"  rep {rep} {task:18s} {seconds:8.3f} s {extra or ''}", flush=True)

            for rep in range(1, args.reps + 1):
                # 1. incremental refresh after a 1 % change vs a full derivation
                n = change(store, plan, rep)
                view = RolloutView(store)
                seconds, stats = timed(view.refresh)
                note(rep, "refresh", seconds, changed=n, scopes=stats.scopes, full=stats.full)
                after_refresh = snapshot(store)
                seconds, stats = timed(lambda: RolloutView(store).derive())
                note(rep, "derive", seconds, rows=stats.rows_written)
                assert snapshot(store) == after_refresh, "refresh differs from a full derive"
                # 2. coverage of one service across Germany vs plain SQL
                pair: list[tuple[str, Callable[[], Any]]] = [
                    ("coverage", lambda: coverage_engine(store, key0)),
                    ("coverage-sql", lambda: coverage_sql(store, key0, leika0)),
                ]
                answers = {}
                for task, fn in pair if rep % 2 else pair[::-1]:
                    seconds, answers[task] = timed(fn)
                    note(rep, task, seconds)
                assert answers["coverage"] == answers["coverage-sql"], answers
                info["coverage_answer"] = answers["coverage"]
                # 3. the Thüringen report vs plain SQL
                trio: list[tuple[str, Callable[[], Any]]] = [
                    ("report-sql", lambda: report_sql(store)),
                    ("report", lambda: report_summary(report_engine(store, rules))),
                    ("report-nofindings", lambda: report_summary(report_engine(store, {}))),
                ]
                shift = rep % 3
                got = {}
                for task, fn in trio[shift:] + trio[:shift]:
                    seconds, got[task] = timed(fn)
                    note(rep, task, seconds)
                assert got["report"] == got["report-sql"], "report rows differ from the SQL"
                assert got["report-nofindings"] == got["report-sql"]
                info["report_rows"] = len(got["report"][0])
        finally:
            store.close()
    return {"data": info, "results": results}


def summarize(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians per task and medians of the per-repetition ratios."""
    return interleaved_summary(
        results,
        {
            "coverage_over_sql": ("coverage", "coverage-sql"),
            "report_over_sql": ("report", "report-sql"),
            "report_nofindings_over_sql": ("report-nofindings", "report-sql"),
            "derive_over_refresh": ("derive", "refresh"),
        },
    )


# -- national mode (issue 15) -------------------------------------------------------------------


def national_worker(task: str, db: str, out: str) -> None:
    """Run one national task in this (fresh) process; print its result as JSON."""
    import os

    from _bench2_util import peak_rss_mib

    from efa_core.plugins import PluginRegistry
    from efa_core.report import collect_report, iter_report_rows, render_html, write_csv
    from efa_core.rollout import RolloutView
    from efa_core.store import open_store

    rules = PluginRegistry(entrypoints=False, env={}).finding_rules()
    result: dict[str, Any] = {"task": task}
    with open_store(f"sqlite:///{db}") as store:
        started, cpu = time.perf_counter(), time.process_time()
        if task == "derive":
            result["rows"] = RolloutView(store).derive().rows_written
        elif task == "read-rows":
            n = 0
            for _ in store.backend.stream(
                "SELECT service_key, ars, stage, flags, evidence FROM rollout_rows"
            ):
                n += 1
            result["rows"] = n
        elif task in ("report-html", "report-th"):
            land = "TH" if task == "report-th" else None
            data = collect_report(store, rules, land=land, detail=land is not None)
            page = render_html(data)
            Path(out).write_text(page, encoding="utf-8")
            result.update(rows=data.row_count, findings=data.finding_total)
        elif task == "report-csv":
            data = collect_report(store, {}, detail=False, timeline=False)
            with Path(out).open("w", encoding="utf-8", newline="") as fh:
                result["rows"] = write_csv(data, fh, iter_report_rows(store, data))
        else:
            raise SystemExit(f"unknown task {task}")
        result["seconds"] = time.perf_counter() - started
        result["cpu"] = time.process_time() - cpu
    if os.path.exists(out):
        result["bytes"] = os.path.getsize(out)
    result["hwm_mib"] = peak_rss_mib()
    print(json.dumps(result), flush=True)


def _chromium_opens(page: Path) -> dict[str, Any]:
    """Open *page* in headless Chromium (``--dump-dom``): seconds, and whether it loaded."""
    import shutil
    import subprocess

    browser = next(
        (b for n in ("chromium", "chromium-browser", "google-chrome") if (b := shutil.which(n))),
        None,
    )
    if browser is None:
        return {"browser": None}
    with tempfile.TemporaryDirectory(prefix="efa-bench-chromium-") as profile:
        started = time.perf_counter()
        done = subprocess.run(
            [
                browser,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                f"--user-data-dir={profile}",
                "--dump-dom",
                page.as_uri(),
            ],
            capture_output=True,
            timeout=600,
            check=False,
        )
        seconds = time.perf_counter() - started
    return {
        "browser_seconds": seconds,
        "browser_ok": done.returncode == 0 and b"</html>" in done.stdout,
        "dom_bytes": len(done.stdout),
    }


NATIONAL_TASKS = ("derive", "read-rows", "report-html", "report-csv", "report-th")


def _national_store(services: int, folder: Path) -> tuple[Path, dict[str, Any]]:
    """The national store of *services* in *folder*: built there, or reused if complete."""
    from efa_core.store import open_store

    db = folder / f"national-{services}.db"
    done = folder / f"national-{services}.json"
    if db.exists() and done.exists():
        print(f"reusing the national store {db}", flush=True)
        return db, {**json.loads(done.read_text()), "reused": True}
    for stale in folder.glob(f"national-{services}.db*"):
        stale.unlink()
    print(f"building a national store with {services} services", flush=True)
    started = time.perf_counter()
    with open_store(f"sqlite:///{db}") as store:
        data = build(store, Plan(services, services))
    data["build_seconds"] = time.perf_counter() - started
    data["db_mib"] = db.stat().st_size / 2**20
    done.write_text(json.dumps(data))
    return db, data


def run_national(
    counts: list[int],
    tmp: str | None,
    keep: str | None = None,
    tasks: tuple[str, ...] = NATIONAL_TASKS,
) -> dict[str, Any]:
    """Build one national store per service count and measure every task on it.

    With *keep*, the stores are kept in that folder and reused by later runs (a store
    counts as complete once its build wrote ``national-<N>.json`` beside it).
    """
    from _bench2_util import run_child

    results: list[dict[str, Any]] = []
    data: dict[str, Any] = {}
    for services in counts:
        with contextlib.ExitStack() as stack:
            if keep is None:
                folder = Path(
                    stack.enter_context(
                        tempfile.TemporaryDirectory(prefix="efa-bench-national-", dir=tmp)
                    )
                )
            else:
                folder = Path(keep)
                folder.mkdir(parents=True, exist_ok=True)
            db, data[str(services)] = _national_store(services, folder)
            for task in tasks:
                out = folder / f"{task}-{services}.out"
                result = run_child(
                    [sys.executable, __file__, "national-worker", task, str(db), str(out)]
                )
                result["services"] = services
                if task in ("report-html", "report-th") and out.exists():
                    result.update(_chromium_opens(out))
                results.append(result)
                print(f"  {json.dumps(result)}", flush=True)
    return {"data": data, "results": results}


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run the benchmark."""
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "national-worker":
        national_worker(*argv[1:4])
        return 0
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 national + 27 Thüringen services")
    parser.add_argument("--services", type=int, default=None, help="default 300 (quick: 30)")
    parser.add_argument(
        "--de-services", type=int, default=None, help="of which national (default 30; quick: 3)"
    )
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--tmp", default=None, help="where to put the store (default: TMPDIR)")
    parser.add_argument("--out", default=None, help="also write the results as JSON here")
    parser.add_argument(
        "--national",
        default=None,
        metavar="S1,S2",
        help="national stores of S1, S2, … services (issue 15; e.g. 10,100)",
    )
    parser.add_argument(
        "--keep",
        default=None,
        metavar="DIR",
        help="--national: keep the stores in DIR and reuse those already built there",
    )
    parser.add_argument(
        "--tasks",
        default=",".join(NATIONAL_TASKS),
        help=f"--national: the tasks to run (default {','.join(NATIONAL_TASKS)})",
    )
    args = parser.parse_args(argv)
    if args.national:
        tasks = tuple(t for t in args.tasks.split(",") if t)
        unknown = [t for t in tasks if t not in NATIONAL_TASKS]
        if unknown:
            parser.error(f"unknown task(s) {', '.join(unknown)}")
        machine = machine_info()
        print(json.dumps(machine), flush=True)
        outcome = run_national(
            [int(n) for n in args.national.split(",")], args.tmp, args.keep, tasks
        )
        document = {"machine": machine, **outcome}
        if args.out:
            Path(args.out).write_text(json.dumps(document, indent=2, default=str))
        print(json.dumps(document, indent=2, default=str))
        return 0
    args.services = args.services or (30 if args.quick else 300)
    args.de_services = min(args.services, args.de_services or (3 if args.quick else 30))
    machine = machine_info()
    print(json.dumps(machine), flush=True)
    started = time.perf_counter()
    outcome = run(args)
    summary = summarize(outcome["results"])
    document = {
        "machine": machine,
        "config": {"services": args.services, "de_services": args.de_services, "reps": args.reps},
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
