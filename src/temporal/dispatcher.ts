import { type Client, WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/client';
import { WorkflowIdReusePolicy } from '@temporalio/common';
import type { deliveryWorkflow } from '../../workflows/delivery';
import { SignalNames, workflowIds } from '../../workflows/shared';
import type { Config } from '../config';
import type { Pool } from '../db/pool';
import { releaseForStart } from '../db/queries/deliveries';
import { activeSyncOf } from '../db/queries/syncs';
import type { Logger } from '../logger';
import { searchAttributes } from './search-attributes';

/**
 * Workflow starts and signals in flight at once. Releases go oldest first, so a delivery can
 * overtake at most this many older ones.
 */
export const RELEASE_WINDOW = 16;

export interface DeliveryRef {
  id: string;
  webhookId: string;
  applicationId: string;
  eventType: string;
}

/** Runs fn over items with at most `limit` in flight, in order of start. */
export async function eachLimited<T>(
  items: T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]);
  });
  await Promise.all(lanes);
}

/**
 * Starts a delivery's workflow with the contract's id and REJECT_DUPLICATE, so starting it twice
 * (two processes racing) is harmless: false when it existed already. `eager` asks the server to
 * hand the first workflow task straight back, to a worker sharing the client's connection.
 */
export async function startDeliveryWorkflow(
  client: Client,
  config: Config,
  d: DeliveryRef,
  opts: { eager?: boolean } = {},
): Promise<boolean> {
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
      requestEagerStart: opts.eager,
    });
    return true;
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    return false;
  }
}

/**
 * The API's side of delivery workflows: releases after a resume, pause and cancel signals, the
 * sync's wake-up. New deliveries are started by the workers (src/temporal/starter.ts).
 */
export function createDispatcher(deps: { client: Client; pool: Pool; config: Config; logger: Logger }) {
  const { client, pool, config } = deps;

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
   * in the hold get the resume signal, deliveries created while the webhook was inactive are
   * released to the workers' starter (src/temporal/starter.ts), and the next wave goes once this
   * one's requests have started (the send activity moves a delivery out of `held` as it sends). A crash midway loses nothing: the recovery loop releases
   * whatever is still held.
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
        `SELECT id, workflow_started FROM deliveries
          WHERE webhook_id = $1 AND status = 'held' AND id > $2
          ORDER BY id LIMIT $3`,
        [webhookId, after, RELEASE_WINDOW],
      );
      if (rows.length === 0) return released;
      const toSignal = rows.filter((r) => r.workflow_started).map((r) => r.id as string);
      const toStart = rows.filter((r) => !r.workflow_started).map((r) => r.id as string);
      await Promise.all([signal(toSignal, SignalNames.resume), releaseForStart(pool, toStart)]);
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

  return { releaseHeld, wakeSync, pauseRetrying, cancelAll };
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
