import { appendFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import fc from 'fast-check';
import { apiClient, eventually } from '../support/client';
import { appWithKey, createWebhook } from '../support/fixtures';
import { type Receiver, startReceiver } from '../support/receiver';
import { type Stack, startStack } from '../support/stack';

/**
 * Generated bad input against every route of the OpenAPI document: arbitrary path ids, query
 * strings and bodies (random JSON, wrong types, huge strings, deep nesting, unknown fields, SQL
 * and header injection strings, invalid UTF-8, malformed JSON, oversize bodies), with the admin
 * token, an application key and a publisher key. No answer may be a 5xx; every 4xx is a complete
 * problem+json and leaves the row counts as they were.
 */

// Runs per route and property; 33 routes x 2 properties x RUNS, plus the fixed cases, is well over 1,000.
const RUNS = Number(process.env.FUZZ_RUNS ?? 30);
const MIN_REQUESTS = 1_000;

let stack: Stack;
let receiver: Receiver;
let operations: Operation[];
let doc: OpenApiDoc;
let fixtures: Fixtures;
const perRoute = new Map<string, number>();
const statuses = new Map<number, number>();
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

interface OpenApiDoc {
  paths: Record<string, Record<string, OperationObject>>;
  components: { schemas: Record<string, JsonSchema> };
}
interface OperationObject {
  parameters?: { name: string; in: 'path' | 'query'; schema: JsonSchema }[];
  requestBody?: { content: { 'application/json': { schema: JsonSchema } } };
}
interface JsonSchema {
  $ref?: string;
  type?: string | string[];
  enum?: unknown[];
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  additionalProperties?: boolean | JsonSchema;
  pattern?: string;
  format?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
}
interface Operation {
  key: string;
  method: string;
  path: string;
  pathParams: string[];
  query: { name: string; schema: JsonSchema }[];
  body?: JsonSchema;
}
interface Fixtures {
  appId: string;
  keyId: string;
  keyToken: string;
  publisherKeyId: string;
  publisherToken: string;
  webhookId: string;
  deliveryId: string;
  eventId: string;
  syncId: string;
  recoveryId: string;
  entityId: string;
}
interface RawRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
}
interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

beforeAll(async () => {
  // Both limits off: the fuzz sends bad tokens by design (ratelimit.test.ts tests the limiter).
  stack = await startStack({
    env: { HERALD_RATE_LIMIT_PER_SECOND: '0', HERALD_AUTH_FAILURES_PER_MINUTE: '0' },
  });
  receiver = await startReceiver();
  doc = (await apiClient(stack.api.url).get('/openapi.json')).body;
  operations = Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => ({
      key: `${method.toUpperCase()} ${path}`,
      method: method.toUpperCase(),
      path,
      pathParams: [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]),
      query: (op.parameters ?? []).filter((p) => p.in === 'query'),
      body: op.requestBody?.content['application/json'].schema,
    })),
  );
  fixtures = await createFixtures();
});
afterAll(async () => {
  agent.destroy();
  await stack?.stop();
  await receiver?.close();
});

// --- the stack's state: fixtures to aim real ids at, and the row counts a refusal must not move ---

