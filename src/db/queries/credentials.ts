import type { Pool } from '../pool';

/**
 * The live credential whose token has this sha256: an application key or a publisher key (one
 * query for both, so an unknown token costs one lookup).
 */
export async function findCredentialByTokenHash(db: Pool, hash: Buffer) {
  const { rows } = await db.query(
    `SELECT 'key' AS kind, id, application_id, scopes, subject_type, subject_id FROM api_keys
      WHERE token_hash = $1 AND revoked_at IS NULL
     UNION ALL
     SELECT 'publisher', id, NULL, scopes, NULL, NULL FROM publisher_keys
      WHERE token_hash = $1 AND revoked_at IS NULL`,
    [hash],
  );
  const r = rows[0];
  if (!r) return undefined;
  if (r.kind === 'publisher') return { kind: 'publisher' as const, keyId: r.id as string, scopes: r.scopes };
  return {
    kind: 'key' as const,
    keyId: r.id as string,
    applicationId: r.application_id as string,
    scopes: r.scopes,
    subject: r.subject_type ? { type: r.subject_type as string, id: r.subject_id as string } : null,
  };
}
