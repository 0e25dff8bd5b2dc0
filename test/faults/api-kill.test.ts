import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { spawnEntry, stopChild } from '../../src/cli/spawn';
import { createPool, type Pool } from '../../src/db/pool';
import { eventually } from '../support/client';
import { freePort } from '../support/ports';
import { freshDatabase, sharedServices, testEnv } from '../support/stack';
import { createLedger, type FaultReceiver, faultReceiver, faultWebhooks, publish, scaled } from './ledger';

// The API runs as a process of its own, so it can be killed outright; so does the worker.
const children: ChildProcess[] = [];
let receiver: FaultReceiver;
let pool: Pool;

afterAll(async () => {
  for (const child of children) await stopChild(child);
  await receiver?.close();
  await pool?.end();
});

function spawn(name: 'api' | 'worker', env: NodeJS.ProcessEnv): ChildProcess {
  const child = spawnEntry(name, env, 'pipe');
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk).slice(-4_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  child.once('exit', (code, signal) => {
    if (code) console.error(`${name} exited with ${code} ${signal ?? ''}: ${output}`);
  });
  children.push(child);
  return child;
}

test('SIGKILL the API in the middle of publishing: every 202 is delivered, retries make no second delivery', async () => {
  const events = scaled(400);
  const ledger = createLedger('api-kill');
  const services = sharedServices();
  const databaseUrl = await freshDatabase();
  pool = createPool(databaseUrl, 2);
  const port = await freePort();
  const apiUrl = `http://127.0.0.1:${port}`;
  const adminToken = `hadm_fault_${randomBytes(16).toString('hex')}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...testEnv({ LOG_LEVEL: 'warn', HERALD_RATE_LIMIT_PER_SECOND: '0' }),
    PORT: String(port),
    DATABASE_URL: databaseUrl,
    TEMPORAL_ADDRESS: services.temporalAddress,
    HERALD_ADMIN_TOKEN: adminToken,
    HERALD_WORKFLOW_BUNDLE: services.bundle,
  };
  const startApi = async () => {
    const api = spawn('api', env);
    await eventually(async () => (await fetch(`${apiUrl}/readyz`)).status === 200, 120_000, 200);
    return api;
  };
  let api = await startApi();
  spawn('worker', env);
  receiver = await faultReceiver(ledger, Number(env.HERALD_REQUEST_TIMEOUT_MS), () => ({ delayMs: 5 }));
  await faultWebhooks(apiUrl, adminToken, receiver);

  // Kill the API once two fifths are in, with requests in flight, and start it again at once: the
  // publisher's lanes retry each refused or cut-off event with its own id meanwhile.
  const killAt = Math.floor(events * 0.4);
  let restarted: Promise<void> | undefined;
  let acceptedAtKill = 0;
  const stats = await publish({
    apiUrl: () => apiUrl,
    adminToken,
    ledger,
    prefix: 'ak',
    from: 0,
    to: events,
    onAccepted: (n) => {
      if (n !== killAt) return;
      acceptedAtKill = n;
      api.kill('SIGKILL');
      restarted = startApi().then((next) => {
        api = next;
      });
    },
  });
  await restarted;
  expect(acceptedAtKill).toBe(killAt);
  expect(stats.connectionErrors).toBeGreaterThan(0);
  expect([...stats.refused.keys()].filter((s) => s !== 503)).toEqual([]);

  // Deliveries whose workflow the dead API never started are started by the new one's recovery loop.
  const counts = await ledger.complete(240_000);
  console.log(`${ledger.line()} (killed at ${acceptedAtKill} accepted; ${stats.connectionErrors} retried)`);
  expect(counts).toMatchObject({ missing: 0, unexpected: 0, published: events });
  await ledger.verifyDeliveryRows(pool);
});
