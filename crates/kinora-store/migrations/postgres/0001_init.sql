-- The whole PostgreSQL schema, equal in meaning to migrations/sqlite/0001..0003.
-- Every id, count and time is BIGINT (times: Unix seconds, or ms where the column says so), so
-- rows decode exactly as SQLite's do. JSON payloads are TEXT, stored byte-for-byte as written.

-- Videos and their job-queue columns share one row: a video is its job.
-- seq is the only ordering (ids are random); an identity is never reused.
CREATE TABLE videos (
    seq                   BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id                    TEXT    NOT NULL UNIQUE,
    project               TEXT    NOT NULL,
    model                 TEXT    NOT NULL,
    status                TEXT    NOT NULL,
    progress              BIGINT  NOT NULL DEFAULT 0,
    created_at            BIGINT  NOT NULL,
    started_at            BIGINT,
    completed_at          BIGINT,
    expires_at            BIGINT,
    deleted_at            BIGINT,
    prompt                TEXT,
    size                  TEXT    NOT NULL,
    seconds               BIGINT  NOT NULL,
    seed                  BIGINT  NOT NULL,  -- u64 stored bit-for-bit as i64
    spec                  TEXT    NOT NULL,  -- JobSpec as JSON
    remixed_from_video_id TEXT,
    batch_id              TEXT,
    error_code            TEXT,
    error_message         TEXT,
    usage_seconds         BIGINT,
    usage_cost_usd        DOUBLE PRECISION,
    media                 TEXT,              -- MediaInfo as JSON
    -- private queue state
    priority              BIGINT  NOT NULL DEFAULT 0,
    max_attempts          BIGINT  NOT NULL,
    attempts              BIGINT  NOT NULL DEFAULT 0,
    run_at                BIGINT  NOT NULL,  -- ms
    lease_id              TEXT,
    lease_owner           TEXT,
    lease_expires_at      BIGINT,            -- ms
    heartbeat_at          BIGINT,            -- ms
    cancel_requested      BOOLEAN NOT NULL DEFAULT FALSE,
    last_error_code       TEXT,
    last_error_message    TEXT
);

-- claim and queue_position walk this in claim order; partial, so finished jobs cost nothing.
CREATE INDEX videos_queue ON videos (priority, run_at, seq) WHERE status = 'queued';
CREATE INDEX videos_project ON videos (project, seq);
CREATE INDEX videos_lease ON videos (lease_expires_at) WHERE status = 'in_progress';
CREATE INDEX videos_expiry ON videos (expires_at) WHERE status = 'completed';
CREATE INDEX videos_batch ON videos (batch_id, status) WHERE batch_id IS NOT NULL;

