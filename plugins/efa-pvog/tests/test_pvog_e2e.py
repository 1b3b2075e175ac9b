"""End to end: fake PVOG server -> pvog connector -> SyncEngine -> SQLite store.

A run with faults injected must end in exactly the state of a fault-free run, and a run
that is interrupted (retries exhausted, malformed page, cancelled) must resume from the
stored cursor without duplicates or gaps.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import efa_pvog.plugin
import pytest
from efa_pvog.testing import FakePvog, PvogDataset, PvogFault

from efa_core.config import parse_config
from efa_core.plugins import PluginRegistry
from efa_core.store import RunStatus, Store, open_store
from efa_core.sync import SyncEngine, SyncProgress
from efa_core.testing import isolated_registry

SOURCE = "pvog-th"
SECRET = "e2e-secret-4711"


@pytest.fixture
def fake() -> FakePvog:
    return FakePvog(
        PvogDataset(
            seed=11, zustaendigkeiten=150, updates=30, deletes=25, orphan_deletes=25, invalid=3
        ),
        page_size=20,
        client_secret=SECRET,
        retry_after=0,
        stall_seconds=1.5,
    )


@pytest.fixture
def registry() -> PluginRegistry:
    registry = isolated_registry()
    registry.register(efa_pvog.plugin, name="pvog")
    return registry


def engine_for(
    store: Store, registry: PluginRegistry, fake: FakePvog, base_url: str, **options: Any
) -> SyncEngine:
    table: dict[str, Any] = {
        "type": "pvog",
        "base_url": base_url,
        "auth_url": base_url + fake.token_path,
        "client_id": fake.client_id,
        "client_secret": "${PVOG_SECRET}",
        "http": {"read_timeout": 0.5, "initial_backoff": 0, "max_backoff": 0, "attempts": 3},
    }
    table.update(options)
    config = parse_config({"connectors": {SOURCE: table}}, env={"PVOG_SECRET": SECRET})
    return SyncEngine(store, registry, config)


def mirror(store: Store) -> dict[tuple[str, str], Any]:
    return {(r.kind, r.natural_key): dict(r.payload) for r in store.records(source=SOURCE)}


def history(store: Store) -> list[tuple[str, str, str, Any]]:
    return [(h.kind, h.natural_key, h.op.value, h.payload) for h in store.history(source=SOURCE)]


def target_scheme(scheme: str) -> str:
    return "Onlinedienst" if scheme == "ZustaendigkeitOnlinedienst" else "Organisationseinheit"


def expected_mirror(fake: FakePvog, ars: str = "%") -> dict[tuple[str, str], tuple[str, ...]]:
    """What the fake says must be live, in the connector's composite-id terms."""
    return {
        ("responsibility", f"{f.agency}_{f.scheme}_{f.id}"): (
            f.leika_key,
            f.area,
            f"{f.agency}_{target_scheme(f.scheme)}_{f.target}",
            f.role,
        )
        for f in fake.live_zustaendigkeiten(ars).values()
    }


def summary(state: dict[tuple[str, str], Any]) -> dict[tuple[str, str], tuple[str, ...]]:
    return {key: (p["leika_key"], p["ars"], p["target_id"], p["role"]) for key, p in state.items()}


@pytest.fixture
def reference(
    tmp_path: Path, fake: FakePvog, registry: PluginRegistry, efa_serve_asgi: Callable[..., str]
) -> tuple[dict[tuple[str, str], Any], list[Any]]:
    """Mirror and history of a fault-free run, on a server of its own."""
    base_url = efa_serve_asgi(fake)
    store = open_store(f"sqlite:///{tmp_path / 'reference.db'}")
    try:
        report = engine_for(store, registry, fake, base_url).run()[SOURCE]
        assert report.ok, report.error
        counts = fake.feed_counts()
        assert report.orphan_deletes == counts.orphan_deletes
        assert report.deleted == counts.deleted
        assert report.quarantined == counts.invalid
        assert report.added + report.changed == counts.written
        state = mirror(store)
        assert summary(state) == expected_mirror(fake)
        return state, history(store)
    finally:
        store.close()
        fake.requests.clear()


def assert_no_duplicate_upserts(entries: list[tuple[str, str, str, Any]]) -> None:
    last: dict[tuple[str, str], Any] = {}
    for kind, key, op, payload in entries:
        if op == "upsert":
            assert last.get((kind, key)) != payload, f"{kind} {key} upserted twice unchanged"
        last[kind, key] = payload if op == "upsert" else None


