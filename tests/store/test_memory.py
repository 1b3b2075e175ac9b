"""Memory bounds of the store's snapshot bookkeeping (issue 15): tracemalloc, no timings."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest

from efa_core.store import RunMode, open_store, prepare

from .helpers import service


@pytest.mark.parametrize(("missing", "bound"), [(0, 12), (1, 20)])
def test_completing_a_snapshot_holds_its_key_hashes_once_or_twice(
    tmp_path: Path, missing: int, bound: int
) -> None:
    # Completing a snapshot reads the key hashes it saw (8 bytes a key, kept in chunks of
    # one batch each).  When it saw as many keys as there are live rows and deleted
    # nothing, nothing is missing: the chunks are only counted, 8 bytes a key.  Otherwise
    # they are merged into one sorted array and the live rows are scanned against it: 16
    # bytes a key (16 MiB at a million records).  Before issue 15's work: 24 and more.
    n, batch = 60_000, 5_000
    with open_store(f"sqlite:///{tmp_path / 'efa.db'}") as store:
        if missing:
            run = store.begin_run("s", RunMode.SNAPSHOT).run_id
            changes = [prepare(service("gone"))]
            store.apply(run, "s", changes, cursor=None, complete=True, mode=RunMode.SNAPSHOT)
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
    assert (result.snapshot.delivered, result.snapshot.missing) == (n, missing)
    assert peak / n < bound, peak / n
