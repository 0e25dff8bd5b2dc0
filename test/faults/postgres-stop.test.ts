import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { eventually } from '../support/client';
import { freePort } from '../support/ports';
import { freshDatabase, type Stack, startStack } from '../support/stack';
import { createLedger, type FaultReceiver, faultReceiver, faultWebhooks, publish, scaled } from './ledger';

// The shared PostgreSQL serves every other test: this case stops one of its own, in a process of
// its own (see postgres-process.ts).
let postgres: { url: string; process: ChildProcess; stop(): Promise<void> } | undefined;
let stack: Stack;
let receiver: FaultReceiver;
const dir = mkdtempSync(path.join(os.tmpdir(), 'herald-fault-postgres-'));

afterAll(async () => {
  await stack?.stop();
  await postgres?.stop();
  await receiver?.close();
  rmSync(dir, { recursive: true, force: true });
});

// How long PostgreSQL stays down once the API has answered 503: the fault itself.
const OUTAGE_MS = 4_000;

async function startPostgres(dataDir: string, port: number) {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(__dirname, 'postgres-process.ts'), dataDir, String(port)],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk) => {
      out += chunk;
      if (out.includes('\n')) resolve(JSON.parse(out.slice(0, out.indexOf('\n'))).url);
    });
    child.once('exit', (code) => reject(new Error(`the PostgreSQL process exited with ${code}`)));
  });
  return {
    url,
    process: child,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

test('stop PostgreSQL for a few seconds: 503 problems meanwhile, recovery by itself, nothing accepted lost', async () => {
  const events = scaled(300);
  const ledger = createLedger('postgres-stop');
  const port = await freePort();
  const start = () => startPostgres(path.join(dir, 'pg'), port);
  postgres = await start();
  stack = await startStack({
    databaseUrl: await freshDatabase(postgres.url),
    env: { HERALD_RATE_LIMIT_PER_SECOND: '0', LOG_LEVEL: process.env.FAULT_LOG_LEVEL ?? 'silent' },
  });
  receiver = await faultReceiver(ledger, stack.config.requestTimeoutMs, () => ({ delayMs: 20 }));
  await faultWebhooks(stack.api.url, stack.adminToken, receiver);

  // Publishing runs throughout; a 503 is retried with the same event id, as a client should.
  let stopped: Promise<void> | undefined;
  let acceptedAtStop = 0;
  const publishing = publish({
    apiUrl: () => stack.api.url,
    adminToken: stack.adminToken,
    ledger,
    prefix: 'ps',
    from: 0,
    to: events,
    lanes: 4,
    onAccepted: (n) => {
      if (n !== Math.floor(events / 3)) return;
      acceptedAtStop = n;
      stopped = postgres!.stop();
    },
  });
  await eventually(async () => stopped !== undefined, 120_000, 50);
  await stopped;
  const deliveredAtStop = ledger.counts().delivered;

  // Meanwhile the API answers 503 problem+json with Retry-After, and /readyz says why.
  const down = await fetch(`${stack.api.url}/v1/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      type: 'person.updated',
      entity: { type: 'person', id: 'probe' },
      scopes: ['none'],
    }),
  });
  expect(down.status).toBe(503);
  expect(down.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(down.headers.get('retry-after')).toMatch(/^\d+$/);
  expect(await down.json()).toMatchObject({
    status: 503,
    title: expect.any(String),
    detail: expect.any(String),
  });
  expect((await fetch(`${stack.api.url}/readyz`)).status).toBe(503);
  await new Promise((r) => setTimeout(r, OUTAGE_MS));
  postgres = await start();

  const stats = await publishing;
  expect(stats.refused.get(503)).toBeGreaterThan(0);
  expect([...stats.refused.keys()]).toEqual([503]);
  expect([...stats.refusedContentTypes].every((t) => t.startsWith('application/problem+json'))).toBe(true);

  const counts = await ledger.complete(240_000);
  console.log(
    `${ledger.line()} (stopped at ${acceptedAtStop} accepted, ${deliveredAtStop} delivered; ${stats.refused.get(503)} answers 503)`,
  );
  expect(counts).toMatchObject({ missing: 0, unexpected: 0, published: events });
  await ledger.verifyDeliveryRows(stack.pool);
});