def test_faults_end_in_the_state_of_a_fault_free_run(
    tmp_path: Path, fake: FakePvog, registry: PluginRegistry, efa_serve_asgi, reference
) -> None:
    starts = fake.page_starts()
    fake.inject(PvogFault.TOKEN_EXPIRED, index=starts[1])
    fake.inject(PvogFault.RATE_LIMITED, index=starts[2], times=2)
    fake.inject(PvogFault.SERVER_ERROR, index=starts[3], times=2)
    fake.inject(PvogFault.TIMEOUT, index=starts[4])
    fake.inject(PvogFault.TRUNCATED, index=starts[5], times=2)
    base_url = efa_serve_asgi(fake)
    store = open_store(f"sqlite:///{tmp_path / 'faulty.db'}")
    try:
        report = engine_for(store, registry, fake, base_url).run()[SOURCE]
        assert report.ok, report.error
        fired = [r.fault for r in fake.requests if r.fault is not None]
        assert sorted(f.value for f in set(fired)) == sorted(
            f.value
            for f in (
                PvogFault.TOKEN_EXPIRED,
                PvogFault.RATE_LIMITED,
                PvogFault.SERVER_ERROR,
                PvogFault.TIMEOUT,
                PvogFault.TRUNCATED,
            )
        )
        assert len(fired) == 8
        state, entries = reference
        assert mirror(store) == state
        assert history(store) == entries
        assert_no_duplicate_upserts(history(store))
    finally:
        store.close()


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        (PvogFault.SERVER_ERROR, "500"),
        (PvogFault.TRUNCATED, "while reading the body"),
        (PvogFault.MALFORMED_XML, "not well-formed XML"),
        (PvogFault.NOT_JSON, "not JSON"),
    ],
)
def test_an_interrupted_feed_resumes_without_duplicates_or_gaps(
    tmp_path: Path,
    fake: FakePvog,
    registry: PluginRegistry,
    efa_serve_asgi,
    reference,
    fault: PvogFault,
    message: str,
) -> None:
    starts = fake.page_starts()
    broken = starts[len(starts) // 2]
    fake.inject(fault, index=broken, times=None)  # every retry fails too
    base_url = efa_serve_asgi(fake)
    store = open_store(f"sqlite:///{tmp_path / 'interrupted.db'}")
    try:
        engine = engine_for(store, registry, fake, base_url)
        failed = engine.run()[SOURCE]
        assert failed.status is RunStatus.FAILED
        assert message in (failed.error or "")
        assert failed.batches == starts.index(broken)  # every page before the broken one
        stored = store.cursor(SOURCE)
        assert stored is not None
        assert f'"index":{broken},' in stored  # not past the broken page

        fake.clear_faults()
        fake.requests.clear()
        resumed = engine.run()[SOURCE]
        assert resumed.ok, resumed.error
        assert resumed.cursor_before == stored
        first = fake.feed_requests()[0]
        assert first.params.get("index") == str(broken)  # resumed at the broken page

        state, entries = reference
        assert mirror(store) == state
        assert history(store) == entries
        assert_no_duplicate_upserts(history(store))
    finally:
        store.close()


def test_a_cancelled_run_resumes_from_the_stored_cursor(
    tmp_path: Path, fake: FakePvog, registry: PluginRegistry, efa_serve_asgi, reference
) -> None:
    base_url = efa_serve_asgi(fake)
    store = open_store(f"sqlite:///{tmp_path / 'cancelled.db'}")
    try:
        engine = engine_for(store, registry, fake, base_url)

        def cancel_after_three(progress: SyncProgress) -> None:
            if progress.event == "batch" and progress.batches == 3:
                task = asyncio.current_task()
                assert task is not None
                task.cancel()

        engine.progress = cancel_after_three
        with pytest.raises(asyncio.CancelledError):
            engine.run()
        stored = store.cursor(SOURCE)
        assert stored is not None
        assert f'"index":{fake.page_starts()[3]},' in stored

        engine.progress = None
        fake.requests.clear()
        resumed = engine.run()[SOURCE]
        assert resumed.ok, resumed.error
        state, entries = reference
        assert mirror(store) == state
        assert history(store) == entries
    finally:
        store.close()


def test_a_new_run_after_catching_up_fetches_only_the_end(
    tmp_path: Path, fake: FakePvog, registry: PluginRegistry, efa_serve_asgi, reference
) -> None:
    base_url = efa_serve_asgi(fake)
    store = open_store(f"sqlite:///{tmp_path / 'again.db'}")
    try:
        engine = engine_for(store, registry, fake, base_url)
        assert engine.run()[SOURCE].ok
        fake.requests.clear()
        again = engine.run()[SOURCE]
        assert again.ok
        assert again.added == again.changed == again.deleted == 0
        assert [r.params.get("index") for r in fake.feed_requests()] == [str(len(fake.events))]
        assert mirror(store) == reference[0]
    finally:
        store.close()


def test_ars_restriction_syncs_only_that_area(
    tmp_path: Path, fake: FakePvog, registry: PluginRegistry, efa_serve_asgi
) -> None:
    base_url = efa_serve_asgi(fake)
    store = open_store(f"sqlite:///{tmp_path / 'th.db'}")
    try:
        report = engine_for(store, registry, fake, base_url, ars="16").run()[SOURCE]
        assert report.ok, report.error
        state = mirror(store)
        assert summary(state) == expected_mirror(fake, "16")
        assert state
        assert all(p["ars"].startswith("16") for p in state.values())
        assert {r.params.get("ars") for r in fake.feed_requests()} == {"16"}
    finally:
        store.close()
