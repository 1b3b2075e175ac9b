"""A store opened for reading creates and changes nothing, also on a read-only mount (issue 14 §4).

``efa status`` on a database on a read-only mount failed with "unable to open database
file" (SQLite was opened for writing and switched to WAL), and every reading command
migrated the schema of the store it read.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from efa_core.cli import main
from efa_core.errors import EfaError
from efa_core.plugins import PluginRegistry
from efa_core.store import LATEST_VERSION, SchemaError, open_store

NOTES = (
    '{"kind": "service", "key": "anmeldung", "name": "Anmeldung", '
    '"leika_keys": ["99115005104000"]}\n'
    '{"kind": "availability", "leika_key": "99115005104000", "ars": "16055", "online": true}\n'
    '{"kind": "area", "ars": "16", "name": "Thüringen"}\n'
    '{"kind": "area", "ars": "1605"}\n'  # quarantined: an ARS of 4 digits
)

#: The commands that read (the first four never derive the rollout view).
READING = [
    ["status"],
    ["status", "--json"],
    ["history", "16"],
    ["quarantine", "--all"],
    ["findings"],
    ["coverage", "anmeldung"],
    ["explain", "service", "anmeldung"],
    ["report", "--format", "csv"],
    ["report", "--format", "json"],
]


def _efa(*args: str) -> tuple[int, str]:
    registry = PluginRegistry(entrypoints=False, env={})
    result = CliRunner().invoke(main, list(args), obj=registry)
    return result.exit_code, re.sub(r'"generated_at": "[^"]*"', "", result.output)


def _digest(folder: Path) -> dict[str, str]:
    """The files of *folder* and their contents; SQLite's WAL index left out.

    A read-only connection to a WAL database in a writable folder makes the WAL index
    (``-shm``) and an empty WAL beside it, and cannot remove them when it closes.
    """
    found = {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.iterdir())
        if p.is_file() and not p.name.endswith("-shm")
    }
    if found.get("efa.db-wal") == hashlib.sha256(b"").hexdigest():
        del found["efa.db-wal"]
    return found


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder with efa.toml, notes.jsonl and a synced efa.db (closed, WAL checkpointed)."""
    folder = tmp_path / "project"
    folder.mkdir()
    monkeypatch.chdir(folder)
    for name in ("EFA_DB", "EFA_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    (folder / "notes.jsonl").write_text(NOTES, encoding="utf-8")
    (folder / "efa.toml").write_text(
        '[store]\nurl = "sqlite:///efa.db"\n\n'
        '[connectors.notes]\ntype = "records-file"\npath = "notes.jsonl"\n',
        encoding="utf-8",
    )
    code, out = _efa("sync")
    assert code == 0, out
    return folder


def _mount_read_only(source: Path, target: Path) -> None:
    target.mkdir()
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a folder read-only needs root")
    done = subprocess.run(["mount", "--bind", str(source), str(target)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot bind-mount here: {done.stderr.decode(errors='replace')}")
    subprocess.run(["mount", "-o", "remount,bind,ro", str(target)], check=True)


@pytest.fixture
def read_only_project(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """*project* mounted read-only at another place (the working directory)."""
    target = tmp_path / "mounted"
    _mount_read_only(project, target)
    try:
        monkeypatch.chdir(target)
        yield target
    finally:
        monkeypatch.chdir(tmp_path)
        subprocess.run(["umount", str(target)], check=True)


@pytest.mark.parametrize("command", READING, ids=" ".join)
def test_reading_commands_work_on_a_read_only_mount(
    read_only_project: Path, project: Path, command: list[str]
) -> None:
    with pytest.raises(OSError, match="Read-only file system"):
        (read_only_project / "probe").touch()
    before = _digest(project)
    code, out = _efa(*command)
    assert code == 0, out
    assert _digest(project) == before
    # the same as on the writable original (the derived view is derived afresh in memory)
    os.chdir(project)
    assert _efa(*command) == (code, out)


def test_status_history_quarantine_change_nothing_in_the_file(project: Path) -> None:
    before = _digest(project)
    for command in READING[:4]:
        code, out = _efa(*command)
        assert code == 0, out
    assert _digest(project) == before


def test_where_the_file_is_writable_the_derived_view_is_kept(project: Path) -> None:
    code, out = _efa("report", "--format", "csv")
    assert code == 0, out
    connection = sqlite3.connect(project / "efa.db")
    try:
        (rows,) = connection.execute("SELECT COUNT(*) FROM rollout_rows").fetchone()
    finally:
        connection.close()
    assert rows == 1  # the next command derives only what changed


def test_read_only_store_creates_nothing(tmp_path: Path) -> None:
    target = tmp_path / "typo" / "efa.db"
    with pytest.raises(EfaError, match=r"no SQLite database at .*does not exist"):
        open_store(f"sqlite:///{target}", read_only=True)
    assert not (tmp_path / "typo").exists()


def test_writing_through_a_read_only_store_fails(project: Path) -> None:
    from efa_core.store import RunMode

    with open_store("efa.db", read_only=True) as store:
        assert store.backend.read_only
        assert store.count() == 3
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            store.begin_run("other", RunMode.CHANGE_FEED)


def test_read_only_never_creates_or_migrates_a_schema(store_url: str) -> None:
    if store_url.startswith("sqlite"):
        Path(store_url.removeprefix("sqlite:///")).touch()  # an empty file
    with pytest.raises(SchemaError, match=r"schema version 0 \(no efa-core schema\)") as raised:
        open_store(store_url, read_only=True)
    assert raised.value.outdated
    with open_store(store_url) as store:
        assert store.schema_version() == LATEST_VERSION
    with open_store(store_url, read_only=True) as store:
        assert store.schema_version() == LATEST_VERSION
        assert store.sources() == []
