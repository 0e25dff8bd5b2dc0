/**
 * Herald's own processes against a cluster: the API and workers as `npm run api` / `npm run worker`
 * would run them (spawnEntry), configured by environment alone. The parent's TEMPORAL_*, PG* and
 * DATABASE_URL never leak in, and XDG_CONFIG_HOME points at an empty folder so no Temporal profile
 * file of this machine is read: what reaches Temporal is exactly what the environment here says.
 */
import type { ChildProcess } from 'node:child_process';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { spawnEntry, stopChild } from '../../src/cli/spawn';
import { generateEncryptionKey } from '../../src/secret-cipher';
import { eventually } from '../support/client';
import { freePort } from '../support/ports';
import type { Cluster } from './topology';

const ROOT = path.resolve(__dirname, '../..');

/** The workflow code bundled once per run, as `npm run build` does for production. */
export function bundleWorkflows(dir: string): string {
  const bundle = path.join(dir, 'workflow-bundle.js');
  const built = spawnSync(
    process.execPath,
    ['--import', 'tsx', path.join(ROOT, 'scripts/bundle-workflows.ts'), bundle],
    { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] },
  );
  if (built.status !== 0) throw new Error('bundling the workflows failed');
  return bundle;
}

/** The environment of this process without anything that names a service or a Temporal profile. */
export function cleanEnv(dir: string): NodeJS.ProcessEnv {
  const xdg = path.join(dir, 'xdg-empty');
  mkdirSync(xdg, { recursive: true });
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !/^(TEMPORAL_|PG|DATABASE_URL$|HERALD_)/.test(k)),
  );
  return { ...env, XDG_CONFIG_HOME: xdg };
}

export interface HeraldProcess {
  child: ChildProcess;
  /** What it wrote to stderr, for one-line checks (last 8 kB). */
  stderr(): string;
  exited: Promise<number | null>;
}

export function spawnHerald(name: 'api' | 'worker', env: NodeJS.ProcessEnv): HeraldProcess {
  const child = spawnEntry(name, env, 'pipe');
  let stderr = '';
  child.stdout?.resume();
  child.stderr?.on('data', (c) => {
    stderr = (stderr + c).slice(-8000);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, stderr: () => stderr, exited };
}

export interface HeraldDeployment {
  apiUrl: string;
  adminToken: string;
  /** API and worker environment: the cluster's TLS variables, the database, test settings. */
  env: NodeJS.ProcessEnv;
  api: HeraldProcess;
  workers: HeraldProcess[];
  startWorker(): HeraldProcess;
  stop(): Promise<void>;
}

/** Starts an API and `workers` workers against the cluster and waits until the API is ready. */
export async function startHerald(opts: {
  cluster: Cluster;
  dir: string;
  bundle: string;
  workers: number;
  env?: Record<string, string>;
}): Promise<HeraldDeployment> {
  const port = await freePort();
  const adminToken = `hadm_cluster_${randomBytes(16).toString('hex')}`;
  const env: NodeJS.ProcessEnv = {
    ...cleanEnv(opts.dir),
    ...opts.cluster.heraldEnv,
    DATABASE_URL: opts.cluster.databaseUrl,
    TEMPORAL_TASK_QUEUE: `herald-cluster-${randomBytes(4).toString('hex')}`,
    HERALD_ADMIN_TOKEN: adminToken,
    // As in production: every process is given the key, none generates one.
    HERALD_ENCRYPTION_KEY: generateEncryptionKey(),
    HERALD_DATA_DIR: path.join(opts.dir, 'herald-data'),
    HERALD_WORKFLOW_BUNDLE: opts.bundle,
    HERALD_METRICS_PORT: '0',
    PORT: String(port),
    LOG_LEVEL: 'warn',
    ...opts.env,
  };
  const api = spawnHerald('api', env);
  const workers: HeraldProcess[] = [];
  const startWorker = () => {
    const w = spawnHerald('worker', env);
    workers.push(w);
    return w;
  };
  for (let i = 0; i < opts.workers; i++) startWorker();
  const apiUrl = `http://127.0.0.1:${port}`;
  const stop = async () => {
    for (const w of workers) await stopChild(w.child);
    await stopChild(api.child);
  };
  try {
    await eventually(
      async () => {
        const dead = [api, ...workers].find((p) => p.child.exitCode !== null);
        if (dead) throw new Error(`a Herald process exited with ${dead.child.exitCode}: ${dead.stderr()}`);
        return (await fetch(`${apiUrl}/readyz`)).ok;
      },
      120_000,
      200,
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return { apiUrl, adminToken, env, api, workers, startWorker, stop };
}
