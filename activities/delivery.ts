import { ApplicationFailure, CancelledFailure, Context } from '@temporalio/activity';
import { failDelivery } from '../src/db/queries/deliveries';
import { insertTestDelivery } from '../src/db/queries/events';
import type { RetrySettings } from '../src/delivery/backoff';
import {
  type AttemptFailedDetails,
  FailureTypes,
  type TestDelivery,
  type ThrottledDetails,
} from '../workflows/shared';
import {
  type AttemptDeps,
  type AttemptResult,
  type AttemptSummary,
  createAttempter,
  isDataError,
} from './attempt';

export type DeliveryActivityDeps = AttemptDeps;

export interface SendInput {
  deliveryId: string;
  /** The calling workflow's id: it owns the delivery (docs/lifecycle.md). Workflows from before owners pass none. */
  owner?: string;
  /** Attempts the delivery may have in all (default: the worker's HERALD_RETRY_MAX_ATTEMPTS). */
  maxAttempts?: number;
  /** The caller's retry policy, for the delay after a failure (default: the worker's). */
  retry?: RetrySettings;
  /**
   * A hold keeps the caller as the owner: a sync waits for its webhook, and so did delivery
   * workflows from before releases (the default when no owner is given). A delivery workflow now
   * gives the delivery up to the webhook's release.
   */
  keepOnHold?: boolean;
  /** A failed attempt hands the delivery over to its own workflow (a sync's attempts). */
  handOverFailures?: boolean;
  /** Run Test: one attempt, sent even while the webhook is paused, answered rather than thrown. */
  test?: { attemptId: string; create?: TestDelivery };
  /** Unused: workflows from before the budget counted attempts themselves and still pass it. */
  attemptOffset?: number;
}

/**
 * What became of one delivery of a sync chunk. `handedOver`: the receiver failed it, and its own
 * workflow retries it (the attempt handed it over through the outbox). Syncs from before got
 * `failed` and started that workflow themselves.
 */
export type SyncOutcome = 'sent' | 'inactive' | 'cancelled' | 'unsent' | 'failed' | 'handedOver';

/**
 * The longest throttle wait a delivery workflow's attempt sleeps through in place, in all: an
 * activity's, and a local activity's, which must end well within its workflow task's timeout (a
 * worker that caches no workflow cannot extend that task, and would run it again and again).
 */
const INLINE_WAIT_MS = { activity: 5_000, local: 1_000 };

