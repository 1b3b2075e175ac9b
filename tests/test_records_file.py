"""The bundled records-file connector: the conformance suite plus its own semantics."""

from __future__ import annotations

import json
import os
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from efa_core.config import build_connector, parse_config
from efa_core.connectors import (
    Capability,
    Delete,
    Upsert,
    check_sync,
    key_hash,
    pull_sync,
    push_sync,
)
from efa_core.default_plugins.records_file import (
    RecordsFileConfig,
    RecordsFileConnector,
    _SeenKeys,
)
from efa_core.errors import ConfigError, ConnectorError
from efa_core.serialization import record_from_dict, record_to_dict
from efa_core.testing.accounting import assert_accounted
from efa_core.testing.conformance import ConnectorConformance

SERVICE = {
    "kind": "service",
    "key": "anmeldung",
    "name": "Wohnsitzanmeldung",
    "leika_keys": ["99115005104000"],
}
AREAS = [
    {"kind": "area", "ars": "16", "name": "Thüringen"},
    {"kind": "area", "ars": "16055", "name": "Erfurt", "parent": "16"},
    {"kind": "area", "ars": "16053", "name": "Jena", "parent": "16"},
    {"kind": "area", "ars": "16052", "name": "Gera", "parent": "16"},
]


def write_lines(path: Path, *lines: object) -> Path:
    text = "".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines)
    path.write_text(text, encoding="utf-8")
    return path


def connector_for(path: Path, batch_size: int = 1000) -> RecordsFileConnector:
    return RecordsFileConnector(
        RecordsFileConfig(path=str(path), batch_size=batch_size), name="own-notes"
    )


class TestRecordsFileConformance(ConnectorConformance):
    @pytest.fixture
    def connector(self, tmp_path: Path) -> RecordsFileConnector:
        path = write_lines(tmp_path / "notes.jsonl", SERVICE, *AREAS, "", "not json")
        return connector_for(path, batch_size=2)

    @pytest.fixture
    def failing_connector(self, tmp_path: Path) -> RecordsFileConnector:
        return connector_for(tmp_path / "missing.jsonl")

    @pytest.fixture
    def input_counts(self) -> dict[str, int]:
        # the fixture above: one service, four areas, a blank line, a line of no kind
        return {"service": 1, "area": 4, "blank-line": 1, "?": 1}


def test_is_registered_as_a_bundled_plugin(efa_registry) -> None:
    assert efa_registry.connector_class("records-file") is RecordsFileConnector
    assert RecordsFileConnector.capabilities == {Capability.SNAPSHOT, Capability.PUSH}


def test_pull_batches_cursor_and_rejections(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "notes.jsonl",
        SERVICE,
        "",
        "{not json",
        {"kind": "service", "key": "bad", "name": "x", "leika_keys": ["123"]},
        {"kind": "nonsense"},
        AREAS[0],
    )
    batches = list(pull_sync(connector_for(path, batch_size=2)))

    assert [(b.cursor, b.complete) for b in batches] == [("3", False), ("5", False), ("6", True)]
    changes = [c for b in batches for c in b.changes]
    assert [(c.kind, c.key) for c in changes] == [("service", "anmeldung"), ("area", "16")]
    rejected = [r for b in batches for r in b.rejected]
    assert [r.position for r in rejected] == [f"{path}:line {n}" for n in (3, 4, 5)]
    assert rejected[0].kind is None
    assert rejected[0].problems[0][1].startswith("invalid JSON")
    assert rejected[0].raw == "{not json"
    assert rejected[1].kind == "service"
    assert rejected[1].problems[0][0] == "$.leika_keys[0]"
    assert "'123'" in rejected[1].problems[0][1]
    assert rejected[2].problems[0][0] == "$.kind"


def test_duplicate_keys_are_rejected_also_after_resuming(tmp_path: Path) -> None:
    renamed = {**SERVICE, "name": "Anmeldung (Kopie)"}
    path = write_lines(tmp_path / "notes.jsonl", SERVICE, AREAS[0], renamed)
    full = list(pull_sync(connector_for(path, batch_size=2)))
    resumed = list(pull_sync(connector_for(path, batch_size=2), cursor=full[0].cursor))

    for batches in (full, resumed):
        rejected = [r for b in batches for r in b.rejected]
        assert len(rejected) == 1
        assert rejected[0].position.endswith(":line 3")
        assert "duplicate natural key 'anmeldung'" in rejected[0].problems[0][1]
        assert "line 1" in rejected[0].problems[0][1]


def test_a_batch_that_ends_the_file_is_complete(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "notes.jsonl", *AREAS)
    batches = list(pull_sync(connector_for(path, batch_size=2)))
    assert [(len(b.changes), b.cursor, b.complete) for b in batches] == [
        (2, "2", False),
        (2, "4", True),
    ]


