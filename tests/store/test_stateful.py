"""Stateful property tests: any sequence of pulls keeps the store equal to a simple model.

The machine pulls a snapshot source and a change-feed source through the engine, with
random batches, failures half-way, resumed runs and the shrink guard (a completed snapshot
that would delete more than half of the records alive when it started, or that delivered
nothing, deletes nothing unless the run allows it).  After every step: the mirror equals
the model (live content and tombstones), replaying the history reproduces the mirror, the
integrity checks pass, and re-running the same pull changes nothing (idempotence).
"""

from __future__ import annotations

import contextlib
import itertools
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from efa_core.connectors import Delete, Upsert
from efa_core.serialization import content_hash
from efa_core.store import Store, open_store
from efa_core.sync import SourceReport, SyncEngine

from .conftest import postgres_schema
from .helpers import SCRIPTS, Script, area, config, mirror_state, registry, replay_history

CODES = ["01", "02", "15", "16", "16055", "16056"]
NAMES = ["a", "b", "c"]

upserts = st.builds(area, st.sampled_from(CODES), st.sampled_from(NAMES))
feed_changes = st.one_of(upserts, st.sampled_from(CODES).map(lambda c: Delete("area", c)))

_counter = itertools.count()


def _chunks(items: list, sizes: list[int]) -> list[list]:
    out, start = [], 0
    for size in itertools.cycle(sizes or [1]):
        if start >= len(items):
            break
        out.append(items[start : start + size])
        start += size
    return out or [[]]


