import { proxyActivities } from '@temporalio/workflow';
import type { HeraldActivities } from '../activities';
import type { PurgeResult } from '../activities/retention';

export interface RetentionWorkflowInput {
  retentionDays: number;
  batchSize?: number;
}

/**
 * One retention pass, started by the `herald-retention` schedule (src/temporal/schedules.ts): the
 * activity purges in small batches and heartbeats between them, so a pass over a large backlog
 * may take long without holding anything for long.
 */
export async function retentionWorkflow(input: RetentionWorkflowInput): Promise<PurgeResult> {
  const { purgeExpired } = proxyActivities<HeraldActivities>({
    startToCloseTimeout: '1h',
    heartbeatTimeout: '2m',
    retry: { initialInterval: '10s', maximumInterval: '5m', maximumAttempts: 5 },
  });
  return purgeExpired({ retentionDays: input.retentionDays, batchSize: input.batchSize ?? 1_000 });
}
