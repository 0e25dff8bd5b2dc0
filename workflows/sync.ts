import {
  ActivityCancellationType,
  ActivityFailure,
  ApplicationFailure,
  allHandlersFinished,
  CancellationScope,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  defineUpdate,
  isCancellation,
  ParentClosePolicy,
  patched,
  proxyActivities,
  setHandler,
  sleep,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import type { HeraldActivities, SyncOutcome } from '../activities';
import type { SyncCursor, SyncProgress, SyncScope } from '../activities/sync';
import { deliveryWorkflow } from './delivery';
import { FailureTypes, type RetryPolicySettings, type ThrottledDetails, workflowIds } from './shared';

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
    revision?: number;
  };
}

/** Pause, resume and cancel: each answers with the progress it leads to, once PostgreSQL has it. */
export const pauseSyncUpdate = defineUpdate<SyncProgress>('pauseSync');
export const resumeSyncUpdate = defineUpdate<SyncProgress>('resumeSync');
/** Answers once the sync has stopped: nothing of it is sent after the answer. */
export const cancelSyncUpdate = defineUpdate<SyncProgress>('cancelSync');
/** Sent by the webhook's release (workflows/release.ts) on resume, so a waiting sync goes on at once. */
export const webhookResumedSignal = defineSignal('webhookResumed');
export const progressQuery = defineQuery<SyncProgress & { index: number }>('progress');
/** Syncs from before updates were paused, resumed and cancelled by these signals. */
export const syncPauseSignal = defineSignal('pause');
export const syncResumeSignal = defineSignal('resume');
export const syncCancelSignal = defineSignal('cancel');

const DEFAULT_HISTORY_LIMIT = 10_000;

/** Patch id: syncs started before it send one activity per entity at interval 0, as they ran. */
export const CHUNKED_SENDS = 'sync-chunked-sends';

/** Patch id: syncs started before it leave their unsent deliveries as they are when cancelled. */
export const CANCEL_UNSENT = 'sync-cancel-unsent';

/**
 * Patch id: syncs started before it send without owning their deliveries and start a failed
 * entity's delivery workflow themselves (a child, at once). Since, they own what they send, and a
 * failed attempt hands the delivery over through the outbox, its backoff kept.
 */
export const OWNED_SENDS = 'sync-owned-sends';

/**
 * Patch id: syncs started before it sleep out the interval between requests and a throttle's
 * wait even once cancelled, so a cancel of a sync paced at minutes answered minutes later. Since,
 * a cancel cuts those waits short.
 */
export const CANCEL_CUTS_WAITS = 'sync-cancel-cuts-waits';

/** At interval 0, deliveries per chunk activity, in multiples of the sync's concurrency. */
const CHUNK_ROUNDS = 4;

function failure(err: unknown): ApplicationFailure | undefined {
  return err instanceof ActivityFailure && err.cause instanceof ApplicationFailure ? err.cause : undefined;
}

/**
 * A full sync of everything the application may see, one `<type>.sync` request per entity
 * (docs/lifecycle.md). Pages come from PostgreSQL in keyset order; consecutive requests start at
 * least `intervalMs` apart (a workflow timer), or with interval 0 run `concurrency` at a time in
 * chunk activities. A request the receiver fails is handed to the delivery's own workflow, with
 * the backoff and the attempt it had, and counts as failed here. The workflow is the only writer
 * of the sync's status after the API created it: pause, resume and cancel are updates, progress
 * is mirrored into PostgreSQL (and readable as a query).
 */
