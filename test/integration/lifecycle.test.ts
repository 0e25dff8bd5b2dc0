// The edges of a delivery's and a sync's lifecycle (docs/lifecycle.md), end to end through the
// public API against real Temporal and PostgreSQL. Each test names the finding it covers.
import { type ApiClient, apiClient, eventually } from '../support/client';
import { appWithKey, attemptGaps, createWebhook, personEvent } from '../support/fixtures';
import { startStack } from '../support/stack';
import { admin, receiver, stack, useStack } from '../support/suite';

let key: ApiClient;
let scope: string;

// The policy of these tests (test/support/stack.ts): 100 ms, x2, capped at 1 s, 4 attempts.
const POLICY_DELAYS = [100, 200, 400];
const MAX_ATTEMPTS = 4;

useStack({ env: { HERALD_OUTAGE_MAX_MS: '3000' } });

let counter = 0;
beforeEach(async () => {
  scope = `life:${++counter}`;
  key = apiClient(
    stack.api.url,
    (await appWithKey(admin, { entityTypes: ['person'], scopes: [scope] })).token,
  );
  receiver.reply(() => ({}));
});
const hookPath = () => `/life${counter}-${Math.random().toString(36).slice(2, 8)}`;
const publish = async (id: string) => {
  const res = await admin.post('/v1/events', personEvent(id, { scopes: [scope] }));
  expect(res.status).toBe(202);
  return res.body as { id: string; deliveries: { id: string; webhookId: string; status: string }[] };
};
const delivery = async (id: string) => (await key.get(`/v1/deliveries/${id}`)).body;
const ended = (id: string, status: string, timeoutMs = 30_000) =>
  eventually(async () => {
    const d = await delivery(id);
    return d.status === status && d;
  }, timeoutMs);
const workflowClosed = (workflowId: string) =>
  eventually(async () => {
    const d = await stack.api.context.temporal.workflow.getHandle(workflowId).describe();
    return d.status.name !== 'RUNNING' && d.status.name;
  });
async function seedPersons(prefix: string, count: number) {
  const ids = Array.from({ length: count }, (_, i) => `${prefix}-${String(i).padStart(4, '0')}`);
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < ids.length) {
        const id = ids[next++];
        const res = await admin.put(`/v1/entities/person/${id}`, { data: { id }, scopes: [scope] });
        if (res.status !== 200) throw new Error(`seed ${id}: ${res.status}`);
      }
    }),
  );
  return ids;
}
const syncOf = async (syncId: string) => (await key.get(`/v1/syncs/${syncId}`)).body;
const syncEnded = (syncId: string, timeoutMs = 60_000) =>
  eventually(
    async () => {
      const s = await syncOf(syncId);
      return ['completed', 'cancelled'].includes(s.status) && s;
    },
    timeoutMs,
    50,
  );
const deliveriesWith = async (webhookId: string, status: string) =>
  (await key.get(`/v1/webhooks/${webhookId}/deliveries?status=${status}&limit=100`)).body.data as {
    id: string;
  }[];

test('finding 1: a 2xx whose body holds NUL or invalid UTF-8 is one request and a recorded, succeeded attempt', async () => {
  const nul = hookPath();
  const binary = hookPath();
  const bytes = Buffer.from([0xff, 0xfe, 0x00, 0x41]);
  receiver.reply((r) =>
    r.path === nul ? { body: 'ok\u0000bye' } : r.path === binary ? { body: bytes } : {},
  );
  await createWebhook(key, { url: receiver.url(nul) });
  await createWebhook(key, { url: receiver.url(binary) });
  const published = await publish('nul-1');
  for (const d of published.deliveries) {
    await ended(d.id, 'succeeded');
    expect(await workflowClosed(`delivery:${d.id}`)).toBe('COMPLETED');
  }
  expect(receiver.on(nul)).toHaveLength(1);
  expect(receiver.on(binary)).toHaveLength(1);
  const attempts = await Promise.all(published.deliveries.map(async (d) => (await delivery(d.id)).attempts));
  const byPath = (p: string) =>
    attempts.find((a) => a[0].request.url.endsWith(p))![0] as {
      outcome: string;
      response: { status: number; body: string; bodyEncoding: string };
    };
  expect(byPath(nul)).toMatchObject({
    outcome: 'succeeded',
    response: { status: 200, body: 'ok\u0000bye', bodyEncoding: 'utf8' },
  });
  const bin = byPath(binary);
  expect(bin.response.bodyEncoding).toBe('base64');
  expect(Buffer.from(bin.response.body, 'base64')).toEqual(bytes);
});

