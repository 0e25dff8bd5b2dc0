import type { ActivityInterceptorsFactory } from '@temporalio/worker';

/**
 * How many workflow tasks a worker runs at once: as many as it caches (a task in flight needs a
 * cached workflow), at most 100; with no cache (every task replays its history), 100.
 */
export function workflowTaskSlots(cachedWorkflows: number): number {
  return Math.min(100, cachedWorkflows || 100);
}

/**
 * New deliveries a worker has under way at once, from the start call to the end of the first
 * attempt: a quarter of its workflow task slots. The server hands a start its first task eagerly
 * only while the worker has a slot free, and each such delivery holds one until its first task
 * has completed (docs/performance.md, "Eager starts").
 */
export function startsInFlight(workflowTaskSlots: number): number {
  return Math.max(2, Math.floor(workflowTaskSlots / 4));
}

/**
 * The places of the new deliveries under way in this worker (startsInFlight). The starter takes
 * one before it starts a delivery's workflow; the delivery's first attempt, a local activity in
 * the task the start handed back, gives it back when it ends (`giveBackOnFirstAttempt`, an
 * activity interceptor). Bounding these, and not only the start calls, keeps the starter from
 * starting workflows faster than the server completes them: when it did, the started ones held
 * every slot, later starts went out without the eager flag, and their tasks, queued at the server,
 * took each slot that came free, so the share of eager starts fell for as long as the backlog
 * lasted. A place whose attempt runs elsewhere (a task that was not eager, polled by another
 * worker) is given back after `expireMs`.
 */
export class DeliveriesInFlight {
  private readonly held = new Map<string, NodeJS.Timeout>();
  private waiting: (() => void)[] = [];
  private closed = false;

  constructor(
    readonly limit: number,
    private readonly expireMs: number,
  ) {}

  /** Resolves once `workflowId` holds a place; rejects once the worker is shutting down. */
  async take(workflowId: string): Promise<void> {
    while (!this.closed && this.held.size >= this.limit) {
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
    if (this.closed) throw new Error('the worker is shutting down');
    this.held.set(
      workflowId,
      setTimeout(() => this.giveBack(workflowId), this.expireMs),
    );
  }

  giveBack(workflowId: string): void {
    const timer = this.held.get(workflowId);
    if (!timer) return;
    clearTimeout(timer);
    this.held.delete(workflowId);
    this.waiting.shift()?.();
  }

  /** Worker shutdown: starts waiting for a place give up (their rows are started again later). */
  close(): void {
    this.closed = true;
    for (const timer of this.held.values()) clearTimeout(timer);
    this.held.clear();
    for (const resolve of this.waiting.splice(0)) resolve();
  }

  /** Every local activity's end gives back its workflow's place, if it holds one. */
  readonly giveBackOnFirstAttempt: ActivityInterceptorsFactory = (ctx) => ({
    inbound: {
      execute: async (input, next) => {
        try {
          return await next(input);
        } finally {
          const workflowId = ctx.info.workflowExecution?.workflowId;
          if (ctx.info.isLocal && workflowId) this.giveBack(workflowId);
        }
      },
    },
  });
}
