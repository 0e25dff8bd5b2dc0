// Records workflow histories for the replay test (test/replay/replay.test.ts): each scenario drives
// the real stack through the public API, waits for its workflows to close and writes their
// histories. Run with `npm run record:histories` (HERALD_HISTORY_LABEL names the code version,
// e.g. `stop11`). The histories of older versions were recorded by running this file in a
// checkout of that version (docs/lifecycle.md, "Patches"); it uses only what every version has.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { type ApiClient, apiClient, eventually } from '../support/client';
import { appWithKey, createWebhook } from '../support/fixtures';
import { type Receiver, startReceiver } from '../support/receiver';
import { type Stack, startStack } from '../support/stack';

const LABEL = process.env.HERALD_HISTORY_LABEL ?? 'current';
const OUT = process.env.HERALD_HISTORIES_OUT ?? path.join(__dirname, 'histories');
const ONLY = process.env.HERALD_HISTORY_SCENARIOS?.split(',');

let stack: Stack;
let receiver: Receiver;
let admin: ApiClient;
let key: ApiClient;
let counter = 0;
let scope = '';

beforeAll(async () => {
  mkdirSync(OUT, { recursive: true });
  stack = await startStack({ env: { HERALD_SYNC_HISTORY_LIMIT: '100' } });
  receiver = await startReceiver();
  admin = apiClient(stack.api.url, stack.adminToken);
});
afterAll(async () => {
  await stack?.stop();
  await receiver?.close();
});
beforeEach(async () => {
  scope = `rec:${++counter}`;
  key = apiClient(
    stack.api.url,
    (await appWithKey(admin, { entityTypes: ['person'], scopes: [scope] })).token,
  );
  receiver.reply(() => ({}));
});

const scenario = (name: string, fn: () => Promise<string[]>) =>
  (ONLY && !ONLY.includes(name) ? test.skip : test)(name, async () => save(name, await fn()), 120_000);

/** Waits for every run of each workflow to close, then writes each run's history. */
async function save(name: string, workflowIds: string[]): Promise<void> {
  const client = stack.api.context.temporal;
  for (const workflowId of workflowIds) {
    await eventually(
      async () => (await client.workflow.getHandle(workflowId).describe()).status.name !== 'RUNNING',
      60_000,
    );
    const runs: { runId: string; type: string }[] = [];
    await eventually(async () => {
      runs.length = 0;
      for await (const run of client.workflow.list({ query: `WorkflowId = "${workflowId}"` }))
        runs.push({ runId: run.runId, type: run.type });
      return runs.length > 0;
    });
    for (const [i, run] of runs.entries()) {
      const history = await client.workflow.getHandle(workflowId, run.runId).fetchHistory();
      const file = `${LABEL}.${name}.${run.type}.${workflowId.split(':')[0]}.${i}.json`;
      writeFileSync(
        path.join(OUT, file),
        `${JSON.stringify({ workflowId, history: JSON.parse(historyToJSON(history)) })}\n`,
      );
    }
  }
}

const hookPath = () => `/rec${counter}`;
/** The first request to `path` whose body holds `marker` gets a 500; every other one a 200. */
function refuseOnce(path: string, marker: string): void {
  let refused = false;
  receiver.reply((r) => {
    if (r.path !== path || refused || !r.body.includes(marker)) return {};
    refused = true;
    return { status: 500 };
  });
}
const publish = async (id: string) => {
  const res = await admin.post('/v1/events', {
    type: 'person.updated',
    entity: { type: 'person', id },
    data: { name: id },
    scopes: [scope],
  });
  return res.body as { id: string; deliveries: { id: string }[] };
};
const status = (id: string) => key.get(`/v1/deliveries/${id}`).then((r) => r.body.status as string);
const until = (id: string, ...wanted: string[]) =>
  eventually(async () => wanted.includes(await status(id)), 60_000);
async function seed(count: number): Promise<void> {
  for (let i = 0; i < count; i++)
    await admin.put(`/v1/entities/person/${scope}-${i}`, { data: { i }, scopes: [scope] });
}
async function syncEnded(syncId: string): Promise<void> {
  await eventually(
    async () => ['completed', 'cancelled'].includes((await key.get(`/v1/syncs/${syncId}`)).body.status),
    90_000,
  );
}

scenario('delivery-succeeds', async () => {
  await createWebhook(key, { url: receiver.url(hookPath()) });
  const { deliveries } = await publish('ok');
  await until(deliveries[0].id, 'succeeded');
  return [`delivery:${deliveries[0].id}`];
});

