-- Files (the Files API) and batches (the Batch API for POST /v1/videos).

CREATE TABLE files (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    id         TEXT    NOT NULL UNIQUE,
    project    TEXT    NOT NULL,
    purpose    TEXT    NOT NULL,
    filename   TEXT    NOT NULL,
    bytes      INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER,
    deleted_at INTEGER
);
CREATE INDEX files_project ON files (project, seq);
CREATE INDEX files_expiry ON files (expires_at) WHERE deleted_at IS NULL;

CREATE TABLE batches (
    seq                INTEGER PRIMARY KEY AUTOINCREMENT,
    id                 TEXT    NOT NULL UNIQUE,
    project            TEXT    NOT NULL,
    endpoint           TEXT    NOT NULL,
    input_file_id      TEXT    NOT NULL,
    completion_window  TEXT    NOT NULL,
    status             TEXT    NOT NULL,
    -- the terminal status finalization leads to: completed, expired or cancelled
    outcome            TEXT,
    model              TEXT,
    metadata           TEXT,              -- JSON object or NULL
    output_expires_after INTEGER,         -- seconds, or NULL for the default
    errors             TEXT,              -- JSON array of {code, line, message, param}
    output_file_id     TEXT,
    error_file_id      TEXT,
    created_at         INTEGER NOT NULL,
    in_progress_at     INTEGER,
    expires_at         INTEGER NOT NULL,
    finalizing_at      INTEGER,
    completed_at       INTEGER,
    failed_at          INTEGER,
    expired_at         INTEGER,
    cancelling_at      INTEGER,
    cancelled_at       INTEGER,
    -- private: which node drives the batch's next step, until when (ms)
    driver             TEXT,
    driver_until       INTEGER
);
CREATE INDEX batches_project ON batches (project, seq);
CREATE INDEX batches_open ON batches (status) WHERE status IN ('validating', 'in_progress', 'finalizing', 'cancelling');

-- One row per input line: the request as validated (staged until the batch is enqueued), or the
-- error that line got on its own.
CREATE TABLE batch_requests (
    batch_id   TEXT    NOT NULL REFERENCES batches (id),
    line       INTEGER NOT NULL,
    custom_id  TEXT    NOT NULL,
    video_id   TEXT,
    model      TEXT,
    prompt     TEXT,
    size       TEXT,
    seconds    INTEGER,
    seed       INTEGER,
    spec       TEXT,
    error      TEXT,                      -- JSON {code, message, param} for a line that failed alone
    PRIMARY KEY (batch_id, line),
    UNIQUE (batch_id, custom_id)
);

CREATE INDEX videos_batch ON videos (batch_id, status) WHERE batch_id IS NOT NULL;
