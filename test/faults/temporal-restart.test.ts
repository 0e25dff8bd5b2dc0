import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureTemporalCli } from '../../src/embedded/temporal-cli';
import { type DevServer, startTemporalDevServer } from '../../src/embedded/temporal-server';
import { createLogger } from '../../src/logger';
import { eventually } from '../support/client';
import { freePort } from '../support/ports';
import { type Stack, startStack } from '../support/stack';
import { createLedger, type FaultReceiver, faultReceiver, faultWebhooks, publish, scaled } from './ledger';

// The shared dev server serves every other test: this case stops one of its own.
let server: DevServer | undefined;
let stack: Stack;
let receiver: FaultReceiver;
const dir = mkdtempSync(path.join(os.tmpdir(), 'herald-fault-temporal-'));

afterAll(async () => {
  await stack?.stop();
  await server?.stop();
  await receiver?.close();
  rmSync(dir, { recursive: true, force: true });
});

// How long the server stays down: the fault itself, not a wait for something.
const OUTAGE_MS = 3_000;

test('stop and restart the Temporal dev server (same SQLite file) in the middle of a run', async () => {
  const events = scaled(300);
  const ledger = createLedger('temporal-restart');
  const cli = await ensureTemporalCli();
  const port = await freePort();
  const logger = createLogger('warn', 'temporal-fault');
  const start = () => startTemporalDevServer({ cli, dir, port, namespace: 'default', logger });
  server = await start();
  stack = await startStack({ temporalAddress: server.address, env: { HERALD_RATE_LIMIT_PER_SECOND: '0' } });
  receiver = await faultReceiver(ledger, stack.config.requestTimeoutMs, () => ({ delayMs: 20 }));
  await faultWebhooks(stack.api.url, stack.adminToken, receiver);
  const apiUrl = () => stack.api.url;

  // Publishing runs throughout; the server stops once half the events are accepted, while their
  // deliveries are under way. The API goes on accepting: the events are in PostgreSQL, and the
  // workers' starters start their workflows once the server is back.
  const half = Math.floor(events / 2);
  let stopped: Promise<void> | undefined;
  let atStop = { delivered: 0, expected: 0 };
  const publishing = publish({
    apiUrl,
    adminToken: stack.adminToken,
    ledger,
    prefix: 'tr',
    from: 0,
    to: events,
    lanes: 2,
    onAccepted: (n) => {
      if (n !== half) return;
      atStop = { delivered: ledger.counts().delivered, expected: ledger.counts().expected };
      stopped = server!.stop();
    },
  });
  await eventually(async () => stopped !== undefined, 120_000, 50);
  await stopped;
  expect(atStop.delivered).toBeLessThan(atStop.expected);
  await new Promise((r) => setTimeout(r, OUTAGE_MS));
  server = await start();
  expect((await publishing).accepted).toBe(events);

  const counts = await ledger.complete(240_000);
  console.log(`${ledger.line()} (${atStop.delivered} of ${atStop.expected} delivered at the stop)`);
  expect(counts).toMatchObject({ missing: 0, unexpected: 0, published: events });
  await ledger.verifyDeliveryRows(stack.pool);
});
