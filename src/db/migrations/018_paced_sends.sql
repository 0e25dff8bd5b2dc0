-- The attempt gate says whether the send it allows is paced (its webhook has a rate), so the caller
-- can stamp the webhook's `last_sent_at` when the request has started, in the gate's transaction,
-- which holds the throttle row until it commits. Stamped at the gate's decision only (migration
-- 006), a worker slow to put the request on the wire (a busy event loop: tens of ms, at times over
-- a hundred) could let the next send, decided a gap after this one's decision, go out less than a
-- gap after this one's request (a 5/s webhook saw 6 requests in one second on a loaded CI run). With
-- the stamp, the next decision comes a gap after this request has started, in real time, whatever
-- either worker's delay.
--
-- A new name rather than a new definition of herald_begin_attempt: workers from before this
-- migration hold it as a prepared statement, and a changed result type fails every later execution
-- of it on that connection ("cached plan must not change result type") until they restart. So
-- herald_begin_attempt stays, unchanged, for them during a rolling upgrade; a later migration drops
-- it once no worker from before 018 runs. The body is migration 006's but for `paced` and two
-- comments; its verdicts are documented there.
CREATE FUNCTION herald_attempt_gate(p_delivery_id text, p_owner text, p_max_attempts int, p_test boolean,
                                     p_keep_on_hold boolean)
RETURNS TABLE (verdict text, attempt_count int, next_attempt_at timestamptz, application_id text,
               event_id text, event_type text, action text, entity_type text, entity_id text, data jsonb,
               sync jsonb, event_created_at timestamptz, webhook_id text, url text, method text,
               signature text, headers jsonb, webhook_status text, secrets text[],
               paced boolean)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  d deliveries;
  w webhooks;
  own boolean;
  v_rate numeric;
  v_in_flight integer;
  v_next timestamptz;
  v_last timestamptz;
  v_gap interval;
  v_now timestamptz;
  v_slot timestamptz;
