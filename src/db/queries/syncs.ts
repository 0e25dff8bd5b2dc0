import type { Pool, PoolClient } from '../pool';
import { enqueueWorkflow } from './outbox';
import { page } from './pagination';

export type SyncStatus = 'running' | 'paused' | 'waiting' | 'completed' | 'cancelled';
export const ACTIVE_SYNC_STATUSES: SyncStatus[] = ['running', 'paused', 'waiting'];

/** A sync's progress as its workflow reports it and PostgreSQL mirrors it. */
export interface SyncProgress {
  syncId: string;
  status: SyncStatus;
  total: number | null;
  sent: number;
  failed: number;
  /** The workflow's count of its progress writes: a late write never overwrites a newer one. */
  revision?: number;
}

export interface SyncRow {
  id: string;
  webhookId: string;
  applicationId: string;
  entityTypes: string[];
  status: SyncStatus;
  total: number | null;
  sent: number;
  failed: number;
  createdAt: Date;
  updatedAt: Date;
  finishedAt: Date | null;
}

const COLUMNS =
  'id, webhook_id, application_id, entity_types, status, total, sent, failed, created_at, updated_at, finished_at';
/** A syncs row: the row's own fields, and the snake_case ones. */
type SyncColumns = Pick<SyncRow, 'id' | 'status' | 'total' | 'sent' | 'failed'> & {
  webhook_id: string;
  application_id: string;
  entity_types: string[];
  created_at: Date;
  updated_at: Date;
  finished_at: Date | null;
};
function toSync(r: SyncColumns): SyncRow {
  return {
    id: r.id,
    webhookId: r.webhook_id,
    applicationId: r.application_id,
    entityTypes: r.entity_types,
    status: r.status,
    total: r.total,
    sent: r.sent,
    failed: r.failed,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    finishedAt: r.finished_at,
  };
}

/**
 * A new sync: its row (`running`) and the outbox entry from which a worker starts its workflow, in
 * the caller's transaction. Undefined when the webhook already has an active sync.
 */
export async function insertSync(
  db: PoolClient,
  s: { id: string; webhookId: string; applicationId: string; entityTypes: string[] },
  workflow: { workflowId: string; payload: unknown },
): Promise<SyncRow | undefined> {
  const { rows } = await db.query(
    `INSERT INTO syncs (id, webhook_id, application_id, entity_types, status) VALUES ($1, $2, $3, $4, 'running')
     ON CONFLICT (webhook_id) WHERE status IN ('running', 'paused', 'waiting') DO NOTHING
     RETURNING ${COLUMNS}`,
    [s.id, s.webhookId, s.applicationId, s.entityTypes],
  );
  if (!rows[0]) return undefined;
  await enqueueWorkflow(db, 'sync', workflow.workflowId, workflow.payload);
  return toSync(rows[0]);
}

export async function getSync(db: Pool, id: string): Promise<SyncRow | undefined> {
  const { rows } = await db.query(`SELECT ${COLUMNS} FROM syncs WHERE id = $1`, [id]);
  return rows[0] ? toSync(rows[0]) : undefined;
}

export async function listSyncs(db: Pool, webhookId: string, limit: number, cursor?: string) {
  const { rows } = await db.query(
    `SELECT ${COLUMNS} FROM syncs WHERE webhook_id = $1 AND ($2::text IS NULL OR id < $2) ORDER BY id DESC LIMIT $3`,
    [webhookId, cursor ?? null, limit + 1],
  );
  return page(rows.map(toSync), limit);
}

export async function activeSyncOf(db: Pool, webhookId: string): Promise<SyncRow | undefined> {
  const { rows } = await db.query(
    `SELECT ${COLUMNS} FROM syncs WHERE webhook_id = $1 AND status IN ('running', 'paused', 'waiting')`,
    [webhookId],
  );
  return rows[0] ? toSync(rows[0]) : undefined;
}

/**
 * Mirrors the workflow's progress; a finished sync is never reopened. `revision` (the workflow's
 * count of its writes) keeps a write that lands late from overwriting a newer one; workflows from
 * before revisions pass none.
 */
