-- Publishing a batch in one set-wide statement instead of one herald_publish per event: the
-- per-statement work of PL/pgSQL was most of PostgreSQL's 0.27 ms per event (docs/performance.md,
-- "Batch ingest"). A single event stays with herald_publish, which costs less for one.

-- Who gets an event: every live webhook whose application may see the entity (type and scope)
-- and whose filter selects the event type; a webhook that is not active gets it held. The share
-- lock on each webhook makes a resume (which updates the row) wait for publishes in flight, and a
-- publish after it sees `active`: no delivery is held after its webhook's release has looked.
CREATE FUNCTION herald_audience(p_type text, p_entity_type text, p_scopes text[])
RETURNS TABLE (webhook_id text, application_id text, status text) LANGUAGE sql AS $$
  SELECT w.id, w.application_id, CASE WHEN w.status = 'active' THEN 'pending' ELSE 'held' END
    FROM webhooks w JOIN applications a ON a.id = w.application_id
   WHERE w.deleted_at IS NULL
     AND ('*' = ANY (a.entity_types) OR p_entity_type = ANY (a.entity_types))
     AND ('*' = ANY (a.scopes) OR a.scopes && p_scopes)
     AND (cardinality(w.events) = 0
          OR w.events && ARRAY[p_type, p_entity_type || '.*', '*.' || split_part(p_type, '.', 2), '*'])
     FOR SHARE OF w
$$;

-- One event's fan-out: herald_publish's, and the entity routes' (in their own transaction).
CREATE OR REPLACE FUNCTION herald_fan_out(p_event_id text, p_type text, p_entity_type text, p_scopes text[])
RETURNS TABLE (id text, webhook_id text, application_id text, status text) LANGUAGE sql AS $$
  INSERT INTO deliveries (id, event_id, webhook_id, application_id, event_type, status)
  SELECT herald_id('dlv'), p_event_id, a.webhook_id, a.application_id, p_type, a.status
    FROM herald_audience(p_type, p_entity_type, p_scopes) a
  RETURNING id, webhook_id, application_id, status
$$;

