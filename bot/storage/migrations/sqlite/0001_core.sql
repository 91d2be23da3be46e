-- Core tables: per-server settings, channels, followed stars and their names, bot state.
CREATE TABLE guild_settings (
    guild_id    INTEGER PRIMARY KEY,
    timezone    TEXT    NOT NULL DEFAULT 'Asia/Seoul',
    mod_role_id INTEGER,
    media_hour  INTEGER NOT NULL DEFAULT 12 CHECK (media_hour BETWEEN 0 AND 23),
    updated_at  TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now'))
);

-- Where each kind of automatic post goes. blocked_reason is set when Discord refused a post
-- (channel deleted, permission lost) and cleared when a moderator sets the channel again.
CREATE TABLE guild_channels (
    guild_id       INTEGER NOT NULL,
    kind           TEXT    NOT NULL CHECK (kind IN ('news', 'polls', 'media', 'birthdays', 'modlog')),
    channel_id     INTEGER NOT NULL,
    blocked_reason TEXT,
    blocked_at     TEXT,
    PRIMARY KEY (guild_id, kind)
);

-- Unfollowing keeps the row (followed = 0) so news, polls and media that name her keep their link.
CREATE TABLE stars (
    id             INTEGER PRIMARY KEY,
    guild_id       INTEGER NOT NULL,
    name           TEXT    NOT NULL,
    name_key       TEXT    NOT NULL,
    hangul         TEXT,
    birthday       TEXT,
    from_catalogue INTEGER NOT NULL DEFAULT 0,
    notify_role_id INTEGER,
    followed       INTEGER NOT NULL DEFAULT 1,
    followed_by    INTEGER,
    followed_at    TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')),
    UNIQUE (guild_id, name_key)
);
CREATE INDEX stars_guild_followed ON stars (guild_id, followed);

CREATE TABLE star_aliases (
    star_id INTEGER NOT NULL REFERENCES stars (id) ON DELETE CASCADE,
    alias   TEXT    NOT NULL,
    PRIMARY KEY (star_id, alias)
);

CREATE TABLE bot_state (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
