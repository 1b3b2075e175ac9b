"""Concurrent writers with kills: N processes sync different sources into one store at once.

Each round changes every source, starts one sync process per source at the same time, kills
some of them with SIGKILL after a random number of their batches, lets the others finish,
then syncs every source again concurrently (no kills) and compares the store with a
reference that synced the same versions one source after the other, undisturbed.  On
PostgreSQL the writers run in parallel (one advisory lock per source); on SQLite they take
turns through the database's lock file.  Full: 12 rounds of 4 writers per backend; short: 4.
"""

from __future__ import annotations

import random
import signal
from typing import Any

from _faults import (
    differences,
    digest,
    kill_after,
    next_version,
    open_checked,
    start_worker,
    sync,
)
from _faults import write_snapshot as write
from run import Environment, Result

from efa_core.store import open_store

NAME = "writers"
WRITERS = 4


def run(env: Environment) -> Result:
    """Run the concurrent-writer rounds on every backend of *env*."""
    rounds = 4 if env.short else 12
    result = Result(NAME)
    for backend in env.backends:
        result.minimums[f"{backend}/kills"] = rounds
        _backend(env, backend, rounds, result)
    return result


def _backend(env: Environment, backend: str, rounds: int, result: Result) -> None:
    rng = random.Random(f"{env.seed}-writers-{backend}")
    work = env.workdir / f"writers-{backend}"
    work.mkdir()
    names = [f"w{n}" for n in range(WRITERS)]
    rows: dict[str, dict[str, str]] = {name: {} for name in names}
    tables: dict[str, dict[str, Any]] = {
        name: {
            "type": "records-file",
            "path": str(work / f"{name}.jsonl"),
            "batch_size": 10,
            "max_delete_share": 1.0,
        }
        for name in names
    }
    with (
        env.database("sqlite", f"writers-reference-{backend}") as ref_url,
        env.database(backend, f"writers-{backend}") as url,
        open_store(ref_url) as reference,
    ):
        for number in range(rounds):
            for name in names:
                rows[name] = next_version(rng, rows[name], rng.randint(150, 400))
                write(work / f"{name}.jsonl", rows[name], rng)
                sync(reference, tables, [name])  # one after the other, undisturbed
            procs = {name: start_worker(url, tables, [name], work) for name in names}
            doomed = rng.sample(names, rng.randint(1, WRITERS))
            for name in doomed:  # each after a random number of its committed batches
                batches = -(-len(rows[name]) // 10)
                kill_after(procs[name], rng.randint(0, batches - 1), 0.004, rng)
            for name, proc in procs.items():
                proc.wait(timeout=300)
                if proc.stdout is not None:
                    proc.stdout.close()
                if proc.returncode == -signal.SIGKILL:
                    result.add(f"{backend}/kills")
                elif proc.returncode != 0:
                    result.failures.append(
                        f"{backend} round {number}: writer {name} exited {proc.returncode}"
                    )
            again = {name: start_worker(url, tables, [name], work) for name in names}
            for name, proc in again.items():
                proc.wait(timeout=300)
                if proc.stdout is not None:
                    proc.stdout.close()
                if proc.returncode != 0:
                    result.failures.append(
                        f"{backend} round {number}: resuming {name} exited {proc.returncode}"
                    )
            try:
                with open_checked(url) as store:
                    diff = differences(digest(store), digest(reference))
            except AssertionError as exc:
                diff = [str(exc)]
            result.failures.extend(f"{backend} round {number}: {d}" for d in diff)
            result.add(f"{backend}/rounds")
            if result.failures:
                return
