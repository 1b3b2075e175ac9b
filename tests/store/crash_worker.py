"""A sync process for the crash tests: ``python crash_worker.py URL FILE BATCH_SIZE [DELAY]``.

Prints ``ready`` once imported and connected, then syncs the records file into the store,
printing a line per progress event (and sleeping *DELAY* seconds after each, if given).
The test kills it with SIGKILL at a random moment.
"""

from __future__ import annotations

import sys
import time

from efa_core.config import parse_config
from efa_core.plugins import PluginRegistry
from efa_core.store import open_store
from efa_core.sync import SyncEngine


def main(url: str, path: str, batch_size: str, delay: str = "0") -> int:
    pause = float(delay)

    def progress(event: object) -> None:
        print(getattr(event, "event", ""), getattr(event, "batches", ""), flush=True)
        if pause:
            time.sleep(pause)

    config = parse_config(
        {
            "connectors": {
                "notes": {"type": "records-file", "path": path, "batch_size": int(batch_size)}
            }
        },
        env={},
    )
    with open_store(url) as store:
        print("ready", flush=True)
        report = SyncEngine(
            store,
            PluginRegistry(entrypoints=False, env={}),
            config,
            lock_timeout=30,
            progress=progress,
        ).run()
    print("done" if report.ok else f"failed: {report['notes'].error}", flush=True)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
