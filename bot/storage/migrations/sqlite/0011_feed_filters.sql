-- A subscription's story filter (SPEC §10, /feeds filter): phrases a story must contain (include,
-- when any) and must not contain (exclude), one per line; empty is no filter.
ALTER TABLE feeds ADD COLUMN include_words TEXT NOT NULL DEFAULT '';
ALTER TABLE feeds ADD COLUMN exclude_words TEXT NOT NULL DEFAULT '';