test('finding 2: Retry-After 0 or a past date keeps retries at least the policy delay apart; every allowed attempt is made', async () => {
  const zero = hookPath();
  const past = hookPath();
  const longAgo = new Date(Date.now() - 60_000).toUTCString();
  receiver.reply((r) =>
    r.path === zero
      ? { status: 503, headers: { 'retry-after': '0' } }
      : r.path === past
        ? { status: 429, headers: { 'retry-after': longAgo } }
        : {},
  );
  await createWebhook(key, { url: receiver.url(zero) });
  await createWebhook(key, { url: receiver.url(past) });
  const published = await publish('ra-0');
  for (const d of published.deliveries) {
    const failed = await ended(d.id, 'failed');
    expect(failed.attempts).toHaveLength(MAX_ATTEMPTS);
    // By Herald's starts of the requests (the receiver's clock adds each request's transit), less a
    // millisecond of rounding.
    for (const [i, gap] of attemptGaps(failed.attempts).entries())
      expect(gap).toBeGreaterThanOrEqual(POLICY_DELAYS[i] - 1);
  }
  for (const p of [zero, past]) expect(receiver.on(p)).toHaveLength(MAX_ATTEMPTS);
});

test('an attempt Herald cannot record is not retried (a data error) and the delivery fails with the reason', async () => {
  // A column too narrow for the error message: a value that can never be stored (SQLSTATE 22001).
  const path = hookPath();
  receiver.reply((r) => (r.path === path ? { reset: true } : {}));
  const webhook = await createWebhook(key, { url: receiver.url(path) });
  await stack.pool.query('ALTER TABLE attempts ALTER COLUMN error_message TYPE varchar(3)');
  try {
    const published = await publish('data-err');
    const failed = await ended(published.deliveries[0].id, 'failed');
    expect(failed.failureReason).toMatch(/could not be recorded.*22001/);
    expect(receiver.on(path)).toHaveLength(1);
    // Herald's own trouble does not disable the receiver's webhook.
    expect((await key.get(`/v1/webhooks/${webhook.id}`)).body.status).toBe('active');
  } finally {
    await stack.pool.query('ALTER TABLE attempts ALTER COLUMN error_message TYPE text');
  }
});

test("Herald's own outage is waited out for at most HERALD_OUTAGE_MAX_MS, then the delivery fails with the reason", async () => {
  const path = hookPath();
  const webhook = await createWebhook(key, { url: receiver.url(path) });
  // Every attempt's record is refused (an integrity error, not the receiver's answer).
  await stack.pool.query('ALTER TABLE attempts ADD CONSTRAINT herald_test_refuse CHECK (false) NOT VALID');
  try {
    const started = Date.now();
    const published = await publish('outage-1');
    const failed = await ended(published.deliveries[0].id, 'failed', 30_000);
    const elapsedMs = Date.now() - started;
    // The reason gives the outage as measured: at least the limit, more by the attempt that was
    // running when the limit was reached (seconds without a workflow cache), never more than the
    // test saw.
    const seconds = Number(
      /Herald could not complete this delivery for (\d+) s: /.exec(failed.failureReason ?? '')?.[1],
    );
    expect(seconds).toBeGreaterThanOrEqual(3);
    expect(seconds * 1_000).toBeLessThanOrEqual(elapsedMs);
    expect(failed.failureReason).toMatch(/herald_test_refuse/);
    expect((await key.get(`/v1/webhooks/${webhook.id}`)).body.status).toBe('active');
  } finally {
    await stack.pool.query('ALTER TABLE attempts DROP CONSTRAINT herald_test_refuse');
  }
});

