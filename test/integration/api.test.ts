import http from 'node:http';
import { EventSourceParserStream } from 'eventsource-parser/stream';
import { type ApiResponse, apiClient, eventually } from '../support/client';
import { appWithKey, createWebhook, personEvent } from '../support/fixtures';
import { admin, receiver, stack, useStack } from '../support/suite';

useStack();

async function counts() {
  const { rows } = await stack.pool.query(
    `SELECT (SELECT count(*) FROM webhooks)::int AS webhooks, (SELECT count(*) FROM events)::int AS events,
            (SELECT count(*) FROM applications)::int AS applications`,
  );
  return rows[0];
}

function expectProblem(res: ApiResponse, status: number) {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(res.body).toMatchObject({
    status,
    title: expect.any(String),
    detail: expect.any(String),
    type: expect.any(String),
  });
}

describe('bad input gets a clear problem and changes nothing', () => {
  test('validation errors name each field', async () => {
    const { token } = await appWithKey(admin);
    const key = apiClient(stack.api.url, token);
    const before = await counts();
    const res = await key.post('/v1/webhooks', {
      url: 'not a url',
      method: 'PUT',
      events: ['bad pattern'],
      syncIntervalMs: -1,
    });
    expectProblem(res, 400);
    const paths = res.body.errors.map((e: { path: string }) => e.path).sort();
    expect(paths).toEqual(['body.events.0', 'body.method', 'body.syncIntervalMs', 'body.url']);
    expect(await counts()).toEqual(before);
  });

  test('https only unless allowed; literal blocked addresses are refused at once', async () => {
    const strict = apiClient(stack.api.url, (await appWithKey(admin)).token);
    const res = await strict.post('/v1/webhooks', { url: 'http://169.254.169.254/latest' });
    expectProblem(res, 422);
    expect(res.body.errors[0]).toMatchObject({ path: 'body.url', message: expect.stringMatching(/blocked/) });
    const mapped = await strict.post('/v1/webhooks', { url: 'http://[::ffff:10.0.0.1]/' });
    expect(mapped.body.errors[0].message).toMatch(/blocked/);
  });

  test('unknown fields, malformed JSON, non-JSON bodies and oversize bodies', async () => {
    const before = await counts();
    const unknown = await admin.post('/v1/applications', {
      name: 'x',
      access: { entityTypes: ['*'], scopes: ['*'] },
      admin: true,
    });
    expectProblem(unknown, 400);
    expect(unknown.body.errors[0].message).toMatch(/admin/);
    expectProblem(await admin.post('/v1/events', '{"type": "person.updated", '), 400);
    expectProblem(
      await admin.post('/v1/events', 'type=person.updated', {
        'content-type': 'application/x-www-form-urlencoded',
      }),
      415,
    );
    const huge = personEvent('big', { data: { blob: 'x'.repeat(300 * 1024) } });
    expectProblem(await admin.post('/v1/events', huge), 413);
    const mismatch = await admin.post('/v1/events', {
      type: 'person.updated',
      entity: { type: 'member', id: '1' },
    });
    expectProblem(mismatch, 422);
    expect(mismatch.body.errors[0].path).toBe('body.type');
    expect(await counts()).toEqual(before);
  });

  test('unknown ids and routes answer 404 problems', async () => {
    expectProblem(await admin.get('/v1/webhooks/wh_nope'), 404);
    expectProblem(await admin.get('/v1/deliveries/dlv_nope'), 404);
    expectProblem(await admin.get('/v1/events/evt_nope'), 404);
    expectProblem(await admin.get('/v1/nothing-here'), 404);
  });

  test("a name's length is counted as sent, before it is trimmed (the document's maxLength)", async () => {
    const { app } = await appWithKey(admin);
    const res = await admin.patch(`/v1/applications/${app.id}`, { name: `\t${'n'.repeat(200)}` });
    expectProblem(res, 400);
    expect(res.body.errors.map((e: { path: string }) => e.path)).toEqual(['body.name']);
    expect((await admin.get(`/v1/applications/${app.id}`)).body.name).toBe(app.name);
    const trimmed = await admin.patch(`/v1/applications/${app.id}`, { name: ` ${'n'.repeat(198)} ` });
    expect(trimmed.body.name).toBe('n'.repeat(198));
  });

  test('lengths are counted in characters, as the document counts them, not in UTF-16 units', async () => {
    const { app } = await appWithKey(admin);
    const emoji = '\u{1F600}'; // one character, two UTF-16 units
    const longest = await admin.patch(`/v1/applications/${app.id}`, { name: emoji.repeat(200) });
    expect(longest.status).toBe(200);
    expect([...longest.body.name]).toHaveLength(200);
    const tooLong = await admin.patch(`/v1/applications/${app.id}`, { name: emoji.repeat(201) });
    expectProblem(tooLong, 400);
    expect(tooLong.body.errors[0]).toMatchObject({ path: 'body.name', message: 'at most 200 characters' });

    // A secret of 8 such characters is 16 units but 8 characters: under the 16 the document asks.
    const before = await counts();
    const short = await admin.post('/v1/webhooks', {
      url: receiver.url('/lengths'),
      applicationId: app.id,
      secret: emoji.repeat(8),
    });
    expectProblem(short, 400);
    expect(short.body.errors[0]).toMatchObject({ path: 'body.secret', message: '16 to 256 characters' });
    expect(await counts()).toEqual(before);
    const created = await admin.post('/v1/webhooks', {
      url: receiver.url('/lengths'),
      applicationId: app.id,
      secret: emoji.repeat(16),
    });
    expect(created.status).toBe(201);
  });

  test('a PATCH that names no field is refused, with or without a body', async () => {
    const { app } = await appWithKey(admin);
    const webhook = await createWebhook(admin, { url: receiver.url('/patch'), applicationId: app.id });
    for (const path of [`/v1/webhooks/${webhook.id}`, `/v1/applications/${app.id}`]) {
      expectProblem(await admin.patch(path, {}), 400);
      expectProblem(await admin.patch(path), 400);
    }
    expect((await admin.get(`/v1/webhooks/${webhook.id}`)).body.updatedAt).toBe(webhook.updatedAt);
  });

  test('a known path asked with a method it lacks answers 405 with Allow', async () => {
    // fetch refuses to send TRACE, so a plain request.
    const answer = await new Promise<{ status?: number; allow?: string; type?: string }>(
      (resolve, reject) => {
        const req = http.request(`${stack.api.url}/v1/webhooks`, { method: 'TRACE' }, (res) => {
          res.resume();
          resolve({ status: res.statusCode, allow: res.headers.allow, type: res.headers['content-type'] });
        });
        req.on('error', reject).end();
      },
    );
    expect(answer).toEqual({
      status: 405,
      allow: 'POST, GET, HEAD',
      type: expect.stringMatching(/^application\/problem\+json/),
    });
    const put = await admin.call('PUT', '/v1/webhooks/wh_any');
    expectProblem(put, 405);
    expect(put.headers.get('allow')).toBe('GET, PATCH, DELETE, HEAD');
  });
});

