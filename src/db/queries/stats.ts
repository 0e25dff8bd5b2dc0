import type { Pool } from '../pool';

/** The chart windows: how many buckets of how many seconds, the last one holding now. */
export const STATS_WINDOWS = {
  hour: { buckets: 60, bucketSeconds: 60 },
  day: { buckets: 24, bucketSeconds: 3_600 },
  week: { buckets: 28, bucketSeconds: 21_600 },
} as const;
export type StatsWindow = keyof typeof STATS_WINDOWS;

export interface StatsBucket {
  start: string;
  succeeded: number;
  failed: number;
  retrying: number;
  held: number;
  attempts: number;
  p50Ms: number | null;
  p95Ms: number | null;
}

/**
 * A webhook's deliveries per bucket of their creation time, counted by their status now, and its
 * attempts per bucket of their start, with the median and 95th percentile of their durations.
 * Buckets are aligned to the epoch, so a chart redrawn a little later keeps its bars in place.
 */
export async function webhookStats(db: Pool, webhookId: string, window: StatsWindow) {
  const { buckets, bucketSeconds } = STATS_WINDOWS[window];
  const { rows } = await db.query(
    `WITH span AS (
       SELECT date_bin(make_interval(secs => $2::int), now(), timestamptz 'epoch')
                - make_interval(secs => $2::int * ($3::int - 1)) AS from_at
     ), delivered AS (
       SELECT floor(extract(epoch FROM d.created_at - span.from_at) / $2::int)::int AS i,
              count(*) FILTER (WHERE d.status = 'succeeded')::int AS succeeded,
              count(*) FILTER (WHERE d.status = 'failed')::int AS failed,
              count(*) FILTER (WHERE d.status = 'retrying')::int AS retrying,
              count(*) FILTER (WHERE d.status = 'held')::int AS held
         FROM deliveries d, span
        WHERE d.webhook_id = $1 AND d.created_at >= span.from_at
        GROUP BY 1
     ), attempted AS (
       SELECT floor(extract(epoch FROM a.started_at - span.from_at) / $2::int)::int AS i,
              count(*)::int AS attempts,
              percentile_cont(0.5) WITHIN GROUP (ORDER BY a.duration_ms) AS p50,
              percentile_cont(0.95) WITHIN GROUP (ORDER BY a.duration_ms) AS p95
         FROM attempts a, span
        WHERE a.webhook_id = $1 AND a.started_at >= span.from_at
        GROUP BY 1
     )
     SELECT span.from_at + g.i * make_interval(secs => $2::int) AS start,
            coalesce(d.succeeded, 0) AS succeeded, coalesce(d.failed, 0) AS failed,
            coalesce(d.retrying, 0) AS retrying, coalesce(d.held, 0) AS held,
            coalesce(a.attempts, 0) AS attempts, a.p50, a.p95
       FROM span CROSS JOIN generate_series(0, $3::int - 1) AS g(i)
       LEFT JOIN delivered d ON d.i = g.i
       LEFT JOIN attempted a ON a.i = g.i
      ORDER BY g.i`,
    [webhookId, bucketSeconds, buckets],
  );
  const round = (v: number | null) => (v === null ? null : Math.round(v));
  return {
    bucketSeconds,
    buckets: rows.map(
      (r): StatsBucket => ({
        start: (r.start as Date).toISOString(),
        succeeded: r.succeeded,
        failed: r.failed,
        retrying: r.retrying,
        held: r.held,
        attempts: r.attempts,
        p50Ms: round(r.p50),
        p95Ms: round(r.p95),
      }),
    ),
  };
}
