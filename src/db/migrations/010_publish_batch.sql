-- POST /v1/events/batch: up to 500 events in one statement, so in one transaction and one round
-- trip, each exactly as POST /v1/events publishes it (herald_publish, migration 005). One row per
-- event, in order: whether its id was seen before, and its deliveries (the first ones, for a repeat).
CREATE FUNCTION herald_publish_batch(p_events jsonb)
RETURNS TABLE (idx int, duplicate boolean, deliveries jsonb)
LANGUAGE plpgsql AS $$
DECLARE
  e jsonb;
  i int := 0;
  v_scopes text[];
BEGIN
  FOR e IN SELECT value FROM jsonb_array_elements(p_events) LOOP
    -- Scopes left out are the entity's last ones; an empty list is an empty list.
    v_scopes := CASE WHEN e ? 'scopes'
                     THEN coalesce((SELECT array_agg(s) FROM jsonb_array_elements_text(e -> 'scopes') s), '{}') END;
    idx := i;
    duplicate := EXISTS (SELECT 1 FROM events WHERE id = e ->> 'id');
    SELECT coalesce(jsonb_agg(jsonb_build_object('id', p.id, 'webhookId', p.webhook_id,
                                                 'applicationId', p.application_id, 'status', p.status)
                              ORDER BY p.id), '[]')
      INTO deliveries
      FROM herald_publish(e ->> 'id', e ->> 'type', e ->> 'action', e ->> 'entityType', e ->> 'entityId',
                          e -> 'data', v_scopes) p;
    RETURN NEXT;
    i := i + 1;
  END LOOP;
END $$;
