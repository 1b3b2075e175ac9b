"""A credential in a store URL is never shown (issue 14 §3).

``?password=`` in a PostgreSQL URL was shown unmasked in the status header, the HTML and JSON
reports and connection errors; only the ``user:password@`` form was masked.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner

from efa_core.cli import main
from efa_core.errors import EfaError
from efa_core.store import mask_url, open_store

from .conftest import postgres_schema

SECRET = "Geheim-0815-xyz"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://efa:s3cret@db/efa", "postgresql://efa:***@db/efa"),
        (f"postgresql://db/efa?password={SECRET}", "postgresql://db/efa?password=***"),
        (
            f"postgresql://efa@db:5432/efa?sslmode=require&PassWord={SECRET}&application_name=x",
            "postgresql://efa@db:5432/efa?sslmode=require&PassWord=***&application_name=x",
        ),
        (f"postgres://db/efa?sslpassword={SECRET}", "postgres://db/efa?sslpassword=***"),
        (
            f"postgresql://efa:{SECRET}@db/efa?password={SECRET}",
            "postgresql://efa:***@db/efa?password=***",
        ),
        ("postgresql://:p%40ss@db/efa", "postgresql://:***@db/efa"),
        ("sqlite:///efa.db", "sqlite:///efa.db"),
        ("sqlite:////var/lib/efa.db", "sqlite:////var/lib/efa.db"),
        ("efa.db", "efa.db"),
    ],
)
def test_every_credential_form_of_a_url_is_masked(url: str, shown: str) -> None:
    assert mask_url(url) == shown


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize(
    ("user", "query"),
    [
        ("efa", f"password={SECRET}"),  # connection refused
        ("efa", f"password={SECRET}&bogus=1"),  # a malformed URL (psycopg.ProgrammingError)
        (f"efa:{SECRET}", "sslmode=wrong"),  # "connection is bad"
    ],
)
def test_connection_errors_never_show_the_password(user: str, query: str) -> None:
    pytest.importorskip("psycopg")
    url = f"postgresql://{user}@127.0.0.1:{_closed_port()}/efa?{query}"
    with pytest.raises(EfaError) as caught:
        open_store(url)
    assert "cannot connect to postgresql://efa" in str(caught.value)
    assert SECRET not in str(caught.value)
    # not chained: a traceback would print the original message
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__


def test_status_and_reports_never_show_a_password_in_the_query(
    postgres_server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("EFA_DB", raising=False)
    (tmp_path / "notes.jsonl").write_text(
        '{"kind": "area", "ars": "16", "name": "Thüringen"}\n', encoding="utf-8"
    )
    (tmp_path / "efa.toml").write_text(
        '[connectors.notes]\ntype = "records-file"\npath = "notes.jsonl"\n', encoding="utf-8"
    )
    with postgres_schema(postgres_server) as base:
        url = f"{base}&password={SECRET}"  # the test server trusts 127.0.0.1
        runner = CliRunner()
        outputs = []
        for args in (
            ["sync", "--db", url],
            ["status", "--db", url],
            ["status", "--db", url, "--json"],
            ["report", "--db", url, "--format", "json"],
            ["report", "--db", url, "--format", "html"],
            ["report", "--db", url, "--format", "table"],
        ):
            result = runner.invoke(main, args, catch_exceptions=False)
            assert result.exit_code == 0, result.output
            outputs.append(result.output)
        assert all(SECRET not in out for out in outputs)
        assert "password=***" in outputs[1]  # the status header names the store
        assert json.loads(outputs[3])["store"].endswith("password=***")
        assert "password=***" in outputs[4]