test('finding 8: 200 deliveries held while paused arrive after resume in published order', async () => {
  const path = hookPath();
  const webhook = await createWebhook(key, { url: receiver.url(path) });
  await key.post(`/v1/webhooks/${webhook.id}/pause`);
  const ids: string[] = [];
  for (let i = 0; i < 200; i++) ids.push((await publish(`ord-${i}`)).id);
  const { rows } = await stack.pool.query(
    `SELECT count(*)::int AS n FROM deliveries WHERE webhook_id = $1 AND status = 'held'`,
    [webhook.id],
  );
  expect(rows[0].n).toBe(200);
  const resumedAt = Date.now();
  expect((await key.post(`/v1/webhooks/${webhook.id}/resume`)).body.status).toBe('active');
  await eventually(async () => receiver.on(path).length >= 200, 60_000, 50);
  const arrived = receiver.on(path).map((r) => String(r.headers['webhook-id']));
  expect(arrived).toEqual(ids);
  const seconds = (receiver.on(path).at(-1)!.receivedAt - resumedAt) / 1000;
  console.log(
    `held release: 200 in published order in ${seconds.toFixed(2)} s (${(200 / seconds).toFixed(1)}/s)`,
  );
});

test('finding 7: a release is a workflow: held deliveries still all arrive when the API process is gone right after resume', async () => {
  const second = await startStack({ worker: false });
  try {
    // Both APIs share nothing but Temporal; the second one's database gets the webhook.
    const secondAdmin = apiClient(second.api.url, second.adminToken);
    const app = await appWithKey(secondAdmin, { entityTypes: ['person'], scopes: ['gone'] });
    const secondKey = apiClient(second.api.url, app.token);
    const path = hookPath();
    const webhook = await createWebhook(secondKey, { url: receiver.url(path) });
    await secondKey.post(`/v1/webhooks/${webhook.id}/pause`);
    for (let i = 0; i < 100; i++)
      await secondAdmin.post('/v1/events', personEvent(`gone-${i}`, { scopes: ['gone'] }));
    await secondKey.post(`/v1/webhooks/${webhook.id}/resume`);
    await second.api.close();
    await second.startWorker();
    await eventually(async () => receiver.on(path).length >= 100, 60_000);
    expect(new Set(receiver.on(path).map((r) => r.headers['webhook-id'])).size).toBe(100);
  } finally {
    await second.stopWorker();
    await second.pool.end().catch(() => {});
  }
});

test('finding 4: a sync entity the receiver refuses keeps its backoff when handed over, and gets HERALD_RETRY_MAX_ATTEMPTS in all', async () => {
  const ids = await seedPersons('hand', 20);
  const refused = ids[7];
  const path = hookPath();
  receiver.reply((r) => (r.path === path && r.body.includes(`"${refused}"`) ? { status: 500 } : {}));
  const webhook = await createWebhook(key, { url: receiver.url(path), syncIntervalMs: 0 });
  const sync = (await key.post(`/v1/webhooks/${webhook.id}/syncs`, {})).body;
  expect(await syncEnded(sync.id)).toMatchObject({ status: 'completed', sent: 19, failed: 1 });
  const [failedOne] = await eventually(async () => {
    const list = await deliveriesWith(webhook.id, 'failed');
    return list.length === 1 && list;
  });
  const detail = await delivery(failedOne.id);
  expect(detail.attempts).toHaveLength(MAX_ATTEMPTS);
  for (const [i, gap] of attemptGaps(detail.attempts).entries())
    expect(gap).toBeGreaterThanOrEqual(POLICY_DELAYS[i] * 0.95);
  expect(receiver.on(path).filter((r) => r.body.includes(`"${refused}"`))).toHaveLength(MAX_ATTEMPTS);
});

