"""What the fault campaigns share: sources, a sync worker to kill, and the store digest.

Not a test module.  Sources are local files, so a campaign needs no network:

* ``records-file`` (the bundled snapshot connector) over a JSON Lines file of areas;
* ``fault-feed``, a change-feed connector over an append-only log of operations
  (``{"op": "upsert", "record": {...}}`` / ``{"op": "delete", "kind": ..., "key": ...}``),
  whose cursor is the number of log lines read.

:func:`digest` is what "identical to an undisturbed run" compares: every mirror row (content
hash and tombstone), each key's history (operations with old and new hashes, in order), every
source's cursor, and that no run was left running.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

import attrs

from efa_core.config import EfaConfig, parse_config
from efa_core.connectors import Batch, Capability, Connector, Delete, Upsert
from efa_core.hookspecs import hookimpl
from efa_core.plugins import PluginRegistry
from efa_core.serialization import record_from_dict
from efa_core.store import RunStatus, Store, open_store
from efa_core.sync import SyncEngine

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
WORKER = HERE / "worker.py"


@attrs.frozen(kw_only=True)
class FeedConfig:
    """Options of the ``fault-feed`` connector."""

    path: str
    batch_size: int = 10


class FaultFeed(Connector):
    """A change feed over an append-only JSON Lines log; the cursor is the lines read."""

    type_name: ClassVar[str] = "fault-feed"
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.CHANGE_FEED})
    config_class: ClassVar[type[Any]] = FeedConfig
    config: FeedConfig

    async def pull_batches(self, cursor: str | None) -> AsyncIterator[Batch]:
        """Yield the operations after line *cursor*, ``batch_size`` per batch."""
        lines = Path(self.config.path).read_text(encoding="utf-8").splitlines()
        start = int(cursor or 0)
        size = self.config.batch_size
        for at in range(start, len(lines), size):
            changes: list[Upsert | Delete] = []
            for line in lines[at : at + size]:
                op = json.loads(line)
                if op["op"] == "upsert":
                    changes.append(Upsert(record_from_dict(op["record"])))
                else:
                    changes.append(Delete(op["kind"], op["key"]))
            end = min(at + size, len(lines))
            yield Batch(changes, cursor=str(end), complete=end == len(lines))
        if start >= len(lines):
            yield Batch((), cursor=str(len(lines)), complete=True)


class FaultPlugin:
    """Registers the campaign's feed connector."""

    @hookimpl
    def efa_register_connectors(self, register: Any) -> None:
        """Register :class:`FaultFeed`."""
        register(FaultFeed)


def registry() -> PluginRegistry:
    """A registry with the bundled connectors and the campaign's feed, nothing installed."""
    reg = PluginRegistry(entrypoints=False, env={})
    reg.register(FaultPlugin(), name="fault-campaign")
    return reg


def config(tables: Mapping[str, Mapping[str, Any]]) -> EfaConfig:
    """An :class:`EfaConfig` with the given ``[connectors.*]`` tables."""
    return parse_config({"connectors": {k: dict(v) for k, v in tables.items()}}, env={})


def sync(store: Store, tables: Mapping[str, Mapping[str, Any]], sources: list[str]) -> None:
    """Sync *sources* undisturbed; raise if one fails."""
    engine = SyncEngine(store, registry(), config(tables), lock_timeout=120)
    report = engine.run(sources)
    failed = {name: r.error for name, r in report.items() if not r.ok}
    if failed:
        raise RuntimeError(f"undisturbed sync failed: {failed}")


# -- source data ---------------------------------------------------------------------------------


def area(code: str, name: str) -> dict[str, Any]:
    """An area record as a records-file line holds it."""
    return {"kind": "area", "ars": code, "name": name}


def next_version(rng: random.Random, rows: dict[str, str], size: int) -> dict[str, str]:
    """A new version of a snapshot source: some rows gone, some renamed, some new."""
    out: dict[str, str] = {}
    drop = rng.choice([0.02, 0.1, 0.3])  # sometimes a big shrink: a long completion
    for code, name in rows.items():
        roll = rng.random()
        if roll < drop:
            continue
        out[code] = name + "'" if roll < drop + 0.15 else name
    while len(out) < size:
        code = f"{rng.randint(1, 16):02d}{rng.randint(0, 999):03d}"
        out.setdefault(code, f"Kreis {code}")
    return out


