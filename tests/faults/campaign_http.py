"""Injected HTTP faults: PVOG, FIT-Connect routing and the OZG-Dashboard through their fakes.

Each fake (``efa_pvog.testing``, ``efa_fitconnect.testing``, ``efa_dashboard.testing``) is
served on 127.0.0.1 behind a :class:`_http.FaultInjector`, and the real connectors sync from
it (retries on, short timeouts, no backoff).  Each round changes one source's data (new feed
events; routes and dashboard rows added, changed and removed), syncs it undisturbed into a
reference store, then syncs it into the store under test with faults injected into a share
of the requests (5 %, 15 % or 30 %): 401, 429 with ``Retry-After``, 5xx, timeouts, truncated
and stalled bodies.  A run that fails (retries exhausted, a 401 where no token can help) is
checked at once and the sync is run again until it succeeds:

* a failed run leaves the store as an undisturbed run would have left it part of the way:
  each key's history is a prefix of the reference's, a snapshot source has deleted nothing,
  and no run is left running;
* after the successful run the store equals the reference (records, history, cursors).

The store under test alternates between the backends round by round.  Full: at least 1,000
faults (each kind at least 100, each source at least 200); short: at least 200 (20, 40).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import random
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import efa_dashboard.plugin
import efa_fitconnect.plugin
import efa_pvog.plugin
from _faults import differences, digest
from _http import KINDS, FaultInjector
from efa_dashboard.testing import DashboardApiFake
from efa_fitconnect.testing import RoutingApiFake
from efa_pvog.testing import FakePvog, PvogDataset
from run import Environment, Result

from efa_core.config import parse_config
from efa_core.plugins import PluginRegistry
from efa_core.store import RunStatus, Store, open_store
from efa_core.sync import SyncEngine
from efa_core.testing import isolated_registry
from efa_core.testing.servers import serve_asgi

NAME = "http"

#: The fake's test credential.
SECRET = "campaign-secret-4711"
#: The client's read timeout; a timeout or stalled fault waits longer than this.
READ_TIMEOUT = 0.25
STALL = 0.4
#: Attempts per request (so a run fails now and then when several faults meet).
ATTEMPTS = 3
#: How often a round's sync is run again after failing before the round is a failure.
MAX_RUNS = 60
RATES = (0.05, 0.15, 0.3)
SOURCES = ("pvog", "routing", "dashboard")
SNAPSHOT_SOURCES = {"routing", "dashboard"}

LEIKA = ("99123456760610", "99134005017000", "99041006017000", "99115005104000")
THUERINGEN = ("160510000000", "160520000000", "160530000000", "160550000000", "160610001001")


def run(env: Environment) -> Result:
    """Run rounds until the promised numbers of faults are injected."""
    least = 200 if env.short else 1000
    result = Result(NAME)
    result.minimums["faults"] = least
    for kind in KINDS:
        result.minimums[f"faults-{kind}"] = least // 10
    for source in SOURCES:
        result.minimums[f"{source}/faults"] = least // 5
    # silenced after the servers started: uvicorn sets its loggers' levels
    with _Servers(random.Random(f"{env.seed}-http"), events=15 * least) as servers, _silenced():
        _rounds(env, servers, result, least)
    return result


def _rounds(env: Environment, servers: _Servers, result: Result, least: int) -> None:
    rng = random.Random(f"{env.seed}-rounds")
    with contextlib.ExitStack() as stack:
        # per backend: a reference (SQLite, undisturbed) and the store under test
        stores = {
            backend: (
                stack.enter_context(open_store(_url(stack, env, "sqlite", f"ref-{backend}"))),
                stack.enter_context(open_store(_url(stack, env, backend, f"http-{backend}"))),
            )
            for backend in env.backends
        }
        number = 0
        while not _enough(result) and number < 40 * least:
            backend = env.backends[number % len(env.backends)]
            # the source with the fewest faults so far, so each gets its share
            source = min(SOURCES, key=lambda s: (result.counts.get(f"{s}/faults", 0), s))
            servers.change(source, rng)
            reference, victim = stores[backend]
            _sync(reference, servers, source)
            _disturbed(victim, reference, servers, source, rng, result, backend)
            result.add(f"{backend}/rounds")
            number += 1
            if result.failures:
                result.failures[:0] = [f"round {number} ({source}, {backend}):"]
                return
        for backend, (reference, victim) in stores.items():  # every source, once at the end
            result.failures.extend(
                f"{backend}, at the end: {problem}"
                for problem in differences(digest(victim), digest(reference))
            )
        for kind in KINDS:
            result.counts.setdefault(f"faults-{kind}", 0)


def _enough(result: Result) -> bool:
    return all(result.counts.get(k, 0) >= n for k, n in result.minimums.items())


def _url(stack: contextlib.ExitStack, env: Environment, backend: str, name: str) -> str:
    return stack.enter_context(env.database(backend, name))


def _disturbed(
    store: Store,
    reference: Store,
    servers: _Servers,
    source: str,
    rng: random.Random,
    result: Result,
    backend: str,
) -> None:
    """Sync *source* into *store* with faults until a run succeeds; check every run."""
    injector = servers.injectors[source]
    injector.rate = rng.choice(RATES)
    want = _digest(reference, source)
    before = dict(injector.counts)
    try:
        for failed in range(MAX_RUNS):  # noqa: B007 - read after the loop
            pre = _digest(store, source)
            report = _engine(store, servers, READ_TIMEOUT).run([source])[source]
            if report.ok:
                break
            result.add("failed-runs")
            result.add(f"{backend}/failed-runs")
            post = _digest(store, source)
            if post == pre:
                result.add("failed-runs-store-unchanged")
            result.failures.extend(_partial(post, pre, want, source))
            if result.failures:
                result.failures.append(f"the failed run said: {report.error}")
                return
        else:
            result.failures.append(f"no run succeeded in {MAX_RUNS} attempts")
            return
        if failed:
            result.add("converged-after-failed-runs")
    finally:
        injector.rate = 0.0
        for kind, n in injector.counts.items():
            added = n - before.get(kind, 0)
            result.add("faults", added)
            result.add(f"faults-{kind}", added)
            result.add(f"{source}/faults", added)
            result.add(f"{backend}/faults", added)
    result.failures.extend(differences(_digest(store, source), want))


def _digest(store: Store, source: str) -> dict[str, Any]:
    """:func:`_faults.digest` of one source (a round touches one; the end compares all)."""
    history: dict[tuple[str, str, str], list[tuple[str, str | None, str | None]]] = {}
    for h in store.history(source=source):
        history.setdefault((h.source, h.kind, h.natural_key), []).append(
            (h.op.value, h.old_hash, h.new_hash)
        )
    return {
        "records": sorted(
            (r.source, r.kind, r.natural_key, r.content_hash, r.deleted)
            for r in store.records(source=source, include_deleted=True)
        ),
        "history": history,
        "cursors": {s.source: s.cursor for s in store.source_states() if s.source == source},
        "running": [r.run_id for r in store.runs(source) if r.status is RunStatus.RUNNING],
    }


def _partial(
    got: dict[str, Any], before: dict[str, Any], want: dict[str, Any], source: str
) -> list[str]:
    """What a failed run did that an undisturbed run would not have done part of the way."""
    problems = []
    for key, ops in got["history"].items():
        if ops != want["history"].get(key, [])[: len(ops)]:
            problems.append(f"history of {key} is no prefix of the reference's: {ops}")
    if source in SNAPSHOT_SOURCES:
        was = {r[:3] for r in before["records"] if r[4]}
        deleted = [r[:3] for r in got["records"] if r[4] and r[:3] not in was]
        if deleted:
            problems.append(f"a failed snapshot run deleted {deleted[:3]}")
    if got["running"]:
        problems.append(f"runs left running: {got['running']}")
    return problems[:5]


def _sync(store: Store, servers: _Servers, source: str) -> None:
    # undisturbed: a generous timeout, so a slow moment of a busy machine fails nothing
    report = _engine(store, servers, 30.0).run([source])[source]
    if not report.ok:
        raise RuntimeError(f"undisturbed sync of {source} failed: {report.error}")
    if report.status is not RunStatus.SUCCEEDED:  # pragma: no cover - ok implies it
        raise RuntimeError(report.status)


def _engine(store: Store, servers: _Servers, read_timeout: float) -> SyncEngine:
    tables = servers.tables(read_timeout)
    config = parse_config({"connectors": tables}, env={"PVOG_SECRET": SECRET})
    return SyncEngine(store, servers.registry, config, lock_timeout=60)


# -- the fakes -----------------------------------------------------------------------------------


class _Servers:
    """The three fakes behind fault injectors, served on 127.0.0.1, and their data."""

    def __init__(self, rng: random.Random, *, events: int) -> None:
        self.rng = rng
        self.pvog = FakePvog(
            PvogDataset(seed=rng.randrange(1000), zustaendigkeiten=events, invalid=events // 50),
            page_size=5,
            client_id="campaign",
            client_secret=SECRET,
        )
        self.feed = self.pvog.events
        self.pvog.events = ()
        self.routing = RoutingApiFake(page_limit=2)
        self.dashboard = DashboardApiFake()
        for n, ars in enumerate(THUERINGEN):
            self.dashboard.add_area(ars, f"Gemeinde {n}")
        self.injectors = {
            "pvog": FaultInjector(self.pvog, rng, stall=STALL),
            "routing": FaultInjector(self.routing, rng, stall=STALL),
            "dashboard": FaultInjector(self.dashboard, rng, stall=STALL),
        }
        self.urls: dict[str, str] = {}
        self.registry: PluginRegistry = isolated_registry()
        for plugin, name in (
            (efa_pvog.plugin, "pvog"),
            (efa_fitconnect.plugin, "fitconnect"),
            (efa_dashboard.plugin, "dashboard"),
        ):
            self.registry.register(plugin, name=name)
        self._stack = contextlib.ExitStack()

    def __enter__(self) -> _Servers:
        for name, app in self.injectors.items():
            self.urls[name] = self._stack.enter_context(serve_asgi(app))
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def tables(self, read_timeout: float) -> dict[str, dict[str, Any]]:
        """The ``[connectors.*]`` tables of the three sources."""
        http = {
            "read_timeout": read_timeout,
            "attempts": ATTEMPTS,
            "initial_backoff": 0,
            "max_backoff": 0,
            "max_retry_after": 2,
            "rate_limit_per_second": 10_000,
        }
        return {
            "pvog": {
                "type": "pvog",
                "base_url": self.urls["pvog"],
                "auth_url": self.urls["pvog"] + self.pvog.token_path,
                "client_id": "campaign",
                "client_secret": "${PVOG_SECRET}",
                "http": http,
            },
            "routing": {
                "type": "fitconnect",
                "base_url": self.urls["routing"] + "/v1",
                "pairs": [f"{key}@{ars}" for key in LEIKA[:2] for ars in THUERINGEN[:2]],
                "use_store": False,
                "page_size": 2,
                "max_delete_share": 1.0,  # a round may replace most routes
                "http": http,
            },
            "dashboard": {
                "type": "dashboard",
                "base_url": self.urls["dashboard"],
                "scopes": ["16"],
                "page_size": 3,
                "max_delete_share": 1.0,
                "http": http,
            },
        }

    def change(self, source: str, rng: random.Random) -> None:
        """Give *source* a new version of its data."""
        if source == "pvog":
            grow = rng.randint(10, 40)
            self.pvog.events = self.feed[: len(self.pvog.events) + grow]
        elif source == "routing":
            for key in LEIKA[:2]:
                for ars in THUERINGEN[:2]:
                    routes = self.routing.routes.setdefault((key, "ars", ars), [])
                    make = functools.partial(self._route, key, ars, rng)
                    _churn(routes, rng, 9, make, "destinationName")
        else:
            _churn(self.dashboard.rows, rng, 45, lambda: self._row(rng), "online_status")

    def _route(self, key: str, ars: str, rng: random.Random) -> dict[str, Any]:
        destination = uuid.UUID(int=rng.getrandbits(128), version=4)
        route = self.routing.add_route(
            key,
            ars,
            destination_id=destination,
            name=f"Amt {rng.randint(0, 99)}",
            privacyPolicyUrl=f"https://amt{rng.randint(0, 9)}.example/datenschutz",
        )
        self.routing.routes[key, "ars", ars].remove(route)  # _churn places it
        return route

    def _row(self, rng: random.Random) -> dict[str, Any]:
        row = self.dashboard.add_row(
            rng.choice(LEIKA),
            rng.choice(THUERINGEN),
            url=f"https://dienst{rng.randint(0, 10**6)}.example/antrag",
            online_status=rng.choice(["ok", "nicht ok"]),
        )
        self.dashboard.rows.remove(row)  # _churn places it
        return row


def _churn(
    items: list[dict[str, Any]],
    rng: random.Random,
    size: int,
    make: Callable[[], dict[str, Any]],
    field: str,
) -> None:
    """Drop some of *items*, change *field* of some, add new ones up to about *size*."""
    drop = rng.choice([0.0, 0.1, 0.3])
    kept = []
    for item in items:
        roll = rng.random()
        if roll < drop:
            continue
        if roll < drop + 0.15:
            item[field] = _changed(item[field])
        kept.append(item)
    while len(kept) < rng.randint(size // 2, size):
        kept.insert(rng.randrange(len(kept) + 1), make())
    items[:] = kept


def _changed(value: Any) -> Any:
    if value == "ok":
        return "nicht ok"
    if value == "nicht ok":
        return "ok"
    return f"{value}'"


@contextlib.contextmanager
def _silenced() -> Iterator[None]:
    """Keep the expected warnings and errors of disturbed runs off the console."""
    names = ("efa_core", "efa_pvog", "efa_fitconnect", "efa_dashboard", "uvicorn.error", "stamina")
    loggers = [logging.getLogger(name) for name in names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)