scenario('delivery-retried', async () => {
  const p = hookPath();
  receiver.reply((r) => (r.path === p && receiver.on(p).length <= 2 ? { status: 500 } : {}));
  await createWebhook(key, { url: receiver.url(p) });
  const { deliveries } = await publish('retried');
  await until(deliveries[0].id, 'succeeded');
  return [`delivery:${deliveries[0].id}`];
});

scenario('delivery-fails', async () => {
  const p = hookPath();
  receiver.reply((r) => (r.path === p ? { status: 503 } : {}));
  await createWebhook(key, { url: receiver.url(p) });
  const { deliveries } = await publish('fails');
  await until(deliveries[0].id, 'failed');
  return [`delivery:${deliveries[0].id}`];
});

scenario('delivery-held', async () => {
  // The first attempt fails; the webhook is paused while the delivery waits to retry; resumed.
  const p = hookPath();
  let failing = true;
  receiver.reply((r) => (r.path === p && failing ? { status: 500 } : {}));
  const webhook = await createWebhook(key, { url: receiver.url(p) });
  const { deliveries } = await publish('held');
  await eventually(async () => receiver.on(p).length >= 1);
  await key.post(`/v1/webhooks/${webhook.id}/pause`);
  await until(deliveries[0].id, 'held');
  failing = false;
  await key.post(`/v1/webhooks/${webhook.id}/resume`);
  await until(deliveries[0].id, 'succeeded');
  return [`delivery:${deliveries[0].id}`, ...(await releaseOf(webhook.id))];
});

scenario('delivery-outage', async () => {
  // Herald cannot record attempts for a while (PostgreSQL refuses them), then can again.
  const p = hookPath();
  await createWebhook(key, { url: receiver.url(p) });
  await stack.pool.query('ALTER TABLE attempts ADD CONSTRAINT herald_record_refuse CHECK (false) NOT VALID');
  let id = '';
  try {
    id = (await publish('outage')).deliveries[0].id;
    // Past one retry policy's worth of attempts (4 in tests), unless the version fails it sooner.
    await eventually(async () => receiver.on(p).length >= 5 || (await status(id)) === 'failed', 30_000);
  } finally {
    await stack.pool.query('ALTER TABLE attempts DROP CONSTRAINT herald_record_refuse');
  }
  await until(id, 'succeeded', 'failed');
  return [`delivery:${id}`];
});

scenario('delivery-data-error', async () => {
  const p = hookPath();
  receiver.reply((r) => (r.path === p ? { reset: true } : {}));
  await createWebhook(key, { url: receiver.url(p) });
  await stack.pool.query('ALTER TABLE attempts ALTER COLUMN error_message TYPE varchar(3)');
  let id = '';
  try {
    id = (await publish('data')).deliveries[0].id;
    await until(id, 'failed', 'succeeded');
  } finally {
    await stack.pool.query('ALTER TABLE attempts ALTER COLUMN error_message TYPE text');
  }
  return [`delivery:${id}`];
});

scenario('test', async () => {
  const webhook = await createWebhook(key, { url: receiver.url(hookPath()) });
  const res = await key.post(`/v1/webhooks/${webhook.id}/test`);
  return [`test:${webhook.id}:${res.body.id}`];
});

scenario('release-handover', async () => {
  // Five held deliveries; the third's first attempt after the resume fails and is handed over.
  const p = hookPath();
  const webhook = await createWebhook(key, { url: receiver.url(p) });
  await key.post(`/v1/webhooks/${webhook.id}/pause`);
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) ids.push((await publish(`rel-${i}`)).deliveries[0].id);
  refuseOnce(p, 'rel-2');
  await key.post(`/v1/webhooks/${webhook.id}/resume`);
  for (const id of ids) await until(id, 'succeeded');
  return [...(await releaseOf(webhook.id)), `delivery:${ids[2]}`];
});

scenario('sync-paced', async () => {
  await seed(30);
  const p = hookPath();
  const webhook = await createWebhook(key, { url: receiver.url(p), syncIntervalMs: 20 });
  const sync = (await key.post(`/v1/webhooks/${webhook.id}/syncs`, {})).body;
  await eventually(async () => receiver.on(p).length >= 5);
  await key.post(`/v1/syncs/${sync.id}/pause`);
  await key.post(`/v1/syncs/${sync.id}/resume`);
  await syncEnded(sync.id);
  return [`sync:${sync.id}`];
});