let generation = 0;
async function createFixtures(): Promise<Fixtures> {
  const admin = apiClient(stack.api.url, stack.adminToken);
  // Each set of fixtures has a scope of its own, so generated events rarely fan out to it.
  const scope = `fuzz-${++generation}`;
  const { app, token, keyId } = await appWithKey(admin, { entityTypes: ['person'], scopes: [scope] });
  const key = apiClient(stack.api.url, token);
  const webhook = await createWebhook(key, { url: receiver.url('/fuzz') });
  const publisher = await admin.post('/v1/publisher-keys', {
    name: scope,
    scopes: ['events:publish', 'entities:write'],
  });
  const entityId = `fuzz-${Date.now()}`;
  const published = await admin.post('/v1/events', {
    type: 'person.updated',
    entity: { type: 'person', id: entityId },
    data: { name: 'Fuzz' },
    scopes: [scope],
  });
  const deliveryId = published.body.deliveries.find(
    (d: { webhookId: string }) => d.webhookId === webhook.id,
  ).id;
  await eventually(async () => {
    const d = await key.get(`/v1/deliveries/${deliveryId}`);
    if (d.body.status !== 'succeeded') throw new Error(JSON.stringify(d.body));
    return true;
  });
  const sync = await key.post(`/v1/webhooks/${webhook.id}/syncs`, {});
  await settleSync(sync.body.id);
  // A recovery with nothing to redeliver finishes at once; wait for it so no row moves later.
  const recovery = await key.post(`/v1/webhooks/${webhook.id}/recover`, { since: new Date(0).toISOString() });
  await eventually(
    async () => (await key.get(`/v1/recoveries/${recovery.body.id}`)).body.status === 'completed',
  );
  return {
    appId: app.id,
    keyId,
    keyToken: token,
    publisherKeyId: publisher.body.id,
    publisherToken: publisher.body.token,
    webhookId: webhook.id,
    deliveryId,
    eventId: published.body.id,
    syncId: sync.body.id,
    recoveryId: recovery.body.id,
    entityId,
  };
}

/** A generated request may delete a fixture; the next one needs them back. */
async function ensureFixtures(): Promise<void> {
  const { rows } = await stack.pool.query(
    `SELECT (SELECT count(*) FROM applications WHERE id = $1)
          + (SELECT count(*) FROM api_keys WHERE id = $2 AND revoked_at IS NULL)
          + (SELECT count(*) FROM webhooks WHERE id = $3 AND deleted_at IS NULL)
          + (SELECT count(*) FROM deliveries WHERE id = $4)
          + (SELECT count(*) FROM publisher_keys WHERE id = $5 AND revoked_at IS NULL) AS n`,
    [fixtures.appId, fixtures.keyId, fixtures.webhookId, fixtures.deliveryId, fixtures.publisherKeyId],
  );
  if (Number(rows[0].n) !== 5) fixtures = await createFixtures();
}

/**
 * A sync writes its events and deliveries from a workflow, after the 202: cancel it (the answer
 * comes once it has stopped; 503 while a worker is still starting it, 409 once it has finished),
 * so no row appears behind a later request's back.
 */
async function settleSync(syncId: string): Promise<void> {
  const admin = apiClient(stack.api.url, stack.adminToken);
  await eventually(async () => [200, 409].includes((await admin.post(`/v1/syncs/${syncId}/cancel`)).status));
}

const COUNTED = [
  'applications',
  'api_keys',
  'publisher_keys',
  'webhooks',
  'events',
  'deliveries',
  'entities',
  'syncs',
  'recoveries',
];
async function rowCounts(): Promise<Record<string, number>> {
  const { rows } = await stack.pool.query(
    `SELECT ${COUNTED.map((t) => `(SELECT count(*) FROM ${t})::int AS ${t}`).join(', ')}`,
  );
  return rows[0];
}

// --- raw HTTP, so bodies can be any bytes and headers anything Node lets through ---

function send(req: RawRequest, timeoutMs = 40_000): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const r = http.request(
      `${stack.api.url}${req.path}`,
      {
        method: req.method,
        // Node sends a GET or DELETE body with no length at all; say it, so the server reads it.
        headers: req.body ? { ...req.headers, 'content-length': String(req.body.length) } : req.headers,
        agent,
        timeout: timeoutMs,
      },
      (res) => {
        // A delivery stream never ends by itself: its headers are the answer.
        if (res.headers['content-type']?.startsWith('text/event-stream')) {
          res.destroy();
          return resolve({ status: res.statusCode!, headers: res.headers, text: '' });
        }
        const chunks: Buffer[] = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode!, headers: res.headers, text: Buffer.concat(chunks).toString() }),
        );
        res.on('error', reject);
      },
    );
    r.on('timeout', () => r.destroy(new Error(`no answer in ${timeoutMs} ms`)));
    r.on('error', reject);
    r.end(req.body);
  });
}

