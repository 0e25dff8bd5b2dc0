-- Publishing is the host system's power, not a customer's: publisher keys are their own
-- resource, admin-managed and attached to no application (scopes events:publish, entities:write).
CREATE TABLE publisher_keys (
  id          text PRIMARY KEY,
  name        text NOT NULL,
  scopes      text[] NOT NULL CHECK (scopes <@ ARRAY['events:publish', 'entities:write']::text[]),
  token_hash  bytea NOT NULL UNIQUE,
  token_hint  text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  revoked_at  timestamptz
);

-- Application keys lose events:publish (it published to every application's webhooks). A key
-- that held nothing else is revoked: no route is left for it. The admin creates publisher keys
-- instead (README, "Publisher keys").
UPDATE api_keys SET revoked_at = now()
 WHERE revoked_at IS NULL AND scopes <@ ARRAY['events:publish']::text[];
UPDATE api_keys SET scopes = array_remove(scopes, 'events:publish')
 WHERE 'events:publish' = ANY (scopes);
ALTER TABLE api_keys ADD CONSTRAINT api_keys_no_publisher_scopes
  CHECK (NOT scopes && ARRAY['events:publish', 'entities:write']::text[]);
