-- Retention: finished deliveries by the time of their last change, so the purge reads only what
-- it deletes (see src/db/queries/retention.ts). Unfinished deliveries are never purged.
CREATE INDEX deliveries_finished ON deliveries (updated_at) WHERE status IN ('succeeded', 'failed', 'cancelled');