export function createDeliveryActivities(deps: DeliveryActivityDeps) {
  const { attemptWhenAllowed } = createAttempter(deps);

  function attemptInput(input: SendInput) {
    return {
      deliveryId: input.deliveryId,
      owner: input.owner ?? null,
      maxAttempts: input.test ? null : (input.maxAttempts ?? deps.retry.maxAttempts),
      retry: input.retry ?? deps.retry,
      keepOnHold: input.keepOnHold ?? input.owner === undefined,
      handOverFailures: input.handOverFailures ?? false,
      testAttemptId: input.test?.attemptId,
    };
  }

  /**
   * One attempt for a workflow: the summary on success (null when it had succeeded before, a
   * repeated run), else a typed failure the workflow acts on (workflows/shared.ts FailureTypes).
   */
  async function sendDelivery(input: SendInput): Promise<AttemptSummary | null> {
    const ctx = Context.current();
    const result = await classified(async () => {
      if (input.test?.create)
        await insertTestDelivery(deps.pool, input.test.create, input.deliveryId, input.owner);
      // A throttle's slot due within INLINE_WAIT_MS is waited for here; a longer wait goes back to the workflow.
      return attemptWhenAllowed(attemptInput(input), {
        heartbeat: () => ctx.heartbeat(),
        cancelled: () => ctx.cancellationSignal.aborted,
        maxWaitMs: ctx.info.isLocal ? INLINE_WAIT_MS.local : INLINE_WAIT_MS.activity,
      });
    });
    if (result.kind === 'succeeded') return result.summary;
    if (result.kind === 'ended' && result.status === 'succeeded') return null;
    if (input.test && (result.kind === 'failed' || result.kind === 'gone')) return result.summary;
    throw failureOf(result, input.handOverFailures ?? false);
  }

  /**
   * A sync's requests at interval 0: one activity sends a chunk of deliveries `concurrency` at a
   * time, so the Temporal server records one activity per chunk instead of one per entity
   * (docs/performance.md). A delivery the receiver fails is handed over to its own workflow
   * (syncs from before owners start it themselves). An inactive or deleted webhook stops the chunk (the rest stays
   * `unsent`). A cancellation (the sync paused or cancelled) stops new requests; the ones under
   * way finish and are recorded first. Herald's own trouble is thrown once every lane has
   * stopped; the retry skips what succeeded meanwhile (the gate says so).
   */
  async function sendSyncChunk(input: {
    deliveryIds: string[];
    concurrency: number;
    owner?: string;
    maxAttempts?: number;
    retry?: RetrySettings;
  }): Promise<SyncOutcome[]> {
    const ctx = Context.current();
    const outcomes: SyncOutcome[] = input.deliveryIds.map(() => 'unsent');
    let next = 0;
    let stop = false;
    let trouble: unknown;
    async function lane(): Promise<void> {
      while (!stop && !ctx.cancellationSignal.aborted && next < input.deliveryIds.length) {
        const i = next++;
        try {
          const handOver = input.owner !== undefined;
          const result = await classified(() =>
            attemptWhenAllowed(
              attemptInput({
                ...input,
                deliveryId: input.deliveryIds[i],
                keepOnHold: true,
                handOverFailures: handOver,
              }),
              { heartbeat: () => ctx.heartbeat(), cancelled: () => ctx.cancellationSignal.aborted },
            ),
          );
          outcomes[i] = syncOutcome(result, handOver);
          if (outcomes[i] === 'inactive' || outcomes[i] === 'cancelled') stop = true;
        } catch (err) {
          stop = true;
          trouble = err;
        }
        ctx.heartbeat();
      }
    }
    await Promise.all(Array.from({ length: Math.min(input.concurrency, input.deliveryIds.length) }, lane));
    if (trouble) throw trouble;
    if (ctx.cancellationSignal.aborted) throw new CancelledFailure('the sync stopped this chunk');
    return outcomes;
  }

  /**
   * After the retry policy gave up, or Herald could not complete the delivery: the delivery is
   * failed with its reason. `disableWebhook` (the receiver's failure; workflows from before say
   * nothing, and meant it) also disables the webhook if it had no success since the delivery's
   * first attempt.
   */
  async function failDeliveryActivity(input: {
    deliveryId: string;
    reason: string;
    disableWebhook?: boolean;
  }): Promise<{ webhookDisabled: boolean }> {
    const disable = input.disableWebhook ?? true;
    const webhookDisabled = await failDelivery(
      deps.pool,
      input.deliveryId,
      disable ? `Failed every retry: ${input.reason}` : input.reason,
      disable
        ? `Disabled after a delivery failed every retry with no success in between: ${input.reason}`
        : null,
    );
    deps.metrics.deliveries.inc({ outcome: 'failed' });
    return { webhookDisabled };
  }

  return { sendDelivery, sendSyncChunk, failDelivery: failDeliveryActivity };
}

/** Herald's own errors as typed failures: data errors are final, anything else is Herald's trouble. */
export async function classified<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof ApplicationFailure) throw err;
    const e = err as Error & { code?: string };
    if (isDataError(e)) {
      throw ApplicationFailure.nonRetryable(
        `The attempt could not be recorded: ${e.message} (SQLSTATE ${e.code})`,
        FailureTypes.dataError,
      );
    }
    throw ApplicationFailure.create({
      type: FailureTypes.heraldUnavailable,
      message: e.message || String(err),
      cause: e instanceof Error ? e : undefined,
    });
  }
}

/**
 * The failure a workflow gets for an attempt that did not succeed. `handOver`: the caller hands
 * failures over (a sync), so a delivery now owned by another workflow is one an earlier run of this
 * attempt failed and handed over, whose own workflow has started since (a lost worker's activity,
 * run again): it counts as handed over, as in a sync chunk (syncOutcome), not as cancelled.
 */
