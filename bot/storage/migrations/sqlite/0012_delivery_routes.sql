-- Per-star channels (SPEC §10): a star's news may go to a channel of its own instead of the news
-- channel. Paused like guild_channels when Discord refuses it, so one dead route stops only itself.
CREATE TABLE news_routes (
    guild_id       INTEGER NOT NULL,
    star_id        INTEGER NOT NULL REFERENCES stars (id) ON DELETE CASCADE,
    channel_id     INTEGER NOT NULL,
    blocked_reason TEXT,
    blocked_at     TEXT,
    PRIMARY KEY (guild_id, star_id)
);
CREATE INDEX news_routes_channel ON news_routes (guild_id, channel_id);

-- The journal becomes per channel: one row per (story, channel it goes to), each with its own nonce.
-- channel_id NULL is a story not yet routed (or waiting for the news channel to be set). SQLite
-- cannot drop the old UNIQUE (story_id), so the table is rebuilt with its ids, rows and indexes.
CREATE TABLE announcements_per_channel (
    id              INTEGER PRIMARY KEY,
    story_id        INTEGER NOT NULL REFERENCES news_stories (id) ON DELETE CASCADE,
    guild_id        INTEGER NOT NULL,
    status          TEXT    NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'sending', 'sent', 'digested', 'skipped', 'failed')),
    nonce           TEXT    NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT,
    channel_id      INTEGER,
    message_id      INTEGER,
    sent_at         TEXT,
    last_error      TEXT,
    created_at      TEXT    NOT NULL,
    digest_id       INTEGER REFERENCES announcement_digests (id),
    sending_at      TEXT
);
INSERT INTO announcements_per_channel (id, story_id, guild_id, status, nonce, attempts, next_attempt_at, channel_id,
                                       message_id, sent_at, last_error, created_at, digest_id, sending_at)
SELECT id, story_id, guild_id, status, nonce, attempts, next_attempt_at, channel_id, message_id, sent_at, last_error,
       created_at, digest_id, sending_at FROM announcements;
DROP TABLE announcements;
ALTER TABLE announcements_per_channel RENAME TO announcements;
CREATE INDEX announcements_pending ON announcements (guild_id, status) WHERE status IN ('pending', 'sending');
CREATE INDEX announcements_recent ON announcements (channel_id, sent_at) WHERE status = 'sent';
CREATE INDEX announcements_digest ON announcements (digest_id) WHERE digest_id IS NOT NULL;
-- A 'pending' row was never posted anywhere (a refusal sets it back only when nothing went out), so
-- it is routed afresh by today's routes; 'sending' rows keep their channel and nonce.
UPDATE announcements SET channel_id = NULL WHERE status = 'pending' AND digest_id IS NULL;
CREATE UNIQUE INDEX announcements_story_channel ON announcements (story_id, channel_id);
CREATE UNIQUE INDEX announcements_unrouted ON announcements (story_id) WHERE channel_id IS NULL;

-- Several processes may run the same shard (a rolling restart): the one holding a server's lease
-- delivers its news; a holder that dies loses it when it expires.
CREATE TABLE delivery_leases (
    guild_id   INTEGER PRIMARY KEY,
    holder     TEXT    NOT NULL,
    expires_at TEXT    NOT NULL
);

-- A missing submission card is posted by whichever process claims it first (two processes running the
-- card job at once would otherwise both post it); a claim left by a dead process goes stale.
ALTER TABLE media_submissions ADD COLUMN card_claimed_at TEXT;
