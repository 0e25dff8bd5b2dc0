import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';
import type { Pool } from '../db/pool';
import { findCredentialByTokenHash } from '../db/queries/credentials';
import { ForbiddenError, NotFoundError, UnauthorizedError } from '../errors';
import { createAuthFailureLimiter } from './rate-limit';
import { type KEY_SCOPES, PUBLISHER_SCOPES } from './vocabulary';

export type KeyScope = (typeof KEY_SCOPES)[number];
export type PublisherScope = (typeof PUBLISHER_SCOPES)[number];

/**
 * Who calls: the operator (admin token), an application key (its own application's resources),
 * or a publisher key (the host system's: publishes events and entity changes, owns no application).
 */
export type Principal =
  | { kind: 'admin' }
  | {
      kind: 'key';
      keyId: string;
      applicationId: string;
      scopes: KeyScope[];
      subject: { type: string; id: string } | null;
    }
  | { kind: 'publisher'; keyId: string; scopes: PublisherScope[] };

/** Who may call a route: the admin only, any valid token, or a holder of one of these scopes (the admin too). */
export type Access = 'admin' | 'any' | KeyScope | PublisherScope | (KeyScope | PublisherScope)[];

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
 * application or publisher key found by the sha256 of its token (only hashes are stored). Keys found are
 * cached briefly (KEY_CACHE_TTL_MS); unknown tokens are looked up, so a new key works at once, but
 * at most `authFailuresPerMinute` a minute per client address that fail (429 beyond, before the
 * lookup). A token this process has found valid before is looked up again without counting, so
 * guessing from an address does not lock out the clients whose keys work from there.
 */
export function createAuthenticator(
  pool: Pool,
  adminToken: string,
  opts: { authFailuresPerMinute: number },
  now = () => Date.now(),
): Authenticator {
  const adminHash = hashToken(adminToken);
  const failures = createAuthFailureLimiter(opts.authFailuresPerMinute);
  const cache = new Map<string, { principal: Principal & { keyId: string }; expires: number }>();
  const authenticate = async (req: Request): Promise<Principal> => {
    const token = bearerToken(req);
    if (!token) throw new UnauthorizedError();
    const hash = hashToken(token);
    if (timingSafeEqual(hash, adminHash)) return { kind: 'admin' };
    const cacheKey = hash.toString('base64');
    // An expired entry stays (bounded by KEY_CACHE_MAX): it marks a token once valid, whose lookup does not count.
    const hit = cache.get(cacheKey);
    if (hit && hit.expires > now()) return hit.principal;
    const address = req.socket.remoteAddress ?? 'unknown';
    if (!hit) await failures.beforeLookup(address);
    const found = await findCredentialByTokenHash(pool, hash);
    if (!found) {
      cache.delete(cacheKey);
      throw new UnauthorizedError('The token is not valid or has been revoked.');
    }
    if (!hit) await failures.validToken(address);
    const principal = Object.freeze(found);
    cache.delete(cacheKey);
    // Oldest first: a Map iterates in insertion order.
    if (cache.size >= KEY_CACHE_MAX) cache.delete(cache.keys().next().value as string);
    cache.set(cacheKey, { principal, expires: now() + KEY_CACHE_TTL_MS });
    return principal;
  };
  return Object.assign(authenticate, {
    forget(match: { keyId?: string; applicationId?: string }) {
      for (const [k, { principal }] of cache)
        if (
          principal.keyId === match.keyId ||
          (principal.kind === 'key' && principal.applicationId === match.applicationId)
        )
          cache.delete(k);
    },
  });
}

/** The one check of a route's access (route.ts), before its handler runs. */
export function requireAccess(p: Principal, access: Access): void {
  if (access === 'any' || p.kind === 'admin') return;
  if (access === 'admin') throw new ForbiddenError('This route needs the admin token.');
  const anyOf = Array.isArray(access) ? access : [access];
  if (anyOf.some((scope) => (p.scopes as string[]).includes(scope))) return;
  const publishing = anyOf.every((scope) => (PUBLISHER_SCOPES as readonly string[]).includes(scope));
  if (publishing && p.kind === 'key') {
    throw new ForbiddenError(
      `This route needs the admin token or a publisher key with "${anyOf.join('" or "')}": application keys do not publish.`,
    );
  }
  throw new ForbiddenError(`This route needs the "${anyOf.join('" or "')}" scope.`);
}

/**
 * An application's resources are its keys' and the admin's; another application's key, and a
 * publisher key (which belongs to no application), get "not found", never "forbidden".
 */
export function assertOwns(p: Principal, applicationId: string | undefined, what: string): void {
  const owns = p.kind === 'admin' || (p.kind === 'key' && p.applicationId === applicationId);
  if (applicationId === undefined || !owns) throw new NotFoundError(what);
}

/**
 * What of one event a caller sees. The publishing side (admin, publisher key) sees every delivery;
 * an application key sees the event only when it was delivered to one of its application's
 * webhooks, and then only those deliveries. Undefined: the caller does not see the event (404).
 */
export function eventDeliveriesFor<D extends { applicationId: string }>(
  p: Principal,
  deliveries: D[],
): D[] | undefined {
  if (p.kind !== 'key') return deliveries;
  const own = deliveries.filter((d) => d.applicationId === p.applicationId);
  return own.length ? own : undefined;
}
