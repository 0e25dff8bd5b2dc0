import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../logger';
import { StartupError } from '../startup-error';
import { PortInUseError, portInUseMessage, temporalAnswers } from './ports';

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
    // this far ahead of now. At 10 ms each timer takes about two reads of the queue, which its
    // default of 20 reads a second then paced: a sync at 50 ms sent every 200-300 ms; with 1,000,
    // about every 100 ms.
    '--dynamic-config-value',
    'history.timerProcessorMaxTimeShift="10ms"',
    '--dynamic-config-value',
    'history.timerProcessorMaxPollRPS=1000',
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
  // 'error' (the CLI cannot be run at all) comes without an 'exit'.
  const exited = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) =>
      resolve(signal ? `was killed by ${signal}` : `exited with code ${code}`),
    );
    child.once('error', (err) => resolve(`could not be run (${err.message})`));
  });
  const address = `127.0.0.1:${opts.port}`;

  const deadline = Date.now() + 60_000;
  for (;;) {
    const ended = await Promise.race([exited, new Promise<'wait'>((r) => setTimeout(() => r('wait'), 250))]);
    if (ended !== 'wait') throw await startFailure(ended, output);
    if (await temporalAnswers(address)) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      await exited;
      throw new StartupError(
        `the Temporal dev server did not answer on ${address} within 60 s: ${lastMessage(output)}`,
      );
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

/**
 * Why the dev server ended before answering, in one line: a taken port (the CLI says "can't set
 * frontend port 7233: listen tcp ...: bind: address already in use") becomes the port's message.
 */
async function startFailure(ended: string, output: string): Promise<StartupError> {
  const taken = /can't set (frontend|UI) port (\d+):[^\n]*address already in use/i.exec(output);
  if (taken) {
    const role = taken[1] === 'UI' ? 'temporalUi' : 'temporal';
    return new PortInUseError(await portInUseMessage({ role, port: Number(taken[2]) }));
  }
  return new StartupError(`the Temporal dev server ${ended}: ${lastMessage(output)}`);
}

/** The CLI's last error (its `msg="..."`), else its last line of output; one line either way. */
function lastMessage(output: string): string {
  const lines = output
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  const errors = lines.filter((line) => /level=(ERROR|FATAL)|^Error:/i.test(line));
  const line = errors.at(-1) ?? lines.at(-1);
  if (!line) return 'it printed nothing';
  const msg = /msg="((?:[^"\\]|\\.)*)"/.exec(line);
  return (msg ? msg[1] : line).slice(0, 500);
}
