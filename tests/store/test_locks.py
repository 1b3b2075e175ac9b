"""A killed client leaves no lock behind (issue 14 §1, PostgreSQL).

The server ends the session of a client that is gone, also while it runs a long statement
(``client_connection_check_interval``), so the advisory lock of its source is released and
the next sync can start.  Before, the session ran on until its statement ended and the next
sync said "being synced by another process".
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from efa_core.store import open_store

from .conftest import postgres_schema

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")

HOLDER = Path(__file__).with_name("lock_holder.py")


def test_the_lock_of_a_killed_client_is_released(postgres_server: str) -> None:
    with postgres_schema(postgres_server) as url:
        open_store(url).close()  # migrate first: the holder only holds the lock
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
        proc = subprocess.Popen(
            [sys.executable, str(HOLDER), url, "notes"], stdout=subprocess.PIPE, env=env
        )
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == b"locked"
        time.sleep(0.5)  # inside pg_sleep now
        with open_store(url) as store:
            assert not store.try_lock_source("notes"), "held while the client lives"
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
            proc.stdout.close()
            # The server notices within its check interval (2 s); allow for a busy machine,
            # far below the 600 s the statement would have run.
            deadline = time.monotonic() + 60
            while not store.try_lock_source("notes"):
                assert time.monotonic() < deadline, "the killed client's session holds the lock"
                time.sleep(0.2)
            running = store.backend.fetchone(
                "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(600)%'"
            )
            assert running == (0,), "the killed client's statement no longer runs"
