-- The language of a server's automatic posts (SPEC §8): 'auto' follows Discord's guild locale.
ALTER TABLE guild_settings ADD COLUMN language TEXT NOT NULL DEFAULT 'auto' CHECK (language IN ('auto', 'en', 'ko'));
