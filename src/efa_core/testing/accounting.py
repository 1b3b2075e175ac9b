"""The accounting property: every input object is stored, quarantined or skipped.

A connector test counts the objects of its fixture independently (e.g. the ``schreibe``
elements of an XZuFi file, the data rows of a spreadsheet) and checks that the pull accounts
for each of them::

    from efa_core.testing.accounting import assert_accounted

    assert_accounted(connector, {"responsibility": 7, "service": 2, "footer-line": 1})

The kinds are record kinds (``Upsert.kind``, ``Rejected.kind``) or the kinds a connector
names in :class:`~efa_core.connectors.Skipped`.  An upsert counts once per distinct natural
key: a key delivered twice in one snapshot is one stored record (the other copy must be a
:class:`~efa_core.connectors.Rejected` duplicate to be accounted for).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping

import attrs

from efa_core.connectors import Batch, Connector, Delete, Upsert

__all__ = ["Accounting", "account", "assert_accounted"]


@attrs.frozen(kw_only=True)
class Accounting:
    """What a pull did with its input, per kind."""

    #: Distinct natural keys upserted, per record kind.
    stored: Mapping[str, int]
    #: Rejected records per kind (``"?"`` when the connector could not tell the kind).
    quarantined: Mapping[str, int]
    #: Skipped input objects per kind.
    skipped: Mapping[str, int]
    #: Deletes per record kind (a change feed's ``loesche``; not input objects to store).
    deleted: Mapping[str, int]
    #: Input objects reported unchanged by fingerprint (``Batch.unchanged``); their kinds
    #: are only known to the store, so pull without one (as :func:`assert_accounted` does).
    unchanged: int = 0

    def total(self, kind: str) -> int:
        """Return stored + quarantined + skipped for *kind*."""
        return self.stored.get(kind, 0) + self.quarantined.get(kind, 0) + self.skipped.get(kind, 0)

    def kinds(self) -> set[str]:
        """Return every kind that occurs in the pull."""
        return {*self.stored, *self.quarantined, *self.skipped, *self.deleted}

    def describe(self, kind: str) -> str:
        """Return ``"stored 5 + quarantined 1 + skipped 0 = 6"`` for *kind*."""
        return (
            f"stored {self.stored.get(kind, 0)} + quarantined {self.quarantined.get(kind, 0)} "
            f"+ skipped {self.skipped.get(kind, 0)} = {self.total(kind)}"
        )


def account(batches: Iterable[Batch]) -> Accounting:
    """Count what *batches* did with their input, per kind."""
    keys: dict[str, set[str]] = {}
    quarantined: Counter[str] = Counter()
    skipped: Counter[str] = Counter()
    deleted: Counter[str] = Counter()
    unchanged = 0
    for batch in batches:
        for change in batch.changes:
            if isinstance(change, Upsert):
                keys.setdefault(change.kind, set()).add(change.key)
            elif isinstance(change, Delete):
                deleted[change.kind] += 1
        for rejected in batch.rejected:
            quarantined[rejected.kind or "?"] += 1
        for skip in batch.skipped:
            skipped[skip.kind] += skip.count
        unchanged += len(batch.unchanged)
    return Accounting(
        stored={kind: len(k) for kind, k in keys.items()},
        quarantined=dict(quarantined),
        skipped=dict(skipped),
        deleted=dict(deleted),
        unchanged=unchanged,
    )


def assert_accounted(
    source: Connector | Iterable[Batch],
    expected: Mapping[str, int],
    *,
    cursor: str | None = None,
) -> Accounting:
    """Pull *source* (a connector, opened here) or take its batches; check the accounting.

    *expected* maps each kind to the number of input objects of that kind, counted by the
    test from the fixture itself.  Every kind the pull produced must be expected, and for
    each expected kind stored + quarantined + skipped must equal the count.

    :raises AssertionError: naming every kind whose objects do not add up.
    :returns: the :class:`Accounting`, for further checks.
    """
    if isinstance(source, Connector):
        from efa_core.connectors import pull_sync

        batches: Iterable[Batch] = list(pull_sync(source, cursor))
        label = source.label
    else:
        batches = source
        label = "the pull"
    accounting = account(batches)
    problems = [
        f"{kind}: {count} in the input, but {accounting.describe(kind)}"
        for kind, count in sorted(expected.items())
        if accounting.total(kind) != count
    ]
    if accounting.unchanged:
        raise AssertionError(
            f"{label} reported {accounting.unchanged} input objects unchanged by fingerprint; "
            "check the accounting on a pull without a store (connector.store = None)"
        )
    unexpected = sorted(k for k in accounting.kinds() - set(expected) if accounting.total(k))
    problems += [f"{kind}: not expected, but {accounting.describe(kind)}" for kind in unexpected]
    if problems:
        raise AssertionError(
            f"{label} does not account for its input:\n" + "\n".join(f"  {p}" for p in problems)
        )
    return accounting
