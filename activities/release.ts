import { Context } from '@temporalio/activity';
import { adoptHeld, heldDeliveries } from '../src/db/queries/deliveries';
import { activeSyncOf } from '../src/db/queries/syncs';
import type { RetrySettings } from '../src/delivery/backoff';
import { type AttemptDeps, createAttempter } from './attempt';
import { classified } from './delivery';

export type ReleaseActivityDeps = AttemptDeps;

/** What the release did with one held delivery. */
export type ReleaseOutcome =
  | { id: string; outcome: 'sent' }
  /** The receiver failed it: its attempt handed it over to its own delivery workflow, backoff kept. */
  | { id: string; outcome: 'handedOver' }
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
  const { attempt } = createAttempter(deps);

  /**
   * The next held deliveries of a webhook, sent one at a time in published (id) order, so the
   * receiver sees them in that order. Each one's attempt goes through the same gate as any send:
   * the webhook paused again stops the batch there. One the receiver fails is handed over to its
   * own workflow through the outbox (the workers' starter starts it with the backoff that attempt
   * chose). A heartbeat after each; a retried batch resends what a lost attempt left `sending`.
   */
  async function sendHeldDeliveries(input: {
    webhookId: string;
    owner: string;
    after: string;
    limit: number;
    maxAttempts: number;
    retry: RetrySettings;
  }): Promise<ReleaseBatch> {
    const rows = await classified(() =>
      heldDeliveries(deps.pool, input.webhookId, input.owner, input.after, input.limit),
    );
    const outcomes: ReleaseOutcome[] = [];
    for (const row of rows) {
      if (row.legacy) {
        outcomes.push({ id: row.id, outcome: 'legacy' });
        continue;
      }
      const result = await classified(() =>
        attempt({
          deliveryId: row.id,
          owner: input.owner,
          maxAttempts: input.maxAttempts,
          retry: input.retry,
          keepOnHold: false,
          handOverFailures: true,
        }),
      );
      Context.current().heartbeat(row.id);
      if (result.kind === 'succeeded') outcomes.push({ id: row.id, outcome: 'sent' });
      else if (result.kind === 'failed') outcomes.push({ id: row.id, outcome: 'handedOver' });
      else if (result.kind === 'gone' || (result.kind === 'stopped' && result.verdict === 'inactive'))
        return { outcomes, last: row.id, stopped: 'inactive' };
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

  return { sendHeldDeliveries, activeSyncOfWebhook, adoptHeldDeliveries };
}
