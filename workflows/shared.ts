/**
 * Names and shapes shared by workflows, activities and the API. Pure: safe inside the workflow
 * sandbox and free of side effects for everyone else.
 */

/**
 * Failure types the send activities throw and the workflows act on (docs/lifecycle.md):
 * - webhookInactive: the webhook is paused or disabled; the delivery is held.
 * - deliveryCancelled: the delivery was cancelled or its webhook deleted.
 * - attemptFailed: the receiver's failure (an answer other than 2xx, or no answer): retried by the
 *   policy, final (non-retryable) once the delivery has had every allowed attempt.
 * - dataError: a value PostgreSQL can never store (SQLSTATE class 22): never retried.
 * - heraldUnavailable: Herald's own trouble (PostgreSQL unreachable, ...): waited out, within bounds.
 * - throttled: the webhook's rate or in-flight limit, or its strict order, says not yet: no attempt
 *   was made, and the workflow waits without counting one.
 */
export const FailureTypes = {
  webhookInactive: 'WebhookInactive',
  deliveryCancelled: 'DeliveryCancelled',
  attemptFailed: 'AttemptFailed',
  dataError: 'DataError',
  heraldUnavailable: 'HeraldUnavailable',
  throttled: 'Throttled',
} as const;

/** The details of a throttled failure: the webhook's rate or in-flight limit, or its strict order. */
export interface ThrottledDetails {
  /** How long to wait: until the delivery's reserved slot; null when it depends on others (in flight, order). */
  waitMs: number | null;
}

/** The details of an attemptFailed failure. */
export interface AttemptFailedDetails {
  /** The delivery's attempts so far, this one included. */
  attemptNumber: number;
  /** The wait before the next attempt: the policy's delay with jitter, or a longer Retry-After. */
  nextRetryDelayMs: number;
  /** The last allowed attempt. */
  final: boolean;
}

/**
 * Where a delivery's own workflow takes over from attempts made elsewhere: a sync's or a release's
 * failed first attempt, or this workflow's previous run (continue-as-new).
 */
export interface DeliveryContinuation {
  attemptsMade: number;
  /** How long to wait before the next attempt. */
  retryDelayMs: number;
  /** The last attempt's failure, for the reason should no attempt be left. */
  lastError?: string;
  /** When Herald's own trouble began, if it is under way (workflow time, ms). */
  outageSinceMs?: number;
}

export interface RetryPolicySettings {
  initialMs: number;
  backoff: number;
  maxIntervalMs: number;
  maxAttempts: number;
}

export interface DeliveryWorkflowInput {
  deliveryId: string;
  retry: RetryPolicySettings;
  requestTimeoutMs: number;
  /** How long Herald's own trouble is waited out before the delivery fails (workflows from before: unbounded). */
  outageMaxMs?: number;
  continueFrom?: DeliveryContinuation;
}

export interface TestWorkflowInput {
  deliveryId: string;
  attemptId: string;
  requestTimeoutMs: number;
  /** The event and delivery the test's activity writes (tests from before: the API wrote them). */
  create?: TestDelivery;
}

/** A Run Test's event and its one delivery, written by the test workflow's activity. */
export interface TestDelivery {
  eventId: string;
  webhookId: string;
  applicationId: string;
  entity: { type: string; id: string; data: Record<string, unknown> };
}

export type DeliveryOutcome = 'succeeded' | 'failed' | 'cancelled' | 'held';

export const workflowIds = {
  delivery: (deliveryId: string) => `delivery:${deliveryId}`,
  sync: (syncId: string) => `sync:${syncId}`,
  test: (webhookId: string, attemptId: string) => `test:${webhookId}:${attemptId}`,
  release: (webhookId: string) => `release:${webhookId}`,
  recovery: (recoveryId: string) => `recover:${recoveryId}`,
};
