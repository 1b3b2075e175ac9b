"""NUL characters (U+0000): the same on both backends, never a failed run (issue 14 §1).

PostgreSQL keeps no NUL in text or JSON, SQLite does; a record with one is quarantined on
both, naming the field, and the rest of the batch goes on.  What describes bad input (raw
text, positions, problems, skip reasons) shows the NUL as ``\\x00``.
"""

from __future__ import annotations

from pathlib import Path

from efa_core.connectors import Delete, Rejected, Skipped
from efa_core.store import Store
from efa_core.sync import SyncEngine

from .helpers import SCRIPTS, Script, area, config, registry


def test_a_nul_in_a_record_quarantines_it_and_the_run_goes_on(store: Store, tmp_path: Path) -> None:
    notes = tmp_path / "notes.jsonl"
    notes.write_bytes(
        b'{"kind": "area", "ars": "16", "name": "Th\\u00fcr\\u0000ingen"}\n'
        b'{"kind": "area", "ars": "15", "name": "Sachsen-Anhalt"}\n'
        b'{"kind": "area", "ars": "01", "name": \x00}\n'
    )
    engine = SyncEngine(store, registry(), config(notes=("records-file", str(notes))))
    report = engine.run()["notes"]
    assert report.ok, report.error
    assert (report.added, report.quarantined) == (1, 2)
    assert [r.natural_key for r in store.records("notes")] == ["15"]
    entries = sorted(store.quarantine("notes"), key=lambda q: q.problems[0][0], reverse=True)
    assert entries[0].position == "notes batch 1 item 0"
    assert entries[0].problems == (
        (
            "$.name",
            "contains a NUL character (U+0000), which the store cannot keep; remove it at the"
            " source",
        ),
    )
    assert entries[1].raw == '{"kind": "area", "ars": "01", "name": \\x00}'


def test_nul_in_skips_rejections_and_deletes(store: Store) -> None:
    SCRIPTS["f"] = Script(
        [[area("16"), Delete("area", "16\x00")]],
        rejected={0: [Rejected("area", "page 1\x00", "raw\x00", [("$.x\x00", "bad\x00")])]},
        skipped={0: [Skipped("footer\x00", "sum\x00line", 2, "line\x009")]},
    )
    engine = SyncEngine(store, registry(), config(feed=("test-feed", "f")))
    report = engine.run()["feed"]
    assert report.ok, report.error
    assert (report.added, report.quarantined, report.skipped) == (1, 2, 2)
    entries = list(store.quarantine("feed"))
    assert (
        entries[0].kind,
        entries[0].position,
        entries[0].raw,
    ) == ("area", "page 1\\x00", "raw\\x00")
    assert entries[0].problems == (("$.x\\x00", "bad\\x00"),)
    assert entries[1].problems[0][0] == "$.key"
    assert report.run_id is not None
    [skip] = store.run_details(report.run_id).skipped
    assert (skip.kind, skip.reason, skip.position) == ("footer\\x00", "sum\\x00line", "line\\x009")
    SCRIPTS.clear()
