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
  type AttemptFailedDetails,
  type DeliveryOutcome,
  type DeliveryWorkflowInput,
  FailureTypes,
  type TestWorkflowInput,
  type ThrottledDetails,
  workflowIds,
} from './shared';

/**
 * Signals of delivery workflows from before releases, which waited in the hold: the webhook's
 * release resumes them, and (before that) a pause cancelled their wait in backoff.
 */
export const pauseSignal = defineSignal('pause');
export const resumeSignal = defineSignal('resume');

/** Patch id: workflows started before it send their first attempt as a regular activity. */
export const LOCAL_FIRST_ATTEMPT = 'delivery-local-first-attempt';

/** Patch id: workflows started before it fail on whatever failure the retry policy ran out on. */
export const WAIT_OUT_OUTAGES = 'delivery-wait-out-outages';

/**
 * Patch id: workflows started before it wait in the hold for a resume signal, wait out Herald's
 * own trouble without bound and start a fresh retry budget after each wait (legacyDelivery).
 */
export const BOUNDED_LIFECYCLE = 'delivery-bounded-lifecycle';

/** The activity's own failure: wrapped in an ActivityFailure, or bare from a local activity. */
function applicationFailure(err: unknown): ApplicationFailure | undefined {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  return cause instanceof ApplicationFailure ? cause : undefined;
}

function failureType(err: unknown): string | undefined {
  return applicationFailure(err)?.type ?? undefined;
}

function attemptFailed(err: unknown): (AttemptFailedDetails & { message: string }) | undefined {
  const failure = applicationFailure(err);
  if (failure?.type !== FailureTypes.attemptFailed) return undefined;
  return { ...(failure.details?.[0] as AttemptFailedDetails), message: failure.message };
}

function reasonOf(err: unknown): string {
  return err instanceof Error ? ((err.cause as Error | undefined)?.message ?? err.message) : String(err);
}

/** A duration for people, in whole units: 2,600 ms is "2 s". */
function span(ms: number): string {
  if (ms < 1_000) return `${ms} ms`;
  if (ms < 120_000) return `${Math.floor(ms / 1_000)} s`;
  if (ms < 7_200_000) return `${Math.floor(ms / 60_000)} min`;
  return `${Math.floor(ms / 3_600_000)} h`;
}

/** With no HERALD_OUTAGE_MAX_MS in the input (workflows from before it): a day. */
const DEFAULT_OUTAGE_MAX_MS = 24 * 60 * 60 * 1000;

/**
 * One event to one webhook (docs/lifecycle.md). The first attempt runs as a local activity, inside
 * the workflow task: most deliveries succeed at once, and then the Temporal server records one
 * workflow task instead of an activity task and two workflow tasks. When it fails, the rest run as
 * a regular activity whose retry policy gives the backoff (the activity picks each delay: the
 * policy's with jitter, or a longer Retry-After). The delivery has HERALD_RETRY_MAX_ATTEMPTS
 * attempts in all, counted in PostgreSQL, whoever made them.
 *
 * The run ends when the delivery does: succeeded; failed (retries ran out, a value that cannot be
 * stored, or Herald's own trouble for longer than HERALD_OUTAGE_MAX_MS); cancelled; or held (its
 * webhook is paused or disabled): a held delivery belongs to the webhook's release workflow, which
 * sends it after the resume and, should that attempt fail, starts a delivery workflow again with
 * `continueFrom`, as a sync does for its entities.
 *
 * A new workflow type rather than another patch of deliveryWorkflow: it has no old side, so it
 * records no patch marker and no `TemporalChangeVersion` upsert, four history events per delivery
 * that cost the server about 0.7 ms of CPU each time (docs/performance.md).
 */
export async function deliveryWorkflowV2(input: DeliveryWorkflowInput): Promise<DeliveryOutcome> {
  return deliver(input);
}

/**
 * The delivery workflow started until stop 21, kept for the workflows of every earlier version
 * (they replay through its patches) and for a sync from before `sync-owned-sends`, which still
 * starts it as its child (docs/lifecycle.md, "Patches").
 */
