export interface RetrySettings {
  initialMs: number;
  backoff: number;
  maxIntervalMs: number;
  maxAttempts: number;
}

/** Jitter adds up to this share of the curve's delay, never less, so the span is never shorter. */
export const JITTER = 0.2;

/**
 * The delay before attempt `attempt + 1`, given that `attempt` (1-based) just failed: the retry
 * policy's exponential curve plus up to 20 % random jitter (capped at the maximum interval), so a
 * burst of failures against one receiver does not come back as one burst, while the defaults still
 * spread 10 attempts over at least 24 h. `random` is injectable for tests.
 */
export function retryDelayMs(
  settings: RetrySettings,
  attempt: number,
  random: () => number = Math.random,
): number {
  const base = settings.initialMs * settings.backoff ** (attempt - 1);
  return Math.round(Math.min(base * (1 + JITTER * random()), settings.maxIntervalMs));
}

/**
 * `Retry-After` as seconds or an HTTP date, in milliseconds from `now`; undefined when absent or
 * unreadable. Capped by the caller to the policy's maximum interval.
 */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
