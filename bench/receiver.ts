/**
 * The benchmark's receiver: a bare node:http server on loopback, run as its own process (forked
 * with an IPC channel). It answers 200 at once, or 500 for a share of requests given in the URL
 * (`?fail=0.5`), and records per (path, webhook-id): the first successful arrival, the number of
 * successful and of all requests, and the event's scheduled send time (`scheduledAt` in `data`).
 * The first path segment names the scenario, so counts and summaries are per scenario.
 *
 * IPC: the parent sends `{ id, cmd: 'count' | 'summary', scenario }` and gets `{ id, ... }` back.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

interface Arrival {
  /** Wall-clock ms of the first 2xx answer. */
  first: number;
  scheduledAt: number;
  ok: number;
  requests: number;
}

interface ScenarioCounts {
  unique: number;
  ok: number;
  requests: number;
  last: number;
}

const arrivals = new Map<string, Map<string, Arrival>>();
const counts = new Map<string, ScenarioCounts>();
const SCHEDULED = /"scheduledAt":(\d+(?:\.\d+)?)/;

const now = () => performance.timeOrigin + performance.now();

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const at = now();
    const raw = req.url ?? '/';
    const q = raw.indexOf('?');
    const path = q < 0 ? raw : raw.slice(0, q);
    const failShare = q < 0 ? 0 : Number(new URLSearchParams(raw.slice(q + 1)).get('fail') ?? 0);
    const scenario = path.split('/')[1] ?? '';
    const id = String(req.headers['webhook-id'] ?? '');
    const fail = failShare > 0 && Math.random() < failShare;

    let c = counts.get(scenario);
    if (!c) {
      c = { unique: 0, ok: 0, requests: 0, last: 0 };
      counts.set(scenario, c);
    }
    let byKey = arrivals.get(scenario);
    if (!byKey) {
      byKey = new Map();
      arrivals.set(scenario, byKey);
    }
    const key = `${path}|${id}`;
    let a = byKey.get(key);
    if (!a) {
      const body = Buffer.concat(chunks).toString('utf8');
      const m = SCHEDULED.exec(body);
      a = { first: 0, scheduledAt: m ? Number(m[1]) : 0, ok: 0, requests: 0 };
      byKey.set(key, a);
    }
    a.requests++;
    c.requests++;
    if (!fail) {
      if (a.ok === 0) {
        a.first = at;
        c.unique++;
        c.last = at;
      }
      a.ok++;
      c.ok++;
    }
    res.writeHead(fail ? 500 : 200, { 'content-type': 'text/plain', 'content-length': '2' });
    res.end(fail ? 'no' : 'ok');
  });
});
server.keepAliveTimeout = 65_000;

process.on('message', (msg: { id: number; cmd: string; scenario: string }) => {
  const reply = (body: Record<string, unknown>) => process.send?.({ id: msg.id, ...body });
  if (msg.cmd === 'count') {
    reply({ ...(counts.get(msg.scenario) ?? { unique: 0, ok: 0, requests: 0, last: 0 }) });
  } else if (msg.cmd === 'summary') {
    // Columns rather than objects: 100,000 rows cross the IPC channel as four arrays.
    const byKey = arrivals.get(msg.scenario) ?? new Map<string, Arrival>();
    const keys: string[] = [];
    const first: number[] = [];
    const scheduledAt: number[] = [];
    const ok: number[] = [];
    const requests: number[] = [];
    for (const [k, a] of byKey) {
      keys.push(k);
      first.push(a.first);
      scheduledAt.push(a.scheduledAt);
      ok.push(a.ok);
      requests.push(a.requests);
    }
    reply({ keys, first, scheduledAt, ok, requests });
  } else if (msg.cmd === 'forget') {
    arrivals.delete(msg.scenario);
    counts.delete(msg.scenario);
    reply({});
  }
});
// The parent's death closes the channel: stop with it, whatever happened.
process.on('disconnect', () => process.exit(0));

server.listen(0, '127.0.0.1', () => {
  process.send?.({ ready: true, port: (server.address() as AddressInfo).port });
});
