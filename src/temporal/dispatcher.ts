import { type Client, WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/client';
import { WorkflowIdReusePolicy } from '@temporalio/common';
import type { deliveryWorkflow } from '../../workflows/delivery';
import { SignalNames, workflowIds } from '../../workflows/shared';
import type { Config } from '../config';
import { type Pool, prepared } from '../db/pool';
import { activeSyncOf } from '../db/queries/syncs';
import type { Logger } from '../logger';
import { searchAttributes } from './search-attributes';

/**
 * Workflow starts and signals in flight at once. Releases go oldest first, so a delivery can
 * overtake at most this many older ones.
 */
export const RELEASE_WINDOW = 16;

/**
 * Starts finishing within this window share one `workflow_started` UPDATE: under load that is one
 * statement (and one commit) for many events instead of one per event. Only the recovery loop
 * reads the flag, and only for rows older than its grace period.
 */
const MARK_WINDOW_MS = 50;

export interface DeliveryRef {
  id: string;
  webhookId: string;
  applicationId: string;
  eventType: string;
}

/** Runs fn over items with at most `limit` in flight, in order of start. */
async function eachLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]);
  });
  await Promise.all(lanes);
}

/**
 * Starts and signals delivery workflows. Every start uses the contract's workflow id with
 * REJECT_DUPLICATE, so starting a delivery twice (the recovery loop racing the API) is harmless.
 */
