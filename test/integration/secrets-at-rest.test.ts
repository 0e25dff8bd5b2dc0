// Signing secrets at rest (secrets.test.ts: secrets never leak through logs or responses): encrypted in every row, re-encrypted by a key rotation, plaintext rows
// of older versions encrypted by the migration, and deliveries still signed with the real secret.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import pg from 'pg';
import { migrate } from '../../src/db/migrate';
import { standardSignature } from '../../src/delivery/signing';
import { newId } from '../../src/ids';
import { createSecretCipher, generateEncryptionKey, keyId } from '../../src/secret-cipher';
import { type ApiClient, apiClient } from '../support/client';
import { startDebianPostgres } from '../support/debian-postgres';
import { appWithKey, createWebhook, personEvent } from '../support/fixtures';
import { type Receiver, startReceiver } from '../support/receiver';
import { type Stack, startStack } from '../support/stack';

const root = path.resolve(__dirname, '../..');
const oldKey = generateEncryptionKey();
const newKey = generateEncryptionKey();
const idOf = (key: string) => keyId(Buffer.from(key, 'base64'));

let stack: Stack;
let rotatedStack: Stack | undefined;
let receiver: Receiver;
let admin: ApiClient;
/** Every secret the API returned (create, rotate-secret), by webhook, and the path the webhook posts to. */
const webhooks = new Map<string, { path: string; secrets: string[] }>();

/**
 * Every row of every table of the database, as text: what a `pg_dump --data-only` holds, for the
 * shared embedded PostgreSQL, which ships no pg_dump (and a system pg_dump older than the server
 * refuses it). The last test dumps with pg_dump itself, on a PostgreSQL 15 of its own.
 */
async function dumpDatabase(databaseUrl: string): Promise<string> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows: tables } = await client.query<{ name: string }>(
      `SELECT format('%I.%I', schemaname, tablename) AS name FROM pg_tables
        WHERE schemaname NOT IN ('pg_catalog', 'information_schema')`,
    );
    const out: string[] = [];
    for (const { name } of tables) {
      const { rows } = await client.query(`SELECT t::text AS row FROM ${name} t`);
      out.push(`-- ${name}`, ...rows.map((r) => r.row));
    }
    return out.join('\n');
  } finally {
    await client.end();
  }
}

const storedSecrets = async (db: Stack) =>
  (await db.pool.query('SELECT id, secret, previous_secret FROM webhooks ORDER BY id')).rows as {
    id: string;
    secret: string;
    previous_secret: string | null;
  }[];

/** The webhook-signature header's signatures that `secret` verifies. */
function verifiedBy(request: Receiver['requests'][number], secret: string): boolean {
  const id = String(request.headers['webhook-id']);
  const timestamp = Number(request.headers['webhook-timestamp']);
  const expected = standardSignature(secret, id, timestamp, request.body);
  return String(request.headers['webhook-signature']).split(' ').includes(expected);
}

beforeAll(async () => {
  stack = await startStack({ env: { HERALD_ENCRYPTION_KEY: oldKey } });
  receiver = await startReceiver();
  admin = apiClient(stack.api.url, stack.adminToken);
});
afterAll(async () => {
  await rotatedStack?.stop();
  await stack?.stop();
  await receiver?.close();
});

test('no secret the API returned appears anywhere in the database', async () => {
  const { token } = await appWithKey(admin, { entityTypes: ['*'], scopes: ['*'] }, ['webhooks:write']);
  const customer = apiClient(stack.api.url, token);
  const generated = await createWebhook(customer, { url: receiver.url('/generated') });
  const own = await createWebhook(customer, {
    url: receiver.url('/own'),
    secret: 'a-customer-chosen-signing-key',
  });
  const rotated = await createWebhook(customer, { url: receiver.url('/rotated') });
  const rotation = await customer.post(`/v1/webhooks/${rotated.id}/rotate-secret`);
  expect(rotation.status).toBe(200);
  webhooks.set(generated.id, { path: '/generated', secrets: [generated.secret] });
  webhooks.set(own.id, { path: '/own', secrets: [own.secret] });
  webhooks.set(rotated.id, { path: '/rotated', secrets: [rotation.body.secret, rotated.secret] });
  const all = [...webhooks.values()].flatMap((w) => w.secrets);

  const dump = await dumpDatabase(stack.databaseUrl);
  expect(dump).toContain(generated.id); // the dump does hold the webhooks
  for (const secret of all) {
    expect(dump).not.toContain(secret);
    // The key material alone, without its `whsec_` prefix, is not there either.
    expect(dump).not.toContain(secret.replace(/^whsec_/, ''));
  }
  for (const row of await storedSecrets(stack)) {
    expect(row.secret.startsWith(`v1:${idOf(oldKey)}:`)).toBe(true);
    if (row.id === rotated.id) expect(row.previous_secret?.startsWith(`v1:${idOf(oldKey)}:`)).toBe(true);
  }
  console.log(`secrets at rest: ${all.length} secrets, none in a ${dump.length}-character dump`);
});

