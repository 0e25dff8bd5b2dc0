import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

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
