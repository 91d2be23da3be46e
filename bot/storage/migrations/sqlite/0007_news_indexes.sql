-- Digest lookups: a digest's stories are read by digest_id (resending or recording a digest); most
-- announcements travel alone, so only the ones in a digest are indexed.
CREATE INDEX announcements_digest ON announcements (digest_id) WHERE digest_id IS NOT NULL;
