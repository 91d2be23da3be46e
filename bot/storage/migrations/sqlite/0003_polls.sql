-- Dream-collaboration polls: proposals, polls with their options, votes. A pairing is stored as
-- (star_low, star_high) with star_low < star_high, so "A x B" and "B x A" are the same row key.
CREATE TABLE collab_proposals (
    id          INTEGER PRIMARY KEY,
    guild_id    INTEGER NOT NULL,
    star_low    INTEGER NOT NULL REFERENCES stars (id),
    star_high   INTEGER NOT NULL REFERENCES stars (id),
    proposer_id INTEGER NOT NULL,
    project     TEXT,
    created_at  TEXT    NOT NULL,
    CHECK (star_low < star_high),
    -- A fan proposes a pairing once; the constraint, not a read-then-insert, enforces it.
    UNIQUE (guild_id, star_low, star_high, proposer_id)
);
CREATE INDEX collab_proposals_pairing ON collab_proposals (guild_id, star_low, star_high);

CREATE TABLE polls (
    id           INTEGER PRIMARY KEY,
    guild_id     INTEGER NOT NULL,
    question     TEXT    NOT NULL,
    created_by   INTEGER NOT NULL,
    created_at   TEXT    NOT NULL,
    closes_at    TEXT    NOT NULL,
    closed_at    TEXT,
    closed_by    INTEGER,
    max_choices  INTEGER NOT NULL DEFAULT 1 CHECK (max_choices BETWEEN 1 AND 25),
    anonymous    INTEGER NOT NULL DEFAULT 0,
    hide_results INTEGER NOT NULL DEFAULT 0,
    channel_id   INTEGER,
    message_id   INTEGER,
    -- Set when the results post is claimed; cleared again if Discord could not take it.
    announced_at TEXT
);
-- The close timer lives here: open polls by closing time.
CREATE INDEX polls_open_by_close ON polls (closes_at) WHERE closed_at IS NULL;
CREATE INDEX polls_guild ON polls (guild_id, closed_at);

CREATE TABLE poll_options (
    poll_id   INTEGER NOT NULL REFERENCES polls (id) ON DELETE CASCADE,
    position  INTEGER NOT NULL CHECK (position BETWEEN 0 AND 24),
    label     TEXT    NOT NULL,
    star_low  INTEGER NOT NULL REFERENCES stars (id),
    star_high INTEGER NOT NULL REFERENCES stars (id),
    PRIMARY KEY (poll_id, position),
    UNIQUE (poll_id, star_low, star_high)
);

-- One row per (poll, voter, option): a fan's choice counts once however often the button is pressed.
CREATE TABLE poll_votes (
    poll_id  INTEGER NOT NULL,
    voter_id INTEGER NOT NULL,
    position INTEGER NOT NULL,
    voted_at TEXT    NOT NULL,
    PRIMARY KEY (poll_id, voter_id, position),
    FOREIGN KEY (poll_id, position) REFERENCES poll_options (poll_id, position) ON DELETE CASCADE
) WITHOUT ROWID;
