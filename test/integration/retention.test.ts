import { randomBytes } from 'node:crypto';
import { ScheduleOverlapPolicy } from '@temporalio/client';
import type { PurgeResult } from '../../activities/retention';
import { RETENTION_SCHEDULE_ID } from '../../src/temporal/schedules';
import { apiClient, eventually } from '../support/client';
import { appWithKey, createWebhook } from '../support/fixtures';
import { startStack } from '../support/stack';
import { admin, receiver, stack, useStack } from '../support/suite';

/**
 * Retention: finished deliveries (with their attempts) and events left without deliveries are
 * purged once older than HERALD_RETENTION_DAYS, in batches, by the retention workflow that the
 * `herald-retention` schedule starts. Anything not yet delivered stays, however old.
 */

useStack({ env: { HERALD_RETENTION_DAYS: '30' } });

async function exists(table: 'events' | 'deliveries' | 'attempts', column: string, id: string) {
  const { rows } = await stack.pool.query(`SELECT count(*)::int AS n FROM ${table} WHERE ${column} = $1`, [
    id,
  ]);
  return rows[0].n;
}

/** Moves rows 40 days into the past, as if they had been written then. */
async function age(eventIds: string[], deliveryIds: string[]) {
  await stack.pool.query(`UPDATE events SET created_at = now() - interval '40 days' WHERE id = ANY($1)`, [
    eventIds,
  ]);
  await stack.pool.query(
    `UPDATE deliveries SET created_at = now() - interval '40 days', updated_at = now() - interval '40 days'
      WHERE id = ANY($1)`,
    [deliveryIds],
  );
  await stack.pool.query(
    `UPDATE attempts SET started_at = now() - interval '40 days' WHERE delivery_id = ANY($1)`,
    [deliveryIds],
  );
}

function runRetention(batchSize: number): Promise<PurgeResult> {
  return stack.api.context.temporal.workflow.execute('retentionWorkflow', {
    workflowId: `retention-test-${randomBytes(4).toString('hex')}`,
    taskQueue: stack.config.temporal.taskQueue,
    args: [{ retentionDays: stack.config.retentionDays, batchSize }],
  });
}

test('the API creates the herald-retention schedule, hourly, running the retention workflow', async () => {
  const schedule = await stack.api.context.temporal.schedule.getHandle(RETENTION_SCHEDULE_ID).describe();
  expect(schedule.action).toMatchObject({ type: 'startWorkflow', workflowType: 'retentionWorkflow' });
  expect(schedule.spec.intervals?.[0]?.every).toBe(3_600_000);
  expect(schedule.policies.overlap).toBe(ScheduleOverlapPolicy.SKIP);
  if (schedule.action.type !== 'startWorkflow') throw new Error('not a workflow action');
  expect(schedule.action.args).toEqual([{ retentionDays: expect.any(Number) }]);
  // Starting another API process finds it and keeps one schedule.
  const second = await startStack({ worker: false, env: { HERALD_RETENTION_DAYS: '7' } });
  try {
    const again = await second.api.context.temporal.schedule.getHandle(RETENTION_SCHEDULE_ID).describe();
    if (again.action.type !== 'startWorkflow') throw new Error('not a workflow action');
    expect(again.action.args).toEqual([{ retentionDays: 7 }]);
    expect(again.action.taskQueue).toBe(second.config.temporal.taskQueue);
  } finally {
    await second.stop();
  }
});