/** Bytes straight onto a socket: for requests Node's client refuses to build (CR/LF in headers). */
function sendRaw(bytes: string): Promise<string> {
  const { port } = new URL(stack.api.url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), '127.0.0.1', () => socket.end(bytes));
    const chunks: Buffer[] = [];
    socket.setTimeout(10_000, () => socket.destroy(new Error('no answer in 10 s')));
    socket.on('data', (c) => chunks.push(c));
    socket.on('end', () => resolve(Buffer.concat(chunks).toString()));
    socket.on('error', reject);
  });
}

function describeRequest(req: RawRequest): string {
  const body = req.body ? req.body.subarray(0, 300).toString() : '';
  return `${req.method} ${req.path.slice(0, 300)} ${JSON.stringify(req.headers)} ${body}`;
}

/** The property every answer must have. */
async function check(op: Operation | undefined, req: RawRequest): Promise<RawResponse> {
  const before = await rowCounts();
  // FUZZ_TRACE=<file> writes each request before it is sent: the last line names a request that hangs.
  if (process.env.FUZZ_TRACE) appendFileSync(process.env.FUZZ_TRACE, `${describeRequest(req)}\n`);
  const res = await send(req);
  if (op) perRoute.set(op.key, (perRoute.get(op.key) ?? 0) + 1);
  statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
  const context = `${describeRequest(req)}\n-> ${res.status} ${res.text.slice(0, 500)}`;
  if (res.status >= 500) throw new Error(`5xx for ${context}`);
  if (res.status >= 400) {
    if (!String(res.headers['content-type']).startsWith('application/problem+json'))
      throw new Error(`4xx without problem+json for ${context}`);
    const problem = JSON.parse(res.text);
    const complete =
      typeof problem.type === 'string' &&
      typeof problem.title === 'string' &&
      problem.status === res.status &&
      typeof problem.detail === 'string';
    if (!complete) throw new Error(`incomplete problem for ${context}`);
    const after = await rowCounts();
    if (JSON.stringify(after) !== JSON.stringify(before))
      throw new Error(
        `a ${res.status} changed rows ${JSON.stringify(before)} -> ${JSON.stringify(after)}: ${context}`,
      );
  } else {
    if (req.method === 'DELETE') await ensureFixtures();
    if (/\/syncs$/.test(req.path.split('?')[0]) && req.method === 'POST' && res.status === 202)
      await settleSync(JSON.parse(res.text).id);
  }
  return res;
}

// --- generators ---

const SQL_INJECTION = [
  "' OR '1'='1",
  "'; DROP TABLE webhooks; --",
  '1 UNION SELECT token_hash FROM api_keys --',
  "wh_x' OR application_id IS NOT NULL --",
  "$1; DELETE FROM events WHERE ''='",
  "%' OR 1=1 --",
  '\\x27 OR 1=1',
];
const HEADER_INJECTION = [
  'x\r\nX-Injected: 1',
  'x\nSet-Cookie: herald=1',
  '%0d%0aX-Injected:%201',
  'x\r\n\r\nHTTP/1.1 200 OK',
  '\u2028\u2029',
];
const WEIRD = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\ud800',
  'x\udfffy',
  '💥'.repeat(60),
  '../../etc/passwd',
  '%',
  '%zz',
  '<script>alert(1)</script>',
  'null',
  '-1',
  '1e309',
  '*',
  `evt_${'0'.repeat(26)}`,
  '__proto__',
  'constructor',
];
const fixedNasty = fc.constantFrom(...SQL_INJECTION, ...HEADER_INJECTION, ...WEIRD);
const nastyString = fc.oneof(
  fixedNasty,
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.nat({ max: 3 }).map((i) => 'x'.repeat([201, 2_049, 5_000, 70_000][i])),
);
/** For paths and query strings: no string long enough to make the URL itself too large (431). */
const nastyUrlString = fc.oneof(
  fixedNasty,
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.nat({ max: 1 }).map((i) => 'x'.repeat([201, 2_049][i])),
);
// Placeholders replaced in the serialised body by nesting too deep to build as a JS value here.
const DEEP = ['__DEEP_200__', '__DEEP_5000__', '__DEEP_60000__'];
const nastyValue: fc.Arbitrary<unknown> = fc.oneof(
  nastyString,
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom(null, true, false, 0, -1, 1.5, 2 ** 53, -(2 ** 63), [], {}),
  fc.array(nastyString, { maxLength: 3 }),
  fc.constantFrom(...DEEP),
);
const urls = (): fc.Arbitrary<string> =>
  fc.oneof(
    fc.constantFrom(
      receiver.url('/fuzz-generated'),
      'https://example.com/hook',
      'http://169.254.169.254/latest/meta-data',
      'http://[::ffff:127.0.0.1]/',
      'http://user:pass@example.com/',
      'https://example.com/%0d%0aX-Injected:%201',
      'javascript:alert(1)',
      'file:///etc/passwd',
      'ftp://example.com/',
    ),
    fc.webUrl(),
  );

