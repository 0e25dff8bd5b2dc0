-- The live delivery log hears of attempts from recordAttempt's NOTIFY. A delivery also reaches
-- held, failed and cancelled without an attempt (a publish while paused, the gate, the last
-- retry's fail, a delete), so these tell the API processes too, whoever wrote them.
CREATE FUNCTION herald_notify_delivery_state() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND OLD.status = NEW.status THEN
    RETURN NULL;
  END IF;
  PERFORM pg_notify('herald_delivery_states', json_build_object(
    'webhookId', NEW.webhook_id, 'deliveryId', NEW.id, 'eventId', NEW.event_id,
    'eventType', NEW.event_type, 'deliveryStatus', NEW.status, 'attemptCount', NEW.attempt_count,
    'nextAttemptAt', NEW.next_attempt_at, 'createdAt', NEW.created_at)::text);
  RETURN NULL;
END $$;

CREATE TRIGGER deliveries_state_notice
  AFTER INSERT OR UPDATE OF status ON deliveries
  FOR EACH ROW WHEN (NEW.status IN ('held', 'failed', 'cancelled'))
  EXECUTE FUNCTION herald_notify_delivery_state();
