"""The synthetic data generator."""

from __future__ import annotations

import io
from collections import Counter

import pytest
from efa_xzufi import parse_transfer_message
from efa_xzufi.testing import (
    LEISTUNGEN_PER_ONLINEDIENST,
    MAX_LEISTUNGEN,
    MAX_ONLINEDIENSTE,
    MAX_ORGANISATIONSEINHEITEN,
    ars_of,
    default_catalogue,
    generate_transfer_message,
    leika_key_of,
)

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


def test_default_catalogue_grows_with_small_messages_then_stops():
    assert default_catalogue(50) == (1, 1, 1)
    assert default_catalogue(150_000) == (1500, 150, 150)
    caps = (MAX_LEISTUNGEN, MAX_ONLINEDIENSTE, MAX_ORGANISATIONSEINHEITEN)
    assert default_catalogue(200_000) == default_catalogue(10**9) == caps == (2000, 200, 200)
    summary = generate_transfer_message(io.BytesIO(), 2500)
    assert (summary.leistungen, summary.onlinedienste, summary.organisationseinheiten) == (
        25,
        2,
        2,
    )


def test_each_onlinedienst_serves_a_fixed_handful_of_leistungen():
    out = io.BytesIO()
    generate_transfer_message(out, 1200, n_leistungen=50, n_onlinedienste=4)
    services = {
        c.record.key: {str(key) for key in c.record.leika_keys}
        for c in parse_transfer_message(out.getvalue())
        if isinstance(c, Upsert) and c.kind == "service"
    }
    per = LEISTUNGEN_PER_ONLINEDIENST
    assert services == {
        f"S16000_Onlinedienst_OD{k}": {leika_key_of(k * per + m) for m in range(per)}
        for k in range(4)
    }
    with pytest.raises(ValueError, match="leistungen_per_onlinedienst"):
        generate_transfer_message(io.BytesIO(), 10, leistungen_per_onlinedienst=0)
