"""Fixtures of the store and sync tests: a store per backend (SQLite and PostgreSQL).

PostgreSQL: ``EFA_TEST_POSTGRES_URL`` names a server to use; otherwise a throwaway cluster
is started for the session from the PostgreSQL binaries found (``pg_ctl`` on PATH or
``/usr/lib/postgresql/<version>/bin``), on 127.0.0.1 and a free port, and removed after.
Each test gets its own schema.  Without binaries the postgresql parameters are skipped,
except under ``CI``, where that is an error.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from efa_core.store import Store, open_store

BACKENDS = ["sqlite", "postgresql"]


def _pg_bin() -> Path | None:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).parent
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    return Path(candidates[-1]).parent if candidates else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_postgres(cmd: list[str]) -> list[str]:
    """initdb refuses to run as root: run the command as the ``postgres`` OS user then."""
    if os.geteuid() != 0:
        return cmd
    runuser = shutil.which("runuser")
    if runuser:
        return [runuser, "-u", "postgres", "--", *cmd]
    return ["su", "postgres", "-s", "/bin/sh", "-c", " ".join(map(quote_shell, cmd))]


def quote_shell(arg: str) -> str:
    return "'" + arg.replace("'", "'\\''") + "'"


@contextlib.contextmanager
def _cluster() -> Iterator[str]:
    bindir = _pg_bin()
    if bindir is None:
        raise LookupError("PostgreSQL binaries not found (pg_ctl)")
    base = Path(tempfile.mkdtemp(prefix="efa-pg-"))
    data, log = base / "data", base / "server.log"
    if os.geteuid() == 0:
        shutil.chown(base, user="postgres")
        base.chmod(0o700)
    port = _free_port()
    try:
        subprocess.run(
            _as_postgres(
                [
                    str(bindir / "initdb"),
                    "-D",
                    str(data),
                    "-U",
                    "postgres",
                    "-A",
                    "trust",
                    "-E",
                    "UTF8",
                    "--no-sync",
                    "--no-instructions",
                ]
            ),
            check=True,
            capture_output=True,
        )
        opts = (
            f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off"
            " -c synchronous_commit=off -c full_page_writes=off -c max_connections=100"
        )
        subprocess.run(
            _as_postgres(
                [
                    str(bindir / "pg_ctl"),
                    "-D",
                    str(data),
                    "-l",
                    str(log),
                    "-o",
                    opts,
                    "-w",
                    "-t",
                    "60",
                    "start",
                ]
            ),
            check=True,
            capture_output=True,
        )
        try:
            yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
        finally:
            subprocess.run(
                _as_postgres(
                    [str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]
                ),
                check=False,
                capture_output=True,
            )
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """The URL of a PostgreSQL server for the tests (skip, or fail under CI, without one)."""
    url = os.environ.get("EFA_TEST_POSTGRES_URL")
    if url:
        yield url
        return
    try:
        cm = _cluster()
        server = cm.__enter__()
    except (LookupError, subprocess.CalledProcessError, OSError) as exc:
        detail = getattr(exc, "stderr", b"") or b""
        message = f"no PostgreSQL for the tests: {exc} {detail.decode(errors='replace')}"
        if os.environ.get("CI"):
            pytest.fail(message + " (CI must test PostgreSQL: install postgresql)")
        pytest.skip(message)
    try:
        yield server
    finally:
        cm.__exit__(None, None, None)


@contextlib.contextmanager
def postgres_schema(server: str) -> Iterator[str]:
    """Create a fresh schema on *server*; yield a URL whose search_path is that schema."""
    import psycopg

    name = "t_" + uuid.uuid4().hex[:12]
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {name}")
    sep = "&" if "?" in server else "?"
    try:
        yield f"{server}{sep}options={quote(f'-csearch_path={name}')}"
    finally:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {name} CASCADE")


@pytest.fixture(params=BACKENDS)
def backend_name(request: pytest.FixtureRequest) -> str:
    """The backend under test: ``sqlite`` or ``postgresql``."""
    return str(request.param)


@pytest.fixture
def store_url(backend_name: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """A URL of an empty store on the backend under test."""
    if backend_name == "sqlite":
        yield f"sqlite:///{tmp_path / 'efa.db'}"
        return
    server = request.getfixturevalue("postgres_server")
    with postgres_schema(server) as url:
        yield url


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    """An open, migrated, empty store on the backend under test."""
    with open_store(store_url) as opened:
        yield opened
