import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type pg from 'pg';
import { CIPHERTEXT_PREFIX, type SecretCipher } from '../secret-cipher';
import { reencryptSecrets } from './queries/webhook-secrets';

const MIGRATIONS_DIR = path.join(__dirname, 'migrations');
// Any constant works; it serialises concurrent migrators (several API replicas starting at once).
const MIGRATION_LOCK = 7_422_311;

/**
 * Applies every ordered SQL file in migrations/ not yet applied, each in its own transaction, then
 * the one step SQL cannot do: it encrypts signing secrets still stored in plaintext (written before
 * encryption at rest, or by an older API replica during a rolling upgrade), since only this process
 * holds the key. That step runs on every migration, finds nothing once done, and is listed as
 * `encrypt-secrets (N webhooks)` when it rewrote rows.
 */
export async function migrate(pool: pg.Pool, cipher: SecretCipher): Promise<string[]> {
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    await client.query(
      'CREATE TABLE IF NOT EXISTS schema_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
    );
    const done = new Set((await client.query('SELECT name FROM schema_migrations')).rows.map((r) => r.name));
    const files = (await readdir(MIGRATIONS_DIR)).filter((f) => f.endsWith('.sql')).sort();
    const applied: string[] = [];
    for (const file of files) {
      if (done.has(file)) continue;
      const sql = await readFile(path.join(MIGRATIONS_DIR, file), 'utf8');
      await client.query('BEGIN');
      try {
        await client.query(sql);
        await client.query('INSERT INTO schema_migrations (name) VALUES ($1)', [file]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK');
        throw new Error(`migration ${file} failed: ${(err as Error).message}`);
      }
      applied.push(file);
    }
    const encrypted = await reencryptSecrets(client, cipher, CIPHERTEXT_PREFIX);
    if (encrypted) applied.push(`encrypt-secrets (${encrypted} webhooks)`);
    return applied;
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => {});
    client.release();
  }
}
