import { createHmac } from 'node:crypto';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { type ApiClient, apiClient, eventually } from '../support/client';
import { appWithKey, attemptGaps, createWebhook, personEvent } from '../support/fixtures';
import { admin, receiver, stack, useStack } from '../support/suite';

let key: ApiClient;
let scope: string;

useStack();

// Each test gets an application of its own that sees only its own scope, so one test's events
// never fan out to another test's webhooks.
let scopeCounter = 0;
beforeEach(async () => {
  scope = `test:${++scopeCounter}`;
  key = apiClient(
    stack.api.url,
    (await appWithKey(admin, { entityTypes: ['person'], scopes: [scope] })).token,
  );
});
const event = (id: string, extra: Record<string, unknown> = {}) =>
  personEvent(id, { scopes: [scope], ...extra });

/** Each test gets its own path on the receiver, so tests do not see each other's requests. */
let pathCounter = 0;
function hookPath() {
  return `/t${++pathCounter}`;
}

function verifyHeaders(r: { headers: Record<string, unknown> }) {
  return {
    'webhook-id': String(r.headers['webhook-id']),
    'webhook-timestamp': String(r.headers['webhook-timestamp']),
    'webhook-signature': String(r.headers['webhook-signature']),
  };
}

/**
 * Of these deliveries, the ones held with no owner and no attempt: nothing can send them until the
 * webhook's release takes them (the attempt gate refuses any caller but a delivery's owner).
 */
async function unowned(deliveryIds: string[]) {
  const { rows } = await stack.pool.query(
    `SELECT id FROM deliveries WHERE id = ANY($1) AND status = 'held' AND workflow_id IS NULL
        AND NOT EXISTS (SELECT 1 FROM attempts a WHERE a.delivery_id = deliveries.id)`,
    [deliveryIds],
  );
  return rows;
}

async function deliveryOf(eventId: string) {
  const event = await admin.get(`/v1/events/${eventId}`);
  return event.body.deliveries[0].id as string;
}

async function finalDelivery(id: string, status: string, timeoutMs = 30_000) {
  return eventually(async () => {
    const d = await key.get(`/v1/deliveries/${id}`);
    return d.body.status === status && d.body;
  }, timeoutMs);
}

