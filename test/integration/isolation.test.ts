import { KEY_SCOPES } from '../../src/api/schemas';
import { type ApiClient, apiClient, eventually } from '../support/client';
import { appWithKey, createWebhook } from '../support/fixtures';
import { type Receiver, startReceiver } from '../support/receiver';
import { type Stack, startStack } from '../support/stack';

/**
 * Tenant isolation over every route of the contract: with no key (401), with a key lacking the
 * route's scope (403), and with another application's key (404 for the owner's resources,
 * exactly as for an id that does not exist). The route list comes from the OpenAPI document, so
 * a route added to the API without a row here fails the test.
 */

type Scope = (typeof KEY_SCOPES)[number];
type Access = 'admin' | 'any' | Scope;

interface Ids {
  appId: string;
  keyId: string;
  webhookId: string;
  deliveryId: string;
  eventId: string;
  syncId: string;
  recoveryId: string;
  entityId: string;
}

interface RouteCase {
  access: Access;
  path: (ids: Ids) => string;
  body?: unknown;
  /**
   * What another application's key (holding every scope) gets: `404` for the owner's resources,
   * or a check that the route, which is not about one application's resources, shows the caller
   * nothing of the owner's. Admin routes answer it 403.
   */
  stranger: 404 | ((res: Answer, ids: Ids) => void) | 'admin';
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
  // Events and entities belong to the publisher (the host system), not to an application: a key
  // with events:publish publishes, but sees only its own application's deliveries.
  'POST /v1/events': {
    access: 'events:publish',
    path: () => '/v1/events',
    body: { type: 'person.updated', entity: { type: 'person', id: 'stranger-1' }, scopes: ['stranger'] },
    stranger: (res, ids) => {
      expect(res.status).toBe(202);
      expect(res.body.deliveries.map((d: { webhookId: string }) => d.webhookId)).not.toContain(ids.webhookId);
    },
  },
  'GET /v1/events/{id}': {
    access: 'events:publish',
    path: (i) => `/v1/events/${i.eventId}`,
    stranger: (res) => {
      expect(res.status).toBe(200);
      expect(res.body.deliveries).toEqual([]);
    },
  },
  'PUT /v1/entities/{type}/{id}': {
    access: 'events:publish',
    path: () => '/v1/entities/person/stranger-2',
    body: { data: { name: 'Stranger' }, scopes: ['stranger'] },
    stranger: (res, ids) => {
      expect(res.status).toBe(200);
      expect(res.body.event.deliveries.map((d: { webhookId: string }) => d.webhookId)).not.toContain(
        ids.webhookId,
      );
    },
  },
  'DELETE /v1/entities/{type}/{id}': {
    access: 'events:publish',
    path: () => '/v1/entities/person/stranger-2',
    stranger: (res) => expect(res.status).toBe(200),
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

let stack: Stack;
let receiver: Receiver;
let admin: ApiClient;
let owner: ApiClient;
let ids: Ids;
let strangerToken: string;
let ownerToken: string;
/** For each scope, a key of the owner's application holding every scope but that one. */
const lacking = new Map<Scope, string>();
let routes: { key: string; method: string; route: RouteCase }[];

beforeAll(async () => {
  stack = await startStack();
  receiver = await startReceiver();
  admin = apiClient(stack.api.url, stack.adminToken);
  const ownerApp = await appWithKey(admin, { entityTypes: ['person'], scopes: ['owner'] });
  ownerToken = ownerApp.token;
  owner = apiClient(stack.api.url, ownerToken);
  strangerToken = (await appWithKey(admin, { entityTypes: ['person'], scopes: ['stranger'] })).token;
  for (const scope of KEY_SCOPES) {
    const key = await admin.post(`/v1/applications/${ownerApp.app.id}/keys`, {
      name: `without ${scope}`,
      scopes: KEY_SCOPES.filter((s) => s !== scope),
    });
    lacking.set(scope, key.body.token);
  }

  const webhook = await createWebhook(owner, { url: receiver.url('/owner') });
  const published = await admin.post('/v1/events', {
    type: 'person.updated',
    entity: { type: 'person', id: 'owner-1' },
    data: { name: 'Owner' },
    scopes: ['owner'],
  });
  const deliveryId = published.body.deliveries[0].id;
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
    eventId: published.body.id,
    syncId: started.body.id,
    recoveryId: recovered.body.id,
    entityId: 'owner-1',
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
afterAll(async () => {
  await stack?.stop();
  await receiver?.close();
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

test("with a key of the owner's application lacking the route's scope, every route answers 403", async () => {
  for (const { key, method, route } of routes) {
    if (route.access === 'any') {
      // Any valid key may read it: even one holding a single scope.
      const narrow = lacking.get('webhooks:write')!;
      expect([key, (await call(narrow, method, route.path(ids), route.body)).status]).toEqual([key, 200]);
      continue;
    }
    // Admin routes refuse every key, even one with all scopes; scoped routes refuse a key without that scope.
    const token = route.access === 'admin' ? ownerToken : lacking.get(route.access)!;
    expectProblem(
      `${key} lacking ${route.access}`,
      await call(token, method, route.path(ids), route.body),
      403,
    );
  }
});

test("with another application's key, the owner's resources are not found and nothing of them shows", async () => {
  const secretBefore = await stack.pool.query('SELECT secret FROM webhooks WHERE id = $1', [ids.webhookId]);
  const deliveriesBefore = await countDeliveries();
  for (const { key, method, route } of routes) {
    const res = await call(strangerToken, method, route.path(ids), route.body);
    if (route.stranger === 'admin') expectProblem(`${key} as a stranger`, res, 403);
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
  const keys = await admin.get(`/v1/applications/${ids.appId}/keys`);
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

async function countDeliveries(): Promise<number> {
  const { rows } = await stack.pool.query('SELECT count(*)::int AS n FROM deliveries WHERE webhook_id = $1', [
    ids.webhookId,
  ]);
  return rows[0].n;
}
