-- Bulk recovery (POST /v1/webhooks/{id}/recover): one `recover:<id>` workflow redelivers every
-- delivery of a webhook in a window whose status is asked for (failed, by default), as Svix's
-- recover and Convoy's batch retry do. The API creates the row with its outbox entry; every later
-- change is the workflow's, numbered like a sync's (`revision`).
CREATE TABLE recoveries (
  id              text PRIMARY KEY,
  webhook_id      text NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
  application_id  text NOT NULL,
  since           timestamptz NOT NULL,
  until           timestamptz NOT NULL,
  statuses        text[] NOT NULL,
  status          text NOT NULL CHECK (status IN ('running', 'paused', 'completed', 'cancelled')),
  total           integer,
  redelivered     integer NOT NULL DEFAULT 0,
  revision        integer NOT NULL DEFAULT 0,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  finished_at     timestamptz
);
CREATE INDEX recoveries_webhook ON recoveries (webhook_id, id DESC);
-- One recovery per webhook at a time (409 for a second).
CREATE UNIQUE INDEX recoveries_one_active ON recoveries (webhook_id) WHERE status IN ('running', 'paused');

-- A recovery's redeliveries, once per delivery it recovers (a retried page writes nothing twice).
ALTER TABLE deliveries ADD COLUMN recovery_id text;
ALTER TABLE deliveries ADD COLUMN redelivery_of text;
CREATE UNIQUE INDEX deliveries_recovered ON deliveries (recovery_id, redelivery_of) WHERE recovery_id IS NOT NULL;

ALTER TABLE workflow_outbox DROP CONSTRAINT workflow_outbox_kind_check;
ALTER TABLE workflow_outbox ADD CONSTRAINT workflow_outbox_kind_check CHECK (kind IN ('sync', 'release', 'recovery'));
