/**
 * CPU time and peak memory of processes, from /proc (Linux): utime + stime of /proc/<pid>/stat
 * and VmHWM of /proc/<pid>/status. The peak is reset per scenario through clear_refs where the
 * kernel allows it, so each scenario reports its own peak.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';

/** USER_HZ: 100 on every mainstream Linux build. */
const CLOCK_TICKS = 100;

function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces; the fields after it start past the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** CPU seconds (user + system) the process has used so far, or undefined when it is gone. */
export function cpuSeconds(pid: number): number | undefined {
  const f = statFields(pid);
  // After the name: state(0) ppid(1) ... utime(11) stime(12).
  return f ? (Number(f[11]) + Number(f[12])) / CLOCK_TICKS : undefined;
}

/** User and system CPU seconds apart: system time is the cost of syscalls (sockets, futexes). */
export function cpuSplit(pid: number): { user: number; system: number } | undefined {
  const f = statFields(pid);
  return f ? { user: Number(f[11]) / CLOCK_TICKS, system: Number(f[12]) / CLOCK_TICKS } : undefined;
}

/** Peak resident set (VmHWM) in MiB. */
export function peakRssMiB(pid: number): number | undefined {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Resets VmHWM to the current RSS; false where the kernel or permissions do not allow it. */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** The pids whose parent is `pid` (PostgreSQL's backends under its postmaster). */
export function childPids(pid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const f = statFields(Number(name));
    if (f && Number(f[1]) === pid) out.push(Number(name));
  }
  return out;
}

/**
 * CPU seconds of a process and all its children, counting children that exited meanwhile
 * (cutime + cstime): PostgreSQL forks and reaps backends, whose time lands in the postmaster.
 */
export function treeCpuSeconds(pid: number): number | undefined {
  const f = statFields(pid);
  if (!f) return undefined;
  const own = Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
  let children = 0;
  for (const child of childPids(pid)) children += treeCpuSeconds(child) ?? 0;
  return own / CLOCK_TICKS + children;
}

/** CPU seconds per thread name (comm) of a process: main thread, libuv pool, Rust runtime, V8 workers. */
export function threadCpuSeconds(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  let tasks: string[] = [];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tasks) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out[name] = (out[name] ?? 0) + (Number(f[11]) + Number(f[12])) / CLOCK_TICKS;
    } catch {}
  }
  return out;
}

/** The machine's CPU ticks so far (first line of /proc/stat): busy (user, nice, system, irq, softirq) and all. */
export function machineTicks(): { busy: number; all: number } {
  const [user, nice, system, idle, iowait, irq, softirq, steal] = readFileSync('/proc/stat', 'utf8')
    .split('\n', 1)[0]
    .trim()
    .split(/\s+/)
    .slice(1, 9)
    .map(Number);
  const busy = user + nice + system + irq + softirq;
  return { busy, all: busy + idle + iowait + (steal || 0) };
}

/** The share of every core that was busy since `since` (machineTicks()), in percent. */
export function coresBusySince(since: { busy: number; all: number }): number | null {
  const now = machineTicks();
  const all = now.all - since.all;
  return all > 0 ? Math.round(((now.busy - since.busy) / all) * 1000) / 10 : null;
}
