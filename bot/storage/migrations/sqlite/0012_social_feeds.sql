-- A star's own accounts (SPEC §10): a subscription of kind 'social' is one of her accounts, and
-- remembers which platform and handle it reads, so her posts are announced as hers.
-- SQLite cannot alter a CHECK: the kind column is rebuilt under a new constraint instead of the
-- whole table (dropping feeds would cascade to what each feed has seen).
ALTER TABLE feeds RENAME COLUMN kind TO kind_before_social;
ALTER TABLE feeds ADD COLUMN kind TEXT NOT NULL DEFAULT 'manual' CHECK (kind IN ('manual', 'star_search', 'social'));
UPDATE feeds SET kind = kind_before_social;
ALTER TABLE feeds DROP COLUMN kind_before_social;
ALTER TABLE feeds ADD COLUMN platform TEXT;
ALTER TABLE feeds ADD COLUMN handle TEXT;
-- A story that is one of her own posts: the platform it was posted on (NULL for the press), so
-- it is announced as hers even after the subscription that brought it is gone.
ALTER TABLE news_stories ADD COLUMN post_platform TEXT;
