export interface RetrySettings {
  initialMs: number;
  backoff: number;
  maxIntervalMs: number;
  maxAttempts: number;
}

/**
 * The delay before attempt `attempt + 1`, given that `attempt` (1-based) just failed: the retry
 * policy's exponential curve with "equal jitter" (half fixed, half random), so a burst of
 * failures against one receiver does not come back as one burst. `random` is injectable for tests.
 */
export function retryDelayMs(
  settings: RetrySettings,
  attempt: number,
  random: () => number = Math.random,
): number {
  const base = Math.min(settings.initialMs * settings.backoff ** (attempt - 1), settings.maxIntervalMs);
  return Math.round(base / 2 + (base / 2) * random());
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
