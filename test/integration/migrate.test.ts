// The migration runner holds every applied file to the checksum recorded when it ran.
import { createHash } from 'node:crypto';
import { appendFile, cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { migrate } from '../../src/db/migrate';
import { createPool, type Pool } from '../../src/db/pool';
import { createSecretCipher, generateEncryptionKey } from '../../src/secret-cipher';
import { emptyDatabase } from '../support/stack';

const MIGRATIONS = path.join(__dirname, '../../src/db/migrations');
const cipher = createSecretCipher([Buffer.from(generateEncryptionKey(), 'base64')]);
let dir: string;
let pool: Pool;

beforeEach(async () => {
  // A copy of the migrations, so that a test can edit one.
  dir = await mkdtemp(path.join(os.tmpdir(), 'herald-migrations-'));
  await cp(MIGRATIONS, dir, { recursive: true });
  pool = createPool(await emptyDatabase(), 1);
});

afterEach(async () => {
  await pool.end();
  await rm(dir, { recursive: true, force: true });
});

test('an applied migration edited afterwards stops the run before anything new is applied', async () => {
  expect(await migrate(pool, cipher, dir)).toContain('006_lifecycle.sql');
  await appendFile(path.join(dir, '006_lifecycle.sql'), '\n-- an edit after the fact\n');
  await writeFile(path.join(dir, '999_next.sql'), 'CREATE TABLE next_one (id int);');
  await expect(migrate(pool, cipher, dir)).rejects.toThrow(
    /^migration 006_lifecycle\.sql changed after it was applied/,
  );
  const { rows } = await pool.query(
    `SELECT to_regclass('next_one') AS next_one,
            (SELECT count(*)::int FROM schema_migrations WHERE name = '999_next.sql') AS recorded`,
  );
  expect(rows[0]).toEqual({ next_one: null, recorded: 0 });

  // Restored as it was, the run goes on.
  await cp(path.join(MIGRATIONS, '006_lifecycle.sql'), path.join(dir, '006_lifecycle.sql'));
  expect(await migrate(pool, cipher, dir)).toEqual(['999_next.sql']);
});

test('a database migrated before checksums takes them from the files, then is held to them', async () => {
  await migrate(pool, cipher, dir);
  await pool.query('ALTER TABLE schema_migrations DROP COLUMN checksum');
  expect(await migrate(pool, cipher, dir)).toEqual([]);
  const files = (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort();
  const expected = await Promise.all(
    files.map(async (name) => ({
      name,
      checksum: createHash('sha256')
        .update(await readFile(path.join(dir, name)))
        .digest('hex'),
    })),
  );
  const { rows } = await pool.query('SELECT name, checksum FROM schema_migrations ORDER BY name');
  expect(rows).toEqual(expected);

  await appendFile(path.join(dir, '001_core.sql'), ' ');
  await expect(migrate(pool, cipher, dir)).rejects.toThrow(/^migration 001_core\.sql changed/);
});
