-- Aliases keep the order a moderator gave them (SQLite moved it out of rowid in the same migration).
ALTER TABLE star_aliases ADD COLUMN position BIGINT NOT NULL DEFAULT 0;
