-- Blob prefixes whose deletion failed (the blob store was out of reach when their record went):
-- the sweeper retries them, so no deleted video, file or character leaves bytes behind for good.
CREATE TABLE blob_deletions (
    prefix   TEXT    PRIMARY KEY,
    retry_at INTEGER NOT NULL  -- Unix seconds
);
CREATE INDEX blob_deletions_due ON blob_deletions (retry_at);