CREATE TABLE idempotency_keys (
    project      TEXT    NOT NULL,
    key          TEXT    NOT NULL,
    request_hash TEXT    NOT NULL,
    video_id     TEXT    NOT NULL REFERENCES videos (id),
    created_at   BIGINT  NOT NULL,
    PRIMARY KEY (project, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

CREATE TABLE characters (
    seq        BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id         TEXT    NOT NULL UNIQUE,
    project    TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    created_at BIGINT  NOT NULL,
    width      BIGINT  NOT NULL,
    height     BIGINT  NOT NULL
);
CREATE INDEX characters_project ON characters (project, seq);

-- Files (the Files API) and batches (the Batch API for POST /v1/videos).

CREATE TABLE files (
    seq        BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id         TEXT    NOT NULL UNIQUE,
    project    TEXT    NOT NULL,
    purpose    TEXT    NOT NULL,
    filename   TEXT    NOT NULL,
    bytes      BIGINT  NOT NULL,
    created_at BIGINT  NOT NULL,
    expires_at BIGINT,
    deleted_at BIGINT
);
CREATE INDEX files_project ON files (project, seq);
CREATE INDEX files_expiry ON files (expires_at) WHERE deleted_at IS NULL;

CREATE TABLE batches (
    seq                  BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id                   TEXT    NOT NULL UNIQUE,
    project              TEXT    NOT NULL,
    endpoint             TEXT    NOT NULL,
    input_file_id        TEXT    NOT NULL,
    completion_window    TEXT    NOT NULL,
    status               TEXT    NOT NULL,
    -- the terminal status finalization leads to: completed, expired or cancelled
    outcome              TEXT,
    model                TEXT,
    metadata             TEXT,              -- JSON object or NULL
    output_expires_after BIGINT,            -- seconds, or NULL for the default
    errors               TEXT,              -- JSON array of {code, line, message, param}
    output_file_id       TEXT,
    error_file_id        TEXT,
    created_at           BIGINT  NOT NULL,
    in_progress_at       BIGINT,
    expires_at           BIGINT  NOT NULL,
    finalizing_at        BIGINT,
    completed_at         BIGINT,
    failed_at            BIGINT,
    expired_at           BIGINT,
    cancelling_at        BIGINT,
    cancelled_at         BIGINT,
    -- private: which node drives the batch's next step, until when (ms)
    driver               TEXT,
    driver_until         BIGINT
);
CREATE INDEX batches_project ON batches (project, seq);
CREATE INDEX batches_open ON batches (seq)
    WHERE status IN ('validating', 'in_progress', 'finalizing', 'cancelling');

-- One row per input line: the request as validated (staged until the batch is enqueued), or the
-- error that line got on its own.
CREATE TABLE batch_requests (
    batch_id   TEXT    NOT NULL REFERENCES batches (id),
    line       BIGINT  NOT NULL,
    custom_id  TEXT    NOT NULL,
    video_id   TEXT,
    model      TEXT,
    prompt     TEXT,
    size       TEXT,
    seconds    BIGINT,
    seed       BIGINT,
    spec       TEXT,
    error      TEXT,                      -- JSON {code, message, param} for a line that failed alone
    PRIMARY KEY (batch_id, line),
    UNIQUE (batch_id, custom_id)
);

-- Webhook endpoints, the events Kinora emits, and one durable delivery per (event, endpoint).

CREATE TABLE webhook_endpoints (
    seq                   BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id                    TEXT    NOT NULL UNIQUE,
    project               TEXT    NOT NULL,
    name                  TEXT    NOT NULL,
    url                   TEXT    NOT NULL,
    event_types           TEXT[]  NOT NULL,  -- event type names
    secret                TEXT    NOT NULL,  -- whsec_...
    previous_secret       TEXT,              -- still signs until previous_secret_until
    previous_secret_until BIGINT,            -- Unix seconds
    declared              BOOLEAN NOT NULL DEFAULT FALSE,  -- from the settings file, read-only
    enabled               BOOLEAN NOT NULL DEFAULT TRUE,
    created_at            BIGINT  NOT NULL,
    updated_at            BIGINT  NOT NULL
);
CREATE INDEX webhook_endpoints_project ON webhook_endpoints (project, seq);

-- The body is stored as sent, so every retry carries the same bytes.
CREATE TABLE webhook_events (
    seq        BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id         TEXT    NOT NULL UNIQUE,
    project    TEXT    NOT NULL,
    type       TEXT    NOT NULL,
    created_at BIGINT  NOT NULL,
    body       TEXT    NOT NULL
);

-- id is the Standard Webhooks webhook-id: minted once, so stable across retries.
CREATE TABLE webhook_deliveries (
    seq              BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id               TEXT    NOT NULL UNIQUE,
    endpoint_id      TEXT    NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_id         TEXT    NOT NULL REFERENCES webhook_events (id),
    status           TEXT    NOT NULL,  -- pending | delivered | failed
    attempts         BIGINT  NOT NULL DEFAULT 0,
    created_at       BIGINT  NOT NULL,  -- Unix seconds
    next_attempt_at  BIGINT  NOT NULL,  -- ms
    lease_id         TEXT,
    lease_expires_at BIGINT,            -- ms
    last_attempt_at  BIGINT,            -- Unix seconds
    last_status_code BIGINT,
    last_error       TEXT,
    completed_at     BIGINT             -- Unix seconds, when delivered or given up
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at, seq)
    WHERE status = 'pending';
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, seq);
CREATE INDEX webhook_deliveries_event ON webhook_deliveries (event_id);
