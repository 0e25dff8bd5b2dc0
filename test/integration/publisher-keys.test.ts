// Publisher keys: the host system's credentials, admin-managed and attached to no application;
// application keys do not publish, and migration 011 takes events:publish from the keys that had it.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { hashToken } from '../../src/api/auth';
import { migrate } from '../../src/db/migrate';
import { createPool } from '../../src/db/pool';
import { createSecretCipher, generateEncryptionKey } from '../../src/secret-cipher';
import { apiClient } from '../support/client';
import { appWithKey, createWebhook, personEvent } from '../support/fixtures';
import { emptyDatabase } from '../support/stack';
import { admin, receiver, stack, useStack } from '../support/suite';

useStack();

test('a publisher key publishes and writes entities as its scopes allow; its token is shown once and stored hashed', async () => {
  const created = await admin.post('/v1/publisher-keys', { name: 'host system', scopes: ['events:publish'] });
  expect(created.status).toBe(201);
  expect(created.body).toMatchObject({ name: 'host system', scopes: ['events:publish'] });
  expect(created.body.token).toMatch(/^hpk_/);
  expect(created.body).not.toHaveProperty('applicationId');
  const { rows } = await stack.pool.query('SELECT token_hash, token_hint FROM publisher_keys WHERE id = $1', [
    created.body.id,
  ]);
  expect(rows[0].token_hash).toEqual(hashToken(created.body.token));
  expect(rows[0].token_hint.length).toBeLessThan(16);
  const listed = await admin.get('/v1/publisher-keys');
  const { token: _shownOnce, ...withoutToken } = created.body;
  expect(listed.body.data).toEqual([withoutToken]);

  const { token } = await appWithKey(admin, { entityTypes: ['person'], scopes: ['org:1'] });
  const customer = apiClient(stack.api.url, token);
  const webhook = await createWebhook(customer, { url: receiver.url('/published') });
  const publisher = apiClient(stack.api.url, created.body.token);
  const published = await publisher.post('/v1/events', personEvent('p-1'));
  expect(published.status).toBe(202);
  expect(published.body.deliveries.map((d: { webhookId: string }) => d.webhookId)).toEqual([webhook.id]);
  // Only events:publish: entity writes need entities:write.
  const put = await publisher.put('/v1/entities/person/p-1', { data: {}, scopes: ['org:1'] });
  expect(put.status).toBe(403);
  // A publisher key reaches no application's resources, nor the admin's routes.
  expect((await publisher.get('/v1/webhooks')).status).toBe(403);
  expect((await publisher.get('/v1/applications')).status).toBe(403);
  expect((await publisher.get('/v1/publisher-keys')).status).toBe(403);

  const writer = await admin.post('/v1/publisher-keys', { name: 'entity sync', scopes: ['entities:write'] });
  const written = await apiClient(stack.api.url, writer.body.token).put('/v1/entities/person/p-2', {
    data: { name: 'P' },
    scopes: ['org:1'],
  });
  expect(written.status).toBe(200);
  expect(written.body.event.deliveries).toHaveLength(1);
});

test('an application key cannot publish, cannot be given a publisher scope, and reads only events delivered to it', async () => {
  const { app, token } = await appWithKey(admin, { entityTypes: ['person'], scopes: ['org:2'] });
  const customer = apiClient(stack.api.url, token);
  const refused = await customer.post('/v1/events', personEvent('c-1', { scopes: ['org:2'] }));
  expect(refused.status).toBe(403);
  expect(refused.body.detail).toBe(
    'This route needs the admin token or a publisher key with "events:publish": application keys do not publish.',
  );
  expect((await customer.put('/v1/entities/person/c-1', { data: {}, scopes: [] })).status).toBe(403);
  expect((await customer.delete('/v1/entities/person/p-2')).status).toBe(403);
  const { rows } = await stack.pool.query("SELECT count(*)::int AS n FROM events WHERE entity_id = 'c-1'");
  expect(rows[0].n).toBe(0);
  for (const scopes of [['events:publish'], ['webhooks:read', 'entities:write']]) {
    const key = await admin.post(`/v1/applications/${app.id}/keys`, { name: 'publishing', scopes });
    expect(key.status).toBe(400);
  }

  const elsewhere = await admin.post('/v1/events', personEvent('c-2', { scopes: ['org:1'] }));
  expect((await customer.get(`/v1/events/${elsewhere.body.id}`)).status).toBe(404);
  await createWebhook(customer, { url: receiver.url('/mine') });
  const mine = await admin.post('/v1/events', personEvent('c-3', { scopes: ['org:1', 'org:2'] }));
  expect(mine.body.deliveries.length).toBeGreaterThan(1);
  const read = await customer.get(`/v1/events/${mine.body.id}`);
  expect(read.status).toBe(200);
  expect(read.body.deliveries).toHaveLength(1);
});

test('migration 011 takes events:publish from application keys, and revokes the keys it leaves with no scope', async () => {
  // A database as version 010 left it, with keys that publish.
  const pool = createPool(await emptyDatabase(), 1);
  try {
    const dir = path.join(__dirname, '../../src/db/migrations');
    await pool.query(
      'CREATE TABLE schema_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
    );
    for (const file of readdirSync(dir)
      .filter((f) => f.endsWith('.sql') && f < '011')
      .sort()) {
      await pool.query(readFileSync(path.join(dir, file), 'utf8'));
      await pool.query('INSERT INTO schema_migrations (name) VALUES ($1)', [file]);
    }
    await pool.query(
      `INSERT INTO applications (id, name, entity_types, scopes) VALUES ('app_legacy', 'legacy', '{*}', '{*}')`,
    );
    const keys: [string, string[]][] = [
      ['key_both', ['webhooks:read', 'events:publish']],
      ['key_publish_only', ['events:publish']],
      ['key_reader', ['deliveries:read']],
    ];
    for (const [id, scopes] of keys) {
      await pool.query(
        `INSERT INTO api_keys (id, application_id, name, scopes, token_hash, token_hint)
         VALUES ($1, 'app_legacy', $1, $2, $3, 'hk_…')`,
        [id, scopes, hashToken(id)],
      );
    }
    const applied = await migrate(pool, createSecretCipher([Buffer.from(generateEncryptionKey(), 'base64')]));
    expect(applied[0]).toBe('011_publisher_keys.sql');
    const { rows } = await pool.query(
      'SELECT id, scopes, revoked_at IS NOT NULL AS revoked FROM api_keys ORDER BY id',
    );
    expect(rows).toEqual([
      { id: 'key_both', scopes: ['webhooks:read'], revoked: false },
      { id: 'key_publish_only', scopes: [], revoked: true },
      { id: 'key_reader', scopes: ['deliveries:read'], revoked: false },
    ]);
    await expect(
      pool.query(`UPDATE api_keys SET scopes = '{events:publish}' WHERE id = 'key_reader'`),
    ).rejects.toThrow(/api_keys_no_publisher_scopes/);
  } finally {
    await pool.end();
  }
});