function failureOf(
  result: Exclude<AttemptResult, { kind: 'succeeded' }>,
  handOver: boolean,
): ApplicationFailure {
  // Failed for good before this run: a delivery workflow fails it again (the database keeps the
  // first reason), a sync counts it as handed over.
  if (result.kind === 'ended')
    return noAttemptMade('the delivery had failed already', {
      attemptNumber: result.attemptCount,
      nextRetryDelayMs: 0,
      final: true,
    });
  if (result.kind === 'unrecordable')
    return ApplicationFailure.nonRetryable(result.message, FailureTypes.dataError);
  if (result.kind === 'gone') {
    return ApplicationFailure.create({
      type: FailureTypes.webhookInactive,
      message: 'the endpoint answered 410 Gone',
      nonRetryable: true,
      details: [{ attemptCount: result.summary.attemptNumber }],
    });
  }
  if (result.kind === 'failed') {
    const details: AttemptFailedDetails = {
      attemptNumber: result.attemptNumber,
      nextRetryDelayMs: result.nextRetryDelayMs,
      final: result.final,
    };
    return ApplicationFailure.create({
      type: FailureTypes.attemptFailed,
      message: result.message,
      nonRetryable: result.final,
      nextRetryDelay: result.final ? undefined : result.nextRetryDelayMs,
      // Also as a detail: the workflow waits this long after a failed local attempt, and Temporal's
      // failure converter does not hand nextRetryDelay to workflow code.
      details: [details],
    });
  }
  switch (handOver && result.verdict === 'not-owner' ? 'handed-over' : result.verdict) {
    case 'throttled':
    case 'out-of-turn': {
      const details: ThrottledDetails = { waitMs: result.waitMs };
      return ApplicationFailure.create({
        type: FailureTypes.throttled,
        message:
          result.verdict === 'throttled'
            ? "the webhook's throttle holds it back"
            : 'an older delivery to this strictly ordered webhook has not ended',
        nonRetryable: true,
        details: [details],
      });
    }
    case 'inactive':
      return ApplicationFailure.create({
        type: FailureTypes.webhookInactive,
        message: `webhook is ${result.webhookStatus}`,
        nonRetryable: true,
        details: [{ attemptCount: result.attemptCount }],
      });
    case 'exhausted':
    case 'handed-over':
      return noAttemptMade(
        result.verdict === 'exhausted'
          ? `every allowed attempt was made (${result.attemptCount})`
          : 'the last attempt failed',
        {
          attemptNumber: result.attemptCount,
          nextRetryDelayMs: result.waitMs ?? 0,
          final: result.verdict === 'exhausted',
        },
      );
    default:
      return ApplicationFailure.nonRetryable(
        result.verdict === 'missing'
          ? 'the delivery was not found'
          : result.verdict === 'not-owner'
            ? 'another workflow owns the delivery'
            : 'the delivery was cancelled',
        FailureTypes.deliveryCancelled,
      );
  }
}

/** An earlier attempt's failure, reported by a run that made none: never retried by the activity's policy. */
function noAttemptMade(message: string, details: AttemptFailedDetails): ApplicationFailure {
  return ApplicationFailure.create({
    type: FailureTypes.attemptFailed,
    message,
    nonRetryable: true,
    details: [details],
  });
}

/** A chunk's outcome for one delivery; `handOver` false for syncs from before owners. */
function syncOutcome(result: AttemptResult, handOver: boolean): SyncOutcome {
  switch (result.kind) {
    case 'succeeded':
      return 'sent';
    case 'gone':
      return 'inactive';
    case 'failed':
      return handOver ? 'handedOver' : 'failed';
    case 'unrecordable':
      return 'handedOver'; // failed, with the reason
    case 'ended':
      // An earlier run of this chunk sent it, or handed it over and its own workflow failed it.
      // Syncs from before owners count that as sent: a failure would start its workflow again.
      return result.status === 'failed' && handOver ? 'handedOver' : 'sent';
    default:
      switch (result.verdict) {
        case 'inactive':
          return 'inactive';
        case 'exhausted':
          return handOver ? 'handedOver' : 'failed';
        case 'handed-over':
        case 'not-owner':
          // An earlier run of this chunk's attempt failed it and handed it over.
          return 'handedOver';
        case 'throttled':
        case 'out-of-turn':
          return 'unsent'; // the chunk was stopped while it waited
        default:
          return 'cancelled';
      }
  }
}