def write_snapshot(path: Path, rows: Mapping[str, str], rng: random.Random) -> None:
    """Write *rows* as a records file, shuffled, with an invalid line (quarantined)."""
    lines = [json.dumps(area(code, name)) for code, name in rows.items()]
    rng.shuffle(lines)
    lines.insert(rng.randrange(len(lines) + 1), '{"kind": "area", "ars": "1"}')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def append_feed(path: Path, rng: random.Random, count: int) -> None:
    """Append *count* random operations (mostly upserts, some deletes, orphans too)."""
    with path.open("a", encoding="utf-8") as out:
        for _ in range(count):
            code = f"{rng.randint(1, 16):02d}{rng.randint(0, 60):03d}"
            if rng.random() < 0.25:
                out.write(json.dumps({"op": "delete", "kind": "area", "key": code}) + "\n")
            else:
                name = f"Feed {rng.randint(0, 9)}"
                out.write(json.dumps({"op": "upsert", "record": area(code, name)}) + "\n")


# -- the store digest ----------------------------------------------------------------------------


def digest(store: Store) -> dict[str, Any]:
    """What must be identical after any sequence of kills: records, history, cursors."""
    history: dict[tuple[str, str, str], list[tuple[str, str | None, str | None]]] = {}
    for h in store.history():
        history.setdefault((h.source, h.kind, h.natural_key), []).append(
            (h.op.value, h.old_hash, h.new_hash)
        )
    return {
        "records": sorted(
            (r.source, r.kind, r.natural_key, r.content_hash, r.deleted)
            for r in store.records(include_deleted=True)
        ),
        "history": history,
        "cursors": {s.source: s.cursor for s in store.source_states()},
        "running": [r.run_id for r in store.runs() if r.status is RunStatus.RUNNING],
    }


def differences(got: Mapping[str, Any], want: Mapping[str, Any], limit: int = 3) -> list[str]:
    """Describe where two digests differ (empty: identical)."""
    out: list[str] = []
    for part in ("records", "cursors", "running"):
        if got[part] != want[part]:
            out.append(f"{part} differ: {_diff(got[part], want[part], limit)}")
    if got["history"] != want["history"]:
        keys = [
            k
            for k in set(got["history"]) | set(want["history"])
            if got["history"].get(k) != want["history"].get(k)
        ]
        out.append(
            f"history of {len(keys)} keys differs, e.g. "
            + "; ".join(
                f"{k}: {got['history'].get(k)} != {want['history'].get(k)}"
                for k in sorted(keys)[:limit]
            )
        )
    return out


def _diff(got: Any, want: Any, limit: int) -> str:
    if isinstance(got, list) and isinstance(want, list):
        extra = [x for x in got if x not in want][:limit]
        missing = [x for x in want if x not in got][:limit]
        return f"extra {extra}, missing {missing}"
    return f"{got!r} != {want!r}"


# -- killing a sync ------------------------------------------------------------------------------


@attrs.define
class Kill:
    """The outcome of one killed sync process."""

    killed: bool
    after_lines: int
    output: list[str] = attrs.field(factory=list)


def start_worker(
    url: str, tables: Mapping[str, Mapping[str, Any]], sources: list[str], workdir: Path
) -> subprocess.Popen[bytes]:
    """Start ``worker.py`` syncing *sources* into *url*; it prints a line per progress event."""
    spec = workdir / f"worker-{os.getpid()}-{time.monotonic_ns()}.json"
    spec.write_text(json.dumps({"url": url, "tables": tables, "sources": sources}))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), *sys.path])}
    return subprocess.Popen(
        [sys.executable, str(WORKER), str(spec)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
    )


def kill_after(
    proc: subprocess.Popen[bytes], lines: int, jitter: float, rng: random.Random
) -> Kill:
    """Let *proc* print *lines* progress lines (after ``ready``), wait a little, SIGKILL it."""
    assert proc.stdout is not None
    seen: list[str] = []
    first = proc.stdout.readline().decode().strip()
    if first != "ready":
        proc.wait(timeout=60)
        return Kill(False, 0, [first])
    for _ in range(lines):
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line.decode().strip())
    time.sleep(rng.uniform(0, jitter))
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    proc.stdout.close()
    return Kill(proc.returncode == -signal.SIGKILL, len(seen), seen)


def open_checked(url: str) -> Store:
    """Open a store after a kill and check its integrity first."""
    store = open_store(url)
    problems = store.check_integrity()
    if problems:
        store.close()
        raise AssertionError(f"integrity after a kill: {problems[:3]}")
    return store
