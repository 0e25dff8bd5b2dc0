/**
 * What the API's line per request costs: the server's CPU per request with no request logging,
 * with Herald's requestLog (src/api/request-log.ts: the line and the histogram) and with pino-http
 * set up to write the same line (its serializers cut to id, method, URL and status), followed by the
 * same histogram (requestLog with a silent logger). The logger is at `warn`, as in the benchmark, so
 * no line is written: what is priced is the per-request work. Each round runs every variant in turn
 * in a fresh server process; a keep-alive client in this process POSTs a small JSON body, 16 in
 * flight.
 *
 *   npx tsx bench/request-log.ts [requests per round, default 30000] [rounds, default 5]
 */
import { fork } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { pinoHttp } from 'pino-http';
import { requestLog } from '../src/api/request-log';
import { createLogger } from '../src/logger';
import { createMetrics } from '../src/metrics';

const VARIANTS = ['none', 'requestLog', 'pino-http'] as const;
type Variant = (typeof VARIANTS)[number];
const IN_FLIGHT = 16;

function serve(variant: Variant) {
  const logger = createLogger('warn', 'api');
  const histogram = createMetrics().httpRequests;
  const app = express();
  if (variant === 'requestLog') app.use(requestLog(logger, histogram));
  if (variant === 'pino-http') {
    app.use(
      pinoHttp({
        logger,
        serializers: {
          req: ({ id, method, url }: { id: unknown; method: string; url: string }) => ({ id, method, url }),
          res: ({ statusCode }: { statusCode: number }) => ({ statusCode }),
        },
        customSuccessMessage: () => 'request',
      }),
      // The same histogram: requestLog with its own line silenced.
      requestLog(createLogger('silent', 'api'), histogram),
    );
  }
  app.post('/v1/events', express.json(), (_req, res) => {
    res.status(202).json({ accepted: true });
  });
  const server = app.listen(0, '127.0.0.1', () => process.send?.((server.address() as AddressInfo).port));
  let since = process.cpuUsage();
  process.on('message', (m) => {
    if (m === 'reset') since = process.cpuUsage();
    const used = process.cpuUsage(since);
    process.send?.((used.user + used.system) / 1000);
  });
}

/** µs of the server's CPU per request for one variant, in a fresh process. */
async function round(variant: Variant, requests: number): Promise<number> {
  const child = fork(__filename, ['serve', variant], { execArgv: ['--import', 'tsx'] });
  const ask = (message?: string) =>
    new Promise<number>((resolve) => {
      child.once('message', (m) => resolve(Number(m)));
      if (message) child.send(message);
    });
  const port = await ask();
  const agent = new http.Agent({ keepAlive: true, maxSockets: IN_FLIGHT });
  const post = () =>
    new Promise<void>((resolve, reject) => {
      const req = http.request(
        {
          host: '127.0.0.1',
          port,
          path: '/v1/events',
          method: 'POST',
          agent,
          headers: { 'content-type': 'application/json', authorization: 'Bearer hk_not_a_real_key' },
        },
        (res) => res.resume().on('end', resolve),
      );
      req.on('error', reject).end('{"type":"person.updated"}');
    });
  const run = async (count: number) => {
    let next = 0;
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        while (next++ < count) await post();
      }),
    );
  };
  try {
    await run(2_000); // warm-up: the JIT, the sockets
    await ask('reset');
    await run(requests);
    return ((await ask('report')) / requests) * 1000;
  } finally {
    agent.destroy();
    child.kill();
  }
}

async function main() {
  const requests = Number(process.argv[2] ?? 30_000);
  const rounds = Number(process.argv[3] ?? 5);
  const seen = Object.fromEntries(VARIANTS.map((v) => [v, [] as number[]])) as Record<Variant, number[]>;
  for (let r = 1; r <= rounds; r++) {
    for (const v of VARIANTS) seen[v].push(await round(v, requests));
    console.log(`round ${r}: ${VARIANTS.map((v) => `${v} ${seen[v].at(-1)?.toFixed(1)} µs`).join(', ')}`);
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const base = median(seen.none);
  for (const v of VARIANTS) {
    console.log(
      `${v}: median ${median(seen[v]).toFixed(1)} µs of server CPU per request, ${(median(seen[v]) - base).toFixed(1)} over none`,
    );
  }
}

if (process.argv[2] === 'serve') serve(process.argv[3] as Variant);
else
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
