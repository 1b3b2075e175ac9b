"""The ``dashboard-file`` connector: saved OZG-Dashboard answers, read without network."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from efa_dashboard import DashboardFileConfig, DashboardFileConnector

from efa_core.config import build_connector, parse_config
from efa_core.connectors import Batch, Upsert, pull_sync
from efa_core.errors import ConfigError, ConnectorError, SourceNotUnderstood
from efa_core.testing.accounting import assert_accounted
from efa_core.testing.conformance import ConnectorConformance

DATA = Path(__file__).parent / "data"
PAGES = DATA / "dashboard_pages_bom.json"


def connector(path: Path, scopes: tuple[str, ...] = ("16",), batch_size: int = 2):
    config = DashboardFileConfig(path=str(path), scopes=scopes, batch_size=batch_size)
    return DashboardFileConnector(config, name="dashboard-file")


def pull(c: DashboardFileConnector, cursor: str | None = None) -> list[Batch]:
    return list(pull_sync(c, cursor))


class TestDashboardFile(ConnectorConformance):
    @pytest.fixture
    def connector(self):
        return connector(PAGES)

    @pytest.fixture
    def failing_connector(self, tmp_path: Path):
        return connector(tmp_path / "missing.json")


def test_saved_pages_with_bom_every_row_accounted() -> None:
    # 5 rows: 2 stored (Erfurt, Jena), 1 bad LeiKa key, 1 outside the scope, 1 repeat.
    c = connector(PAGES)
    assert_accounted(c, {"availability": 5})
    batches = pull(c)
    upserts = [u for b in batches for u in b.changes if isinstance(u, Upsert)]
    records = {u.record.ars.value: u.record for u in upserts}
    assert sorted(records) == ["16051", "16053"]
    assert records["16053"].url == "https://fuehrerschein.example.org/jena"
    assert records["16053"].online is False
    [bad] = [r for b in batches for r in b.rejected]
    assert bad.position == "dashboard_pages_bom.json row 4"
    assert bad.problems[0][0] == "$.leika_key"
    reasons = {s.reason: s.position for b in batches for s in b.skipped}
    assert reasons == {
        "outside the configured scopes": "dashboard_pages_bom.json row 3",
        "repeats a row already read in this snapshot": "dashboard_pages_bom.json row 5",
    }
    assert [b.complete for b in batches] == [False, False, True]


@pytest.mark.parametrize(
    "document",
    [
        "rows",
        "page",
        "pages",
    ],
)
def test_the_three_forms_give_the_same_records(tmp_path: Path, document: str) -> None:
    pages = json.loads(PAGES.read_text(encoding="utf-8-sig"))
    rows = [row for page in pages for row in page["content"]]
    content = {"rows": rows, "page": {"content": rows}, "pages": pages}[document]
    path = tmp_path / "saved.json"
    path.write_text(json.dumps(content), encoding="utf-8")
    keys = sorted(u.key for b in pull(connector(path)) for u in b.changes)
    assert len(keys) == 2
    assert all(key.startswith("99102013000000") for key in keys)


def test_the_scope_decides_the_reading_of_zero_filled_ars(tmp_path: Path) -> None:
    path = tmp_path / "weimar.json"
    row = {"leika_key": "99102013000000", "ars": "160550000000", "online_status": "ok"}
    path.write_text(json.dumps([row]), encoding="utf-8")
    [kreis] = [u.record for b in pull(connector(path)) for u in b.changes]
    assert kreis.ars.value == "16055"
    [gemeinde] = [u.record for b in pull(connector(path, ("160550000000",))) for u in b.changes]
    assert gemeinde.ars.value == "160550000000"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{not json", "is not JSON"),
        (b'{"rows": []}', "without a 'content' list"),
        (b'"a string"', "expected a JSON list"),
        ("[]".encode("utf-16"), "is not UTF-8"),
    ],
)
def test_a_file_not_understood_fails_and_is_never_an_empty_snapshot(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "odd.json"
    path.write_bytes(content)
    with pytest.raises(SourceNotUnderstood, match=message):
        pull(connector(path))


def test_limits_and_stale_cursors(tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    path.write_text(json.dumps([{"leika_key": "99102013000000", "ars": "16"}] * 3))
    small = DashboardFileConnector(
        DashboardFileConfig(path=str(path), scopes=("16",), max_file_bytes=10), name="d"
    )
    with pytest.raises(ConnectorError, match="more than max_file_bytes = 10"):
        pull(small)
    with pytest.raises(ConnectorError, match="lies beyond the 3 rows"):
        pull(connector(path), "9")
    with pytest.raises(ConnectorError, match="invalid cursor"):
        pull(connector(path), "x")
    assert [b.complete for b in pull(connector(path), "3")] == [True]


def test_configured_from_efa_toml(efa_registry, tmp_path: Path) -> None:
    from efa_dashboard import plugin

    efa_registry.register(plugin, "dashboard")
    config = parse_config(
        {"connectors": {"dash": {"type": "dashboard-file", "path": str(PAGES), "scopes": ["16"]}}},
        env={},
    )
    built = build_connector(efa_registry, "dash", config)
    assert isinstance(built, DashboardFileConnector)
    bad = parse_config(
        {"connectors": {"dash": {"type": "dashboard-file", "path": "x", "scopes": []}}}, env={}
    )
    with pytest.raises(ConfigError, match="scopes needs at least one ARS"):
        build_connector(efa_registry, "dash", bad)


def test_rows_changed_to_fit_are_summed_up_on_the_last_batch(tmp_path: Path) -> None:
    pages = json.loads(PAGES.read_text(encoding="utf-8-sig"))
    rows = [row for page in pages for row in page["content"]]
    for row in rows:
        row["url"] = row["url"].removeprefix("https://")
    path = tmp_path / "saved.json"
    path.write_text(json.dumps(rows), encoding="utf-8")
    batches = pull(connector(path))
    assert [list(b.warnings) for b in batches[:-1]] == [[]] * (len(batches) - 1)
    [line] = batches[-1].warnings
    assert line.endswith(
        "with a url without scheme, stored with https:// (first: saved.json row 1)"
    )
    upserts = [u.record for b in batches for u in b.changes if isinstance(u, Upsert)]
    assert all(r.url.startswith("https://") for r in upserts)


def test_a_url_that_is_none_never_costs_its_row(tmp_path: Path) -> None:
    def row(ars: str, url: str) -> dict[str, object]:
        return {"leika_key": "99102013000000", "leika_name": "Führerschein", "ars": ars, "url": url}

    path = tmp_path / "saved.json"
    rows = [
        row("160510000000", "nicht angegeben"),
        row("160530000000", "https://jena.example/fs"),
        row("160550000000", "folgt"),
    ]
    path.write_text(json.dumps({"content": rows}), encoding="utf-8")
    assert_accounted(connector(path), {"availability": 3})
    batches = pull(connector(path))
    assert [b.rejected for b in batches] == [()] * len(batches)
    urls = {u.record.ars.value: u.record.url for b in batches for u in b.changes}
    assert urls == {"16051": None, "16053": "https://jena.example/fs", "16055": None}
    assert (
        batches[-1]
        .warnings[-1]
        .endswith(
            "2 rows with a url that is no http(s) URL, stored without one (first: saved.json row 1)"
        )
    )
