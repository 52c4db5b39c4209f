-- Videos and their job-queue columns share one row: a video is its job.
-- seq is the only ordering (ids are random); AUTOINCREMENT so a seq is never reused.
CREATE TABLE videos (
    seq                   INTEGER PRIMARY KEY AUTOINCREMENT,
    id                    TEXT    NOT NULL UNIQUE,
    project               TEXT    NOT NULL,
    model                 TEXT    NOT NULL,
    status                TEXT    NOT NULL,
    progress              INTEGER NOT NULL DEFAULT 0,
    created_at            INTEGER NOT NULL,
    started_at            INTEGER,
    completed_at          INTEGER,
    expires_at            INTEGER,
    deleted_at            INTEGER,
    prompt                TEXT,
    size                  TEXT    NOT NULL,
    seconds               INTEGER NOT NULL,
    seed                  INTEGER NOT NULL,  -- u64 stored bit-for-bit as i64
    spec                  TEXT    NOT NULL,  -- JobSpec as JSON
    remixed_from_video_id TEXT,
    batch_id              TEXT,
    error_code            TEXT,
    error_message         TEXT,
    usage_seconds         INTEGER,
    usage_cost_usd        REAL,
    media                 TEXT,              -- MediaInfo as JSON
    -- private queue state
    priority              INTEGER NOT NULL DEFAULT 0,
    max_attempts          INTEGER NOT NULL,
    attempts              INTEGER NOT NULL DEFAULT 0,
    run_at                INTEGER NOT NULL,  -- ms
    lease_id              TEXT,
    lease_owner           TEXT,
    lease_expires_at      INTEGER,           -- ms
    heartbeat_at          INTEGER,           -- ms
    cancel_requested      INTEGER NOT NULL DEFAULT 0,
    last_error_code       TEXT,
    last_error_message    TEXT
);

-- claim and queue_position walk this in claim order.
CREATE INDEX videos_queue ON videos (status, priority, run_at, seq);
CREATE INDEX videos_project ON videos (project, seq);
CREATE INDEX videos_lease ON videos (status, lease_expires_at);
CREATE INDEX videos_expiry ON videos (status, expires_at);

CREATE TABLE idempotency_keys (
    project      TEXT    NOT NULL,
    key          TEXT    NOT NULL,
    request_hash TEXT    NOT NULL,
    video_id     TEXT    NOT NULL REFERENCES videos (id),
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (project, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

CREATE TABLE characters (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    id         TEXT    NOT NULL UNIQUE,
    project    TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    width      INTEGER NOT NULL,
    height     INTEGER NOT NULL
);
CREATE INDEX characters_project ON characters (project, seq);
