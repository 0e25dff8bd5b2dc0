/**
 * What a delivery workflow carries beyond the floor's, priced one part at a time: on one dev
 * server, the floor's workflow (bench/floor.ts) as it is, with Herald's three search attributes
 * at start, with a delivery's input and local activity result instead of the floor's (bench/
 * floor-variants-workflow.ts), and with both. The kinds take turns round by round on the same
 * server, each round's first kind rotating, because the server's CPU per workflow drifts as its
 * database grows (docs/performance.md); each round is charged until the server is idle again.
 * Workflows are started eagerly from 16 lanes on the worker's connection, as the floor's are.
 *
 *   npx tsx bench/floor-variants.ts [workflows per round, default 2000] [rounds, default 4]
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection, Worker } from '@temporalio/worker';
import type { AttemptSummary } from '../activities/attempt';
import { newId } from '../src/ids';
import { installRuntime } from '../src/temporal/runtime';
import { searchAttributes } from '../src/temporal/search-attributes';
import type { ShapedInput } from './floor-variants-workflow';
import { lanes, request } from './http';
import { cpuSeconds } from './proc';
import { startTemporalOnly } from './stack';

const KINDS = ['floor', 'search attributes', 'delivery input', 'delivery input and result', 'both'] as const;
type Kind = (typeof KINDS)[number];
const LANES = 16;
const TASK_SLOTS = 64;

/** Waits until the server used under 2 % of a core over 250 ms (at most 20 s): its work for the round is done. */
async function settled(pid: number): Promise<void> {
  const deadline = Date.now() + 20_000;
  let last = cpuSeconds(pid) ?? 0;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
    const now = cpuSeconds(pid) ?? 0;
    if (now - last < 0.005) return;
    last = now;
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

async function main() {
  const count = Number(process.argv[2] ?? 2000);
  const rounds = Number(process.argv[3] ?? 4);
  installRuntime();
  const receiver = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.end('ok'));
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const url = new URL(`http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

  const temporal = await startTemporalOnly('herald-variants-');
  const serverPid = temporal.pid;
  const connection = await NativeConnection.connect({ address: temporal.address });
  const client = new Client({ connection });
  const sent = new Map<string, () => void>();
  const bodies = new Map<string, string>();
  const post = async (id: string, body: string) => {
    const reply = await request(agent, url, 'POST', { 'content-type': 'application/json' }, body);
    sent.get(id)?.();
    return reply;
  };
  const worker = await Worker.create({
    connection,
    taskQueue: 'variants',
    workflowBundle: await bundleWorkflowCode({
      workflowsPath: require.resolve('./floor-variants-workflow'),
      logger: { info() {}, warn() {}, error() {}, debug() {}, trace() {}, log() {} },
    }),
    activities: {
      async post(_url: string, body: string) {
        return (await post(JSON.parse(body).id, body)).status;
      },
      async sendShaped(input: { deliveryId: string; summary: boolean }): Promise<AttemptSummary | null> {
        const startedAt = new Date();
        const reply = await post(input.deliveryId, bodies.get(input.deliveryId)!);
        if (!input.summary) return null;
        return {
          id: newId('att'),
          deliveryId: input.deliveryId,
          outcome: 'succeeded',
          attemptNumber: 1,
          startedAt: startedAt.toISOString(),
          durationMs: Math.round(reply.ms),
          responseStatus: reply.status,
          responseBody: reply.body,
          responseBodyEncoding: 'utf8',
          error: null,
        };
      },
    },
    maxCachedWorkflows: TASK_SLOTS,
    maxConcurrentWorkflowTaskExecutions: TASK_SLOTS,
  });
  const running = worker.run();

  const pad = 'x'.repeat(400);
  async function round(kind: Kind, r: number) {
    await settled(serverPid);
    const server = cpuSeconds(serverPid) ?? 0;
    const own = process.cpuUsage();
    const started = performance.now();
    await lanes(count, LANES, async (i) => {
      const id = newId('dlv');
      const body = JSON.stringify({ id, type: 'floor.sent', data: { seq: i, pad } });
      const done = new Promise<void>((resolve) => sent.set(id, resolve));
      const withAttributes = kind === 'search attributes' || kind === 'both';
      const shaped = kind.startsWith('delivery input') || kind === 'both';
      const input: ShapedInput = {
        deliveryId: id,
        retry: { initialMs: 30_000, backoff: 2, maxIntervalMs: 3_600_000, maxAttempts: 20 },
        requestTimeoutMs: 15_000,
        outageMaxMs: 3_600_000,
        summary: kind !== 'delivery input',
      };
      if (shaped) bodies.set(id, body);
      await client.workflow.start(shaped ? 'shapedWorkflow' : 'floorWorkflow', {
        workflowId: `delivery:${id}`,
        taskQueue: 'variants',
        args: shaped ? [input] : [url.href, body],
        typedSearchAttributes: withAttributes
          ? [
              { key: searchAttributes.applicationId, value: `app_${r}` },
              { key: searchAttributes.webhookId, value: `wh_${r}` },
              { key: searchAttributes.eventType, value: 'member.updated' },
            ]
          : undefined,
        requestEagerStart: true,
      });
      await done;
      sent.delete(id);
      bodies.delete(id);
    });
    const seconds = (performance.now() - started) / 1000;
    await settled(serverPid);
    const c = process.cpuUsage(own);
    return {
      rate: count / seconds,
      serverMs: (((cpuSeconds(serverPid) ?? 0) - server) * 1000) / count,
      workerMs: (c.user + c.system) / 1000 / count,
    };
  }

  const results = new Map<Kind, { rate: number; serverMs: number; workerMs: number }[]>(
    KINDS.map((k) => [k, []]),
  );
  try {
    await round('floor', 0); // warm-up, not counted
    for (let r = 1; r <= rounds; r++) {
      for (let k = 0; k < KINDS.length; k++) {
        const kind = KINDS[(k + r - 1) % KINDS.length];
        const m = await round(kind, r);
        results.get(kind)!.push(m);
        console.log(
          `round ${r} ${kind.padEnd(26)} ${m.rate.toFixed(1).padStart(6)}/s; CPU ms per workflow: server ${m.serverMs.toFixed(2)}, this process ${m.workerMs.toFixed(2)}`,
        );
      }
    }
    const base = results.get('floor')!;
    console.log("\nmedian over rounds; the difference to the floor is the median of each round's difference");
    for (const kind of KINDS) {
      const ms = results.get(kind)!;
      const diff = (f: (x: (typeof ms)[number]) => number) =>
        median(ms.map((m, i) => f(m) - f(base[i]))).toFixed(2);
      console.log(
        `${kind.padEnd(26)} server ${median(ms.map((m) => m.serverMs)).toFixed(2)} (${diff((m) => m.serverMs)}), ` +
          `this process ${median(ms.map((m) => m.workerMs)).toFixed(2)} (${diff((m) => m.workerMs)}), ` +
          `${median(ms.map((m) => m.rate)).toFixed(1)}/s`,
      );
    }
  } finally {
    worker.shutdown();
    await running;
    await connection.close();
    await temporal.stop();
    receiver.close();
    agent.destroy();
  }
  process.exit(0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