export async function saveSyncProgress(db: Pool | PoolClient, p: SyncProgress): Promise<void> {
  await db.query(
    `UPDATE syncs SET status = $2, total = $3, sent = $4, failed = $5, updated_at = now(),
            revision = coalesce($6, revision),
            finished_at = CASE WHEN $2 IN ('completed', 'cancelled') THEN now() END
      WHERE id = $1 AND status NOT IN ('completed', 'cancelled') AND ($6::int IS NULL OR revision < $6)`,
    [p.syncId, p.status, p.total, p.sent, p.failed, p.revision ?? null],
  );
}

export interface VisibleEntitiesFilter {
  /** Entity types to send; empty means every type. */
  entityTypes: string[];
  /** The application's scopes; `*` means every scope. */
  scopes: string[];
}

const VISIBLE = `(cardinality($1::text[]) = 0 OR type = ANY($1))
  AND ('*' = ANY($2::text[]) OR scopes && $2::text[]) AND deleted_at IS NULL`;

export async function countVisibleEntities(db: Pool, f: VisibleEntitiesFilter): Promise<number> {
  const { rows } = await db.query(`SELECT count(*)::int AS n FROM entities WHERE ${VISIBLE}`, [
    f.entityTypes,
    f.scopes,
  ]);
  return rows[0].n;
}

export interface SyncCursor {
  type: string;
  id: string;
}

/**
 * Writes the next page of a sync: the visible entities after `after` in (type, id) order (keyset,
 * never OFFSET), each as a `<type>.sync` event with one delivery to the webhook. Ids derive from the
 * sync id and the entity's index, so a retried activity writes nothing twice.
 */
export async function writeSyncPage(
  db: PoolClient,
  p: {
    syncId: string;
    webhookId: string;
    applicationId: string;
    filter: VisibleEntitiesFilter;
    after: SyncCursor | null;
    firstIndex: number;
    total: number;
    limit: number;
  },
): Promise<{ deliveryIds: string[]; last: SyncCursor | null }> {
  const { rows } = await db.query(
    `SELECT type, id, data FROM entities
      WHERE ${VISIBLE} AND ($3::text IS NULL OR (type, id) > ($3, $4))
      ORDER BY type, id LIMIT $5`,
    [p.filter.entityTypes, p.filter.scopes, p.after?.type ?? null, p.after?.id ?? null, p.limit],
  );
  if (rows.length === 0) return { deliveryIds: [], last: null };
  const suffix = p.syncId.replace(/^sync_/, '');
  const indexes = rows.map((_, i) => p.firstIndex + i);
  const eventIds = indexes.map((i) => `evt_${suffix}_${i}`);
  const deliveryIds = indexes.map((i) => `dlv_${suffix}_${i}`);
  await db.query(
    `INSERT INTO events (id, type, action, entity_type, entity_id, data, scopes, sync)
     SELECT e.id, e.type || '.sync', 'sync', e.type, e.entity_id, e.data, '{}',
            jsonb_build_object('id', $1::text, 'index', e.idx, 'total', $2::int)
       FROM unnest($3::text[], $4::text[], $5::text[], $6::jsonb[], $7::int[]) AS e(id, type, entity_id, data, idx)
     ON CONFLICT (id) DO NOTHING`,
    [
      p.syncId,
      p.total,
      eventIds,
      rows.map((r) => r.type),
      rows.map((r) => r.id),
      rows.map((r) => JSON.stringify(r.data)),
      indexes,
    ],
  );
  await db.query(
    `INSERT INTO deliveries (id, event_id, webhook_id, application_id, event_type, status, sync_id, workflow_id)
     SELECT d.id, d.event_id, $1, $2, d.type || '.sync', 'pending', $6::text, 'sync:' || $6
       FROM unnest($3::text[], $4::text[], $5::text[]) AS d(id, event_id, type)
     ON CONFLICT (id) DO NOTHING`,
    [p.webhookId, p.applicationId, deliveryIds, eventIds, rows.map((r) => r.type), p.syncId],
  );
  const last = rows[rows.length - 1];
  return { deliveryIds, last: { type: last.type, id: last.id } };
}
