-- News delivery: digests (one message listing the stories over the per-minute budget) are journalled
-- like single announcements, so a digest interrupted by a crash is resent with its own nonce and the
-- stories in it are neither lost nor posted twice.
CREATE TABLE announcement_digests (
    id              INTEGER PRIMARY KEY,
    guild_id        INTEGER NOT NULL,
    channel_id      INTEGER NOT NULL,
    nonce           TEXT    NOT NULL,
    status          TEXT    NOT NULL DEFAULT 'sending' CHECK (status IN ('sending', 'sent', 'dissolved')),
    attempts        INTEGER NOT NULL DEFAULT 1,
    next_attempt_at TEXT,
    message_id      INTEGER,
    sent_at         TEXT,
    last_error      TEXT,
    created_at      TEXT    NOT NULL
);
CREATE INDEX announcement_digests_open ON announcement_digests (guild_id) WHERE status = 'sending';
CREATE INDEX announcement_digests_recent ON announcement_digests (channel_id, sent_at) WHERE status = 'sent';

-- The digest a story is travelling in (NULL: posted on its own), and when its last send began.
ALTER TABLE announcements ADD COLUMN digest_id INTEGER REFERENCES announcement_digests (id);
ALTER TABLE announcements ADD COLUMN sending_at TEXT;
-- The per-minute budget counts recent sends per channel.
CREATE INDEX announcements_recent ON announcements (channel_id, sent_at) WHERE status = 'sent';
