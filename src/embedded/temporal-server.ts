import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import type { Logger } from '../logger';

/** Herald's search attributes; the compose file registers the same set. */
export const SEARCH_ATTRIBUTES = ['HeraldApplicationId', 'HeraldWebhookId', 'HeraldEventType'] as const;

export interface DevServer {
  address: string;
  uiUrl: string | undefined;
  process: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Starts `temporal server start-dev` with SQLite persistence in `dir` (WAL journal), Herald's
 * search attributes registered, and waits until its frontend answers.
 */
export async function startTemporalDevServer(opts: {
  cli: string;
  dir: string;
  port: number;
  uiPort?: number; // omitted: headless
  namespace: string;
  logger: Logger;
  /** More `start-dev` flags (the benchmark adds --metrics-port and dynamic config). */
  extraArgs?: string[];
}): Promise<DevServer> {
  await mkdir(opts.dir, { recursive: true });
  const args = [
    'server',
    'start-dev',
    '--db-filename',
    path.join(opts.dir, 'temporal.db'),
    '--sqlite-pragma',
    'journal_mode=wal',
    '--sqlite-pragma',
    'synchronous=normal',
    '--ip',
    '127.0.0.1',
    '--port',
    String(opts.port),
    '--namespace',
    opts.namespace,
    '--log-level',
    'warn',
    ...SEARCH_ATTRIBUTES.flatMap((name) => ['--search-attribute', `${name}=Keyword`]),
    // Timers (sync intervals, retry backoff) otherwise fire up to 1 s late: the timer queue reads
    // this far ahead of now. 10 ms keeps a 50 ms sync interval a 50 ms interval.
    '--dynamic-config-value',
    'history.timerProcessorMaxTimeShift="10ms"',
    // The dev server otherwise re-reads search attributes from SQLite on every use: 8 cluster
    // metadata and 3 namespace reads per delivery workflow. Herald registers its attributes at
    // start, so the cache is safe: Temporal CPU per delivery -15 % (docs/performance.md).
    '--dynamic-config-value',
    'system.forceSearchAttributesCacheRefreshOnRead=false',
    // A workflow task that schedules activities gets them back in its completion (the worker keeps
    // slots for them), saving a poll and a matching round trip each: a sync's requests.
    '--dynamic-config-value',
    'system.enableActivityEagerExecution=true',
    // A worker that starts a delivery's workflow gets its first task in the answer (src/temporal/starter.ts).
    '--dynamic-config-value',
    'system.enableEagerWorkflowStart=true',
    ...(opts.uiPort ? ['--ui-port', String(opts.uiPort)] : ['--headless']),
    ...(opts.extraArgs ?? []),
  ];
  const child = spawn(opts.cli, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
    opts.logger.debug({ temporal: chunk.toString().trim() });
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const address = `127.0.0.1:${opts.port}`;

  const deadline = Date.now() + 60_000;
  for (;;) {
    const code = await Promise.race([exited, new Promise<'wait'>((r) => setTimeout(() => r('wait'), 250))]);
    if (code !== 'wait') throw new Error(`temporal server exited with ${code}: ${output.trim()}`);
    if (await frontendReady(address)) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`temporal server did not become ready in 60 s: ${output.trim()}`);
    }
  }
  return {
    address,
    uiUrl: opts.uiPort ? `http://localhost:${opts.uiPort}` : undefined,
    process: child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

async function frontendReady(address: string): Promise<boolean> {
  const [host, port] = address.split(':');
  const open = await new Promise<boolean>((resolve) => {
    const socket = net.connect(Number(port), host, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
  if (!open) return false;
  try {
    const connection = await Connection.connect({ address, connectTimeout: 2_000 });
    try {
      await connection.workflowService.getSystemInfo({});
      return true;
    } finally {
      await connection.close();
    }
  } catch {
    return false;
  }
}