def test_empty_file_is_one_complete_empty_batch(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "empty.jsonl")
    [batch] = pull_sync(connector_for(path))
    assert batch.changes == ()
    assert batch.complete
    assert batch.cursor == "0"


def test_missing_file_is_a_connector_error_naming_the_path(tmp_path: Path) -> None:
    path = tmp_path / "missing.jsonl"
    with pytest.raises(ConnectorError, match=r"missing.jsonl.*does not exist") as raised:
        list(pull_sync(connector_for(path)))
    assert "'own-notes'" in str(raised.value)
    result = check_sync(connector_for(path))
    assert not result.ok
    assert "missing.jsonl" in result.detail


@pytest.mark.parametrize("cursor", ["abc", "-1", "99"])
def test_bad_cursor_is_a_connector_error(tmp_path: Path, cursor: str) -> None:
    path = write_lines(tmp_path / "notes.jsonl", *AREAS)
    with pytest.raises(ConnectorError, match=f"cursor '{cursor}'"):
        list(pull_sync(connector_for(path), cursor=cursor))


def record(data: dict[str, object]):
    return record_from_dict(data)


def test_push_merges_and_keeps_other_lines(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "notes.jsonl", SERVICE, "# a note the user keeps", AREAS[0])
    os.chmod(path, 0o640)
    renamed = record({**SERVICE, "name": "Anmeldung neu"})
    result = push_sync(
        connector_for(path),
        [
            Upsert(renamed),
            Delete("area", "16"),
            Delete("area", "99"),
            Upsert(record(AREAS[1])),
            Upsert(record(AREAS[1])),
        ],
    )
    assert result.written == 3
    assert result.target == str(path)
    assert result.paths == (str(path),)
    assert result.messages == (
        "1 upserts left lines unchanged",
        "1 deletes of unknown keys ignored",
    )
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[1] == "# a note the user keeps"
    assert json.loads(lines[0]) == record_to_dict(renamed)
    assert json.loads(lines[2]) == record_to_dict(record(AREAS[1]))
    assert len(lines) == 3
    assert path.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["notes.jsonl"]  # no temp file left


def test_push_creates_a_missing_file_and_pull_reads_it_back(tmp_path: Path) -> None:
    path = tmp_path / "new.jsonl"
    records = [record(SERVICE), *(record(a) for a in AREAS)]
    result = push_sync(connector_for(path), [Upsert(r) for r in records])
    assert result.written == len(records)
    pulled = [c.record for b in pull_sync(connector_for(path)) for c in b.changes]
    assert pulled == records


def test_failed_replace_leaves_the_file_and_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_lines(tmp_path / "notes.jsonl", SERVICE)
    before = path.read_bytes()

    def broken_replace(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(ConnectorError, match=r"cannot replace .*disk full"):
        push_sync(connector_for(path), [Delete("service", "anmeldung")])
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["notes.jsonl"]


def test_built_from_efa_toml(efa_registry, tmp_path: Path) -> None:
    path = write_lines(tmp_path / "notes.jsonl", SERVICE)
    config = parse_config(
        {"connectors": {"own-notes": {"type": "records-file", "path": "${NOTES}"}}},
        env={"NOTES": str(path)},
    )
    connector = build_connector(efa_registry, "own-notes", config)
    assert isinstance(connector, RecordsFileConnector)
    assert connector.config == RecordsFileConfig(path=str(path))
    [batch] = pull_sync(connector)
    assert [c.kind for c in batch.changes] == ["service"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"path": "x", "batch_size": 0}, "batch_size must be at least 1, got 0"),
        ({"path": " "}, "path must not be empty"),
        ({"path": "x", "batchsize": 5}, "unknown key 'batchsize' (did you mean 'batch_size'?)"),
        ({}, "path: required field missing"),
    ],
)
def test_invalid_options_are_config_errors(efa_registry, options, message) -> None:
    config = parse_config({"connectors": {"notes": {"type": "records-file", **options}}}, env={})
    with pytest.raises(ConfigError) as raised:
        build_connector(efa_registry, "notes", config)
    assert "efa.toml [connectors.notes]" in str(raised.value)
    assert message in str(raised.value)


