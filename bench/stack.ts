/**
 * The stack under test: embedded PostgreSQL and Temporal (or DATABASE_URL and TEMPORAL_ADDRESS),
 * migrations, the pre-bundled workflows, the receiver, and the API and one worker as child
 * processes started exactly as `npm start` starts them (spawnEntry).
 */
import { type ChildProcess, fork, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import pino from 'pino';
import { spawnEntry, stopChild } from '../src/cli/spawn';
import { migrate } from '../src/db/migrate';
import { createPool, type Pool } from '../src/db/pool';
import { startEmbeddedServices } from '../src/embedded/services';
import { createSecretCipher, generateEncryptionKey } from '../src/secret-cipher';
import { launchCluster } from '../test/cluster/cluster-process';
import { freePort } from '../test/support/ports';

export const ROOT = path.resolve(__dirname, '..');

export { freePort } from '../test/support/ports';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A forked TypeScript child with an IPC channel (tsx, as the rest of the bench). */
export function forkTs(file: string, env?: NodeJS.ProcessEnv): ChildProcess {
  return fork(path.join(__dirname, file), [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env,
  });
}

/** The receiver process and a request/answer wrapper over its IPC channel. */
/** A Temporal dev server alone, in a fresh data directory, for the bench scripts that need no PostgreSQL. */
export async function startTemporalOnly(prefix: string) {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), prefix));
  const services = await startEmbeddedServices({
    dataDir,
    databaseUrl: 'postgres://unused', // only Temporal is needed
    postgresPort: 0,
    temporalPort: await freePort(),
    namespace: 'default',
    logger: pino({ level: 'warn' }),
  });
  return {
    address: services.temporalAddress,
    pid: services.temporalPid!,
    async stop() {
      await services.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function startReceiver() {
  const child = forkTs('receiver.ts');
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`receiver exited with ${code}`)));
    child.on('message', (m: { ready?: boolean; port?: number }) => {
      if (m.ready && m.port) resolve(m.port);
    });
  });
  let nextId = 1;
  const waiting = new Map<number, (m: unknown) => void>();
  child.on('message', (m: { id?: number }) => {
    if (m.id === undefined) return;
    waiting.get(m.id)?.(m);
    waiting.delete(m.id);
  });
  function call<T>(cmd: string, scenario: string): Promise<T> {
    const id = nextId++;
    return new Promise<T>((resolve) => {
      waiting.set(id, resolve as (m: unknown) => void);
      child.send({ id, cmd, scenario });
    });
  }
  return {
    pid: child.pid!,
    url: (p: string) => `http://127.0.0.1:${port}${p}`,
    count: (scenario: string) =>
      call<{ unique: number; ok: number; requests: number; last: number }>('count', scenario),
    summary: (scenario: string) =>
      call<{ keys: string[]; first: number[]; scheduledAt: number[]; ok: number[]; requests: number[] }>(
        'summary',
        scenario,
      ),
    forget: (scenario: string) => call('forget', scenario),
    stop: () => child.kill('SIGTERM'),
  };
}

export type Receiver = Awaited<ReturnType<typeof startReceiver>>;

export interface StackOptions {
  dataDir: string;
  /** Extra `temporal server start-dev` flags for this run. */
  temporalArgs: string[];
  /** Extra environment for the API and the worker (retry settings, NODE_OPTIONS for profiles). */
  env: Record<string, string>;
  apiEnv?: Record<string, string>;
  workerEnv?: Record<string, string>;
  log: (line: string) => void;
}