describe('auth', () => {
  test('the token is read from Authorization: Bearer or x-access-token; a bad one is 401', async () => {
    const open = apiClient(stack.api.url);
    expectProblem(await open.get('/v1/applications'), 401);
    expectProblem(await apiClient(stack.api.url, 'nope').get('/v1/applications'), 401);
    const viaHeader = await open.call('GET', '/v1/applications', undefined, {
      'x-access-token': stack.adminToken,
    });
    expect(viaHeader.status).toBe(200);
  });

  test("another application's key gets 404 on every webhook and delivery route; a key without the scope gets 403", async () => {
    const owner = apiClient(
      stack.api.url,
      (await appWithKey(admin, { entityTypes: ['person'], scopes: ['iso'] })).token,
    );
    const stranger = apiClient(stack.api.url, (await appWithKey(admin)).token);
    const webhook = await createWebhook(owner, { url: receiver.url('/iso') });
    const published = await admin.post('/v1/events', personEvent('iso-1', { scopes: ['iso'] }));
    const deliveryId = published.body.deliveries.find(
      (d: { webhookId: string }) => d.webhookId === webhook.id,
    ).id;
    await eventually(
      async () => (await owner.get(`/v1/deliveries/${deliveryId}`)).body.status === 'succeeded',
    );

    const routes: [string, string, unknown?][] = [
      ['GET', `/v1/webhooks/${webhook.id}`],
      ['PATCH', `/v1/webhooks/${webhook.id}`, { label: 'stolen' }],
      ['DELETE', `/v1/webhooks/${webhook.id}`],
      ['POST', `/v1/webhooks/${webhook.id}/pause`],
      ['POST', `/v1/webhooks/${webhook.id}/resume`],
      ['POST', `/v1/webhooks/${webhook.id}/rotate-secret`],
      ['POST', `/v1/webhooks/${webhook.id}/test`],
      ['GET', `/v1/webhooks/${webhook.id}/deliveries`],
      ['GET', `/v1/webhooks/${webhook.id}/deliveries/stream`],
      ['GET', `/v1/deliveries/${deliveryId}`],
      ['POST', `/v1/deliveries/${deliveryId}/redeliver`],
    ];
    for (const [method, path, body] of routes) {
      const res = await stranger.call(method, path, body);
      expect([method, path, res.status]).toEqual([method, path, 404]);
    }
    const list = await stranger.get('/v1/webhooks');
    expect(list.body.data.map((w: { id: string }) => w.id)).not.toContain(webhook.id);
    expect((await owner.get(`/v1/webhooks/${webhook.id}`)).body.label).toBe('');

    const readOnly = apiClient(stack.api.url, (await appWithKey(admin, undefined, ['webhooks:read'])).token);
    expectProblem(await readOnly.post('/v1/webhooks', { url: receiver.url('/ro') }), 403);
    expectProblem(await readOnly.post('/v1/events', personEvent('ro')), 403);
    expectProblem(await readOnly.get('/v1/applications'), 403);
    expect((await readOnly.get('/v1/webhooks')).status).toBe(200);
  });

  test('keys are stored as hashes, listed without tokens, and stop working when revoked', async () => {
    const { app, token, keyId } = await appWithKey(admin);
    const { rows } = await stack.pool.query('SELECT token_hash FROM api_keys WHERE id = $1', [keyId]);
    expect(rows[0].token_hash).toHaveLength(32);
    const { rows: leaked } = await stack.pool.query(
      'SELECT count(*)::int AS n FROM api_keys WHERE position($1 in token_hint) > 0',
      [token],
    );
    expect(leaked[0].n).toBe(0);
    const listed = await admin.get(`/v1/applications/${app.id}/keys`);
    expect(JSON.stringify(listed.body)).not.toContain(token);
    expect((await apiClient(stack.api.url, token).get('/v1/webhooks')).status).toBe(200);
    expect((await admin.delete(`/v1/applications/${app.id}/keys/${keyId}`)).status).toBe(204);
    expect((await apiClient(stack.api.url, token).get('/v1/webhooks')).status).toBe(401);
  });
});

