import { type Pool, type PoolClient, prepared } from '../pool';
import { page } from './pagination';

export interface EntityRow {
  type: string;
  id: string;
  scopes: string[];
  data: unknown;
  version: number;
  createdAt: Date;
  updatedAt: Date;
  deletedAt: Date | null;
}

const COLUMNS = 'type, id, scopes, data, version, created_at, updated_at, deleted_at';
/** An entities row: the row's own fields, and the snake_case ones. */
type EntityColumns = Pick<EntityRow, 'type' | 'id' | 'scopes' | 'data' | 'version'> & {
  created_at: Date;
  updated_at: Date;
  deleted_at: Date | null;
};
function toEntity(r: EntityColumns): EntityRow {
  return {
    type: r.type,
    id: r.id,
    scopes: r.scopes,
    data: r.data,
    version: r.version,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    deletedAt: r.deleted_at,
  };
}

export async function getEntity(
  db: Pool | PoolClient,
  type: string,
  id: string,
): Promise<EntityRow | undefined> {
  const { rows } = await db.query(`SELECT ${COLUMNS} FROM entities WHERE type = $1 AND id = $2`, [type, id]);
  return rows[0] ? toEntity(rows[0]) : undefined;
}

/**
 * Upserts the latest snapshot (herald_upsert_entity, migration 005). Returns the action it amounts
 * to (`created`, also for a deleted entity coming back; `updated`), or undefined when nothing
 * changed.
 */
export async function upsertEntity(
  db: PoolClient,
  e: { type: string; id: string; data: unknown; scopes: string[] },
): Promise<{ action: 'created' | 'updated'; entity: EntityRow } | undefined> {
  const { rows } = await db.query(
    prepared('upsert_entity', 'SELECT * FROM herald_upsert_entity($1, $2, $3, $4)', [
      e.type,
      e.id,
      e.scopes,
      JSON.stringify(e.data),
    ]),
  );
  if (!rows[0]) return undefined;
  return { action: rows[0].created ? 'created' : 'updated', entity: toEntity(rows[0]) };
}

/** Marks the entity deleted (a tombstone keeps its last data for the event); undefined if absent. */
export async function deleteEntity(db: PoolClient, type: string, id: string): Promise<EntityRow | undefined> {
  const { rows } = await db.query(
    prepared('delete_entity', 'SELECT * FROM herald_delete_entity($1, $2)', [type, id]),
  );
  return rows[0] ? toEntity(rows[0]) : undefined;
}

export async function listEntities(db: Pool, type: string, limit: number, cursor?: string) {
  const { rows } = await db.query(
    `SELECT ${COLUMNS} FROM entities WHERE type = $1 AND deleted_at IS NULL AND ($2::text IS NULL OR id > $2)
      ORDER BY id LIMIT $3`,
    [type, cursor ?? null, limit + 1],
  );
  return page(rows.map(toEntity), limit);
}
