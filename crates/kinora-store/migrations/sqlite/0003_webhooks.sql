-- Webhook endpoints, the events Kinora emits, and one durable delivery per (event, endpoint).
-- Self-contained: references only its own tables, so it applies whatever 0002 holds.

CREATE TABLE webhook_endpoints (
    seq                  INTEGER PRIMARY KEY AUTOINCREMENT,
    id                   TEXT    NOT NULL UNIQUE,
    project              TEXT    NOT NULL,
    name                 TEXT    NOT NULL,
    url                  TEXT    NOT NULL,
    event_types          TEXT    NOT NULL,  -- JSON array of event type names
    secret               TEXT    NOT NULL,  -- whsec_...
    previous_secret      TEXT,              -- still signs until previous_secret_until
    previous_secret_until INTEGER,          -- Unix seconds
    declared             INTEGER NOT NULL DEFAULT 0,  -- 1: from the settings file, read-only
    enabled              INTEGER NOT NULL DEFAULT 1,
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL
);
CREATE INDEX webhook_endpoints_project ON webhook_endpoints (project, seq);

-- The body is stored as sent, so every retry carries the same bytes.
CREATE TABLE webhook_events (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    id         TEXT    NOT NULL UNIQUE,
    project    TEXT    NOT NULL,
    type       TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    body       TEXT    NOT NULL
);

-- id is the Standard Webhooks webhook-id: minted once, so stable across retries.
CREATE TABLE webhook_deliveries (
    seq              INTEGER PRIMARY KEY AUTOINCREMENT,
    id               TEXT    NOT NULL UNIQUE,
    endpoint_id      TEXT    NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_id         TEXT    NOT NULL REFERENCES webhook_events (id),
    status           TEXT    NOT NULL,  -- pending | delivered | failed
    attempts         INTEGER NOT NULL DEFAULT 0,
    created_at       INTEGER NOT NULL,  -- Unix seconds
    next_attempt_at  INTEGER NOT NULL,  -- ms
    lease_id         TEXT,
    lease_expires_at INTEGER,           -- ms
    last_attempt_at  INTEGER,           -- Unix seconds
    last_status_code INTEGER,
    last_error       TEXT,
    completed_at     INTEGER            -- Unix seconds, when delivered or given up
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, seq);
CREATE INDEX webhook_deliveries_event ON webhook_deliveries (event_id);
