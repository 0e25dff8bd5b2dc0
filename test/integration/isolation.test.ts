import { KEY_SCOPES, PUBLISHER_SCOPES } from '../../src/api/vocabulary';
import { type ApiClient, apiClient, eventually } from '../support/client';
import { appWithKey, createWebhook } from '../support/fixtures';
import { admin, receiver, stack, useStack } from '../support/suite';

/**
 * Tenant isolation over every route of the contract: with no key (401), with a key lacking the
 * route's scope (403), and with another application's key (404 for the owner's resources,
 * exactly as for an id that does not exist; 403 for publishing, which is no application's). The
 * route list comes from the OpenAPI document, so a route added to the API without a row here
 * fails the test.
 */

type Scope = (typeof KEY_SCOPES)[number] | (typeof PUBLISHER_SCOPES)[number];
/** The admin only, any valid token, or a holder of one of the scopes (the admin too). */
type Access = 'admin' | 'any' | Scope | Scope[];

interface Ids {
  appId: string;
  keyId: string;
  webhookId: string;
  deliveryId: string;
  eventId: string;
  syncId: string;
  recoveryId: string;
  entityId: string;
  publisherKeyId: string;
}

interface RouteCase {
  access: Access;
  path: (ids: Ids) => string;
  body?: unknown;
  /**
   * What another application's key (holding every scope) gets: `404` for the owner's resources,
   * or a check that the route, which is not about one application's resources, shows the caller
   * nothing of the owner's. Admin routes answer it 403, and so do the publisher's routes
   * (`publisher`): no application key publishes.
   */
  stranger: 404 | ((res: Answer, ids: Ids) => void) | 'admin' | 'publisher';
}

interface Answer {
  status: number;
  contentType: string;
  // biome-ignore lint/suspicious/noExplicitAny: the JSON of any route, read field by field
  body: any;
}

const wh = (ids: Ids) => `/v1/webhooks/${ids.webhookId}`;
const sync = (ids: Ids) => `/v1/syncs/${ids.syncId}`;
const recovery = (ids: Ids) => `/v1/recoveries/${ids.recoveryId}`;

