// Throttles and strict order (issue 15): enforced by the attempt gate for every kind of sending,
// across all workers.
import type { ChildProcess } from 'node:child_process';
import { mostWithin } from '../../bench/http';
import { type ApiClient, apiClient, eventually } from '../support/client';
import { createWebhook, personEvent } from '../support/fixtures';
import { spawnWorker, stopChild } from '../support/processes';
import { type ReceivedRequest, type Receiver, startReceiver } from '../support/receiver';
import { type Stack, startStack } from '../support/stack';

let stack: Stack;
let receiver: Receiver;
let admin: ApiClient;
const workers: ChildProcess[] = [];

beforeAll(async () => {
  stack = await startStack({ env: { HERALD_RATE_LIMIT_PER_SECOND: '0' } });
  receiver = await startReceiver();
  admin = apiClient(stack.api.url, stack.adminToken);
  // Three workers in all: the stack's own and two processes.
  workers.push(spawnWorker(stack), spawnWorker(stack));
});
afterAll(async () => {
  await Promise.all(workers.map((w) => stopChild(w)));
  await stack?.stop();
  await receiver?.close();
});

/** When Herald started each request to the webhook (its attempts' `startedAt`), by event id. */
async function requestStarts(key: ApiClient, webhookId: string): Promise<Map<string, number>> {
  const { body } = await key.get(`/v1/webhooks/${webhookId}/deliveries?limit=100`);
  return new Map(
    body.data.map((d: { eventId: string; lastAttempt: { startedAt: string } }) => [
      d.eventId,
      Date.parse(d.lastAttempt.startedAt),
    ]),
  );
}

/**
 * The most requests the receiver got within any window that its clock can hold to Herald's rate:
 * one second less the spread of the requests' transit times (arrival less start, matched by
 * `webhook-id`, the event id) and a millisecond of rounding each side. A loaded machine delays some
 * requests more than others, which bunches arrivals that Herald started a second apart.
 */
function mostArrivingWithin(received: ReceivedRequest[], starts: Map<string, number>) {
  const transit = received.map((r) => r.receivedAt - starts.get(String(r.headers['webhook-id']))!);
  const windowMs = 1_000 - (Math.max(...transit) - Math.min(...transit)) - 2;
  return {
    windowMs,
    most: mostWithin(
      received.map((r) => r.receivedAt),
      windowMs,
    ),
  };
}

async function customer(scope: string, limits: Record<string, unknown> = {}) {
  const app = await admin.post('/v1/applications', {
    name: `controls ${scope}`,
    access: { entityTypes: ['person'], scopes: [scope] },
    ...limits,
  });
  expect(app.status).toBe(201);
  const keyRes = await admin.post(`/v1/applications/${app.body.id}/keys`, {
    name: 'k',
    scopes: ['webhooks:read', 'webhooks:write', 'deliveries:read', 'sync:run'],
  });
  return { app: app.body, key: apiClient(stack.api.url, keyRes.body.token) };
}

test('a webhook throttled to 5/s (its application’s default) gets at most 5 requests in any second from three workers, events and a sync alike', async () => {
  const { app, key } = await customer('throttle', { maxRequestsPerSecond: 5 });
  expect(app.maxRequestsPerSecond).toBe(5);
  const path = '/throttled';
  const webhook = await createWebhook(key, { url: receiver.url(path) });
  expect(webhook).toMatchObject({ maxRequestsPerSecond: null, maxInFlight: null, ordering: 'none' });
  const started = Date.now();
  await Promise.all(
    Array.from({ length: 30 }, (_, i) =>
      admin.post('/v1/events', personEvent(`t-${i}`, { scopes: ['throttle'] })),
    ),
  );
  await eventually(
    async () => {
      const received = receiver.on(path).length;
      if (received < 30) throw new Error(`${received} of 30 requests received`);
      return true;
    },
    60_000,
    50,
  );
  // Herald holds its own starts to the rate: exactly, by the gate's lock (migration 018); the
  // receiver sees that rate as far as the requests' transit allows.
  const eventStarts = await requestStarts(key, webhook.id);
  expect(mostWithin([...eventStarts.values()])).toBeLessThanOrEqual(5);
  expect(mostArrivingWithin(receiver.on(path), eventStarts).most).toBeLessThanOrEqual(5);
  // At 5/s, 30 requests cannot take less than about 6 s.
  const events = receiver.on(path).map((r) => r.receivedAt);
  expect((Math.max(...events) - started) / 1000).toBeGreaterThanOrEqual(5);

  // A sync at interval 0 (16 lanes) is held to the same rate.
  for (let i = 0; i < 15; i++)
    await admin.put(`/v1/entities/person/ts-${i}`, { data: { i }, scopes: ['throttle'] });
  const sync = (await key.post(`/v1/webhooks/${webhook.id}/syncs`, {})).body;
  await eventually(async () => (await key.get(`/v1/syncs/${sync.id}`)).body.status === 'completed', 60_000);
  const all = receiver.on(path);
  // The 30 entities the events made and the 15 new ones (whose `created` events go too).
  expect(all.filter((r) => JSON.parse(r.body).action === 'sync')).toHaveLength(45);
  const starts = await requestStarts(key, webhook.id);
  expect(starts.size).toBe(all.length);
  expect(mostWithin([...starts.values()])).toBeLessThanOrEqual(5);
  const arriving = mostArrivingWithin(all, starts);
  expect(arriving.most).toBeLessThanOrEqual(5);
  console.log(
    `throttle 5/s: ${all.length} requests, at most ${mostWithin([...starts.values()])} started in a second, ${arriving.most} arrived within ${arriving.windowMs} ms`,
  );
}, 120_000);

