import {
  ActivityFailure,
  ApplicationFailure,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  ParentClosePolicy,
  patched,
  proxyActivities,
  setHandler,
  sleep,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import type { HeraldActivities } from '../activities';
import type { SyncCursor, SyncProgress, SyncScope } from '../activities/sync';
import { deliveryWorkflow } from './delivery';
import { FailureTypes, type RetryPolicySettings, SignalNames, workflowIds } from './shared';

export interface SyncWorkflowInput {
  scope: SyncScope;
  intervalMs: number;
  concurrency: number;
  retry: RetryPolicySettings;
  requestTimeoutMs: number;
  /** Continue as new once the history holds this many events (lower in tests). */
  historyLimit?: number;
  /** Carried across continue-as-new. */
  state?: {
    after: SyncCursor | null;
    index: number;
    sent: number;
    failed: number;
    total: number;
    paused: boolean;
  };
}

export const syncPauseSignal = defineSignal(SignalNames.pause);
export const syncResumeSignal = defineSignal(SignalNames.resume);
export const syncCancelSignal = defineSignal(SignalNames.cancel);
/** Sent by the API when the webhook is resumed, so a sync waiting on it goes on at once. */
export const webhookResumedSignal = defineSignal('webhookResumed');
export const progressQuery = defineQuery<SyncProgress & { index: number }>('progress');

const DEFAULT_HISTORY_LIMIT = 10_000;

/** Patch id: syncs started before it send one activity per entity at interval 0, as they ran. */
export const CHUNKED_SENDS = 'sync-chunked-sends';

/** At interval 0, deliveries per chunk activity, in multiples of the sync's concurrency. */
const CHUNK_ROUNDS = 4;

function failureType(err: unknown): string | undefined {
  return err instanceof ActivityFailure && err.cause instanceof ApplicationFailure
    ? (err.cause.type ?? undefined)
    : undefined;
}

/**
 * A full sync of everything the application may see, one `<type>.sync` request per entity. Pages
 * come from Postgres in keyset order; consecutive requests start at least `intervalMs` apart
 * (a workflow timer), or with interval 0 run `concurrency` at a time. A request that fails is
 * handed to a delivery workflow, which retries it by the delivery rules, and counts as failed
 * here. Pause, resume and cancel are signals; progress is a query, mirrored into Postgres.
 */
export async function syncWorkflow(input: SyncWorkflowInput): Promise<SyncProgress> {
  const { countSyncEntities, prepareSyncPage, recordSyncProgress } = proxyActivities<HeraldActivities>({
    startToCloseTimeout: '60s',
    retry: { initialInterval: '1s', maximumInterval: '30s' },
  });
  const { sendDelivery } = proxyActivities<HeraldActivities>({
    startToCloseTimeout: input.requestTimeoutMs + 10_000,
    // A receiver's failure is not retried here: the request is handed to its own delivery workflow
    // and the sync moves on. Only a lost attempt (a worker died mid-request) is tried again.
    retry: {
      maximumAttempts: 3,
      nonRetryableErrorTypes: [
        FailureTypes.attemptFailed,
        FailureTypes.webhookInactive,
        FailureTypes.deliveryCancelled,
      ],
    },
  });

  const { sendSyncChunk } = proxyActivities<HeraldActivities>({
    // Each lane heartbeats after every request; a lost worker is noticed within one request's time.
    heartbeatTimeout: input.requestTimeoutMs + 10_000,
    startToCloseTimeout: CHUNK_ROUNDS * (input.requestTimeoutMs + 10_000),
    retry: { maximumAttempts: 3 },
  });

  const state = input.state ?? {
    after: null,
    index: 0,
    sent: 0,
    failed: 0,
    total: await countSyncEntities(input.scope),
    paused: false,
  };
  let cancelled = false;
  let waiting = false;
  let webhookResumed = false;
  const status = (): SyncProgress['status'] =>
    cancelled ? 'cancelled' : state.paused ? 'paused' : waiting ? 'waiting' : 'running';
  const progress = (): SyncProgress => ({
    syncId: input.scope.syncId,
    status: status(),
    total: Math.max(state.total, state.index),
    sent: state.sent,
    failed: state.failed,
  });

  setHandler(syncPauseSignal, () => {
    state.paused = true;
  });
  setHandler(syncResumeSignal, () => {
    state.paused = false;
  });
  setHandler(syncCancelSignal, () => {
    cancelled = true;
  });
  setHandler(webhookResumedSignal, () => {
    webhookResumed = true;
  });
  setHandler(progressQuery, () => ({ ...progress(), index: state.index }));

  /** Blocks while the sync is paused, mirroring the pause into Postgres. */
  async function whilePaused(): Promise<void> {
    if (!state.paused || cancelled) return;
    await recordSyncProgress(progress());
    await condition(() => !state.paused || cancelled);
    if (!cancelled) await recordSyncProgress(progress());
  }

  /** The webhook is paused or disabled: waits (bounded) for it to be resumed. */
  async function waitForWebhook(waitMs: number): Promise<void> {
    waiting = true;
    webhookResumed = false;
    await recordSyncProgress(progress());
    await condition(() => webhookResumed || cancelled, waitMs);
    waiting = false;
  }

  /** A request the receiver failed: counted here, and retried by a delivery workflow of its own. */
  async function handOver(deliveryId: string): Promise<void> {
    state.failed++;
    await startChild(deliveryWorkflow, {
      workflowId: workflowIds.delivery(deliveryId),
      args: [{ deliveryId, retry: input.retry, requestTimeoutMs: input.requestTimeoutMs }],
      parentClosePolicy: ParentClosePolicy.ABANDON,
    });
  }

  /** Sends one entity; returns the time its request started, or undefined when none did. */
  async function sendOne(deliveryId: string): Promise<number | undefined> {
    for (let waitMs = 1_000; ; waitMs = Math.min(waitMs * 2, 60_000)) {
      await whilePaused();
      if (cancelled) return undefined;
      try {
        const attempt = await sendDelivery({ deliveryId });
        state.sent++;
        return attempt ? Date.parse(attempt.startedAt) : undefined;
      } catch (err) {
        const type = failureType(err);
        if (type === FailureTypes.webhookInactive) {
          // Wait for the webhook, then send this entity again.
          await waitForWebhook(waitMs);
          continue;
        }
        if (type === FailureTypes.deliveryCancelled) {
          cancelled = true; // the webhook was deleted
          return undefined;
        }
        await handOver(deliveryId);
        return Date.now();
      }
    }
  }

  /** Interval 0: sends the deliveries in chunk activities, `concurrency` requests at a time. */
  async function sendChunked(deliveryIds: string[]): Promise<void> {
    const chunkSize = input.concurrency * CHUNK_ROUNDS;
    for (let from = 0; from < deliveryIds.length && !cancelled; from += chunkSize) {
      let pending = deliveryIds.slice(from, from + chunkSize);
      for (let waitMs = 1_000; pending.length > 0; waitMs = Math.min(waitMs * 2, 60_000)) {
        await whilePaused();
        if (cancelled) return;
        const outcomes = await sendSyncChunk({ deliveryIds: pending, concurrency: input.concurrency });
        const again: string[] = [];
        for (const [i, outcome] of outcomes.entries()) {
          if (outcome === 'sent') state.sent++;
          else if (outcome === 'failed') await handOver(pending[i]);
          else if (outcome === 'cancelled')
            cancelled = true; // the webhook was deleted
          else again.push(pending[i]); // not sent because the webhook is not active: again later
        }
        if (cancelled) return;
        if (again.length > 0) await waitForWebhook(waitMs);
        pending = again;
      }
    }
  }

  // Pages are sized so progress reaches Postgres about once a second at the chosen interval.
  const pageSize =
    input.intervalMs > 0 ? Math.max(1, Math.min(100, Math.ceil(1_000 / input.intervalMs))) : 100;
  const historyLimit = input.historyLimit ?? DEFAULT_HISTORY_LIMIT;

  while (!cancelled) {
    await whilePaused();
    if (cancelled) break;
    const page = await prepareSyncPage({
      scope: input.scope,
      after: state.after,
      firstIndex: state.index,
      limit: pageSize,
      progress: progress(),
    });
    if (page.deliveryIds.length === 0) break;

    if (input.intervalMs > 0) {
      for (const id of page.deliveryIds) {
        if (cancelled) break;
        // The interval's timer runs while this request is sent, so pacing costs no extra round trip.
        const pacing = sleep(input.intervalMs);
        const startedAt = await sendOne(id);
        await pacing;
        // The timer began just before the request did: top up so the next request starts a full
        // interval after this one actually started.
        const rest = startedAt === undefined ? 0 : startedAt + input.intervalMs - Date.now();
        if (rest > 0) await sleep(rest);
        state.index++;
      }
    } else if (patched(CHUNKED_SENDS)) {
      await sendChunked(page.deliveryIds);
      state.index += page.deliveryIds.length;
    } else {
      let next = 0;
      const lanes = Array.from({ length: Math.min(input.concurrency, page.deliveryIds.length) }, async () => {
        while (next < page.deliveryIds.length && !cancelled) await sendOne(page.deliveryIds[next++]);
      });
      await Promise.all(lanes);
      state.index += page.deliveryIds.length;
    }
    state.after = page.last;

    const info = workflowInfo();
    if (!cancelled && (info.historyLength >= historyLimit || info.continueAsNewSuggested)) {
      await continueAsNew<typeof syncWorkflow>({ ...input, state });
    }
  }

  const final: SyncProgress = { ...progress(), status: cancelled ? 'cancelled' : 'completed' };
  await recordSyncProgress(final);
  return final;
}
