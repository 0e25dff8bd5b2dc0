import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './ports';

const root = path.resolve(__dirname, '../..');
export const STATE_FILE = path.join(os.tmpdir(), `herald-test-state-${process.ppid}-${process.pid}.json`);

/**
 * Starts one embedded PostgreSQL and one Temporal dev server for the whole run (through the
 * same `services` entry point developers use) and pre-bundles the workflows once. Each test file
 * then makes its own database and task queue, so files run in parallel without meeting.
 */
export default async function globalSetup(): Promise<void> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'herald-test-'));
  const bundle = path.join(dataDir, 'workflow-bundle.js');
  const built = spawnSync(
    process.execPath,
    ['--import', 'tsx', path.join(root, 'scripts/bundle-workflows.ts'), bundle],
    {
      cwd: root,
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
  if (built.status !== 0) throw new Error('bundling the workflows failed');

  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HERALD_DATA_DIR: dataDir,
    HERALD_PG_PORT: String(await freePort()),
    HERALD_TEMPORAL_PORT: String(await freePort()),
    HERALD_TEMPORAL_UI_PORT: '0',
    HERALD_EPHEMERAL: 'true',
    LOG_LEVEL: 'warn',
  };
  for (const name of ['DATABASE_URL', 'TEMPORAL_ADDRESS'] as const) delete env[name];
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'src/cli/services.ts')], {
    cwd: root,
    env,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk) => {
      out += chunk;
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve(out.slice(0, nl));
    });
    child.once('exit', (code) => reject(new Error(`the services process exited with ${code}`)));
  });
  const services = JSON.parse(line) as { databaseUrl: string; temporalAddress: string };
  const state = { ...services, bundle, dataDir, pid: child.pid };
  writeFileSync(STATE_FILE, JSON.stringify(state));
  process.env.HERALD_TEST_STATE = STATE_FILE;
  (globalThis as Record<string, unknown>).__heraldServices = child;
}
