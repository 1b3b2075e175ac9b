"""Random SIGKILLs of ``efa sync`` processes: first loads, re-syncs, snapshot completions, feeds.

Each round changes a source (a new version of a records file, new operations in a feed log,
or a new source for a first load), syncs it undisturbed into a reference store, then syncs it
into the store under test in a worker process that is killed with SIGKILL at a random
moment of the chosen phase (sometimes twice), and finishes the sync in-process.  After every
round the store under test must equal the reference: records, each key's history, cursors,
no run left running, integrity checks clean.  Full: 110 rounds per backend (at least 100
kills); short: 22 (at least 20 kills); more rounds run while too few kills have landed.
A "completion" kill lands while the last batch, whose apply completes the snapshot, is read
or applied.
"""

from __future__ import annotations

import random
from typing import Any

from _faults import (
    append_feed,
    differences,
    digest,
    kill_after,
    next_version,
    open_checked,
    start_worker,
    sync,
    write_snapshot,
)
from run import Environment, Result

from efa_core.store import open_store

NAME = "kills"

#: phase -> weight
PHASES = {"load": 2, "resync": 4, "completion": 3, "feed": 2}


def run(env: Environment) -> Result:
    """Run the kill rounds on every backend of *env*."""
    rounds = 22 if env.short else 110
    result = Result(NAME)
    for backend in env.backends:
        result.minimums[f"{backend}/kills"] = 20 if env.short else 100
        _backend(env, backend, rounds, result)
    return result


def _backend(env: Environment, backend: str, rounds: int, result: Result) -> None:
    rng = random.Random(f"{env.seed}-{backend}")
    work = env.workdir / f"kills-{backend}"
    work.mkdir()
    snap_path, feed_path = work / "snap.jsonl", work / "feed.jsonl"
    feed_path.write_text("")
    rows: dict[str, str] = {}
    tables: dict[str, dict[str, Any]] = {
        "snap": {
            "type": "records-file",
            "path": str(snap_path),
            "batch_size": 10,
            "max_delete_share": 1.0,
        },
        "feed": {"type": "fault-feed", "path": str(feed_path), "batch_size": 7},
    }
    least = result.minimums[f"{backend}/kills"]
    with (
        env.database("sqlite", f"reference-{backend}") as ref_url,
        env.database(backend, f"victim-{backend}") as url,
        open_store(ref_url) as reference,
    ):
        for number in range(2 * rounds):  # more rounds while too few kills landed
            if number >= rounds and result.counts.get(f"{backend}/kills", 0) >= least:
                break
            phase = rng.choices(list(PHASES), weights=list(PHASES.values()))[0]
            if phase == "feed":
                append_feed(feed_path, rng, rng.randint(5, 60))
                source, lines = "feed", len(feed_path.read_text().splitlines())
            elif phase == "load":
                source = f"load{number}"
                path = work / f"{source}.jsonl"
                write_snapshot(path, next_version(rng, {}, rng.randint(60, 250)), rng)
                tables[source] = {
                    "type": "records-file",
                    "path": str(path),
                    "batch_size": rng.choice([5, 10, 20]),
                }
                lines = len(path.read_text().splitlines())
            else:
                rows = next_version(rng, rows, rng.randint(150, 300))
                write_snapshot(snap_path, rows, rng)
                tables["snap"]["batch_size"] = rng.choice([5, 10, 20])
                source, lines = "snap", len(snap_path.read_text().splitlines())
            sync(reference, tables, [source])
            batches = -(-lines // int(tables[source]["batch_size"]))
            kills = 2 if rng.random() < 0.25 else 1
            for _ in range(kills):
                # The worker prints "started", then a line after each applied batch.
                if phase == "completion":  # while the last batch (and completion) applies
                    at, jitter = batches, 0.004
                else:
                    at, jitter = rng.randint(0, batches), 0.004
                result.add(f"{backend}/attempts-{phase}")
                proc = start_worker(url, tables, [source], work)
                kill = kill_after(proc, at, jitter, rng)
                if kill.killed:
                    result.add(f"{backend}/kills")
                    result.add(f"{backend}/kills-{phase}")
            try:
                with open_checked(url) as store:
                    if store.cursor(source) is not None and phase != "feed":
                        result.add(f"{backend}/resumed-mid-snapshot")
                    sync(store, tables, [source])
                    problems = store.check_integrity()
                    diff = differences(digest(store), digest(reference))
            except AssertionError as exc:
                problems, diff = [str(exc)], []
            for problem in [*problems, *diff]:
                result.failures.append(f"{backend} round {number} ({phase}): {problem}")
            result.add(f"{backend}/rounds")
            if result.failures:
                return
