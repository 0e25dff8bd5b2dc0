// The chunk activities of releases and syncs, run in @temporalio/testing's MockActivityEnvironment
// against a real PostgreSQL and a real receiver (no workflow, no worker); and the attempt gate's
// pacing, called directly.
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities, type ReleaseBatch } from '../../activities';
import { attemptGate } from '../../src/db/queries/deliveries';
import { createHttpSender } from '../../src/delivery/http-sender';
import { resolveSecretCipher } from '../../src/encryption-key';
import { createLogger } from '../../src/logger';
import { createMetrics } from '../../src/metrics';
import { FailureTypes } from '../../workflows/shared';
import { type ApiClient, apiClient, eventually } from '../support/client';
import { appWithKey, createWebhook, personEvent } from '../support/fixtures';
import { type Receiver, startReceiver } from '../support/receiver';
import { type Stack, startStack } from '../support/stack';

let stack: Stack;
let receiver: Receiver;
let admin: ApiClient;
let key: ApiClient;
let activities: ReturnType<typeof createActivities>;
let sender: ReturnType<typeof createHttpSender>;

beforeAll(async () => {
  stack = await startStack({ worker: false });
  receiver = await startReceiver();
  admin = apiClient(stack.api.url, stack.adminToken);
  key = apiClient(
    stack.api.url,
    (await appWithKey(admin, { entityTypes: ['person'], scopes: ['act'] })).token,
  );
  sender = createHttpSender({ allowedNetworks: stack.config.allowedNetworks });
  activities = createActivities({
    pool: stack.pool,
    sender,
    logger: createLogger('silent', 'test'),
    metrics: createMetrics(),
    secretCipher: await resolveSecretCipher(stack.config),
    requestTimeoutMs: stack.config.requestTimeoutMs,
    retry: stack.config.retry,
  });
});
afterAll(async () => {
  sender?.close();
  await stack?.stop();
  await receiver?.close();
});

const statusOf = async (ids: string[]) =>
  (
    await stack.pool.query('SELECT id, status, workflow_id FROM deliveries WHERE id = ANY($1) ORDER BY id', [
      ids,
    ])
  ).rows as { id: string; status: string; workflow_id: string | null }[];

test('sendHeldDeliveries sends held deliveries one at a time in published order; a failed one is handed over, and not resent', async () => {
  const path = '/held-order';
  const webhook = await createWebhook(key, { url: receiver.url(path) });
  await key.post(`/v1/webhooks/${webhook.id}/pause`);
  const ids: string[] = [];
  for (let i = 0; i < 12; i++) {
    const res = await admin.post('/v1/events', personEvent(`held-${i}`, { scopes: ['act'] }));
    ids.push(res.body.deliveries[0].id);
  }
  const owner = `release:${webhook.id}`;
  const batch = (after = ''): Promise<ReleaseBatch> =>
    new MockActivityEnvironment().run(activities.sendHeldDeliveries, {
      webhookId: webhook.id,
      owner,
      after,
      limit: 100,
      maxAttempts: 4,
      retry: stack.config.retry,
    });

  // Paused: the gate stops the batch at the first one, sending nothing.
  expect(await batch()).toMatchObject({ outcomes: [], stopped: 'inactive' });
  expect(receiver.on(path)).toHaveLength(0);

  await key.post(`/v1/webhooks/${webhook.id}/resume`);
  receiver.reply((r) => (r.path === path && r.body.includes('"held-4"') ? { status: 500 } : {}));
  const first = await batch();
  expect(receiver.on(path).map((r) => r.headers['webhook-id'])).toHaveLength(12);
  const published = await Promise.all(
    ids.map(async (id) => (await key.get(`/v1/deliveries/${id}`)).body.eventId),
  );
  expect(receiver.on(path).map((r) => r.headers['webhook-id'])).toEqual(published);
  expect(first.outcomes.filter((o) => o.outcome !== 'sent')).toEqual([{ id: ids[4], outcome: 'handedOver' }]);
  const rows = await statusOf(ids);
  expect(rows.filter((r) => r.status === 'succeeded' && r.workflow_id === owner)).toHaveLength(11);
  // Handed over: retrying, owned by nobody, for the workers' starter to start its own workflow.
  expect(rows.find((r) => r.id === ids[4])).toMatchObject({ status: 'retrying', workflow_id: null });

  // Run again (a retried activity): nothing is held any more, nothing is sent twice.
  expect((await batch()).outcomes).toEqual([]);
  expect(receiver.on(path)).toHaveLength(12);
  receiver.reply(() => ({}));
});

