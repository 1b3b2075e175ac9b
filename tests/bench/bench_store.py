"""Benchmarks of the store and the sync engine (run as a script; never part of the test run).

    python tests/bench/bench_store.py                   # Thüringen and Germany (`nox -s bench`)
    python tests/bench/bench_store.py --national        # 100k and 1M records (issue 15's table)
    python tests/bench/bench_store.py --scales th --reps 3 --backends sqlite --no-dlt

Every measurement runs in its own subprocess; its peak RSS is the child's ``ru_maxrss``
(``os.wait4``).  Repetitions are interleaved (baseline, engine, re-syncs, dlt, then the
next repetition) so that a noisy machine hurts all contenders alike; ratios are computed per
repetition and their medians reported.  PostgreSQL: ``EFA_BENCH_POSTGRES_URL`` names a
server, otherwise a throwaway cluster is started the way the store tests do.

Tasks (``worker`` sub-command, internal):

* ``baseline``: a hand-written loader: the same rows (payload JSON with sorted keys, content
  hash, key hash, typed columns, timestamps) upserted with plain ``executemany`` into the
  store's own ``records`` table (same columns and indexes), one transaction per batch;
* ``baseline-no-INDEX``: the same without one secondary index of ``records`` (only with
  ``--tasks``), to see what each index costs;
* ``load``: a snapshot sync of version 0 through :class:`efa_core.sync.SyncEngine`;
* ``resync``: the snapshot sync of version 1 (1 % of the records changed) into that store;
* ``noop``: the snapshot sync of version 1 again: nothing changed (the bytes it writes are
  compared with the full load's);
* ``feed-resync``: then the same store re-synced from a change feed that delivers only the
  1 % changed records (version 101 since version 1: the records changed in version 1 change
  again).  The source switches from snapshot to feed mode for it, which saves a second full
  load per repetition (the national scale takes minutes per load);
* ``fp-load`` / ``fp-resync`` / ``fp-noop``: the same snapshots into a second store by a
  connector that fingerprints each raw row (source fingerprints: unchanged rows are not
  built again);
* ``file-load`` / ``file-noop``: a records file of the same records (JSON Lines) synced by
  the bundled records-file connector, for its reader's memory;
* ``dlt-load`` / ``dlt-rerun``: dlt loading services with nested responsibilities into
  SQLite (merge on the service key), then the re-run with version 1;
* ``dlt-flat-load`` / ``dlt-flat-rerun``: dlt loading one flat row per record (merge on
  the record's key), issue 15's comparison; the re-run only when ``--tasks`` names it
  (dlt's merge of flat rows into SQLite is quadratic: minutes at 100k, hours at 1M).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))

import bench_data as bd  # noqa: E402

BATCH = 5000


# -- workers (run in a subprocess each) --------------------------------------------------------


def _registry() -> Any:
    from efa_core.plugins import PluginRegistry

    reg = PluginRegistry(entrypoints=False, strict=True, env={})
    reg.register(bd.BenchPlugin(), name="bench")
    return reg


class _Written:
    """Bytes the database wrote: this process's ``wchar`` (SQLite) or WAL bytes (PostgreSQL)."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.pg = store.dialect.value == "postgresql"
        self.start = self._now()

    def _now(self) -> int:
        if self.pg:
            row = self.store.backend.fetchone(
                "SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '0/0')::bigint"
            )
            return int(row[0])
        for line in Path("/proc/self/io").read_text().splitlines():
            if line.startswith("wchar:"):
                return int(line.split()[1])
        return 0

    def bytes(self) -> int:
        return self._now() - self.start


def _sync(
    url: str,
    scale: str,
    connector: str,
    version: int,
    since: int | None = None,
    *,
    fingerprints: bool = False,
    path: str | None = None,
) -> dict[str, Any]:
    import logging

    from efa_core.config import parse_config
    from efa_core.store import open_store
    from efa_core.sync import SyncEngine

    logging.getLogger("efa_core.store").setLevel(logging.ERROR)  # the feed's mode switch
    table: dict[str, Any]
    if connector == "records-file":
        table = {"type": connector, "path": path, "batch_size": BATCH}
    else:
        table = {"type": connector, "scale": scale, "version": version, "batch_size": BATCH}
        if fingerprints:
            table["fingerprints"] = True
    if since is not None:
        table["since"] = since
    config = parse_config({"connectors": {"bench": table}}, env={})
    registry = _registry()
    bd.municipalities(bd.land(scale))  # read the register before the clock starts
    with open_store(url) as store:
        written = _Written(store)
        started, cpu = time.perf_counter(), time.process_time()
        report = SyncEngine(store, registry, config).run(["bench"])["bench"]
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        nbytes = written.bytes()
    if not report.ok:
        raise SystemExit(f"sync failed: {report.error}")
    return {"seconds": seconds, "cpu": cpu, "counts": report.counts(), "bytes_written": nbytes}


