import { Context } from '@temporalio/activity';
import { adoptHeld, deliveryEnded, heldDeliveries, holdReleased } from '../src/db/queries/deliveries';
import { activeSyncOf } from '../src/db/queries/syncs';
import type { RetrySettings } from '../src/delivery/backoff';
import type { DeliveryContinuation } from '../workflows/shared';
import { type AttemptDeps, createAttempter } from './attempt';
import { classified } from './delivery';

export type ReleaseActivityDeps = AttemptDeps;

/** What the release did with one delivery. */
export type ReleaseOutcome =
  | { id: string; outcome: 'sent' }
  /** The receiver failed it: its attempt handed it over to its own delivery workflow, backoff kept. */
  | { id: string; outcome: 'handedOver' }
  /**
   * Strict order: the receiver failed it, and nothing after it may start before it ends: the
   * release runs its delivery workflow from here (`continueFrom`) and waits for it.
   */
  | { id: string; outcome: 'awaiting'; continueFrom: DeliveryContinuation }
  /** Its workflow from before releases waits in the hold for a resume signal. */
  | { id: string; outcome: 'legacy' }
  /** Cancelled or ended meanwhile: nothing to do. */
  | { id: string; outcome: 'skipped' };

export interface ReleaseBatch {
  outcomes: ReleaseOutcome[];
  /** The last delivery looked at, where the next batch starts; null when none was left. */
  last: string | null;
  /** The webhook is paused or disabled again: the release stops (the next resume starts another). */
  stopped?: 'inactive';
}

export function createReleaseActivities(deps: ReleaseActivityDeps) {
  const { attemptWhenAllowed } = createAttempter(deps);

  /**
   * The webhook's next deliveries that its release sends, one at a time in published (id) order,
   * so the receiver sees them in that order: held ones after a resume and, for a webhook whose
   * ordering is strict, every new one too (the workers' starter hands them to the release).
   * Each attempt goes through the same gate as any send: the webhook paused again stops the batch
   * there, and throttles are waited out here. One the receiver fails is handed over to its own
   * workflow through the outbox (with the backoff its attempt chose); in strict order the batch
   * stops at it instead (`awaiting`): the release waits for that delivery to end. A heartbeat
   * after each; a retried batch resends what a lost attempt left `sending`.
   */
  async function sendHeldDeliveries(input: {
    webhookId: string;
    owner: string;
    after: string;
    limit: number;
    maxAttempts: number;
    retry: RetrySettings;
  }): Promise<ReleaseBatch> {
    const ctx = Context.current();
    const { rows, strict } = await classified(() =>
      heldDeliveries(deps.pool, input.webhookId, input.owner, input.after, input.limit),
    );
    const outcomes: ReleaseOutcome[] = [];
    for (const row of rows) {
      if (row.legacy) {
        outcomes.push({ id: row.id, outcome: 'legacy' });
        continue;
      }
      if (row.awaiting) {
        // A strict release's failed attempt whose workflow the release had not started (it was lost).
        outcomes.push({ id: row.id, outcome: 'awaiting', continueFrom: row.awaiting });
        return { outcomes, last: row.id };
      }
      const result = await classified(() =>
        attemptWhenAllowed(
          {
            deliveryId: row.id,
            owner: input.owner,
            maxAttempts: input.maxAttempts,
            retry: input.retry,
            keepOnHold: false,
            handOverFailures: !strict,
          },
          { heartbeat: () => ctx.heartbeat(row.id), cancelled: () => ctx.cancellationSignal.aborted },
        ),
      );
      ctx.heartbeat(row.id);
      if (result.kind === 'succeeded') outcomes.push({ id: row.id, outcome: 'sent' });
      else if (result.kind === 'failed' && strict) {
        const continueFrom = {
          attemptsMade: result.attemptNumber,
          retryDelayMs: result.nextRetryDelayMs,
          lastError: result.message,
        };
        outcomes.push({ id: row.id, outcome: 'awaiting', continueFrom });
        return { outcomes, last: row.id };
      } else if (result.kind === 'failed') outcomes.push({ id: row.id, outcome: 'handedOver' });
      else if (result.kind === 'gone' || (result.kind === 'stopped' && result.verdict === 'inactive')) {
        await classified(() => holdReleased(deps.pool, input.webhookId, input.owner));
        return { outcomes, last: row.id, stopped: 'inactive' };
      } else if (
        result.kind === 'stopped' &&
        (result.verdict === 'throttled' || result.verdict === 'out-of-turn')
      )
        return { outcomes, last: outcomes.at(-1)?.id ?? input.after }; // cancelled while it waited
      else outcomes.push({ id: row.id, outcome: 'skipped' });
    }
    return { outcomes, last: rows.at(-1)?.id ?? null };
  }

  /** The webhook's active sync, which a resume wakes if it waits for the webhook. */
  async function activeSyncOfWebhook(input: { webhookId: string }): Promise<string | null> {
    return (await classified(() => activeSyncOf(deps.pool, input.webhookId)))?.id ?? null;
  }

  /** Held deliveries whose workflow from before releases is gone: the release sends them itself. */
  async function adoptHeldDeliveries(input: { deliveryIds: string[] }): Promise<void> {
    await classified(() => adoptHeld(deps.pool, input.deliveryIds));
  }

  /** Whether a delivery's workflow (one the release could not start as its child) has ended it. */
  async function deliveryHasEnded(input: { deliveryId: string }): Promise<boolean> {
    return classified(() => deliveryEnded(deps.pool, input.deliveryId));
  }

  return { sendHeldDeliveries, activeSyncOfWebhook, adoptHeldDeliveries, deliveryHasEnded };
}
