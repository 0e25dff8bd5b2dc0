import { type Client, ScheduleAlreadyRunning, ScheduleOverlapPolicy } from '@temporalio/client';
import type { RetentionWorkflowInput, retentionWorkflow } from '../../workflows/retention';
import type { Config } from '../config';
import type { Logger } from '../logger';

export const RETENTION_SCHEDULE_ID = 'herald-retention';

/**
 * Makes sure the retention schedule exists: every API process calls this at start, so the first
 * creates it and the others find it (ScheduleAlreadyRunning) and only bring its action in line
 * with their configuration, should HERALD_RETENTION_DAYS or the task queue have changed. Hourly
 * passes keep each one small; an overlapping pass is skipped.
 */
export async function ensureRetentionSchedule(client: Client, config: Config, logger: Logger): Promise<void> {
  const args: [RetentionWorkflowInput] = [{ retentionDays: config.retentionDays }];
  const action = {
    type: 'startWorkflow' as const,
    workflowType: 'retentionWorkflow',
    workflowId: RETENTION_SCHEDULE_ID,
    taskQueue: config.temporal.taskQueue,
    args,
  };
  try {
    await client.schedule.create<typeof retentionWorkflow>({
      scheduleId: RETENTION_SCHEDULE_ID,
      spec: { intervals: [{ every: '1h' }] },
      action,
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1h' },
    });
    logger.info({ retentionDays: config.retentionDays }, 'retention schedule created');
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
    const handle = client.schedule.getHandle(RETENTION_SCHEDULE_ID);
    const current = (await handle.describe()).action;
    const same =
      current.type === 'startWorkflow' &&
      current.taskQueue === action.taskQueue &&
      JSON.stringify(current.args) === JSON.stringify(args);
    if (same) return;
    await handle.update<typeof retentionWorkflow>((previous) => ({ ...previous, action }));
    logger.info({ retentionDays: config.retentionDays }, 'retention schedule updated');
  }
}
