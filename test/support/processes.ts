import type { ChildProcess } from 'node:child_process';
import { spawnEntry, stopChild } from '../../src/cli/spawn';
import type { Stack } from './stack';

/** A worker in a process of its own (so a test can SIGKILL it), configured like the stack. */
export function spawnWorker(stack: Stack, extraEnv: Record<string, string> = {}): ChildProcess {
  const env = {
    ...process.env,
    ...stack.env,
    DATABASE_URL: stack.databaseUrl,
    TEMPORAL_ADDRESS: stack.temporalAddress,
    ...extraEnv,
  };
  const child = spawnEntry('worker', env, 'pipe');
  child.stdout?.resume();
  let stderr = '';
  child.stderr?.on('data', (c) => {
    stderr = (stderr + c).slice(-4000);
  });
  child.once('exit', (code, signal) => {
    if (code && code !== 0) console.error(`worker exited with ${code} ${signal ?? ''}: ${stderr}`);
  });
  return child;
}

export { stopChild };
