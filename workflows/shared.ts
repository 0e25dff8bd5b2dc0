/**
 * Names and shapes shared by workflows, activities and the API. Pure: safe inside the workflow
 * sandbox and free of side effects for everyone else.
 */

/** Failure types the workflows act on; every other activity failure is retried by the policy. */
export const FailureTypes = {
  webhookInactive: 'WebhookInactive',
  deliveryCancelled: 'DeliveryCancelled',
  attemptFailed: 'AttemptFailed',
} as const;

export const SignalNames = {
  pause: 'pause',
  resume: 'resume',
  cancel: 'cancel',
} as const;

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
}

export interface TestWorkflowInput {
  deliveryId: string;
  attemptId: string;
  requestTimeoutMs: number;
}

export type DeliveryOutcome = 'succeeded' | 'failed' | 'cancelled';

export const workflowIds = {
  delivery: (deliveryId: string) => `delivery:${deliveryId}`,
  sync: (syncId: string) => `sync:${syncId}`,
  test: (webhookId: string, attemptId: string) => `test:${webhookId}:${attemptId}`,
};
