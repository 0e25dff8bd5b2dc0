// Preloaded into the API or worker (NODE_OPTIONS=--import <this file>) when BENCH_CPU_PROF names
// it: a V8 CPU profile of the process's main thread, written as a .cpuprofile on exit. Node
// refuses --cpu-prof in NODE_OPTIONS and spawnEntry takes no extra arguments, hence the
// inspector. Plain JavaScript: worker threads inherit NODE_OPTIONS but not the tsx loader.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import path from 'node:path';
import { isMainThread } from 'node:worker_threads';

const dir = process.env.BENCH_PROFILE_DIR;
if (dir && isMainThread) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 1000 });
  session.post('Profiler.start');
  process.on('exit', () => {
    // A same-thread session answers synchronously, so this completes inside the exit handler.
    session.post('Profiler.stop', (err, result) => {
      if (err) return;
      const name = `${path.basename(process.argv[1] ?? 'node').replace(/\.[jt]s$/, '')}-${process.pid}.cpuprofile`;
      writeFileSync(path.join(dir, name), JSON.stringify(result.profile));
    });
  });
}
