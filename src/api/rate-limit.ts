import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import type { Config } from '../config';
import { RateLimitedError } from '../errors';
import type { Principal } from './auth';

/**
 * The per-key request limit: on average `perSecond` requests a second and up to `burst` at once,
 * counted as `burst` requests per window of burst / perSecond seconds. Counts live in this API
 * process's memory, so N replicas let a key through N times as often; the limit protects each
 * process, it is not a quota. The admin token (the operator's own publisher) is never limited.
 */
export function createRateLimiter(limits: Config['rateLimit']): (p: Principal) => Promise<void> {
  if (limits.perSecond === 0) return async () => {};
  const limiter = new RateLimiterMemory({
    points: limits.burst,
    duration: limits.burst / limits.perSecond,
  });
  return async function rateLimit(p: Principal): Promise<void> {
    if (p.kind === 'admin') return;
    try {
      await limiter.consume(p.keyId);
    } catch (err) {
      if (!(err instanceof RateLimiterRes)) throw err;
      throw new RateLimitedError(Math.max(1, Math.ceil(err.msBeforeNext / 1000)));
    }
  };
}

export type RateLimit = ReturnType<typeof createRateLimiter>;