function resolve(schema: JsonSchema): JsonSchema {
  return schema.$ref ? resolve(doc.components.schemas[schema.$ref.split('/').pop()!]) : schema;
}

/**
 * Values shaped by the schema most of the time, wrong ones otherwise. A recursive schema (JsonValue)
 * is followed a few levels down, then anything goes.
 */
function valueFor(raw: JsonSchema, depth = 0): fc.Arbitrary<unknown> {
  if (depth > 4) return nastyValue;
  const s = resolve(raw);
  const inner = (schema: JsonSchema) => valueFor(schema, depth + 1);
  let right: fc.Arbitrary<unknown>;
  const type = Array.isArray(s.type) ? s.type[0] : s.type;
  if (s.enum) right = fc.constantFrom(...s.enum);
  else if (s.anyOf || s.oneOf) right = fc.oneof(...(s.anyOf ?? s.oneOf)!.map(inner));
  else if (type === 'string') {
    right = s.pattern
      ? fc.stringMatching(new RegExp(s.pattern))
      : s.format === 'uri'
        ? urls()
        : fc.string({ minLength: s.minLength ?? 0, maxLength: Math.min(s.maxLength ?? 30, 30) });
  } else if (type === 'integer') right = fc.integer({ min: s.minimum ?? -1e9, max: s.maximum ?? 1e9 });
  else if (type === 'number') right = fc.double();
  else if (type === 'boolean') right = fc.boolean();
  else if (type === 'array') right = fc.array(s.items ? inner(s.items) : nastyValue, { maxLength: 4 });
  else if (type === 'object' && s.properties) {
    const props = Object.fromEntries(Object.entries(s.properties).map(([k, v]) => [k, inner(v)]));
    right = fc.record(props, { requiredKeys: s.required ?? [] });
  } else if (type === 'object') {
    const values = typeof s.additionalProperties === 'object' ? inner(s.additionalProperties) : nastyValue;
    right = fc.dictionary(fc.oneof(fc.string({ maxLength: 10 }), nastyString), values, { maxKeys: 4 });
  } else right = nastyValue;
  return fc.oneof({ weight: 4, arbitrary: right }, { weight: 1, arbitrary: nastyValue });
}

function serialise(value: unknown): string {
  let text = JSON.stringify(value) ?? 'null';
  for (const placeholder of DEEP) {
    const depth = Number(placeholder.match(/\d+/)![0]);
    text = text.split(`"${placeholder}"`).join(`${'{"a":['.repeat(depth)}1${']}'.repeat(depth)}`);
  }
  return text;
}

