import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';
import type { Pool } from '../db/pool';
import { findKeyByTokenHash } from '../db/queries/applications';
import { ForbiddenError, NotFoundError, UnauthorizedError } from '../errors';
import type { KEY_SCOPES } from './schemas';

export type KeyScope = (typeof KEY_SCOPES)[number];

export type Principal =
  | { kind: 'admin' }
  | {
      kind: 'key';
      keyId: string;
      applicationId: string;
      scopes: KeyScope[];
      subject: { type: string; id: string } | null;
    };

export function hashToken(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

function bearerToken(req: Request): string | undefined {
  const header = req.get('authorization');
  if (header) {
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    return match?.[1];
  }
  return req.get('x-access-token') || undefined;
}

/**
 * Resolves the caller from `Authorization: Bearer` or `x-access-token`: the admin token, or an
 * application key found by the sha256 of its token (only hashes are stored).
 */
export function createAuthenticator(pool: Pool, adminToken: string) {
  const adminHash = hashToken(adminToken);
  return async function authenticate(req: Request): Promise<Principal> {
    const token = bearerToken(req);
    if (!token) throw new UnauthorizedError();
    const hash = hashToken(token);
    if (timingSafeEqual(hash, adminHash)) return { kind: 'admin' };
    const key = await findKeyByTokenHash(pool, hash);
    if (!key) throw new UnauthorizedError('The token is not valid or has been revoked.');
    return { kind: 'key', ...key };
  };
}

export function requireAdmin(p: Principal): void {
  if (p.kind !== 'admin') throw new ForbiddenError('This route needs the admin token.');
}

/** The admin passes every scope check; a key needs the scope itself. */
export function requireScope(p: Principal, scope: KeyScope): void {
  if (p.kind === 'key' && !p.scopes.includes(scope))
    throw new ForbiddenError(`This route needs the "${scope}" scope.`);
}

/** A key sees only its own application's resources; anything else is "not found", never "forbidden". */
export function assertOwns(p: Principal, applicationId: string | undefined, what: string): void {
  if (applicationId === undefined || (p.kind === 'key' && p.applicationId !== applicationId))
    throw new NotFoundError(what);
}
