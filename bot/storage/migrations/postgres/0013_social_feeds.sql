-- A star's own accounts (SPEC §10): a subscription of kind 'social' is one of her accounts, and
-- remembers which platform and handle it reads, so her posts are announced as hers.
-- The kind column is rebuilt as SQLite's migration must rebuild it, so both schemas keep the same
-- column order (copy-db and its checks compare rows column by column).
ALTER TABLE feeds RENAME COLUMN kind TO kind_before_social;
ALTER TABLE feeds ADD COLUMN kind TEXT NOT NULL DEFAULT 'manual' CHECK (kind IN ('manual', 'star_search', 'social'));
UPDATE feeds SET kind = kind_before_social;
ALTER TABLE feeds DROP COLUMN kind_before_social;
ALTER TABLE feeds ADD COLUMN platform TEXT;
ALTER TABLE feeds ADD COLUMN handle TEXT;
-- A story that is one of her own posts: the platform it was posted on (NULL for the press), so
-- it is announced as hers even after the subscription that brought it is gone.
ALTER TABLE news_stories ADD COLUMN post_platform TEXT;
-- Her posts with a photo or video become media suggestions in the same queue as fans' submissions:
-- post_key (her post's canonical link) makes one suggestion per post and server however many feeds
-- carry it, for good; media_url is the file to keep (fetched before the card is posted), and
-- credit and post_link go with the item into the library.
ALTER TABLE media_submissions ADD COLUMN credit TEXT;
ALTER TABLE media_submissions ADD COLUMN post_link TEXT;
ALTER TABLE media_submissions ADD COLUMN post_key TEXT;
ALTER TABLE media_submissions ADD COLUMN media_url TEXT;
ALTER TABLE media_submissions ADD COLUMN media_length BIGINT;
CREATE UNIQUE INDEX media_submissions_post ON media_submissions (guild_id, post_key);
ALTER TABLE media_items ADD COLUMN post_link TEXT;
