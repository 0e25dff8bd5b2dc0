import type { ChildProcess } from 'node:child_process';
import { resolveAdminToken } from '../admin-token';
import { loadConfig } from '../config';
import { migrate } from '../db/migrate';
import { startEmbeddedServices } from '../embedded/services';
import { resolveSecretCipher } from '../encryption-key';
import { createLogger } from '../logger';
import { connectDatabase } from './connect';
import { runMain, StartupError, untilSignal } from './main';
import { readyMessage, spawnEntry, stopChild } from './spawn';

/**
 * `npm start`: everything on one machine. Embedded PostgreSQL and Temporal (unless DATABASE_URL
 * or TEMPORAL_ADDRESS name existing ones), migrations, then one API and one worker process.
 * Every port is checked before anything starts; a failure on the way stops whatever had started.
 * Ctrl-C or SIGTERM stops every child, also during start-up (after the step under way).
 */
runMain('start', async () => {
  const started = Date.now();
  // Listening from the start: a signal during start-up then stops what started instead of
  // ending this process and leaving its children behind.
  let signal: NodeJS.Signals | undefined;
  const signalled = untilSignal().then((s) => {
    signal = s;
    return s;
  });
  const interrupted = () => {
    if (signal) throw new StartupError(`start-up interrupted by ${signal}; stopped what had started`);
  };
  const config = loadConfig();
  const logger = createLogger(config.logLevel, 'herald');
  const adminToken = await resolveAdminToken(config);

  // Stopped in reverse order: the API, the worker, then the services.
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.splice(0).reverse()) await stop().catch(() => {});
  };
  const children = new Map<'worker' | 'api', ChildProcess>();
  let ui: string | undefined;
  try {
    const services = await startEmbeddedServices({
      dataDir: config.dataDir,
      databaseUrl: config.databaseUrl,
      temporalAddress: config.temporal.address,
      postgresPort: config.embedded.postgresPort,
      temporalPort: config.embedded.temporalPort,
      uiPort: config.embedded.temporalUiPort,
      namespace: config.temporal.namespace,
      ephemeral: config.embedded.ephemeral,
      logger,
      otherPorts: config.port ? [{ role: 'api', port: config.port }] : [],
    });
    stops.push(() => services.stop());
    interrupted();
    const pool = await connectDatabase(services.databaseUrl, 1);
    try {
      // The API and the worker find the same key: HERALD_ENCRYPTION_KEY, or the data directory's.
      await migrate(pool, await resolveSecretCipher(config));
    } finally {
      await pool.end();
    }

    const env: NodeJS.ProcessEnv = {
      ...process.env,
      DATABASE_URL: services.databaseUrl,
      TEMPORAL_ADDRESS: services.temporalAddress,
      HERALD_ADMIN_TOKEN: adminToken,
    };
    // Workflow links follow the embedded UI to the port it runs on.
    if (services.temporalUiUrl && !process.env.TEMPORAL_UI_URL) env.TEMPORAL_UI_URL = services.temporalUiUrl;
    ui = services.temporalUiUrl ?? (config.temporal.address ? config.temporal.uiUrl : undefined);
    for (const name of ['worker', 'api'] as const) {
      const child = spawnEntry(name, env);
      children.set(name, child);
      stops.push(() => stopChild(child));
    }
    // Ready is the worker polling (it loaded its workflow code) and the API answering /readyz.
    let workerReady = false;
    void readyMessage(children.get('worker')!).then(() => {
      workerReady = true;
    });
    interrupted();
    await waitForReady(`http://127.0.0.1:${config.port}/readyz`, () => workerReady, children, interrupted);
  } catch (err) {
    await stopAll();
    throw err;
  }

  process.stdout.write(
    `${[
      '',
      `Herald is up (${((Date.now() - started) / 1000).toFixed(1)} s)`,
      `  API          http://localhost:${config.port}/v1  (docs: /docs)`,
      `  Admin panel  http://localhost:${config.port}/`,
      `  Temporal UI  ${ui ?? 'none (HERALD_TEMPORAL_UI_PORT=0)'}`,
      `  Admin token  ${adminToken}`,
      '  Ctrl-C stops everything.',
      '',
    ].join('\n')}\n`,
  );

  const exitedEarly = new Promise<string>((resolve) => {
    for (const [name, child] of children) {
      const exited = () => resolve(`the ${name} process ${exitAccount(child.exitCode, child.signalCode)}`);
      if (child.exitCode !== null || child.signalCode !== null) exited();
      else child.once('exit', exited);
    }
  });
  const reason = await Promise.race([signalled, exitedEarly]);
  logger.info({ reason }, 'stopping');
  await stopAll();
  if (reason.startsWith('the ')) throw new StartupError(`${reason}; stopped everything`);
});

/**
 * Waits for /readyz to answer 200 and for the worker's ready message; a child that exits first,
 * or two minutes, is a StartupError.
 */
async function waitForReady(
  url: string,
  workerReady: () => boolean,
  children: Map<string, ChildProcess>,
  interrupted: () => void,
): Promise<void> {
  const deadline = Date.now() + 120_000;
  let last = `${url} did not answer`;
  while (Date.now() < deadline) {
    interrupted();
    for (const [name, child] of children) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new StartupError(
          `the ${name} process ${exitAccount(child.exitCode, child.signalCode)} before Herald was ready (its reason is above)`,
        );
      }
    }
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
      if (res.ok && workerReady()) return;
      last = res.ok
        ? 'the worker has not started polling'
        : `${url} answered ${res.status} ${(await res.text()).slice(0, 200)}`;
    } catch (err) {
      last = `${url}: ${(err as Error).message}`;
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new StartupError(`Herald did not become ready within 120 s (${last})`);
}

function exitAccount(code: number | null, signal: NodeJS.Signals | null): string {
  return signal ? `was killed by ${signal}` : `exited with code ${code}`;
}
