-- Full syncs: one row per sync, mirroring the sync workflow's progress for the API.

CREATE TABLE syncs (
  id              text PRIMARY KEY,
  webhook_id      text NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
  application_id  text NOT NULL,
  entity_types    text[] NOT NULL,
  status          text NOT NULL CHECK (status IN ('running', 'paused', 'waiting', 'completed', 'cancelled')),
  total           integer,
  sent            integer NOT NULL DEFAULT 0,
  failed          integer NOT NULL DEFAULT 0,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  finished_at     timestamptz
);
-- One sync per webhook at a time: a second start conflicts here (409).
CREATE UNIQUE INDEX syncs_one_active ON syncs (webhook_id) WHERE status IN ('running', 'paused', 'waiting');
CREATE INDEX syncs_webhook ON syncs (webhook_id, id DESC);
