import { Context } from '@temporalio/activity';
import type { Pool } from '../src/db/pool';
import { type EventCursor, purgeDeliveryBatch, purgeEventBatch } from '../src/db/queries/retention';
import type { Logger } from '../src/logger';

export interface RetentionActivityDeps {
  pool: Pool;
  logger: Logger;
  now?: () => Date;
}

export interface PurgeInput {
  retentionDays: number;
  /** Rows per statement: small enough that each one holds its locks only briefly. */
  batchSize: number;
}

export interface PurgeResult {
  cutoff: string;
  deliveries: number;
  attempts: number;
  events: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;

export function createRetentionActivities(deps: RetentionActivityDeps) {
  const now = deps.now ?? (() => new Date());

  /**
   * Purges finished deliveries (with their attempts) whose last change is older than the retention
   * period, then events older than it that no delivery refers to any more. Batch by batch, each its
   * own statement and transaction; a heartbeat after each, so a long purge stays alive and a
   * retried one starts over harmlessly (what is gone stays gone).
   */
  async function purgeExpired(input: PurgeInput): Promise<PurgeResult> {
    const cutoff = new Date(now().getTime() - input.retentionDays * DAY_MS);
    const result: PurgeResult = { cutoff: cutoff.toISOString(), deliveries: 0, attempts: 0, events: 0 };
    const heartbeat = () => Context.current().heartbeat(result);
    for (;;) {
      const batch = await purgeDeliveryBatch(deps.pool, cutoff, input.batchSize);
      result.deliveries += batch.deliveries;
      result.attempts += batch.attempts;
      heartbeat();
      if (batch.deliveries < input.batchSize) break;
    }
    let after: EventCursor | null = null;
    for (;;) {
      const batch = await purgeEventBatch(deps.pool, cutoff, input.batchSize, after);
      result.events += batch.events;
      heartbeat();
      if (batch.scanned < input.batchSize) break;
      after = batch.last;
    }
    deps.logger.info(result, 'retention purge');
    return result;
  }

  return { purgeExpired };
}
