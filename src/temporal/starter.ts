import { type Client, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { WorkflowIdReusePolicy } from '@temporalio/common';
import { deliveryWorkflowV2 } from '../../workflows/delivery';
import { type RecoveryWorkflowInput, recoveryWorkflow } from '../../workflows/recovery';
import { type ReleaseWorkflowInput, releaseRequestedSignal, releaseWorkflow } from '../../workflows/release';
import { workflowIds } from '../../workflows/shared';
import { type SyncWorkflowInput, syncWorkflow } from '../../workflows/sync';
import type { Config } from '../config';
import type { Pool, PoolClient } from '../db/pool';
import {
  claimDeliveriesToStart,
  type DeliveryToStart,
  handToReleases,
  markWorkflowsStarted,
  WORKFLOWS_TO_START_CHANNEL,
} from '../db/queries/deliveries';
import { claimOutbox, deleteOutboxEntries, type OutboxEntry } from '../db/queries/outbox';
import type { Logger } from '../logger';
import { searchAttributes } from './search-attributes';
import type { DeliveriesInFlight } from './task-slots';

/** Rows claimed per round trip. */
const CLAIM_BATCH = 64;
/** A claimed row another worker may take over once this long has passed without a start. */
const LEASE_SECONDS = 10;
/** How often an idle starter looks without being woken (a missed notification, a lapsed lease). */
const POLL_MS = 1_000;

/**
 * Each call to the server gets this long. The SDK sets no deadline of its own, and a call that
 * never answered would hold its whole batch (a round waits for every entry): this one fails
 * instead, and its row or entry is tried again when its claim lapses.
 */
const CALL_DEADLINE_MS = 5_000;

/** Outbox entries started at once: a few, since each is a call to the server and they are rare. */
const OUTBOX_STARTS_IN_FLIGHT = 8;

/**
 * Runs fn over items with at most `limit` in flight, in order of start; an item that fails does
 * not stop the others. Resolves with the last failure, if any (the failed items' claims lapse).
 */
async function eachLimited<T>(
  items: T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<Error | undefined> {
  let next = 0;
  let failed: Error | undefined;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]).catch((err: Error) => (failed = err));
  });
  await Promise.all(lanes);
  return failed;
}

/** A loop's sleep between rounds, cut short by a notification that came during or after the round. */
class Wakeup {
  private woken = false;
  private cut: () => void = () => {};

  reset(): void {
    this.woken = false;
  }

  notify(): void {
    this.woken = true;
    this.cut();
  }

  async sleep(ms: number): Promise<void> {
    if (this.woken) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.cut = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.cut = () => {};
  }
}

/** Starting a workflow that exists already is harmless: false when it did. */
async function started(start: Promise<unknown>): Promise<boolean> {
  try {
    await start;
    return true;
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return false;
    throw err;
  }
}

/**
 * The one place Herald starts workflows from PostgreSQL, inside each worker (docs/lifecycle.md):
 * - new deliveries: the API commits an event with its deliveries and answers 202; a trigger
 *   NOTIFYs, and this loop claims the rows (a lease: a worker that dies midway loses nothing),
 *   starts `delivery:<id>` with eager start, so the server answers with the first workflow task
 *   for this very worker (no matching, no poll, one history write fewer: docs/performance.md),
 *   and marks the rows owned by their workflow;
 * - handed-over deliveries: a sync's or release's attempt failed, and the delivery's own workflow
 *   goes on from there (`continueFrom`: the attempts made, the backoff that attempt chose);
 * - the workflow outbox: a sync to start (`sync:<id>`), a recovery (`recover:<id>`), a resume's
 *   release to start or signal (`release:<webhookId>`), committed by the API with the request's
 *   own rows.
 * Workflow inputs take this worker's configuration (retry policy, timeouts, limits).
 */