/** The contract's routes (DESIGN.md) with who may call them. */
const ROUTES: Record<string, RouteCase> = {
  'POST /v1/applications': {
    access: 'admin',
    path: () => '/v1/applications',
    body: { name: 'x', access: { entityTypes: ['*'], scopes: ['*'] } },
    stranger: 'admin',
  },
  'GET /v1/applications': { access: 'admin', path: () => '/v1/applications', stranger: 'admin' },
  'GET /v1/applications/{appId}': {
    access: 'admin',
    path: (i) => `/v1/applications/${i.appId}`,
    stranger: 'admin',
  },
  'PATCH /v1/applications/{appId}': {
    access: 'admin',
    path: (i) => `/v1/applications/${i.appId}`,
    body: { name: 'stolen' },
    stranger: 'admin',
  },
  'DELETE /v1/applications/{appId}': {
    access: 'admin',
    path: (i) => `/v1/applications/${i.appId}`,
    stranger: 'admin',
  },
  'POST /v1/applications/{appId}/keys': {
    access: 'admin',
    path: (i) => `/v1/applications/${i.appId}/keys`,
    body: { name: 'stolen', scopes: ['webhooks:read'] },
    stranger: 'admin',
  },
  'GET /v1/applications/{appId}/keys': {
    access: 'admin',
    path: (i) => `/v1/applications/${i.appId}/keys`,
    stranger: 'admin',
  },
  'DELETE /v1/applications/{appId}/keys/{keyId}': {
    access: 'admin',
    path: (i) => `/v1/applications/${i.appId}/keys/${i.keyId}`,
    stranger: 'admin',
  },
  'POST /v1/publisher-keys': {
    access: 'admin',
    path: () => '/v1/publisher-keys',
    body: { name: 'stolen', scopes: ['events:publish'] },
    stranger: 'admin',
  },
  'GET /v1/publisher-keys': { access: 'admin', path: () => '/v1/publisher-keys', stranger: 'admin' },
  'DELETE /v1/publisher-keys/{keyId}': {
    access: 'admin',
    path: (i) => `/v1/publisher-keys/${i.publisherKeyId}`,
    stranger: 'admin',
  },
  'POST /v1/webhooks': {
    access: 'webhooks:write',
    path: () => '/v1/webhooks',
    // A key's webhook belongs to the key's application, whatever applicationId it names.
    body: { url: 'https://example.com/stranger', applicationId: 'set per run' },
    stranger: (res, ids) => {
      expect(res.status).toBe(201);
      expect(res.body.applicationId).not.toBe(ids.appId);
    },
  },
  'GET /v1/webhooks': {
    access: 'webhooks:read',
    path: (i) => `/v1/webhooks?applicationId=${i.appId}`,
    stranger: (res, ids) => {
      expect(res.status).toBe(200);
      expect(res.body.data.map((w: { id: string }) => w.id)).not.toContain(ids.webhookId);
      for (const w of res.body.data) expect(w.applicationId).not.toBe(ids.appId);
    },
  },
  'GET /v1/webhooks/{id}': { access: 'webhooks:read', path: wh, stranger: 404 },
  'PATCH /v1/webhooks/{id}': {
    access: 'webhooks:write',
    path: wh,
    body: { label: 'stolen', url: 'https://example.com/stolen' },
    stranger: 404,
  },
  'DELETE /v1/webhooks/{id}': { access: 'webhooks:write', path: wh, stranger: 404 },
  'POST /v1/webhooks/{id}/pause': { access: 'webhooks:write', path: (i) => `${wh(i)}/pause`, stranger: 404 },
  'POST /v1/webhooks/{id}/resume': {
    access: 'webhooks:write',
    path: (i) => `${wh(i)}/resume`,
    stranger: 404,
  },
  'POST /v1/webhooks/{id}/rotate-secret': {
    access: 'webhooks:write',
    path: (i) => `${wh(i)}/rotate-secret`,
    stranger: 404,
  },
  'POST /v1/webhooks/{id}/test': { access: 'webhooks:write', path: (i) => `${wh(i)}/test`, stranger: 404 },
  'GET /v1/webhooks/{id}/deliveries': {
    access: 'deliveries:read',
    path: (i) => `${wh(i)}/deliveries`,
    stranger: 404,
  },
  'GET /v1/webhooks/{id}/stats': {
    access: 'deliveries:read',
    path: (i) => `${wh(i)}/stats`,
    stranger: 404,
  },
  'GET /v1/webhooks/{id}/deliveries/stream': {
    access: 'deliveries:read',
    path: (i) => `${wh(i)}/deliveries/stream`,
    stranger: 404,
  },
  'POST /v1/webhooks/{id}/syncs': {
    access: 'sync:run',
    path: (i) => `${wh(i)}/syncs`,
    body: {},
    stranger: 404,
  },
  'GET /v1/webhooks/{id}/syncs': { access: 'webhooks:read', path: (i) => `${wh(i)}/syncs`, stranger: 404 },
  'GET /v1/syncs/{syncId}': { access: 'webhooks:read', path: sync, stranger: 404 },
  'POST /v1/syncs/{syncId}/pause': { access: 'sync:run', path: (i) => `${sync(i)}/pause`, stranger: 404 },
  'POST /v1/syncs/{syncId}/resume': { access: 'sync:run', path: (i) => `${sync(i)}/resume`, stranger: 404 },
  'POST /v1/syncs/{syncId}/cancel': { access: 'sync:run', path: (i) => `${sync(i)}/cancel`, stranger: 404 },
  'POST /v1/webhooks/{id}/recover': {
    access: 'webhooks:write',
    path: (i) => `${wh(i)}/recover`,
    body: { since: '2020-01-01T00:00:00Z' },
    stranger: 404,
  },
  'GET /v1/webhooks/{id}/recoveries': {
    access: 'webhooks:read',
    path: (i) => `${wh(i)}/recoveries`,
    stranger: 404,
  },
  'GET /v1/recoveries/{recoveryId}': { access: 'webhooks:read', path: recovery, stranger: 404 },
  'POST /v1/recoveries/{recoveryId}/pause': {
    access: 'webhooks:write',
    path: (i) => `${recovery(i)}/pause`,
    stranger: 404,
  },
  'POST /v1/recoveries/{recoveryId}/resume': {
    access: 'webhooks:write',
    path: (i) => `${recovery(i)}/resume`,
    stranger: 404,
  },
  'POST /v1/recoveries/{recoveryId}/cancel': {
    access: 'webhooks:write',
    path: (i) => `${recovery(i)}/cancel`,
    stranger: 404,
  },
  'GET /v1/deliveries/{id}': {
    access: 'deliveries:read',
    path: (i) => `/v1/deliveries/${i.deliveryId}`,
    stranger: 404,
  },
  'POST /v1/deliveries/{id}/redeliver': {
    access: 'webhooks:write',
    path: (i) => `/v1/deliveries/${i.deliveryId}/redeliver`,
    stranger: 404,
  },
  // Events and entities belong to the publisher (the host system: the admin token or a publisher
  // key), not to an application: no application key publishes, and one sees an event only when it
  // was delivered to one of its webhooks.
  'POST /v1/events': {
    access: 'events:publish',
    path: () => '/v1/events',
    body: { type: 'person.updated', entity: { type: 'person', id: 'stranger-1' }, scopes: ['stranger'] },
    stranger: 'publisher',
  },
  'POST /v1/events/batch': {
    access: 'events:publish',
    path: () => '/v1/events/batch',
    body: {
      events: [
        { type: 'person.updated', entity: { type: 'person', id: 'stranger-3' }, scopes: ['stranger'] },
      ],
    },
    stranger: 'publisher',
  },
  'GET /v1/events': {
    access: 'events:publish',
    path: () => '/v1/events',
    stranger: 'publisher',
  },
  'GET /v1/events/{id}': {
    access: ['events:publish', 'deliveries:read'],
    path: (i) => `/v1/events/${i.eventId}`,
    stranger: 404,
  },
  'PUT /v1/entities/{type}/{id}': {
    access: 'entities:write',
    path: () => '/v1/entities/person/stranger-2',
    body: { data: { name: 'Stranger' }, scopes: ['stranger'] },
    stranger: 'publisher',
  },
  'DELETE /v1/entities/{type}/{id}': {
    access: 'entities:write',
    path: () => '/v1/entities/person/owner-1',
    stranger: 'publisher',
  },
  'GET /v1/entities/{type}': { access: 'admin', path: () => '/v1/entities/person', stranger: 'admin' },
  'GET /v1/entities/{type}/{id}': {
    access: 'admin',
    path: () => '/v1/entities/person/stranger-2',
    stranger: 'admin',
  },
  'GET /v1/event-types': {
    access: 'any',
    path: () => '/v1/event-types',
    stranger: (res) => expect(res.status).toBe(200),
  },
};

