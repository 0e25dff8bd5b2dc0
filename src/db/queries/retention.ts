import type { Pool } from '../pool';

/**
 * The retention purge, one short statement per batch so that no lock is held for long: publishing
 * inserts new rows and never waits on these old ones. Only finished deliveries go (succeeded,
 * failed, cancelled): one that is held or retrying is an accepted event not yet delivered.
 */

/**
 * Deletes up to `limit` finished deliveries whose last change is older than `cutoff`, with their
 * attempts. Rows another transaction holds are skipped, for the next batch or run.
 */
export async function purgeDeliveryBatch(
  db: Pool,
  cutoff: Date,
  limit: number,
): Promise<{ deliveries: number; attempts: number }> {
  const { rows } = await db.query(
    `WITH doomed AS (
       SELECT id FROM deliveries
        WHERE status IN ('succeeded', 'failed', 'cancelled') AND updated_at < $1
        ORDER BY updated_at LIMIT $2
        FOR UPDATE SKIP LOCKED
     ), attempts_gone AS (
       DELETE FROM attempts WHERE delivery_id IN (SELECT id FROM doomed) RETURNING 1
     ), deliveries_gone AS (
       DELETE FROM deliveries WHERE id IN (SELECT id FROM doomed) RETURNING 1
     )
     SELECT (SELECT count(*) FROM deliveries_gone)::int AS deliveries,
            (SELECT count(*) FROM attempts_gone)::int AS attempts`,
    [cutoff, limit],
  );
  return rows[0];
}

/** A position in the events' (created_at, id) order; the time as PostgreSQL's text, to the microsecond. */
export interface EventCursor {
  createdAt: string;
  id: string;
}

/**
 * Looks at the next `limit` events older than `cutoff` after `after` and deletes those no delivery
 * refers to any more. Events that still have deliveries (held ones, say) are passed over, and the
 * cursor moves past them, so a run never reads them twice.
 */
export async function purgeEventBatch(
  db: Pool,
  cutoff: Date,
  limit: number,
  after: EventCursor | null,
): Promise<{ events: number; scanned: number; last: EventCursor | null }> {
  const { rows } = await db.query(
    `WITH candidates AS (
       SELECT id, created_at FROM events
        WHERE created_at < $1 AND ($2::timestamptz IS NULL OR (created_at, id) > ($2::timestamptz, $3::text))
        ORDER BY created_at, id LIMIT $4
     ), gone AS (
       DELETE FROM events e USING candidates c
        WHERE e.id = c.id AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id)
       RETURNING 1
     ), last AS (
       SELECT id, created_at::text AS created_at FROM candidates ORDER BY created_at DESC, id DESC LIMIT 1
     )
     SELECT (SELECT count(*) FROM gone)::int AS events, (SELECT count(*) FROM candidates)::int AS scanned,
            (SELECT id FROM last) AS last_id, (SELECT created_at FROM last) AS last_created_at`,
    [cutoff, after?.createdAt ?? null, after?.id ?? null, limit],
  );
  const r = rows[0];
  return {
    events: r.events,
    scanned: r.scanned,
    last: r.last_id ? { id: r.last_id, createdAt: r.last_created_at } : null,
  };
}
