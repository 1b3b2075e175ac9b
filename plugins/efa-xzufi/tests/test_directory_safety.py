"""The export directory: no reading through symbolic links out of it, true messages for
FIFOs and other non-regular files."""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest
from efa_xzufi import TransferMessageReader, XZuFiFormatError
from efa_xzufi.connector import XZuFiDirConfig, XZuFiDirConnector

from efa_core.connectors import check_sync, pull_sync
from efa_core.errors import ConnectorError

EXPORT = Path(__file__).parent / "fixtures" / "export"
FIRST = "XZUFI20260301060000000000000001.xml"
SECOND = "XZUFI20260302060000000000000002.xml"
SECRET = "TOP-SECRET-d41d8cd9"

needs_symlinks = pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symlinks")
needs_fifos = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs")


def make(path: Path, **options: object) -> XZuFiDirConnector:
    return XZuFiDirConnector(XZuFiDirConfig(path=str(path), **options), name="lrs-th")


@pytest.fixture
def export(tmp_path: Path) -> Path:
    target = tmp_path / "export"
    shutil.copytree(EXPORT, target)
    return target


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A directory beside the export with a secret file and a valid message."""
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secret.txt").write_text(f"{SECRET}\n", encoding="utf-8")
    shutil.copy(EXPORT / SECOND, folder / SECOND)
    return folder


def refused(connector: XZuFiDirConnector) -> str:
    with pytest.raises(ConnectorError) as raised:
        list(pull_sync(connector))
    message = str(raised.value)
    assert SECRET not in message
    return message


@needs_symlinks
def test_a_listed_file_linking_out_is_refused(export, outside):
    (export / SECOND).unlink()
    (export / SECOND).symlink_to(outside / SECOND)
    message = refused(make(export))
    assert f"index.txt lists {SECOND!r}, but" in message
    assert "leads out of the export directory" in message
    assert "follow_symlinks = true" in message
    # allowed when asked for
    batches = list(pull_sync(make(export, follow_symlinks=True)))
    assert batches[-1].complete


@needs_symlinks
def test_a_linked_secret_never_reaches_an_error(export, outside):
    (export / SECOND).unlink()
    (export / SECOND).symlink_to(outside / "secret.txt")
    refused(make(export))
    # even when links are followed, the content is not quoted
    with pytest.raises(ConnectorError) as raised:
        list(pull_sync(make(export, follow_symlinks=True)))
    assert SECRET not in str(raised.value)


@needs_symlinks
def test_a_subdirectory_linking_out_is_refused(export, outside):
    (export / "teil").symlink_to(outside, target_is_directory=True)
    (export / "index.txt").write_text(f"{FIRST}\nteil/{SECOND}\n", encoding="utf-8")
    message = refused(make(export))
    assert f"lists 'teil/{SECOND}'" in message
    assert "leads out of the export directory" in message


@needs_symlinks
def test_an_index_linking_out_is_refused_and_never_read(export, outside):
    (export / "index.txt").unlink()
    (export / "index.txt").symlink_to(outside / "secret.txt")
    message = refused(make(export))
    assert "index.txt' is a symbolic link" in message
    result = check_sync(make(export))
    assert not result.ok
    assert SECRET not in result.detail


@needs_symlinks
def test_links_inside_the_directory_are_fine(export):
    (export / "aktuell.xml").symlink_to(export / SECOND)
    (export / "index.txt").write_text(f"{FIRST}\naktuell.xml\n", encoding="utf-8")
    batches = list(pull_sync(make(export)))
    assert batches[-1].complete


@needs_symlinks
def test_a_dangling_link_is_named_as_such(export):
    (export / SECOND).unlink()
    (export / SECOND).symlink_to(export / "gone.xml")
    assert "a symbolic link to nothing (a dangling link)" in refused(make(export))


@needs_fifos
def test_a_fifo_in_place_of_a_file_gets_a_true_message(export):
    (export / SECOND).unlink()
    os.mkfifo(export / SECOND)
    result: list[str] = []
    thread = threading.Thread(target=lambda: result.append(refused(make(export))), daemon=True)
    thread.start()
    thread.join(10)
    assert not thread.is_alive(), "reading a FIFO must not hang"
    [message] = result
    assert "is a FIFO (named pipe), not a regular file" in message
    assert "does not exist" not in message


@needs_fifos
def test_a_fifo_as_index_gets_a_true_message(export):
    (export / "index.txt").unlink()
    os.mkfifo(export / "index.txt")
    result: list[str] = []
    thread = threading.Thread(target=lambda: result.append(refused(make(export))), daemon=True)
    thread.start()
    thread.join(10)
    assert not thread.is_alive(), "reading a FIFO must not hang"
    assert "index.txt' is a FIFO (named pipe), not a regular file" in result[0]


def test_a_directory_in_place_of_a_file(export):
    (export / SECOND).unlink()
    (export / SECOND).mkdir()
    assert "is a directory, not a regular file" in refused(make(export))


@needs_fifos
def test_the_reader_refuses_a_fifo_path_without_blocking(tmp_path):
    fifo = tmp_path / "pipe.xml"
    os.mkfifo(fifo)
    with pytest.raises(XZuFiFormatError, match=r"pipe\.xml: is a FIFO \(named pipe\)"):
        list(TransferMessageReader(fifo, name="pipe.xml"))
