"""The synthetic data generator."""

from __future__ import annotations

import io
from collections import Counter

from efa_xzufi import parse_transfer_message
from efa_xzufi.testing import ars_of, generate_transfer_message, leika_key_of

from efa_core.connectors import Delete, Rejected, Upsert
from efa_core.ids import Ars, ArsLevel


def test_generated_message_parses_completely():
    out = io.BytesIO()
    summary = generate_transfer_message(
        out, 3000, n_leistungen=7, n_onlinedienste=5, n_deletes=10, version="2.3.1", prefix=""
    )
    assert summary.size == len(out.getvalue())
    counts = Counter()
    keys = set()
    for change in parse_transfer_message(out.getvalue()):
        counts[type(change).__name__, getattr(change, "kind", None)] += 1
        if isinstance(change, Upsert) and change.kind == "responsibility":
            keys.add(str(change.record.leika_key))
    assert counts == {
        ("Upsert", "responsibility"): 3000,
        ("Upsert", "service"): 5,
        ("Delete", "responsibility"): 10,
        ("Upsert", "organisation-unit"): 3,
        ("Upsert", "xzufi-object"): 7,  # the leistungen, kept as raw payload
    }
    assert keys == {leika_key_of(n) for n in range(7)}
    assert not any(isinstance(c, Rejected) for c in parse_transfer_message(out.getvalue()))


def test_generator_is_deterministic_and_prefixes_vary(tmp_path):
    a, b = io.BytesIO(), io.BytesIO()
    generate_transfer_message(a, 50)
    generate_transfer_message(b, 50)
    assert a.getvalue() == b.getvalue()
    path = tmp_path / "x.xml"
    generate_transfer_message(path, 50, prefix="zufi", n_deletes=3)
    assert b"<zufi:schreibe>" in path.read_bytes()
    changes = list(parse_transfer_message(path))
    assert sum(isinstance(c, Delete) for c in changes) == 3
    areas = {ars_of(n) for n in range(20_000)}
    assert len(areas) == 11_000
    assert all(Ars(area).level is ArsLevel.GEMEINDE for area in areas)  # all valid
