import { resolveAdminToken } from '../admin-token';
import { loadConfig } from '../config';
import { migrate } from '../db/migrate';
import { startEmbeddedServices } from '../embedded/services';
import { createLogger } from '../logger';
import { connectDatabase } from './connect';
import { runMain, untilSignal } from './main';
import { spawnEntry, stopChild } from './spawn';

const EMBEDDED_PG_PORT = 54329;
const EMBEDDED_TEMPORAL_PORT = 7233;
const EMBEDDED_UI_PORT = 8233;

/**
 * `npm start`: everything on one machine. Embedded PostgreSQL and Temporal (unless DATABASE_URL
 * or TEMPORAL_ADDRESS name existing ones), migrations, then one API and one worker process.
 * Ctrl-C or SIGTERM stops every child, workers first so in-flight attempts finish.
 */
runMain('start', async () => {
  const started = Date.now();
  const config = loadConfig();
  const logger = createLogger(config.logLevel, 'herald');
  const services = await startEmbeddedServices({
    dataDir: config.dataDir,
    databaseUrl: config.databaseUrl,
    temporalAddress: config.temporal.address,
    postgresPort: EMBEDDED_PG_PORT,
    temporalPort: EMBEDDED_TEMPORAL_PORT,
    uiPort: EMBEDDED_UI_PORT,
    namespace: config.temporal.namespace,
    logger,
  });
  const stopServices = async () => services.stop();
  try {
    const pool = await connectDatabase(services.databaseUrl, 1);
    await migrate(pool);
    await pool.end();
  } catch (err) {
    await stopServices();
    throw err;
  }

  const adminToken = await resolveAdminToken(config);
  const env = {
    ...process.env,
    DATABASE_URL: services.databaseUrl,
    TEMPORAL_ADDRESS: services.temporalAddress,
    HERALD_ADMIN_TOKEN: adminToken,
  };
  const worker = spawnEntry('worker', env);
  const api = spawnEntry('api', env);
  const children = [worker, api];

  const ready = await waitForReady(`http://127.0.0.1:${config.port}/readyz`, children);
  const ui = services.temporalUiUrl ?? config.temporal.uiUrl;
  process.stdout.write(
    ready
      ? `${[
          '',
          `Herald is up (${((Date.now() - started) / 1000).toFixed(1)} s)`,
          `  API          http://localhost:${config.port}/v1  (docs: /docs)`,
          `  Admin panel  http://localhost:${config.port}/`,
          `  Temporal UI  ${ui}`,
          `  Admin token  ${adminToken}`,
          '  Ctrl-C stops everything.',
          '',
        ].join('\n')}\n`
      : 'Herald did not become ready; see the messages above.\n',
  );

  const exitedEarly = new Promise<string>((resolve) => {
    for (const child of children) child.once('exit', (code) => resolve(`a child exited with ${code}`));
  });
  const reason = ready ? await Promise.race([untilSignal(), exitedEarly]) : 'not ready';
  logger.info({ reason }, 'stopping');
  await stopChild(api);
  await stopChild(worker);
  await stopServices();
  if (!ready || reason.startsWith('a child')) process.exitCode = 1;
});

async function waitForReady(url: string, children: { exitCode: number | null }[]): Promise<boolean> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (children.some((c) => c.exitCode !== null)) return false;
    try {
      const res = await fetch(url);
      if (res.ok) return true;
    } catch {}
    await new Promise((r) => setTimeout(r, 300));
  }
  return false;
}
