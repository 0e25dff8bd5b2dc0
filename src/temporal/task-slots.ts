/**
 * How many workflow tasks a worker runs at once: as many as it caches (a task in flight needs a
 * cached workflow), at most 100; with no cache (every task replays its history), 100.
 */
export function workflowTaskSlots(cachedWorkflows: number): number {
  return Math.min(100, cachedWorkflows || 100);
}

/**
 * Workflow starts in flight at once for a worker with `workflowTaskSlots` slots. The server hands
 * a start its first task eagerly only while the worker has a slot free, and each start holds one
 * from its request until its task has completed, about four times as long as the start call
 * itself. Starts beyond that are declined eager, and each declined one costs the server a
 * task-queue round trip, a history read and a second write (docs/performance.md, "Eager starts").
 */
export function startsInFlight(workflowTaskSlots: number): number {
  return Math.max(2, Math.floor(workflowTaskSlots / 4));
}