export function createDispatcher(deps: { client: Client; pool: Pool; config: Config; logger: Logger }) {
  const { client, pool, config } = deps;

  /** Starts the delivery's workflow; false when it was started before (a duplicate, harmless). */
  async function startOne(d: DeliveryRef): Promise<boolean> {
    try {
      await client.workflow.start<typeof deliveryWorkflow>('deliveryWorkflow', {
        workflowId: workflowIds.delivery(d.id),
        taskQueue: config.temporal.taskQueue,
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        args: [{ deliveryId: d.id, retry: config.retry, requestTimeoutMs: config.requestTimeoutMs }],
        typedSearchAttributes: [
          { key: searchAttributes.applicationId, value: d.applicationId },
          { key: searchAttributes.webhookId, value: d.webhookId },
          { key: searchAttributes.eventType, value: d.eventType },
        ],
      });
      return true;
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      return false;
    }
  }

  let marking: { ids: string[]; done: Promise<void> } | undefined;
  /** Marks rows started, together with every other start() finishing within MARK_WINDOW_MS. */
  function markStarted(ids: string[]): Promise<void> {
    if (!marking) {
      const batch: { ids: string[]; done: Promise<void> } = { ids: [], done: Promise.resolve() };
      batch.done = new Promise((resolve) => setTimeout(resolve, MARK_WINDOW_MS)).then(async () => {
        marking = undefined;
        await pool.query(
          prepared('mark_started', 'UPDATE deliveries SET workflow_started = true WHERE id = ANY($1)', [
            batch.ids,
          ]),
        );
      });
      marking = batch;
    }
    marking.ids.push(...ids);
    return marking.done;
  }

  /**
   * Starts each delivery's workflow and marks the rows started; failures are left to the recovery
   * loop. `onDuplicate` hears of deliveries whose workflow already existed.
   */
  async function start(deliveries: DeliveryRef[], onDuplicate?: (id: string) => void): Promise<void> {
    const started: string[] = [];
    await eachLimited(deliveries, RELEASE_WINDOW, async (d) => {
      try {
        if (!(await startOne(d))) onDuplicate?.(d.id);
        started.push(d.id);
      } catch (err) {
        deps.logger.warn(
          { deliveryId: d.id, err: (err as Error).message },
          'workflow start failed; recovery will retry',
        );
      }
    });
    if (started.length > 0) await markStarted(started);
  }

  async function signal(
    deliveryIds: string[],
    name: (typeof SignalNames)[keyof typeof SignalNames],
  ): Promise<void> {
    await eachLimited(deliveryIds, RELEASE_WINDOW, async (id) => {
      try {
        await client.workflow.getHandle(workflowIds.delivery(id)).signal(name);
      } catch (err) {
        if (!(err instanceof WorkflowNotFoundError)) throw err;
      }
    });
  }

  /**
   * Sends a webhook's held deliveries, oldest first, in waves of RELEASE_WINDOW: workflows waiting
   * in the hold get the resume signal, deliveries created while the webhook was inactive get their
   * workflow started, and the next wave goes once this one's requests have started (the send
   * activity moves a delivery out of `held` as it sends). A crash midway loses nothing: the
   * recovery loop releases whatever is still held.
   */
  async function releaseHeld(webhookId: string): Promise<number> {
    // The recovery loop would otherwise walk a long release in parallel with the resume's own,
    // starting and signalling every delivery twice.
    if (releasing.has(webhookId)) return 0;
    releasing.add(webhookId);
    try {
      return await releaseWaves(webhookId);
    } finally {
      releasing.delete(webhookId);
    }
  }
  const releasing = new Set<string>();

  async function releaseWaves(webhookId: string): Promise<number> {
    let released = 0;
    let after = '';
    for (;;) {
      const { rows } = await pool.query(
        `SELECT id, webhook_id, application_id, event_type, workflow_started FROM deliveries
          WHERE webhook_id = $1 AND status = 'held' AND id > $2
          ORDER BY id LIMIT $3`,
        [webhookId, after, RELEASE_WINDOW],
      );
      if (rows.length === 0) return released;
      const toSignal = rows.filter((r) => r.workflow_started).map((r) => r.id as string);
      const toStart = rows.filter((r) => !r.workflow_started).map(toRef);
      // A workflow started just before its row was marked may already wait in the hold: resume it.
      const running: string[] = [];
      await Promise.all([signal(toSignal, SignalNames.resume), start(toStart, (id) => running.push(id))]);
      if (running.length > 0) await signal(running, SignalNames.resume);
      await waitUntilSent(rows.map((r) => r.id));
      released += rows.length;
      after = rows[rows.length - 1].id;
    }
  }

  /** Waits (bounded) until none of `ids` is still held; a wave never stalls the release for long. */
  async function waitUntilSent(ids: string[], timeoutMs = 5_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (let pause = 5; Date.now() < deadline; pause = Math.min(pause * 2, 100)) {
      const { rows } = await pool.query(
        `SELECT 1 FROM deliveries WHERE id = ANY($1) AND status = 'held' LIMIT 1`,
        [ids],
      );
      if (rows.length === 0) return;
      await new Promise((r) => setTimeout(r, pause));
    }
  }

  /** Wakes the webhook's sync if it waits for the webhook to be active again. */
  async function wakeSync(webhookId: string): Promise<void> {
    const sync = await activeSyncOf(pool, webhookId);
    if (sync) await client.workflow.getHandle(workflowIds.sync(sync.id)).signal('webhookResumed');
  }

  /** A pause: workflows waiting in retry backoff are told, so their next attempt does not fire. */
  async function pauseRetrying(webhookId: string): Promise<void> {
    const { rows } = await pool.query(
      `SELECT id FROM deliveries WHERE webhook_id = $1 AND status = 'retrying'`,
      [webhookId],
    );
    await signal(
      rows.map((r) => r.id),
      SignalNames.pause,
    );
  }

  /** Cancels the workflows of a deleted webhook's unfinished deliveries. */
  async function cancelAll(deliveryIds: string[]): Promise<void> {
    await eachLimited(deliveryIds, 32, async (id) => {
      try {
        await client.workflow.getHandle(workflowIds.delivery(id)).cancel();
      } catch (err) {
        if (!(err instanceof WorkflowNotFoundError)) throw err;
      }
    });
  }

  return { start, startOne, releaseHeld, wakeSync, pauseRetrying, cancelAll };
}

export type Dispatcher = ReturnType<typeof createDispatcher>;

export function toRef(r: {
  id: string;
  webhook_id: string;
  application_id: string;
  event_type: string;
}): DeliveryRef {
  return { id: r.id, webhookId: r.webhook_id, applicationId: r.application_id, eventType: r.event_type };
}