test('a plaintext secret from before encryption is encrypted by the migration', async () => {
  const { rows } = await stack.pool.query('SELECT application_id FROM webhooks LIMIT 1');
  const legacy = {
    id: newId('wh'),
    secret: 'whsec_bGVnYWN5LXBsYWludGV4dC1zZWNyZXQtb2YtMzI=',
    previous: 'an-old-plain-key-of-the-customer',
  };
  await stack.pool.query(
    `INSERT INTO webhooks (id, application_id, url, method, signature, secret, previous_secret, previous_secret_expires_at, status)
     VALUES ($1, $2, $3, 'POST', 'standard-webhooks', $4, $5, now() + interval '1 hour', 'active')`,
    [legacy.id, rows[0].application_id, receiver.url('/legacy'), legacy.secret, legacy.previous],
  );
  const cipher = createSecretCipher([Buffer.from(oldKey, 'base64')]);
  expect(await migrate(stack.pool, cipher)).toEqual(['encrypt-secrets (1 webhooks)']);
  expect(await migrate(stack.pool, cipher)).toEqual([]); // done once: nothing left to encrypt
  const row = (await storedSecrets(stack)).find((r) => r.id === legacy.id)!;
  expect(cipher.keyIdOf(row.secret)).toBe(idOf(oldKey));
  expect(cipher.decrypt(row.secret)).toBe(legacy.secret);
  expect(cipher.decrypt(row.previous_secret!)).toBe(legacy.previous);
  webhooks.set(legacy.id, { path: '/legacy', secrets: [legacy.secret, legacy.previous] });
  expect(await dumpDatabase(stack.databaseUrl)).not.toContain(legacy.secret);
});

test('rotate-encryption-key re-encrypts every secret under the new key, and deliveries verify with the secrets', async () => {
  const before = await storedSecrets(stack);
  await stack.stopWorker();
  const result = spawnSync(
    process.execPath,
    ['--import', 'tsx', path.join(root, 'src/cli/rotate-encryption-key.ts')],
    {
      cwd: root,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        DATABASE_URL: stack.databaseUrl,
        HERALD_ENCRYPTION_KEY: `${newKey},${oldKey}`,
      },
      encoding: 'utf8',
      timeout: 60_000,
    },
  );
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
  expect(result.stdout.trim()).toBe(
    `re-encrypted the secrets of ${before.length} webhooks under key ${idOf(newKey)}`,
  );
  const after = await storedSecrets(stack);
  expect(after.map((r) => r.id)).toEqual(before.map((r) => r.id));
  for (const [i, row] of after.entries()) {
    expect(row.secret).not.toBe(before[i].secret);
    expect(row.secret.startsWith(`v1:${idOf(newKey)}:`)).toBe(true);
    if (before[i].previous_secret) {
      expect(row.previous_secret).not.toBe(before[i].previous_secret);
      expect(row.previous_secret?.startsWith(`v1:${idOf(newKey)}:`)).toBe(true);
    }
  }

  // A worker that holds only the new key signs every webhook's delivery with its real secrets.
  rotatedStack = await startStack({ databaseUrl: stack.databaseUrl, env: { HERALD_ENCRYPTION_KEY: newKey } });
  const published = await apiClient(rotatedStack.api.url, rotatedStack.adminToken).post(
    '/v1/events',
    personEvent('rotated-key'),
  );
  expect(published.status).toBe(202);
  expect(published.body.deliveries).toHaveLength(webhooks.size);
  await receiver.waitFor(webhooks.size);
  for (const webhook of webhooks.values()) {
    const request = receiver.on(webhook.path)[0];
    // Every secret the webhook has (the current one, and a rotated-out one in its grace period) verifies.
    for (const secret of webhook.secrets) expect(verifiedBy(request, secret)).toBe(true);
    expect(String(request.headers['webhook-signature']).split(' ')).toHaveLength(webhook.secrets.length);
  }
});

test('pg_dump of a database with webhooks holds no signing secret', async () => {
  const pg15 = await startDebianPostgres();
  const cipher = createSecretCipher([Buffer.from(oldKey, 'base64')]);
  const migrating = new pg.Pool({ connectionString: pg15.url, max: 1 });
  let own: Stack | undefined;
  try {
    await migrate(migrating, cipher);
    own = await startStack({ databaseUrl: pg15.url, env: { HERALD_ENCRYPTION_KEY: oldKey } });
    const ownAdmin = apiClient(own.api.url, own.adminToken);
    const { token } = await appWithKey(ownAdmin, { entityTypes: ['*'], scopes: ['*'] }, ['webhooks:write']);
    const customer = apiClient(own.api.url, token);
    const generated = await createWebhook(customer, { url: receiver.url('/dumped') });
    const chosen = await createWebhook(customer, {
      url: receiver.url('/dumped-own'),
      secret: 'a-key-the-customer-chose-for-the-dump',
    });
    const rotation = await customer.post(`/v1/webhooks/${generated.id}/rotate-secret`);
    expect(rotation.status).toBe(200);
    const secrets = [generated.secret, chosen.secret, rotation.body.secret];

    const dump = pg15.dump();
    expect(dump).toContain(generated.id); // the dump does hold the webhooks
    expect(dump).toContain(receiver.url('/dumped-own'));
    // The secret column is in it, as ciphertext: a plaintext secret would be found.
    const stored = await own.pool.query('SELECT secret FROM webhooks WHERE id = $1', [chosen.id]);
    expect(dump).toContain(stored.rows[0].secret);
    for (const secret of secrets) {
      expect(dump).not.toContain(secret);
      expect(dump).not.toContain(secret.replace(/^whsec_/, ''));
    }
    console.log(`pg_dump: ${secrets.length} secrets, none in a ${dump.length}-character dump`);
  } finally {
    await own?.stop();
    await migrating.end();
    await pg15.stop();
  }
});
