import type { Pool } from '../db/pool';
import type { Logger } from '../logger';
import { type Dispatcher, toRef } from './dispatcher';

/**
 * The promise behind "an event accepted with 202 is never lost": the API answers after the
 * commit and starts workflows afterwards, so a crash in between leaves rows whose workflow never
 * started. This loop finds them (and held deliveries of webhooks already resumed, should a resume
 * have died midway) and finishes the job. Duplicate starts are rejected by workflow id.
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
    for (;;) {
      const { rows } = await deps.pool.query(
        `SELECT id, webhook_id, application_id, event_type FROM deliveries
          WHERE NOT workflow_started AND status = 'pending' AND created_at < now() - make_interval(secs => $1)
          ORDER BY created_at LIMIT 500`,
        [deps.graceMs / 1000],
      );
      if (rows.length === 0) break;
      deps.logger.warn({ count: rows.length }, 'starting delivery workflows left unstarted');
      await deps.dispatcher.start(rows.map(toRef));
      if (stopped) return;
    }
    const { rows: webhooks } = await deps.pool.query(
      `SELECT DISTINCT d.webhook_id FROM deliveries d JOIN webhooks w ON w.id = d.webhook_id
        WHERE d.status = 'held' AND w.status = 'active' AND w.deleted_at IS NULL
          AND d.updated_at < now() - make_interval(secs => $1)`,
      [deps.graceMs / 1000],
    );
    for (const { webhook_id } of webhooks) {
      if (stopped) return;
      const released = await deps.dispatcher.releaseHeld(webhook_id);
      deps.logger.warn({ webhookId: webhook_id, released }, 'released deliveries still held after a resume');
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