export interface Stack {
  apiUrl: string;
  adminToken: string;
  pool: Pool;
  temporal: Connection;
  namespace: string;
  taskQueue: string;
  /** Processes measured: the dev server is `temporal`; the cluster's services have their own names. */
  pids: { api: number; worker: number; postgres?: number } & Record<string, number | undefined>;
  temporalMetricsUrl?: string;
  /** The worker's own metrics and its Temporal SDK's, for the phases of a delivery. */
  workerMetricsUrls: { herald: string; sdk: string };
  /** The worker's environment (Temporal's address and TLS settings among it), for the floor's process. */
  workerEnv: NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

/** Brings everything up; on any failure, stops what it started and rethrows. */
export async function startStack(opts: StackOptions): Promise<Stack> {
  const stops: (() => Promise<unknown>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch(() => {});
  };
  try {
    const logger = pino({ level: 'warn' }, pino.destination(2));
    // BENCH_TOPOLOGY=cluster: Temporal's production topology (test/cluster), BENCH_SHARDS history shards.
    const cluster =
      process.env.BENCH_TOPOLOGY === 'cluster'
        ? await launchCluster({
            dir: path.join(opts.dataDir, 'cluster'),
            shards: Number(process.env.BENCH_SHARDS ?? 4),
            ephemeral: process.env.BENCH_EPHEMERAL === 'true',
            log: opts.log,
          })
        : undefined;
    if (cluster) stops.push(() => cluster.stop());
    const external = Boolean(process.env.DATABASE_URL && process.env.TEMPORAL_ADDRESS);
    const temporalMetricsPort = await freePort();
    const services = await startEmbeddedServices({
      dataDir: opts.dataDir,
      databaseUrl: cluster?.databaseUrl ?? (process.env.DATABASE_URL || undefined),
      temporalAddress: cluster?.address ?? (process.env.TEMPORAL_ADDRESS || undefined),
      postgresPort: await freePort(),
      temporalPort: await freePort(),
      namespace: 'default',
      ephemeral: process.env.BENCH_EPHEMERAL === 'true',
      logger,
      temporalArgs: ['--metrics-port', String(temporalMetricsPort), ...opts.temporalArgs],
    });
    stops.push(() => services.stop());
    opts.log(
      cluster
        ? `services: Temporal cluster (frontend, history, matching, worker processes; ${cluster.shards} shards; mTLS) in ${opts.dataDir}`
        : external
          ? `services: ${process.env.TEMPORAL_ADDRESS} and DATABASE_URL from the environment`
          : `services: embedded PostgreSQL and Temporal dev server (pid ${services.temporalPid}) in ${opts.dataDir}`,
    );

    const pool = createPool(services.databaseUrl, 4);
    stops.push(() => pool.end());
    const encryptionKey = generateEncryptionKey();
    await migrate(pool, createSecretCipher([Buffer.from(encryptionKey, 'base64')]));

    // Experiments may bring their own bundle (a variant of the workflows) in BENCH_WORKFLOW_BUNDLE.
    const bundle = process.env.BENCH_WORKFLOW_BUNDLE || path.join(opts.dataDir, 'workflow-bundle.js');
    if (!process.env.BENCH_WORKFLOW_BUNDLE) {
      const built = spawnSync(
        process.execPath,
        ['--import', 'tsx', path.join(ROOT, 'scripts/bundle-workflows.ts'), bundle],
        { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] },
      );
      if (built.status !== 0) throw new Error('bundling the workflows failed');
    }

    const port = await freePort();
    const adminToken = `hadm_bench_${randomBytes(16).toString('hex')}`;
    const taskQueue = `herald-bench-${randomBytes(4).toString('hex')}`;
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      DATABASE_URL: services.databaseUrl,
      TEMPORAL_ADDRESS: services.temporalAddress,
      ...cluster?.heraldEnv,
      TEMPORAL_TASK_QUEUE: taskQueue,
      HERALD_DATA_DIR: opts.dataDir,
      HERALD_ADMIN_TOKEN: adminToken,
      HERALD_ENCRYPTION_KEY: encryptionKey,
      HERALD_ALLOW_HTTP: 'true',
      HERALD_ALLOWED_NETWORKS: '127.0.0.0/8',
      HERALD_WORKFLOW_BUNDLE: bundle,
      LOG_LEVEL: 'warn',
      PORT: String(port),
      HERALD_METRICS_PORT: '0',
      ...opts.env,
    };
    // The worker serves Herald's metrics here and the Temporal SDK's on the next port (src/cli/worker.ts).
    const workerMetricsPort = await freePort();
    const worker = spawnEntry('worker', {
      ...env,
      HERALD_METRICS_PORT: String(workerMetricsPort),
      ...opts.workerEnv,
    });
    stops.push(() => stopChild(worker));
    const api = spawnEntry('api', { ...env, ...opts.apiEnv });
    stops.push(() => stopChild(api));
    const apiUrl = `http://127.0.0.1:${port}`;
    await waitForReady(`${apiUrl}/readyz`, [api, worker]);

    const temporal = cluster
      ? await cluster.connect()
      : await Connection.connect({ address: services.temporalAddress });
    stops.push(() => temporal.close());
    const postgresPid = postmasterPid(path.join(opts.dataDir, 'postgres'));
    return {
      apiUrl,
      adminToken,
      pool,
      temporal,
      namespace: 'default',
      taskQueue,
      pids: cluster
        ? {
            api: api.pid!,
            worker: worker.pid!,
            frontend: cluster.pids().frontend,
            history: cluster.pids().history,
            matching: cluster.pids().matching,
            'temporal-worker': cluster.pids().worker,
            postgres: cluster.pids().postgres,
          }
        : { api: api.pid!, worker: worker.pid!, temporal: services.temporalPid, postgres: postgresPid },
      // The cluster's persistence metrics come from its history service, which does most writes.
      temporalMetricsUrl: cluster
        ? cluster.metricsUrls.history
        : services.temporalPid
          ? `http://127.0.0.1:${temporalMetricsPort}/metrics`
          : undefined,
      workerMetricsUrls: {
        herald: `http://127.0.0.1:${workerMetricsPort}/metrics`,
        sdk: `http://127.0.0.1:${workerMetricsPort + 1}/metrics`,
      },
      workerEnv: { ...env, ...opts.workerEnv },
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

function postmasterPid(dir: string): number | undefined {
  const file = path.join(dir, 'postmaster.pid');
  if (!existsSync(file)) return undefined;
  return Number.parseInt(readFileSync(file, 'utf8').split('\n')[0], 10) || undefined;
}

async function waitForReady(url: string, children: ChildProcess[]): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const dead = children.find((c) => c.exitCode !== null);
    if (dead) throw new Error(`a Herald process exited with ${dead.exitCode} during start-up`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {}
    await sleep(250);
  }
  throw new Error('the API did not become ready in 120 s');
}