test('sendSyncChunk stops starting requests when cancelled, records the ones under way, and says it was cancelled', async () => {
  const path = '/chunk-cancel';
  const webhook = await createWebhook(key, { url: receiver.url(path) });
  const syncId = 'sync_chunk_cancel';
  const ids = Array.from({ length: 40 }, (_, i) => `dlv_chunkcancel_${String(i).padStart(2, '0')}`);
  await stack.pool.query(
    `WITH ev AS (
       INSERT INTO events (id, type, action, entity_type, entity_id, data, sync)
       SELECT 'evt_' || substr(d, 5), 'person.sync', 'sync', 'person', d, '{}', jsonb_build_object('id', $3::text)
         FROM unnest($1::text[]) d RETURNING id
     )
     INSERT INTO deliveries (id, event_id, webhook_id, application_id, event_type, status, sync_id, workflow_id)
     SELECT 'dlv_' || substr(ev.id, 5), ev.id, $2, w.application_id, 'person.sync', 'pending', $3, 'sync:' || $3
       FROM ev, webhooks w WHERE w.id = $2`,
    [ids, webhook.id, syncId],
  );
  receiver.reply((r) => (r.path === path ? { delayMs: 100 } : {}));
  const env = new MockActivityEnvironment();
  const running = env.run(activities.sendSyncChunk, {
    deliveryIds: ids,
    concurrency: 4,
    owner: `sync:${syncId}`,
    maxAttempts: 4,
    retry: stack.config.retry,
  });
  await eventually(async () => receiver.on(path).length >= 6, 10_000, 10);
  env.cancel();
  await expect(running).rejects.toBeInstanceOf(CancelledFailure);
  const sent = receiver.on(path).length;
  expect(sent).toBeLessThan(40);
  const rows = await statusOf(ids);
  expect(rows.filter((r) => r.status === 'succeeded')).toHaveLength(sent);
  expect(rows.filter((r) => r.status === 'pending')).toHaveLength(40 - sent);
  receiver.reply(() => ({}));
});

test("a paced webhook's next send waits a full gap after the previous request started, however late that was after the gate", async () => {
  const paced = apiClient(
    stack.api.url,
    (await appWithKey(admin, { entityTypes: ['person'], scopes: ['paced'] })).token,
  );
  await createWebhook(paced, { url: receiver.url('/paced'), maxRequestsPerSecond: 5 });
  const [first, second] = await Promise.all(
    ['paced-1', 'paced-2'].map(
      async (id) =>
        (await admin.post('/v1/events', personEvent(id, { scopes: ['paced'] }))).body.deliveries[0].id,
    ),
  );
  const gate = (deliveryId: string, start: () => number) =>
    attemptGate(
      stack.pool,
      { deliveryId, owner: `delivery:${deliveryId}`, maxAttempts: 4, test: false, keepOnHold: false },
      start,
    );
  // The first is let through, and its worker is slow to start the request: 300 ms, more than the
  // 220 ms gap (5/s and its 10 % margin). The second asks meanwhile.
  let secondGate: ReturnType<typeof gate> | undefined;
  const firstGate = await gate(first, () => {
    secondGate = gate(second, () => Date.now());
    const late = performance.now() + 300;
    while (performance.now() < late);
    return Date.now();
  });
  expect(firstGate.verdict).toBe('send');
  const requestStarted = firstGate.verdict === 'send' ? firstGate.started : 0;
  // Spaced from the gate's decision, the second would go at once, right behind the first request.
  const next = await secondGate!;
  expect(next).toMatchObject({ verdict: 'throttled' });
  const slot = next.verdict === 'throttled' ? next.nextAttemptAt!.getTime() : 0;
  expect(slot - requestStarted).toBeGreaterThanOrEqual(200);
});

