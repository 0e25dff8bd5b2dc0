-- Workers start delivery workflows from the deliveries table itself (src/temporal/starter.ts): the
-- API only commits rows, and a worker claims pending rows whose workflow is not started yet, starts
-- them (eagerly, so the first workflow task comes back in the start's answer), and marks them.

-- A claim is a lease: a worker that dies between claiming and starting loses nothing, another
-- worker claims the rows again once the lease has run out.
ALTER TABLE deliveries ADD COLUMN start_claimed_until timestamptz;

-- The workers' work list. Held rows wait for a resume, which starts them itself.
DROP INDEX deliveries_unstarted;
CREATE INDEX deliveries_to_start ON deliveries (created_at, id) WHERE NOT workflow_started AND status = 'pending';

-- Wakes the workers as soon as such a row commits; they also look every second without it.
-- Notifications with the same payload in one transaction are folded into one.
CREATE FUNCTION herald_deliveries_to_start() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('herald_deliveries_to_start', '');
  RETURN NULL;
END $$;
CREATE TRIGGER deliveries_to_start AFTER INSERT ON deliveries
  FOR EACH ROW WHEN (NEW.status = 'pending' AND NOT NEW.workflow_started)
  EXECUTE FUNCTION herald_deliveries_to_start();