let owner: ApiClient;
let ids: Ids;
let strangerToken: string;
let ownerToken: string;
/** A publisher key holding every publisher scope. */
let publisherToken: string;
let routes: { key: string; method: string; route: RouteCase }[];

const lacking = new Map<string, string[]>();
/**
 * Tokens that hold none of `scopes` but every other scope they may: a key of the owner's
 * application, and a publisher key (each when it is left a scope to hold). Made once per set.
 */
async function tokensLacking(scopes: Scope[]): Promise<string[]> {
  const made = lacking.get(scopes.join(' '));
  if (made) return made;
  const tokens: string[] = [];
  const appScopes = KEY_SCOPES.filter((s) => !scopes.includes(s));
  if (appScopes.length) {
    const key = await admin.post(`/v1/applications/${ids.appId}/keys`, {
      name: 'lacking',
      scopes: appScopes,
    });
    tokens.push(key.body.token);
  }
  const publisherScopes = PUBLISHER_SCOPES.filter((s) => !scopes.includes(s));
  if (publisherScopes.length) {
    const key = await admin.post('/v1/publisher-keys', { name: 'lacking', scopes: publisherScopes });
    tokens.push(key.body.token);
  }
  lacking.set(scopes.join(' '), tokens);
  return tokens;
}

// Every route gets a bad token: far more than the failed tokens an address may send a minute.
useStack({ env: { HERALD_AUTH_FAILURES_PER_MINUTE: '0' } });
beforeAll(async () => {
  const ownerApp = await appWithKey(admin, { entityTypes: ['person'], scopes: ['owner'] });
  ownerToken = ownerApp.token;
  owner = apiClient(stack.api.url, ownerToken);
  strangerToken = (await appWithKey(admin, { entityTypes: ['person'], scopes: ['stranger'] })).token;
  const publisherKey = await admin.post('/v1/publisher-keys', {
    name: 'host system',
    scopes: [...PUBLISHER_SCOPES],
  });
  expect(publisherKey.status).toBe(201);
  publisherToken = publisherKey.body.token;

  const webhook = await createWebhook(owner, { url: receiver.url('/owner') });
  const published = await apiClient(stack.api.url, publisherToken).put('/v1/entities/person/owner-1', {
    data: { name: 'Owner' },
    scopes: ['owner'],
  });
  expect(published.status).toBe(200);
  const deliveryId = published.body.event.deliveries[0].id;
  await eventually(async () => (await owner.get(`/v1/deliveries/${deliveryId}`)).body.status === 'succeeded');
  const started = await owner.post(`/v1/webhooks/${webhook.id}/syncs`, {});
  expect(started.status).toBe(202);
  await eventually(async () => (await owner.get(`/v1/syncs/${started.body.id}`)).body.status === 'completed');
  const recovered = await owner.post(`/v1/webhooks/${webhook.id}/recover`, { since: '2020-01-01T00:00:00Z' });
  expect(recovered.status).toBe(202);
  await eventually(
    async () => (await owner.get(`/v1/recoveries/${recovered.body.id}`)).body.status === 'completed',
  );
  ids = {
    appId: ownerApp.app.id,
    keyId: ownerApp.keyId,
    webhookId: webhook.id,
    deliveryId,
    eventId: published.body.event.id,
    syncId: started.body.id,
    recoveryId: recovered.body.id,
    entityId: 'owner-1',
    publisherKeyId: publisherKey.body.id,
  };
  ROUTES['POST /v1/webhooks'].body = { url: 'https://example.com/stranger', applicationId: ids.appId };

  const doc = (await apiClient(stack.api.url).get('/openapi.json')).body as {
    paths: Record<string, Record<string, unknown>>;
  };
  routes = Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.keys(methods).map((method) => {
      const key = `${method.toUpperCase()} ${path}`;
      return { key, method: method.toUpperCase(), route: ROUTES[key] };
    }),
  );
});

