"""Source fingerprints: unchanged input objects skip building and stay alive, on both backends.

The records-file connector fingerprints each line; a sync with fingerprints must end exactly
like one without (mirror, history, quarantine, counts) for any sequence of file versions,
while unchanged lines are not parsed again.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

import efa_core.default_plugins.records_file as records_file
from efa_core.config import parse_config
from efa_core.connectors import Upsert, fingerprint, key_hash
from efa_core.errors import EfaError
from efa_core.plugins import PluginRegistry
from efa_core.store import RunMode, Store, open_store, prepare
from efa_core.sync import SourceReport, SyncEngine

from .helpers import area, mirror_state


def _engine(store: Store, path: Path, *, fingerprints: bool = True) -> SyncEngine:
    table = {"type": "records-file", "path": str(path), "batch_size": 7}
    table["fingerprints"] = fingerprints
    config = parse_config({"connectors": {"notes": table}}, env={})
    return SyncEngine(store, PluginRegistry(entrypoints=False, env={}), config)


def _sync(store: Store, path: Path, *, fingerprints: bool = True) -> SourceReport:
    return _engine(store, path, fingerprints=fingerprints).run(allow_shrink=True)["notes"]


def _write(path: Path, lines: list[str]) -> None:
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")


def _area_line(code: str, name: str, *, spaced: bool = False) -> str:
    data = {"kind": "area", "ars": code, "name": name}
    return json.dumps(data, separators=(", ", ": ") if spaced else (",", ":"))


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The positions of the lines the records-file connector parsed."""
    seen: list[str] = []
    original = records_file._parse_line

    def counting(raw: bytes, position: str) -> Any:
        seen.append(position)
        return original(raw, position)

    monkeypatch.setattr(records_file, "_parse_line", counting)
    return seen


def test_unchanged_lines_are_not_parsed_and_stay_alive(
    store: Store, tmp_path: Path, parses: list[str]
) -> None:
    path = tmp_path / "notes.jsonl"
    codes = [f"16{n:03d}" for n in range(1, 21)]
    _write(path, [_area_line(c, f"Kreis {c}") for c in codes])
    first = _sync(store, path)
    assert first.added == 20
    assert len(parses) == 20
    parses.clear()

    lines = [_area_line(c, f"Kreis {c}") for c in codes[:18]]  # two gone
    lines[3] = _area_line(codes[3], "renamed")  # one changed
    lines.append(_area_line("16999", "new"))  # one new
    _write(path, lines)
    second = _sync(store, path)
    assert second.ok, second.error
    assert (second.added, second.changed, second.unchanged, second.deleted) == (1, 1, 17, 2)
    assert sorted(parses) == sorted([f"{path}:line 4", f"{path}:line 19"]), "only new bytes"
    assert second.by_kind["area"]["unchanged"] == 17
    assert sorted(r.natural_key for r in store.records("notes")) == sorted([*codes[:18], "16999"])
    assert store.check_integrity() == []


def test_the_same_record_from_other_bytes_updates_only_the_fingerprint(
    store: Store, tmp_path: Path, parses: list[str]
) -> None:
    path = tmp_path / "notes.jsonl"
    _write(path, [_area_line("16", "Thüringen")])
    _sync(store, path)
    history = len(list(store.history()))
    _write(path, [_area_line("16", "Thüringen", spaced=True)])
    report = _sync(store, path)
    assert (report.changed, report.unchanged) == (0, 1)
    assert len(list(store.history())) == history, "no history for new bytes of the same record"
    parses.clear()
    again = _sync(store, path)
    assert again.unchanged == 1
    assert parses == [], "the new bytes' fingerprint was stored"


def test_stored_fingerprints_answer_with_key_hashes_of_live_records(store: Store) -> None:
    run = store.begin_run("s", RunMode.CHANGE_FEED).run_id
    fp = fingerprint("test", b"line")
    upsert = prepare(Upsert(area("16").record, fingerprint=fp))
    store.apply(run, "s", [upsert], cursor="1", mode=RunMode.CHANGE_FEED)
    assert store.stored_fingerprints("s", [fp, fingerprint("other")]) == {
        fp: (key_hash("area", "16"),)
    }
    assert store.stored_fingerprints("elsewhere", [fp]) == {}
    from efa_core.connectors import Delete

    store.apply(run, "s", [prepare(Delete("area", "16"))], cursor="2", mode=RunMode.CHANGE_FEED)
    assert store.stored_fingerprints("s", [fp]) == {}, "a tombstone keeps no fingerprint"
    with pytest.raises(EfaError, match="no live record of the source carries"):
        store.apply(run, "s", [], cursor="3", mode=RunMode.CHANGE_FEED, unchanged_fingerprints=[fp])
    assert store.cursor("s") == "2", "the refused batch was not applied"


def test_a_fingerprint_must_look_like_one() -> None:
    with pytest.raises(TypeError, match="8 to 64 bytes"):
        Upsert(area("16").record, fingerprint=b"x")
    assert fingerprint("ab", "c") != fingerprint("a", "bc")


def _version(rng: random.Random, previous: dict[str, str]) -> dict[str, str]:
    rows: dict[str, str] = {}
    for code, name in previous.items():
        roll = rng.random()
        if roll < 0.1:
            continue
        rows[code] = name + "'" if roll < 0.25 else name
    while len(rows) < 40:
        rows.setdefault(f"{rng.randint(1, 16):02d}{rng.randint(0, 60):03d}", "Kreis")
    return rows


def _lines(rng: random.Random, rows: dict[str, str]) -> list[str]:
    lines = [_area_line(code, name, spaced=rng.random() < 0.2) for code, name in rows.items()]
    rng.shuffle(lines)
    some = rng.choice(list(rows))
    lines.insert(rng.randrange(len(lines)), _area_line(some, "duplicate key"))
    lines.insert(rng.randrange(len(lines)), lines[rng.randrange(len(lines))])  # same bytes
    lines.insert(rng.randrange(len(lines)), '{"kind": "area", "ars": "1"}')  # invalid
    lines.insert(rng.randrange(len(lines)), "")
    return lines


def _history(store: Store) -> list[tuple[str, str, str, str | None, str | None]]:
    return [(h.kind, h.natural_key, h.op.value, h.old_hash, h.new_hash) for h in store.history()]


def _quarantine(store: Store) -> list[tuple[str | None, tuple[tuple[str, str], ...]]]:
    return sorted((q.position, q.problems) for q in store.quarantine())


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_sync_with_fingerprints_ends_like_one_without(
    store: Store, tmp_path: Path, seed: int
) -> None:
    rng = random.Random(seed)
    path = tmp_path / "notes.jsonl"
    rows: dict[str, str] = {}
    with open_store(f"sqlite:///{tmp_path / 'plain.db'}") as plain:
        for _ in range(6):
            rows = _version(rng, rows)
            _write(path, _lines(rng, rows))
            fast = _sync(store, path)
            slow = _sync(plain, path, fingerprints=False)
            assert fast.ok, fast.error
            assert slow.ok, slow.error
            assert fast.counts() == slow.counts()
            assert fast.by_kind == slow.by_kind
            assert mirror_state(store) == mirror_state(plain)
            assert _history(store) == _history(plain)
            assert _quarantine(store) == _quarantine(plain)
            assert store.check_integrity() == []
