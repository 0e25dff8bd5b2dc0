-- Publishing an event in one round trip. The API used to run eight statements per event (BEGIN,
-- lock the entity, upsert it, insert the event, find the webhooks, insert the deliveries,
-- COMMIT), and at a few hundred events a second its single thread spent most of its time in the
-- socket writes of those statements (docs/performance.md). These functions hold that logic once;
-- src/db/queries/events.ts and entities.ts call them.

-- A type-prefixed ULID, like src/ids.ts: 48 bits of milliseconds, 80 random bits, lower-case
-- Crockford base32, so ids sort by creation time.
CREATE FUNCTION herald_id(prefix text) RETURNS text LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  alphabet CONSTANT text := '0123456789abcdefghjkmnpqrstvwxyz';
  ms bigint := floor(extract(epoch FROM clock_timestamp()) * 1000);
  -- A v4 UUID's bytes 0-4 and 10-14 are random (its fixed version and variant bits are elsewhere).
  r bytea := uuid_send(gen_random_uuid());
  hi bigint := (get_byte(r, 0)::bigint << 32) | (get_byte(r, 1)::bigint << 24) | (get_byte(r, 2)::bigint << 16)
               | (get_byte(r, 3)::bigint << 8) | get_byte(r, 4);
  lo bigint := (get_byte(r, 10)::bigint << 32) | (get_byte(r, 11)::bigint << 24) | (get_byte(r, 12)::bigint << 16)
               | (get_byte(r, 13)::bigint << 8) | get_byte(r, 14);
  out text := prefix || '_';
BEGIN
  FOR i IN REVERSE 9..0 LOOP
    out := out || substr(alphabet, ((ms >> (5 * i)) & 31)::int + 1, 1);
  END LOOP;
  FOR i IN REVERSE 7..0 LOOP
    out := out || substr(alphabet, ((hi >> (5 * i)) & 31)::int + 1, 1);
  END LOOP;
  FOR i IN REVERSE 7..0 LOOP
    out := out || substr(alphabet, ((lo >> (5 * i)) & 31)::int + 1, 1);
  END LOOP;
  RETURN out;
END $$;

-- The fan-out: a delivery to every live webhook whose application may see the entity (type and
-- scope) and whose filter selects the event type; a webhook that is not active gets it held.
CREATE FUNCTION herald_fan_out(p_event_id text, p_type text, p_entity_type text, p_scopes text[])
RETURNS TABLE (id text, webhook_id text, application_id text, status text) LANGUAGE sql AS $$
  INSERT INTO deliveries (id, event_id, webhook_id, application_id, event_type, status)
  SELECT herald_id('dlv'), p_event_id, w.id, w.application_id, p_type,
         CASE WHEN w.status = 'active' THEN 'pending' ELSE 'held' END
    FROM webhooks w JOIN applications a ON a.id = w.application_id
   WHERE w.deleted_at IS NULL
     AND ('*' = ANY (a.entity_types) OR p_entity_type = ANY (a.entity_types))
     AND ('*' = ANY (a.scopes) OR a.scopes && p_scopes)
     AND (cardinality(w.events) = 0
          OR w.events && ARRAY[p_type, p_entity_type || '.*', '*.' || split_part(p_type, '.', 2), '*'])
  RETURNING id, webhook_id, application_id, status
$$;

-- The latest snapshot of an entity. Returns the row when something changed (with `created` true
-- for a new entity or a deleted one coming back), nothing when it did not. The row lock
-- serialises concurrent writers of one entity, so versions never repeat.
CREATE FUNCTION herald_upsert_entity(p_type text, p_id text, p_scopes text[], p_data jsonb)
RETURNS TABLE (created boolean, type text, id text, scopes text[], data jsonb, version bigint,
               created_at timestamptz, updated_at timestamptz, deleted_at timestamptz)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  old entities;
  new_row entities;
BEGIN
  SELECT * INTO old FROM entities WHERE type = p_type AND id = p_id FOR UPDATE;
  INSERT INTO entities AS e (type, id, scopes, data) VALUES (p_type, p_id, p_scopes, p_data)
  ON CONFLICT (type, id) DO UPDATE
     SET scopes = EXCLUDED.scopes, data = EXCLUDED.data, version = e.version + 1,
         updated_at = now(), deleted_at = NULL
   WHERE e.deleted_at IS NOT NULL OR e.data IS DISTINCT FROM EXCLUDED.data
      OR e.scopes IS DISTINCT FROM EXCLUDED.scopes
  RETURNING * INTO new_row;
  IF FOUND THEN
    RETURN QUERY SELECT old.id IS NULL OR old.deleted_at IS NOT NULL, new_row.type, new_row.id, new_row.scopes,
                        new_row.data, new_row.version, new_row.created_at, new_row.updated_at, new_row.deleted_at;
  END IF;
END $$;

-- Marks an entity deleted (a tombstone keeps its last data for the event); nothing if absent.
CREATE FUNCTION herald_delete_entity(p_type text, p_id text)
RETURNS SETOF entities LANGUAGE sql AS $$
  UPDATE entities SET deleted_at = now(), version = version + 1, updated_at = now()
   WHERE type = p_type AND id = p_id AND deleted_at IS NULL
  RETURNING *
$$;

-- POST /v1/events: updates Herald's snapshot of the entity (syncs read it) and writes the event
-- with its fan-out. Data and scopes the event leaves out are the entity's last ones. An event id
-- seen before returns its first deliveries and changes nothing (`duplicate`). Runs as one
-- statement, so in one transaction; the entity's row stays locked to its end, so concurrent events
-- of one entity apply one by one.
CREATE FUNCTION herald_publish(p_id text, p_type text, p_action text, p_entity_type text, p_entity_id text,
                               p_data jsonb, p_scopes text[])
RETURNS TABLE (duplicate boolean, id text, webhook_id text, application_id text, status text)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  known entities;
  v_data jsonb;
  v_scopes text[];
BEGIN
  SELECT * INTO known FROM entities WHERE type = p_entity_type AND id = p_entity_id FOR UPDATE;
  IF EXISTS (SELECT 1 FROM events WHERE id = p_id) THEN
    RETURN QUERY SELECT true, d.id, d.webhook_id, d.application_id, d.status
                   FROM deliveries d WHERE d.event_id = p_id ORDER BY d.id;
    RETURN;
  END IF;
  v_scopes := coalesce(p_scopes, known.scopes, '{}');
  v_data := coalesce(p_data, known.data, '{}');
  IF p_action = 'deleted' THEN
    PERFORM herald_delete_entity(p_entity_type, p_entity_id);
  ELSE
    PERFORM herald_upsert_entity(p_entity_type, p_entity_id, v_scopes, v_data);
  END IF;
  -- A concurrent event with this id (for another entity) makes this fail with unique_violation,
  -- which undoes the entity change; the caller then reads the first one.
  INSERT INTO events (id, type, action, entity_type, entity_id, data, scopes)
  VALUES (p_id, p_type, p_action, p_entity_type, p_entity_id, v_data, v_scopes);
  RETURN QUERY SELECT false, f.id, f.webhook_id, f.application_id, f.status
                 FROM herald_fan_out(p_id, p_type, p_entity_type, v_scopes) f ORDER BY f.id;
END $$;