const INVALID_UTF8 = [
  Buffer.from([0xff, 0xfe]),
  Buffer.from([0xc3, 0x28]),
  Buffer.from([0xed, 0xa0, 0x80]),
  Buffer.from([0xf8, 0x88, 0x80, 0x80, 0x80]),
  Buffer.from([0x00]),
];

/** The serialised body, then maybe broken: truncated, invalid UTF-8 spliced in, or padded past the limit. */
function bodyBytes(value: fc.Arbitrary<unknown>, op: Operation): fc.Arbitrary<Buffer> {
  return fc
    .tuple(
      value,
      fc.constantFrom('as-is', 'as-is', 'as-is', 'truncated', 'invalid-utf8', 'oversize'),
      fc.double({ min: 0, max: 1, noNaN: true }),
      fc.constantFrom(...INVALID_UTF8),
    )
    .map(([v, how, at, bad]) => {
      const text = serialise(v);
      const cut = Math.floor(text.length * at);
      if (how === 'truncated') return Buffer.from(text.slice(0, Math.min(cut, text.length - 1)));
      if (how === 'invalid-utf8')
        return Buffer.concat([Buffer.from(text.slice(0, cut)), bad, Buffer.from(text.slice(cut))]);
      if (how === 'oversize')
        return Buffer.from(JSON.stringify({ pad: 'x'.repeat(oversizeBytes(op)), value: v }));
      return Buffer.from(text);
    });
}

/** An id the route knows (so validation and handlers run), or anything else. */
function realValue(op: Operation, name: string): string {
  if (name === 'appId') return fixtures.appId;
  if (name === 'keyId')
    return op.path.startsWith('/v1/publisher-keys/') ? fixtures.publisherKeyId : fixtures.keyId;
  if (name === 'syncId') return fixtures.syncId;
  if (name === 'recoveryId') return fixtures.recoveryId;
  if (name === 'type') return 'person';
  const resource = op.path.split('/')[2];
  return {
    webhooks: fixtures.webhookId,
    deliveries: fixtures.deliveryId,
    events: fixtures.eventId,
    entities: fixtures.entityId,
  }[resource]!;
}

/** A body over the route's limit: HERALD_MAX_BATCH_BYTES (5 MiB) for a batch, else HERALD_MAX_PAYLOAD_BYTES (256 KiB). */
function oversizeBytes(op: Operation): number {
  return (op.path === '/v1/events/batch' ? 5 * 1024 : 256) * 1024 + 1024;
}

/** Percent-encodes the UTF-8 bytes; unlike encodeURIComponent it takes lone surrogates too. */
function encode(s: string): string {
  return [...Buffer.from(s)]
    .map((b) =>
      /[A-Za-z0-9_.~-]/.test(String.fromCharCode(b))
        ? String.fromCharCode(b)
        : `%${b.toString(16).padStart(2, '0')}`,
    )
    .join('');
}

const RAW_SEGMENTS = [
  '%',
  '%zz',
  '%E0%A4%A',
  '..',
  '%2e%2e',
  '%00',
  '%0d%0aX-Injected:%201',
  '%2F',
  '%ff%fe',
];
function pathSegment(op: Operation, name: string): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.constant(null).map(() => encode(realValue(op, name))) },
    { weight: 3, arbitrary: nastyUrlString.map(encode) },
    { weight: 1, arbitrary: fc.constantFrom(...RAW_SEGMENTS) },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom('app_', 'key_', 'wh_', 'evt_', 'dlv_', 'sync_')
        .chain((p) => fc.stringMatching(/^[0-9a-z]{26}$/).map((s) => p + s)),
    },
  );
}

