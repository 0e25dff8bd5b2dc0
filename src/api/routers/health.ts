import { Router } from 'express';
import { withTimeout } from '../../with-timeout';
import type { ApiContext } from '../context';

/** Liveness, readiness (Postgres and Temporal reachable) and Prometheus metrics: open routes. */
export function healthRouter(ctx: ApiContext): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const checks: Record<string, string> = {};
    await Promise.all([
      withTimeout(ctx.pool.query('SELECT 1'), 2_000).then(
        () => (checks.postgres = 'ok'),
        (err) => (checks.postgres = `unreachable: ${err.message}`),
      ),
      withTimeout(ctx.temporal.connection.workflowService.getSystemInfo({}), 2_000).then(
        () => (checks.temporal = 'ok'),
        (err) => (checks.temporal = `unreachable: ${err.message}`),
      ),
    ]);
    const ready = Object.values(checks).every((v) => v === 'ok');
    if (ready) return res.json({ status: 'ready', checks });
    res
      .status(503)
      .type('application/problem+json')
      .send(
        JSON.stringify({
          type: 'https://herald.dev/problems/503',
          title: 'Not ready',
          status: 503,
          detail: Object.entries(checks)
            .filter(([, v]) => v !== 'ok')
            .map(([k, v]) => `${k}: ${v}`)
            .join('; '),
          checks,
        }),
      );
  });
  router.get('/metrics', async (_req, res) => {
    res.type(ctx.metrics.registry.contentType).send(await ctx.metrics.registry.metrics());
  });
  return router;
}
