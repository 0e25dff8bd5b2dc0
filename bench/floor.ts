/**
 * The floor under a delivery: the smallest workflow that does what a delivery must, in a process
 * of its own as Herald's worker is. Each workflow is started eagerly on the worker's own
 * connection (the server answers with its first task), runs one local activity that POSTs the
 * same body to the same receiver, and completes. No database, no signing, no records: what it
 * costs is Temporal's and the SDK's share of a delivery, which Herald's own cost is quoted
 * against (docs/performance.md).
 *
 * With `records`, the floor also writes what the brief requires Herald to keep of a delivery, each
 * in one statement on Herald's own tables (their indexes and triggers as they are): the event and
 * its delivery before the start (a 202 is a committed row), the delivery `sending` before the
 * request, the attempt with the delivery's final state after it. No rules, no locks, no signing:
 * the least those records cost, which Herald's gate, claim and API are quoted against.
 *
 * It connects as Herald's worker does, from the environment it is given (Temporal's address and
 * TLS settings). IPC: receives `{ url, count, concurrency, workflowTaskSlots, bodyBytes, records? }`, answers `{ ready }` once
 * its worker runs, receives `go`, answers `{ count, ok, elapsedMs, cpuSeconds }` (this process's
 * CPU over the run alone, all its threads) and exits.
 */
import http from 'node:http';
import { Client } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection, Worker } from '@temporalio/worker';
import { loadConfig } from '../src/config';
import { createPool, type Pool, prepared } from '../src/db/pool';
import { connectionOptions } from '../src/temporal/connection';
import { installRuntime } from '../src/temporal/runtime';
import { lanes, type Reply, request } from './http';

interface Job {
  url: string;
  count: number;
  concurrency: number;
  /** Workflow task slots and cached workflows, as Herald's worker has for its starts in flight. */
  workflowTaskSlots: number;
  bodyBytes: number;
  records?: RecordsTarget;
}

/** Where the floor with records writes, in Herald's database (DATABASE_URL): a webhook and its application. */
export interface RecordsTarget {
  webhookId: string;
  applicationId: string;
}

/** The records of one delivery, one statement each (see the top of this file). */
function recordsOf(pool: Pool, target: RecordsTarget) {
  return {
    end: () => pool.end(),
    published: (deliveryId: string, body: string) =>
      pool.query(
        prepared(
          'floor_published',
          `WITH e AS (INSERT INTO events (id, type, action, entity_type, entity_id, data)
                      VALUES ('evt_' || $1, 'floor.sent', 'sent', 'floor', $1, $2) RETURNING id)
           INSERT INTO deliveries (id, event_id, webhook_id, application_id, event_type, status, workflow_id)
           SELECT $1, e.id, $3, $4, 'floor.sent', 'pending', 'floor:' || $1 FROM e`,
          [deliveryId, body, target.webhookId, target.applicationId],
        ),
      ),
    sending: (deliveryId: string) =>
      pool.query(
        prepared(
          'floor_sending',
          `UPDATE deliveries SET status = 'sending', updated_at = now() WHERE id = $1`,
          [deliveryId],
        ),
      ),
    attempted: (
      deliveryId: string,
      a: { startedAt: Date; ms: number; url: string; headers: object; body: string; reply: Reply },
    ) =>
      pool.query(
        prepared(
          'floor_attempted',
          `WITH d AS (UPDATE deliveries SET status = 'succeeded', attempt_count = attempt_count + 1,
                             first_attempt_at = $2, last_attempt_at = $2, updated_at = now()
                       WHERE id = $1 RETURNING attempt_count)
           INSERT INTO attempts (id, delivery_id, webhook_id, attempt_number, started_at, duration_ms, outcome,
                                 request_url, request_method, request_headers, request_body,
                                 response_status, response_headers, response_body)
           SELECT 'att_' || $1, $1, $3, d.attempt_count, $2, $4, 'succeeded', $5, 'POST', $6, $7, $8, $9, $10 FROM d`,
          [
            deliveryId,
            a.startedAt,
            target.webhookId,
            Math.round(a.ms),
            a.url,
            a.headers,
            a.body,
            a.reply.status,
            a.reply.headers,
            Buffer.from(a.reply.body),
          ],
        ),
      ),
  };
}

process.once('message', async (job: Job) => {
  installRuntime();
  const config = loadConfig();
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const connection = await NativeConnection.connect(
    connectionOptions(config.temporal.connection, config.temporal.address!),
  );
  const taskQueue = `floor-${process.pid}`;
  let ok = 0;
  const sent = new Map<string, () => void>();
  const records = job.records && recordsOf(createPool(config.databaseUrl!, 20), job.records);
  const headers = { 'content-type': 'application/json' };
  const worker = await Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue,
    workflowBundle: await bundleWorkflowCode({
      workflowsPath: require.resolve('./floor-workflow'),
      logger: { info() {}, warn() {}, error() {}, debug() {}, trace() {}, log() {} },
    }),
    activities: {
      async post(url: string, body: string, deliveryId: string) {
        await records?.sending(deliveryId);
        const startedAt = new Date();
        const res = await request(agent, new URL(url), 'POST', headers, body);
        await records?.attempted(deliveryId, { startedAt, ms: res.ms, url, headers, body, reply: res });
        if (res.status >= 200 && res.status < 300) ok++;
        sent.get(deliveryId)?.();
        return res.status;
      },
    },
    // As Herald's worker (src/temporal/worker.ts), so both keep the same number of tasks at once.
    maxCachedWorkflows: job.workflowTaskSlots,
    maxConcurrentWorkflowTaskExecutions: job.workflowTaskSlots,
  });
  const running = worker.run();
  const client = new Client({ connection, namespace: config.temporal.namespace });
  const pad = 'x'.repeat(Math.max(0, job.bodyBytes - 80));
  await new Promise<void>((resolve) => {
    process.once('message', () => resolve());
    process.send?.({ ready: true });
  });
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  // `concurrency` deliveries under way at once: a lane starts the next once its request is done
  // (not its result: Herald fetches none, so neither does this).
  await lanes(job.count, job.concurrency, async (i) => {
    const id = `floor_${process.pid}_${i}`;
    const body = JSON.stringify({ id, type: 'floor.sent', data: { seq: i, pad } });
    const done = new Promise<void>((resolve) => sent.set(id, resolve));
    await records?.published(id, body);
    await client.workflow.start('floorWorkflow', {
      workflowId: id,
      taskQueue,
      args: [job.url, body, id],
      requestEagerStart: true,
    });
    await done;
    sent.delete(id);
  });
  const elapsedMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  worker.shutdown();
  await running;
  await records?.end();
  agent.destroy();
  process.send?.({ count: job.count, ok, elapsedMs, cpuSeconds: (cpu.user + cpu.system) / 1e6 }, () =>
    process.exit(0),
  );
});
process.on('disconnect', () => process.exit(0));