/** A sync's delivery as a lost worker can leave it: its status and owner as given, one attempt made. */
async function insertSyncDelivery(
  webhookId: string,
  syncId: string,
  deliveryId: string,
  status: string,
  owner: string | null,
) {
  await stack.pool.query(
    `WITH ev AS (
       INSERT INTO events (id, type, action, entity_type, entity_id, data, sync)
       VALUES ('evt_' || $3, 'person.sync', 'sync', 'person', $3, '{}', jsonb_build_object('id', $2::text))
       RETURNING id
     )
     INSERT INTO deliveries (id, event_id, webhook_id, application_id, event_type, status, sync_id, workflow_id, attempt_count)
     SELECT $3, ev.id, $1, w.application_id, 'person.sync', $4, $2, $5, 1
       FROM ev, webhooks w WHERE w.id = $1`,
    [webhookId, syncId, deliveryId, status, owner],
  );
}

/** One sendDelivery run: 'sent' when it returns, else its failure's type. */
const sendOnce = (input: { deliveryId: string; owner: string; handOverFailures?: boolean }) =>
  new MockActivityEnvironment()
    .run(activities.sendDelivery, { maxAttempts: 4, keepOnHold: true, ...input })
    .then(
      () => 'sent',
      (err: unknown) => (err instanceof ApplicationFailure ? err.type : String(err)),
    );

test("a sync's attempt run again after its first run handed the delivery over, and its own workflow took it, counts as handed over, not as a cancelled sync", async () => {
  const webhook = await createWebhook(key, { url: receiver.url('/handed') });
  const syncId = 'sync_handed_over';
  const deliveryId = 'dlv_handedover';
  // As a lost worker leaves it: the first run's attempt failed and handed the delivery over, and the
  // starter has started its own workflow since.
  await insertSyncDelivery(webhook.id, syncId, deliveryId, 'retrying', `delivery:${deliveryId}`);
  // The sync, run again: the attempt it made was a failure, handed over.
  expect(await sendOnce({ deliveryId, owner: `sync:${syncId}`, handOverFailures: true })).toBe(
    FailureTypes.attemptFailed,
  );
  // Another workflow that finds it owned by a third stops (a delivery workflow whose row a release took).
  expect(await sendOnce({ deliveryId, owner: 'delivery:dlv_other' })).toBe(FailureTypes.deliveryCancelled);
  expect(receiver.on('/handed')).toHaveLength(0);
});

test('an attempt run again after its first run ended the delivery (the worker was lost before Temporal heard) sends nothing and answers how it ended', async () => {
  const webhook = await createWebhook(key, { url: receiver.url('/ended') });
  const syncId = 'sync_ended';
  const owner = `sync:${syncId}`;
  // Sent and recorded by the first run; and one handed over, which its own workflow then failed.
  await insertSyncDelivery(webhook.id, syncId, 'dlv_ended_sent', 'succeeded', owner);
  await insertSyncDelivery(webhook.id, syncId, 'dlv_ended_failed', 'failed', 'delivery:dlv_ended_failed');
  // The sync goes on: the first counts as sent, the second as handed over (not a cancelled sync).
  expect(await sendOnce({ deliveryId: 'dlv_ended_sent', owner, handOverFailures: true })).toBe('sent');
  expect(await sendOnce({ deliveryId: 'dlv_ended_failed', owner, handOverFailures: true })).toBe(
    FailureTypes.attemptFailed,
  );
  // A delivery workflow's run again ends as the delivery did.
  expect(await sendOnce({ deliveryId: 'dlv_ended_sent', owner: 'delivery:dlv_ended_sent' })).toBe('sent');
  const failed = await new MockActivityEnvironment()
    .run(activities.sendDelivery, { deliveryId: 'dlv_ended_failed', owner: 'delivery:dlv_ended_failed' })
    .catch((err: unknown) => err);
  expect(failed).toBeInstanceOf(ApplicationFailure);
  expect((failed as ApplicationFailure).details?.[0]).toMatchObject({ final: true });
  // A sync's chunk, run again, likewise.
  const outcomes = await new MockActivityEnvironment().run(activities.sendSyncChunk, {
    deliveryIds: ['dlv_ended_sent', 'dlv_ended_failed'],
    concurrency: 2,
    owner,
    maxAttempts: 4,
  });
  expect(outcomes).toEqual(['sent', 'handedOver']);
  expect(receiver.on('/ended')).toHaveLength(0);
  expect(await statusOf(['dlv_ended_failed', 'dlv_ended_sent'])).toMatchObject([
    { status: 'failed' },
    { status: 'succeeded' },
  ]);
});
