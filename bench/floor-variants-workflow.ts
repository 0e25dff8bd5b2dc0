import { proxyLocalActivities } from '@temporalio/workflow';
import type { RetrySettings } from '../src/delivery/backoff';

/**
 * bench/floor-variants.ts: the floor's workflow with a delivery workflow's input and local
 * activity result (workflows/delivery.ts): an input of ids and settings rather than the body,
 * and the attempt's summary as the local activity's result, recorded in its marker.
 */
export interface ShapedInput {
  deliveryId: string;
  retry: RetrySettings;
  requestTimeoutMs: number;
  outageMaxMs: number;
  /** Whether the local activity returns the attempt's summary (else null). */
  summary: boolean;
}

interface ShapedActivities {
  sendShaped(input: {
    deliveryId: string;
    owner: string;
    maxAttempts: number;
    summary: boolean;
  }): Promise<unknown>;
}
const { sendShaped } = proxyLocalActivities<ShapedActivities>({
  startToCloseTimeout: '30s',
  retry: { maximumAttempts: 1 },
});

export async function shapedWorkflow(input: ShapedInput): Promise<string> {
  await sendShaped({
    deliveryId: input.deliveryId,
    owner: `delivery:${input.deliveryId}`,
    maxAttempts: input.retry.maxAttempts,
    summary: input.summary,
  });
  return 'succeeded';
}

export { floorWorkflow } from './floor-workflow';
