-- efa-core store schema version 4 (sqlite), as released. Never edit.

CREATE TABLE schema_version (
    version INTEGER NOT NULL,
    description TEXT NOT NULL,
    applied_at TEXT NOT NULL,
    PRIMARY KEY (version)
);

CREATE TABLE sources (
    source TEXT NOT NULL,
    mode TEXT,
    cursor TEXT,
    cursor_updated_at TEXT,
    snapshot_run_id TEXT,
    last_snapshot_at TEXT,
    last_snapshot_run_id TEXT,
    created_at TEXT NOT NULL,
    PRIMARY KEY (source)
);

CREATE TABLE sync_runs (
    run_id TEXT NOT NULL,
    source TEXT NOT NULL,
    mode TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    status TEXT NOT NULL,
    batches INTEGER NOT NULL DEFAULT 0,
    added INTEGER NOT NULL DEFAULT 0,
    changed INTEGER NOT NULL DEFAULT 0,
    unchanged INTEGER NOT NULL DEFAULT 0,
    deleted INTEGER NOT NULL DEFAULT 0,
    orphan_deletes INTEGER NOT NULL DEFAULT 0,
    quarantined INTEGER NOT NULL DEFAULT 0,
    cursor_before TEXT,
    cursor_after TEXT,
    error TEXT,
    PRIMARY KEY (run_id),
    FOREIGN KEY (source) REFERENCES sources (source)
);

CREATE INDEX ix_sync_runs_source ON sync_runs (source, started_at);

CREATE TABLE records (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL,
    kind TEXT NOT NULL,
    natural_key TEXT NOT NULL,
    key_hash INTEGER NOT NULL,
    leika_key TEXT,
    ars TEXT,
    payload TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    deleted INTEGER NOT NULL,
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    fetched_at TEXT NOT NULL,
    modified_at TEXT,
    run_id TEXT NOT NULL,
    UNIQUE (source, kind, natural_key)
);

CREATE INDEX ix_records_key_hash ON records (source, key_hash);

CREATE INDEX ix_records_leika_key ON records (leika_key, ars);

CREATE INDEX ix_records_ars ON records (ars);

CREATE TABLE history (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL,
    kind TEXT NOT NULL,
    natural_key TEXT NOT NULL,
    op TEXT NOT NULL,
    old_hash TEXT,
    new_hash TEXT,
    payload TEXT,
    run_id TEXT NOT NULL,
    changed_at TEXT NOT NULL
);

CREATE INDEX ix_history_key ON history (natural_key, changed_at);

CREATE TABLE snapshot_seen (
    source TEXT NOT NULL,
    key_hash INTEGER NOT NULL,
    PRIMARY KEY (source, key_hash)
) WITHOUT ROWID;

CREATE TABLE quarantine (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL,
    run_id TEXT NOT NULL,
    kind TEXT,
    position TEXT,
    raw TEXT,
    problems TEXT NOT NULL,
    quarantined_at TEXT NOT NULL,
    FOREIGN KEY (source) REFERENCES sources (source),
    FOREIGN KEY (run_id) REFERENCES sync_runs (run_id)
);

CREATE INDEX ix_quarantine_source ON quarantine (source, quarantined_at);

ALTER TABLE sync_runs ADD COLUMN skipped INTEGER NOT NULL DEFAULT 0;

ALTER TABLE sync_runs ADD COLUMN warnings TEXT;

CREATE TABLE run_counts (
    run_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    counter TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '',
    n INTEGER NOT NULL DEFAULT 0,
    position TEXT,
    PRIMARY KEY (run_id, kind, counter, detail),
    FOREIGN KEY (run_id) REFERENCES sync_runs (run_id)
);

ALTER TABLE records ADD COLUMN fingerprint BLOB;

CREATE INDEX ix_records_fingerprint ON records (source, fingerprint, kind, key_hash, deleted) WHERE fingerprint IS NOT NULL;

UPDATE sources SET cursor = NULL, snapshot_run_id = NULL WHERE mode = 'snapshot' AND snapshot_run_id IS NOT NULL;

DROP TABLE snapshot_seen;

CREATE TABLE snapshot_chunks (
    source TEXT NOT NULL,
    seq INTEGER NOT NULL,
    key_hashes BLOB NOT NULL,
    PRIMARY KEY (source, seq)
);

DROP INDEX ix_records_key_hash;

CREATE INDEX ix_records_live ON records (source, id, key_hash, deleted) WHERE deleted = FALSE;
