// Bulk recovery (issue 15): one `recover:<id>` workflow redelivers a webhook's failed deliveries of
// a time window, with progress; the receiver gets the same events (the same webhook-id) again.
import { type ApiClient, apiClient, eventually } from '../support/client';
import { appWithKey, createWebhook, personEvent } from '../support/fixtures';
import { admin, receiver, stack, useStack } from '../support/suite';

let key: ApiClient;

useStack();
beforeAll(async () => {
  key = apiClient(
    stack.api.url,
    (await appWithKey(admin, { entityTypes: ['person'], scopes: ['rec'] })).token,
  );
});

test('recover redelivers every failed delivery of the window once, with progress, and the receiver gets the same events', async () => {
  const path = '/recover';
  let failing = true;
  receiver.reply((r) => (r.path === path && failing ? { status: 500 } : {}));
  const webhook = await createWebhook(key, { url: receiver.url(path) });
  const before = new Date(Date.now() - 1_000).toISOString();
  const list = async (status: string) =>
    (await key.get(`/v1/webhooks/${webhook.id}/deliveries?status=${status}&limit=100`)).body.data as {
      id: string;
      eventId: string;
    }[];
  // Each failure disables the webhook (no success since its first attempt): one at a time, resumed.
  const events: string[] = [];
  for (let i = 0; i < 6; i++) {
    events.push((await admin.post('/v1/events', personEvent(`r-${i}`, { scopes: ['rec'] }))).body.id);
    await eventually(async () => (await list('failed')).length === i + 1, 30_000);
    await key.post(`/v1/webhooks/${webhook.id}/resume`);
  }
  const between = new Date().toISOString();
  // A failure after the window is not recovered.
  await admin.post('/v1/events', personEvent('r-late', { scopes: ['rec'] }));
  await eventually(async () => (await list('failed')).length === 7, 30_000);

  failing = false;
  await key.post(`/v1/webhooks/${webhook.id}/resume`);
  const started = await key.post(`/v1/webhooks/${webhook.id}/recover`, { since: before, until: between });
  expect(started.status).toBe(202);
  expect(started.body).toMatchObject({ status: 'running', statuses: ['failed'], webhookId: webhook.id });
  expect((await key.post(`/v1/webhooks/${webhook.id}/recover`, { since: before })).status).toBe(409);

  const done = await eventually(async () => {
    const r = (await key.get(`/v1/recoveries/${started.body.id}`)).body;
    return r.status === 'completed' && r;
  }, 60_000);
  expect(done).toMatchObject({ total: 6, redelivered: 6 });
  await eventually(async () => (await list('succeeded')).length === 6, 60_000);
  expect((await list('succeeded')).map((d) => d.eventId).sort()).toEqual([...events].sort());
  expect(await list('failed')).toHaveLength(7); // the originals stay failed
  expect(
    new Set(
      receiver
        .on(path)
        .slice(-6)
        .map((r) => r.headers['webhook-id']),
    ),
  ).toEqual(new Set(events));

  const listed = await key.get(`/v1/webhooks/${webhook.id}/recoveries`);
  expect(listed.body.data.map((r: { id: string }) => r.id)).toEqual([started.body.id]);
  expect((await key.post(`/v1/recoveries/${started.body.id}/cancel`)).status).toBe(409);
  receiver.reply(() => ({}));
});

test('bad windows are refused with the field, and another application sees no recovery', async () => {
  const webhook = await createWebhook(key, { url: receiver.url('/recover-bad') });
  const bad = await key.post(`/v1/webhooks/${webhook.id}/recover`, {
    since: '2026-12-01T10:00:00Z',
    until: '2026-12-01T09:00:00Z',
  });
  expect(bad.status).toBe(422);
  expect(bad.body.errors).toEqual([expect.objectContaining({ path: 'body.until' })]);
  const started = await key.post(`/v1/webhooks/${webhook.id}/recover`, { since: '2026-11-30T00:00:00Z' });
  expect(started.status).toBe(202);
  const other = apiClient(stack.api.url, (await appWithKey(admin)).token);
  expect((await other.get(`/v1/recoveries/${started.body.id}`)).status).toBe(404);
  expect((await other.post(`/v1/recoveries/${started.body.id}/pause`)).status).toBe(404);
});
