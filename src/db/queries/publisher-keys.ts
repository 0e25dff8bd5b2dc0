import type { Pool } from '../pool';
import { page } from './pagination';

export interface PublisherKeyRow {
  id: string;
  name: string;
  scopes: ('events:publish' | 'entities:write')[];
  tokenHint: string;
  createdAt: Date;
}

const COLUMNS = 'id, name, scopes, token_hint, created_at';
function toPublisherKey(r: Record<string, unknown>): PublisherKeyRow {
  return {
    id: r.id as string,
    name: r.name as string,
    scopes: r.scopes as PublisherKeyRow['scopes'],
    tokenHint: r.token_hint as string,
    createdAt: r.created_at as Date,
  };
}

export async function insertPublisherKey(
  db: Pool,
  k: Omit<PublisherKeyRow, 'createdAt'> & { tokenHash: Buffer },
): Promise<PublisherKeyRow> {
  const { rows } = await db.query(
    `INSERT INTO publisher_keys (id, name, scopes, token_hash, token_hint) VALUES ($1, $2, $3, $4, $5)
     RETURNING ${COLUMNS}`,
    [k.id, k.name, k.scopes, k.tokenHash, k.tokenHint],
  );
  return toPublisherKey(rows[0]);
}

export async function listPublisherKeys(db: Pool, limit: number, cursor?: string) {
  const { rows } = await db.query(
    `SELECT ${COLUMNS} FROM publisher_keys WHERE revoked_at IS NULL AND ($1::text IS NULL OR id < $1)
      ORDER BY id DESC LIMIT $2`,
    [cursor ?? null, limit + 1],
  );
  return page(rows.map(toPublisherKey), limit);
}

export async function revokePublisherKey(db: Pool, id: string): Promise<boolean> {
  const { rowCount } = await db.query(
    'UPDATE publisher_keys SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL',
    [id],
  );
  return (rowCount ?? 0) > 0;
}
