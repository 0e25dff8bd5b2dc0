// The delivery workflow's rules, with the send and fail activities replaced (test/workflows/harness.ts).
import { activityInfo } from '@temporalio/activity';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { SendInput } from '../../activities';
import {
  BOUNDED_LIFECYCLE,
  deliveryWorkflow,
  deliveryWorkflowV2,
  LOCAL_FIRST_ATTEMPT,
} from '../../workflows/delivery';
import { type DeliveryWorkflowInput, FailureTypes } from '../../workflows/shared';
import { attemptFailed, failure, RETRY, testEnvironment, withWorker } from './harness';

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await testEnvironment();
});
afterAll(async () => {
  await env?.teardown();
});

interface Call {
  at: number;
  local: boolean;
  input: SendInput;
}

/**
 * Runs one delivery workflow (the starter's type unless told) against a scripted send activity;
 * returns its outcome, what it did and its history's events.
 */
async function run(
  send: (call: number, input: SendInput) => unknown,
  input: Partial<DeliveryWorkflowInput> = {},
  workflow: typeof deliveryWorkflowV2 = deliveryWorkflowV2,
) {
  const calls: Call[] = [];
  const failed: { reason: string; disableWebhook?: boolean }[] = [];
  const started = Date.now();
  const workflowId = `delivery:dlv_wf_${Math.random().toString(36).slice(2)}`;
  const outcome = await withWorker(
    env,
    {
      async sendDelivery(i: SendInput) {
        calls.push({ at: Date.now() - started, local: activityInfo().isLocal, input: i });
        return send(calls.length, i) as never;
      },
      async failDelivery(i: { reason: string; disableWebhook?: boolean }) {
        failed.push(i);
        return { webhookDisabled: false };
      },
    },
    (taskQueue) =>
      env.client.workflow.execute(workflow, {
        taskQueue,
        workflowId,
        args: [{ deliveryId: 'dlv_test', retry: RETRY, requestTimeoutMs: 2_000, ...input }],
      }),
  );
  const elapsed = Date.now() - started;
  const { events } = await env.client.workflow.getHandle(workflowId).fetchHistory();
  return { outcome, calls, failed, elapsed, events: events ?? [] };
}

/** The patch ids a history's markers carry (the SDK names them core_patch), in order. */
function patchMarkers(events: Awaited<ReturnType<typeof run>>['events']): string[] {
  return events
    .filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_patch')
    .map((e) => {
      const payload = e.markerRecordedEventAttributes?.details?.['patch-data']?.payloads?.[0];
      return JSON.parse(Buffer.from(payload?.data ?? []).toString('utf8')).id;
    });
}

test('the starter’s type records no patch marker and no search-attribute upsert; deliveryWorkflow, the same delivery, a marker and an upsert per patch', async () => {
  const v2 = await run(() => null);
  const v1 = await run(() => null, {}, deliveryWorkflow);
  expect([v1.outcome, v2.outcome]).toEqual(['succeeded', 'succeeded']);
  expect([v1.calls.length, v2.calls.length]).toEqual([1, 1]);
  const upserts = (events: typeof v1.events) =>
    events.filter((e) => e.upsertWorkflowSearchAttributesEventAttributes).length;
  expect([patchMarkers(v2.events), upserts(v2.events)]).toEqual([[], 0]);
  expect([patchMarkers(v1.events), upserts(v1.events)]).toEqual([
    [LOCAL_FIRST_ATTEMPT, BOUNDED_LIFECYCLE],
    2,
  ]);
  expect(v1.events.length - v2.events.length).toBe(4);
});

test('a success at once: one local attempt, sent as the delivery own workflow with the budget', async () => {
  const { outcome, calls } = await run(() => null);
  expect(outcome).toBe('succeeded');
  expect(calls).toHaveLength(1);
  expect(calls[0].local).toBe(true);
  expect(calls[0].input).toMatchObject({ owner: 'delivery:dlv_test', maxAttempts: 4, keepOnHold: false });
});

test("the receiver's failures: every allowed attempt, each after the delay the attempt chose, then failed and the webhook's fate decided", async () => {
  const { outcome, calls, failed } = await run((n) => {
    throw attemptFailed({ attemptNumber: n, nextRetryDelayMs: 150 * n, final: n === 4 });
  });
  expect(outcome).toBe('failed');
  expect(calls.map((c) => c.local)).toEqual([true, false, false, false]);
  const gaps = calls.slice(1).map((c, i) => c.at - calls[i].at);
  gaps.forEach((gap, i) => {
    expect(gap).toBeGreaterThanOrEqual(150 * (i + 1) * 0.95);
  });
  expect(failed).toEqual([{ deliveryId: 'dlv_test', reason: 'HTTP 500', disableWebhook: true }]);
});

