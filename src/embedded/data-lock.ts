import { readFileSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { StartupError } from '../startup-error';

/**
 * One Herald at a time runs embedded services from a data directory: a second one would stop the
 * first one's PostgreSQL as a stale server (src/embedded/postgres.ts) and share its Temporal
 * SQLite file. The holder's pid is in `<dataDir>/embedded.pid`; a holder that is gone is ignored.
 */
const FILE = 'embedded.pid';

/** The pid of another live process that holds `dataDir`, if any. */
export async function dataDirHolder(dataDir: string): Promise<number | undefined> {
  const text = await readFile(path.join(dataDir, FILE), 'utf8').catch(() => '');
  const pid = Number.parseInt(text, 10);
  return pid && pid !== process.pid && isNodeProcess(pid) ? pid : undefined;
}

export function heldMessage(dataDir: string, pid: number): string {
  return `another Herald (pid ${pid}) runs its embedded services from ${dataDir}: stop it first, or give this one its own HERALD_DATA_DIR`;
}

/** Takes `dataDir` for this process; the returned function gives it back. */
export async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  await mkdir(dataDir, { recursive: true });
  const file = path.join(dataDir, FILE);
  const release = async () => {
    const text = await readFile(file, 'utf8').catch(() => '');
    if (Number.parseInt(text, 10) === process.pid) await rm(file, { force: true });
  };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await writeFile(file, `${process.pid}\n`, { flag: 'wx' });
      return release;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = await dataDirHolder(dataDir);
    if (holder) throw new StartupError(heldMessage(dataDir, holder));
    await rm(file, { force: true }); // left by a process that is gone
  }
  throw new StartupError(`could not take ${file}: other processes keep writing it`);
}

/** Alive, and (where /proc tells) a node process: a pid reused by something else since is no holder. */
function isNodeProcess(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    return /node/.test(readFileSync(`/proc/${pid}/cmdline`, 'utf8'));
  } catch {
    return true; // no /proc: trust the pid
  }
}
