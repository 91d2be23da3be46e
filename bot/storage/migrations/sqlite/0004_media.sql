-- Media: the curated library, fans' submissions waiting for a moderator, and the journal of daily posts.
-- Times are fixed-width UTC text (bot/storage/timefmt.py).
CREATE TABLE media_items (
    id            INTEGER PRIMARY KEY,
    guild_id      INTEGER NOT NULL,
    title         TEXT    NOT NULL,
    kind          TEXT    NOT NULL CHECK (kind IN ('image', 'video', 'link')),
    url           TEXT,
    url_key       TEXT,             -- normalize_url(url): how duplicates are recognised
    file_name     TEXT,             -- under settings.media_path, named by content hash
    file_type     TEXT,
    file_sha256   TEXT,
    star_id       INTEGER REFERENCES stars (id) ON DELETE SET NULL,
    credit        TEXT,
    spoiler       INTEGER NOT NULL DEFAULT 0,
    added_by      INTEGER,
    added_at      TEXT    NOT NULL,
    submission_id INTEGER,
    last_daily_at TEXT,             -- last time it was the media of the day
    CHECK ((url IS NULL) <> (file_name IS NULL)),
    UNIQUE (guild_id, url_key),     -- NULLs are distinct, so files never collide here
    UNIQUE (guild_id, file_sha256)
);
CREATE INDEX media_items_star ON media_items (guild_id, star_id);
CREATE INDEX media_items_daily ON media_items (guild_id, last_daily_at);

CREATE TABLE media_tags (
    item_id INTEGER NOT NULL REFERENCES media_items (id) ON DELETE CASCADE,
    tag     TEXT    NOT NULL,
    PRIMARY KEY (item_id, tag)
) WITHOUT ROWID;
CREATE INDEX media_tags_tag ON media_tags (tag);

CREATE TABLE media_submissions (
    id              INTEGER PRIMARY KEY,
    guild_id        INTEGER NOT NULL,
    submitter_id    INTEGER NOT NULL,
    title           TEXT    NOT NULL,
    kind            TEXT    NOT NULL CHECK (kind IN ('image', 'video', 'link')),
    url             TEXT,
    url_key         TEXT,
    file_name       TEXT,
    file_type       TEXT,
    file_sha256     TEXT,
    star_id         INTEGER REFERENCES stars (id) ON DELETE SET NULL,
    tags            TEXT    NOT NULL DEFAULT '',  -- comma-joined; copied to media_tags on approval
    spoiler         INTEGER NOT NULL DEFAULT 0,
    status          TEXT    NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected')),
    submitted_at    TEXT    NOT NULL,
    decided_by      INTEGER,
    decided_at      TEXT,
    item_id         INTEGER REFERENCES media_items (id) ON DELETE SET NULL,
    card_channel_id INTEGER,
    card_message_id INTEGER,
    CHECK ((url IS NULL) <> (file_name IS NULL))
);
-- Two fans submitting the same link (or file) wait in the queue once.
CREATE UNIQUE INDEX media_submissions_pending_url ON media_submissions (guild_id, url_key) WHERE status = 'pending';
CREATE UNIQUE INDEX media_submissions_pending_file ON media_submissions (guild_id, file_sha256) WHERE status = 'pending';
CREATE INDEX media_submissions_status ON media_submissions (guild_id, status);

-- One row per server, kind, subject (a star for birthdays, 0 for the media of the day) and local
-- date, written before the post is sent: the primary key is the once-a-day guarantee.
CREATE TABLE daily_posts (
    guild_id   INTEGER NOT NULL,
    kind       TEXT    NOT NULL CHECK (kind IN ('media', 'birthday')),
    subject_id INTEGER NOT NULL DEFAULT 0,
    local_date TEXT    NOT NULL,
    status     TEXT    NOT NULL DEFAULT 'claimed' CHECK (status IN ('claimed', 'sent', 'skipped')),
    item_id    INTEGER,
    nonce      TEXT    NOT NULL,
    claimed_at TEXT    NOT NULL,
    message_id INTEGER,
    sent_at    TEXT,
    note       TEXT,
    PRIMARY KEY (guild_id, kind, subject_id, local_date)
) WITHOUT ROWID;
CREATE INDEX daily_posts_claimed ON daily_posts (status) WHERE status = 'claimed';
