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
 * How long a key found by its token is trusted without asking PostgreSQL again. A publisher sends
 * every event with the same key, so this saves a query per request (docs/performance.md). The
 * API process that revokes a key or deletes an application forgets it at once; other API
 * replicas stop accepting it within this time.
 */
export const KEY_CACHE_TTL_MS = 5_000;
const KEY_CACHE_MAX = 10_000;

export interface Authenticator {
  (req: Request): Promise<Principal>;
  /** Drops cached keys of a revoked key or a deleted application. */
  forget(match: { keyId?: string; applicationId?: string }): void;
}

/**
 * Resolves the caller from `Authorization: Bearer` or `x-access-token`: the admin token, or an
 * application key found by the sha256 of its token (only hashes are stored). Keys found are
 * cached briefly (KEY_CACHE_TTL_MS); unknown tokens are always looked up, so a new key works at once.
 */
export function createAuthenticator(pool: Pool, adminToken: string, now = () => Date.now()): Authenticator {
  const adminHash = hashToken(adminToken);
  const cache = new Map<string, { principal: Principal & { kind: 'key' }; expires: number }>();
  const authenticate = async (req: Request): Promise<Principal> => {
    const token = bearerToken(req);
    if (!token) throw new UnauthorizedError();
    const hash = hashToken(token);
    if (timingSafeEqual(hash, adminHash)) return { kind: 'admin' };
    const cacheKey = hash.toString('base64');
    const hit = cache.get(cacheKey);
    if (hit && hit.expires > now()) return hit.principal;
    cache.delete(cacheKey);
    const key = await findKeyByTokenHash(pool, hash);
    if (!key) throw new UnauthorizedError('The token is not valid or has been revoked.');
    const principal = Object.freeze({ kind: 'key' as const, ...key });
    // Oldest first: a Map iterates in insertion order.
    if (cache.size >= KEY_CACHE_MAX) cache.delete(cache.keys().next().value as string);
    cache.set(cacheKey, { principal, expires: now() + KEY_CACHE_TTL_MS });
    return principal;
  };
  return Object.assign(authenticate, {
    forget(match: { keyId?: string; applicationId?: string }) {
      for (const [k, { principal }] of cache)
        if (principal.keyId === match.keyId || principal.applicationId === match.applicationId)
          cache.delete(k);
    },
  });
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