export async function deliveryWorkflow(input: DeliveryWorkflowInput): Promise<DeliveryOutcome> {
  const localFirst = patched(LOCAL_FIRST_ATTEMPT);
  if (!patched(BOUNDED_LIFECYCLE)) return legacyDelivery(input, localFirst);
  return deliver(input);
}

/** The lifecycle both delivery workflow types run (every run since BOUNDED_LIFECYCLE). */
async function deliver(input: DeliveryWorkflowInput): Promise<DeliveryOutcome> {
  const { deliveryId, retry } = input;
  const startToCloseTimeout = input.requestTimeoutMs + 10_000;
  const send = {
    deliveryId,
    owner: workflowIds.delivery(deliveryId),
    maxAttempts: retry.maxAttempts,
    retry,
    keepOnHold: false,
  };
  // Only writes the outcome: retried (no maximum) until PostgreSQL takes it, however long that is.
  const { failDelivery } = proxyActivities<HeraldActivities>({
    startToCloseTimeout: '30s',
    retry: { initialInterval: '1s', maximumInterval: '1m' },
  });
  // One try: a worker that dies mid-request fails the workflow task, and the next one runs it again.
  const { sendDelivery: sendLocal } = proxyLocalActivities<HeraldActivities>({
    startToCloseTimeout,
    retry: { maximumAttempts: 1 },
  });
  /** The regular activity for the attempts left: the policy retries the receiver's failures. */
  const sendRest = (attemptsLeft: number) =>
    proxyActivities<HeraldActivities>({
      startToCloseTimeout,
      retry: {
        initialInterval: retry.initialMs,
        backoffCoefficient: retry.backoff,
        maximumInterval: retry.maxIntervalMs,
        maximumAttempts: attemptsLeft,
        nonRetryableErrorTypes: [
          FailureTypes.webhookInactive,
          FailureTypes.deliveryCancelled,
          FailureTypes.dataError,
          FailureTypes.heraldUnavailable,
          FailureTypes.throttled,
        ],
      },
    }).sendDelivery;
  const fail = async (reason: string, disableWebhook: boolean): Promise<DeliveryOutcome> => {
    await failDelivery({ deliveryId, reason, disableWebhook });
    return 'failed';
  };

  const outageMaxMs = input.outageMaxMs ?? DEFAULT_OUTAGE_MAX_MS;
  let made = input.continueFrom?.attemptsMade ?? 0;
  let delayMs = input.continueFrom?.retryDelayMs ?? 0;
  let lastError = input.continueFrom?.lastError ?? 'no attempt succeeded';
  let outageSince = input.continueFrom?.outageSinceMs;
  let outageWaitMs = 1_000;
  let notYetMs = 100;

  for (;;) {
    try {
      if (delayMs > 0) await sleep(delayMs);
      delayMs = 0;
      if (made >= retry.maxAttempts) return await fail(lastError, true);
      if (made === 0) {
        try {
          await sendLocal(send);
          return 'succeeded';
        } catch (err) {
          const failed = attemptFailed(err);
          if (!failed || failed.final) throw err;
          made = failed.attemptNumber;
          lastError = failed.message;
          outageSince = undefined;
          await sleep(failed.nextRetryDelayMs);
        }
      }
      await sendRest(retry.maxAttempts - made)(send);
      return 'succeeded';
    } catch (err) {
      if (isCancellation(err)) throw err;
      const type = failureType(err);
      if (type === FailureTypes.webhookInactive) return 'held';
      if (type === FailureTypes.deliveryCancelled) return 'cancelled';
      if (type === FailureTypes.dataError) return await fail(reasonOf(err), false);
      if (type === FailureTypes.throttled) {
        // No attempt was made: wait for the slot the gate reserved, or (in-flight limit, strict
        // order) a growing while, and try again.
        const waitMs = (applicationFailure(err)?.details?.[0] as ThrottledDetails | undefined)?.waitMs;
        delayMs = waitMs ?? notYetMs;
        notYetMs = Math.min(notYetMs * 2, 5_000);
        continue;
      }
      const failed = attemptFailed(err);
      if (failed) {
        // The policy ran out (or a lost attempt used one of its tries): the count decides.
        made = failed.attemptNumber;
        lastError = failed.message;
        outageSince = undefined;
        if (failed.final || made >= retry.maxAttempts) return await fail(failed.message, true);
        delayMs = failed.nextRetryDelayMs;
        continue;
      }
      // Herald's own trouble (PostgreSQL unreachable, a worker lost mid-attempt): not the
      // receiver's fault, so wait it out, growing the waits to a minute, for at most outageMaxMs.
      outageSince ??= Date.now();
      const down = Date.now() - outageSince;
      if (down >= outageMaxMs) {
        return await fail(
          `Herald could not complete this delivery for ${span(down)}: ${reasonOf(err)}`,
          false,
        );
      }
      await sleep(Math.min(outageWaitMs, outageMaxMs - down));
      outageWaitMs = Math.min(outageWaitMs * 2, 60_000);
      if (workflowInfo().continueAsNewSuggested) {
        await continueAsNew<typeof deliveryWorkflowV2>({
          ...input,
          continueFrom: { attemptsMade: made, retryDelayMs: 0, lastError, outageSinceMs: outageSince },
        });
      }
    }
  }
}