class StoreMachine(RuleBasedStateMachine):
    """Pull random snapshots and feed batches; compare with a dict model."""

    url_factory: Callable[[], contextlib.AbstractContextManager[str]]

    def __init__(self) -> None:
        super().__init__()
        self._stack = contextlib.ExitStack()
        url = self._stack.enter_context(self.url_factory())
        self.store: Store = self._stack.enter_context(open_store(url))
        n = next(_counter)
        self.snap_script, self.feed_script = f"snap-{n}", f"feed-{n}"
        SCRIPTS[self.snap_script] = Script()
        SCRIPTS[self.feed_script] = Script()
        self.engine = SyncEngine(
            self.store,
            registry(),
            config(snap=("test-snapshot", self.snap_script), feed=("test-feed", self.feed_script)),
            lock_timeout=5,
        )
        # model: source -> code -> (hash, deleted)
        self.model: dict[str, dict[str, tuple[str, bool]]] = {"snap": {}, "feed": {}}
        self.pending_snapshot: list[list[Upsert]] | None = None
        self.pending_applied = 0
        self.pending_allow = False
        #: the snapshot source's live codes when the current snapshot started
        self.live_at_start: set[str] = set()
        self.last_refused = False
        self.feed_applied = 0

    def teardown(self) -> None:
        SCRIPTS.pop(self.snap_script, None)
        SCRIPTS.pop(self.feed_script, None)
        self._stack.close()

    # -- model helpers ---------------------------------------------------------------------

    def _model_upsert(self, source: str, change: Upsert) -> None:
        self.model[source][change.key] = (content_hash(change.record), False)

    def _model_delete(self, source: str, code: str) -> None:
        current = self.model[source].get(code)
        if current is not None and not current[1]:
            self.model[source][code] = (current[0], True)

    def _apply_snapshot_batches(self, batches: list[list[Upsert]]) -> None:
        for batch in batches:
            for change in batch:
                self._model_upsert("snap", change)

    # -- rules -----------------------------------------------------------------------------

    @precondition(lambda self: self.pending_snapshot is None)
    @rule(
        records=st.lists(upserts, max_size=8, unique_by=lambda u: u.key),
        sizes=st.lists(st.integers(1, 4), min_size=1, max_size=3),
        fail_at=st.none() | st.integers(0, 3),
        allow=st.booleans(),
    )
    def snapshot(
        self, records: list[Upsert], sizes: list[int], fail_at: int | None, allow: bool
    ) -> None:
        batches = _chunks(records, sizes)
        script = SCRIPTS[self.snap_script]
        script.batches, script.fail_at = batches, fail_at
        self.live_at_start = {c for c, (_, dead) in self.model["snap"].items() if not dead}
        report = self.engine.run(["snap"], allow_shrink=allow)["snap"]
        if fail_at is not None and fail_at < len(batches):
            assert not report.ok
            assert report.deleted == 0
            self._apply_snapshot_batches(batches[:fail_at])
            self.pending_snapshot, self.pending_applied = batches, fail_at
            self.pending_allow = allow
            return
        self._finish_snapshot(batches, report, allow)

    def _finish_snapshot(
        self, batches: list[list[Upsert]], report: SourceReport, allow: bool
    ) -> None:
        self._apply_snapshot_batches(batches)
        present = {c.key for batch in batches for c in batch}
        live = len(self.live_at_start)
        missing = len(self.live_at_start - present)
        refused = not allow and live > 0 and (not present or missing > 0.5 * live)
        assert report.snapshot is not None
        assert (report.snapshot.live, report.snapshot.missing) == (live, missing)
        assert report.snapshot.refused == refused
        assert report.ok == (not refused), report.error
        self.last_refused = refused
        if refused:
            assert report.deleted == 0
            assert "--allow-shrink snap" in (report.error or "")
            return
        for code in list(self.model["snap"]):
            if code not in present:
                self._model_delete("snap", code)

    @precondition(lambda self: self.pending_snapshot is not None)
    @rule()
    def resume_snapshot(self) -> None:
        assert self.pending_snapshot is not None
        script = SCRIPTS[self.snap_script]
        script.fail_at = None
        report = self.engine.run(["snap"], allow_shrink=self.pending_allow)["snap"]
        assert report.cursor_before == (str(self.pending_applied) if self.pending_applied else None)
        self._finish_snapshot(self.pending_snapshot, report, self.pending_allow)
        self.pending_snapshot = None

    @precondition(lambda self: self.pending_snapshot is None)
    @rule()
    def rerun_snapshot(self) -> None:
        """Pull the last snapshot again: a no-op, unless the guard refused it last time."""
        before = (mirror_state(self.store), len(list(self.store.history())))
        was_refused = self.last_refused
        self.live_at_start = {c for c, (_, dead) in self.model["snap"].items() if not dead}
        report = self.engine.run(["snap"])["snap"]
        assert (report.added, report.changed) == (0, 0)
        self._finish_snapshot(SCRIPTS[self.snap_script].batches, report, allow=False)
        if not was_refused:
            assert report.ok
            assert report.deleted == 0
            assert (mirror_state(self.store), len(list(self.store.history()))) == before

    @rule(
        changes=st.lists(feed_changes, max_size=8),
        sizes=st.lists(st.integers(1, 4), min_size=1, max_size=3),
        fail_at=st.none() | st.integers(1, 3),
    )
    def feed(self, changes: list, sizes: list[int], fail_at: int | None) -> None:
        script = SCRIPTS[self.feed_script]
        new_batches = _chunks(changes, sizes) if changes else []
        script.batches.extend(new_batches)
        stop = None if fail_at is None else self.feed_applied + fail_at
        script.fail_at = stop if stop is not None and stop < len(script.batches) else None
        report = self.engine.run(["feed"])["feed"]
        end = len(script.batches) if script.fail_at is None else script.fail_at
        expected_orphans = 0
        for batch in script.batches[self.feed_applied : end]:
            for change in batch:
                if isinstance(change, Upsert):
                    self._model_upsert("feed", change)
                else:
                    current = self.model["feed"].get(change.key)
                    expected_orphans += current is None or current[1]
                    self._model_delete("feed", change.key)
        self.feed_applied = end
        assert report.orphan_deletes == expected_orphans
        assert report.ok == (script.fail_at is None)
        script.fail_at = None

    # -- invariants ----------------------------------------------------------------------------

    @invariant()
    def mirror_matches_model(self) -> None:
        expected = {
            (source, "area", code): state
            for source, rows in self.model.items()
            for code, state in rows.items()
        }
        assert mirror_state(self.store) == expected

    @invariant()
    def history_replays_to_the_mirror(self) -> None:
        assert replay_history(self.store) == mirror_state(self.store)

    @invariant()
    def integrity_holds(self) -> None:
        assert self.store.check_integrity() == []


@contextlib.contextmanager
def _sqlite_url() -> Iterator[str]:
    tmp = Path(tempfile.mkdtemp(prefix="efa-stateful-"))
    try:
        yield f"sqlite:///{tmp / 'efa.db'}"
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_store_state_machine(backend: str, request: pytest.FixtureRequest) -> None:
    if backend == "sqlite":
        factory: Callable[[], contextlib.AbstractContextManager[str]] = _sqlite_url
        examples = 40
    else:
        server = request.getfixturevalue("postgres_server")

        def factory() -> contextlib.AbstractContextManager[str]:
            return postgres_schema(server)

        examples = 15

    machine = type("Machine", (StoreMachine,), {"url_factory": staticmethod(factory)})
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=examples,
            stateful_step_count=8,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
