/**
 * The floor under a delivery: the smallest workflow that does what a delivery must, in a process
 * of its own as Herald's worker is. Each workflow is started eagerly on the worker's own
 * connection (the server answers with its first task), runs one local activity that POSTs the
 * same body to the same receiver, and completes. No database, no signing, no records: what it
 * costs is Temporal's and the SDK's share of a delivery, which Herald's own cost is quoted
 * against (docs/performance.md).
 *
 * It connects as Herald's worker does, from the environment it is given (Temporal's address and
 * TLS settings). IPC: receives `{ url, count, concurrency, workflowTaskSlots, bodyBytes }`, answers `{ ready }` once
 * its worker runs, receives `go`, answers `{ count, ok, elapsedMs, cpuSeconds }` (this process's
 * CPU over the run alone, all its threads) and exits.
 */
import http from 'node:http';
import { Client } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection, Worker } from '@temporalio/worker';
import { loadConfig } from '../src/config';
import { connectionOptions } from '../src/temporal/connection';
import { installRuntime } from '../src/temporal/runtime';
import { lanes, request } from './http';

interface Job {
  url: string;
  count: number;
  concurrency: number;
  /** Workflow task slots and cached workflows, as Herald's worker has for its starts in flight. */
  workflowTaskSlots: number;
  bodyBytes: number;
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
  const worker = await Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue,
    workflowBundle: await bundleWorkflowCode({
      workflowsPath: require.resolve('./floor-workflow'),
      logger: { info() {}, warn() {}, error() {}, debug() {}, trace() {}, log() {} },
    }),
    activities: {
      async post(url: string, body: string) {
        const res = await request(agent, new URL(url), 'POST', { 'content-type': 'application/json' }, body);
        if (res.status >= 200 && res.status < 300) ok++;
        sent.get(JSON.parse(body).id)?.();
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
    await client.workflow.start('floorWorkflow', {
      workflowId: id,
      taskQueue,
      args: [job.url, body],
      requestEagerStart: true,
    });
    await done;
    sent.delete(id);
  });
  const elapsedMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  worker.shutdown();
  await running;
  agent.destroy();
  process.send?.({ count: job.count, ok, elapsedMs, cpuSeconds: (cpu.user + cpu.system) / 1e6 }, () =>
    process.exit(0),
  );
});
process.on('disconnect', () => process.exit(0));
