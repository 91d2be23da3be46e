-- News ingest: when the last error happened (last_error alone cannot say whether it is current),
-- and lookups the poller and /news latest make on every cycle.
ALTER TABLE feeds ADD COLUMN last_error_at TEXT;
CREATE INDEX feeds_guild_star ON feeds (guild_id, star_id);
CREATE INDEX news_stories_link ON news_stories (guild_id, link);
