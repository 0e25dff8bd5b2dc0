-- A repeated event id answers what its first publish answered (DESIGN.md: idempotency), and that
-- answer gave each delivery the status it was created with (pending, or held for a webhook that
-- was not active). By the time a repeat comes, the delivery has usually moved on (a repeat sent at
-- the same moment can find it succeeded), so that first status is kept beside the current one.
-- Rows from before this migration have none; a repeat of those answers their current status.
ALTER TABLE deliveries ADD COLUMN created_status text;

CREATE FUNCTION herald_keep_created_status() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.created_status := NEW.status;
  RETURN NEW;
END $$;

CREATE TRIGGER deliveries_created_status BEFORE INSERT ON deliveries
  FOR EACH ROW EXECUTE FUNCTION herald_keep_created_status();