test('webhook secrets are returned once and never in reads or lists', async () => {
  const key = apiClient(stack.api.url, (await appWithKey(admin)).token);
  const webhook = await createWebhook(key, {
    url: receiver.url('/secret'),
    headers: { authorization: 'Bearer receiver-side-secret' },
  });
  expect(webhook.secret).toMatch(/^whsec_/);
  const read = await key.get(`/v1/webhooks/${webhook.id}`);
  const list = await key.get('/v1/webhooks');
  expect(JSON.stringify(read.body)).not.toContain(webhook.secret);
  expect(JSON.stringify(list.body)).not.toContain(webhook.secret);
  const test = await key.post(`/v1/webhooks/${webhook.id}/test`);
  const detail = await key.get(`/v1/deliveries/${test.body.deliveryId}`);
  expect(detail.body.attempts[0].request.headers.authorization).toBe('[redacted]');
  expect(receiver.on('/secret')[0].headers.authorization).toBe('Bearer receiver-side-secret');
});

test('Run Test answers with the attempt, carrying the key subject or the application', async () => {
  const { app, token } = await appWithKey(admin);
  const key = apiClient(stack.api.url, token);
  const webhook = await createWebhook(key, { url: receiver.url('/test-run') });
  await key.post(`/v1/webhooks/${webhook.id}/pause`);
  const started = Date.now();
  const res = await key.post(`/v1/webhooks/${webhook.id}/test`);
  expect(Date.now() - started).toBeLessThan(20_000);
  expect(res.status).toBe(200);
  expect(res.body).toMatchObject({
    outcome: 'succeeded',
    responseStatus: 200,
    responseBody: 'ok',
    error: null,
  });
  const body = JSON.parse(receiver.on('/test-run')[0].body);
  expect(body).toMatchObject({
    type: 'webhook.test',
    action: 'test',
    entity: { type: 'application', id: app.id },
  });

  const workflow = stack.api.context.temporal.workflow.getHandle(`test:${webhook.id}:${res.body.id}`);
  expect((await workflow.describe()).status.name).toBe('COMPLETED');
});

