"""Hold a source's sync lock in a long statement: ``python lock_holder.py URL SOURCE``.

Prints ``locked`` once it holds the lock, then runs a statement that would take ten minutes
(as a huge snapshot completion would).  The test kills it with SIGKILL.
"""

from __future__ import annotations

import sys

from efa_core.store import open_store


def main(url: str, source: str) -> None:
    with open_store(url) as store:
        assert store.try_lock_source(source)
        print("locked", flush=True)
        store.backend.execute("SELECT pg_sleep(600)")


if __name__ == "__main__":
    main(*sys.argv[1:])
