import client from 'prom-client';

/**
 * Herald's Prometheus metrics. Each process (API, worker) owns a registry and serves it on
 * /metrics; the names are shared so dashboards can sum across processes.
 */
export function createMetrics() {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry });
  const seconds = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
  return {
    registry,
    attempts: new client.Counter({
      name: 'herald_attempts_total',
      help: 'HTTP attempts to webhook URLs, by outcome',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    deliveries: new client.Counter({
      name: 'herald_deliveries_total',
      help: 'Deliveries that reached a final state, by outcome',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    attemptDuration: new client.Histogram({
      name: 'herald_attempt_duration_seconds',
      help: 'Duration of one HTTP attempt',
      buckets: seconds,
      registers: [registry],
    }),
    endToEnd: new client.Histogram({
      name: 'herald_delivery_latency_seconds',
      help: 'From event creation to its successful delivery',
      buckets: seconds,
      registers: [registry],
    }),
    httpRequests: new client.Histogram({
      name: 'herald_http_request_duration_seconds',
      help: 'API request latency',
      labelNames: ['method', 'route', 'status'],
      buckets: seconds,
      registers: [registry],
    }),
    syncEntities: new client.Counter({
      name: 'herald_sync_entities_total',
      help: 'Entities sent by full syncs, by outcome',
      labelNames: ['outcome'],
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

/**
 * Gauges read from PostgreSQL at scrape time (the API registers them): they describe the whole
 * installation, not one process, so any API replica can answer.
 */
export function registerStateGauges(
  metrics: Metrics,
  query: (sql: string) => Promise<{ rows: Record<string, number>[] }>,
) {
  new client.Gauge({
    name: 'herald_deliveries_held',
    help: 'Deliveries held while their webhook is paused or disabled',
    registers: [metrics.registry],
    async collect() {
      const { rows } = await query("SELECT count(*)::int AS n FROM deliveries WHERE status = 'held'");
      this.set(rows[0].n);
    },
  });
  new client.Gauge({
    name: 'herald_sync_entities',
    help: 'Progress of the syncs running now: entities sent, failed and in total',
    labelNames: ['state'],
    registers: [metrics.registry],
    async collect() {
      const { rows } = await query(
        `SELECT coalesce(sum(sent), 0)::int AS sent, coalesce(sum(failed), 0)::int AS failed,
                coalesce(sum(total), 0)::int AS total
           FROM syncs WHERE status IN ('running', 'paused', 'waiting')`,
      );
      for (const state of ['sent', 'failed', 'total']) this.set({ state }, rows[0][state]);
    },
  });
}