test('deliveries are signed per Standard Webhooks: valid passes, a changed body or timestamp fails', async () => {
  const path = hookPath();
  const webhook = await createWebhook(key, { url: receiver.url(path), events: ['person.*'] });
  const published = await admin.post('/v1/events', event('sig-1'));
  expect(published.status).toBe(202);
  await eventually(async () => receiver.on(path).length === 1);
  const [req] = receiver.on(path);

  const verifier = new StandardWebhook(webhook.secret);
  const headers = verifyHeaders(req);
  expect(verifier.verify(req.body, headers)).toMatchObject({
    id: published.body.id,
    type: 'person.updated',
    action: 'updated',
  });
  expect(headers['webhook-id']).toBe(published.body.id);
  expect(req.headers['user-agent']).toMatch(/^Herald\//);
  expect(req.headers['content-type']).toBe('application/json');
  expect(() => verifier.verify(req.body.replace('sig-1', 'sig-2'), headers)).toThrow();
  expect(() =>
    verifier.verify(req.body, {
      ...headers,
      'webhook-timestamp': String(Number(headers['webhook-timestamp']) + 1),
    }),
  ).toThrow();
});

test('after rotate-secret, a receiver holding either the old or the new secret accepts', async () => {
  const path = hookPath();
  const webhook = await createWebhook(key, { url: receiver.url(path) });
  const rotated = await key.post(`/v1/webhooks/${webhook.id}/rotate-secret`);
  expect(rotated.status).toBe(200);
  expect(rotated.body.secret).not.toBe(webhook.secret);
  await admin.post('/v1/events', event('rot-1'));
  await eventually(async () => receiver.on(path).length === 1);
  const [req] = receiver.on(path);
  expect(String(req.headers['webhook-signature']).split(' ')).toHaveLength(2);
  expect(() => new StandardWebhook(webhook.secret).verify(req.body, verifyHeaders(req))).not.toThrow();
  expect(() => new StandardWebhook(rotated.body.secret).verify(req.body, verifyHeaders(req))).not.toThrow();
  expect(() =>
    new StandardWebhook('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw').verify(req.body, verifyHeaders(req)),
  ).toThrow();
});

test('the hmac-sha256 option signs the body alone; GET carries the envelope as a payload parameter', async () => {
  const hmacPath = hookPath();
  const getPath = hookPath();
  const hmac = await createWebhook(key, {
    url: receiver.url(hmacPath),
    signature: 'hmac-sha256',
    secret: 'a-user-defined-key-123',
  });
  const get = await createWebhook(key, { url: `${receiver.url(getPath)}?existing=1`, method: 'GET' });
  await admin.post('/v1/events', event('opt-1'));
  await eventually(async () => receiver.on(hmacPath).length === 1 && receiver.on(getPath).length === 1);

  const [h] = receiver.on(hmacPath);
  expect(h.headers.signature).toBe(
    `sha256=${createHmac('sha256', 'a-user-defined-key-123').update(h.body).digest('hex')}`,
  );
  expect(h.headers['webhook-signature']).toBeUndefined();
  expect(hmac.secret).toBe('a-user-defined-key-123');

  const [g] = receiver.on(getPath);
  expect(g.method).toBe('GET');
  const url = new URL(g.url, 'http://x');
  expect(url.searchParams.get('existing')).toBe('1');
  const body = Buffer.from(url.searchParams.get('payload')!, 'base64url').toString('utf8');
  expect(JSON.parse(body)).toMatchObject({ entity: { type: 'person', id: 'opt-1' } });
  expect(() => new StandardWebhook(get.secret).verify(body, verifyHeaders(g))).not.toThrow();
});

test('a receiver that fails three times then answers 200 gets 4 attempts with one webhook-id', async () => {
  const path = hookPath();
  receiver.reply((r) =>
    r.path === path && receiver.on(path).length <= 3 ? { status: 500, body: 'boom' } : {},
  );
  await createWebhook(key, { url: receiver.url(path) });
  const published = await admin.post('/v1/events', event('retry-1'));
  const delivery = await finalDelivery(await deliveryOf(published.body.id), 'succeeded');

  const requests = receiver.on(path);
  expect(requests).toHaveLength(4);
  expect(new Set(requests.map((r) => r.headers['webhook-id']))).toEqual(new Set([published.body.id]));
  expect(delivery.attempts.map((a: { outcome: string }) => a.outcome)).toEqual([
    'failed',
    'failed',
    'failed',
    'succeeded',
  ]);
  expect(delivery.attempts.map((a: { attemptNumber: number }) => a.attemptNumber)).toEqual([1, 2, 3, 4]);
  expect(delivery.attempts[0].response).toMatchObject({ status: 500, body: 'boom' });
  expect(delivery.attempts[0].request.body).toBe(requests[0].body);
  // Backoff: each wait at least half the policy's delay (equal jitter), so attempts are spread out.
  // Timed by Herald's starts of the requests (the receiver's clock adds each request's transit).
  const gaps = attemptGaps(delivery.attempts);
  expect(gaps[0]).toBeGreaterThanOrEqual(50 - 1); // a millisecond of rounding
  expect(gaps[2]).toBeGreaterThanOrEqual(200 - 1);
  receiver.reply(() => ({}));
});

test('Retry-After on a 429 sets the next delay', async () => {
  const path = hookPath();
  receiver.reply((r) =>
    r.path === path && receiver.on(path).length === 1 ? { status: 429, headers: { 'retry-after': '2' } } : {},
  );
  await createWebhook(key, { url: receiver.url(path) });
  const published = await admin.post('/v1/events', event('ra-1'));
  const delivered = await finalDelivery(await deliveryOf(published.body.id), 'succeeded');
  expect(receiver.on(path)).toHaveLength(2);
  // The policy's own delay here is at most 1 s (HERALD_RETRY_MAX_INTERVAL_MS); Retry-After asked for 2 s,
  // and the cap keeps it at the maximum interval.
  expect(attemptGaps(delivered.attempts)).toEqual([expect.any(Number)]);
  expect(attemptGaps(delivered.attempts)[0]).toBeGreaterThanOrEqual(1_000 - 1);
  receiver.reply(() => ({}));
});

test('a 302 is a failure and its target is never called; a slow answer is recorded as a timeout', async () => {
  const redirectPath = hookPath();
  const targetPath = hookPath();
  const slowPath = hookPath();
  receiver.reply((r) => {
    if (r.path === redirectPath) return { status: 302, headers: { location: receiver.url(targetPath) } };
    if (r.path === slowPath) return { delayMs: 3_000 };
    return {};
  });
  const redirect = await createWebhook(key, { url: receiver.url(redirectPath) });
  const slow = await createWebhook(key, { url: receiver.url(slowPath) });
  const redirectTest = await key.post(`/v1/webhooks/${redirect.id}/test`);
  expect(redirectTest.status).toBe(200);
  expect(redirectTest.body).toMatchObject({ outcome: 'failed', responseStatus: 302 });
  const slowTest = await key.post(`/v1/webhooks/${slow.id}/test`);
  expect(slowTest.body).toMatchObject({
    outcome: 'failed',
    responseStatus: null,
    error: { kind: 'timeout' },
  });
  expect(slowTest.body.durationMs).toBeGreaterThanOrEqual(1_900);
  expect(receiver.on(targetPath)).toHaveLength(0);
  receiver.reply(() => ({}));
});

test('50 events published while paused arrive 0 times; after resume all 50 arrive, oldest first', async () => {
  const path = hookPath();
  const webhook = await createWebhook(key, { url: receiver.url(path) });
  expect((await key.post(`/v1/webhooks/${webhook.id}/pause`)).body.status).toBe('paused');
  const ids: string[] = [];
  const deliveryIds: string[] = [];
  for (let i = 0; i < 50; i++) {
    const res = await admin.post('/v1/events', event(`held-${i}`));
    expect(res.body.deliveries[0].status).toBe('held');
    ids.push(res.body.id);
    deliveryIds.push(res.body.deliveries[0].id);
  }
  expect(await unowned(deliveryIds)).toHaveLength(50);
  expect(receiver.on(path)).toHaveLength(0);
  const held = await key.get(`/v1/webhooks/${webhook.id}/deliveries?status=held&limit=100`);
  expect(held.body.data).toHaveLength(50);

  expect((await key.post(`/v1/webhooks/${webhook.id}/resume`)).body.status).toBe('active');
  await eventually(async () => receiver.on(path).length >= 50);
  // The webhook's release sends them one at a time, in published order.
  expect(receiver.on(path).map((r) => String(r.headers['webhook-id']))).toEqual(ids);
});

test('a delivery that runs out of retries fails and disables its webhook; later events are held until resume', async () => {
  const path = hookPath();
  let failing = true;
  receiver.reply((r) => (r.path === path && failing ? { status: 503 } : {}));
  const webhook = await createWebhook(key, { url: receiver.url(path) });
  const first = await admin.post('/v1/events', event('dead-1'));
  const failed = await finalDelivery(await deliveryOf(first.body.id), 'failed');
  expect(failed.attempts).toHaveLength(Number(stack.env.HERALD_RETRY_MAX_ATTEMPTS));
  const disabled = await key.get(`/v1/webhooks/${webhook.id}`);
  expect(disabled.body.status).toBe('disabled');
  expect(disabled.body.disabledReason).toMatch(/failed every retry/);

  const before = receiver.on(path).length;
  const second = await admin.post('/v1/events', event('dead-2'));
  expect(second.body.deliveries[0].status).toBe('held');
  expect(await unowned([second.body.deliveries[0].id])).toHaveLength(1);
  expect(receiver.on(path)).toHaveLength(before);

  failing = false;
  await key.post(`/v1/webhooks/${webhook.id}/resume`);
  await finalDelivery(second.body.deliveries[0].id, 'succeeded');
  expect(receiver.on(path).at(-1)?.headers['webhook-id']).toBe(second.body.id);
  receiver.reply(() => ({}));
});

test('410 Gone disables the webhook at once', async () => {
  const path = hookPath();
  receiver.reply((r) => (r.path === path ? { status: 410 } : {}));
  const webhook = await createWebhook(key, { url: receiver.url(path) });
  await admin.post('/v1/events', event('gone-1'));
  const gone = await eventually(async () => {
    const w = await key.get(`/v1/webhooks/${webhook.id}`);
    return w.body.status === 'disabled' && w.body;
  });
  expect(gone.disabledReason).toMatch(/410/);
  expect(receiver.on(path)).toHaveLength(1);
  receiver.reply(() => ({}));
});

test('the same event id published twice makes one delivery', async () => {
  const path = hookPath();
  await createWebhook(key, { url: receiver.url(path) });
  const body = event('idem-1', { id: 'evt_idempotent_1' });
  const [a, b] = await Promise.all([admin.post('/v1/events', body), admin.post('/v1/events', body)]);
  const c = await admin.post('/v1/events', body);
  for (const r of [a, b, c]) expect(r.status).toBe(202);
  expect(b.body).toEqual(a.body);
  expect(c.body.deliveries.map((d: { id: string }) => d.id)).toEqual(
    a.body.deliveries.map((d: { id: string }) => d.id),
  );
  // One delivery row per webhook, each sent once by its one workflow: nothing else can send it.
  const { rows } = await stack.pool.query('SELECT id FROM deliveries WHERE event_id = $1', [
    'evt_idempotent_1',
  ]);
  expect(rows).toHaveLength(a.body.deliveries.length);
  const sent = await finalDelivery(rows[0].id, 'succeeded');
  expect(sent.attempts).toHaveLength(1);
  expect(receiver.on(path)).toHaveLength(1);
});

test('redeliver makes a fresh delivery of the same event', async () => {
  const path = hookPath();
  await createWebhook(key, { url: receiver.url(path) });
  const published = await admin.post('/v1/events', event('redo-1'));
  const first = await deliveryOf(published.body.id);
  await finalDelivery(first, 'succeeded');
  const again = await key.post(`/v1/deliveries/${first}/redeliver`);
  expect(again.status).toBe(202);
  expect(again.body.id).not.toBe(first);
  await finalDelivery(again.body.id, 'succeeded');
  expect(receiver.on(path).map((r) => r.headers['webhook-id'])).toEqual([
    published.body.id,
    published.body.id,
  ]);
});