scenario('sync-chunked', async () => {
  await seed(80);
  const p = hookPath();
  refuseOnce(p, `"${scope}-7"`);
  const webhook = await createWebhook(key, { url: receiver.url(p), syncIntervalMs: 0 });
  const sync = (await key.post(`/v1/webhooks/${webhook.id}/syncs`, {})).body;
  await syncEnded(sync.id);
  const failed = await eventually(async () => {
    const list = (await key.get(`/v1/webhooks/${webhook.id}/deliveries?status=succeeded&limit=100`)).body
      .data;
    return list.find((d: { attemptCount: number }) => d.attemptCount > 1) as { id: string } | undefined;
  }, 30_000);
  return [`sync:${sync.id}`, `delivery:${failed.id}`];
});

scenario('sync-cancelled', async () => {
  await seed(200);
  const p = hookPath();
  receiver.reply((r) => (r.path === p ? { delayMs: 50 } : {}));
  const webhook = await createWebhook(key, { url: receiver.url(p), syncIntervalMs: 0 });
  const sync = (await key.post(`/v1/webhooks/${webhook.id}/syncs`, {})).body;
  await eventually(async () => receiver.on(p).length >= 20);
  await key.post(`/v1/syncs/${sync.id}/cancel`);
  await syncEnded(sync.id);
  return [`sync:${sync.id}`];
});

scenario('sync-paced-cancelled', async () => {
  // Cancelled while waiting out an hour's interval: the cancel ends the timer (sync-cancel-cuts-waits).
  await seed(3);
  const p = hookPath();
  const webhook = await createWebhook(key, { url: receiver.url(p), syncIntervalMs: 3_600_000 });
  const sync = (await key.post(`/v1/webhooks/${webhook.id}/syncs`, {})).body;
  await eventually(async () => receiver.on(p).length >= 1);
  await key.post(`/v1/syncs/${sync.id}/cancel`);
  await syncEnded(sync.id);
  return [`sync:${sync.id}`];
});

scenario('sync-waiting', async () => {
  await seed(30);
  const p = hookPath();
  const webhook = await createWebhook(key, { url: receiver.url(p), syncIntervalMs: 20 });
  const sync = (await key.post(`/v1/webhooks/${webhook.id}/syncs`, {})).body;
  await eventually(async () => receiver.on(p).length >= 5);
  await key.post(`/v1/webhooks/${webhook.id}/pause`);
  await eventually(async () => (await key.get(`/v1/syncs/${sync.id}`)).body.status === 'waiting');
  await key.post(`/v1/webhooks/${webhook.id}/resume`);
  await syncEnded(sync.id);
  return [`sync:${sync.id}`, ...(await releaseOf(webhook.id))];
});

scenario('recovery', async () => {
  const p = hookPath();
  let failing = true;
  receiver.reply((r) => (r.path === p && failing ? { status: 500 } : {}));
  const webhook = await createWebhook(key, { url: receiver.url(p) });
  const since = new Date(Date.now() - 1_000).toISOString();
  const { deliveries } = await publish('recover-me');
  await until(deliveries[0].id, 'failed');
  failing = false;
  await key.post(`/v1/webhooks/${webhook.id}/resume`);
  const recovery = (await key.post(`/v1/webhooks/${webhook.id}/recover`, { since })).body;
  await eventually(
    async () => (await key.get(`/v1/recoveries/${recovery.id}`)).body.status === 'completed',
    60_000,
  );
  return [`recover:${recovery.id}`];
});

scenario('release-strict', async () => {
  // Strict order: the second delivery's first attempt fails; the release waits for its workflow.
  const p = hookPath();
  const webhook = await createWebhook(key, { url: receiver.url(p), ordering: 'strict' });
  refuseOnce(p, 'strict-1');
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) ids.push((await publish(`strict-${i}`)).deliveries[0].id);
  for (const id of ids) await until(id, 'succeeded');
  return [...(await releaseOf(webhook.id)), `delivery:${ids[1]}`];
});

scenario('retention', async () => {
  const workflowId = `herald-retention-record-${counter}`;
  await stack.api.context.temporal.workflow.execute('retentionWorkflow', {
    workflowId,
    taskQueue: stack.config.temporal.taskQueue,
    args: [{ retentionDays: 30 }],
  });
  return [workflowId];
});

/** The webhook's release workflow, where the version has one. */
async function releaseOf(webhookId: string): Promise<string[]> {
  try {
    await stack.api.context.temporal.workflow.getHandle(`release:${webhookId}`).describe();
    return [`release:${webhookId}`];
  } catch {
    return [];
  }
}
