// The API's fixed words: key scopes, event actions, delivery states. Nothing is imported here, so
// the panel bundles this file as it is (ui/src/api.ts), and the two cannot disagree.

/** What an application key may hold: its own application's webhooks, deliveries and syncs. */
export const KEY_SCOPES = ['webhooks:read', 'webhooks:write', 'deliveries:read', 'sync:run'] as const;
/** What a publisher key (the host system's, attached to no application) may hold. */
export const PUBLISHER_SCOPES = ['events:publish', 'entities:write'] as const;
export const ACTIONS = ['created', 'updated', 'deleted', 'test', 'sync'] as const;
/** A delivery's states; docs/lifecycle.md draws the transitions and names each one's writer. */
export const DELIVERY_STATUSES = [
  'pending',
  'held',
  'sending',
  'retrying',
  'succeeded',
  'failed',
  'cancelled',
] as const;