test('finding 3 and 6: a cancel answers once the sync has stopped; nothing of it is sent later, every unsent delivery is cancelled, and a new sync may start at once', async () => {
  await seedPersons('can', 300);
  const path = hookPath();
  receiver.reply((r) => (r.path === path ? { delayMs: 100 } : {}));
  const webhook = await createWebhook(key, { url: receiver.url(path), syncIntervalMs: 0 });
  const first = (await key.post(`/v1/webhooks/${webhook.id}/syncs`, {})).body;
  await eventually(async () => receiver.on(path).length >= 20, 30_000, 20);
  const cancelled = await key.post(`/v1/syncs/${first.id}/cancel`);
  const answeredAt = Date.now();
  expect(cancelled.status).toBe(200);
  expect(cancelled.body.status).toBe('cancelled');
  expect((await syncOf(first.id)).status).toBe('cancelled');
  expect(await deliveriesWith(webhook.id, 'pending')).toEqual([]);
  expect(await deliveriesWith(webhook.id, 'held')).toEqual([]);
  expect((await deliveriesWith(webhook.id, 'cancelled')).length).toBeGreaterThan(0);

  const second = await key.post(`/v1/webhooks/${webhook.id}/syncs`, {});
  expect(second.status).toBe(202);
  expect(await syncEnded(second.body.id)).toMatchObject({ status: 'completed', sent: 300 });
  const late = receiver
    .on(path)
    .filter((r) => JSON.parse(r.body).sync?.id === first.id && r.receivedAt > answeredAt);
  expect(late).toEqual([]);
});

test('finding 3: a sync entity held while its webhook was paused is cancelled with the sync, and resume sends nothing of it', async () => {
  await seedPersons('wait', 40);
  const path = hookPath();
  const webhook = await createWebhook(key, { url: receiver.url(path), syncIntervalMs: 50 });
  const sync = (await key.post(`/v1/webhooks/${webhook.id}/syncs`, {})).body;
  await eventually(async () => receiver.on(path).length >= 5, 30_000, 20);
  await key.post(`/v1/webhooks/${webhook.id}/pause`);
  await eventually(async () => (await syncOf(sync.id)).status === 'waiting');
  expect((await key.post(`/v1/syncs/${sync.id}/cancel`)).body.status).toBe('cancelled');
  const sentBefore = receiver.on(path).length;
  expect(await deliveriesWith(webhook.id, 'held')).toEqual([]);
  await key.post(`/v1/webhooks/${webhook.id}/resume`);
  // A new event goes out after the resume's release: once it has arrived, the release is done.
  const after = await publish('after-cancel');
  await ended(after.deliveries[0].id, 'succeeded');
  await workflowClosed(`release:${webhook.id}`);
  expect(receiver.on(path).filter((r) => JSON.parse(r.body).action === 'sync')).toHaveLength(sentBefore);
});

test('finding 6: a paused sync reads as paused from the moment the pause answers until the resume does', async () => {
  await seedPersons('pz', 400);
  const path = hookPath();
  receiver.reply((r) => (r.path === path ? { delayMs: 5 } : {}));
  const webhook = await createWebhook(key, { url: receiver.url(path), syncIntervalMs: 0 });
  const sync = (await key.post(`/v1/webhooks/${webhook.id}/syncs`, {})).body;
  await eventually(async () => receiver.on(path).length >= 10, 30_000, 10);
  const paused = await key.post(`/v1/syncs/${sync.id}/pause`);
  expect(paused.body.status).toBe('paused');
  const seen = new Set<string>();
  for (let i = 0; i < 20; i++) {
    seen.add((await syncOf(sync.id)).status);
    await new Promise((r) => setTimeout(r, 50)); // polling, as the panel does
  }
  expect([...seen]).toEqual(['paused']);
  const resumed = await key.post(`/v1/syncs/${sync.id}/resume`);
  expect(resumed.body.status).toBe('running');
  const ended = await syncEnded(sync.id);
  expect(ended).toMatchObject({ status: 'completed', total: 400 });
  // A request slower than the timeout (2 s here; a loaded machine's event loop can stall that
  // long) fails and goes on in its own delivery workflow: every entity is sent or handed over,
  // and every one arrives.
  expect(ended.sent + ended.failed).toBe(400);
  await eventually(
    async () => new Set(receiver.on(path).map((r) => JSON.parse(r.body).entity.id)).size === 400,
    60_000,
  );
});
