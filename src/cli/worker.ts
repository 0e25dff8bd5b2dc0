import http from 'node:http';
import { loadConfig } from '../config';
import { resolveSecretCipher } from '../encryption-key';
import { createLogger, type Logger } from '../logger';
import { createMetrics, type Metrics } from '../metrics';
import { createHeraldWorker } from '../temporal/worker';
import { checkTemporal, connectDatabase, requireServices } from './connect';
import { runMain, untilSignal } from './main';
import { announceReady } from './spawn';

runMain('worker', async () => {
  const config = loadConfig();
  const logger = createLogger(config.logLevel, 'herald-worker');
  const { databaseUrl, temporalAddress } = requireServices(config);
  const pool = await connectDatabase(databaseUrl, 50);
  await checkTemporal(temporalAddress, config.temporal.connection);
  const metrics = createMetrics();
  const metricsServer = config.metricsPort
    ? await serveMetrics(metrics, config.metricsPort, logger)
    : undefined;
  const { worker, run } = await createHeraldWorker({
    config,
    address: temporalAddress,
    pool,
    logger,
    metrics,
    secretCipher: await resolveSecretCipher(config),
    // The SDK's own metrics (task latencies, slots, polls) on the port after the worker's.
    sdkMetricsAddress: metricsServer ? `0.0.0.0:${config.metricsPort + 1}` : undefined,
  });
  const running = run();
  logger.info({ taskQueue: config.temporal.taskQueue }, 'worker running');
  announceReady();
  // SIGTERM: stop polling, let in-flight tasks finish (shutdownGraceTime), then exit.
  await Promise.race([untilSignal().then(() => worker.shutdown()), running]);
  await running;
  metricsServer?.close();
  await pool.end();
});

/** The worker's /metrics. A port already taken (another worker on this machine) is skipped, not fatal. */
async function serveMetrics(
  metrics: Metrics,
  port: number,
  logger: Logger,
): Promise<http.Server | undefined> {
  const server = http.createServer(async (req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    res
      .writeHead(200, { 'content-type': metrics.registry.contentType })
      .end(await metrics.registry.metrics());
  });
  return new Promise((resolve) => {
    server.once('error', (err) => {
      logger.warn({ port, err: err.message }, 'worker metrics not served');
      resolve(undefined);
    });
    server.listen(port, () => resolve(server));
  });
}
