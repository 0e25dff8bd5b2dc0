import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  condition,
  defineSignal,
  isCancellation,
  proxyActivities,
  setHandler,
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

function failureType(err: unknown): string | undefined {
  return err instanceof ActivityFailure && err.cause instanceof ApplicationFailure
    ? (err.cause.type ?? undefined)
    : undefined;
}

/**
 * One event to one webhook. The send activity's retry policy gives the backoff; while the webhook
 * is paused or disabled the workflow holds until a resume signal. A pause signal cancels an
 * attempt waiting in backoff, so it cannot fire; the next pass finds the webhook paused and holds.
 */
export async function deliveryWorkflow(input: DeliveryWorkflowInput): Promise<DeliveryOutcome> {
  const { sendDelivery, failDelivery } = proxyActivities<HeraldActivities>({
    startToCloseTimeout: input.requestTimeoutMs + 10_000,
    retry: {
      initialInterval: input.retry.initialMs,
      backoffCoefficient: input.retry.backoff,
      maximumInterval: input.retry.maxIntervalMs,
      maximumAttempts: input.retry.maxAttempts,
      nonRetryableErrorTypes: [FailureTypes.webhookInactive, FailureTypes.deliveryCancelled],
    },
  });

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
      await attemptScope.run(() => sendDelivery({ deliveryId: input.deliveryId }));
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
