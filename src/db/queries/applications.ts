import type { Pool } from '../pool';
import { page } from './pagination';

export interface ApplicationRow {
  id: string;
  name: string;
  access: { entityTypes: string[]; scopes: string[] };
  /** Defaults of its webhooks' throttles. */
  maxRequestsPerSecond: number | null;
  maxInFlight: number | null;
  createdAt: Date;
  updatedAt: Date;
}

const APP_COLUMNS =
  'id, name, entity_types, scopes, max_requests_per_second, max_in_flight, created_at, updated_at';
/** A row of APP_COLUMNS as pg returns it: numeric arrives as text. */
interface ApplicationColumns {
  id: string;
  name: string;
  entity_types: string[];
  scopes: string[];
  max_requests_per_second: string | null;
  max_in_flight: number | null;
  created_at: Date;
  updated_at: Date;
}
function toApplication(r: ApplicationColumns): ApplicationRow {
  return {
    id: r.id,
    name: r.name,
    access: { entityTypes: r.entity_types, scopes: r.scopes },
    maxRequestsPerSecond: r.max_requests_per_second === null ? null : Number(r.max_requests_per_second),
    maxInFlight: r.max_in_flight,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export async function insertApplication(
  db: Pool,
  a: Pick<ApplicationRow, 'id' | 'name' | 'access' | 'maxRequestsPerSecond' | 'maxInFlight'>,
) {
  const { rows } = await db.query(
    `INSERT INTO applications (id, name, entity_types, scopes, max_requests_per_second, max_in_flight)
     VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${APP_COLUMNS}`,
    [a.id, a.name, a.access.entityTypes, a.access.scopes, a.maxRequestsPerSecond, a.maxInFlight],
  );
  return toApplication(rows[0]);
}

export async function getApplication(db: Pool, id: string): Promise<ApplicationRow | undefined> {
  const { rows } = await db.query(`SELECT ${APP_COLUMNS} FROM applications WHERE id = $1`, [id]);
  return rows[0] ? toApplication(rows[0]) : undefined;
}

export async function listApplications(db: Pool, limit: number, cursor?: string) {
  const { rows } = await db.query(
    `SELECT ${APP_COLUMNS} FROM applications WHERE ($1::text IS NULL OR id < $1) ORDER BY id DESC LIMIT $2`,
    [cursor ?? null, limit + 1],
  );
  return page(rows.map(toApplication), limit);
}

export async function updateApplication(
  db: Pool,
  id: string,
  patch: {
    name?: string;
    access?: ApplicationRow['access'];
    maxRequestsPerSecond?: number | null;
    maxInFlight?: number | null;
  },
) {
  const { rows } = await db.query(
    `UPDATE applications SET name = coalesce($2, name), entity_types = coalesce($3, entity_types),
            scopes = coalesce($4, scopes),
            max_requests_per_second = CASE WHEN $5 THEN $6 ELSE max_requests_per_second END,
            max_in_flight = CASE WHEN $7 THEN $8 ELSE max_in_flight END, updated_at = now()
      WHERE id = $1 RETURNING ${APP_COLUMNS}`,
    [
      id,
      patch.name ?? null,
      patch.access?.entityTypes ?? null,
      patch.access?.scopes ?? null,
      patch.maxRequestsPerSecond !== undefined,
      patch.maxRequestsPerSecond ?? null,
      patch.maxInFlight !== undefined,
      patch.maxInFlight ?? null,
    ],
  );
  return rows[0] ? toApplication(rows[0]) : undefined;
}

export async function deleteApplication(db: Pool, id: string): Promise<boolean> {
  const { rowCount } = await db.query('DELETE FROM applications WHERE id = $1', [id]);
  return (rowCount ?? 0) > 0;
}

// --- keys ---

export interface KeyRow {
  id: string;
  applicationId: string;
  name: string;
  scopes: string[];
  subject: { type: string; id: string } | null;
  tokenHint: string;
  createdAt: Date;
}

const KEY_COLUMNS = 'id, application_id, name, scopes, subject_type, subject_id, token_hint, created_at';
type KeyColumns = {
  id: string;
  application_id: string;
  name: string;
  scopes: string[];
  token_hint: string;
  created_at: Date;
} & ({ subject_type: string; subject_id: string } | { subject_type: null; subject_id: null });
function toKey(r: KeyColumns): KeyRow {
  return {
    id: r.id,
    applicationId: r.application_id,
    name: r.name,
    scopes: r.scopes,
    subject: r.subject_type === null ? null : { type: r.subject_type, id: r.subject_id },
    tokenHint: r.token_hint,
    createdAt: r.created_at,
  };
}

export async function insertKey(
  db: Pool,
  k: Omit<KeyRow, 'createdAt'> & { tokenHash: Buffer },
): Promise<KeyRow> {
  const { rows } = await db.query(
    `INSERT INTO api_keys (id, application_id, name, scopes, subject_type, subject_id, token_hash, token_hint)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ${KEY_COLUMNS}`,
    [
      k.id,
      k.applicationId,
      k.name,
      k.scopes,
      k.subject?.type ?? null,
      k.subject?.id ?? null,
      k.tokenHash,
      k.tokenHint,
    ],
  );
  return toKey(rows[0]);
}

export async function listKeys(db: Pool, applicationId: string, limit: number, cursor?: string) {
  const { rows } = await db.query(
    `SELECT ${KEY_COLUMNS} FROM api_keys
      WHERE application_id = $1 AND revoked_at IS NULL AND ($2::text IS NULL OR id < $2)
      ORDER BY id DESC LIMIT $3`,
    [applicationId, cursor ?? null, limit + 1],
  );
  return page(rows.map(toKey), limit);
}

export async function revokeKey(db: Pool, applicationId: string, keyId: string): Promise<boolean> {
  const { rowCount } = await db.query(
    'UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND application_id = $2 AND revoked_at IS NULL',
    [keyId, applicationId],
  );
  return (rowCount ?? 0) > 0;
}
