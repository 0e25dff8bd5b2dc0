import { loadConfig } from '../config';
import { createLogger } from '../logger';
import { createMetrics } from '../metrics';
import { createHeraldWorker } from '../temporal/worker';
import { checkTemporal, connectDatabase, requireServices } from './connect';
import { runMain, untilSignal } from './main';

runMain('worker', async () => {
  const config = loadConfig();
  const logger = createLogger(config.logLevel, 'herald-worker');
  const { databaseUrl, temporalAddress } = requireServices(config);
  const pool = await connectDatabase(databaseUrl, 50);
  await checkTemporal(temporalAddress);
  const { worker, run } = await createHeraldWorker({
    config,
    address: temporalAddress,
    pool,
    logger,
    metrics: createMetrics(),
  });
  const running = run();
  logger.info({ taskQueue: config.temporal.taskQueue }, 'worker running');
  // SIGTERM: stop polling, let in-flight tasks finish (shutdownGraceTime), then exit.
  await Promise.race([untilSignal().then(() => worker.shutdown()), running]);
  await running;
  await pool.end();
});
