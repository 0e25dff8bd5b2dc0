import type { Client } from '@temporalio/client';
import { SignalNames, workflowIds } from '../../workflows/shared';
import type { Config } from '../config';
import type { Pool, PoolClient } from '../db/pool';
import {
  claimDeliveriesToStart,
  DELIVERIES_TO_START_CHANNEL,
  markWorkflowsStarted,
} from '../db/queries/deliveries';
import type { Logger } from '../logger';
import { eachLimited, startDeliveryWorkflow, toRef } from './dispatcher';

/** Rows claimed per round trip, and workflow starts in flight at once. */
const CLAIM_BATCH = 64;
const STARTS_IN_FLIGHT = 32;
/** A claimed row another worker may take over once this long has passed without a start. */
const LEASE_SECONDS = 10;
/** How often an idle starter looks without being woken (a missed notification, a lapsed lease). */
const POLL_MS = 1_000;

/**
 * Starts the workflows of new deliveries, inside each worker. The API commits an event with its
 * deliveries and answers 202 (or a resume releases held ones); a trigger NOTIFYs, and this loop
 * claims the rows (a lease: a worker that dies midway loses nothing), starts each workflow with eager start, so the server
 * answers with the first workflow task for this very worker (no matching, no poll, one history
 * write fewer per delivery: docs/performance.md), and marks the rows started.
 */
export function startDeliveryStarter(deps: {
  pool: Pool;
  /** A client on the worker's own connection: eager start needs the worker to share it. */
  client: Client;
  config: Config;
  logger: Logger;
  /** False once the worker is shutting down: a start would hand it a task it cannot take. */
  accepting: () => boolean;
}): { stop(): Promise<void> } {
  let stopped = false;
  let woken = false;
  let wake: () => void = () => {};
  const idle = () =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, POLL_MS);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  let listener: PoolClient | undefined;
  async function listen(): Promise<void> {
    if (listener || stopped) return;
    const client = await deps.pool.connect();
    client.on('notification', () => {
      woken = true;
      wake();
    });
    client.once('error', () => {
      // Reconnect on the next idle round; polling covers the gap.
      if (listener === client) listener = undefined;
      client.release(true);
    });
    await client.query(`LISTEN ${DELIVERIES_TO_START_CHANNEL}`);
    listener = client;
  }

  /** One batch; returns how many rows it claimed. */
  async function startBatch(): Promise<number> {
    const claimed = await claimDeliveriesToStart(deps.pool, CLAIM_BATCH, LEASE_SECONDS);
    const started: string[] = [];
    let failed: Error | undefined;
    await eachLimited(claimed, STARTS_IN_FLIGHT, async (row) => {
      try {
        if (!(await startDeliveryWorkflow(deps.client, deps.config, toRef(row), { eager: true }))) {
          // Started before, its row not yet marked (a release racing the first start): the
          // workflow may be waiting in the hold, and the release counts on this start to end it.
          await deps.client.workflow.getHandle(workflowIds.delivery(row.id)).signal(SignalNames.resume);
        }
        started.push(row.id);
      } catch (err) {
        failed = err as Error;
      }
    });
    if (started.length > 0) await markWorkflowsStarted(deps.pool, started);
    if (failed)
      deps.logger.warn(
        { failed: claimed.length - started.length, err: failed.message },
        'workflow starts failed; retried when their claim lapses',
      );
    return claimed.length;
  }

  const running = (async () => {
    while (!stopped && deps.accepting()) {
      woken = false;
      try {
        await listen();
        // A full batch means more may wait: go on without sleeping.
        if ((await startBatch()) === CLAIM_BATCH) continue;
      } catch (err) {
        deps.logger.warn({ err: (err as Error).message }, 'starting delivery workflows failed; retrying');
      }
      if (!woken && !stopped) await idle();
    }
  })();

  return {
    async stop() {
      stopped = true;
      wake();
      await running;
      listener?.release();
      listener = undefined;
    },
  };
}
