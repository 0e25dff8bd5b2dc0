import pino from 'pino';
import { loadConfig } from '../config';
import { startEmbeddedServices } from '../embedded/services';
import { createLogger } from '../logger';
import { runMain, untilSignal } from './main';

/**
 * Runs only the embedded PostgreSQL and Temporal server and prints one JSON line with their
 * addresses: for tests and for developers who run the API and worker themselves. Stops on
 * SIGINT/SIGTERM or when its parent closes stdin (so a killed parent leaves nothing behind).
 * Ports: HERALD_PG_PORT (default 54329), HERALD_TEMPORAL_PORT (7233), HERALD_TEMPORAL_UI_PORT
 * (8233, or 0 for none); HERALD_EPHEMERAL=true skips fsync (src/config.ts reads them).
 */
runMain('services', async () => {
  // Asked for from the start, so a stop during start-up still stops what started.
  const stopAsked = Promise.race([
    untilSignal(),
    new Promise((resolve) => process.stdin.once('end', resolve).resume()),
  ]);
  const config = loadConfig();
  // stdout carries the one JSON line; logs go to stderr.
  const logger = createLogger(config.logLevel, 'herald-services', pino.destination(2));
  const services = await startEmbeddedServices({
    dataDir: config.dataDir,
    postgresPort: config.embedded.postgresPort,
    temporalPort: config.embedded.temporalPort,
    uiPort: config.embedded.temporalUiPort,
    namespace: config.temporal.namespace,
    ephemeral: config.embedded.ephemeral,
    logger,
  });
  process.stdout.write(
    `${JSON.stringify({ databaseUrl: services.databaseUrl, temporalAddress: services.temporalAddress, temporalUiUrl: services.temporalUiUrl })}\n`,
  );
  await stopAsked;
  await services.stop();
});
