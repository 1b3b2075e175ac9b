"""``history --prefix`` is byte-wise and case-sensitive, also on an ICU ``de-DE`` database.

With the database's linguistic collation, ``Abc`` used to match ``Äbc-3`` and ``ABC-4``
(issue 14 §1).  The store compares keys byte-wise on both backends.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import pytest

from efa_core.store import RunMode, Store, open_store, prepare
from efa_core.store._store import _after_prefix

from .helpers import service

KEYS = ["Abc-1", "Abc-2", "Abc", "Abd", "Äbc-3", "ABC-4", "abc-5", "Ab", "Abc\U0010ffff"]


@pytest.fixture(params=["sqlite", "postgresql-icu-de"])
def keyed_store(request: pytest.FixtureRequest, tmp_path) -> Iterator[Store]:
    if request.param == "sqlite":
        with open_store(f"sqlite:///{tmp_path / 'efa.db'}") as store:
            yield store
        return
    import psycopg

    server = request.getfixturevalue("postgres_server")
    name = "efa_icu_" + uuid.uuid4().hex[:10]
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(
            f"CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8'"
            " LOCALE_PROVIDER icu ICU_LOCALE 'de-DE' LOCALE 'C.UTF-8'"
        )
    parts = urlsplit(server)
    url = urlunsplit(parts._replace(path=f"/{name}"))
    try:
        with open_store(url) as store:
            row = store.backend.fetchone(
                "SELECT datlocprovider FROM pg_database WHERE datname = ?", (name,)
            )
            assert row == ("i",), "the database uses ICU"
            yield store
    finally:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE {name} WITH (FORCE)")


def test_prefix_search_is_byte_wise_and_case_sensitive(keyed_store: Store) -> None:
    store = keyed_store
    run = store.begin_run("s", RunMode.CHANGE_FEED).run_id
    changes = [prepare(service(key)) for key in KEYS]
    store.apply(run, "s", changes, cursor="1", mode=RunMode.CHANGE_FEED)
    found = sorted(e.natural_key for e in store.history(key_prefix="Abc"))
    assert found == sorted(["Abc", "Abc-1", "Abc-2", "Abc\U0010ffff"])
    assert [e.natural_key for e in store.history(key_prefix="Ä")] == ["Äbc-3"]
    assert [e.natural_key for e in store.history(key_prefix="abc")] == ["abc-5"]


def test_the_bound_after_a_prefix() -> None:
    assert _after_prefix("Abc") == "Abd"
    assert _after_prefix("a\U0010ffff") == "b"
    assert _after_prefix("\U0010ffff") is None
    assert _after_prefix("\ud7ff") == "\ue000"
