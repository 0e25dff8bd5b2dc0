-- The delivery lifecycle with one owner per delivery (docs/lifecycle.md): a `sending` state, the
-- workflow that owns each delivery, why a delivery failed, responses stored as bytes, a durable
-- outbox for the sync and release workflows, and the attempt gate and failure as functions.

-- States: `sending` is an attempt under way (its request started and not yet recorded).
ALTER TABLE deliveries DROP CONSTRAINT deliveries_status_check;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_status_check
  CHECK (status IN ('pending', 'held', 'sending', 'retrying', 'succeeded', 'failed', 'cancelled'));

-- The owner: the workflow that may send the delivery and write its state. NULL: nobody yet (a
-- pending delivery whose workflow the workers' starter is to start, or a retrying one that a sync
-- or release handed over after its attempt failed; a held one, which the webhook's release sends
-- after a resume).
ALTER TABLE deliveries ADD COLUMN workflow_id text;
-- The sync a delivery belongs to, for cancelling its unsent ones.
ALTER TABLE deliveries ADD COLUMN sync_id text;
-- Why a failed delivery failed: the receiver's last answer, or Herald's own trouble.
ALTER TABLE deliveries ADD COLUMN failure_reason text;

UPDATE deliveries d SET sync_id = e.sync ->> 'id' FROM events e WHERE e.id = d.event_id AND e.sync IS NOT NULL;
UPDATE deliveries d SET workflow_id = CASE
    WHEN d.sync_id IS NOT NULL AND d.status IN ('pending', 'held', 'succeeded') THEN 'sync:' || d.sync_id
    WHEN d.event_type = 'webhook.test' THEN
      coalesce('test:' || d.webhook_id || ':' || (SELECT min(a.id) FROM attempts a WHERE a.delivery_id = d.id),
               'delivery:' || d.id)
    ELSE 'delivery:' || d.id END
  WHERE d.workflow_started;
-- Unsent deliveries of syncs that have ended are never sent now: they end as cancelled.
UPDATE deliveries d SET status = 'cancelled', updated_at = now()
  FROM syncs s WHERE s.id = d.sync_id AND s.status IN ('completed', 'cancelled') AND d.status IN ('pending', 'held');
-- The old release marked held rows for the starter; releases are workflows now (see the outbox below).
UPDATE deliveries SET start_after = NULL WHERE status = 'held';

DROP TRIGGER deliveries_inserted_to_start ON deliveries;
DROP TRIGGER deliveries_released_to_start ON deliveries;
DROP INDEX deliveries_to_start;
ALTER TABLE deliveries DROP COLUMN workflow_started;

-- The workers' work list: deliveries nobody owns that wait for their workflow.
CREATE INDEX deliveries_to_start ON deliveries (id) WHERE workflow_id IS NULL AND status IN ('pending', 'retrying');
CREATE INDEX deliveries_sync ON deliveries (sync_id) WHERE sync_id IS NOT NULL;

CREATE FUNCTION herald_workflows_to_start() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('herald_workflows_to_start', '');
  RETURN NULL;
END $$;
CREATE TRIGGER deliveries_to_start AFTER INSERT ON deliveries
  FOR EACH ROW WHEN (NEW.status = 'pending' AND NEW.workflow_id IS NULL)
  EXECUTE FUNCTION herald_workflows_to_start();
-- A sync's or release's failed attempt hands the delivery over to its own workflow.
CREATE TRIGGER deliveries_handed_over AFTER UPDATE OF workflow_id, status ON deliveries
  FOR EACH ROW WHEN (NEW.status = 'retrying' AND NEW.workflow_id IS NULL
                     AND (OLD.workflow_id IS NOT NULL OR OLD.status <> 'retrying'))
  EXECUTE FUNCTION herald_workflows_to_start();
DROP FUNCTION herald_deliveries_to_start();