test('old finished deliveries, their attempts and events left without deliveries are purged in batches; the rest stays', async () => {
  const { token } = await appWithKey(admin, { entityTypes: ['person'], scopes: ['keep'] });
  const key = apiClient(stack.api.url, token);
  const webhook = await createWebhook(key, { url: receiver.url('/retention') });
  const paused = await createWebhook(key, { url: receiver.url('/paused'), status: 'paused' });
  const publish = async (id: string) => {
    const res = await admin.post('/v1/events', {
      type: 'person.updated',
      entity: { type: 'person', id },
      data: { id },
      scopes: ['keep'],
    });
    expect(res.status).toBe(202);
    const of = (w: { id: string }) =>
      res.body.deliveries.find((d: { webhookId: string }) => d.webhookId === w.id).id;
    return { eventId: res.body.id as string, delivered: of(webhook) as string, held: of(paused) as string };
  };
  const old = await publish('old');
  const recent = await publish('recent');
  for (const id of [old.delivered, recent.delivered])
    await eventually(async () => (await key.get(`/v1/deliveries/${id}`)).body.status === 'succeeded');
  // The old event's delivery to the paused webhook is held: accepted, not yet delivered.
  await age([old.eventId], [old.delivered, old.held]);

  // A backlog larger than a batch: 1,200 old delivered events with two attempts each, and 300 old
  // events that never had a delivery; plus one recent event without deliveries.
  await stack.pool.query(
    `WITH ev AS (
       INSERT INTO events (id, type, action, entity_type, entity_id, created_at)
       SELECT 'evt_bulk_' || g, 'person.updated', 'updated', 'person', 'bulk-' || g, now() - interval '40 days'
         FROM generate_series(1, 1200) g RETURNING id
     ), dl AS (
       INSERT INTO deliveries (id, event_id, webhook_id, application_id, event_type, status, workflow_id,
                               attempt_count, created_at, updated_at)
       SELECT 'dlv_' || substr(ev.id, 5), ev.id, w.id, w.application_id, 'person.updated', 'succeeded',
              'delivery:dlv_' || substr(ev.id, 5), 2,
              now() - interval '40 days', now() - interval '40 days'
         FROM ev, webhooks w WHERE w.id = $1 RETURNING id
     )
     INSERT INTO attempts (id, delivery_id, webhook_id, attempt_number, started_at, duration_ms, outcome,
                           request_url, request_method, request_headers, request_body)
     SELECT 'att_' || substr(dl.id, 5) || '_' || n, dl.id, $1, n, now() - interval '40 days', 5, 'succeeded',
            'http://127.0.0.1/', 'POST', '{}', '{}'
       FROM dl, generate_series(1, 2) n`,
    [webhook.id],
  );
  await stack.pool.query(
    `INSERT INTO events (id, type, action, entity_type, entity_id, created_at)
     SELECT 'evt_orphan_' || g, 'person.updated', 'updated', 'person', 'orphan', now() - interval '40 days'
       FROM generate_series(1, 300) g
     UNION ALL SELECT 'evt_orphan_recent', 'person.updated', 'updated', 'person', 'orphan', now()`,
  );
  const oldAttempts = await exists('attempts', 'delivery_id', old.delivered);
  expect(oldAttempts).toBeGreaterThanOrEqual(1);

  // Publishing goes on while the purge runs.
  const purge = runRetention(500);
  const during = await Promise.all(Array.from({ length: 10 }, (_, i) => publish(`during-${i}`)));
  const result = await purge;

  expect(result).toMatchObject({
    deliveries: 1200 + 1,
    attempts: 2400 + oldAttempts,
    events: 1200 + 300,
  });
  // Gone: the old delivered delivery and its attempts; the bulk and the orphans.
  expect(await exists('deliveries', 'id', old.delivered)).toBe(0);
  expect(await exists('attempts', 'delivery_id', old.delivered)).toBe(0);
  const left = await stack.pool.query(
    `SELECT (SELECT count(*) FROM events WHERE id LIKE 'evt_bulk_%' OR id LIKE 'evt_orphan_%')::int AS events,
            (SELECT count(*) FROM deliveries WHERE id LIKE 'dlv_bulk_%')::int AS deliveries,
            (SELECT count(*) FROM attempts WHERE id LIKE 'att_bulk_%')::int AS attempts`,
  );
  expect(left.rows[0]).toEqual({ events: 1, deliveries: 0, attempts: 0 });
  // Kept: the old event (its held delivery still refers to it) and the held delivery; everything recent.
  expect(await exists('events', 'id', old.eventId)).toBe(1);
  expect(await exists('deliveries', 'id', old.held)).toBe(1);
  expect(await exists('deliveries', 'id', recent.delivered)).toBe(1);
  expect(await exists('attempts', 'delivery_id', recent.delivered)).toBeGreaterThanOrEqual(1);
  expect(await exists('events', 'id', 'evt_orphan_recent')).toBe(1);
  for (const d of during) expect(await exists('events', 'id', d.eventId)).toBe(1);

  // The held delivery is still delivered once the webhook resumes: retention never loses an accepted event.
  await key.post(`/v1/webhooks/${paused.id}/resume`);
  await eventually(async () => (await key.get(`/v1/deliveries/${old.held}`)).body.status === 'succeeded');
  expect(JSON.parse(receiver.on('/paused').find((r) => r.body.includes('"old"'))!.body).id).toBe(old.eventId);

  // A second pass finds nothing more.
  expect(await runRetention(500)).toMatchObject({ deliveries: 0, attempts: 0, events: 0 });
}, 120_000);
