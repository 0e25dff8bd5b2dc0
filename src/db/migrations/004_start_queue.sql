-- Workers start delivery workflows from the deliveries table itself (src/temporal/starter.ts): the
-- API only commits rows, and a worker claims deliveries whose workflow is not started yet, starts
-- them (eagerly, so the first workflow task comes back in the start's answer), and marks them.

-- When a worker may start the delivery's workflow. NULL on a pending row means at once; a held
-- row waits (NULL) until a resume releases it (now()). A claim pushes it out by a lease, so a
-- worker that dies between claiming and starting loses nothing: another claims the row later.
ALTER TABLE deliveries ADD COLUMN start_after timestamptz;

-- The workers' work list.
DROP INDEX deliveries_unstarted;
CREATE INDEX deliveries_to_start ON deliveries (id)
  WHERE NOT workflow_started AND (status = 'pending' OR start_after IS NOT NULL);

-- Wakes the workers as soon as such a row commits (new, or released by a resume; not a claim,
-- whose start_after lies ahead); they also look every second without it. Notifications with the
-- same payload in one transaction are folded into one.
CREATE FUNCTION herald_deliveries_to_start() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('herald_deliveries_to_start', '');
  RETURN NULL;
END $$;
CREATE TRIGGER deliveries_inserted_to_start AFTER INSERT ON deliveries
  FOR EACH ROW WHEN (NEW.status = 'pending' AND NOT NEW.workflow_started)
  EXECUTE FUNCTION herald_deliveries_to_start();
CREATE TRIGGER deliveries_released_to_start AFTER UPDATE OF start_after ON deliveries
  FOR EACH ROW WHEN (NOT NEW.workflow_started AND NEW.start_after <= now())
  EXECUTE FUNCTION herald_deliveries_to_start();
