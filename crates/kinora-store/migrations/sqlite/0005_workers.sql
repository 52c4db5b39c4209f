-- Remote workers as they registered, for the operator's view (GET /v1/workers, the studio's
-- Operations page). The queue never reads it: a lease names its owner in videos.lease_owner.
CREATE TABLE workers (
    id            TEXT    PRIMARY KEY,   -- wkr_<name>_<suffix>
    name          TEXT    NOT NULL,
    pool          TEXT    NOT NULL,
    models        TEXT    NOT NULL,      -- JSON array of model ids
    version       TEXT,
    registered_at INTEGER NOT NULL,      -- ms
    last_seen_at  INTEGER NOT NULL       -- ms: the last register or lease call
);
CREATE INDEX workers_seen ON workers (last_seen_at);
CREATE INDEX videos_lease_owner ON videos (lease_owner) WHERE status = 'in_progress';