def _records_file(path: Path, scale: str) -> None:
    """Write the records of *scale* (version 0) as a JSON Lines records file."""
    import orjson

    with path.open("wb") as out:
        for row in bd.raw_rows(scale):
            out.write(orjson.dumps(bd.payload_dict(row)) + b"\n")


#: The secondary indexes of ``records``, for the ``baseline-no-INDEX`` tasks (what each costs).
RECORD_INDEXES = ("ix_records_leika_key", "ix_records_ars", "ix_records_live")


def _baseline(url: str, scale: str, drop: str | None = None) -> dict[str, Any]:
    import orjson

    from efa_core.store import key_hash, open_store, utcnow

    bd.municipalities(bd.land(scale))
    with open_store(url) as store:
        db = store.backend
        if drop is not None:
            db.execute(f"DROP INDEX {drop}")
        written = _Written(store)
        pg = store.dialect.value == "postgresql"
        conn: Any = db.conn  # type: ignore[attr-defined]
        mark = "%s" if pg else "?"
        # the payload (7th column) is jsonb in PostgreSQL
        marks = ", ".join(f"{mark}::jsonb" if pg and i == 6 else mark for i in range(14))
        sql = (
            "INSERT INTO records (source, kind, natural_key, key_hash, leika_key, ars, payload,"
            " content_hash, deleted, first_seen, last_seen, fetched_at, modified_at, run_id)"
            f" VALUES ({marks})"
            " ON CONFLICT (source, kind, natural_key) DO UPDATE SET"
            " key_hash = excluded.key_hash, leika_key = excluded.leika_key, ars = excluded.ars,"
            " payload = excluded.payload, content_hash = excluded.content_hash,"
            " deleted = excluded.deleted, last_seen = excluded.last_seen,"
            " fetched_at = excluded.fetched_at, modified_at = excluded.modified_at,"
            " run_id = excluded.run_id"
        )
        started, cpu = time.perf_counter(), time.process_time()
        now = utcnow()
        t: Any = now if pg else now.isoformat(timespec="microseconds")
        rows: list[tuple[Any, ...]] = []

        def flush() -> None:
            if pg:
                with conn.transaction(), conn.cursor() as cur:
                    cur.executemany(sql, rows)
            else:
                conn.execute("BEGIN IMMEDIATE")
                conn.executemany(sql, rows)
                conn.execute("COMMIT")
            rows.clear()

        for row in bd.raw_rows(scale):
            key = bd.natural_key(row)
            payload = orjson.dumps(bd.payload_dict(row), option=orjson.OPT_SORT_KEYS)
            modified = row[5] if pg else row[5].isoformat(timespec="microseconds")
            rows.append(
                (
                    "bench",
                    "responsibility",
                    key,
                    key_hash("responsibility", key),
                    row[1],
                    row[2],
                    payload.decode(),
                    hashlib.blake2b(payload, digest_size=20).hexdigest(),
                    False,
                    t,
                    t,
                    t,
                    modified,
                    "baseline",
                )
            )
            if len(rows) == BATCH:
                flush()
        if rows:
            flush()
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        nbytes = written.bytes()
    return {
        "seconds": seconds,
        "cpu": cpu,
        "counts": {"added": bd.count(scale)},
        "bytes_written": nbytes,
    }


