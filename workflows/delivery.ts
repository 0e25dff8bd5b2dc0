import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  condition,
  continueAsNew,
  defineSignal,
  isCancellation,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import type { HeraldActivities } from '../activities';
import {
  type DeliveryOutcome,
  type DeliveryWorkflowInput,
  FailureTypes,
  SignalNames,
  type TestWorkflowInput,
} from './shared';

export const pauseSignal = defineSignal(SignalNames.pause);
export const resumeSignal = defineSignal(SignalNames.resume);

/** The activity's own failure: wrapped in an ActivityFailure, or bare from a local activity. */
function applicationFailure(err: unknown): ApplicationFailure | undefined {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  return cause instanceof ApplicationFailure ? cause : undefined;
}

function failureType(err: unknown): string | undefined {
  return applicationFailure(err)?.type ?? undefined;
}

/** The delay the send activity chose after a failed attempt (backoff with jitter, or Retry-After). */
function chosenRetryDelayMs(err: unknown): number | undefined {
  const details = applicationFailure(err)?.details;
  const delay = (details?.[0] as { nextRetryDelayMs?: unknown } | undefined)?.nextRetryDelayMs;
  return typeof delay === 'number' ? delay : undefined;
}

/** Patch id: workflows started before it fail on whatever failure the retry policy ran out on. */
export const WAIT_OUT_OUTAGES = 'delivery-wait-out-outages';

/** Patch id: workflows started before the local first attempt replay the way they ran. */
export const LOCAL_FIRST_ATTEMPT = 'delivery-local-first-attempt';

/**
 * One event to one webhook. The first attempt of each pass runs as a local activity, inside the
 * workflow task: most deliveries succeed at once, and then the Temporal server records one
 * workflow task instead of an activity task and two workflow tasks. When it fails, the remaining
 * attempts run as a regular activity whose retry policy gives the backoff (numbered on from 2,
 * so the delays are those of the policy). While the webhook is paused or disabled the workflow
 * holds until a resume signal. A pause signal cancels an attempt waiting in backoff, so it cannot
 * fire; the next pass finds the webhook paused and holds.
 */
export async function deliveryWorkflow(input: DeliveryWorkflowInput): Promise<DeliveryOutcome> {
  const retry = (maximumAttempts: number) => ({
    initialInterval: input.retry.initialMs,
    backoffCoefficient: input.retry.backoff,
    maximumInterval: input.retry.maxIntervalMs,
    maximumAttempts,
    nonRetryableErrorTypes: [FailureTypes.webhookInactive, FailureTypes.deliveryCancelled],
  });
  const startToCloseTimeout = input.requestTimeoutMs + 10_000;
  const { sendDelivery } = proxyActivities<HeraldActivities>({
    startToCloseTimeout,
    retry: retry(input.retry.maxAttempts),
  });
  // Only writes the outcome: retried (no maximum) until PostgreSQL takes it, however long that is.
  const { failDelivery } = proxyActivities<HeraldActivities>({
    startToCloseTimeout: '30s',
    retry: { initialInterval: '1s', maximumInterval: '1m' },
  });
  const { sendDelivery: sendRetries } = proxyActivities<HeraldActivities>({
    startToCloseTimeout,
    retry: retry(Math.max(1, input.retry.maxAttempts - 1)),
  });
  // One try: a worker that dies mid-request fails the workflow task, and the next one runs it again.
  const { sendDelivery: sendLocal } = proxyLocalActivities<HeraldActivities>({
    startToCloseTimeout,
    retry: { maximumAttempts: 1 },
  });
  const localFirst = patched(LOCAL_FIRST_ATTEMPT);

  /** The first attempt locally; after a failure, the policy's delay, then the rest as an activity. */
  async function sendLocalFirst(): Promise<void> {
    try {
      await sendLocal({ deliveryId: input.deliveryId });
      return;
    } catch (err) {
      const type = failureType(err);
      const final = type === FailureTypes.webhookInactive || type === FailureTypes.deliveryCancelled;
      if (isCancellation(err) || final || input.retry.maxAttempts <= 1) throw err;
      await sleep(chosenRetryDelayMs(err) ?? input.retry.initialMs);
    }
    await sendRetries({ deliveryId: input.deliveryId, attemptOffset: 1 });
  }

  let resumed = false;
  let pausedBySignal = false;
  let attemptScope: CancellationScope | undefined;
  setHandler(resumeSignal, () => {
    resumed = true;
  });
  setHandler(pauseSignal, () => {
    pausedBySignal = true;
    attemptScope?.cancel();
  });

  for (;;) {
    resumed = false;
    pausedBySignal = false;
    attemptScope = new CancellationScope();
    try {
      await attemptScope.run(() =>
        localFirst ? sendLocalFirst() : sendDelivery({ deliveryId: input.deliveryId }).then(() => {}),
      );
      return 'succeeded';
    } catch (err) {
      if (isCancellation(err) && pausedBySignal) continue; // the next pass records the hold
      const type = failureType(err);
      if (type === FailureTypes.webhookInactive) {
        await condition(() => resumed);
        continue;
      }
      if (type === FailureTypes.deliveryCancelled) return 'cancelled';
      if (isCancellation(err)) throw err;
      if (type !== FailureTypes.attemptFailed && patched(WAIT_OUT_OUTAGES)) {
        // The retries ran out on Herald's own trouble (PostgreSQL down, a worker lost mid-attempt),
        // not on the receiver's answers: no reason to fail the delivery. Wait, then try again;
        // the delivery's state is in PostgreSQL, so a long outage may continue as new.
        await sleep(Math.min(input.retry.maxIntervalMs, 60_000));
        if (workflowInfo().continueAsNewSuggested) await continueAsNew<typeof deliveryWorkflow>(input);
        continue;
      }
      await failDelivery({
        deliveryId: input.deliveryId,
        reason:
          err instanceof Error ? ((err.cause as Error | undefined)?.message ?? err.message) : String(err),
      });
      return 'failed';
    }
  }
}

/** Run Test: one attempt, whatever the webhook's status, answered with what happened. */
export async function testWorkflow(input: TestWorkflowInput) {
  const { sendDelivery } = proxyActivities<HeraldActivities>({
    startToCloseTimeout: input.requestTimeoutMs + 5_000,
    retry: { maximumAttempts: 1 },
  });
  return sendDelivery({ deliveryId: input.deliveryId, test: { attemptId: input.attemptId } });
}