function queryString(op: Operation): fc.Arbitrary<string> {
  const known = op.query.map((q) =>
    fc.option(
      fc.tuple(
        fc.constant(q.name),
        fc.oneof(
          valueFor(q.schema).map((v) => (typeof v === 'string' ? v : JSON.stringify(v))),
          nastyUrlString,
        ),
      ),
      { nil: undefined },
    ),
  );
  const extra = fc.array(fc.tuple(fc.oneof(fc.string({ maxLength: 8 }), nastyUrlString), nastyUrlString), {
    maxLength: 2,
  });
  const repeated = fc.option(fc.constantFrom('limit', 'cursor', 'status', 'applicationId'), {
    nil: undefined,
  });
  return fc.tuple(fc.tuple(...known), extra, repeated).map(([pairs, more, dup]) => {
    const all = [...pairs.filter((p): p is [string, string] => p !== undefined), ...more];
    if (dup) all.push([dup, '1'], [dup, '2'], [`${dup}[]`, 'x']);
    if (all.length === 0) return '';
    return `?${all.map(([k, v]) => `${encode(k)}=${encode(v)}`).join('&')}`;
  });
}

// JSON most of the time, so most bodies reach validation; the rest must be refused with 415.
const contentType = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom('application/json', 'application/json; charset=utf-8') },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      'application/json; charset=latin1',
      'application/merge-patch+json',
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
    ),
  },
);

function requestFor(op: Operation): fc.Arbitrary<RawRequest> {
  const segments = fc.tuple(...op.pathParams.map((p) => pathSegment(op, p)));
  const body = op.body
    ? fc.oneof(
        { weight: 5, arbitrary: bodyBytes(bodyWithExtras(op.body), op) },
        { weight: 1, arbitrary: bodyBytes(nastyValue, op) },
        { weight: 1, arbitrary: fc.constant(undefined) },
      )
    : fc.option(bodyBytes(nastyValue, op), { nil: undefined, freq: 3 });
  return fc
    .record({
      segments,
      query: queryString(op),
      body,
      contentType,
      encoding: fc.option(fc.constantFrom('gzip', 'br', 'identity', 'x-unknown'), {
        nil: undefined,
        freq: 8,
      }),
      caller: fc.constantFrom('admin', 'key', 'publisher'),
      tokenHeader: fc.constantFrom('authorization', 'x-access-token'),
    })
    .map((r) => {
      let i = 0;
      const path = op.path.replace(/\{\w+\}/g, () => r.segments[i++]) + r.query;
      const token = { admin: stack.adminToken, key: fixtures.keyToken, publisher: fixtures.publisherToken }[
        r.caller
      ];
      const headers: Record<string, string> = {
        [r.tokenHeader]: r.tokenHeader === 'authorization' ? `Bearer ${token}` : token,
      };
      if (r.body) {
        headers['content-type'] = r.contentType;
        if (r.encoding) headers['content-encoding'] = r.encoding;
      }
      return { method: op.method, path, headers, body: r.body };
    });
}

/** Schema-shaped bodies, sometimes with fields nobody asked for. */
function bodyWithExtras(schema: JsonSchema): fc.Arbitrary<unknown> {
  return fc
    .tuple(
      valueFor(schema),
      fc.option(
        fc.dictionary(fc.oneof(fc.string({ maxLength: 8 }), nastyString), nastyValue, {
          minKeys: 1,
          maxKeys: 2,
        }),
        {
          nil: undefined,
          freq: 3,
        },
      ),
    )
    .map(([value, extra]) =>
      extra && value && typeof value === 'object' && !Array.isArray(value) ? { ...value, ...extra } : value,
    );
}

// --- the properties ---

test('the OpenAPI document lists the routes the fuzzing walks', () => {
  expect(operations.length).toBeGreaterThanOrEqual(30);
  expect(operations.map((o) => o.key)).toEqual(
    expect.arrayContaining(['POST /v1/events', 'GET /v1/syncs/{syncId}']),
  );
});

test('generated requests to every route: no 5xx, every 4xx a problem that changed nothing', async () => {
  for (const op of operations) {
    await fc.assert(
      fc.asyncProperty(requestFor(op), async (req) => {
        await check(op, req);
      }),
      { numRuns: RUNS, endOnFailure: process.env.FUZZ_SHRINK !== 'true' },
    );
  }
}, 900_000);