test('the delivery stream pushes each attempt as it happens, and deliveries held while paused', async () => {
  const scope = 'stream';
  const { token } = await appWithKey(admin, { entityTypes: ['person'], scopes: [scope] });
  const key = apiClient(stack.api.url, token);
  const webhook = await createWebhook(key, { url: receiver.url('/stream') });
  const events: Record<string, unknown>[] = [];
  const stop = new AbortController();
  // The server answers once it has registered the stream, so nothing published after this is missed.
  const res = await fetch(`${stack.api.url}/v1/webhooks/${webhook.id}/deliveries/stream`, {
    headers: { authorization: `Bearer ${token}` },
    signal: stop.signal,
  });
  expect(res.headers.get('content-type')).toBe('text/event-stream');
  const reading = (async () => {
    const stream = res.body!.pipeThrough(new TextDecoderStream()).pipeThrough(new EventSourceParserStream());
    for await (const message of stream) events.push({ event: message.event, ...JSON.parse(message.data) });
  })().catch((err) => {
    if (!stop.signal.aborted) throw err;
  });
  const published = await admin.post('/v1/events', personEvent('s-1', { scopes: [scope] }));
  await eventually(async () => events.length >= 1);
  expect(events[0]).toMatchObject({
    event: 'attempt',
    webhookId: webhook.id,
    eventId: published.body.id,
    outcome: 'succeeded',
    responseStatus: 200,
  });

  // A held delivery has no attempt; the stream tells of it all the same.
  expect((await key.post(`/v1/webhooks/${webhook.id}/pause`)).status).toBe(200);
  const held = await admin.post('/v1/events', personEvent('s-2', { scopes: [scope] }));
  await eventually(async () => events.length >= 2);
  stop.abort();
  await reading;
  expect(events[1]).toMatchObject({
    event: 'delivery',
    webhookId: webhook.id,
    eventId: held.body.id,
    deliveryStatus: 'held',
    attemptCount: 0,
  });
});

test('deliveries list newest first, filter by status, and paginate by cursor', async () => {
  const scope = 'list';
  const key = apiClient(
    stack.api.url,
    (await appWithKey(admin, { entityTypes: ['person'], scopes: [scope] })).token,
  );
  const webhook = await createWebhook(key, { url: receiver.url('/list') });
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) {
    const published = await admin.post('/v1/events', personEvent(`l-${i}`, { scopes: [scope] }));
    ids.push(published.body.deliveries.find((d: { webhookId: string }) => d.webhookId === webhook.id).id);
  }
  // Ids (made by PostgreSQL's herald_id for fan-out) are prefixed lower-case ULIDs, in time order.
  for (const id of ids) expect(id).toMatch(/^dlv_[0-7][0-9a-hjkmnp-tv-z]{25}$/);
  expect([...ids].sort()).toEqual(ids);
  const page1 = await key.get(`/v1/webhooks/${webhook.id}/deliveries?limit=3`);
  expect(page1.body.data.map((d: { id: string }) => d.id)).toEqual(ids.slice(2).reverse());
  const page2 = await key.get(
    `/v1/webhooks/${webhook.id}/deliveries?limit=3&cursor=${page1.body.nextCursor}`,
  );
  expect(page2.body.data.map((d: { id: string }) => d.id)).toEqual(ids.slice(0, 2).reverse());
  expect(page2.body.nextCursor).toBeNull();
  await eventually(
    async () =>
      (await key.get(`/v1/webhooks/${webhook.id}/deliveries?status=succeeded`)).body.data.length === 5,
  );
  // Each links to the workflow that owns it, once one does, and tells its last attempt in short.
  const latest = await key.get(`/v1/webhooks/${webhook.id}/deliveries?limit=1`);
  expect(latest.body.data[0].lastAttempt).toEqual({
    outcome: 'succeeded',
    responseStatus: 200,
    durationMs: expect.any(Number),
    startedAt: expect.any(String),
  });
  expect(latest.body.data[0].workflowUrl).toBe(
    `${stack.config.temporal.uiUrl}/namespaces/default/workflows/delivery%3A${ids[4]}`,
  );
  expectProblem(await key.get(`/v1/webhooks/${webhook.id}/deliveries?status=bogus`), 400);
  expectProblem(await key.get(`/v1/webhooks/${webhook.id}/deliveries?limit=1000`), 400);
});

test('the OpenAPI document covers the contract and /docs renders it', async () => {
  const open = apiClient(stack.api.url);
  const doc = await open.get('/openapi.json');
  expect(doc.status).toBe(200);
  for (const path of [
    '/v1/webhooks',
    '/v1/webhooks/{id}/test',
    '/v1/events',
    '/v1/deliveries/{id}/redeliver',
    '/v1/applications/{appId}/keys',
  ]) {
    expect(Object.keys(doc.body.paths)).toContain(path);
  }
  expect(doc.body.components.schemas.WebhookCreate.properties.url).toBeDefined();
  const docs = await fetch(`${stack.api.url}/docs/`);
  expect(docs.status).toBe(200);
  expect(await docs.text()).toContain('swagger-ui');
});
