"""Memory bounds of the store's snapshot bookkeeping (issue 15): tracemalloc, no timings."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

from efa_core.store import RunMode, open_store, prepare

from .helpers import service


def test_completing_a_snapshot_holds_its_key_hashes_about_twice(tmp_path: Path) -> None:
    # Completing a snapshot merges the key hashes it saw (8 bytes a key, kept in chunks of
    # one batch each) into one sorted array and scans the live rows against it: the
    # chunks and the merged array, 16 bytes a key (16 MiB at a million records), and
    # nothing that grows with the live rows (they are streamed).
    n, batch = 60_000, 5_000
    with open_store(f"sqlite:///{tmp_path / 'efa.db'}") as store:
        run = store.begin_run("s", RunMode.SNAPSHOT).run_id
        for start in range(0, n, batch):
            changes = [prepare(service(f"svc-{i}")) for i in range(start, start + batch)]
            store.apply(run, "s", changes, cursor=str(start + batch), mode=RunMode.SNAPSHOT)
        tracemalloc.start()
        try:
            result = store.apply(run, "s", [], cursor=None, complete=True, mode=RunMode.SNAPSHOT)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert result.snapshot is not None
    assert (result.snapshot.delivered, result.snapshot.missing) == (n, 0)
    assert peak / n < 20, peak / n
