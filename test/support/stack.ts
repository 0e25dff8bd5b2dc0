import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Worker } from '@temporalio/worker';
import pg from 'pg';
import type { DestinationStream } from 'pino';
import { type ApiServer, startApiServer } from '../../src/api/server';
import { type Config, loadConfig } from '../../src/config';
import { migrate } from '../../src/db/migrate';
import { createPool, type Pool } from '../../src/db/pool';
import { resolveSecretCipher } from '../../src/encryption-key';
import { createLogger } from '../../src/logger';
import { createMetrics } from '../../src/metrics';
import { createHeraldWorker } from '../../src/temporal/worker';

export interface SharedServices {
  databaseUrl: string;
  temporalAddress: string;
  bundle: string;
  dataDir: string;
}

export function sharedServices(): SharedServices {
  const file = process.env.HERALD_TEST_STATE;
  if (!file) throw new Error('HERALD_TEST_STATE is not set: run the tests through jest (npm test)');
  return JSON.parse(readFileSync(file, 'utf8'));
}

/** A new, empty database on the shared server (or the one `serverUrl` names). */
export async function emptyDatabase(serverUrl?: string): Promise<string> {
  const databaseUrl = serverUrl ?? sharedServices().databaseUrl;
  const name = `herald_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(databaseUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** A fresh database on the shared server (or the one `serverUrl` names), migrated. */
export async function freshDatabase(serverUrl?: string): Promise<string> {
  const url = await emptyDatabase(serverUrl);
  const pool = createPool(url, 1);
  await migrate(pool, await resolveSecretCipher(loadConfig({ HERALD_DATA_DIR: sharedServices().dataDir })));
  await pool.end();
  return url;
}

/** The no-cache project's worker cache (its jest globals), or HERALD_TEST_WORKER_CACHE when run by hand. */
function workerCache(): string | undefined {
  return (
    (globalThis as { HERALD_TEST_WORKER_CACHE?: string }).HERALD_TEST_WORKER_CACHE ??
    process.env.HERALD_TEST_WORKER_CACHE
  );
}

/** Settings tests use: loopback allowed, http allowed, short retries; overridable per test. */
export function testEnv(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    PORT: '0',
    HERALD_ALLOW_HTTP: 'true',
    HERALD_ALLOWED_NETWORKS: '127.0.0.0/8,::1/128',
    HERALD_RETRY_INITIAL_MS: '100',
    HERALD_RETRY_BACKOFF: '2',
    HERALD_RETRY_MAX_INTERVAL_MS: '1000',
    HERALD_RETRY_MAX_ATTEMPTS: '4',
    HERALD_REQUEST_TIMEOUT_MS: '2000',
    TEMPORAL_TASK_QUEUE: `herald-test-${randomBytes(4).toString('hex')}`,
    HERALD_METRICS_PORT: '0',
    LOG_LEVEL: 'silent',
    // The no-cache project (jest.config.js) runs the suite with a worker that replays every task.
    ...(workerCache() === undefined ? {} : { HERALD_WORKER_CACHED_WORKFLOWS: workerCache() }),
    ...overrides,
  };
}

export interface Stack {
  config: Config;
  env: Record<string, string>;
  databaseUrl: string;
  temporalAddress: string;
  adminToken: string;
  api: ApiServer;
  pool: Pool;
  /** The in-process worker, when the stack has one. */
  worker?: Worker;
  startWorker(): Promise<void>;
  stopWorker(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The real thing in one process: an API on a free port and (unless `worker: false`) a worker,
 * over a fresh database and a task queue of the test's own, on the shared Temporal server.
 */
export async function startStack(
  opts: {
    env?: Record<string, string>;
    worker?: boolean;
    /** Where the API's and the worker's logs go (default: stdout), for tests that read them. */
    logDestination?: DestinationStream;
    /** A Temporal server of the test's own (fault tests restart it) instead of the shared one. */
    temporalAddress?: string;
    /** A migrated database of the test's own (on a PostgreSQL it stops) instead of a fresh one on the shared server. */
    databaseUrl?: string;
  } = {},
): Promise<Stack> {
  const shared = sharedServices();
  const services = { ...shared, temporalAddress: opts.temporalAddress ?? shared.temporalAddress };
  const databaseUrl = opts.databaseUrl ?? (await freshDatabase());
  // The encryption key is generated into the run's data directory, as `npm start` does into its own.
  const env = testEnv({ HERALD_DATA_DIR: shared.dataDir, ...opts.env });
  const config = loadConfig(env);
  const secretCipher = await resolveSecretCipher(config);
  const adminToken = `hadm_test_${randomBytes(16).toString('hex')}`;
  const logger = createLogger(config.logLevel, 'test', opts.logDestination);
  const api = await startApiServer({
    config,
    databaseUrl,
    temporalAddress: services.temporalAddress,
    adminToken,
    secretCipher,
    logger,
  });
  const pool = createPool(databaseUrl, 5);
  let running: { worker: Worker; done: Promise<void>; pool: Pool } | undefined;

  const stack: Stack = {
    config,
    env,
    databaseUrl,
    temporalAddress: services.temporalAddress,
    adminToken,
    api,
    pool,
    async startWorker() {
      const workerPool = createPool(databaseUrl, 20);
      const { worker, run } = await createHeraldWorker({
        config,
        address: services.temporalAddress,
        pool: workerPool,
        logger,
        metrics: createMetrics(),
        secretCipher,
        workflowBundlePath: services.bundle,
      });
      running = { worker, done: run(), pool: workerPool };
      stack.worker = worker;
    },
    async stopWorker() {
      if (!running) return;
      running.worker.shutdown();
      await running.done;
      await running.pool.end();
      running = undefined;
      stack.worker = undefined;
    },
    async stop() {
      await stack.stopWorker();
      await api.close();
      await pool.end();
    },
  };
  if (opts.worker !== false) await stack.startWorker();
  return stack;
}
