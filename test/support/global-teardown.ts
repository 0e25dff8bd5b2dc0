import type { ChildProcess } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { STATE_FILE } from './global-setup';

export default async function globalTeardown(): Promise<void> {
  const child = (globalThis as Record<string, unknown>).__heraldServices as ChildProcess | undefined;
  if (child && child.exitCode === null) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(timer);
  }
  try {
    const { dataDir } = JSON.parse(readFileSync(STATE_FILE, 'utf8'));
    if (!process.env.HERALD_TEST_KEEP) rmSync(dataDir, { recursive: true, force: true });
  } catch {}
  rmSync(STATE_FILE, { force: true });
}
