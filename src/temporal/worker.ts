import { existsSync } from 'node:fs';
import path from 'node:path';
import { Client } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from '../../activities';
import type { Config } from '../config';
import type { Pool } from '../db/pool';
import { createHttpSender } from '../delivery/http-sender';
import type { Logger } from '../logger';
import type { Metrics } from '../metrics';
import type { SecretCipher } from '../secret-cipher';
import { connectionOptions } from './connection';
import { installRuntime } from './runtime';
import { startWorkflowStarter } from './starter';
import { DeliveriesInFlight, startsInFlight, workflowTaskSlots } from './task-slots';

/** `npm run build` writes the pre-bundled workflow code here; without it the worker bundles at start. */
export const WORKFLOW_BUNDLE = path.resolve(__dirname, '../../workflow-bundle.js');

/**
 * A Herald worker: every workflow (delivery, test, sync, release, retention) and their activities,
 * on one task queue, and the starter that begins the workflows PostgreSQL asks for.
 */
export async function createHeraldWorker(opts: {
  config: Config;
  address: string;
  pool: Pool;
  logger: Logger;
  metrics: Metrics;
  /** Decrypts the signing secrets each send reads. */
  secretCipher: SecretCipher;
  workflowBundlePath?: string;
  /** Where the Temporal SDK serves its own Prometheus metrics, if anywhere. */
  sdkMetricsAddress?: string;
}) {
  installRuntime({ sdkMetricsAddress: opts.sdkMetricsAddress });
  const connection = await NativeConnection.connect(
    connectionOptions(opts.config.temporal.connection, opts.address),
  );
  const sender = createHttpSender({ allowedNetworks: opts.config.allowedNetworks });
  const bundle =
    opts.workflowBundlePath ??
    opts.config.workflowBundle ??
    (existsSync(WORKFLOW_BUNDLE) ? WORKFLOW_BUNDLE : undefined);
  const slots = workflowTaskSlots(opts.config.workerCachedWorkflows);
  // A place not given back by an attempt here (it ran on another worker) lapses after the longest
  // an attempt can take, with a margin for a slow workflow task.
  const inFlight = new DeliveriesInFlight(startsInFlight(slots), opts.config.requestTimeoutMs + 30_000);
  const worker = await Worker.create({
    connection,
    namespace: opts.config.temporal.namespace,
    taskQueue: opts.config.temporal.taskQueue,
    ...(bundle
      ? { workflowBundle: { codePath: bundle } }
      : { workflowsPath: require.resolve('../../workflows') }),
    activities: createActivities({
      pool: opts.pool,
      sender,
      logger: opts.logger,
      metrics: opts.metrics,
      secretCipher: opts.secretCipher,
      requestTimeoutMs: opts.config.requestTimeoutMs,
      retry: opts.config.retry,
    }),
    maxConcurrentActivityTaskExecutions: 200,
    // The SDK would size the cache from the heap limit (about 2,000 workflows here): 10,000
    // deliveries in retry took the worker past 1 GiB (docs/performance.md). An evicted workflow
    // replays its history on its next task (the replay tests keep that safe). Tasks in flight
    // cannot exceed the cache; the starter's starts in flight follow from them.
    maxCachedWorkflows: opts.config.workerCachedWorkflows,
    maxConcurrentWorkflowTaskExecutions: slots,
    interceptors: { activity: [inFlight.giveBackOnFirstAttempt] },
    // A chunk activity learns of a pause or cancel from a heartbeat's answer: at most a second late.
    maxHeartbeatThrottleInterval: '1s',
    // SIGTERM: in-flight activities get this long to finish before the worker stops.
    shutdownGraceTime: '20s',
  });
  return {
    worker,
    /** Runs until shutdown() is called, then closes what it opened. */
    async run() {
      const running = worker.run();
      const starter = startWorkflowStarter({
        pool: opts.pool,
        client: new Client({ connection, namespace: opts.config.temporal.namespace }),
        config: opts.config,
        logger: opts.logger,
        accepting: () => worker.getState() === 'RUNNING' || worker.getState() === 'INITIALIZED',
        inFlight,
      });
      try {
        await running;
      } finally {
        inFlight.close();
        await starter.stop();
        sender.close();
        await connection.close();
      }
    },
  };
}