/**
 * Delivery workflows started before BOUNDED_LIFECYCLE, replayed and run on as they were written:
 * they hold in the workflow until a resume signal, a pause signal cancels a wait in backoff, and
 * Herald's own trouble is waited out without bound. Remove once no such workflow runs
 * (docs/lifecycle.md, "Patches").
 */
async function legacyDelivery(input: DeliveryWorkflowInput, localFirst: boolean): Promise<DeliveryOutcome> {
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
  const { failDelivery } = proxyActivities<HeraldActivities>({
    startToCloseTimeout: '30s',
    retry: { initialInterval: '1s', maximumInterval: '1m' },
  });
  const { sendDelivery: sendRetries } = proxyActivities<HeraldActivities>({
    startToCloseTimeout,
    retry: retry(Math.max(1, input.retry.maxAttempts - 1)),
  });
  const { sendDelivery: sendLocal } = proxyLocalActivities<HeraldActivities>({
    startToCloseTimeout,
    retry: { maximumAttempts: 1 },
  });

  async function sendLocalFirst(): Promise<void> {
    try {
      await sendLocal({ deliveryId: input.deliveryId });
      return;
    } catch (err) {
      const type = failureType(err);
      const final = type === FailureTypes.webhookInactive || type === FailureTypes.deliveryCancelled;
      if (isCancellation(err) || final || input.retry.maxAttempts <= 1) throw err;
      const delay = (applicationFailure(err)?.details?.[0] as { nextRetryDelayMs?: unknown } | undefined)
        ?.nextRetryDelayMs;
      await sleep(typeof delay === 'number' ? delay : input.retry.initialMs);
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
        await sleep(Math.min(input.retry.maxIntervalMs, 60_000));
        if (workflowInfo().continueAsNewSuggested) await continueAsNew<typeof deliveryWorkflow>(input);
        continue;
      }
      await failDelivery({ deliveryId: input.deliveryId, reason: reasonOf(err) });
      return 'failed';
    }
  }
}

/**
 * Run Test: one attempt, whatever the webhook's status, answered with what happened. Its activity
 * writes the test's event and delivery first (tests from before: the API had written them).
 */
export async function testWorkflow(input: TestWorkflowInput) {
  const { sendDelivery } = proxyActivities<HeraldActivities>({
    startToCloseTimeout: input.requestTimeoutMs + 5_000,
    retry: { maximumAttempts: 1 },
  });
  return sendDelivery({
    deliveryId: input.deliveryId,
    owner: input.create ? workflowInfo().workflowId : undefined,
    test: { attemptId: input.attemptId, create: input.create },
  });
}
