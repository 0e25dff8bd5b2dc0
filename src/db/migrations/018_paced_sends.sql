-- The attempt gate, with one answer more: whether the send it allows is paced (its webhook has a
-- rate), so the caller can stamp the webhook's `last_sent_at` once the request has started, in the
-- gate's transaction, which holds the throttle row until it commits. Stamped at the gate's decision
-- only (migration 006), a worker slow to put the request on the wire (a busy event loop: tens of
-- ms, at times over a hundred) could let the next send, decided a gap after this one's decision, go
-- out less than a gap after this one's request (a 5/s webhook saw 6 requests in one second on a
-- loaded CI run). With the stamp, the next decision comes a gap after this request has started, in
-- real time, whatever either worker's delay.
--
-- A wrapper, so the gate's rules stay in one place (herald_begin_attempt, migration 006, which
-- documents the verdicts), and a new name, because workers from before this migration hold
-- herald_begin_attempt as a prepared statement: a changed result type would fail every later
-- execution of it on that connection ("cached plan must not change result type") until they
-- restarted. `paced` follows the gate's own reading of the rate (none for a test send). The
-- webhook row is the one the gate has just locked.
CREATE FUNCTION herald_attempt_gate(p_delivery_id text, p_owner text, p_max_attempts int, p_test boolean,
                                    p_keep_on_hold boolean)
RETURNS TABLE (verdict text, attempt_count int, next_attempt_at timestamptz, application_id text,
               event_id text, event_type text, action text, entity_type text, entity_id text, data jsonb,
               sync jsonb, event_created_at timestamptz, webhook_id text, url text, method text,
               signature text, headers jsonb, webhook_status text, secrets text[],
               paced boolean)
LANGUAGE sql AS $$
  SELECT g.*,
         g.verdict = 'send' AND NOT p_test
         AND EXISTS (SELECT 1 FROM webhooks w JOIN applications a ON a.id = w.application_id
                      WHERE w.id = g.webhook_id
                        AND coalesce(w.max_requests_per_second, a.max_requests_per_second) IS NOT NULL)
    FROM herald_begin_attempt(p_delivery_id, p_owner, p_max_attempts, p_test, p_keep_on_hold) g
$$;
