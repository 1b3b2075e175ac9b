"""The store: a mirror of every source's records, their history, sync runs and quarantine.

Open one with :func:`open_store` and a URL: ``sqlite:///efa.db`` (the embedded default;
``sqlite:////abs/path.db`` for an absolute path) or ``postgresql://user@host/db`` (install
``efa-core[postgres]``).  Both backends share one schema, created and upgraded by versioned
migrations when the store is opened.

The sync engine (:mod:`efa_core.sync`) writes to the store; everything else reads:
:meth:`Store.get`, :meth:`Store.records`, :meth:`Store.history`, :meth:`Store.as_of`,
:meth:`Store.runs`, :meth:`Store.run_details`, :meth:`Store.source_states` and
:meth:`Store.quarantine`; the derived views read through :class:`EvidenceReader`.
See the "Store and sync" page of the documentation for the concepts.
"""

from __future__ import annotations

from efa_core.store._backend import StoreLocked, mask_url
from efa_core.store._evidence import (
    AFTER_DIGITS,
    AgreementFact,
    AreaRow,
    EvidenceFact,
    EvidenceReader,
    NoteFact,
    ServiceRow,
    record_facts,
)
from efa_core.store._keys import key_hash
from efa_core.store._migrations import LATEST_VERSION, MIGRATIONS, Migration
from efa_core.store._prepare import prepare
from efa_core.store._store import SchemaError, Store, open_store, utcnow
from efa_core.store.types import (
    COUNT_NAMES,
    BatchResult,
    HistoryEntry,
    Operation,
    PreparedDelete,
    PreparedUpsert,
    Quarantined,
    QuarantineEntry,
    RunDetails,
    RunMode,
    RunStatus,
    SkipCount,
    SnapshotCheck,
    SourceState,
    StoredRecord,
    SyncRun,
)

__all__ = [
    "AFTER_DIGITS",
    "COUNT_NAMES",
    "LATEST_VERSION",
    "MIGRATIONS",
    "AgreementFact",
    "AreaRow",
    "BatchResult",
    "EvidenceFact",
    "EvidenceReader",
    "HistoryEntry",
    "Migration",
    "NoteFact",
    "Operation",
    "PreparedDelete",
    "PreparedUpsert",
    "QuarantineEntry",
    "Quarantined",
    "RunDetails",
    "RunMode",
    "RunStatus",
    "SchemaError",
    "ServiceRow",
    "SkipCount",
    "SnapshotCheck",
    "SourceState",
    "Store",
    "StoreLocked",
    "StoredRecord",
    "SyncRun",
    "key_hash",
    "mask_url",
    "open_store",
    "prepare",
    "record_facts",
    "utcnow",
]
