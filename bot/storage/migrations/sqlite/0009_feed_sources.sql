-- Shared feed sources: one row per feed URL holds what fetching it needs (conditional-GET
-- validators, schedule, failures, a lease for the process fetching it), however many servers read
-- it; a server's row in feeds becomes its subscription (name, kind, star, disabled state, and
-- whether its first look at the feed has been recorded silently). Entries seen stay per
-- subscription, so a server never gets the items that were there before it subscribed.
CREATE TABLE feed_sources (
    id                   INTEGER PRIMARY KEY,
    url                  TEXT    NOT NULL UNIQUE,
    etag                 TEXT,
    last_modified        TEXT,
    next_poll_at         TEXT    NOT NULL,
    last_polled_at       TEXT,
    last_success_at      TEXT,
    last_error           TEXT,
    last_error_at        TEXT,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    lease_until          TEXT,
    created_at           TEXT    NOT NULL
);
CREATE INDEX feed_sources_due ON feed_sources (next_poll_at);

-- Servers that read the same URL had their own validators and failure counts: the shared row
-- starts without validators (its first poll is a plain GET) at the earliest schedule among them,
-- and with the fewest failures any of them had (a URL failing for one server alone was a blip).
INSERT INTO feed_sources (url, next_poll_at, last_polled_at, last_success_at, consecutive_failures, created_at)
SELECT url, MIN(next_poll_at), MAX(last_polled_at), MAX(last_success_at), MIN(consecutive_failures), MIN(added_at)
FROM feeds GROUP BY url;

ALTER TABLE feeds ADD COLUMN source_id INTEGER REFERENCES feed_sources (id);
UPDATE feeds SET source_id = (SELECT s.id FROM feed_sources s WHERE s.url = feeds.url);

DROP INDEX feeds_due;
ALTER TABLE feeds DROP COLUMN etag;
ALTER TABLE feeds DROP COLUMN last_modified;
ALTER TABLE feeds DROP COLUMN next_poll_at;
ALTER TABLE feeds DROP COLUMN last_polled_at;
ALTER TABLE feeds DROP COLUMN last_success_at;
ALTER TABLE feeds DROP COLUMN last_error;
ALTER TABLE feeds DROP COLUMN last_error_at;
ALTER TABLE feeds DROP COLUMN consecutive_failures;
CREATE INDEX feeds_source ON feeds (source_id) WHERE disabled_at IS NULL;