test('a hold ends the run: the delivery is the release workflow’s from then on', async () => {
  const { outcome, calls, failed } = await run(() => {
    throw failure(FailureTypes.webhookInactive, 'webhook is paused');
  });
  expect(outcome).toBe('held');
  expect(calls).toHaveLength(1);
  expect(failed).toEqual([]);
});

test('a hand-over keeps the backoff and the budget: the next attempt waits the delay, as a regular activity, with the attempts left', async () => {
  const { outcome, calls } = await run(
    (n) => {
      throw attemptFailed({ attemptNumber: 2 + n, nextRetryDelayMs: 50, final: 2 + n === 4 });
    },
    { continueFrom: { attemptsMade: 2, retryDelayMs: 400, lastError: 'HTTP 500' } },
  );
  expect(outcome).toBe('failed');
  expect(calls).toHaveLength(2); // attempts 3 and 4 of 4
  expect(calls[0].at).toBeGreaterThanOrEqual(400);
  expect(calls.every((c) => !c.local)).toBe(true);
});

test('a hand-over with no attempt left fails the delivery with the last error, sending nothing', async () => {
  const { outcome, calls, failed } = await run(() => null, {
    continueFrom: { attemptsMade: 4, retryDelayMs: 0, lastError: 'HTTP 503' },
  });
  expect(outcome).toBe('failed');
  expect(calls).toEqual([]);
  expect(failed).toEqual([{ deliveryId: 'dlv_test', reason: 'HTTP 503', disableWebhook: true }]);
});

test("Herald's own trouble is waited out, the waits growing, for at most outageMaxMs; then failed with the reason, the webhook left alone", async () => {
  const { outcome, calls, failed, elapsed } = await run(
    () => {
      throw failure(FailureTypes.heraldUnavailable, 'connect ECONNREFUSED', false);
    },
    { outageMaxMs: 8_000 },
  );
  expect(outcome).toBe('failed');
  expect(elapsed).toBeGreaterThanOrEqual(8_000);
  // Waits of 1 s, 2 s and 4 s, each cut to what is left of the bound: a bound far above the first
  // two waits keeps them whole however slowly a busy machine runs the attempts between them.
  const gaps = calls.slice(1).map((c, i) => c.at - calls[i].at);
  expect(gaps[0]).toBeGreaterThanOrEqual(950);
  expect(gaps[1]).toBeGreaterThanOrEqual(1_900);
  expect(failed).toHaveLength(1);
  expect(failed[0]).toMatchObject({ disableWebhook: false });
  const [, seconds] = /^Herald could not complete this delivery for (\d+) s: connect ECONNREFUSED$/.exec(
    failed[0].reason,
  ) ?? [undefined, '0'];
  expect(Number(seconds)).toBeGreaterThanOrEqual(8);
});

test('an outage that ends lets the delivery go on with the attempts it had', async () => {
  const { outcome, calls } = await run((n) => {
    if (n === 1) throw attemptFailed({ attemptNumber: 1, nextRetryDelayMs: 50, final: false });
    if (n === 2) throw failure(FailureTypes.heraldUnavailable, 'database down', false);
    return null;
  });
  expect(outcome).toBe('succeeded');
  expect(calls.map((c) => c.local)).toEqual([true, false, false]);
  expect(calls[2].at - calls[1].at).toBeGreaterThanOrEqual(950); // the first outage wait
});

test('a value that can never be stored fails the delivery at once, without disabling the webhook', async () => {
  const { outcome, calls, failed } = await run(() => {
    throw failure(
      FailureTypes.dataError,
      'The attempt could not be recorded: value too long (SQLSTATE 22001)',
    );
  });
  expect(outcome).toBe('failed');
  expect(calls).toHaveLength(1);
  expect(failed).toEqual([
    {
      deliveryId: 'dlv_test',
      reason: 'The attempt could not be recorded: value too long (SQLSTATE 22001)',
      disableWebhook: false,
    },
  ]);
});

test('a cancelled delivery (its webhook deleted) ends cancelled', async () => {
  const { outcome } = await run(() => {
    throw failure(FailureTypes.deliveryCancelled, 'the delivery was cancelled');
  });
  expect(outcome).toBe('cancelled');
});
