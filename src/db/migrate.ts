import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type pg from 'pg';
import { CIPHERTEXT_PREFIX, type SecretCipher } from '../secret-cipher';
import { reencryptSecrets } from './queries/webhook-secrets';

const MIGRATIONS_DIR = path.join(__dirname, 'migrations');
// Any constant works; it serialises concurrent migrators (several API replicas starting at once).
const MIGRATION_LOCK = 7_422_311;

/**
 * Applies every ordered SQL file in `dir` not yet applied, each in its own transaction with its
 * SHA-256, then the one step SQL cannot do: it encrypts signing secrets still stored in plaintext
 * (written before encryption at rest, or by an older API replica during a rolling upgrade), since
 * only this process holds the key. That step runs on every migration, finds nothing once done, and
 * is listed as `encrypt-secrets (N webhooks)` when it rewrote rows.
 *
 * A file applied before is checked against its recorded checksum first, and a changed one stops
 * the run before anything is applied: an edit to an applied migration would never run where it
 * ran already, so two databases at the same version would differ. Rows recorded before checksums
 * take the file's checksum as it is now.
 */
export async function migrate(pool: pg.Pool, cipher: SecretCipher, dir = MIGRATIONS_DIR): Promise<string[]> {
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    await client.query(
      'CREATE TABLE IF NOT EXISTS schema_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
    );
    await client.query('ALTER TABLE schema_migrations ADD COLUMN IF NOT EXISTS checksum text');
    const recorded = new Map<string, string | null>(
      (await client.query('SELECT name, checksum FROM schema_migrations')).rows.map((r) => [
        r.name,
        r.checksum,
      ]),
    );
    const files = await Promise.all(
      (await readdir(dir))
        .filter((f) => f.endsWith('.sql'))
        .sort()
        .map(async (name) => {
          const sql = await readFile(path.join(dir, name), 'utf8');
          return { name, sql, checksum: createHash('sha256').update(sql).digest('hex') };
        }),
    );
    const changed = files.filter((f) => {
      const checksum = recorded.get(f.name);
      return checksum != null && checksum !== f.checksum;
    });
    if (changed.length > 0) {
      throw new Error(
        `migration ${changed.map((f) => f.name).join(', ')} changed after it was applied (its checksum differs ` +
          'from the one recorded in schema_migrations): restore the file as it was, and put the change in a new migration',
      );
    }
    const applied: string[] = [];
    for (const file of files) {
      if (recorded.has(file.name)) {
        if (recorded.get(file.name) === null) {
          await client.query('UPDATE schema_migrations SET checksum = $2 WHERE name = $1', [
            file.name,
            file.checksum,
          ]);
        }
        continue;
      }
      await client.query('BEGIN');
      try {
        await client.query(file.sql);
        await client.query('INSERT INTO schema_migrations (name, checksum) VALUES ($1, $2)', [
          file.name,
          file.checksum,
        ]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK');
        throw new Error(`migration ${file.name} failed: ${(err as Error).message}`);
      }
      applied.push(file.name);
    }
    const encrypted = await reencryptSecrets(client, cipher, CIPHERTEXT_PREFIX);
    if (encrypted) applied.push(`encrypt-secrets (${encrypted} webhooks)`);
    return applied;
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => {});
    client.release();
  }
}
