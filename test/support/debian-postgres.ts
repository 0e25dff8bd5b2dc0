import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './ports';

/**
 * Debian's PostgreSQL 15 (`apt-get install postgresql-15`, as .ci/run does), for what needs its
 * client programs: the embedded PostgreSQL ships no pg_dump, and a pg_dump older than the server
 * refuses to dump it. A cluster of the test's own in a temporary directory, run as the `postgres`
 * user when this is root (PostgreSQL refuses to run as root).
 */
export const DEBIAN_PG_BIN = '/usr/lib/postgresql/15/bin';

export async function startDebianPostgres() {
  if (!existsSync(path.join(DEBIAN_PG_BIN, 'pg_dump')))
    throw new Error(`${DEBIAN_PG_BIN}/pg_dump not found: apt-get install postgresql-15 (.ci/run does)`);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'herald-pg15-'));
  const asRoot = process.getuid?.() === 0;
  const uid = asRoot ? Number(execFileSync('id', ['-u', 'postgres']).toString()) : undefined;
  if (uid !== undefined) chownSync(dir, uid, uid);
  const run = (program: string, args: string[]) => {
    const [cmd, argv] = asRoot
      ? ['runuser', ['-u', 'postgres', '--', path.join(DEBIAN_PG_BIN, program), ...args]]
      : [path.join(DEBIAN_PG_BIN, program), args];
    const result = spawnSync(cmd, argv, { encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`${program}: ${result.stderr || result.stdout}`);
    return result.stdout;
  };
  const port = await freePort();
  const data = path.join(dir, 'data');
  run('initdb', ['-D', data, '-A', 'trust', '-U', 'herald', '--no-sync']);
  run('pg_ctl', [
    '-D',
    data,
    '-w',
    '-l',
    path.join(dir, 'log'),
    '-o',
    `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`,
    'start',
  ]);
  const url = `postgres://herald@127.0.0.1:${port}/postgres`;
  return {
    url,
    /** `pg_dump` of the database, as plain SQL text. */
    dump: () => run('pg_dump', ['--dbname', url]),
    async stop() {
      run('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
