// Workflow-level tests: Herald's real workflow bundle on the shared Temporal dev server (through
// @temporalio/testing), with its activities replaced by functions the test writes. Seconds per rule,
// no database, no HTTP.
import { randomBytes } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import type { HeraldActivities } from '../../activities';
import { installRuntime } from '../../src/temporal/runtime';
import { type AttemptFailedDetails, FailureTypes, type RetryPolicySettings } from '../../workflows/shared';
import { sharedServices } from '../support/stack';

/** The policy of these tests: 100 ms, x2, capped at 1 s, 4 attempts. */
export const RETRY: RetryPolicySettings = {
  initialMs: 100,
  backoff: 2,
  maxIntervalMs: 1_000,
  maxAttempts: 4,
};

export async function testEnvironment(): Promise<TestWorkflowEnvironment> {
  installRuntime();
  return TestWorkflowEnvironment.createFromExistingServer({ address: sharedServices().temporalAddress });
}

/**
 * Runs `fn` with a worker on a task queue of its own, serving the workflow bundle and the given
 * activities (each one the test does not give throws, so an unexpected call shows).
 */
export async function withWorker<T>(
  env: TestWorkflowEnvironment,
  activities: Partial<HeraldActivities>,
  fn: (taskQueue: string) => Promise<T>,
): Promise<T> {
  const taskQueue = `wf-test-${randomBytes(4).toString('hex')}`;
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: { codePath: sharedServices().bundle },
    activities,
    maxHeartbeatThrottleInterval: '100ms',
  });
  return worker.runUntil(fn(taskQueue));
}

/** What the send activity throws when the receiver failed an attempt. */
export function attemptFailed(details: AttemptFailedDetails): ApplicationFailure {
  return ApplicationFailure.create({
    type: FailureTypes.attemptFailed,
    message: 'HTTP 500',
    nonRetryable: details.final,
    nextRetryDelay: details.final ? undefined : details.nextRetryDelayMs,
    details: [details],
  });
}

export const failure = (type: string, message: string, nonRetryable = true) =>
  ApplicationFailure.create({ type, message, nonRetryable });
