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

  // The first half, then the stop once deliveries are under way.
  const half = Math.floor(events / 2);
  await publish({ apiUrl, adminToken: stack.adminToken, ledger, prefix: 'tr', from: 0, to: half });
  await eventually(async () => ledger.counts().delivered >= half / 2, 120_000, 50);
  await server.stop();
  const atStop = ledger.counts().delivered;
  expect(atStop).toBeLessThan(ledger.counts().expected);

  // The API still accepts events while Temporal is down: they are in PostgreSQL, and the recovery
  // loop starts their workflows once it is back.
  const during = await publish({
    apiUrl,
    adminToken: stack.adminToken,
    ledger,
    prefix: 'tr',
    from: half,
    to: events,
  });
  expect(during.accepted).toBe(events - half);
  await new Promise((r) => setTimeout(r, OUTAGE_MS));
  server = await start();

  const counts = await ledger.complete(240_000);
  console.log(`${ledger.line()} (${atStop} delivered at the stop)`);
  expect(counts).toMatchObject({ missing: 0, unexpected: 0, published: events });
  await ledger.verifyDeliveryRows(stack.pool);
});
