/**
 * An attempt's transaction priced against PostgreSQL alone (no Temporal, no HTTP): the gate as it
 * was sent before attemptGate, in three round trips (BEGIN, migration 006's herald_begin_attempt as
 * a prepared statement, COMMIT), against attemptGate's two (BEGIN with migration 018's
 * herald_attempt_gate, which wraps it, then COMMIT), on one embedded
 * PostgreSQL, one delivery row, one connection. The shapes take turns round by round; each
 * round reports this process's CPU, the PostgreSQL backend's CPU and the wall time per attempt, and
 * the saving round by round.
 *
 *   npx tsx bench/attempt-gate.ts [attempts per round, default 10000] [rounds, default 5]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { migrate } from '../src/db/migrate';
import { createPool, prepared } from '../src/db/pool';
import { attemptGate, type GateInput } from '../src/db/queries/deliveries';
import { startEmbeddedPostgres } from '../src/embedded/postgres';
import { createLogger } from '../src/logger';
import { createSecretCipher, generateEncryptionKey } from '../src/secret-cipher';
import { cpuSeconds } from './proc';

const SHAPES = ['three round trips', 'attemptGate (two)'] as const;

async function main() {
  const attempts = Number(process.argv[2] ?? 10_000);
  const rounds = Number(process.argv[3] ?? 5);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'herald-bench-gate-'));
  const postgres = await startEmbeddedPostgres({
    dir: path.join(dir, 'pg'),
    port: 55_000 + Math.floor(Math.random() * 1000),
    database: 'herald',
    logger: createLogger('warn', 'bench'),
    ephemeral: true,
  });
  const pool = createPool(postgres.url, 1);
  try {
    await migrate(pool, createSecretCipher([Buffer.from(generateEncryptionKey(), 'base64')]));
    await pool.query(
      `WITH a AS (INSERT INTO applications (id, name, entity_types, scopes) VALUES ('app_g', 'g', '{*}', '{*}') RETURNING id),
            w AS (INSERT INTO webhooks (id, application_id, url, method, signature, secret, status)
                  SELECT 'wh_g', id, 'http://127.0.0.1:9/', 'POST', 'standard-webhooks', 'secret', 'active' FROM a RETURNING id),
            e AS (INSERT INTO events (id, type, action, entity_type, entity_id, data)
                  VALUES ('evt_g', 'person.updated', 'updated', 'person', 'p1', '{"name": "Ada"}') RETURNING id)
       INSERT INTO deliveries (id, event_id, webhook_id, application_id, event_type, status)
       SELECT 'dlv_g', e.id, w.id, 'app_g', 'person.updated', 'pending' FROM e, w`,
    );
    const input: GateInput = {
      deliveryId: 'dlv_g',
      owner: 'delivery:dlv_g',
      maxAttempts: 12,
      test: false,
      keepOnHold: false,
    };
    const client = await pool.connect();
    const backend: number = (await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
    client.release();
    const run: Record<(typeof SHAPES)[number], () => Promise<unknown>> = {
      'three round trips': async () => {
        const c = await pool.connect();
        try {
          await c.query('BEGIN');
          await c.query(
            prepared('bench_begin_attempt', 'SELECT * FROM herald_begin_attempt($1, $2, $3, $4, $5)', [
              input.deliveryId,
              input.owner,
              input.maxAttempts,
              input.test,
              input.keepOnHold,
            ]),
          );
          await c.query('COMMIT');
        } finally {
          c.release();
        }
      },
      'attemptGate (two)': () => attemptGate(pool, input, () => null),
    };
    const perAttempt: Record<string, number[][]> = Object.fromEntries(SHAPES.map((s) => [s, []]));
    for (let round = 0; round < rounds; round++) {
      for (const shape of round % 2 ? [...SHAPES].reverse() : SHAPES) {
        for (let i = 0; i < 500; i++) await run[shape]();
        const ours = process.cpuUsage();
        const theirs = cpuSeconds(backend) ?? 0;
        const started = performance.now();
        for (let i = 0; i < attempts; i++) await run[shape]();
        const wall = performance.now() - started;
        const used = process.cpuUsage(ours);
        perAttempt[shape].push([
          (used.user + used.system) / attempts,
          (((cpuSeconds(backend) ?? 0) - theirs) * 1e6) / attempts,
          (wall * 1000) / attempts,
        ]);
      }
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    console.log(`${attempts} attempts x ${rounds} rounds, medians in µs per attempt`);
    console.log('| shape | this process | PostgreSQL | wall |');
    console.log('| --- | ---: | ---: | ---: |');
    for (const shape of SHAPES) {
      const rs = perAttempt[shape];
      const col = (j: number) => median(rs.map((r) => r[j])).toFixed(1);
      console.log(`| ${shape} | ${col(0)} | ${col(1)} | ${col(2)} |`);
    }
    // Round by round, the first shape's cost less the second's: the drift between rounds cancels.
    const [before, after] = SHAPES.map((shape) => perAttempt[shape]);
    ['this process', 'PostgreSQL', 'wall'].forEach((what, j) => {
      const saved = before.map((r, i) => r[j] - after[i][j]).sort((a, b) => a - b);
      console.log(`saved per round, ${what}: ${saved.map((x) => x.toFixed(0)).join(' ')} µs`);
    });
  } finally {
    await pool.end();
    await postgres.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
