import { loadConfig } from '../../src/config';
import { type ApiClient, apiClient, eventually } from '../support/client';
import { appWithKey } from '../support/fixtures';
import { type Stack, startStack } from '../support/stack';

/**
 * Per-key rate limiting: a key gets its burst, then 429 problems with Retry-After until the window
 * passes; other keys and the admin token are not affected; 0 turns the limit off.
 */

// One request a second with a burst of 10: a 10 s window, so the burst below is sent well inside it
// however loaded the machine is.
const PER_SECOND = 1;
const BURST = 10;

let stack: Stack;
let admin: ApiClient;

beforeAll(async () => {
  stack = await startStack({
    worker: false,
    env: { HERALD_RATE_LIMIT_PER_SECOND: String(PER_SECOND), HERALD_RATE_LIMIT_BURST: String(BURST) },
  });
  admin = apiClient(stack.api.url, stack.adminToken);
});
afterAll(async () => {
  await stack?.stop();
});

test('the defaults are 100 a second with a burst of 200; a bad value names the variable', () => {
  expect(loadConfig({}).rateLimit).toEqual({ perSecond: 100, burst: 200 });
  expect(loadConfig({ HERALD_RATE_LIMIT_PER_SECOND: '0' }).rateLimit.perSecond).toBe(0);
  expect(() => loadConfig({ HERALD_RATE_LIMIT_BURST: '0' })).toThrow(/HERALD_RATE_LIMIT_BURST/);
  expect(() => loadConfig({ HERALD_RATE_LIMIT_PER_SECOND: '-1' })).toThrow(/HERALD_RATE_LIMIT_PER_SECOND/);
});

test('a key gets its burst, then 429 with Retry-After; its neighbour and the admin are unaffected; it recovers', async () => {
  const { app, token } = await appWithKey(admin);
  const key = apiClient(stack.api.url, token);
  const neighbour = await admin.post(`/v1/applications/${app.id}/keys`, {
    name: 'n',
    scopes: ['webhooks:read'],
  });

  const statuses: number[] = [];
  for (let i = 0; i < BURST; i++) statuses.push((await key.get('/v1/webhooks')).status);
  expect(statuses).toEqual(Array(BURST).fill(200));

  const limited = await key.get('/v1/webhooks');
  expect(limited.status).toBe(429);
  expect(limited.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(limited.body).toMatchObject({
    type: expect.any(String),
    title: 'Too many requests',
    status: 429,
    detail: expect.any(String),
  });
  const retryAfter = Number(limited.headers.get('retry-after'));
  expect(Number.isInteger(retryAfter)).toBe(true);
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(BURST / PER_SECOND);
  // Every route counts, writes too, and a refused write writes nothing.
  const publish = await key.post('/v1/events', {
    type: 'person.updated',
    entity: { type: 'person', id: 'limited' },
  });
  expect(publish.status).toBe(429);
  const { rows } = await stack.pool.query('SELECT count(*)::int AS n FROM events');
  expect(rows[0].n).toBe(0);

  // Limits are per key: another key of the same application, and the admin, go on.
  expect((await apiClient(stack.api.url, neighbour.body.token).get('/v1/webhooks')).status).toBe(200);
  const adminStatuses = await Promise.all(
    Array.from({ length: BURST * 3 }, () => admin.get('/v1/applications').then((r) => r.status)),
  );
  expect(new Set(adminStatuses)).toEqual(new Set([200]));

  // After the window the key works again.
  await eventually(
    async () => (await key.get('/v1/webhooks')).status === 200,
    (retryAfter + 5) * 1_000,
    1_000,
  );
}, 60_000);

test('a bad token is refused 401 before any limit; 0 turns the limit off', async () => {
  const open = await startStack({ worker: false, env: { HERALD_RATE_LIMIT_PER_SECOND: '0' } });
  try {
    const openAdmin = apiClient(open.api.url, open.adminToken);
    const key = apiClient(open.api.url, (await appWithKey(openAdmin)).token);
    const statuses: number[] = [];
    // 250 requests, ten at a time: more than the default burst, all answered.
    for (let i = 0; i < 25; i++)
      statuses.push(
        ...(await Promise.all(
          Array.from({ length: 10 }, () => key.get('/v1/webhooks').then((r) => r.status)),
        )),
      );
    expect(statuses).toHaveLength(250);
    expect(new Set(statuses)).toEqual(new Set([200]));
  } finally {
    await open.stop();
  }
  for (let i = 0; i < BURST + 2; i++)
    expect((await apiClient(stack.api.url, 'hk_unknown').get('/v1/webhooks')).status).toBe(401);
});