BEGIN
  SELECT * INTO d FROM deliveries WHERE id = p_delivery_id;
  IF NOT FOUND THEN
    RETURN QUERY SELECT 'missing', 0, NULL::timestamptz, NULL, NULL, NULL, NULL, NULL, NULL, NULL::jsonb,
                        NULL::jsonb, NULL::timestamptz, NULL, NULL, NULL, NULL, NULL::jsonb, NULL, NULL::text[], false;
    RETURN;
  END IF;
  SELECT * INTO w FROM webhooks WHERE id = d.webhook_id FOR SHARE;
  -- The row as it is once the webhook is locked (a delete or hold may have committed meanwhile).
  SELECT * INTO d FROM deliveries WHERE id = p_delivery_id;
  own := p_owner IS NULL OR d.workflow_id IS NULL OR d.workflow_id = p_owner
         OR (p_owner = 'delivery:' || d.id AND d.status = 'retrying');
  IF d.status IN ('succeeded', 'failed') THEN
    verdict := 'done';
  ELSIF d.status = 'cancelled' OR w.deleted_at IS NOT NULL THEN
    UPDATE deliveries SET status = 'cancelled', next_attempt_at = NULL, updated_at = now()
     WHERE id = d.id AND status <> 'cancelled';
    verdict := 'cancelled';
  ELSIF NOT own THEN
    verdict := 'not-owner';
  ELSIF d.status = 'retrying' AND (p_owner LIKE 'sync:%' OR p_owner LIKE 'release:%') THEN
    verdict := 'handed-over';
  ELSIF w.status <> 'active' AND NOT p_test THEN
    UPDATE deliveries SET status = 'held', next_attempt_at = NULL, start_after = NULL, throttle_slot_at = NULL,
                          updated_at = now(), workflow_id = CASE WHEN p_keep_on_hold THEN coalesce(p_owner, workflow_id) END
     WHERE id = d.id;
    verdict := 'inactive';
  ELSIF p_max_attempts IS NOT NULL AND d.attempt_count >= p_max_attempts AND NOT p_test THEN
    IF p_owner LIKE 'sync:%' OR p_owner LIKE 'release:%' THEN
      -- Its own workflow fails it (with its last error): handed over like a failed attempt.
      UPDATE deliveries SET status = 'retrying', workflow_id = NULL, next_attempt_at = NULL, updated_at = now()
       WHERE id = d.id;
      verdict := 'handed-over';
    ELSE
      verdict := 'exhausted';
    END IF;
  ELSIF w.ordering = 'strict' AND NOT p_test AND d.sync_id IS NULL
        AND EXISTS (SELECT 1 FROM deliveries o
                     WHERE o.webhook_id = w.id AND o.id < d.id AND o.sync_id IS NULL
                       AND o.status IN ('pending', 'held', 'sending', 'retrying')) THEN
    verdict := 'out-of-turn';
  ELSE
    IF NOT p_test THEN
      SELECT coalesce(w.max_requests_per_second, a.max_requests_per_second), coalesce(w.max_in_flight, a.max_in_flight)
        INTO v_rate, v_in_flight FROM applications a WHERE a.id = w.application_id;
    END IF;
    IF v_rate IS NOT NULL OR v_in_flight IS NOT NULL THEN
      -- One throttle row per webhook, locked: the gates of one webhook's sends take turns here.
      INSERT INTO webhook_throttles (webhook_id) VALUES (w.id) ON CONFLICT DO NOTHING;
      SELECT next_slot_at, last_sent_at INTO v_next, v_last FROM webhook_throttles WHERE webhook_id = w.id FOR UPDATE;
      v_now := clock_timestamp();
      -- 10 % over the rate's own gap: the starts are spaced on Herald's side (see `paced`), but the
      -- receiver counts arrivals by its own clock, which loopback, its network and its own load move.
      v_gap := make_interval(secs => 1.10 / v_rate);
      IF v_in_flight IS NOT NULL
         AND (SELECT count(*) FROM deliveries o WHERE o.webhook_id = w.id AND o.status = 'sending') >= v_in_flight THEN
        verdict := 'throttled';
      ELSIF v_rate IS NOT NULL AND d.throttle_slot_at > v_now THEN
        verdict := 'throttled'; -- back before its slot
        v_slot := d.throttle_slot_at;
      ELSIF v_rate IS NOT NULL AND d.throttle_slot_at IS NULL THEN
        v_slot := greatest(v_next, v_now, v_last + v_gap);
        UPDATE webhook_throttles SET next_slot_at = v_slot + v_gap WHERE webhook_id = w.id;
        IF v_slot > v_now THEN
          UPDATE deliveries SET throttle_slot_at = v_slot WHERE id = d.id;
          verdict := 'throttled';
        END IF;
      ELSIF v_rate IS NOT NULL AND v_now < v_last + v_gap THEN
        -- Its slot has come, but another send started too recently (timers fire late): it keeps
        -- its place and tries again as soon as the gap is over (in place, within the activity).
        -- Sent to the end of the queue instead, late ones would push each other back for ever
        -- on a busy machine.
        v_slot := v_last + v_gap;
        verdict := 'throttled';
      END IF;
      -- Otherwise its reserved slot has come, or it needs none: it is sent now. The caller stamps
      -- `last_sent_at` again once its request has started (`paced`), before it commits.
      IF verdict IS NULL AND v_rate IS NOT NULL THEN
        UPDATE webhook_throttles SET last_sent_at = v_now WHERE webhook_id = w.id;
      END IF;
    END IF;
    IF verdict IS NULL THEN
      UPDATE deliveries SET status = 'sending', workflow_id = coalesce(p_owner, workflow_id), next_attempt_at = NULL,
                            start_after = NULL, throttle_slot_at = NULL, updated_at = now()
       WHERE id = d.id;
      verdict := 'send';
    END IF;
  END IF;
  IF verdict = 'throttled' THEN
    RETURN QUERY SELECT verdict, d.attempt_count, v_slot, d.application_id, NULL, NULL, NULL, NULL,
                        NULL, NULL::jsonb, NULL::jsonb, NULL::timestamptz, w.id, NULL, NULL, NULL, NULL::jsonb,
                        w.status, NULL::text[], false;
    RETURN;
  END IF;
  IF verdict <> 'send' THEN
    RETURN QUERY SELECT verdict, d.attempt_count, d.next_attempt_at, d.application_id, NULL, NULL, NULL, NULL,
                        NULL, NULL::jsonb, NULL::jsonb, NULL::timestamptz, w.id, NULL, NULL, NULL, NULL::jsonb,
                        w.status, NULL::text[], false;
    RETURN;
  END IF;
  RETURN QUERY
    SELECT verdict, d.attempt_count, d.next_attempt_at, d.application_id, e.id, e.type, e.action, e.entity_type,
           e.entity_id, e.data, e.sync, e.created_at, w.id, w.url, w.method, w.signature, w.headers, w.status,
           array_remove(ARRAY[w.secret, CASE WHEN w.previous_secret_expires_at > now() THEN w.previous_secret END],
                        NULL),
           v_rate IS NOT NULL
      FROM events e WHERE e.id = d.event_id;
END $$;
