"""A sync process for the fault campaigns: ``python worker.py SPEC.json``.

The spec names the store URL, the ``[connectors.*]`` tables and the sources to sync.  Prints
``ready`` once connected, then a line per progress event; a campaign kills it with SIGKILL
at a moment it chooses.  Exits 0 if every source's run succeeded.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from _faults import config, registry

from efa_core.store import open_store
from efa_core.sync import SyncEngine


def main(spec_path: str) -> int:
    spec = json.loads(Path(spec_path).read_text())
    with open_store(spec["url"]) as store:
        print("ready", flush=True)
        engine = SyncEngine(
            store,
            registry(),
            config(spec["tables"]),
            lock_timeout=120,
            progress=lambda p: print(p.source, p.event, p.batches, flush=True),
        )
        report = engine.run(spec["sources"])
    print("done" if report.ok else "failed", flush=True)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