def _dlt(path: str, scale: str, version: int, *, flat: bool = False) -> dict[str, Any]:
    """dlt loading the records: services with nested responsibilities, or *flat* rows."""
    import logging
    import warnings

    import dlt

    warnings.simplefilter("ignore")  # SQLAlchemy warnings from dlt's merge job
    logging.getLogger("dlt").setLevel(logging.ERROR)
    workdir = Path(path).parent / "dlt-pipelines"
    pipeline = dlt.pipeline(
        pipeline_name="efa_bench",
        destination=dlt.destinations.sqlalchemy(credentials=f"sqlite:///{path}"),
        dataset_name="efa",
        pipelines_dir=str(workdir),
        progress=None,
    )

    @dlt.resource(name="services", write_disposition="merge", primary_key="key")
    def services() -> Iterator[dict[str, Any]]:
        yield from bd.dlt_services(scale, version)

    # Issue 15's comparison: flat rows, merged on their key.
    @dlt.resource(name="responsibilities", write_disposition="merge", primary_key="key")
    def rows() -> Iterator[dict[str, Any]]:
        yield from bd.dlt_rows(scale, version)

    bd.municipalities(bd.land(scale))
    started, cpu = time.perf_counter(), time.process_time()
    info = pipeline.run(rows() if flat else services())
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    info.raise_on_failed_jobs()
    return {"seconds": seconds, "cpu": cpu, "counts": {"records": bd.count(scale)}}


def _file_path(url: str) -> str:
    return str(Path(url.split("#", 1)[1]))


TASKS = {
    "baseline": lambda url, scale: _baseline(url, scale),
    "load": lambda url, scale: _sync(url, scale, "bench-snapshot", 0),
    "resync": lambda url, scale: _sync(url, scale, "bench-snapshot", 1),
    "noop": lambda url, scale: _sync(url, scale, "bench-snapshot", 1),
    "feed-resync": lambda url, scale: _sync(url, scale, "bench-feed", 101, since=1),
    "fp-load": lambda url, scale: _sync(url, scale, "bench-snapshot", 0, fingerprints=True),
    "fp-resync": lambda url, scale: _sync(url, scale, "bench-snapshot", 1, fingerprints=True),
    "fp-noop": lambda url, scale: _sync(url, scale, "bench-snapshot", 1, fingerprints=True),
    "file-load": lambda url, scale: _sync(
        url.split("#", 1)[0], scale, "records-file", 0, path=_file_path(url)
    ),
    "file-noop": lambda url, scale: _sync(
        url.split("#", 1)[0], scale, "records-file", 0, path=_file_path(url)
    ),
    **{
        f"baseline-no-{index}": lambda url, scale, index=index: _baseline(url, scale, index)
        for index in RECORD_INDEXES
    },
    "dlt-load": lambda url, scale: _dlt(url, scale, 0),
    "dlt-rerun": lambda url, scale: _dlt(url, scale, 1),
    "dlt-flat-load": lambda url, scale: _dlt(url, scale, 0, flat=True),
    "dlt-flat-rerun": lambda url, scale: _dlt(url, scale, 1, flat=True),
}


def _peak_rss() -> float | None:
    """This process's peak RSS in MiB (``VmHWM``; Linux only)."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return None


def worker(task: str, url: str, scale: str) -> None:
    """Run one task and print its result as JSON."""
    result = TASKS[task](url, scale)
    result.update(task=task, scale=scale, records=bd.count(scale), hwm_mib=_peak_rss())
    print(json.dumps(result), flush=True)


# -- orchestration -------------------------------------------------------------------------------


def measure(task: str, url: str, scale: str) -> dict[str, Any]:
    """Run *task* in a subprocess; return its result with the child's peak RSS (MiB)."""
    cmd = [sys.executable, str(Path(__file__)), "worker", task, url, scale]
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(cmd, stdout=out, cwd=ROOT)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().decode()
    if proc.returncode != 0:
        raise SystemExit(f"{task} ({scale}) failed with exit code {proc.returncode}")
    result: dict[str, Any] = json.loads(text.strip().splitlines()[-1])
    # VmHWM of the worker itself; ru_maxrss (KiB on Linux) also counts the forked copy of
    # this orchestrator before exec, so it is only the fallback.
    result["rss_mib"] = result.get("hwm_mib") or usage.ru_maxrss / 1024
    result["rps"] = result["records"] / result["seconds"]
    written = result.get("bytes_written")
    print(
        f"  {task:12s} {scale} {result['seconds']:8.2f} s (cpu {result.get('cpu', 0):7.2f} s)"
        f" {result['rps']:9.0f} rec/s"
        f" rss {result['rss_mib']:6.1f} MiB"
        + ("" if written is None else f" wrote {written / 2**20:8.1f} MiB")
        + f" {result.get('counts', '')}",
        flush=True,
    )
    return result


