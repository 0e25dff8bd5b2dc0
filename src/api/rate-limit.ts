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

/**
 * Token guessing, per client address: every lookup of an unknown token takes one of `perMinute`
 * points of its address's minute (taken before the lookup, so requests at once cannot overrun
 * it) and a token that turns out valid gives its point back. With none left, the caller gets 429
 * before PostgreSQL is asked. The address is the TCP peer's (X-Forwarded-For can be forged), so
 * clients behind one proxy share it. In this API process's memory, like the per-key limit.
 */
export function createAuthFailureLimiter(perMinute: number) {
  const limiter = perMinute === 0 ? undefined : new RateLimiterMemory({ points: perMinute, duration: 60 });
  return {
    /** Takes a point for one lookup, or throws a RateLimitedError when the address has none left. */
    async beforeLookup(address: string): Promise<void> {
      if (!limiter) return;
      try {
        await limiter.consume(address);
      } catch (err) {
        if (!(err instanceof RateLimiterRes)) throw err;
        const seconds = Math.max(1, Math.ceil(err.msBeforeNext / 1000));
        throw new RateLimitedError(
          seconds,
          `Too many requests with tokens that are not valid from this address; retry in ${seconds} s.`,
        );
      }
    },
    /** The token was valid: its lookup does not count. */
    async validToken(address: string): Promise<void> {
      await limiter?.reward(address, 1);
    },
  };
}
