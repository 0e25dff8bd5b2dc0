import { type Pool, type PoolClient, prepared } from '../pool';

/**
 * The workflow outbox (migration 006): an API request that needs a workflow commits this entry
 * with its own rows, and a worker's starter (src/temporal/starter.ts) starts or signals the
 * workflow and deletes the entry. So no request writes to PostgreSQL and Temporal both.
 */
export type OutboxKind = 'sync' | 'release' | 'recovery';

export interface OutboxEntry {
  id: string;
  kind: OutboxKind;
  workflowId: string;
  payload: unknown;
}

export async function enqueueWorkflow(
  db: PoolClient,
  kind: OutboxKind,
  workflowId: string,
  payload: unknown,
): Promise<void> {
  await db.query('INSERT INTO workflow_outbox (kind, workflow_id, payload) VALUES ($1, $2, $3)', [
    kind,
    workflowId,
    payload,
  ]);
}

/** Claims due entries, oldest first, for `leaseSeconds` (another worker takes them after that). */
export async function claimOutbox(pool: Pool, limit: number, leaseSeconds: number): Promise<OutboxEntry[]> {
  const { rows } = await pool.query(
    prepared(
      'claim_outbox',
      `UPDATE workflow_outbox o SET start_after = now() + make_interval(secs => $2)
         FROM (SELECT id FROM workflow_outbox WHERE start_after <= now()
                ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED) claimed
        WHERE o.id = claimed.id
        RETURNING o.id, o.kind, o.workflow_id, o.payload`,
      [limit, leaseSeconds],
    ),
  );
  return rows
    .map((r) => ({ id: String(r.id), kind: r.kind, workflowId: r.workflow_id, payload: r.payload }))
    .sort((a, b) => Number(a.id) - Number(b.id));
}

export async function deleteOutboxEntries(pool: Pool, ids: string[]): Promise<void> {
  if (ids.length > 0) await pool.query('DELETE FROM workflow_outbox WHERE id = ANY($1::bigint[])', [ids]);
}
