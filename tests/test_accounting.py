"""The accounting helper: stored + quarantined + skipped must equal the input, per kind."""

from __future__ import annotations

import pytest

from efa_core.connectors import Batch, Delete, Rejected, Skipped, Upsert
from efa_core.errors import SourceNotUnderstood
from efa_core.ids import LeikaKey
from efa_core.model import Service
from efa_core.testing.accounting import account, assert_accounted


def _service(key: str) -> Upsert:
    return Upsert(Service(key=key, name=key, leika_keys=(LeikaKey("99115005104000"),)))


BATCHES = [
    Batch(
        [_service("a"), _service("b"), Delete("service", "gone")],
        cursor="1",
        complete=False,
        rejected=[Rejected("service", "f:line 3", "x", [("$.key", "empty")])],
        skipped=[Skipped("footer-line", "summary line", position="f:line 9")],
    ),
    Batch(
        [_service("b")],
        cursor=None,
        complete=True,
        skipped=[Skipped("spezialisierung", "not mapped", count=4)],
    ),
]


def test_account_counts_distinct_keys_rejected_and_skipped() -> None:
    accounting = account(BATCHES)
    assert accounting.stored == {"service": 2}
    assert accounting.quarantined == {"service": 1}
    assert accounting.skipped == {"footer-line": 1, "spezialisierung": 4}
    assert accounting.deleted == {"service": 1}
    assert accounting.total("service") == 3


def test_assert_accounted_passes_when_everything_adds_up() -> None:
    assert_accounted(BATCHES, {"service": 3, "footer-line": 1, "spezialisierung": 4})


def test_assert_accounted_names_the_missing_and_the_unexpected() -> None:
    with pytest.raises(AssertionError) as info:
        assert_accounted(BATCHES, {"service": 4, "footer-line": 1})
    text = str(info.value)
    assert "service: 4 in the input, but stored 2 + quarantined 1 + skipped 0 = 3" in text
    assert "spezialisierung: not expected, but stored 0 + quarantined 0 + skipped 4 = 4" in text


def test_source_not_understood_names_source_and_place() -> None:
    error = SourceNotUnderstood(
        "root element 'html' is no XZuFi message", source="lrs-th", where="export/a.xml"
    )
    assert str(error) == "source 'lrs-th', export/a.xml: root element 'html' is no XZuFi message"
    assert error.reason.startswith("root element")
