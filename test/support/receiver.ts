import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  method: string;
  url: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  receivedAt: number;
}

/** What the receiver does with one request; the default is 200 at once. */
export interface Reply {
  status?: number;
  delayMs?: number;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Destroy the socket without answering. */
  reset?: boolean;
}

/**
 * A real HTTP server on loopback that records every request (headers, body, arrival time) and
 * answers as the test tells it: a status, a delay, a redirect (status 302 and a location
 * header) or a connection reset.
 */
export async function startReceiver(host = '127.0.0.1') {
  const requests: ReceivedRequest[] = [];
  let reply: (req: ReceivedRequest, index: number) => Reply = () => ({});
  const waiters: { count: number; resolve: () => void }[] = [];
  // Requests received and not yet answered, by path, and the most there have been at once.
  const open = new Map<string, number>();
  const peaks = new Map<string, number>();

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://receiver');
      const received: ReceivedRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        path: url.pathname,
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        receivedAt: Date.now(),
      };
      const index = requests.push(received) - 1;
      const path = received.path;
      const unanswered = (open.get(path) ?? 0) + 1;
      open.set(path, unanswered);
      peaks.set(path, Math.max(peaks.get(path) ?? 0, unanswered));
      res.once('close', () => open.set(path, (open.get(path) ?? 1) - 1));
      for (const w of waiters.filter((w) => requests.length >= w.count)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
      const r = reply(received, index);
      const answer = () => {
        if (r.reset) return req.socket.destroy();
        res.writeHead(r.status ?? 200, { 'content-type': 'text/plain', ...r.headers });
        res.end(r.body ?? 'ok');
      };
      if (r.delayMs) setTimeout(answer, r.delayMs);
      else answer();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  const base = host.includes(':') ? `http://[${host}]:${port}` : `http://${host}:${port}`;

  return {
    url: (path = '/hook') => `${base}${path}`,
    requests,
    /** Sets how the receiver answers from now on. */
    reply(fn: (req: ReceivedRequest, index: number) => Reply) {
      reply = fn;
    },
    on(path: string) {
      return requests.filter((r) => r.path === path);
    },
    /** The most requests to `path` that were received and not yet answered at one time. */
    peakInFlight(path: string) {
      return peaks.get(path) ?? 0;
    },
    /** Resolves once `count` requests have arrived in all, or rejects after `timeoutMs`. */
    waitFor(count: number, timeoutMs = 30_000): Promise<void> {
      if (requests.length >= count) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`expected ${count} requests, got ${requests.length} in ${timeoutMs} ms`)),
          timeoutMs,
        );
        waiters.push({
          count,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
      });
    },
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

export type Receiver = Awaited<ReturnType<typeof startReceiver>>;
