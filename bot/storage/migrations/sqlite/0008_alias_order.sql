-- Aliases keep the order a moderator gave them in a column of their own, not in SQLite's rowid, so
-- PostgreSQL (which has no rowid) reads them back in the same order.
ALTER TABLE star_aliases ADD COLUMN position INTEGER NOT NULL DEFAULT 0;
UPDATE star_aliases SET position = rowid;