-- Workflows that API requests ask for, committed with the request's own rows (a sync, a resume):
-- the workers' starter starts or signals them and deletes the entry, so no request writes to
-- PostgreSQL and Temporal both. `start_after` is the claim's lease, as for deliveries.
CREATE TABLE workflow_outbox (
  id           bigserial PRIMARY KEY,
  kind         text NOT NULL CHECK (kind IN ('sync', 'release')),
  workflow_id  text NOT NULL,
  payload      jsonb NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  start_after  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX workflow_outbox_due ON workflow_outbox (start_after);
CREATE TRIGGER workflow_outbox_inserted AFTER INSERT ON workflow_outbox
  FOR EACH ROW EXECUTE FUNCTION herald_workflows_to_start();

-- A webhook whose release was under way in an API process at the upgrade: the outbox releases it.
INSERT INTO workflow_outbox (kind, workflow_id, payload)
SELECT DISTINCT 'release', 'release:' || w.id, jsonb_build_object('webhookId', w.id, 'applicationId', w.application_id)
  FROM webhooks w JOIN deliveries d ON d.webhook_id = w.id
 WHERE w.status = 'active' AND w.deleted_at IS NULL AND d.status = 'held' AND d.workflow_id IS NULL;

-- Syncs: every status change is the workflow's; `revision` orders its writes, so a page's
-- progress written late cannot overwrite a pause written after it.
ALTER TABLE syncs ADD COLUMN revision integer NOT NULL DEFAULT 0;

-- Response bodies as the bytes the receiver sent (NUL and invalid UTF-8 included).
ALTER TABLE attempts ALTER COLUMN response_body TYPE bytea USING convert_to(response_body, 'UTF8');

-- A webhook's last success, apart from the webhook row: recording a success never locks the
-- webhook, so it never waits on a status change and never deadlocks with a delete.
CREATE TABLE webhook_successes (
  webhook_id       text PRIMARY KEY REFERENCES webhooks (id) ON DELETE CASCADE,
  last_success_at  timestamptz
);
INSERT INTO webhook_successes (webhook_id, last_success_at) SELECT id, last_success_at FROM webhooks;
ALTER TABLE webhooks DROP COLUMN last_success_at;
CREATE FUNCTION herald_webhook_created() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO webhook_successes (webhook_id) VALUES (NEW.id);
  RETURN NULL;
END $$;
CREATE TRIGGER webhook_created AFTER INSERT ON webhooks FOR EACH ROW EXECUTE FUNCTION herald_webhook_created();

-- Throttles (a webhook's, else its application's default) and strict order, which the attempt
-- gate enforces for every kind of send. A rate is kept as the time of the next free slot; a
-- delivery that has to wait reserves its slot (`throttle_slot_at`) and comes back then, so waiting
-- deliveries do not compete for the same slot; and no two sends start closer than the rate allows
-- (`last_sent_at`), so deliveries whose timers fire late do not burst.
ALTER TABLE webhooks ADD COLUMN max_requests_per_second numeric CHECK (max_requests_per_second > 0);
ALTER TABLE webhooks ADD COLUMN max_in_flight integer CHECK (max_in_flight > 0);
ALTER TABLE webhooks ADD COLUMN ordering text NOT NULL DEFAULT 'none' CHECK (ordering IN ('none', 'strict'));
ALTER TABLE applications ADD COLUMN max_requests_per_second numeric CHECK (max_requests_per_second > 0);
ALTER TABLE applications ADD COLUMN max_in_flight integer CHECK (max_in_flight > 0);
CREATE TABLE webhook_throttles (
  webhook_id    text PRIMARY KEY REFERENCES webhooks (id) ON DELETE CASCADE,
  next_slot_at  timestamptz NOT NULL DEFAULT '-infinity',
  last_sent_at  timestamptz NOT NULL DEFAULT '-infinity'
);
ALTER TABLE deliveries ADD COLUMN throttle_slot_at timestamptz;

-- Locks: every writer takes the webhook row before delivery rows (the attempt gate, a failure,
-- a delete), so none of them can deadlock another; the gate takes a throttle row between the two.

-- The fan-out takes a share lock on each webhook it writes to, so a resume (which updates the row)
-- waits for publishes in flight, and a publish after it sees `active`: no delivery is held after
-- its webhook's release has looked.
CREATE OR REPLACE FUNCTION herald_fan_out(p_event_id text, p_type text, p_entity_type text, p_scopes text[])
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
     FOR SHARE OF w
  RETURNING id, webhook_id, application_id, status
$$;

-- The attempt gate, run by every send in a transaction that lasts until the request has started:
-- its share lock on the webhook row makes "no request starts after the pause call returns" hold.
-- `p_owner` is the calling workflow (NULL: a workflow from before owners, which skips the owner
-- rules). Verdicts:
--   send        the row is now `sending` and owned by the caller; the context columns are filled
--   done        it ended already (succeeded or failed): a repeated run
--   cancelled   cancelled, or its webhook deleted (marked cancelled here)
--   missing     no such delivery
--   inactive    the webhook is paused or disabled: the row is `held`, owned by the caller if
--               `p_keep_on_hold` (a sync waits for its webhook), else by nobody (the release's)
--   exhausted   it had every allowed attempt already
--   handed-over it is `retrying`, and the caller is a sync or release: its failed attempt handed
--               it over to its own workflow, which sends it from now on
--   not-owner   another workflow owns it
--   out-of-turn the webhook's ordering is strict and an older delivery to it has not ended
--   throttled   the webhook's rate or in-flight limit says wait: until `next_attempt_at` (its
--               reserved slot), or, for the in-flight limit, a while (NULL)
-- A delivery's own workflow also takes over a `retrying` row that a sync from before owners
-- handed over to it as a child workflow.
CREATE FUNCTION herald_begin_attempt(p_delivery_id text, p_owner text, p_max_attempts int, p_test boolean,
                                     p_keep_on_hold boolean)
RETURNS TABLE (verdict text, attempt_count int, next_attempt_at timestamptz, application_id text,
               event_id text, event_type text, action text, entity_type text, entity_id text, data jsonb,
               sync jsonb, event_created_at timestamptz, webhook_id text, url text, method text,
               signature text, headers jsonb, webhook_status text, secrets text[])
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
                        NULL::jsonb, NULL::timestamptz, NULL, NULL, NULL, NULL, NULL::jsonb, NULL, NULL::text[];
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
      -- 10 % over the rate's own gap: the gate spaces the starts, but on a busy worker the time from
      -- the gate to the request on the wire varies by tens of ms, and the receiver counts arrivals.
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
      -- Otherwise its reserved slot has come, or it needs none: it is sent now.
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
                        w.status, NULL::text[];
    RETURN;
  END IF;
  IF verdict <> 'send' THEN
    RETURN QUERY SELECT verdict, d.attempt_count, d.next_attempt_at, d.application_id, NULL, NULL, NULL, NULL,
                        NULL, NULL::jsonb, NULL::jsonb, NULL::timestamptz, w.id, NULL, NULL, NULL, NULL::jsonb,
                        w.status, NULL::text[];
    RETURN;
  END IF;
  RETURN QUERY
    SELECT verdict, d.attempt_count, d.next_attempt_at, d.application_id, e.id, e.type, e.action, e.entity_type,
           e.entity_id, e.data, e.sync, e.created_at, w.id, w.url, w.method, w.signature, w.headers, w.status,
           array_remove(ARRAY[w.secret, CASE WHEN w.previous_secret_expires_at > now() THEN w.previous_secret END],
                        NULL)
      FROM events e WHERE e.id = d.event_id;
END $$;

-- A delivery whose retries ran out (or that Herald could not complete) is failed with its reason.
-- A receiver's failure also disables the webhook when it had no success since the delivery's
-- first attempt. Takes the webhook row first, like every other writer of both. Returns whether it
-- disabled the webhook.
CREATE FUNCTION herald_fail_delivery(p_delivery_id text, p_reason text, p_disable_reason text)
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
  d deliveries;
BEGIN
  PERFORM 1 FROM webhooks WHERE id = (SELECT webhook_id FROM deliveries WHERE id = p_delivery_id) FOR NO KEY UPDATE;
  UPDATE deliveries SET status = 'failed', failure_reason = p_reason, next_attempt_at = NULL, updated_at = now()
   WHERE id = p_delivery_id AND status NOT IN ('succeeded', 'cancelled', 'failed')
  RETURNING * INTO d;
  IF NOT FOUND OR p_disable_reason IS NULL THEN
    RETURN false;
  END IF;
  UPDATE webhooks w SET status = 'disabled', disabled_reason = p_disable_reason, updated_at = now()
   WHERE w.id = d.webhook_id AND w.status = 'active' AND w.deleted_at IS NULL
     AND NOT EXISTS (SELECT 1 FROM webhook_successes s
                      WHERE s.webhook_id = w.id AND s.last_success_at >= d.first_attempt_at);
  RETURN FOUND;
END $$;
