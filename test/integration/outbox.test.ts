// Finding 5 of the lifecycle issue: starting a sync is one commit (the sync row and its outbox
// entry); a worker starts the workflow. Here Temporal is down when the sync is asked for.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureTemporalCli } from '../../src/embedded/temporal-cli';
import { type DevServer, startTemporalDevServer } from '../../src/embedded/temporal-server';
import { createLogger } from '../../src/logger';
import { startsInFlight, workflowTaskSlots } from '../../src/temporal/task-slots';
import { apiClient, eventually } from '../support/client';
import { appWithKey, createWebhook, personEvent } from '../support/fixtures';
import { freePort } from '../support/ports';
import { type Receiver, startReceiver } from '../support/receiver';
import { type Stack, startStack } from '../support/stack';

let server: DevServer | undefined;
let stack: Stack | undefined;
let receiver: Receiver | undefined;
const dir = mkdtempSync(path.join(os.tmpdir(), 'herald-outbox-'));

afterAll(async () => {
  await stack?.stop();
  await server?.stop();
  await receiver?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('a sync asked for while Temporal is down is accepted (202) and runs once Temporal is back', async () => {
  const cli = await ensureTemporalCli();
  const port = await freePort();
  const logger = createLogger('warn', 'outbox-test');
  const start = () => startTemporalDevServer({ cli, dir, port, namespace: 'default', logger });
  server = await start();
  stack = await startStack({ temporalAddress: server.address });
  receiver = await startReceiver();
  const admin = apiClient(stack.api.url, stack.adminToken);
  const key = apiClient(
    stack.api.url,
    (await appWithKey(admin, { entityTypes: ['person'], scopes: ['outbox'] })).token,
  );
  for (let i = 0; i < 10; i++) {
    const res = await admin.put(`/v1/entities/person/ob-${i}`, { data: { i }, scopes: ['outbox'] });
    expect(res.status).toBe(200);
  }
  const webhook = await createWebhook(key, { url: receiver.url('/outbox'), syncIntervalMs: 0 });

  await server.stop();
  const asked = await key.post(`/v1/webhooks/${webhook.id}/syncs`, {});
  expect(asked.status).toBe(202);
  expect(asked.body.status).toBe('running');
  // A second one is refused while the first is pending: the slot is taken by the committed row.
  expect((await key.post(`/v1/webhooks/${webhook.id}/syncs`, {})).status).toBe(409);

  server = await start();
  const done = await eventually(
    async () => {
      const s = await key.get(`/v1/syncs/${asked.body.id}`);
      return s.body.status === 'completed' && s.body;
    },
    60_000,
    200,
  );
  expect(done).toMatchObject({ total: 10, sent: 10, failed: 0 });
  expect(new Set(receiver.on('/outbox').map((r) => JSON.parse(r.body).entity.id)).size).toBe(10);
}, 120_000);

test('a sync starts while new deliveries wait for a place behind a slow receiver', async () => {
  // The slow receiver holds each place for a new delivery (task-slots.ts) for SLOW_MS: the
  // deliveries beyond the places wait in the starter, and the sync must not wait behind them.
  const SLOW_MS = 15_000;
  const own = await startStack({ env: { HERALD_REQUEST_TIMEOUT_MS: String(SLOW_MS + 10_000) } });
  const places = startsInFlight(workflowTaskSlots(own.config.workerCachedWorkflows));
  const slow = await startReceiver();
  try {
    slow.reply((req) => (req.path === '/slow' ? { delayMs: SLOW_MS } : {}));
    const admin = apiClient(own.api.url, own.adminToken);
    const key = apiClient(own.api.url, (await appWithKey(admin)).token);
    await createWebhook(key, { url: slow.url('/slow'), events: ['person.updated'] });
    for (let i = 0; i < places + 4; i++)
      expect((await admin.post('/v1/events', personEvent(`hol-${i}`))).status).toBe(202);
    await slow.waitFor(places);

    const fast = await createWebhook(key, { url: slow.url('/fast'), syncIntervalMs: 0 });
    expect((await key.post(`/v1/webhooks/${fast.id}/syncs`, {})).status).toBe(202);
    const fastAt = await eventually(async () => slow.on('/fast')[0]?.receivedAt, 60_000, 100);

    // Before the first slow request was answered, so while the deliveries beyond the places waited.
    expect(fastAt).toBeLessThan(slow.on('/slow')[0].receivedAt + SLOW_MS);
    // Without a cache a first task's local activity running past the task's heartbeat is dropped
    // or run again (README on HERALD_WORKER_CACHED_WORKFLOWS), which frees places early.
    if (own.config.workerCachedWorkflows > 0)
      expect(slow.on('/slow').filter((r) => r.receivedAt <= fastAt)).toHaveLength(places);
  } finally {
    await slow.close();
    await own.stop();
  }
}, 120_000);
