"""Crash safety: a sync process killed with SIGKILL at a random moment loses nothing.

Each round writes a new version of a records file (some records changed, some gone, some
new), starts a sync subprocess, kills it at a random moment, checks the store's integrity,
re-runs the sync to completion and compares the store with a reference store that synced
the same file versions without interruption: same mirror, same history (per key).
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from efa_core.config import parse_config
from efa_core.plugins import PluginRegistry
from efa_core.store import Store, open_store
from efa_core.sync import SyncEngine

from .helpers import mirror_state

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")

WORKER = Path(__file__).with_name("crash_worker.py")


def _file_version(rng: random.Random, previous: dict[str, dict], size: int) -> dict[str, dict]:
    rows = {}
    for code, row in previous.items():
        roll = rng.random()
        if roll < 0.1:
            continue  # deleted at the source
        rows[code] = {**row, "name": f"{row['name']}'"} if roll < 0.3 else row
    while len(rows) < size:
        code = f"{rng.randint(1, 16):02d}{rng.randint(0, 999):03d}"
        rows.setdefault(code, {"kind": "area", "ars": code, "name": f"Kreis {code}"})
    return rows


def _write(path: Path, rows: dict[str, dict], rng: random.Random) -> None:
    lines = [json.dumps(r) for r in rows.values()]
    rng.shuffle(lines)
    lines.insert(rng.randrange(len(lines)), '{"kind": "area", "ars": "1"}')  # quarantined
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _sync(store: Store, path: Path, batch_size: int) -> None:
    config = parse_config(
        {
            "connectors": {
                "notes": {"type": "records-file", "path": str(path), "batch_size": batch_size}
            }
        },
        env={},
    )
    report = SyncEngine(
        store, PluginRegistry(entrypoints=False, env={}), config, lock_timeout=30
    ).run()
    assert report.ok, report["notes"].error


def _history_by_key(
    store: Store,
) -> dict[tuple[str, str], list[tuple[str, str | None, str | None]]]:
    out: dict[tuple[str, str], list[tuple[str, str | None, str | None]]] = {}
    for h in store.history():
        out.setdefault((h.kind, h.natural_key), []).append((h.op.value, h.old_hash, h.new_hash))
    return out


def _crash_rounds(
    store_url: str,
    reference_url: str,
    tmp_path: Path,
    rounds: int,
    size: int,
    batch_size: int,
    seed: int,
) -> int:
    rng = random.Random(seed)
    path = tmp_path / "notes.jsonl"
    rows: dict[str, dict] = {}
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    killed = mid_snapshot = 0
    with open_store(reference_url) as reference:
        for _ in range(rounds):
            rows = _file_version(rng, rows, size)
            _write(path, rows, rng)
            _sync(reference, path, batch_size)  # uninterrupted
            proc = subprocess.Popen(
                [sys.executable, str(WORKER), store_url, str(path), str(batch_size)],
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                env=env,
            )
            assert proc.stdout is not None
            # Kill after a random number of committed batches (the worker prints a line
            # per batch) plus a random fraction of a batch, or early, before the first one.
            proc.stdout.readline()  # "ready"
            if rng.random() < 0.15:
                time.sleep(rng.uniform(0, 0.05))
            else:
                for _ in range(rng.randint(0, size // batch_size)):
                    if not proc.stdout.readline():
                        break
                time.sleep(rng.uniform(0, 0.004))
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
            proc.stdout.close()
            killed += proc.returncode == -signal.SIGKILL
            with open_store(store_url) as store:
                assert store.check_integrity() == []
                mid_snapshot += store.cursor("notes") is not None
                _sync(store, path, batch_size)  # the re-run completes what was left
                assert store.check_integrity() == []
                assert mirror_state(store) == mirror_state(reference)
                assert _history_by_key(store) == _history_by_key(reference)
                assert store.cursor("notes") is None
    print(f"killed {killed} of {rounds} runs, {mid_snapshot} in the middle of a snapshot")
    assert mid_snapshot >= rounds // 4, "kills must land inside snapshots, to test resuming"
    return killed


@pytest.fixture
def reference_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'reference.db'}"


def test_sigkill_at_random_moments_loses_nothing(
    store_url: str, reference_url: str, tmp_path: Path
) -> None:
    killed = _crash_rounds(
        store_url, reference_url, tmp_path, rounds=20, size=120, batch_size=4, seed=20240501
    )
    assert killed >= 15, "most rounds must actually kill the sync process"


@pytest.mark.slow
def test_sigkill_many_rounds_bigger_files(
    store_url: str, reference_url: str, tmp_path: Path
) -> None:
    killed = _crash_rounds(
        store_url, reference_url, tmp_path, rounds=100, size=2000, batch_size=25, seed=7
    )
    assert killed >= 80
