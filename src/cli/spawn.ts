import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';

/**
 * Starts another Herald entry point (api, worker, services) as a child process: the compiled
 * file when running from dist/, the TypeScript source through tsx otherwise. An IPC channel
 * carries the child's `ready` message (see `announceReady`).
 */
export function spawnEntry(
  name: 'api' | 'worker' | 'services',
  env: NodeJS.ProcessEnv,
  stdio: 'inherit' | 'pipe' = 'inherit',
): ChildProcess {
  const compiled = __filename.endsWith('.js');
  const file = path.join(__dirname, `${name}${compiled ? '.js' : '.ts'}`);
  const args = compiled ? [file] : ['--import', 'tsx', file];
  return spawn(process.execPath, args, { env, stdio: ['pipe', stdio, stdio, 'ipc'] });
}

/** Sends SIGTERM and waits for the exit, escalating to SIGKILL after `graceMs`. */
export async function stopChild(child: ChildProcess, graceMs = 25_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** Tells a parent that spawned this process with `spawnEntry` that it is up; nothing without one. */
export function announceReady(): void {
  if (!process.send) return;
  process.send('ready');
  // The channel must not keep this process alive once its work is done.
  process.channel?.unref();
}

/** Resolves when the child says it is ready (`announceReady`). */
export function readyMessage(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    const onMessage = (message: unknown) => {
      if (message !== 'ready') return;
      child.off('message', onMessage);
      resolve();
    };
    child.on('message', onMessage);
  });
}
