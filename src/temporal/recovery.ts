import type { Pool } from '../db/pool';
import type { Logger } from '../logger';
import type { Dispatcher } from './dispatcher';

/**
 * A resume releases the webhook's held deliveries from the API process that took it; should that
 * process die midway, the rest would stay held. This loop finds held deliveries of active webhooks
 * and releases them. (New deliveries need no such loop: workers claim them from the table,
 * src/temporal/starter.ts.)
 */
export function startRecoveryLoop(deps: {
  pool: Pool;
  dispatcher: Dispatcher;
  logger: Logger;
  intervalMs: number;
  graceMs: number;
}): { stop(): Promise<void> } {
  let stopped = false;
  let running: Promise<void> = Promise.resolve();

  async function pass(): Promise<void> {
    const { rows: webhooks } = await deps.pool.query(
      `SELECT DISTINCT d.webhook_id FROM deliveries d JOIN webhooks w ON w.id = d.webhook_id
        WHERE d.status = 'held' AND w.status = 'active' AND w.deleted_at IS NULL
          AND d.updated_at < now() - make_interval(secs => $1)`,
      [deps.graceMs / 1000],
    );
    for (const { webhook_id } of webhooks) {
      if (stopped) return;
      // 0 when this process is releasing that webhook already (a long release after a resume).
      const released = await deps.dispatcher.releaseHeld(webhook_id);
      if (released > 0)
        deps.logger.warn(
          { webhookId: webhook_id, released },
          'released deliveries still held after a resume',
        );
    }
  }

  const timer = setInterval(() => {
    running = running
      .then(pass)
      .catch((err) => deps.logger.warn({ err: err.message }, 'recovery pass failed'));
  }, deps.intervalMs);
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
