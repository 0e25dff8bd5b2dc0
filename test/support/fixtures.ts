import type { ApiClient } from './client';

/** An application with one key holding every scope, for tests that act as a customer (publishing is the admin's or a publisher key's). */
export async function appWithKey(
  admin: ApiClient,
  access: { entityTypes: string[]; scopes: string[] } = { entityTypes: ['*'], scopes: ['*'] },
  scopes = ['webhooks:read', 'webhooks:write', 'deliveries:read', 'sync:run'],
) {
  const app = await admin.post('/v1/applications', { name: 'Test app', access });
  if (app.status !== 201) throw new Error(`create application: ${app.status} ${JSON.stringify(app.body)}`);
  const key = await admin.post(`/v1/applications/${app.body.id}/keys`, { name: 'test key', scopes });
  if (key.status !== 201) throw new Error(`create key: ${key.status} ${JSON.stringify(key.body)}`);
  return { app: app.body, token: key.body.token as string, keyId: key.body.id as string };
}

export async function createWebhook(client: ApiClient, body: Record<string, unknown>) {
  const res = await client.post('/v1/webhooks', body);
  if (res.status !== 201) throw new Error(`create webhook: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as { id: string; secret: string; [k: string]: unknown };
}

let counter = 0;
export function personEvent(id = String(++counter), extra: Record<string, unknown> = {}) {
  return {
    type: 'person.updated',
    entity: { type: 'person', id },
    data: { name: `Person ${id}` },
    scopes: ['org:1'],
    ...extra,
  };
}

/** The time from each attempt's start to the next's, by Herald's clock (their `startedAt`). */
export function attemptGaps(attempts: { startedAt: string }[]): number[] {
  const starts = attempts.map((a) => Date.parse(a.startedAt));
  return starts.slice(1).map((t, i) => t - starts[i]);
}