test('maxInFlight 2: no more than two requests to the webhook are under way at once', async () => {
  const { key } = await customer('inflight');
  const path = '/inflight';
  receiver.reply((r) => (r.path === path ? { delayMs: 200 } : {}));
  const webhook = await createWebhook(key, { url: receiver.url(path), maxInFlight: 2 });
  expect(webhook.maxInFlight).toBe(2);
  await Promise.all(
    Array.from({ length: 12 }, (_, i) =>
      admin.post('/v1/events', personEvent(`f-${i}`, { scopes: ['inflight'] })),
    ),
  );
  await eventually(async () => receiver.on(path).length >= 12, 60_000, 50);
  // The receiver holds each request from its arrival to its answer, inside Herald's own span of it.
  expect(receiver.peakInFlight(path)).toBe(2);
  receiver.reply(() => ({}));
});

test('strict ordering: each request starts only after the previous delivery ended (succeeded, or failed after its retries), in published order', async () => {
  const { key } = await customer('strict');
  const path = '/strict';
  // The 3rd event's first two requests fail; the 5th always fails (4 attempts, then failed).
  let thirdFailures = 0;
  receiver.reply((r) => {
    if (r.path !== path) return {};
    if (r.body.includes('"s-3"') && thirdFailures < 2) {
      thirdFailures++;
      return { status: 500 };
    }
    if (r.body.includes('"s-5"')) return { status: 503 };
    return {};
  });
  const webhook = await createWebhook(key, { url: receiver.url(path), ordering: 'strict' });
  expect(webhook.ordering).toBe('strict');
  const ids: string[] = [];
  for (let i = 0; i < 8; i++)
    ids.push((await admin.post('/v1/events', personEvent(`s-${i}`, { scopes: ['strict'] }))).body.id);
  // The 5th fails every retry, with no success since its first attempt (nothing else could be
  // sent meanwhile): the webhook is disabled, and what comes after it is held, in order.
  await eventually(
    async () => (await key.get(`/v1/webhooks/${webhook.id}`)).body.status === 'disabled',
    60_000,
  );
  const statuses = async () =>
    new Map(
      (
        (await key.get(`/v1/webhooks/${webhook.id}/deliveries?limit=100`)).body.data as {
          eventId: string;
          status: string;
        }[]
      ).map((d) => [d.eventId, d.status]),
    );
  await eventually(async () => (await statuses()).get(ids[7]) === 'held', 30_000);
  const held = await statuses();
  expect(ids.map((id) => held.get(id))).toEqual([
    'succeeded',
    'succeeded',
    'succeeded',
    'succeeded',
    'succeeded',
    'failed',
    'held',
    'held',
  ]);
  await key.post(`/v1/webhooks/${webhook.id}/resume`);
  await eventually(async () => (await statuses()).get(ids[7]) === 'succeeded', 30_000);

  const requests = receiver.on(path).map((r) => String(r.headers['webhook-id']));
  // Every request of event k comes after every request of event k-1.
  for (let k = 1; k < ids.length; k++)
    expect(requests.indexOf(ids[k])).toBeGreaterThan(requests.lastIndexOf(ids[k - 1]));
  expect(requests.filter((id) => id === ids[3])).toHaveLength(3);
  expect(requests.filter((id) => id === ids[5])).toHaveLength(Number(stack.env.HERALD_RETRY_MAX_ATTEMPTS));
  receiver.reply(() => ({}));
}, 120_000);