test('fixed hostile requests to every route are refused cleanly', async () => {
  const hostile: [string, (op: Operation, path: string) => RawRequest, number?][] = [
    ['malformed JSON', (op, path) => json(op, path, '{"name": "x", '), 400],
    ['a JSON string', (op, path) => json(op, path, '"just a string"'), 400],
    ['oversize', (op, path) => json(op, path, JSON.stringify({ pad: 'x'.repeat(oversizeBytes(op)) })), 413],
    [
      'invalid UTF-8',
      (op, path) => json(op, path, Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d])),
    ],
    ['no token', (op, path) => ({ method: op.method, path, headers: {} }), 401],
    [
      'a wrong token',
      (op, path) => ({ method: op.method, path, headers: { authorization: 'Bearer nope' } }),
      401,
    ],
    [
      'SQL in the token',
      (op, path) => ({ method: op.method, path, headers: { 'x-access-token': "' OR '1'='1" } }),
      401,
    ],
  ];
  for (const op of operations) {
    const path = op.path.replace(/\{(\w+)\}/g, (_, name) => encode(realValue(op, name)));
    for (const [what, build, status] of hostile) {
      const res = await check(op, build(op, path));
      if (status !== undefined) expect([op.key, what, res.status]).toEqual([op.key, what, status]);
    }
    // A body of another type is refused before it is parsed.
    if (['POST', 'PUT', 'PATCH'].includes(op.method)) {
      const res = await check(op, {
        method: op.method,
        path,
        headers: { authorization: `Bearer ${stack.adminToken}`, 'content-type': 'text/plain' },
        body: Buffer.from('hello'),
      });
      expect([op.key, res.status]).toEqual([op.key, 415]);
    }
  }

  function json(op: Operation, path: string, body: string | Buffer): RawRequest {
    return {
      method: op.method,
      path,
      headers: { authorization: `Bearer ${stack.adminToken}`, 'content-type': 'application/json' },
      body: Buffer.from(body),
    };
  }
}, 300_000);

test('header injection in the request itself is refused before it reaches a route', async () => {
  const before = await rowCounts();
  const attempts = [
    `GET /v1/webhooks HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${stack.adminToken}\rX-Injected: 1\r\n\r\n`,
    `GET /v1/webhooks HTTP/1.1\r\nHost: x\r\nx-access-token: a\u0000b\r\n\r\n`,
    `GET /v1/webhooks\r\nX-Injected: 1 HTTP/1.1\r\nHost: x\r\n\r\n`,
    `POST /v1/applications HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\n{"a":1}`,
    `POST /v1/applications HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\nzz\r\n`,
    `GET /v1/webhooks HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
  ];
  for (const raw of attempts) {
    const answer = await sendRaw(raw);
    const status = Number(answer.match(/^HTTP\/1\.1 (\d{3})/)?.[1]);
    expect([raw.slice(0, 80), status]).toEqual([raw.slice(0, 80), expect.any(Number)]);
    expect(status).toBeGreaterThanOrEqual(400);
    expect(status).toBeLessThan(500);
    expect(answer).toMatch(/content-type: application\/problem\+json/i);
    expect(answer).not.toMatch(/^X-Injected/im);
  }
  // Still serving, and nothing was written.
  expect((await apiClient(stack.api.url, stack.adminToken).get('/v1/webhooks')).status).toBe(200);
  expect(await rowCounts()).toEqual(before);
});

test('at least 1,000 requests in all, every route among them', () => {
  const total = [...perRoute.values()].reduce((a, b) => a + b, 0);
  const byStatus = [...statuses].sort(([a], [b]) => a - b).map(([s, n]) => `${s}: ${n}`);
  console.log(`fuzz: ${total} requests over ${perRoute.size} routes (${byStatus.join(', ')})`);
  expect(total).toBeGreaterThanOrEqual(MIN_REQUESTS);
  for (const op of operations) expect([op.key, (perRoute.get(op.key) ?? 0) >= RUNS]).toEqual([op.key, true]);
});
