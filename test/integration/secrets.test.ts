import { createHash } from 'node:crypto';
import { type ApiClient, apiClient, eventually } from '../support/client';
import { appWithKey, createWebhook } from '../support/fixtures';
import { type Receiver, startReceiver } from '../support/receiver';
import { type Stack, startStack } from '../support/stack';

/**
 * Secrets never leak: a realistic flow at LOG_LEVEL=trace with every log line captured, then a
 * search of the logs, of every list and read response, and of the recorded attempts for each
 * secret the flow used. API tokens are stored only as hashes.
 */

let stack: Stack;
let receiver: Receiver;
let logs = '';
let consoleOutput = '';
const restoreWrites: (() => void)[] = [];

// The receiver's own credentials, sent as custom headers; both names say "secret".
const RECEIVER_AUTH = `Bearer receiver-credential-${Date.now()}-a8f3`;
const RECEIVER_API_KEY = `receiver-api-key-${Date.now()}-77c1`;

beforeAll(async () => {
  // Anything written to stdout or stderr meanwhile (the Temporal SDK's own logger, say) counts too.
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write.bind(stream);
    stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      consoleOutput += chunk.toString();
      return (write as (...a: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof stream.write;
    restoreWrites.push(() => {
      stream.write = write as typeof stream.write;
    });
  }
  stack = await startStack({
    env: { LOG_LEVEL: 'trace' },
    logDestination: {
      write(line: string) {
        logs += line;
      },
    },
  });
  receiver = await startReceiver();
});
afterAll(async () => {
  await stack?.stop();
  await receiver?.close();
  for (const restore of restoreWrites) restore();
});

interface Secrets {
  adminToken: string;
  apiToken: string;
  signingSecrets: string[];
  headerValues: string[];
}

/** Every form a secret could leak in: the whole string and, for whsec_ secrets, the key material. */
function needles(s: Secrets): [string, string][] {
  return [
    ['admin token', s.adminToken],
    ['API token', s.apiToken],
    ...s.signingSecrets.flatMap((secret, i): [string, string][] => [
      [`signing secret ${i}`, secret],
      [`signing key ${i}`, secret.replace(/^whsec_/, '')],
    ]),
    ...s.headerValues.map((v, i): [string, string] => [`custom header value ${i}`, v]),
  ];
}

function expectNoSecret(where: string, text: string, secrets: Secrets) {
  const found = needles(secrets)
    .filter(([, value]) => text.includes(value))
    .map(([name]) => name);
  expect([where, found]).toEqual([where, []]);
}

test('a full flow leaks no token, signing secret or secret header into logs, responses or attempts', async () => {
  const admin = apiClient(stack.api.url, stack.adminToken);
  const { app, token, keyId } = await appWithKey(admin, { entityTypes: ['person'], scopes: ['secrets'] });
  const key = apiClient(stack.api.url, token);
  // Some calls with the other header form, so both are exercised.
  const viaHeader = (path: string) => key.call('GET', path, undefined, { 'x-access-token': token });

  const webhook = await createWebhook(key, {
    url: receiver.url('/secrets'),
    label: 'Secrets',
    headers: { Authorization: RECEIVER_AUTH, 'X-Api-Key': RECEIVER_API_KEY, 'X-Tenant': 'plain' },
  });
  const oldSecret = webhook.secret;
  // A user-defined signing key too, on a second webhook that fails first and then recovers.
  const customSecret = `my-own-signing-key-${Date.now()}`;
  const flaky = await createWebhook(key, { url: receiver.url('/flaky'), secret: customSecret });
  receiver.reply((req) =>
    req.path === '/flaky' && receiver.on('/flaky').length === 1 ? { status: 500 } : {},
  );

  // Publish, and wait until both webhooks have it.
  const published = await admin.post('/v1/events', {
    type: 'person.created',
    entity: { type: 'person', id: 's-1' },
    data: { name: 'Ada' },
    scopes: ['secrets'],
  });
  expect(published.status).toBe(202);
  const first = published.body.deliveries.find((d: { webhookId: string }) => d.webhookId === webhook.id).id;
  const flakyFirst = published.body.deliveries.find(
    (d: { webhookId: string }) => d.webhookId === flaky.id,
  ).id;
  await eventually(async () => (await key.get(`/v1/deliveries/${first}`)).body.status === 'succeeded');
  await eventually(async () => (await key.get(`/v1/deliveries/${flakyFirst}`)).body.status === 'succeeded');

  // Test, rotate, publish again (signed with both secrets), redeliver.
  const tested = await key.post(`/v1/webhooks/${webhook.id}/test`);
  expect(tested.body.outcome).toBe('succeeded');
  const rotated = await key.post(`/v1/webhooks/${webhook.id}/rotate-secret`);
  expect(rotated.status).toBe(200);
  const newSecret = rotated.body.secret as string;
  expect(newSecret).not.toBe(oldSecret);
  const second = await admin.post('/v1/events', {
    type: 'person.updated',
    entity: { type: 'person', id: 's-1' },
    data: { name: 'Ada Lovelace' },
    scopes: ['secrets'],
  });
  const secondDelivery = second.body.deliveries.find(
    (d: { webhookId: string }) => d.webhookId === webhook.id,
  ).id;
  const redelivered = await key.post(`/v1/deliveries/${first}/redeliver`);
  expect(redelivered.status).toBe(202);
  for (const id of [secondDelivery, redelivered.body.id])
    await eventually(async () => (await key.get(`/v1/deliveries/${id}`)).body.status === 'succeeded');
  const patched = await key.patch(`/v1/webhooks/${webhook.id}`, { label: 'Secrets, renamed' });
  expect(patched.status).toBe(200);

  // The receiver got the real values: the secrets were in use, not dropped.
  const received = receiver.on('/secrets');
  expect(received.length).toBeGreaterThanOrEqual(4);
  expect(received[0].headers.authorization).toBe(RECEIVER_AUTH);
  expect(received[0].headers['x-api-key']).toBe(RECEIVER_API_KEY);
  expect(String(received.at(-1)!.headers['webhook-signature']).split(' ')).toHaveLength(2);

  const secrets: Secrets = {
    adminToken: stack.adminToken,
    apiToken: token,
    signingSecrets: [oldSecret, newSecret, customSecret],
    headerValues: [RECEIVER_AUTH, RECEIVER_API_KEY],
  };

  // Every list and read response.
  const reads: [string, ApiClient['get'] | typeof viaHeader, string][] = [
    ['applications', admin.get, '/v1/applications'],
    ['application', admin.get, `/v1/applications/${app.id}`],
    ['keys', admin.get, `/v1/applications/${app.id}/keys`],
    ['webhooks', key.get, '/v1/webhooks'],
    ['webhooks (admin)', admin.get, `/v1/webhooks?applicationId=${app.id}`],
    ['webhook', key.get, `/v1/webhooks/${webhook.id}`],
    ['webhook (x-access-token)', viaHeader, `/v1/webhooks/${webhook.id}`],
    ['flaky webhook', key.get, `/v1/webhooks/${flaky.id}`],
    ['deliveries', key.get, `/v1/webhooks/${webhook.id}/deliveries`],
    ['flaky deliveries', key.get, `/v1/webhooks/${flaky.id}/deliveries`],
    ['event', admin.get, `/v1/events/${published.body.id}`],
    ['entities', admin.get, '/v1/entities/person'],
    ['event types', key.get, '/v1/event-types'],
  ];
  const deliveryIds = [first, flakyFirst, secondDelivery, redelivered.body.id, tested.body.deliveryId];
  for (const id of deliveryIds) reads.push([`delivery ${id}`, key.get, `/v1/deliveries/${id}`]);
  for (const [what, get, path] of reads) {
    const res = await get(path);
    expect([what, res.status]).toEqual([what, 200]);
    expectNoSecret(`${what} response`, JSON.stringify(res.body), secrets);
  }
  // A read shows that a secret header is there, not what it is.
  const read = await key.get(`/v1/webhooks/${webhook.id}`);
  expect(read.body.headers).toEqual({
    Authorization: '[redacted]',
    'X-Api-Key': '[redacted]',
    'X-Tenant': 'plain',
  });
  expectNoSecret('the PATCH response', JSON.stringify(patched.body), secrets);

  // Recorded attempts: every header of every attempt, the failed one included.
  let attempts = 0;
  for (const id of deliveryIds) {
    const detail = await key.get(`/v1/deliveries/${id}`);
    for (const a of detail.body.attempts) {
      attempts++;
      expectNoSecret(`attempt ${a.id} headers`, JSON.stringify(a.request.headers), secrets);
      if (a.request.headers.authorization !== undefined)
        expect(a.request.headers.authorization).toBe('[redacted]');
    }
  }
  expect(attempts).toBeGreaterThanOrEqual(6);

  // The logs: captured for real (requests and attempts at trace), and clean.
  expect(logs).toMatch(/"msg":"request"/);
  expect(logs).toMatch(/"msg":"attempt"/);
  expect(logs.split('\n').length).toBeGreaterThan(20);
  expectNoSecret('the logs', logs, secrets);
  expectNoSecret('stdout and stderr', consoleOutput, secrets);

  // api_keys holds the sha256 of the token and a short hint, nothing more; no table holds a token,
  // nor a signing secret (those are encrypted at rest: secrets-at-rest.test.ts). Custom header
  // values are the receiver's credentials that Herald sends as given: they are stored as they are.
  const { rows } = await stack.pool.query('SELECT token_hash, token_hint FROM api_keys WHERE id = $1', [
    keyId,
  ]);
  expect(rows[0].token_hash).toEqual(createHash('sha256').update(token).digest());
  expect(token.startsWith(rows[0].token_hint.split('…')[0])).toBe(true);
  expect(rows[0].token_hint.length).toBeLessThan(16);
  const tables = await stack.pool.query(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`,
  );
  for (const { table_name } of tables.rows) {
    const dump = await stack.pool.query(`SELECT t::text AS row FROM "${table_name}" t`);
    const text = dump.rows.map((r) => r.row).join('\n');
    const found = needles({ ...secrets, headerValues: [] }).filter(([, value]) => text.includes(value));
    expect([table_name, found]).toEqual([table_name, []]);
  }
});

test('a PATCH that sends a redacted header back keeps its value; a new value replaces it', async () => {
  const admin = apiClient(stack.api.url, stack.adminToken);
  const key = apiClient(
    stack.api.url,
    (await appWithKey(admin, { entityTypes: ['person'], scopes: ['patch'] })).token,
  );
  const webhook = await createWebhook(key, {
    url: receiver.url('/patch'),
    headers: { Authorization: RECEIVER_AUTH, 'X-Tenant': 'a' },
  });
  // What an edit form does: read, change one thing, send every header back.
  const read = await key.get(`/v1/webhooks/${webhook.id}`);
  const patched = await key.patch(`/v1/webhooks/${webhook.id}`, {
    headers: { ...read.body.headers, 'X-Tenant': 'b' },
  });
  expect(patched.body.headers).toEqual({ Authorization: '[redacted]', 'X-Tenant': 'b' });
  await key.post(`/v1/webhooks/${webhook.id}/test`);
  expect(receiver.on('/patch').at(-1)!.headers).toMatchObject({
    authorization: RECEIVER_AUTH,
    'x-tenant': 'b',
  });

  await key.patch(`/v1/webhooks/${webhook.id}`, { headers: { Authorization: 'Bearer rotated' } });
  await key.post(`/v1/webhooks/${webhook.id}/test`);
  expect(receiver.on('/patch').at(-1)!.headers.authorization).toBe('Bearer rotated');
  expect(receiver.on('/patch').at(-1)!.headers['x-tenant']).toBeUndefined();
});
