import type { Pool, PoolClient } from '../pool';
import { enqueueWorkflow } from './outbox';
import { page } from './pagination';

export type RecoveryStatus = 'running' | 'paused' | 'completed' | 'cancelled';
export const ACTIVE_RECOVERY_STATUSES: RecoveryStatus[] = ['running', 'paused'];

/** What a recovery redelivers: a webhook's deliveries created in [since, until) in these statuses. */
export interface RecoveryScope {
  recoveryId: string;
  webhookId: string;
  since: string;
  until: string;
  statuses: string[];
}

/** A recovery's progress as its workflow reports it and PostgreSQL mirrors it. */
export interface RecoveryProgress {
  recoveryId: string;
  status: RecoveryStatus;
  total: number | null;
  redelivered: number;
  /** The workflow's count of its progress writes: a late write never overwrites a newer one. */
  revision: number;
}

export interface RecoveryRow {
  id: string;
  webhookId: string;
  applicationId: string;
  since: Date;
  until: Date;
  statuses: string[];
  status: RecoveryStatus;
  total: number | null;
  redelivered: number;
  createdAt: Date;
  updatedAt: Date;
  finishedAt: Date | null;
}

const COLUMNS = `id, webhook_id, application_id, since, until, statuses, status, total, redelivered, created_at,
  updated_at, finished_at`;
/** A recoveries row: the row's own fields, and the snake_case ones. */
type RecoveryColumns = Pick<
  RecoveryRow,
  'id' | 'since' | 'until' | 'statuses' | 'status' | 'total' | 'redelivered'
> & {
  webhook_id: string;
  application_id: string;
  created_at: Date;
  updated_at: Date;
  finished_at: Date | null;
};
function toRecovery(r: RecoveryColumns): RecoveryRow {
  return {
    id: r.id,
    webhookId: r.webhook_id,
    applicationId: r.application_id,
    since: r.since,
    until: r.until,
    statuses: r.statuses,
    status: r.status,
    total: r.total,
    redelivered: r.redelivered,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    finishedAt: r.finished_at,
  };
}

/**
 * A new recovery (`running`) and the outbox entry from which a worker starts its workflow, in the
 * caller's transaction; `until` defaults to now. Undefined when the webhook has an active one.
 */
export async function insertRecovery(
  db: PoolClient,
  r: { id: string; webhookId: string; applicationId: string; since: Date; until?: Date; statuses: string[] },
  workflowId: string,
): Promise<RecoveryRow | undefined> {
  const { rows } = await db.query(
    `INSERT INTO recoveries (id, webhook_id, application_id, since, until, statuses, status)
     VALUES ($1, $2, $3, $4, coalesce($5, now()), $6, 'running')
     ON CONFLICT (webhook_id) WHERE status IN ('running', 'paused') DO NOTHING
     RETURNING ${COLUMNS}`,
    [r.id, r.webhookId, r.applicationId, r.since, r.until ?? null, r.statuses],
  );
  if (!rows[0]) return undefined;
  const row = toRecovery(rows[0]);
  const scope: RecoveryScope = {
    recoveryId: row.id,
    webhookId: row.webhookId,
    since: row.since.toISOString(),
    until: row.until.toISOString(),
    statuses: row.statuses,
  };
  await enqueueWorkflow(db, 'recovery', workflowId, { scope, applicationId: row.applicationId });
  return row;
}

export async function getRecovery(db: Pool, id: string): Promise<RecoveryRow | undefined> {
  const { rows } = await db.query(`SELECT ${COLUMNS} FROM recoveries WHERE id = $1`, [id]);
  return rows[0] ? toRecovery(rows[0]) : undefined;
}

export async function listRecoveries(db: Pool, webhookId: string, limit: number, cursor?: string) {
  const { rows } = await db.query(
    `SELECT ${COLUMNS} FROM recoveries WHERE webhook_id = $1 AND ($2::text IS NULL OR id < $2)
      ORDER BY id DESC LIMIT $3`,
    [webhookId, cursor ?? null, limit + 1],
  );
  return page(rows.map(toRecovery), limit);
}

const MATCHING = `webhook_id = $1 AND status = ANY($2) AND created_at >= $3 AND created_at < $4`;

export async function countRecoverable(db: Pool, s: RecoveryScope): Promise<number> {
  const { rows } = await db.query(`SELECT count(*)::int AS n FROM deliveries WHERE ${MATCHING}`, [
    s.webhookId,
    s.statuses,
    s.since,
    s.until,
  ]);
  return rows[0].n;
}

/**
 * The next page of a recovery, in one transaction with its progress: a redelivery (a new
 * delivery of the same event, pending or held as the webhook is) of each matching delivery after
 * `after`, in id order. Each is written once per recovery, so a retried page writes nothing twice.
 */
export async function redeliverPage(
  db: PoolClient,
  s: RecoveryScope,
  after: string,
  limit: number,
): Promise<{ redelivered: number; last: string | null }> {
  const { rows } = await db.query(
    `SELECT id FROM deliveries WHERE ${MATCHING} AND id > $5 ORDER BY id LIMIT $6`,
    [s.webhookId, s.statuses, s.since, s.until, after, limit],
  );
  if (rows.length === 0) return { redelivered: 0, last: null };
  const ids = rows.map((r) => r.id as string);
  await db.query(
    `INSERT INTO deliveries (id, event_id, webhook_id, application_id, event_type, status, recovery_id, redelivery_of)
     SELECT herald_id('dlv'), d.event_id, d.webhook_id, d.application_id, d.event_type,
            CASE WHEN w.status = 'active' THEN 'pending' ELSE 'held' END, $2, d.id
       FROM deliveries d JOIN webhooks w ON w.id = d.webhook_id
      WHERE d.id = ANY($1) AND w.deleted_at IS NULL
      ORDER BY d.id
        FOR SHARE OF w
     ON CONFLICT (recovery_id, redelivery_of) WHERE recovery_id IS NOT NULL DO NOTHING`,
    [ids, s.recoveryId],
  );
  // Counted from what exists, so a page written before (a retried activity) counts the same.
  const counted = await db.query(
    'SELECT count(*)::int AS n FROM deliveries WHERE recovery_id = $1 AND redelivery_of = ANY($2)',
    [s.recoveryId, ids],
  );
  return { redelivered: counted.rows[0].n, last: ids[ids.length - 1] };
}

/** Mirrors the workflow's progress; a finished recovery is never reopened, a late write never wins. */
export async function saveRecoveryProgress(db: Pool | PoolClient, p: RecoveryProgress): Promise<void> {
  await db.query(
    `UPDATE recoveries SET status = $2, total = $3, redelivered = $4, revision = $5, updated_at = now(),
            finished_at = CASE WHEN $2 IN ('completed', 'cancelled') THEN now() END
      WHERE id = $1 AND status NOT IN ('completed', 'cancelled') AND revision < $5`,
    [p.recoveryId, p.status, p.total, p.redelivered, p.revision],
  );
}
