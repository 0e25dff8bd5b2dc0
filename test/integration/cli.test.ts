import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { PortInUseError } from '../../src/embedded/ports';
import { findTemporalCli } from '../../src/embedded/temporal-cli';
import { startTemporalDevServer } from '../../src/embedded/temporal-server';
import { createLogger } from '../../src/logger';
import { freePort } from '../support/ports';
import { freshDatabase, sharedServices } from '../support/stack';

const root = path.resolve(__dirname, '../..');

/** Runs a Herald entry point from source with exactly `env` (plus what node itself needs). */
function run(file: string, env: Record<string, string>) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', path.join(root, file)], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: result.status, stderr: result.stderr.trim(), stdout: result.stdout.trim() };
}

test('a bad value ends with one line naming the variable and a non-zero exit', () => {
  const { code, stderr } = run('src/cli/api.ts', {
    PORT: 'abc',
    DATABASE_URL: 'postgres://x@127.0.0.1:1/x',
    TEMPORAL_ADDRESS: '127.0.0.1:1',
  });
  expect(code).toBe(1);
  expect(stderr.split('\n')).toHaveLength(1);
  expect(stderr).toMatch(/^herald api: invalid configuration: PORT: /);
});

test('an unreachable DATABASE_URL is named in one line', () => {
  const { code, stderr } = run('src/cli/worker.ts', {
    DATABASE_URL: 'postgres://herald:secret-pw@127.0.0.1:1/herald',
    TEMPORAL_ADDRESS: '127.0.0.1:1',
  });
  expect(code).toBe(1);
  expect(stderr.split('\n')).toHaveLength(1);
  expect(stderr).toMatch(/^herald worker: DATABASE_URL: cannot connect to PostgreSQL at 127\.0\.0\.1:1/);
  expect(stderr).not.toContain('secret-pw');
});

test('production entry points say which service is missing', () => {
  const { code, stderr } = run('src/cli/api.ts', {});
  expect(code).toBe(1);
  expect(stderr).toMatch(/DATABASE_URL is required/);
});

test('without the Temporal CLI and without Go, set-up names the ways out', () => {
  // An empty PATH (no temporal, no go) and a HOME without ~/go/bin.
  const home = mkdtempSync(path.join(os.tmpdir(), 'herald-home-'));
  const result = spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'scripts/setup.ts')], {
    cwd: root,
    env: { PATH: '/nonexistent', HOME: home },
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (result.status === 0) {
    // The project's own .tools/bin holds a CLI (a fresh clone has none): then it is found there.
    expect(result.stdout).toContain(path.join(root, '.tools/bin/temporal'));
    return;
  }
  expect(result.status).toBe(1);
  expect(result.stderr.trim().split('\n')).toHaveLength(1);
  expect(result.stderr).toMatch(/install the CLI/);
  expect(result.stderr).toMatch(/TEMPORAL_ADDRESS/);
});

// --- Start-up failures: a taken port, a child that fails, never "undefined", nothing left behind.