export function startWorkflowStarter(deps: {
  pool: Pool;
  /** A client on the worker's own connection: eager start needs the worker to share it. */
  client: Client;
  config: Config;
  logger: Logger;
  /** False once the worker is shutting down: a start would hand it a task it cannot take. */
  accepting: () => boolean;
  /** The places of new deliveries under way, which bound the starts (task-slots.ts). */
  inFlight: DeliveriesInFlight;
}): { stop(): Promise<void> } {
  const { client, config } = deps;
  /** A call to the server that fails after CALL_DEADLINE_MS. */
  const call = <R>(fn: () => Promise<R>): Promise<R> =>
    client.withDeadline(Date.now() + CALL_DEADLINE_MS, fn);
  const taskQueue = config.temporal.taskQueue;
  let stopped = false;
  // The deliveries' loop and the outbox's: one notification channel wakes both.
  const wakeUps = { deliveries: new Wakeup(), outbox: new Wakeup() };

  let listener: PoolClient | undefined;
  let connecting: Promise<void> | undefined;
  /** One LISTEN connection for both loops, opened again on a later round after it fails. */
  function listen(): Promise<void> {
    if (listener || stopped) return Promise.resolve();
    connecting ??= (async () => {
      const c = await deps.pool.connect();
      c.on('notification', () => {
        for (const w of Object.values(wakeUps)) w.notify();
      });
      c.once('error', () => {
        // Polling covers the gap.
        if (listener === c) listener = undefined;
        c.release(true);
      });
      await c.query(`LISTEN ${WORKFLOWS_TO_START_CHANNEL}`);
      listener = c;
    })().finally(() => {
      connecting = undefined;
    });
    return connecting;
  }

  /** A new delivery first takes a place among those under way, given back if it did not start. */
  async function startDelivery(row: DeliveryToStart): Promise<boolean> {
    const workflowId = workflowIds.delivery(row.id);
    if (!row.handedOver) await deps.inFlight.take(workflowId);
    const start = started(
      call(() =>
        client.workflow.start(deliveryWorkflowV2, {
          workflowId,
          taskQueue,
          // A new delivery: a second start (a lapsed claim) is refused, and harmless. A handed-over
          // one may have had a run that ended when it held the delivery; its gate makes a second
          // start after this one ended harmless too.
          workflowIdReusePolicy: row.handedOver
            ? WorkflowIdReusePolicy.ALLOW_DUPLICATE
            : WorkflowIdReusePolicy.REJECT_DUPLICATE,
          args: [
            {
              deliveryId: row.id,
              retry: config.retry,
              requestTimeoutMs: config.requestTimeoutMs,
              outageMaxMs: config.outageMaxMs,
              continueFrom: row.handedOver,
            },
          ],
          typedSearchAttributes: [
            { key: searchAttributes.applicationId, value: row.applicationId },
            { key: searchAttributes.webhookId, value: row.webhookId },
            { key: searchAttributes.eventType, value: row.eventType },
          ],
          requestEagerStart: true,
        }),
      ),
    );
    const ok = await start.catch((err) => {
      deps.inFlight.giveBack(workflowId);
      throw err;
    });
    if (!ok) deps.inFlight.giveBack(workflowId);
    return ok;
  }

  /** One release per webhook: a resume, or deliveries to hand on in strict order, while it runs make it look again. */
  function signalRelease(payload: Pick<ReleaseWorkflowInput, 'webhookId' | 'applicationId'>) {
    return call(() =>
      client.workflow.signalWithStart(releaseWorkflow, {
        workflowId: workflowIds.release(payload.webhookId),
        taskQueue,
        signal: releaseRequestedSignal,
        args: [{ ...payload, retry: config.retry, requestTimeoutMs: config.requestTimeoutMs }],
        typedSearchAttributes: [
          { key: searchAttributes.applicationId, value: payload.applicationId },
          { key: searchAttributes.webhookId, value: payload.webhookId },
        ],
      }),
    );
  }

  async function runEntry(entry: OutboxEntry): Promise<void> {
    if (entry.kind === 'sync') {
      const payload = entry.payload as Pick<SyncWorkflowInput, 'scope' | 'intervalMs'>;
      await started(
        call(() =>
          client.workflow.start(syncWorkflow, {
            workflowId: entry.workflowId,
            taskQueue,
            workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
            args: [
              {
                ...payload,
                concurrency: config.syncConcurrency,
                retry: config.retry,
                requestTimeoutMs: config.requestTimeoutMs,
                historyLimit: config.syncHistoryLimit,
              },
            ],
            typedSearchAttributes: [
              { key: searchAttributes.applicationId, value: payload.scope.applicationId },
              { key: searchAttributes.webhookId, value: payload.scope.webhookId },
            ],
          }),
        ),
      );
    } else if (entry.kind === 'recovery') {
      const payload = entry.payload as { scope: RecoveryWorkflowInput['scope']; applicationId: string };
      await started(
        call(() =>
          client.workflow.start(recoveryWorkflow, {
            workflowId: entry.workflowId,
            taskQueue,
            workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
            args: [{ scope: payload.scope }],
            typedSearchAttributes: [
              { key: searchAttributes.applicationId, value: payload.applicationId },
              { key: searchAttributes.webhookId, value: payload.scope.webhookId },
            ],
          }),
        ),
      );
    } else {
      await signalRelease(entry.payload as Pick<ReleaseWorkflowInput, 'webhookId' | 'applicationId'>);
    }
  }

  /**
   * One batch of new and handed-over deliveries; true when it was full (more may wait). A new
   * delivery waits here for a place among those under way (task-slots.ts).
   */
  async function startDeliveries(): Promise<boolean> {
    const deliveries = await claimDeliveriesToStart(deps.pool, CLAIM_BATCH, LEASE_SECONDS);
    const startedIds: string[] = [];
    const handedOn: string[] = [];
    // Strictly ordered webhooks' deliveries go to each webhook's release, one signal per webhook.
    const strictByWebhook = new Map<string, DeliveryToStart[]>();
    for (const d of deliveries.filter((d) => d.strict))
      strictByWebhook.set(d.webhookId, [...(strictByWebhook.get(d.webhookId) ?? []), d]);
    const work = [...deliveries.filter((d) => !d.strict), ...strictByWebhook.values()];
    const failed = await eachLimited(work, deps.inFlight.limit, async (item) => {
      if (Array.isArray(item)) {
        await signalRelease({ webhookId: item[0].webhookId, applicationId: item[0].applicationId });
        handedOn.push(...item.map((d) => d.id));
      } else {
        await startDelivery(item);
        startedIds.push(item.id);
      }
    });
    if (startedIds.length > 0) await markWorkflowsStarted(deps.pool, startedIds);
    if (handedOn.length > 0) await handToReleases(deps.pool, handedOn);
    warnIfFailed(failed, deliveries.length - startedIds.length - handedOn.length);
    return deliveries.length === CLAIM_BATCH;
  }

  /** One batch of the workflow outbox; true when it was full. */
  async function startOutboxEntries(): Promise<boolean> {
    const entries = await claimOutbox(deps.pool, CLAIM_BATCH, LEASE_SECONDS);
    const doneEntries: string[] = [];
    const failed = await eachLimited(entries, OUTBOX_STARTS_IN_FLIGHT, async (entry) => {
      await runEntry(entry);
      doneEntries.push(entry.id);
    });
    await deleteOutboxEntries(deps.pool, doneEntries);
    warnIfFailed(failed, entries.length - doneEntries.length);
    return entries.length === CLAIM_BATCH;
  }

  function warnIfFailed(err: Error | undefined, failed: number): void {
    if (err)
      deps.logger.warn(
        { failed, err: err.message },
        'workflow starts failed; retried when their claim lapses',
      );
  }

  /**
   * Runs batches until one is not full, then sleeps until a notification or POLL_MS. The
   * deliveries and the outbox each have a loop of their own, so that a sync, a recovery or a
   * release never waits behind new deliveries waiting for a place (a slow receiver holds each
   * place up to its request timeout).
   */
  async function loop(startBatch: () => Promise<boolean>, wakeUp: Wakeup): Promise<void> {
    while (!stopped && deps.accepting()) {
      wakeUp.reset();
      try {
        await listen();
        if (await startBatch()) continue;
      } catch (err) {
        deps.logger.warn({ err: (err as Error).message }, 'starting workflows failed; retrying');
      }
      if (!stopped) await wakeUp.sleep(POLL_MS);
    }
  }
  const running = Promise.all([
    loop(startDeliveries, wakeUps.deliveries),
    loop(startOutboxEntries, wakeUps.outbox),
  ]);

  return {
    async stop() {
      stopped = true;
      for (const w of Object.values(wakeUps)) w.notify();
      await running;
      listener?.release();
      listener = undefined;
    },
  };
}