export async function syncWorkflow(input: SyncWorkflowInput): Promise<SyncProgress> {
  const { countSyncEntities, prepareSyncPage, recordSyncProgress, cancelUnsentSyncDeliveries } =
    proxyActivities<HeraldActivities>({
      startToCloseTimeout: '60s',
      retry: { initialInterval: '1s', maximumInterval: '30s' },
    });
  const { sendDelivery } = proxyActivities<HeraldActivities>({
    startToCloseTimeout: input.requestTimeoutMs + 10_000,
    // A receiver's failure is not retried here: the request is handed to its own delivery workflow
    // and the sync moves on. Herald's own trouble (and a lost attempt) is tried again.
    retry: {
      maximumInterval: '1m',
      nonRetryableErrorTypes: [
        FailureTypes.attemptFailed,
        FailureTypes.webhookInactive,
        FailureTypes.deliveryCancelled,
        FailureTypes.dataError,
        FailureTypes.throttled,
      ],
    },
  });
  const { sendSyncChunk } = proxyActivities<HeraldActivities>({
    // Each lane heartbeats after every request; a lost worker is noticed within one request's time.
    heartbeatTimeout: input.requestTimeoutMs + 10_000,
    startToCloseTimeout: CHUNK_ROUNDS * (input.requestTimeoutMs + 10_000),
    // A pause or cancel waits for the requests under way to finish and be recorded.
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: { maximumInterval: '1m' },
  });
  const owned = patched(OWNED_SENDS);
  const cancelCutsWaits = patched(CANCEL_CUTS_WAITS);
  const sendAs = owned
    ? {
        owner: workflowIds.sync(input.scope.syncId),
        maxAttempts: input.retry.maxAttempts,
        retry: input.retry,
        handOverFailures: true,
      }
    : {};

  const state = input.state ?? { after: null, index: 0, sent: 0, failed: 0, total: 0, paused: false };
  let revision = state.revision ?? 0;
  let cancelled = false;
  let waiting = false;
  let webhookResumed = false;
  let finished: SyncProgress | undefined;
  /** The chunk activity under way: a pause or cancel stops it (and says so: a resume may follow at once). */
  let chunk: { scope: CancellationScope; stopped: boolean } | undefined;
  const stopChunk = () => {
    if (!chunk) return;
    chunk.stopped = true;
    chunk.scope.cancel();
  };
  const status = (): SyncProgress['status'] =>
    cancelled ? 'cancelled' : state.paused ? 'paused' : waiting ? 'waiting' : 'running';
  const progress = (): SyncProgress => ({
    syncId: input.scope.syncId,
    status: status(),
    total: Math.max(state.total, state.index),
    sent: state.sent,
    failed: state.failed,
    revision,
  });
  /** Progress to write to PostgreSQL: each write gets the next revision (never a query: replay must count the same). */
  const stamped = (): SyncProgress => ({ ...progress(), revision: ++revision });
  const mirror = async (): Promise<SyncProgress> => {
    const p = stamped();
    await recordSyncProgress(p);
    return p;
  };

  const ifRunning = () => {
    if (finished) throw new Error(`the sync is ${finished.status}`);
  };
  setHandler(
    pauseSyncUpdate,
    async () => {
      state.paused = true;
      stopChunk();
      return mirror();
    },
    { validator: ifRunning },
  );
  setHandler(
    resumeSyncUpdate,
    async () => {
      state.paused = false;
      return mirror();
    },
    { validator: ifRunning },
  );
  setHandler(
    cancelSyncUpdate,
    async () => {
      cancelled = true;
      stopChunk();
      await condition(() => finished !== undefined);
      return finished!;
    },
    { validator: ifRunning },
  );
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
  /** A timer that a cancel ends early. */
  const wait = async (ms: number): Promise<void> => {
    if (cancelCutsWaits) await condition(() => cancelled, ms);
    else await sleep(ms);
  };
  // Counted once the handlers are set, so a pause asked for at once is not refused.
  if (!input.state) state.total = await countSyncEntities(input.scope);

  /** Blocks while the sync is paused, mirroring the pause into PostgreSQL. */
  async function whilePaused(): Promise<void> {
    if (!state.paused || cancelled) return;
    await recordSyncProgress(stamped());
    await condition(() => !state.paused || cancelled);
    if (!cancelled) await recordSyncProgress(stamped());
  }

  /** The webhook is paused or disabled: waits (bounded) for it to be resumed. */
  async function waitForWebhook(waitMs: number): Promise<void> {
    waiting = true;
    webhookResumed = false;
    await recordSyncProgress(stamped());
    await condition(() => webhookResumed || cancelled, waitMs);
    waiting = false;
  }

  /**
   * A request the receiver failed: counted here, and retried by a delivery workflow of its own.
   * The failed attempt handed it over (the workers' starter starts that workflow with the backoff
   * the attempt chose); syncs from before OWNED_SENDS start it here, as a child.
   */
  async function handOver(deliveryId: string): Promise<void> {
    state.failed++;
    if (owned) return;
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
        const attempt = await sendDelivery({ deliveryId, ...sendAs, keepOnHold: true });
        state.sent++;
        return attempt ? Date.parse(attempt.startedAt) : undefined;
      } catch (err) {
        const type = failure(err)?.type;
        if (type === FailureTypes.webhookInactive) {
          // Wait for the webhook, then send this entity again.
          await waitForWebhook(waitMs);
          continue;
        }
        if (type === FailureTypes.deliveryCancelled) {
          cancelled = true; // the webhook was deleted
          return undefined;
        }
        if (type === FailureTypes.throttled) {
          // The webhook's throttle: wait for the slot the gate reserved (or a while) and send again.
          const slotMs = (failure(err)?.details?.[0] as ThrottledDetails | undefined)?.waitMs;
          await wait(slotMs ?? 500);
          continue;
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
        let outcomes: SyncOutcome[];
        const current = { scope: new CancellationScope(), stopped: false };
        chunk = current;
        try {
          outcomes = await current.scope.run(() =>
            sendSyncChunk({ deliveryIds: pending, concurrency: input.concurrency, ...sendAs }),
          );
        } catch (err) {
          // Stopped by a pause or cancel once its requests under way were recorded: the next run
          // of this chunk sends the rest (the gate skips what was sent).
          if (isCancellation(err) && current.stopped) continue;
          throw err;
        } finally {
          chunk = undefined;
        }
        const again: string[] = [];
        for (const [i, outcome] of outcomes.entries()) {
          if (outcome === 'sent') state.sent++;
          else if (outcome === 'failed' || outcome === 'handedOver') await handOver(pending[i]);
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

  // Pages are sized so progress reaches PostgreSQL about once a second at the chosen interval.
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
      progress: stamped(),
    });
    if (page.deliveryIds.length === 0) break;

    if (input.intervalMs > 0) {
      for (const id of page.deliveryIds) {
        if (cancelled) break;
        // The interval's timer runs while this request is sent, so pacing costs no extra round trip.
        const pacing = wait(input.intervalMs);
        const startedAt = await sendOne(id);
        await pacing;
        // The timer began just before the request did: top up so the next request starts a full
        // interval after this one actually started.
        const rest = startedAt === undefined ? 0 : startedAt + input.intervalMs - Date.now();
        if (rest > 0) await wait(rest);
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
      await condition(allHandlersFinished);
      await continueAsNew<typeof syncWorkflow>({ ...input, state: { ...state, revision } });
    }
  }

  if (cancelled && patched(CANCEL_UNSENT)) await cancelUnsentSyncDeliveries({ syncId: input.scope.syncId });
  const final: SyncProgress = { ...stamped(), status: cancelled ? 'cancelled' : 'completed' };
  await recordSyncProgress(final);
  finished = final;
  await condition(allHandlersFinished);
  return final;
}
