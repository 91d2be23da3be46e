-- News: feeds a server reads, what each feed has already shown us, stories, and the delivery journal.
-- Times are fixed-width UTC text (bot/storage/timefmt.py) so they compare correctly as strings.
CREATE TABLE feeds (
    id                   INTEGER PRIMARY KEY,
    guild_id             INTEGER NOT NULL,
    url                  TEXT    NOT NULL,
    name                 TEXT,
    kind                 TEXT    NOT NULL DEFAULT 'manual' CHECK (kind IN ('manual', 'star_search')),
    star_id              INTEGER REFERENCES stars (id) ON DELETE SET NULL,
    etag                 TEXT,
    last_modified        TEXT,
    next_poll_at         TEXT    NOT NULL,
    last_polled_at       TEXT,
    last_success_at      TEXT,
    last_error           TEXT,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    disabled_at          TEXT,
    disabled_reason      TEXT,
    primed               INTEGER NOT NULL DEFAULT 0, -- 1 once the items present when it was added were recorded silently
    added_by             INTEGER,
    added_at             TEXT    NOT NULL,
    UNIQUE (guild_id, url)
);
CREATE INDEX feeds_due ON feeds (next_poll_at) WHERE disabled_at IS NULL;

-- Entry keys (guid, else link) a feed has already delivered to us: a new feed's backlog and
-- reordered or re-dated items are recognised here.
CREATE TABLE feed_entries_seen (
    feed_id   INTEGER NOT NULL REFERENCES feeds (id) ON DELETE CASCADE,
    entry_key TEXT    NOT NULL,
    seen_at   TEXT    NOT NULL,
    PRIMARY KEY (feed_id, entry_key)
) WITHOUT ROWID;

-- One row per story per server, whichever feed brought it first. canonical_link and
-- (title_key, published day) are how the same story from two feeds is recognised.
CREATE TABLE news_stories (
    id             INTEGER PRIMARY KEY,
    guild_id       INTEGER NOT NULL,
    feed_id        INTEGER REFERENCES feeds (id) ON DELETE SET NULL,
    guid           TEXT,
    link           TEXT,
    canonical_link TEXT,
    title          TEXT    NOT NULL,
    title_key      TEXT    NOT NULL,
    summary        TEXT,
    source_name    TEXT,
    image_url      TEXT,
    published_at   TEXT,
    discovered_at  TEXT    NOT NULL,
    UNIQUE (guild_id, canonical_link)
);
CREATE INDEX news_stories_title ON news_stories (guild_id, title_key);
CREATE INDEX news_stories_recent ON news_stories (guild_id, discovered_at);

CREATE TABLE news_story_stars (
    story_id INTEGER NOT NULL REFERENCES news_stories (id) ON DELETE CASCADE,
    star_id  INTEGER NOT NULL REFERENCES stars (id) ON DELETE CASCADE,
    PRIMARY KEY (story_id, star_id)
) WITHOUT ROWID;
CREATE INDEX news_story_stars_star ON news_story_stars (star_id);

-- The delivery journal: a row is written in the same transaction as its story, so a story is
-- never lost; the nonce is sent with the message so a resend after a crash is not posted twice.
CREATE TABLE announcements (
    id              INTEGER PRIMARY KEY,
    story_id        INTEGER NOT NULL UNIQUE REFERENCES news_stories (id) ON DELETE CASCADE,
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
    created_at      TEXT    NOT NULL
);
CREATE INDEX announcements_pending ON announcements (guild_id, status) WHERE status IN ('pending', 'sending');
