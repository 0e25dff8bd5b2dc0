/**
 * The plain-client limit: the bench's receiver driven by a bare node:http keep-alive loop at a
 * given concurrency, in a process of its own (as Herald's worker is), so every Herald figure can
 * be quoted as a share of what this machine does with no Herald at all.
 *
 * IPC: receives `{ url, count, concurrency, bodyBytes }` once, answers `{ count, ok, elapsedMs,
 * latencies }` and exits.
 */
import http from 'node:http';
import { lanes, request } from './http';

interface Job {
  url: string;
  count: number;
  concurrency: number;
  /** Size of the JSON body, as Herald's envelope for the same scenario. */
  bodyBytes: number;
}

process.once('message', async (job: Job) => {
  const agent = new http.Agent({ keepAlive: true, maxSockets: job.concurrency });
  const url = new URL(job.url);
  const pad = 'x'.repeat(Math.max(0, job.bodyBytes - 80));
  const latencies: number[] = [];
  let ok = 0;
  const started = performance.now();
  await lanes(job.count, job.concurrency, async (i) => {
    const id = `plain_${process.pid}_${i}`;
    const body = JSON.stringify({ id, type: 'plain.sent', data: { seq: i, pad } });
    try {
      const res = await request(
        agent,
        url,
        'POST',
        { 'content-type': 'application/json', 'webhook-id': id, 'user-agent': 'bench-plain' },
        body,
      );
      latencies.push(res.ms);
      if (res.status >= 200 && res.status < 300) ok++;
    } catch {}
  });
  const elapsedMs = performance.now() - started;
  agent.destroy();
  process.send?.({ count: job.count, ok, elapsedMs, latencies }, () => process.exit(0));
});
process.on('disconnect', () => process.exit(0));
