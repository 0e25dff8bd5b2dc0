-- Applications, their API keys, webhooks, events, deliveries and attempts.

CREATE TABLE applications (
  id            text PRIMARY KEY,
  name          text NOT NULL,
  entity_types  text[] NOT NULL,
  scopes        text[] NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE api_keys (
  id              text PRIMARY KEY,
  application_id  text NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
  name            text NOT NULL,
  scopes          text[] NOT NULL,
  subject_type    text,
  subject_id      text,
  -- sha256 of the token: tokens are 256-bit random, so a fast hash is enough and lookups stay O(1).
  token_hash      bytea NOT NULL UNIQUE,
  token_hint      text NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  revoked_at      timestamptz
);
CREATE INDEX api_keys_application ON api_keys (application_id, id);

CREATE TABLE webhooks (
  id                          text PRIMARY KEY,
  application_id              text NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
  label                       text NOT NULL DEFAULT '',
  url                         text NOT NULL,
  method                      text NOT NULL CHECK (method IN ('POST', 'GET')),
  events                      text[] NOT NULL DEFAULT '{}',
  signature                   text NOT NULL CHECK (signature IN ('standard-webhooks', 'hmac-sha256')),
  secret                      text NOT NULL,
  previous_secret             text,
  previous_secret_expires_at  timestamptz,
  sync_interval_ms            integer NOT NULL DEFAULT 0,
  headers                     jsonb NOT NULL DEFAULT '{}',
  status                      text NOT NULL CHECK (status IN ('active', 'paused', 'disabled')),
  disabled_reason             text,
  last_success_at             timestamptz,
  created_at                  timestamptz NOT NULL DEFAULT now(),
  updated_at                  timestamptz NOT NULL DEFAULT now(),
  deleted_at                  timestamptz
);
CREATE INDEX webhooks_application ON webhooks (application_id, id) WHERE deleted_at IS NULL;

CREATE TABLE entities (
  type        text NOT NULL,
  id          text NOT NULL,
  scopes      text[] NOT NULL DEFAULT '{}',
  data        jsonb NOT NULL DEFAULT '{}',
  version     bigint NOT NULL DEFAULT 1,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  deleted_at  timestamptz,
  PRIMARY KEY (type, id)
);

CREATE TABLE events (
  id           text PRIMARY KEY,
  type         text NOT NULL,
  action       text NOT NULL,
  entity_type  text NOT NULL,
  entity_id    text NOT NULL,
  data         jsonb NOT NULL DEFAULT '{}',
  scopes       text[] NOT NULL DEFAULT '{}',
  sync         jsonb,
  created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX events_created ON events (created_at);

CREATE TABLE deliveries (
  id                text PRIMARY KEY,
  event_id          text NOT NULL REFERENCES events (id) ON DELETE CASCADE,
  webhook_id        text NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
  application_id    text NOT NULL,
  event_type        text NOT NULL,
  status            text NOT NULL CHECK (status IN ('pending', 'held', 'retrying', 'succeeded', 'failed', 'cancelled')),
  workflow_started  boolean NOT NULL DEFAULT false,
  attempt_count     integer NOT NULL DEFAULT 0,
  first_attempt_at  timestamptz,
  last_attempt_at   timestamptz,
  next_attempt_at   timestamptz,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now()
);
-- "The latest deliveries of this webhook", optionally by status; ids sort by creation time.
CREATE INDEX deliveries_webhook_latest ON deliveries (webhook_id, id DESC);
CREATE INDEX deliveries_webhook_status ON deliveries (webhook_id, status, id);
CREATE INDEX deliveries_event ON deliveries (event_id);
-- The recovery loop's work list: rows whose workflow start may have been lost.
CREATE INDEX deliveries_unstarted ON deliveries (created_at) WHERE NOT workflow_started;

CREATE TABLE attempts (
  id                text PRIMARY KEY,
  delivery_id       text NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
  webhook_id        text NOT NULL,
  attempt_number    integer NOT NULL,
  started_at        timestamptz NOT NULL,
  duration_ms       integer NOT NULL,
  outcome           text NOT NULL CHECK (outcome IN ('succeeded', 'failed', 'blocked')),
  request_url       text NOT NULL,
  request_method    text NOT NULL,
  request_headers   jsonb NOT NULL,
  request_body      text NOT NULL,
  response_status   integer,
  response_headers  jsonb,
  response_body     text,
  error_kind        text,
  error_message     text
);
CREATE INDEX attempts_delivery ON attempts (delivery_id, id);
