import type { Client, WorkflowHandle } from '@temporalio/client';
import type { HeraldActivities } from '../../activities';

type History = Awaited<ReturnType<WorkflowHandle['fetchHistory']>>;
export type HistoryEvent = NonNullable<History['events']>[number];

/**
 * Every event of a workflow, all its runs in order: from the latest run back along each run's
 * `continuedExecutionRunId` (a sync continues as new), so no visibility listing is waited for.
 */
export async function historyOfAllRuns(client: Client, workflowId: string): Promise<HistoryEvent[]> {
  const runs: HistoryEvent[][] = [];
  for (let runId: string | undefined; ; ) {
    const events = (await client.workflow.getHandle(workflowId, runId).fetchHistory()).events ?? [];
    runs.unshift(events);
    runId = events[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId || undefined;
    if (!runId) return runs.flat();
  }
}

/** The index of the first event at or after `from` that `match` accepts (-1 when none does). */
export function indexOf(events: HistoryEvent[], match: (e: HistoryEvent) => boolean, from = 0): number {
  const i = events.slice(from).findIndex(match);
  return i < 0 ? -1 : from + i;
}

/** An update of this name accepted by the workflow. */
export const updateAccepted = (name: string) => (e: HistoryEvent) =>
  e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name === name;

/** An activity of this type scheduled. */
export const activityScheduled = (type: keyof HeraldActivities) => (e: HistoryEvent) =>
  e.activityTaskScheduledEventAttributes?.activityType?.name === type;

/** Whether the activity scheduled at `scheduledAt` has ended (completed, failed or timed out) since. */
export function activityEnded(events: HistoryEvent[], scheduledAt: number): boolean {
  const id = String(events[scheduledAt].eventId);
  return events.slice(scheduledAt + 1).some((e) => {
    const ended =
      e.activityTaskCompletedEventAttributes ??
      e.activityTaskFailedEventAttributes ??
      e.activityTaskTimedOutEventAttributes;
    return ended != null && String(ended.scheduledEventId) === id;
  });
}
