-- GET /v1/events lists the latest events, newest first: by creation time, then id (a publisher
-- chooses its event ids, so they do not sort by time). The (created_at, id) index takes the place
-- of events_created (retention reads it by its created_at prefix); the entity filter has its own.
CREATE INDEX events_created_id ON events (created_at, id);
DROP INDEX events_created;
CREATE INDEX events_entity_created ON events (entity_type, entity_id, created_at, id);