@contextlib.contextmanager
def postgres() -> Iterator[str]:
    """Yield the URL of a PostgreSQL server (``EFA_BENCH_POSTGRES_URL`` or a throwaway one)."""
    url = os.environ.get("EFA_BENCH_POSTGRES_URL")
    if url:
        yield url
        return
    sys.path.insert(0, str(ROOT))
    from tests.store.conftest import _cluster

    with _cluster() as server:
        yield server


@contextlib.contextmanager
def database(backend: str, server: str | None, workdir: Path, name: str) -> Iterator[str]:
    """Yield the URL of a fresh, empty database (SQLite file or PostgreSQL schema)."""
    if backend == "sqlite":
        folder = workdir / name
        folder.mkdir()
        try:
            yield f"sqlite:///{folder / 'efa.db'}"
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return
    assert server is not None
    sys.path.insert(0, str(ROOT))
    from tests.store.conftest import postgres_schema

    with postgres_schema(server) as url:
        yield url


def one_round(
    scale: str,
    backends: list[str],
    server: str | None,
    workdir: Path,
    rep: int,
    dlt: bool,
    *,
    files: bool = False,
    tasks: set[str] | None = None,
) -> list[dict[str, Any]]:
    """Measure every task (or those in *tasks*) once at *scale*, tagged with backend and rep.

    A task that re-syncs needs the load before it in *tasks*.
    """
    results: list[dict[str, Any]] = []

    def run(task: str, url: str, backend: str) -> None:
        if tasks is not None and task not in tasks:
            return
        result = measure(task, url, scale)
        result.update(backend=backend, rep=rep)
        results.append(result)

    records_file = workdir / f"{scale}-records.jsonl"
    if files and not records_file.exists():
        _records_file(records_file, scale)
    for backend in backends:
        print(f"[{scale} rep {rep}] {backend}", flush=True)
        tag = f"{scale}-{rep}-{backend}"
        with database(backend, server, workdir, f"{tag}-baseline") as url:
            run("baseline", url, backend)
        for index in RECORD_INDEXES:  # only when asked for by --tasks
            if tasks is not None and f"baseline-no-{index}" in tasks:
                with database(backend, server, workdir, f"{tag}-no-{index}") as url:
                    run(f"baseline-no-{index}", url, backend)
        with database(backend, server, workdir, f"{tag}-snapshot") as url:
            run("load", url, backend)
            run("resync", url, backend)
            run("noop", url, backend)
            run("feed-resync", url, backend)
        with database(backend, server, workdir, f"{tag}-fingerprints") as url:
            run("fp-load", url, backend)
            run("fp-resync", url, backend)
            run("fp-noop", url, backend)
        if files:
            with database(backend, server, workdir, f"{tag}-file") as url:
                run("file-load", f"{url}#{records_file}", backend)
                run("file-noop", f"{url}#{records_file}", backend)
    # dlt with nested services, then with flat rows merged on their key (issue 15's shape).
    # The flat merge re-run is quadratic in dlt's SQLite merge (485 s at 100k against 5.8 s
    # for its load): only when --tasks names it.
    for shape, shape_tasks in (
        ("", ("dlt-load", "dlt-rerun")),
        ("flat-", ("dlt-flat-load", "dlt-flat-rerun")),
    ):
        if not dlt:
            break
        folder = workdir / f"{scale}-{rep}-dlt{shape}"
        folder.mkdir()
        path = str(folder / "dlt.db")
        print(f"[{scale} rep {rep}] dlt {shape}(sqlite)", flush=True)
        for task in shape_tasks:
            if (tasks is None and task == "dlt-flat-rerun") or (
                tasks is not None and task not in tasks
            ):
                continue
            result = measure(task, path, scale)
            result.update(backend="dlt-sqlite", rep=rep)
            results.append(result)
        shutil.rmtree(folder, ignore_errors=True)
    return results


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def summarize(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians per (scale, backend, task) and the per-repetition ratios' medians."""
    by: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for r in results:
        by.setdefault((r["scale"], r["backend"], r["task"]), []).append(r)
    medians = {
        "/".join(k): {
            "runs": len(v),
            "seconds": _median([r["seconds"] for r in v]),
            "cpu": _median([r.get("cpu", float("nan")) for r in v]),
            "rps": _median([r["rps"] for r in v]),
            "rss_mib": max(r["rss_mib"] for r in v),
            "bytes_written": _median([r.get("bytes_written", float("nan")) for r in v]),
        }
        for k, v in sorted(by.items())
    }
    ratios: dict[str, float] = {}
    scales = sorted({r["scale"] for r in results})
    backends = sorted({r["backend"] for r in results} - {"dlt-sqlite"})
    reps = sorted({r["rep"] for r in results})

    def get(scale: str, backend: str, task: str, rep: int) -> dict[str, Any] | None:
        for r in by.get((scale, backend, task), []):
            if r["rep"] == rep:
                return r
        return None

    def ratio(name: str, pairs: list[tuple[Any, Any]], fn: Any) -> None:
        values = [fn(a, b) for a, b in pairs if a is not None and b is not None]
        if values:
            ratios[name] = _median(values)
        # the same on the processes' CPU time, which a busy machine disturbs less (for
        # SQLite all the work is in the process; PostgreSQL's server time is not in it)
        cpu_pairs = [
            (
                {**a, "seconds": a["cpu"], "rps": a["records"] / a["cpu"]},
                {**b, "seconds": b["cpu"], "rps": b["records"] / b["cpu"]},
            )
            for a, b in pairs
            if a is not None and b is not None and a.get("cpu") and b.get("cpu")
        ]
        values = [fn(a, b) for a, b in cpu_pairs]
        if values:
            ratios[name + "@cpu"] = _median(values)

    for scale in scales:
        for backend in backends:
            p = [(get(scale, backend, "load", i), get(scale, backend, "baseline", i)) for i in reps]
            ratio(f"{scale}/{backend}/load_vs_baseline", p, lambda a, b: a["rps"] / b["rps"])
            for load, other in (
                ("load", "noop"),
                ("fp-load", "fp-noop"),
                ("file-load", "file-noop"),
            ):
                p = [(get(scale, backend, load, i), get(scale, backend, other, i)) for i in reps]
                ratio(
                    f"{scale}/{backend}/{other}_bytes_share",
                    p,
                    lambda a, b: b["bytes_written"] / a["bytes_written"],
                )
                ratio(
                    f"{scale}/{backend}/{load}_over_{other}",
                    p,
                    lambda a, b: a["seconds"] / b["seconds"],
                )
            p = [
                (get(scale, backend, "fp-load", i), get(scale, backend, "fp-resync", i))
                for i in reps
            ]
            ratio(
                f"{scale}/{backend}/fp_load_over_fp_resync",
                p,
                lambda a, b: a["seconds"] / b["seconds"],
            )
            p = [
                (get(scale, backend, "load", i), get(scale, backend, "fp-resync", i)) for i in reps
            ]
            ratio(
                f"{scale}/{backend}/load_over_fp_resync",
                p,
                lambda a, b: a["seconds"] / b["seconds"],
            )
            p = [(get(scale, backend, "load", i), get(scale, backend, "resync", i)) for i in reps]
            ratio(
                f"{scale}/{backend}/load_over_resync", p, lambda a, b: a["seconds"] / b["seconds"]
            )
            p = [
                (get(scale, backend, "load", i), get(scale, backend, "feed-resync", i))
                for i in reps
            ]
            ratio(
                f"{scale}/{backend}/load_over_feedresync",
                p,
                lambda a, b: a["seconds"] / b["seconds"],
            )
        for shape in ("", "flat-"):
            tag = "dlt" if not shape else "dlt_flat"
            load, rerun = f"dlt-{shape}load", f"dlt-{shape}rerun"
            p = [(get(scale, "sqlite", "load", i), get(scale, "dlt-sqlite", load, i)) for i in reps]
            ratio(f"{scale}/engine_vs_{tag}", p, lambda a, b: a["rps"] / b["rps"])
            p = [
                (get(scale, "sqlite", "baseline", i), get(scale, "dlt-sqlite", load, i))
                for i in reps
            ]
            ratio(f"{scale}/baseline_vs_{tag}", p, lambda a, b: a["rps"] / b["rps"])
            p = [
                (get(scale, "dlt-sqlite", load, i), get(scale, "dlt-sqlite", rerun, i))
                for i in reps
            ]
            ratio(f"{scale}/{tag}_load_over_rerun", p, lambda a, b: a["seconds"] / b["seconds"])
    # scaling: seconds per record at the larger scale over the smaller one (1.0 = linear)
    for small, large in (("100k", "1m"), ("th", "de")):
        for backend in backends:
            p = [(get(large, backend, "load", i), get(small, backend, "load", i)) for i in reps]
            ratio(
                f"{small}->{large}/{backend}/load_per_record_growth",
                p,
                lambda a, b: (a["seconds"] / a["records"]) / (b["seconds"] / b["records"]),
            )
            p = [
                (get(large, backend, "baseline", i), get(small, backend, "baseline", i))
                for i in reps
            ]
            ratio(
                f"{small}->{large}/{backend}/baseline_per_record_growth",
                p,
                lambda a, b: (a["seconds"] / a["records"]) / (b["seconds"] / b["records"]),
            )
    return {"medians": medians, "ratios": ratios}


def machine() -> dict[str, Any]:
    """Describe the machine and the versions measured."""
    import sqlite3

    import efa_core

    info: dict[str, Any] = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "sqlite": sqlite3.sqlite_version,
        "efa_core": efa_core.__version__,
    }
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                info["memory"] = line.split(":", 1)[1].strip()
                break
    from importlib.metadata import PackageNotFoundError, version

    for dist in ("psycopg", "dlt", "sqlalchemy", "orjson", "cattrs", "attrs"):
        with contextlib.suppress(PackageNotFoundError):
            info[dist] = version(dist)
    return info


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run the benchmarks (or one worker task)."""
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "worker":
        worker(*argv[1:4])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="th,de", help="th (Thüringen), de (Germany), 100k, 1m")
    parser.add_argument(
        "--national",
        action="store_true",
        help="the national table of issue 15: scales 100k and 1m, records files, dlt at both",
    )
    parser.add_argument("--reps", type=int, default=3, help="repetitions at Thüringen scale")
    parser.add_argument("--de-reps", type=int, default=1, help="repetitions at national scale")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--no-dlt", action="store_true", help="skip dlt (default: if importable)")
    parser.add_argument(
        "--tasks",
        help="comma-separated tasks to run (default: all), e.g. baseline,load,fp-load,fp-resync",
    )
    parser.add_argument(
        "--out",
        default=str(Path(tempfile.gettempdir()) / "efa-bench-results.json"),
        help="where to write all results as JSON",
    )
    args = parser.parse_args(argv)
    if args.national:
        args.scales = "100k,1m"
    backends = args.backends.split(",")
    dlt = not args.no_dlt
    if dlt:
        import importlib.util

        if importlib.util.find_spec("dlt") is None:
            print("dlt is not installed: skipping its measurements", flush=True)
            dlt = False
    info = machine()
    if "postgresql" in backends:
        with postgres() as server:
            import psycopg

            with psycopg.connect(server) as conn:
                row = conn.execute("SHOW server_version").fetchone()
                info["postgresql"] = row[0] if row else "?"
            results = _run_all(args, backends, server, dlt)
    else:
        results = _run_all(args, backends, None, dlt)
    summary = summarize(results)
    document = {"machine": info, "results": results, **summary}
    Path(args.out).write_text(json.dumps(document, indent=2, default=str))
    print(json.dumps({"machine": info, **summary}, indent=2, default=str))
    print(f"results written to {args.out}")
    return 0


def _run_all(
    args: argparse.Namespace, backends: list[str], server: str | None, dlt: bool
) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="efa-bench-") as tmp:
        workdir = Path(tmp)
        for scale in args.scales.split(","):
            reps = args.reps if scale in ("th", "100k") else args.de_reps
            for rep in range(reps):
                results += one_round(
                    scale,
                    backends,
                    server,
                    workdir,
                    rep,
                    dlt=dlt and scale != "de",
                    files=args.national
                    and (args.tasks is None or "file-load" in args.tasks.split(",")),
                    tasks=None if args.tasks is None else set(args.tasks.split(",")),
                )
    return results


if __name__ == "__main__":
    raise SystemExit(main())