/** One request; a stream's answer is its status and headers, not a body that never ends. */
async function call(
  token: string | undefined,
  method: string,
  path: string,
  body?: unknown,
): Promise<Answer> {
  const res = await fetch(`${stack.api.url}${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const contentType = res.headers.get('content-type') ?? '';
  if (contentType.startsWith('text/event-stream')) {
    await res.body?.cancel();
    return { status: res.status, contentType, body: undefined };
  }
  const text = await res.text();
  return { status: res.status, contentType, body: text ? JSON.parse(text) : undefined };
}

function expectProblem(what: string, res: Answer, status: number) {
  expect([what, res.status]).toEqual([what, status]);
  expect(res.contentType).toMatch(/^application\/problem\+json/);
  expect(res.body).toMatchObject({ status, title: expect.any(String), detail: expect.any(String) });
}

/** The same route aimed at ids that do not exist, for comparing a 404 with "not found at all". */
function unknownIds(): Ids {
  return {
    appId: 'app_00000000000000000000000000',
    keyId: 'key_00000000000000000000000000',
    webhookId: 'wh_00000000000000000000000000',
    deliveryId: 'dlv_00000000000000000000000000',
    eventId: 'evt_00000000000000000000000000',
    syncId: 'sync_00000000000000000000000000',
    recoveryId: 'rcv_00000000000000000000000000',
    entityId: 'nobody',
    publisherKeyId: 'pkey_00000000000000000000000000',
  };
}

test('every route of the OpenAPI document has a row in the isolation table, and no row is stale', () => {
  const documented = routes.map((r) => r.key).sort();
  expect(documented.filter((k) => !ROUTES[k])).toEqual([]);
  expect(Object.keys(ROUTES).filter((k) => !documented.includes(k))).toEqual([]);
  expect(documented.length).toBeGreaterThanOrEqual(33);
});

test('with no token, or a token that is not one, every route answers 401', async () => {
  for (const { key, method, route } of routes) {
    expectProblem(`${key} without a token`, await call(undefined, method, route.path(ids), route.body), 401);
    expectProblem(
      `${key} with a bad token`,
      await call('hk_not-a-key', method, route.path(ids), route.body),
      401,
    );
  }
});

test("with a key lacking the route's scope, every route answers 403; publisher and application keys hold each other's routes' scopes never", async () => {
  for (const { key, method, route } of routes) {
    if (route.access === 'any') {
      // Any valid key may read it: even one holding a single scope, and a publisher key.
      const [narrow] = await tokensLacking(['webhooks:write', 'webhooks:read', 'deliveries:read']);
      for (const token of [narrow, publisherToken])
        expect([key, (await call(token, method, route.path(ids), route.body)).status]).toEqual([key, 200]);
      continue;
    }
    // Admin routes refuse every key, even ones with all scopes; scoped routes refuse keys without one of its scopes.
    const tokens =
      route.access === 'admin'
        ? [ownerToken, publisherToken]
        : await tokensLacking(Array.isArray(route.access) ? route.access : [route.access]);
    expect(tokens.length).toBeGreaterThan(0);
    for (const token of tokens) {
      expectProblem(
        `${key} lacking ${route.access}`,
        await call(token, method, route.path(ids), route.body),
        403,
      );
    }
  }
});

test("with another application's key, the owner's resources are not found and nothing of them shows", async () => {
  const secretBefore = await stack.pool.query('SELECT secret FROM webhooks WHERE id = $1', [ids.webhookId]);
  const deliveriesBefore = await countDeliveries();
  for (const { key, method, route } of routes) {
    const res = await call(strangerToken, method, route.path(ids), route.body);
    if (route.stranger === 'admin' || route.stranger === 'publisher')
      expectProblem(`${key} as a stranger`, res, 403);
    else if (route.stranger === 404) {
      expectProblem(`${key} as a stranger`, res, 404);
      // Indistinguishable from an id that does not exist: same status and title, same detail but the id.
      const missing = await call(strangerToken, method, route.path(unknownIds()), route.body);
      expectProblem(`${key} with an unknown id`, missing, 404);
      expect(res.body.title).toBe(missing.body.title);
      expect(res.body.detail.replace(/[a-z]+_[0-9a-z]{26}/g, 'ID')).toBe(
        missing.body.detail.replace(/[a-z]+_[0-9a-z]{26}/g, 'ID'),
      );
    } else {
      try {
        route.stranger(res, ids);
      } catch (err) {
        throw new Error(`${key} as a stranger: ${(err as Error).message}`);
      }
    }
  }

  // Nothing the stranger sent changed the owner's things.
  const webhook = await owner.get(`/v1/webhooks/${ids.webhookId}`);
  expect(webhook.status).toBe(200);
  expect(webhook.body).toMatchObject({ label: '', status: 'active', url: receiver.url('/owner') });
  const secretAfter = await stack.pool.query('SELECT secret FROM webhooks WHERE id = $1', [ids.webhookId]);
  expect(secretAfter.rows[0].secret).toBe(secretBefore.rows[0].secret);
  expect(await countDeliveries()).toBe(deliveriesBefore);
  expect((await owner.get(`/v1/syncs/${ids.syncId}`)).body.status).toBe('completed');
  expect((await owner.get(`/v1/webhooks/${ids.webhookId}/syncs`)).body.data).toHaveLength(1);
  expect((await owner.get(`/v1/webhooks/${ids.webhookId}/recoveries`)).body.data).toHaveLength(1);
  const app = await admin.get(`/v1/applications/${ids.appId}`);
  expect(app.body.name).toBe('Test app');
  const keys = await admin.get(`/v1/applications/${ids.appId}/keys?limit=100`);
  expect(keys.body.data.map((k: { id: string }) => k.id)).toContain(ids.keyId);
  expect((await owner.get('/v1/webhooks')).body.data.map((w: { id: string }) => w.id)).toEqual([
    ids.webhookId,
  ]);
});

test("the admin cannot reach one application's key through another application's path", async () => {
  const other = await appWithKey(admin);
  expectProblem(
    'revoke across applications',
    await call(stack.adminToken, 'DELETE', `/v1/applications/${other.app.id}/keys/${ids.keyId}`),
    404,
  );
  expect((await owner.get('/v1/webhooks')).status).toBe(200);
});

test('an application key reads an event delivered to it, with its own deliveries only; the publisher sees all', async () => {
  const stranger = apiClient(stack.api.url, strangerToken);
  await createWebhook(stranger, { url: receiver.url('/stranger') });
  const strangerHooks = (await stranger.get('/v1/webhooks')).body.data
    .map((w: { id: string }) => w.id)
    .sort();
  const publisher = apiClient(stack.api.url, publisherToken);
  const published = await publisher.post('/v1/events', {
    type: 'person.updated',
    entity: { type: 'person', id: 'both-1' },
    scopes: ['owner', 'stranger'],
  });
  expect(published.status).toBe(202);
  const webhooksOf = (res: { body: { deliveries: { webhookId: string }[] } }) =>
    res.body.deliveries.map((d) => d.webhookId).sort();
  expect(webhooksOf(published)).toEqual([ids.webhookId, ...strangerHooks].sort());
  const path = `/v1/events/${published.body.id}`;
  const asOwner = await owner.get(path);
  expect([asOwner.status, webhooksOf(asOwner)]).toEqual([200, [ids.webhookId]]);
  const asStranger = await stranger.get(path);
  expect([asStranger.status, webhooksOf(asStranger)]).toEqual([200, strangerHooks]);
  const asPublisher = await publisher.get(path);
  expect([asPublisher.status, webhooksOf(asPublisher)]).toEqual([200, webhooksOf(published)]);
  // A revoked publisher key stops at once on this API.
  const key = await admin.post('/v1/publisher-keys', { name: 'short-lived', scopes: ['events:publish'] });
  const shortLived = apiClient(stack.api.url, key.body.token);
  expect((await shortLived.get(path)).status).toBe(200);
  const listed = await admin.get('/v1/publisher-keys');
  expect(listed.body.data.map((k: { id: string }) => k.id)).toContain(key.body.id);
  expect(JSON.stringify(listed.body)).not.toContain(key.body.token);
  expect((await admin.delete(`/v1/publisher-keys/${key.body.id}`)).status).toBe(204);
  expectProblem('a revoked publisher key', await call(key.body.token, 'GET', path), 401);
});

async function countDeliveries(): Promise<number> {
  const { rows } = await stack.pool.query('SELECT count(*)::int AS n FROM deliveries WHERE webhook_id = $1', [
    ids.webhookId,
  ]);
  return rows[0].n;
}