-- Events whose ids and entities each occur once, in one statement: lock the entities the batch
-- names (in key order, so two batches cannot deadlock), leave out the ids seen before, change each
-- entity (herald_upsert_entity and herald_delete_entity, as the entity routes do), write the
-- events and their fan-out. Data and scopes an event leaves out are the entity's last ones. One
-- row per event, in order: whether its id was seen before, and its deliveries (the first ones, for
-- a repeat). A concurrent publish of one of these ids fails the statement with unique_violation
-- (src/db/queries/events.ts tries again).
CREATE FUNCTION herald_publish_distinct(p_events jsonb)
RETURNS TABLE (idx int, duplicate boolean, deliveries jsonb) LANGUAGE plpgsql
-- Its plan is kept for the session (PL/pgSQL; planning it costs more than running it for a few
-- events), and a plan made while a table was young, or empty, would scan that table until the next
-- ANALYZE: every look-up here is one key per event (a lateral or scalar subquery, never a join the
-- planner may turn into a scan), and no sequential scan is taken at all.
SET enable_seqscan = off
AS $$
#variable_conflict use_column
BEGIN
  RETURN QUERY
  WITH input AS (
    SELECT (o - 1)::int AS idx, e ->> 'id' AS id, e ->> 'type' AS type, e ->> 'action' AS action,
           e ->> 'entityType' AS entity_type, e ->> 'entityId' AS entity_id, e -> 'data' AS data,
           CASE WHEN e ? 'scopes' THEN ARRAY(SELECT jsonb_array_elements_text(e -> 'scopes')) END AS scopes
      FROM jsonb_array_elements(p_events) WITH ORDINALITY AS t (e, o)
  ),
  known AS (
    SELECT i.idx, k.scopes, k.data
      FROM (SELECT * FROM input ORDER BY entity_type, entity_id) i
      LEFT JOIN LATERAL (SELECT en.scopes, en.data FROM entities en
                          WHERE en.type = i.entity_type AND en.id = i.entity_id
                          FOR UPDATE OFFSET 0) k ON true
  ),
  fresh AS (
    SELECT i.idx, i.id, i.type, i.action, i.entity_type, i.entity_id,
           coalesce(i.data, k.data, '{}') AS data, coalesce(i.scopes, k.scopes, '{}') AS scopes
      FROM input i JOIN known k ON k.idx = i.idx
     WHERE (SELECT true FROM events ev WHERE ev.id = i.id) IS NULL
  ),
  -- A SELECT runs only when read: `written` reads this one row, so every entity changes first.
  changed AS MATERIALIZED (
    SELECT count(CASE WHEN f.action = 'deleted'
                      THEN (SELECT 1 FROM herald_delete_entity(f.entity_type, f.entity_id))
                      ELSE (SELECT 1 FROM herald_upsert_entity(f.entity_type, f.entity_id, f.scopes, f.data))
                 END) AS entities
      FROM fresh f
  ),
  written AS (
    INSERT INTO events (id, type, action, entity_type, entity_id, data, scopes)
    SELECT f.id, f.type, f.action, f.entity_type, f.entity_id, f.data, f.scopes
      FROM fresh f CROSS JOIN changed ORDER BY f.idx
  ),
  -- Who gets an event depends on its type, entity type and scopes only: asked once for each.
  audiences AS (
    SELECT g.type, g.entity_type, g.scopes, a.webhook_id, a.application_id, a.status
      FROM (SELECT DISTINCT type, entity_type, scopes FROM fresh) g
     CROSS JOIN LATERAL herald_audience(g.type, g.entity_type, g.scopes) a
  ),
  fanned AS (
    INSERT INTO deliveries (id, event_id, webhook_id, application_id, event_type, status)
    SELECT herald_id('dlv'), f.id, a.webhook_id, a.application_id, f.type, a.status
      FROM fresh f
      JOIN audiences a ON a.type = f.type AND a.entity_type = f.entity_type AND a.scopes = f.scopes
     ORDER BY f.idx
    RETURNING id, event_id, webhook_id, application_id, status
  ),
  fanned_by_event AS (
    SELECT n.event_id, jsonb_agg(jsonb_build_object('id', n.id, 'webhookId', n.webhook_id,
                                                    'applicationId', n.application_id, 'status', n.status)
                                 ORDER BY n.id) AS deliveries
      FROM fanned n GROUP BY n.event_id
  )
  SELECT i.idx, f.idx IS NULL,
         CASE WHEN f.idx IS NULL
              THEN (SELECT coalesce(jsonb_agg(jsonb_build_object('id', o.id, 'webhookId', o.webhook_id,
                                                                 'applicationId', o.application_id, 'status', o.status)
                                              ORDER BY o.id), '[]')
                      FROM deliveries o WHERE o.event_id = i.id)
              ELSE coalesce(b.deliveries, '[]') END
    FROM input i LEFT JOIN fresh f ON f.idx = i.idx LEFT JOIN fanned_by_event b ON b.event_id = i.id
   ORDER BY i.idx;
END $$;

-- POST /v1/events/batch: up to 500 events in one statement, so one transaction and one round
-- trip. A batch that names an id or an entity more than once goes event by event, in order, as
-- migration 010 published every batch (kept as herald_publish_each), so each event sees what the
-- ones before it wrote.
ALTER FUNCTION herald_publish_batch(jsonb) RENAME TO herald_publish_each;

CREATE FUNCTION herald_publish_batch(p_events jsonb)
RETURNS TABLE (idx int, duplicate boolean, deliveries jsonb)
LANGUAGE plpgsql AS $$
BEGIN
  IF (SELECT count(DISTINCT x ->> 'id') = count(*)
             AND count(DISTINCT (x ->> 'entityType', x ->> 'entityId')) = count(*)
        FROM jsonb_array_elements(p_events) x) THEN
    RETURN QUERY SELECT * FROM herald_publish_distinct(p_events);
  ELSE
    RETURN QUERY SELECT * FROM herald_publish_each(p_events);
  END IF;
END $$;
