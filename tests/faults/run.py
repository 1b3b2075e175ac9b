"""The standing fault campaign: ``python tests/faults/run.py [--short] [--only NAME,...]``.

Runs every ``campaign_*.py`` module of this folder (``nox -s faults``; ``--short`` is the
version ``.ci/run`` runs).  A campaign module defines::

    NAME = "kills"                        # how --only and the summary name it
    def run(env: Environment) -> Result:  # the campaign, on the backends env names

and returns a :class:`Result`: what it did (``counts``, e.g. kills per backend), and every
divergence from an undisturbed run in ``failures``.  Adding a campaign is adding a module.
The summary is printed as a table and written as JSON (``--out``); the exit status is 1 if
any campaign failed or did less than it promised (``Result.minimums``).

PostgreSQL: ``EFA_TEST_POSTGRES_URL`` names a server, otherwise a throwaway cluster is
started from the PostgreSQL binaries, as the store tests do.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
for path in (str(HERE), str(ROOT)):
    if path not in sys.path:
        sys.path.insert(0, path)


@attrs.define
class Result:
    """What a campaign did and where it diverged."""

    name: str
    #: counters by name, e.g. ``{"sqlite/kills": 110, "postgresql/kills": 108}``
    counts: dict[str, int] = attrs.field(factory=dict)
    #: every divergence from an undisturbed run, described for people
    failures: list[str] = attrs.field(factory=list)
    #: counters that must reach a number, e.g. ``{"sqlite/kills": 100}``
    minimums: dict[str, int] = attrs.field(factory=dict)
    seconds: float = 0.0

    def add(self, counter: str, n: int = 1) -> None:
        """Count *n* more of *counter*."""
        self.counts[counter] = self.counts.get(counter, 0) + n

    @property
    def shortfalls(self) -> list[str]:
        """The counters that stayed below their minimum."""
        return [
            f"{name}: {self.counts.get(name, 0)} < {least}"
            for name, least in self.minimums.items()
            if self.counts.get(name, 0) < least
        ]

    @property
    def ok(self) -> bool:
        """Whether the campaign passed."""
        return not self.failures and not self.shortfalls


@attrs.define
class Environment:
    """What a campaign gets: size, backends, a seed, a work folder and fresh databases."""

    short: bool
    backends: list[str]
    seed: int
    workdir: Path
    _server: str | None = None
    _stack: contextlib.ExitStack = attrs.field(factory=contextlib.ExitStack)

    def postgres(self) -> str:
        """The URL of the PostgreSQL server (started on first use)."""
        if self._server is None:
            url = os.environ.get("EFA_TEST_POSTGRES_URL")
            if not url:
                from tests.store.conftest import _cluster

                url = self._stack.enter_context(_cluster())
            self._server = url
        return self._server

    @contextlib.contextmanager
    def database(self, backend: str, name: str) -> Iterator[str]:
        """Yield the URL of a fresh, empty store on *backend*."""
        if backend == "sqlite":
            folder = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=self.workdir))
            yield f"sqlite:///{folder / 'efa.db'}"
            return
        from tests.store.conftest import postgres_schema

        with postgres_schema(self.postgres()) as url:
            yield url

    def close(self) -> None:
        """Stop what the environment started."""
        self._stack.close()


def campaigns() -> list[Any]:
    """Import every ``campaign_*.py`` module of this folder, sorted by name."""
    return [importlib.import_module(path.stem) for path in sorted(HERE.glob("campaign_*.py"))]


def main(argv: list[str] | None = None) -> int:
    """Run the campaigns; print and write the summary; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="the short version for CI")
    parser.add_argument("--only", default="", help="comma-separated campaign names")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--seed", type=int, default=int(time.time()) % 100_000)
    parser.add_argument("--out", default=str(Path(tempfile.gettempdir()) / "efa-faults.json"))
    args = parser.parse_args(argv)
    only = {n for n in args.only.split(",") if n}
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="efa-faults-") as tmp:
        env = Environment(
            short=args.short,
            backends=args.backends.split(","),
            seed=args.seed,
            workdir=Path(tmp),
        )
        try:
            for module in campaigns():
                if only and module.NAME not in only:
                    continue
                print(f"== {module.NAME} (seed {args.seed})", flush=True)
                started = time.monotonic()
                try:
                    result = module.run(env)
                except Exception:
                    result = Result(module.NAME, failures=[traceback.format_exc()])
                result.seconds = time.monotonic() - started
                results.append(result)
                for failure in result.failures[:10]:
                    print(f"   FAILED: {failure}", flush=True)
        finally:
            env.close()
    width = max([len(r.name) for r in results] + [8])
    print(f"\n{'CAMPAIGN':{width}}  STATUS  SECONDS  COUNTS")
    for r in results:
        counts = ", ".join(f"{k} {v}" for k, v in sorted(r.counts.items()))
        status = "ok" if r.ok else "FAILED"
        print(f"{r.name:{width}}  {status:6}  {r.seconds:7.0f}  {counts}")
        for shortfall in r.shortfalls:
            print(f"{'':{width}}  too few: {shortfall}")
    summary = {
        "seed": args.seed,
        "short": args.short,
        "campaigns": [attrs.asdict(r) | {"ok": r.ok} for r in results],
    }
    Path(args.out).write_text(json.dumps(summary, indent=2))
    print(f"written to {args.out}")
    return 0 if results and all(r.ok for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