/** Runs an entry point from source without blocking this process (whose listeners must answer). */
function runAsync(
  file: string,
  env: Record<string, string>,
  opts: { args?: string[]; timeoutMs?: number } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const timeoutMs = opts.timeoutMs ?? 90_000;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, file), ...(opts.args ?? [])], {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => {
      stdout += c;
    });
    child.stderr.on('data', (c) => {
      stderr += c;
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${file} did not end within ${timeoutMs} ms: ${stderr}`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: stdout.trim(), stderr: stderr.trim() });
    });
  });
}

/** A listener of the test's own on loopback, holding a port the way another program would. */
async function occupy(port = 0): Promise<net.Server & { port: number }> {
  const server = net.createServer((socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return Object.assign(server, { port: (server.address() as net.AddressInfo).port });
}

function close(server: net.Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/** Whether this process can listen on the port now, that is, nobody holds it. */
function free(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** `npm start`'s environment with every port free and a data directory of its own. */
async function startEnv(overrides: Record<string, string> = {}): Promise<Record<string, string>> {
  return {
    HERALD_DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'herald-start-')),
    PORT: String(await freePort()),
    HERALD_PG_PORT: String(await freePort()),
    HERALD_TEMPORAL_PORT: String(await freePort()),
    HERALD_TEMPORAL_UI_PORT: String(await freePort()),
    HERALD_EPHEMERAL: 'true',
    LOG_LEVEL: 'warn',
    ...overrides,
  };
}

/** One `herald start:` line per reason, a non-zero exit, and no "undefined" anywhere. */
function expectFailure(result: { code: number | null; stdout: string; stderr: string }): string[] {
  expect(result.code).toBe(1);
  expect(`${result.stdout}\n${result.stderr}`).not.toMatch(/undefined/);
  return result.stderr.split('\n').filter((line) => line.startsWith('herald start: '));
}

const conflicts = [
  { role: 'the API', variable: 'PORT', also: undefined },
  { role: 'embedded PostgreSQL', variable: 'HERALD_PG_PORT', also: 'DATABASE_URL' },
  { role: 'the embedded Temporal server', variable: 'HERALD_TEMPORAL_PORT', also: 'TEMPORAL_ADDRESS' },
  { role: 'the Temporal Web UI', variable: 'HERALD_TEMPORAL_UI_PORT', also: undefined },
] as const;

test.each(conflicts)(
  'npm start with $variable taken names the port and $variable, and starts nothing',
  async ({ role, variable, also }) => {
    const taken = await occupy();
    try {
      const env = await startEnv({ [variable]: String(taken.port) });
      const result = await runAsync('src/cli/start.ts', env);
      const lines = expectFailure(result);
      expect(lines).toEqual([expect.stringContaining(`port ${taken.port} (${role}) is already in use`)]);
      expect(lines[0]).toContain(`set ${variable} to another port`);
      if (also) expect(lines[0]).toContain(also);
      if (variable === 'HERALD_TEMPORAL_PORT') {
        expect(lines[0]).toContain(`TEMPORAL_ADDRESS=127.0.0.1:${taken.port} to use it instead`);
      }
      // Checked before anything started: every other port is still free, no PostgreSQL files.
      for (const other of conflicts.filter((c) => c.variable !== variable)) {
        expect(await free(Number(env[other.variable]))).toBe(true);
      }
      expect(existsSync(path.join(env.HERALD_DATA_DIR, 'postgres'))).toBe(false);
      rmSync(env.HERALD_DATA_DIR, { recursive: true, force: true });
    } finally {
      await close(taken);
    }
  },
);

test('a PostgreSQL or Temporal server already on the port is named, with the variable that uses it instead', async () => {
  const shared = sharedServices();
  const pgPort = new URL(shared.databaseUrl).port;
  const temporalPort = shared.temporalAddress.split(':')[1];
  const env = await startEnv({ HERALD_PG_PORT: pgPort, HERALD_TEMPORAL_PORT: temporalPort });
  const lines = expectFailure(await runAsync('src/cli/start.ts', env));
  expect(lines).toEqual([
    `herald start: port ${pgPort} (embedded PostgreSQL) is already in use by a PostgreSQL server: set DATABASE_URL to use it instead, or HERALD_PG_PORT to run the embedded one on another port`,
    `herald start: port ${temporalPort} (the embedded Temporal server) is already in use by a Temporal server: set TEMPORAL_ADDRESS=127.0.0.1:${temporalPort} to use it instead, or HERALD_TEMPORAL_PORT to run the embedded one on another port`,
  ]);
  rmSync(env.HERALD_DATA_DIR, { recursive: true, force: true });
});

test("a child's own port failure says the same: PostgreSQL's and the Temporal dev server's, past the check", async () => {
  // Straight to the launchers, as when the port is taken between the check and the child's bind.
  const pgTaken = await occupy();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'herald-child-'));
  try {
    const pg = await runAsync(
      'test/faults/postgres-process.ts',
      {},
      {
        args: [`${dir}/pg`, String(pgTaken.port)],
      },
    );
    expect(pg.code).toBe(1);
    expect(pg.stderr).toContain(
      `PortInUseError: port ${pgTaken.port} (embedded PostgreSQL) is already in use: set HERALD_PG_PORT to another port, or DATABASE_URL`,
    );
    expect(pg.stderr).not.toMatch(/undefined/);
  } finally {
    await close(pgTaken);
  }
  const cli = findTemporalCli();
  if (!cli) throw new Error('the Temporal CLI is needed (it runs the shared server too)');
  const logger = createLogger('silent', 'test');
  const frontend = await occupy();
  const ui = await occupy();
  try {
    const launch = (port: number, uiPort?: number) =>
      startTemporalDevServer({ cli, dir: `${dir}/temporal`, port, uiPort, namespace: 'default', logger });
    const taken = await launch(frontend.port).catch((err) => err);
    expect(taken).toBeInstanceOf(PortInUseError);
    expect(taken.message).toBe(
      `port ${frontend.port} (the embedded Temporal server) is already in use: set HERALD_TEMPORAL_PORT to another port, or, if a Temporal server listens there, TEMPORAL_ADDRESS=127.0.0.1:${frontend.port} to use it instead`,
    );
    const uiTaken = await launch(await freePort(), ui.port).catch((err) => err);
    expect(uiTaken).toBeInstanceOf(PortInUseError);
    expect(uiTaken.message).toBe(
      `port ${ui.port} (the Temporal Web UI) is already in use: set HERALD_TEMPORAL_UI_PORT to another port (0 runs no UI)`,
    );
  } finally {
    await close(frontend);
    await close(ui);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the API taking a port already in use says which and names PORT', async () => {
  const taken = await occupy();
  try {
    const result = await runAsync('src/cli/api.ts', {
      PORT: String(taken.port),
      DATABASE_URL: await freshDatabase(),
      TEMPORAL_ADDRESS: sharedServices().temporalAddress,
      HERALD_ADMIN_TOKEN: 'hadm_test_0123456789abcdef',
      HERALD_METRICS_PORT: '0',
      LOG_LEVEL: 'silent',
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `herald api: port ${taken.port} (the API) is already in use: set PORT to another port`,
    );
  } finally {
    await close(taken);
  }
});

test('a child that exits during start-up is named, and the embedded services it started are stopped', async () => {
  // The worker fails at once (no workflow code at that path); PostgreSQL and Temporal had started.
  const env = await startEnv({ HERALD_WORKFLOW_BUNDLE: '/nonexistent/workflow-bundle.js' });
  const result = await runAsync('src/cli/start.ts', env, { timeoutMs: 110_000 });
  const lines = expectFailure(result);
  expect(lines).toEqual([
    'herald start: the worker process exited with code 1 before Herald was ready (its reason is above)',
  ]);
  expect(result.stderr).toMatch(/herald worker: /);
  for (const variable of ['PORT', 'HERALD_PG_PORT', 'HERALD_TEMPORAL_PORT', 'HERALD_TEMPORAL_UI_PORT']) {
    expect(await free(Number(env[variable]))).toBe(true);
  }
  // PostgreSQL removes its pid file on a clean stop; the data directory lock is given back.
  expect(existsSync(path.join(env.HERALD_DATA_DIR, 'postgres', 'postmaster.pid'))).toBe(false);
  expect(existsSync(path.join(env.HERALD_DATA_DIR, 'embedded.pid'))).toBe(false);
  rmSync(env.HERALD_DATA_DIR, { recursive: true, force: true });
});
