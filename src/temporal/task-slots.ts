import type { CustomSlotSupplier, SlotPermit, WorkflowSlotInfo } from '@temporalio/worker';

/**
 * How many workflow tasks a worker runs at once: as many as it caches (a task in flight needs a
 * cached workflow), at most 100; with no cache (every task replays its history), 100.
 */
export function workflowTaskSlots(cachedWorkflows: number): number {
  return Math.min(100, cachedWorkflows || 100);
}

/**
 * Workflow starts in flight at once for a worker with `workflowTaskSlots` slots: enough to keep the
 * server busy, few enough that each start's call stays short (the slot a start holds is held from
 * its request until its first task has completed, about four times as long as the call).
 */
export function startsInFlight(workflowTaskSlots: number): number {
  return Math.max(2, Math.floor(workflowTaskSlots / 4));
}

/**
 * The worker's workflow task slots, shared by its pollers and its starter's eager starts.
 *
 * The SDK asks the server for a start's first task (eager start) only when the worker can reserve a
 * slot for it at that moment; otherwise the start goes out plain, and the server pays for it with a
 * task-queue write and read, a second history write and a poll (docs/performance.md, "Eager
 * starts"). A starter that only bounds its calls in flight fills the slots whenever the server is
 * slower to complete tasks than to start them, as under any backlog, and a third of the starts went
 * out plain. Here a start waits for a free slot instead (`admitStart`), and holds a claim on it for
 * the length of its call, which polls cannot take; a poll waiting for a slot is served first when
 * one frees, so timers, signals and retries are never starved by new deliveries.
 */
export class WorkflowSlotSupplier implements CustomSlotSupplier<WorkflowSlotInfo> {
  readonly type = 'custom';
  /** Permits out: polls waiting for a task, and tasks running. */
  private used = 0;
  /** Admitted starts whose call has not returned. */
  private starting = 0;
  private readonly waitingPolls: Array<() => void> = [];
  private readonly waitingStarts: Array<() => void> = [];
  private closed = false;

  constructor(readonly size: number) {}

  private free(): number {
    return this.size - this.used - this.starting;
  }

  /** Hands freed room to a waiting poll first, then to waiting starts. */
  private handOut(): void {
    while (this.free() > 0 && this.waitingPolls.length > 0) this.waitingPolls.shift()?.();
    while (
      this.waitingStarts.length > 0 &&
      (this.closed || (this.free() > 0 && this.waitingPolls.length === 0))
    )
      this.waitingStarts.shift()?.();
  }

  async reserveSlot(_ctx: unknown, abortSignal: AbortSignal): Promise<SlotPermit> {
    if (this.free() > 0 && this.waitingPolls.length === 0) {
      this.used++;
      return {};
    }
    return new Promise<SlotPermit>((resolve, reject) => {
      const grant = () => {
        abortSignal.removeEventListener('abort', abort);
        this.used++;
        resolve({});
      };
      const abort = () => {
        this.waitingPolls.splice(this.waitingPolls.indexOf(grant), 1);
        reject(abortSignal.reason);
      };
      this.waitingPolls.push(grant);
      abortSignal.addEventListener('abort', abort, { once: true });
    });
  }

  /** Called for an eager start's first task; an admitted start's claim keeps this below size. */
  tryReserveSlot(): SlotPermit | null {
    if (this.used >= this.size) return null;
    this.used++;
    return {};
  }

  markSlotUsed(): void {}

  releaseSlot(): void {
    this.used--;
    this.handOut();
  }

  /**
   * Resolves once a slot is free for one start, claimed until the returned function is called
   * (when the start's call has returned: its task, if eager, holds a permit of its own by then).
   */
  async admitStart(): Promise<() => void> {
    if (this.closed || (this.free() > 0 && this.waitingPolls.length === 0)) this.starting++;
    else
      await new Promise<void>((resolve) =>
        this.waitingStarts.push(() => {
          this.starting++;
          resolve();
        }),
      );
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.starting--;
      this.handOut();
    };
  }

  /** The worker has stopped: starts wait no longer (each goes out plain, for another worker). */
  close(): void {
    this.closed = true;
    this.handOut();
  }
}