def test_a_line_that_is_not_utf8_is_rejected_alone(tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(json.dumps(SERVICE).encode() + b'\r\n{"name": "K\xf6ln"}\r\n')
    [batch] = pull_sync(connector_for(path))
    assert [c.key for c in batch.changes] == ["anmeldung"]  # CRLF line breaks are fine
    [rejected] = batch.rejected
    assert rejected.position == f"{path}:line 2"
    assert rejected.raw == '{"name": "K\ufffdln"}'
    assert rejected.problems[0][1].startswith("not UTF-8: 'utf-8' codec can't decode byte 0xf6")


# -- every line accounted for (issue 10 §4) ---------------------------------------------------


#: A notes file as people really keep one: saved by a Windows editor (BOM, CRLF), blank and
#: whitespace-only lines, a record that repeats a key, one that is no record, one cut off by
#: a bad copy, a name holding a line separator (U+2028) that JSON leaves unescaped.
def _line(data: dict[str, object]) -> str:
    return json.dumps(data, ensure_ascii=False)


MESSY = "\ufeff" + "\r\n".join(
    [
        _line(SERVICE),
        "",
        _line(AREAS[0]),
        "   \t ",
        _line({**AREAS[1], "name": "Erfurt\u2028Landeshauptstadt"}),
        _line({**AREAS[0], "name": "Thüringen (Kopie)"}),
        '{"kind": "area", "ars": "16053", "name": "Je',
        _line({"kind": "offer", "key": "x"}),
        "",
        "",
        "",
    ]
)


def _count_lines(data: bytes) -> dict[str, int]:
    """Classify the lines of *data* with the standard library, as a person reads them."""
    counts: dict[str, int] = {}
    for raw in data.removeprefix(b"\xef\xbb\xbf").split(b"\n")[:-1]:
        line = raw.decode("utf-8").strip()
        if not line:
            kind = "blank-line"
        else:
            try:
                kind = str(json.loads(line).get("kind", "?"))
            except json.JSONDecodeError:
                kind = "?"
        counts[kind] = counts.get(kind, 0) + 1
    return counts


@pytest.mark.parametrize("batch_size", [1, 2, 1000])
def test_every_line_of_a_messy_file_is_accounted_for(tmp_path: Path, batch_size: int) -> None:
    data = MESSY.encode("utf-8")
    path = tmp_path / "notes.jsonl"
    path.write_bytes(data)
    expected = _count_lines(data)
    assert expected == {"service": 1, "area": 3, "blank-line": 4, "?": 1, "offer": 1}
    accounting = assert_accounted(connector_for(path, batch_size=batch_size), expected)
    assert accounting.stored == {"service": 1, "area": 2}  # the BOM does not hide line 1
    assert accounting.quarantined == {"area": 1, "?": 1, "offer": 1}  # copy, cut, no record
    batches = list(pull_sync(connector_for(path, batch_size=batch_size)))
    names = {c.key: c.record.name for b in batches for c in b.changes}
    assert names["16055"] == "Erfurt\u2028Landeshauptstadt"
    first_blank = min(s.position for b in batches for s in b.skipped if s.position)
    assert first_blank == f"{path}:line 2"


def test_push_keeps_records_with_line_separators_whole(tmp_path: Path) -> None:
    path = tmp_path / "notes.jsonl"
    path.write_bytes(MESSY.encode("utf-8"))
    before = [c.record for b in pull_sync(connector_for(path)) for c in b.changes]
    push_sync(connector_for(path), [Upsert(record_from_dict(AREAS[2]))])
    after = [c.record for b in pull_sync(connector_for(path)) for c in b.changes]
    assert after == [*before, record_from_dict(AREAS[2])]
    assert not path.read_bytes().startswith(b"\xef\xbb\xbf")


@settings(max_examples=60)
@given(st.lists(st.integers(-(2**63), 2**63 - 1) | st.integers(0, 40), max_size=300))
def test_seen_keys_answer_like_a_dict(keys: list[int]) -> None:
    seen = _SeenKeys()
    seen._MAX_RECENT = 4  # merge often
    expected: dict[int, int] = {}
    for line, key in enumerate(keys, start=1):
        assert seen.setdefault(key, line) == expected.setdefault(key, line)
    assert len(seen) == len(expected)
    assert list(seen._hashes) == sorted(seen._hashes)


def test_seen_keys_cost_about_16_bytes_a_key() -> None:
    # Issue 15: the reader's duplicate check was a dict of every key (about 100 bytes a key,
    # most of a 1M-record sync's memory); the sorted arrays hold 16 bytes a key, plus the
    # recent keys' dict (at most _MAX_RECENT entries).  Merging the dict into the arrays
    # happens in place: the peak is not two copies of the arrays (32 bytes a key and more).
    n = 200_000
    tracemalloc.start()
    try:
        seen = _SeenKeys()
        seen._MAX_RECENT = 4096  # the dict small against the arrays, as at a million keys
        for line in range(1, n + 1):
            seen.setdefault(key_hash("responsibility", f"k{line}"), line)
        held, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(seen) == n
    assert held / n < 20, held / n
    assert peak / n < 24, peak / n
