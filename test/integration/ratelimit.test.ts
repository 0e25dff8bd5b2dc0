import http from 'node:http';
import { KEY_CACHE_TTL_MS } from '../../src/api/auth';
import { loadConfig } from '../../src/config';
import { type ApiClient, apiClient, eventually } from '../support/client';
import { appWithKey } from '../support/fixtures';
import { type Stack, startStack } from '../support/stack';

/**
 * Per-key rate limiting: a key gets its burst, then 429 problems with Retry-After until the window
 * passes; other keys and the admin token are not affected; 0 turns the limit off. And per client
 * address, the tokens that are not valid: 429 before the lookup once an address used its minute.
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
  expect(loadConfig({}).authFailuresPerMinute).toBe(20);
  expect(() => loadConfig({ HERALD_AUTH_FAILURES_PER_MINUTE: '-1' })).toThrow(
    /HERALD_AUTH_FAILURES_PER_MINUTE/,
  );
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

/** Counts the key lookups the API process's pool sends to PostgreSQL (the authenticator's query). */
function countKeyLookups(s: Stack): { readonly count: number; stop(): void } {
  const pool = s.api.context.pool;
  const query = pool.query;
  let count = 0;
  pool.query = ((...args: Parameters<typeof query>) => {
    const text = typeof args[0] === 'string' ? args[0] : (args[0] as { text?: string }).text;
    if (text?.includes('FROM publisher_keys')) count++;
    return (query as (...a: unknown[]) => unknown).apply(pool, args);
  }) as typeof query;
  return {
    get count() {
      return count;
    },
    stop() {
      pool.query = query;
    },
  };
}

/** One GET from a local address of the caller's choice (loopback has all of 127.0.0.0/8). */
function getFrom(
  localAddress: string,
  url: string,
  token: string,
): Promise<{ status: number; retryAfter?: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { localAddress, headers: { authorization: `Bearer ${token}` } }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'] }));
      })
      .on('error', reject);
  });
}

test('failed tokens from one address: 429 with Retry-After after the limit, before any key lookup; known keys and other addresses go on', async () => {
  const LIMIT = 20;
  const guarded = await startStack({
    worker: false,
    env: { HERALD_AUTH_FAILURES_PER_MINUTE: String(LIMIT), HERALD_RATE_LIMIT_PER_SECOND: '0' },
  });
  const lookups = countKeyLookups(guarded);
  try {
    const guardedAdmin = apiClient(guarded.api.url, guarded.adminToken);
    const known = apiClient(guarded.api.url, (await appWithKey(guardedAdmin)).token);
    expect((await known.get('/v1/webhooks')).status).toBe(200);
    const fresh = (await appWithKey(guardedAdmin)).token;
    const before = lookups.count;

    // 200 bad tokens, 20 at a time, so requests at once cannot slip past the count.
    const answers: { status: number; retryAfter?: string; problem: boolean }[] = [];
    for (let batch = 0; batch < 10; batch++) {
      answers.push(
        ...(await Promise.all(
          Array.from({ length: 20 }, async (_, i) => {
            const res = await apiClient(guarded.api.url, `hk_guess-${batch}-${i}`).get('/v1/webhooks');
            return {
              status: res.status,
              retryAfter: res.headers.get('retry-after') ?? undefined,
              problem: /^application\/problem\+json/.test(res.headers.get('content-type') ?? ''),
            };
          }),
        )),
      );
    }
    const badLookups = lookups.count - before;
    const unauthorized = answers.filter((a) => a.status === 401).length;
    const limited = answers.filter((a) => a.status === 429);
    const retryAfters = limited.map((a) => Number(a.retryAfter));
    console.log(
      `auth failures: ${answers.length} bad tokens from one address, limit ${LIMIT}/min: ${unauthorized} answered 401, ` +
        `${limited.length} answered 429 (Retry-After ${Math.min(...retryAfters)}-${Math.max(...retryAfters)} s); ` +
        `key lookups PostgreSQL saw for them: ${badLookups}`,
    );
    expect(unauthorized).toBe(LIMIT);
    expect(badLookups).toBe(LIMIT);
    expect(limited).toHaveLength(answers.length - LIMIT);
    for (const a of limited) {
      expect(a.problem).toBe(true);
      expect(Number.isInteger(Number(a.retryAfter))).toBe(true);
    }
    expect(Math.min(...retryAfters)).toBeGreaterThanOrEqual(1);
    expect(Math.max(...retryAfters)).toBeLessThanOrEqual(60);

    // The same address: the admin token and a key that was valid here before still work; a key never
    // seen here waits for the window like a guess (telling them apart would take the lookup).
    expect((await guardedAdmin.get('/v1/applications')).status).toBe(200);
    expect((await known.get('/v1/webhooks')).status).toBe(200);
    // Once this process's trust in it runs out (KEY_CACHE_TTL_MS), it is looked up again, and works.
    await eventually(
      async () => {
        const seen = lookups.count;
        const res = await known.get('/v1/webhooks');
        expect(res.status).toBe(200);
        return lookups.count > seen;
      },
      KEY_CACHE_TTL_MS + 10_000,
      500,
    );
    const unseen = await apiClient(guarded.api.url, fresh).get('/v1/webhooks');
    expect([unseen.status, Number(unseen.headers.get('retry-after')) > 0]).toEqual([429, true]);
    // Another address has its own count: its bad token is looked up and refused 401.
    const url = `${guarded.api.url.replace('127.0.0.1', '127.0.0.2')}/v1/webhooks`;
    expect((await getFrom('127.0.0.2', url, 'hk_from-elsewhere')).status).toBe(401);
    expect((await getFrom('127.0.0.2', url, fresh)).status).toBe(200);
    console.log(
      `auth failures: key lookups in all ${lookups.count} (the bad tokens' ${badLookups}; the rest valid keys' and another address's)`,
    );
  } finally {
    lookups.stop();
    await guarded.stop();
  }
});
