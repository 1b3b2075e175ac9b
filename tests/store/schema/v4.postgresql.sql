-- efa-core store schema version 4 (postgresql), as released. Never edit.

CREATE TABLE schema_version (
    version BIGINT NOT NULL,
    description TEXT NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (version)
);

CREATE TABLE sources (
    source TEXT NOT NULL,
    mode TEXT,
    cursor TEXT,
    cursor_updated_at TIMESTAMPTZ,
    snapshot_run_id TEXT,
    last_snapshot_at TIMESTAMPTZ,
    last_snapshot_run_id TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (source)
);

CREATE TABLE sync_runs (
    run_id TEXT NOT NULL,
    source TEXT NOT NULL,
    mode TEXT NOT NULL,
    started_at TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ,
    status TEXT NOT NULL,
    batches BIGINT NOT NULL DEFAULT 0,
    added BIGINT NOT NULL DEFAULT 0,
    changed BIGINT NOT NULL DEFAULT 0,
    unchanged BIGINT NOT NULL DEFAULT 0,
    deleted BIGINT NOT NULL DEFAULT 0,
    orphan_deletes BIGINT NOT NULL DEFAULT 0,
    quarantined BIGINT NOT NULL DEFAULT 0,
    cursor_before TEXT,
    cursor_after TEXT,
    error TEXT,
    PRIMARY KEY (run_id),
    FOREIGN KEY (source) REFERENCES sources (source)
);

CREATE INDEX ix_sync_runs_source ON sync_runs (source, started_at);

CREATE TABLE records (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source TEXT NOT NULL,
    kind TEXT NOT NULL,
    natural_key TEXT NOT NULL,
    key_hash BIGINT NOT NULL,
    leika_key TEXT,
    ars TEXT,
    payload JSONB NOT NULL,
    content_hash TEXT NOT NULL,
    deleted BOOLEAN NOT NULL,
    first_seen TIMESTAMPTZ NOT NULL,
    last_seen TIMESTAMPTZ NOT NULL,
    fetched_at TIMESTAMPTZ NOT NULL,
    modified_at TIMESTAMPTZ,
    run_id TEXT NOT NULL,
    UNIQUE (source, kind, natural_key)
);

CREATE INDEX ix_records_key_hash ON records (source, key_hash);

CREATE INDEX ix_records_leika_key ON records (leika_key, ars);

CREATE INDEX ix_records_ars ON records (ars);

CREATE TABLE history (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source TEXT NOT NULL,
    kind TEXT NOT NULL,
    natural_key TEXT NOT NULL,
    op TEXT NOT NULL,
    old_hash TEXT,
    new_hash TEXT,
    payload JSONB,
    run_id TEXT NOT NULL,
    changed_at TIMESTAMPTZ NOT NULL
);

CREATE INDEX ix_history_key ON history (natural_key, changed_at);

CREATE TABLE snapshot_seen (
    source TEXT NOT NULL,
    key_hash BIGINT NOT NULL,
    PRIMARY KEY (source, key_hash)
);

CREATE TABLE quarantine (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source TEXT NOT NULL,
    run_id TEXT NOT NULL,
    kind TEXT,
    position TEXT,
    raw TEXT,
    problems JSONB NOT NULL,
    quarantined_at TIMESTAMPTZ NOT NULL,
    FOREIGN KEY (source) REFERENCES sources (source),
    FOREIGN KEY (run_id) REFERENCES sync_runs (run_id)
);

CREATE INDEX ix_quarantine_source ON quarantine (source, quarantined_at);

ALTER TABLE sync_runs ADD COLUMN skipped BIGINT NOT NULL DEFAULT 0;

ALTER TABLE sync_runs ADD COLUMN warnings JSONB;

CREATE TABLE run_counts (
    run_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    counter TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '',
    n BIGINT NOT NULL DEFAULT 0,
    position TEXT,
    PRIMARY KEY (run_id, kind, counter, detail),
    FOREIGN KEY (run_id) REFERENCES sync_runs (run_id)
);

ALTER TABLE records ADD COLUMN fingerprint BYTEA;

CREATE INDEX ix_records_fingerprint ON records (source, fingerprint, kind, key_hash, deleted) WHERE fingerprint IS NOT NULL;

UPDATE sources SET cursor = NULL, snapshot_run_id = NULL WHERE mode = 'snapshot' AND snapshot_run_id IS NOT NULL;

DROP TABLE snapshot_seen;

CREATE TABLE snapshot_chunks (
    source TEXT NOT NULL,
    seq BIGINT NOT NULL,
    key_hashes BYTEA NOT NULL,
    PRIMARY KEY (source, seq)
);

DROP INDEX ix_records_key_hash;

ALTER TABLE records ALTER COLUMN source TYPE TEXT COLLATE "C";

ALTER TABLE records ALTER COLUMN kind TYPE TEXT COLLATE "C";

ALTER TABLE records ALTER COLUMN natural_key TYPE TEXT COLLATE "C";

ALTER TABLE history ALTER COLUMN source TYPE TEXT COLLATE "C";

ALTER TABLE history ALTER COLUMN kind TYPE TEXT COLLATE "C";

ALTER TABLE history ALTER COLUMN natural_key TYPE TEXT COLLATE "C";

CREATE INDEX ix_records_live ON records (source, id, key_hash, deleted) WHERE deleted = FALSE;
