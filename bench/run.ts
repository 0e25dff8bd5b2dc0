/**
 * `npm run bench`: Herald's throughput and latency on this machine, beside what a plain HTTP
 * client does against the same receiver in the same run. See docs/performance.md.
 *
 * Environment: BENCH_SCALE (default 1) scales every count; BENCH_SCENARIOS picks a comma-separated
 * subset of latency,single,fanout,held,sync,failing,strict,throttled,ingest; BENCH_RATE is the target publish rate
 * (events/s, default 2000); BENCH_LATENCY_RATE that of the latency scenario, for 30 s (default: 80 % of
 * the delivery rate the single scenario measured in the same run, or 100 without it);
 * BENCH_CPU_PROF=api,worker writes V8 CPU profiles of those processes
 * under bench/results/profiles; BENCH_TEMPORAL_ARGS (a JSON array) adds dev server flags;
 * BENCH_EPHEMERAL=true runs PostgreSQL without fsync; BENCH_STALL_MS (default 60000) is how long
 * no new arrival ends a scenario. DATABASE_URL and TEMPORAL_ADDRESS use existing services;
 * BENCH_TOPOLOGY=cluster runs Temporal's production topology instead of the dev server (separate
 * frontend, history, matching and worker processes, mTLS; test/cluster/topology.ts) with
 * BENCH_SHARDS history shards (default 4).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/config';
import { startsInFlight, workflowTaskSlots } from '../src/temporal/task-slots';
import type { RecordsTarget } from './floor';
import { lanes, mostWithin, quantile, request } from './http';
import {
  coresBusySince,
  cpuSeconds,
  cpuSplit,
  machineTicks,
  peakRssMiB,
  resetPeakRss,
  threadCpuSeconds,
  treeCpuSeconds,
} from './proc';
import { markdownReport } from './report';
import { forkTs, type Receiver, ROOT, type Stack, sleep, startReceiver, startStack } from './stack';

const SCALE = Number(process.env.BENCH_SCALE ?? 1);
const RATE = Number(process.env.BENCH_RATE ?? 2000);
const STALL_MS = Number(process.env.BENCH_STALL_MS ?? 60_000);
/** The latency scenario's publish rate, when set; else 80 % of what single measured (100 without it). */
const LATENCY_RATE = process.env.BENCH_LATENCY_RATE ? Number(process.env.BENCH_LATENCY_RATE) : undefined;
const LATENCY_SECONDS = 30;
const LATENCY_SHARE = 0.8;
/** Publisher connections: enough for the target rate at a few ms per request. */
const PUBLISH_CONCURRENCY = 32;
/** The ingest scenario's batch size and the batches it keeps in flight. */
const INGEST_BATCH = 100;
const INGEST_BATCH_CONCURRENCY = 4;
/** Requests Herald keeps in flight to one webhook in a release and a sync (RELEASE_WINDOW, HERALD_SYNC_CONCURRENCY). */
const DELIVERY_CONCURRENCY = 16;
const ALL = [
  'single',
  'latency',
  'fanout',
  'held',
  'sync',
  'failing',
  'strict',
  'throttled',
  'ingest',
] as const;
/** The throttled scenario's webhook rate. */
const THROTTLE_RATE = 100;
type ScenarioName = (typeof ALL)[number];

const scaled = (count: number, min = 1) => Math.max(min, Math.round(count * SCALE));

interface ScenarioDef {
  name: ScenarioName;
  title: string;
  events: number;
  webhooks: number;
  /** Target publish rate, events/s. */
  rate: number;
  failShare?: number;
  paused?: boolean;
  entities?: number;
  /** Settings of the scenario's webhooks (ordering, throttles). */
  webhook?: Record<string, unknown>;
  /** The floor with records (bench/floor.ts) beside it too. */
  recordsFloor?: boolean;
}

function scenarioDefs(): ScenarioDef[] {
  const defs: ScenarioDef[] = [
    {
      name: 'single',
      title: `${scaled(10_000)} events to 1 webhook`,
      events: scaled(10_000),
      webhooks: 1,
      rate: RATE,
      recordsFloor: true,
    },
    {
      name: 'latency',
      // Its rate and size are set once single has run (latencyDef).
      title: 'latency',
      events: 0,
      webhooks: 1,
      rate: 0,
    },
    {
      name: 'fanout',
      title: `${scaled(1000)} events fanned out to ${scaled(100, 2)} webhooks`,
      events: scaled(1000),
      webhooks: scaled(100, 2),
      rate: RATE,
      recordsFloor: true,
    },
    {
      name: 'held',
      title: `${scaled(10_000)} held deliveries released by one resume`,
      events: scaled(10_000),
      webhooks: 1,
      rate: RATE,
      paused: true,
    },
    {
      name: 'sync',
      title: `sync of ${scaled(100_000)} entities at interval 0`,
      events: 0,
      webhooks: 1,
      rate: 0,
      entities: scaled(100_000),
    },
    {
      name: 'failing',
      title: `${scaled(10_000)} events to a receiver failing half its requests`,
      events: scaled(10_000),
      webhooks: 1,
      rate: RATE,
      failShare: 0.5,
    },
    {
      name: 'strict',
      title: `${scaled(5_000)} events to 1 webhook with strict ordering`,
      events: scaled(5_000),
      webhooks: 1,
      rate: RATE,
      webhook: { ordering: 'strict' },
    },
    {
      name: 'throttled',
      title: `${scaled(3_000)} events to 1 webhook throttled to ${THROTTLE_RATE}/s`,
      events: scaled(3_000),
      webhooks: 1,
      rate: RATE,
      webhook: { maxRequestsPerSecond: THROTTLE_RATE },
    },
    {
      name: 'ingest',
      title: `ingest only (webhook paused): ${scaled(20_000)} single publishes, ${scaled(100_000, INGEST_BATCH)} events in batches of ${INGEST_BATCH}`,
      events: scaled(20_000),
      webhooks: 1,
      rate: Number.POSITIVE_INFINITY,
      paused: true,
      entities: scaled(100_000, INGEST_BATCH),
    },
  ];
  const picked = (process.env.BENCH_SCENARIOS ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const p of picked)
    if (!ALL.includes(p as ScenarioName)) throw new Error(`BENCH_SCENARIOS: unknown scenario "${p}"`);
  return picked.length ? defs.filter((d) => picked.includes(d.name)) : defs;
}

/** The latency scenario at 80 % of the delivery rate single measured in this run (or BENCH_LATENCY_RATE). */
function latencyDef(results: { name: string; delivery: { perSec: number | null } }[]): Partial<ScenarioDef> {
  const single = results.find((r) => r.name === 'single')?.delivery.perSec;
  const rate = LATENCY_RATE ?? (single ? Math.max(1, Math.round(single * LATENCY_SHARE)) : 100);
  const events = scaled(rate * LATENCY_SECONDS);
  const basis = LATENCY_RATE ? '' : single ? `, ${LATENCY_SHARE * 100} % of single's rate` : '';
  return { title: `${events} events to 1 webhook at ${rate}/s (latency${basis})`, events, rate };
}

const round = (n: number | undefined, digits = 1) =>
  n === undefined || !Number.isFinite(n) ? null : Math.round(n * 10 ** digits) / 10 ** digits;

function latencySummary(values: number[]) {
  const s = [...values].sort((a, b) => a - b);
  return {
    p50: round(quantile(s, 0.5, true)),
    p95: round(quantile(s, 0.95, true)),
    p99: round(quantile(s, 0.99, true)),
    max: round(s[s.length - 1]),
  };
}

// ---------------------------------------------------------------------------------------------
// Talking to the API

interface Api {
  // biome-ignore lint/suspicious/noExplicitAny: the API's JSON, read by the few fields the bench needs
  call(method: string, p: string, body?: unknown, token?: string): Promise<{ status: number; body: any }>;
}

function apiClient(stack: Stack): Api {
  return {
    async call(method, p, body, token = stack.adminToken) {
      const res = await fetch(`${stack.apiUrl}${p}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {}
      if (res.status >= 400) throw new Error(`${method} ${p}: ${res.status} ${text.slice(0, 300)}`);
      return { status: res.status, body: parsed };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The publisher: open loop at a target rate, the scheduled time of each event in its data

interface PublishOutcome {
  sent: number;
  accepted: number;
  errors: number;
  ids: string[];
  fanOut: number[];
  latencies: number[];
  /** How late each request left against its schedule (a lagging generator shows here). */
  lag: number[];
  seconds: number;
}

async function publish(opts: {
  url: string;
  token: string;
  count: number;
  /** events/s; Infinity sends as fast as the lanes go. */
  rate: number;
  concurrency: number;
  entityType: string;
}): Promise<PublishOutcome> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: opts.concurrency });
  const url = new URL(opts.url);
  const headers = { authorization: `Bearer ${opts.token}`, 'content-type': 'application/json' };
  const out: PublishOutcome = {
    sent: 0,
    accepted: 0,
    errors: 0,
    ids: [],
    fanOut: [],
    latencies: [],
    lag: [],
    seconds: 0,
  };
  const interval = Number.isFinite(opts.rate) ? 1000 / opts.rate : 0;
  const t0 = Date.now() + 20;
  const started = performance.now();
  let firstError: string | undefined;
  await lanes(opts.count, opts.concurrency, async (i) => {
    const scheduledAt = t0 + i * interval;
    const wait = scheduledAt - Date.now();
    if (wait >= 1) await sleep(wait);
    out.lag.push(Math.max(0, Date.now() - scheduledAt));
    const body = JSON.stringify({
      type: `${opts.entityType}.updated`,
      entity: { type: opts.entityType, id: String(i) },
      data: { seq: i, scheduledAt: Math.round(scheduledAt), name: `Member ${i}`, email: `m${i}@example.org` },
      scopes: ['bench'],
    });
    out.sent++;
    try {
      const res = await request(agent, url, 'POST', headers, body);
      out.latencies.push(res.ms);
      if (res.status === 202 || res.status === 200) {
        out.accepted++;
        if (res.body.startsWith('{')) {
          const parsed = JSON.parse(res.body) as { id?: string; deliveries?: unknown[] };
          if (parsed.id) out.ids.push(parsed.id);
          out.fanOut.push(parsed.deliveries?.length ?? 0);
        }
      } else {
        out.errors++;
        firstError ??= `${res.status} ${res.body.slice(0, 200)}`;
      }
    } catch (err) {
      out.errors++;
      firstError ??= (err as Error).message;
    }
  });
  out.seconds = (performance.now() - started) / 1000;
  agent.destroy();
  if (firstError) console.error(`  publish errors: ${out.errors}, first: ${firstError}`);
  return out;
}

/** `count` events as POST /v1/events/batch requests of `size`, `concurrency` in flight, as fast as they go. */
async function publishBatches(opts: {
  url: string;
  token: string;
  count: number;
  size: number;
  concurrency: number;
  entityType: string;
}) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: opts.concurrency });
  const url = new URL(opts.url);
  const headers = { authorization: `Bearer ${opts.token}`, 'content-type': 'application/json' };
  const latencies: number[] = [];
  let accepted = 0;
  let errors = 0;
  let firstError: string | undefined;
  const started = performance.now();
  await lanes(Math.ceil(opts.count / opts.size), opts.concurrency, async (b) => {
    const events = [];
    for (let i = b * opts.size; i < Math.min(opts.count, (b + 1) * opts.size); i++)
      events.push({
        type: `${opts.entityType}.updated`,
        entity: { type: opts.entityType, id: `batch-${i}` },
        data: { seq: i, name: `Member ${i}`, email: `m${i}@example.org` },
        scopes: ['bench'],
      });
    try {
      const res = await request(agent, url, 'POST', headers, JSON.stringify({ events }));
      latencies.push(res.ms);
      if (res.status === 202) accepted += (JSON.parse(res.body) as { data: unknown[] }).data.length;
      else {
        errors++;
        firstError ??= `${res.status} ${res.body.slice(0, 200)}`;
      }
    } catch (err) {
      errors++;
      firstError ??= (err as Error).message;
    }
  });
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  if (firstError) console.error(`  batch errors: ${errors}, first: ${firstError}`);
  return { accepted, errors, seconds, latencies };
}

/** The plain client in its own process: `count` POSTs to the receiver with `concurrency` lanes. */
/**
 * The floor's runs: with the starts in flight and task slots of Herald's worker, and with four
 * times as many of both, enough to saturate this machine.
 */
function floorSettings(workerEnv: NodeJS.ProcessEnv, multiples: number[]) {
  const slots = workflowTaskSlots(loadConfig(workerEnv).workerCachedWorkflows);
  return multiples.map((times) => ({
    concurrency: startsInFlight(slots) * times,
    workflowTaskSlots: slots * times,
  }));
}
/** Deliveries per floor run (fewer when the scenario has fewer). */
const FLOOR_COUNT = 3_000;
/** The Temporal server's processes, whose CPU a delivery costs there. */
const TEMPORAL_PROCS = ['temporal', 'frontend', 'history', 'matching', 'temporal-worker'];

/** CPU seconds so far of the Temporal server's processes and of PostgreSQL's. */
function serverCpuSeconds(stack: Stack): { temporal: number; postgres: number } {
  const temporal = Object.entries(stack.pids)
    .filter(([name, pid]) => TEMPORAL_PROCS.includes(name) && pid)
    .reduce((sum, [, pid]) => sum + (cpuSeconds(pid as number) ?? 0), 0);
  const postgres = stack.pids.postgres ? (treeCpuSeconds(stack.pids.postgres) ?? 0) : 0;
  return { temporal, postgres };
}

/** Busy means more than this share of a core over a second. */
const SETTLED_SHARE = 0.05;
/**
 * Waits until the Temporal server and PostgreSQL are idle (at most a minute), so that a run is
 * charged for the work its workflows leave them after its last delivery (visibility records,
 * transfer and timer tasks), and the next run is not. Returns the seconds it waited.
 */
async function settle(stack: Stack): Promise<number> {
  const t0 = performance.now();
  const busy = () => {
    const cpu = serverCpuSeconds(stack);
    return cpu.temporal + cpu.postgres;
  };
  for (let last = busy(); performance.now() - t0 < 60_000; ) {
    await sleep(1_000);
    const now = busy();
    if (now - last < SETTLED_SHARE) break;
    last = now;
  }
  return round((performance.now() - t0) / 1000, 1) ?? 0;
}

/**
 * The floor beside a scenario (bench/floor.ts): the least a delivery does on Temporal, in the same
 * run, on the same server and receiver. CPU per delivery of its own process (worker and starter
 * in one, as Herald's worker is) and of the Temporal server.
 */
async function floorRuns(
  ctx: Ctx,
  scenario: string,
  count: number,
  bodyBytes: number,
  multiples = [1, 4],
  records?: RecordsTarget,
) {
  const runs = [];
  for (const { concurrency, workflowTaskSlots } of floorSettings(ctx.stack.workerEnv, multiples)) {
    const child = forkTs('floor.ts', ctx.stack.workerEnv);
    let serverBefore = { temporal: 0, postgres: 0 };
    let ticks = machineTicks();
    let coresBusy: number | null = null;
    const result = await new Promise<{ ok: number; elapsedMs: number; cpuSeconds: number }>(
      (resolve, reject) => {
        child.on('message', (m: { ready?: boolean; ok: number; elapsedMs: number; cpuSeconds: number }) => {
          if (!m.ready) {
            coresBusy = coresBusySince(ticks);
            return resolve(m);
          }
          // Its worker is up (the bundling and connecting are not a delivery's): measure from here.
          serverBefore = serverCpuSeconds(ctx.stack);
          ticks = machineTicks();
          child.send('go');
        });
        child.once('exit', (code) => reject(new Error(`floor exited with ${code}`)));
        child.send({
          url: ctx.receiver.url(`/${scenario}-floor/${concurrency}`),
          count,
          concurrency,
          workflowTaskSlots,
          bodyBytes,
          records,
        });
      },
    );
    const settledSeconds = await settle(ctx.stack);
    const serverAfter = serverCpuSeconds(ctx.stack);
    const temporal = serverAfter.temporal - serverBefore.temporal;
    const postgres = serverAfter.postgres - serverBefore.postgres;
    const per = (sec: number) => round((sec / Math.max(1, result.ok)) * 1000, 2);
    runs.push({
      concurrency,
      deliveries: result.ok,
      perSec: round(result.ok / (result.elapsedMs / 1000)),
      settledSeconds,
      coresBusy,
      cpuMsPerDelivery: { worker: per(result.cpuSeconds), temporal: per(temporal), postgres: per(postgres) },
    });
    await ctx.receiver.forget(`${scenario}-floor`);
  }
  return runs;
}

/**
 * The floor with records beside a scenario, at Herald's concurrency: its records go to a paused
 * webhook of the bench's application (paused and of the floor's event type only, so nothing of
 * Herald's acts on them).
 */
async function recordsFloorRun(ctx: Ctx, scenario: string, count: number) {
  ctx.log(`  floor with records: the floor, and the rows a delivery must leave in PostgreSQL`);
  const created = await ctx.api.call('POST', '/v1/webhooks', {
    applicationId: ctx.applicationId,
    url: ctx.receiver.url(`/${scenario}-records`),
    label: `bench ${scenario} floor with records`,
    // Of the floor's own type only: the scenario's events must not fan out to it.
    events: ['floor.sent'],
    status: 'paused',
  });
  const target = { webhookId: created.body.id, applicationId: ctx.applicationId };
  const [run] = await floorRuns(ctx, `${scenario}-records`, count, 330, [1], target);
  return run;
}

async function plainLimit(receiver: Receiver, scenario: string, count: number, bodyBytes: number) {
  const child = forkTs('plain-client.ts');
  const result = await new Promise<{ ok: number; elapsedMs: number; latencies: number[] }>(
    (resolve, reject) => {
      child.once('message', (m) => resolve(m as never));
      child.once('exit', (code) => reject(new Error(`plain client exited with ${code}`)));
      child.send({
        url: receiver.url(`/${scenario}-plain/0`),
        count,
        concurrency: DELIVERY_CONCURRENCY,
        bodyBytes,
      });
    },
  );
  await receiver.forget(`${scenario}-plain`);
  return {
    concurrency: DELIVERY_CONCURRENCY,
    requests: count,
    perSec: round(result.ok / (result.elapsedMs / 1000)),
    latencyMs: latencySummary(result.latencies),
  };
}

/** The publisher itself against the bare receiver: what the generator can push at all. */
async function publishLimit(receiver: Receiver, scenario: string, count: number) {
  const outcome = await publish({
    url: receiver.url(`/${scenario}-publish/0`),
    token: 'none',
    count,
    rate: Number.POSITIVE_INFINITY,
    concurrency: PUBLISH_CONCURRENCY,
    entityType: 'limit',
  });
  await receiver.forget(`${scenario}-publish`);
  return {
    concurrency: PUBLISH_CONCURRENCY,
    requests: count,
    perSec: round(outcome.accepted / outcome.seconds),
    latencyMs: latencySummary(outcome.latencies),
  };
}

// ---------------------------------------------------------------------------------------------
// Resources of the processes under test

/** api, worker, receiver, postgres, and `temporal` (dev server) or frontend/history/matching/temporal-worker (cluster). */
type ProcName = string;

function resourceMeter(pids: Partial<Record<ProcName, number>>) {
  const startCpu: Partial<Record<ProcName, number>> = {};
  const startSplit = Object.fromEntries(
    Object.entries(pids).map(([name, pid]) => [name, pid ? cpuSplit(pid) : undefined]),
  );
  const startThreads = pids.worker ? threadCpuSeconds(pids.worker) : {};
  const benchStart = process.cpuUsage();
  let peakResets = true;
  for (const [name, pid] of Object.entries(pids) as [ProcName, number | undefined][]) {
    if (!pid) continue;
    startCpu[name] = name === 'postgres' ? treeCpuSeconds(pid) : cpuSeconds(pid);
    if (name !== 'postgres') peakResets = resetPeakRss(pid) && peakResets;
  }
  return () => {
    const out: Record<
      string,
      { cpuSeconds: number | null; peakRssMiB: number | null; systemCpuSeconds?: number | null }
    > = {};
    for (const [name, pid] of Object.entries(pids) as [ProcName, number | undefined][]) {
      if (!pid) continue;
      const now = name === 'postgres' ? treeCpuSeconds(pid) : cpuSeconds(pid);
      out[name] = {
        cpuSeconds: round(
          now !== undefined && startCpu[name] !== undefined ? now - startCpu[name]! : undefined,
        ),
        // PostgreSQL is many processes sharing memory: its RSS would mislead, so only CPU is shown.
        peakRssMiB: name === 'postgres' ? null : round(peakRssMiB(pid), 0),
      };
      const split = cpuSplit(pid);
      const before = startSplit[name];
      if (split && before && name !== 'postgres')
        Object.assign(out[name], { systemCpuSeconds: round(split.system - before.system) });
    }
    const bench = process.cpuUsage(benchStart);
    out.bench = { cpuSeconds: round((bench.user + bench.system) / 1e6), peakRssMiB: null };
    // Where the worker's CPU goes: its main thread (activities, SDK glue), workflow threads, Rust core.
    const workerThreads: Record<string, number | null> = {};
    if (pids.worker)
      for (const [name, sec] of Object.entries(threadCpuSeconds(pids.worker)))
        if (sec - (startThreads[name] ?? 0) >= 0.05)
          workerThreads[name] = round(sec - (startThreads[name] ?? 0));
    return { processes: out, workerThreads, peakIsPerScenario: peakResets };
  };
}

/** Prometheus text: each series' value, keyed by its name and labels as written. */
async function scrape(url: string | undefined): Promise<Map<string, number>> {
  const series = new Map<string, number>();
  if (!url) return series;
  try {
    for (const line of (await (await fetch(url)).text()).split('\n')) {
      const m = /^([a-z_:][\w:]*(?:\{[^}]*\})?) (\S+)$/i.exec(line);
      if (m) series.set(m[1], Number(m[2]));
    }
  } catch {}
  return series;
}

/**
 * Where one delivery's time goes (docs/performance.md): the Temporal SDK's histograms in Herald's
 * worker, the server's, and Herald's own request timer, over a scenario. Each phase: how often it
 * happened per delivery, and its mean in ms.
 */
function phaseMeter(stack: Stack) {
  const urls = [stack.workerMetricsUrls.sdk, stack.temporalMetricsUrl, stack.workerMetricsUrls.herald];
  const before = Promise.all(urls.map(scrape));
  return async (deliveries: number) => {
    const start = await before;
    const end = await Promise.all(urls.map(scrape));
    const [SDK, SERVER, HERALD] = [0, 1, 2];
    const grown = (source: number, name: string, labels: string[]) => {
      let sum = 0;
      for (const [key, value] of end[source]) {
        if (key !== name && !key.startsWith(`${name}{`)) continue;
        if (labels.every((l) => key.includes(l))) sum += value - (start[source].get(key) ?? 0);
      }
      return sum;
    };
    /** sdk: milliseconds; server and Herald: seconds. */
    const phase = (source: number, metric: string, ...labels: string[]) => {
      const n = grown(source, `${metric}_count`, labels);
      const ms = grown(source, `${metric}_sum`, labels) * (source === SDK ? 1 : 1000);
      return { perDelivery: round(n / Math.max(1, deliveries), 2), meanMs: n ? round(ms / n, 2) : null };
    };
    const rpc = (op: string) => phase(SDK, 'temporal_request_latency', `operation="${op}"`);
    const served = (op: string) =>
      phase(SERVER, 'service_latency', `operation="${op}"`, 'service_name="frontend"');
    const stored = (op: string) => phase(SERVER, 'persistence_latency', `operation="${op}"`);
    // Both delivery workflow types: deliveryWorkflowV2, and deliveryWorkflow for earlier workflows.
    const delivery = 'workflow_type="deliveryWorkflow';
    return [
      { phase: 'start: the starter’s call (SDK)', ...rpc('StartWorkflowExecution') },
      { phase: 'start: in the server (frontend)', ...served('StartWorkflowExecution') },
      { phase: 'start: CreateWorkflowExecution (persistence)', ...stored('CreateWorkflowExecution') },
      {
        phase: 'first task polled, not eager: schedule to start (SDK)',
        ...phase(SDK, 'temporal_workflow_task_schedule_to_start_latency'),
      },
      {
        phase: 'workflow task, start to completion (SDK)',
        ...phase(SDK, 'temporal_workflow_task_execution_latency', delivery),
      },
      {
        phase: 'local activity: the attempt (SDK)',
        ...phase(SDK, 'temporal_local_activity_execution_latency', 'activity_type="sendDelivery"', delivery),
      },
      {
        phase: 'local activity: its HTTP request (Herald)',
        ...phase(HERALD, 'herald_attempt_duration_seconds'),
      },
      { phase: 'completion: the worker’s call (SDK)', ...rpc('RespondWorkflowTaskCompleted') },
      { phase: 'completion: in the server (frontend)', ...served('RespondWorkflowTaskCompleted') },
      { phase: 'completion: GetWorkflowExecution (persistence)', ...stored('GetWorkflowExecution') },
      { phase: 'completion: UpdateWorkflowExecution (persistence)', ...stored('UpdateWorkflowExecution') },
      {
        phase: 'end to end, start to completed (SDK)',
        ...phase(SDK, 'temporal_workflow_endtoend_latency', delivery),
      },
    ];
  };
}

/** The server's count of eager start requests, kept beside the persistence operations. */
const EAGER_STARTS = 'eager starts requested';

/**
 * Sums of the Temporal server's own persistence histograms, by operation (its Prometheus port), and
 * the starts whose client asked for the first task eagerly (it had a workflow task slot free).
 */
async function temporalPersistence(url: string | undefined): Promise<Map<string, { s: number; n: number }>> {
  const totals = new Map<string, { s: number; n: number }>();
  const add = (op: string, field: 's' | 'n', value: number) => {
    const t = totals.get(op) ?? { s: 0, n: 0 };
    t[field] += value;
    totals.set(op, t);
  };
  for (const [key, value] of await scrape(url)) {
    if (key.startsWith('workflow_eager_execution{')) add(EAGER_STARTS, 'n', value);
    // The execution store's calls, and the visibility store's (the Web UI's list and search).
    const m = /^(visibility_)?persistence_latency_(sum|count)\{(.*)\}$/.exec(key);
    const op = m && (/operation="([^"]+)"/.exec(m[3])?.[1] ?? '?');
    if (m) add(m[1] ? `visibility ${op}` : String(op), m[2] === 'sum' ? 's' : 'n', value);
  }
  return totals;
}

function persistenceDelta(
  before: Map<string, { s: number; n: number }>,
  after: Map<string, { s: number; n: number }>,
) {
  const rows = [...after].map(([op, a]) => {
    const b = before.get(op) ?? { s: 0, n: 0 };
    return { operation: op, calls: a.n - b.n, seconds: round(a.s - b.s, 2) ?? 0 };
  });
  const eager = rows.filter((r) => r.operation === EAGER_STARTS);
  return rows
    .filter((r) => r.calls > 0 && r.operation !== EAGER_STARTS)
    .sort((x, y) => y.seconds - x.seconds)
    .slice(0, 16)
    .concat(eager);
}

// ---------------------------------------------------------------------------------------------
// Scenarios

interface Ctx {
  stack: Stack;
  api: Api;
  receiver: Receiver;
  applicationId: string;
  publishToken: string;
  log: (line: string) => void;
}

/** Polls the receiver until `expected` unique deliveries arrived, or nothing new came for STALL_MS. */
async function waitForArrivals(ctx: Ctx, scenario: string, expected: number): Promise<void> {
  let last = -1;
  let lastChange = Date.now();
  let lastLog = Date.now();
  const deadline = Date.now() + 3 * 3600_000;
  while (Date.now() < deadline) {
    const c = await ctx.receiver.count(scenario);
    if (c.unique >= expected) return;
    if (c.unique !== last) {
      last = c.unique;
      lastChange = Date.now();
    } else if (Date.now() - lastChange > STALL_MS) {
      ctx.log(`  no new arrival for ${STALL_MS / 1000} s: ${c.unique} of ${expected}; giving up`);
      return;
    }
    if (Date.now() - lastLog > 15_000) {
      lastLog = Date.now();
      ctx.log(`  ${c.unique} of ${expected} delivered (${c.requests} requests)`);
    }
    await sleep(100);
  }
}

/** Compares what arrived with what was published: the ledger, the rates and the latencies. */
async function account(
  ctx: Ctx,
  scenario: string,
  expectedKeys: Set<string>,
  latencyFrom: (key: string, scheduledAt: number) => number | undefined,
) {
  const s = await ctx.receiver.summary(scenario);
  let delivered = 0;
  let strays = 0;
  let duplicates = 0;
  let requests = 0;
  let first = Number.POSITIVE_INFINITY;
  let last = 0;
  const e2e: number[] = [];
  const arrivals: number[] = [];
  for (let i = 0; i < s.keys.length; i++) {
    requests += s.requests[i];
    if (s.ok[i] === 0) continue;
    if (!expectedKeys.has(s.keys[i])) {
      strays++;
      continue;
    }
    delivered++;
    arrivals.push(s.first[i]);
    duplicates += s.ok[i] - 1;
    first = Math.min(first, s.first[i]);
    last = Math.max(last, s.first[i]);
    const from = latencyFrom(s.keys[i], s.scheduledAt[i]);
    if (from !== undefined) e2e.push(s.first[i] - from);
  }
  const expected = expectedKeys.size;
  const missing = expected - delivered;
  return {
    ledger: {
      expected,
      deliveredUnique: delivered,
      missing,
      duplicates,
      strays,
      requests,
      balanced: delivered + missing === expected && strays === 0,
    },
    first,
    last,
    e2eMs: latencySummary(e2e),
    busiestSecond: mostWithin(arrivals),
  };
}

async function createWebhooks(
  ctx: Ctx,
  def: ScenarioDef,
  entityType: string,
): Promise<{ paths: string[]; ids: string[] }> {
  const paths: string[] = [];
  const ids: string[] = [];
  for (let k = 0; k < def.webhooks; k++) {
    const p = `/${def.name}/${k}`;
    const query = def.failShare ? `?fail=${def.failShare}` : '';
    const created = await ctx.api.call('POST', '/v1/webhooks', {
      applicationId: ctx.applicationId,
      url: ctx.receiver.url(p + query),
      label: `bench ${def.name} ${k}`,
      events: [`${entityType}.*`],
      status: def.paused ? 'paused' : 'active',
      ...def.webhook,
    });
    paths.push(p);
    ids.push(created.body.id);
  }
  return { paths, ids };
}

async function deliveryScenario(ctx: Ctx, def: ScenarioDef) {
  const entityType = `b${def.name}`;
  const { paths, ids: hookIds } = await createWebhooks(ctx, def, entityType);
  const expectedDeliveries = def.events * def.webhooks;
  ctx.log(`  limits: plain client and bare publisher against the receiver`);
  const deliveryLimit = await plainLimit(ctx.receiver, def.name, Math.min(expectedDeliveries, 10_000), 330);
  const pubLimit = await publishLimit(ctx.receiver, def.name, Math.min(def.events, 5_000));
  ctx.log(`  floor: the least a delivery does on Temporal, beside this scenario`);
  const floor = await floorRuns(ctx, def.name, Math.min(expectedDeliveries, FLOOR_COUNT), 330);
  const floorWithRecords = def.recordsFloor
    ? await recordsFloorRun(ctx, def.name, Math.min(expectedDeliveries, FLOOR_COUNT))
    : undefined;

  const before = await temporalPersistence(ctx.stack.temporalMetricsUrl);
  const phases = phaseMeter(ctx.stack);
  const meter = resourceMeter({ ...ctx.stack.pids, receiver: ctx.receiver.pid });
  ctx.log(`  publishing ${def.events} events at ${def.rate}/s`);
  // The cores' busy share while delivering: from the first publish, or from the resume.
  let ticks = machineTicks();
  const pub = await publish({
    url: `${ctx.stack.apiUrl}/v1/events`,
    token: ctx.publishToken,
    count: def.events,
    rate: def.rate,
    concurrency: PUBLISH_CONCURRENCY,
    entityType,
  });
  // For the release, the publishing phase alone: what accepting an event costs with nothing delivered.
  const publishPhase = def.paused ? meter().processes : undefined;
  let releasedAt: number | undefined;
  let resumeMs: number | undefined;
  if (def.paused) {
    // Every delivery is now held: one resume releases them all.
    await sleep(1_000);
    ctx.log(`  resuming ${hookIds.length} webhook(s)`);
    const t = performance.now();
    releasedAt = Date.now();
    ticks = machineTicks();
    for (const id of hookIds) await ctx.api.call('POST', `/v1/webhooks/${id}/resume`);
    resumeMs = performance.now() - t;
  }
  await waitForArrivals(ctx, def.name, expectedDeliveries);
  const coresBusy = coresBusySince(ticks);
  const settledSeconds = await settle(ctx.stack);
  const resources = meter();
  const persistence = persistenceDelta(before, await temporalPersistence(ctx.stack.temporalMetricsUrl));
  const deliveryPhases = await phases(def.events * def.webhooks);

  const expectedKeys = new Set<string>();
  for (const id of pub.ids) for (const p of paths) expectedKeys.add(`${p}|${id}`);
  const acc = await account(ctx, def.name, expectedKeys, (_k, scheduledAt) =>
    releasedAt !== undefined ? releasedAt : scheduledAt || undefined,
  );
  const fanOutOk = pub.fanOut.every((n) => n === def.webhooks);
  const ledger = {
    ...acc.ledger,
    published: def.events,
    accepted: pub.accepted,
    fanOut: def.webhooks,
    balanced:
      acc.ledger.balanced &&
      pub.accepted === def.events &&
      fanOutOk &&
      def.events * def.webhooks === acc.ledger.deliveredUnique + acc.ledger.missing,
  };
  // Once more at Herald's concurrency, on the server as the scenario left it: the dev server's
  // costs change with what its SQLite database holds, and a long scenario changes that.
  ctx.log(`  floor again, after the scenario`);
  const [floorAfter] = await floorRuns(
    ctx,
    `${def.name}-after`,
    Math.min(expectedDeliveries, FLOOR_COUNT),
    330,
    [1],
  );
  const from = releasedAt ?? acc.first;
  const span = (acc.last - from) / 1000;
  return {
    name: def.name,
    title: def.title,
    params: {
      events: def.events,
      webhooks: def.webhooks,
      targetRate: def.rate,
      failShare: def.failShare ?? 0,
    },
    publish: {
      perSec: round(pub.accepted / pub.seconds),
      latencyMs: latencySummary(pub.latencies),
      generatorLagMs: latencySummary(pub.lag),
      errors: pub.errors,
    },
    publishLimit: pubLimit,
    resumeCallMs: round(resumeMs),
    delivery: {
      perSec: round(span > 0 ? (acc.ledger.deliveredUnique - (releasedAt ? 0 : 1)) / span : undefined),
      seconds: round(span),
      attemptsPerDelivery: round(acc.ledger.requests / Math.max(1, acc.ledger.deliveredUnique), 2),
      coresBusy,
    },
    deliveryLimit,
    floor,
    floorAfter,
    floorWithRecords,
    ...(def.webhook ? { webhook: def.webhook, busiestSecond: acc.busiestSecond } : {}),
    e2eMs: acc.e2eMs,
    e2eFrom: releasedAt ? 'the resume call' : 'each event’s scheduled send time',
    ledger,
    ...resources,
    settledSeconds,
    publishPhase,
    temporalPersistence: persistence,
    deliveryPhases,
  };
}

/**
 * Ingest alone: a paused webhook (every event fans out to one held delivery, nothing is sent),
 * single publishes as fast as PUBLISH_CONCURRENCY lanes go, then the same through batches.
 * The ledger: every accepted event is in PostgreSQL with its held delivery.
 */
async function ingestScenario(ctx: Ctx, def: ScenarioDef) {
  const entityType = 'bingest';
  const {
    ids: [hookId],
  } = await createWebhooks(ctx, def, entityType);
  const phase = async <T>(run: () => Promise<T>) => {
    const meter = resourceMeter({ ...ctx.stack.pids, receiver: ctx.receiver.pid });
    const outcome = await run();
    return { outcome, processes: meter().processes };
  };
  const cpuMsPerEvent = (processes: Record<string, { cpuSeconds: number | null }>, events: number) =>
    Object.fromEntries(
      ['api', 'postgres', 'bench'].map((n) => [
        n,
        events ? round(((processes[n]?.cpuSeconds ?? 0) / events) * 1000, 3) : null,
      ]),
    );
  ctx.log(`  ${def.events} single publishes, ${PUBLISH_CONCURRENCY} in flight`);
  const single = await phase(() =>
    publish({
      url: `${ctx.stack.apiUrl}/v1/events`,
      token: ctx.publishToken,
      count: def.events,
      rate: def.rate,
      concurrency: PUBLISH_CONCURRENCY,
      entityType,
    }),
  );
  const batchEvents = def.entities ?? 0;
  ctx.log(`  ${batchEvents} events in batches of ${INGEST_BATCH}, ${INGEST_BATCH_CONCURRENCY} in flight`);
  const batch = await phase(() =>
    publishBatches({
      url: `${ctx.stack.apiUrl}/v1/events/batch`,
      token: ctx.publishToken,
      count: batchEvents,
      size: INGEST_BATCH,
      concurrency: INGEST_BATCH_CONCURRENCY,
      entityType,
    }),
  );
  const { rows } = await ctx.stack.pool.query(
    `SELECT (SELECT count(*) FROM events WHERE entity_type = $1)::int AS events,
            (SELECT count(*) FROM deliveries WHERE webhook_id = $2 AND status = 'held')::int AS held`,
    [entityType, hookId],
  );
  const accepted = single.outcome.accepted + batch.outcome.accepted;
  const published = def.events + batchEvents;
  return {
    name: def.name,
    title: def.title,
    params: { single: def.events, batched: batchEvents, batchSize: INGEST_BATCH },
    ingest: {
      single: {
        events: def.events,
        concurrency: PUBLISH_CONCURRENCY,
        perSec: round(single.outcome.accepted / single.outcome.seconds),
        requestMs: latencySummary(single.outcome.latencies),
        errors: single.outcome.errors,
        cpuMsPerEvent: cpuMsPerEvent(single.processes, single.outcome.accepted),
      },
      batch: {
        events: batchEvents,
        concurrency: INGEST_BATCH_CONCURRENCY,
        perSec: round(batch.outcome.accepted / batch.outcome.seconds),
        requestMs: latencySummary(batch.outcome.latencies),
        errors: batch.outcome.errors,
        cpuMsPerEvent: cpuMsPerEvent(batch.processes, batch.outcome.accepted),
      },
    },
    ledger: {
      published,
      accepted,
      eventsWritten: rows[0].events,
      heldDeliveries: rows[0].held,
      missing: published - rows[0].held,
      balanced: accepted === published && rows[0].events === published && rows[0].held === published,
    },
    processes: batch.processes,
  };
}

async function syncScenario(ctx: Ctx, def: ScenarioDef) {
  const entities = def.entities ?? 0;
  const entityType = 'bsync';
  await ctx.stack.pool.query(
    `INSERT INTO entities (type, id, scopes, data)
     SELECT $1, lpad(g::text, 7, '0'), '{bench}',
            jsonb_build_object('seq', g, 'name', 'Member ' || g, 'email', 'm' || g || '@example.org')
       FROM generate_series(1, $2::int) AS g
     ON CONFLICT (type, id) DO NOTHING`,
    [entityType, entities],
  );
  const {
    paths: [p],
    ids: [hookId],
  } = await createWebhooks(ctx, def, entityType);
  ctx.log(`  limits: plain client against the receiver`);
  const deliveryLimit = await plainLimit(ctx.receiver, def.name, Math.min(entities, 10_000), 330);

  const before = await temporalPersistence(ctx.stack.temporalMetricsUrl);
  const meter = resourceMeter({ ...ctx.stack.pids, receiver: ctx.receiver.pid });
  const startedAt = Date.now();
  const t = performance.now();
  const sync = (await ctx.api.call('POST', `/v1/webhooks/${hookId}/syncs`, { entityTypes: [entityType] }))
    .body as { id: string };
  const startMs = performance.now() - t;
  ctx.log(`  sync ${sync.id} of ${entities} entities started`);
  await waitForArrivals(ctx, def.name, entities);
  // The workflow marks the sync completed after its last page; wait for that (bounded).
  let status = '';
  for (let i = 0; i < 100 && status !== 'completed'; i++) {
    status = (await ctx.api.call('GET', `/v1/syncs/${sync.id}`)).body.status;
    if (status !== 'completed') await sleep(200);
  }
  const settledSeconds = await settle(ctx.stack);
  const resources = meter();
  const persistence = persistenceDelta(before, await temporalPersistence(ctx.stack.temporalMetricsUrl));

  const suffix = sync.id.replace(/^sync_/, '');
  const expectedKeys = new Set<string>();
  for (let i = 0; i < entities; i++) expectedKeys.add(`${p}|evt_${suffix}_${i}`);
  const acc = await account(ctx, def.name, expectedKeys, () => startedAt);
  const span = (acc.last - startedAt) / 1000;
  return {
    name: def.name,
    title: def.title,
    params: { entities },
    syncStartMs: round(startMs),
    syncStatus: status,
    delivery: {
      perSec: round(span > 0 ? acc.ledger.deliveredUnique / span : undefined),
      seconds: round(span),
      attemptsPerDelivery: round(acc.ledger.requests / Math.max(1, acc.ledger.deliveredUnique), 2),
    },
    deliveryLimit,
    e2eMs: acc.e2eMs,
    e2eFrom: 'the sync start call',
    ledger: { ...acc.ledger, published: entities, fanOut: 1 },
    ...resources,
    settledSeconds,
    temporalPersistence: persistence,
  };
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const startedAt = new Date();
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const defs = scenarioDefs();
  const resultsDir = path.join(ROOT, 'bench/results');
  mkdirSync(resultsDir, { recursive: true });
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'herald-bench-'));
  const profiled = (process.env.BENCH_CPU_PROF ?? '').split(',').filter(Boolean);
  const profileDir = path.join(resultsDir, 'profiles');
  if (profiled.length) mkdirSync(profileDir, { recursive: true });
  const profileEnv = {
    NODE_OPTIONS:
      `${process.env.NODE_OPTIONS ?? ''} --import ${path.join(__dirname, 'cpu-profile.mjs')}`.trim(),
    BENCH_PROFILE_DIR: profileDir,
  };
  const load = () => os.loadavg().map((l) => Math.round(l * 100) / 100);
  const loadBefore = load();
  log(`bench: scale ${SCALE}, scenarios ${defs.map((d) => d.name).join(', ')}; load ${loadBefore.join(' ')}`);

  const receiver = await startReceiver();
  let stack: Stack | undefined;
  const results: Record<string, unknown>[] = [];
  let failed = false;
  const onSignal = () => {
    log('bench: interrupted; stopping');
    failed = true;
  };
  process.once('SIGINT', onSignal);
  try {
    const t = performance.now();
    stack = await startStack({
      dataDir,
      temporalArgs: JSON.parse(process.env.BENCH_TEMPORAL_ARGS ?? '[]'),
      env: {
        HERALD_RETRY_INITIAL_MS: '200',
        HERALD_RETRY_BACKOFF: '2',
        HERALD_RETRY_MAX_INTERVAL_MS: '2000',
        HERALD_RETRY_MAX_ATTEMPTS: '25',
        HERALD_REQUEST_TIMEOUT_MS: '5000',
        // The per-key limit stays in the path but out of the way: the bench measures capacity.
        HERALD_RATE_LIMIT_PER_SECOND: '1000000',
        HERALD_RATE_LIMIT_BURST: '1000000',
      },
      apiEnv: profiled.includes('api') ? profileEnv : undefined,
      workerEnv: {
        ...(profiled.includes('worker') ? profileEnv : {}),
        // Experiments: e.g. --max-old-space-size for the worker alone.
        ...(process.env.BENCH_WORKER_NODE_OPTIONS
          ? {
              NODE_OPTIONS:
                `${profiled.includes('worker') ? profileEnv.NODE_OPTIONS : ''} ${process.env.BENCH_WORKER_NODE_OPTIONS}`.trim(),
            }
          : {}),
      },
      log,
    });
    const startupSeconds = round((performance.now() - t) / 1000);
    log(`bench: stack up in ${startupSeconds} s (API ${stack.apiUrl})`);
    const api = apiClient(stack);
    const app = await api.call('POST', '/v1/applications', {
      name: 'bench',
      access: { entityTypes: ['*'], scopes: ['*'] },
    });
    const key = await api.call('POST', '/v1/publisher-keys', {
      name: 'bench publisher',
      scopes: ['events:publish'],
    });
    const ctx: Ctx = {
      stack,
      api,
      receiver,
      applicationId: app.body.id,
      publishToken: key.body.token,
      log,
    };

    // Warm-up: the worker is polling and every code path has run once before anything is timed.
    await createWebhooks(
      ctx,
      { name: 'warmup' as ScenarioName, title: '', events: 0, webhooks: 1, rate: 0 },
      'bwarmup',
    );
    await publish({
      url: `${stack.apiUrl}/v1/events`,
      token: ctx.publishToken,
      count: 20,
      rate: 200,
      concurrency: 4,
      entityType: 'bwarmup',
    });
    await waitForArrivals(ctx, 'warmup', 20);

    for (const def of defs) {
      if (failed) break;
      if (def.name === 'latency') Object.assign(def, latencyDef(results as never));
      log(`bench: ${def.name}: ${def.title}`);
      const result =
        def.name === 'sync'
          ? await syncScenario(ctx, def)
          : def.name === 'ingest'
            ? await ingestScenario(ctx, def)
            : await deliveryScenario(ctx, def);
      results.push(result);
      const l = result.ledger as { balanced: boolean; missing: number };
      if (!l.balanced || l.missing > 0) failed = true;
      log(
        `  => ${JSON.stringify('ingest' in result ? { ingest: result.ingest, ledger: result.ledger } : { publish: 'publish' in result ? result.publish.perSec : null, delivery: result.delivery.perSec, e2e: result.e2eMs, ledger: result.ledger })}`,
      );
      await sleep(1_000);
    }

    const report = {
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      scale: SCALE,
      targetPublishRate: RATE,
      machine: {
        cpus: os.cpus().length,
        cpuModel: os.cpus()[0]?.model,
        memoryGiB: round(os.totalmem() / 2 ** 30),
        node: process.version,
        loadBefore,
        loadAfter: load(),
      },
      services:
        process.env.BENCH_TOPOLOGY === 'cluster'
          ? `cluster (${process.env.BENCH_SHARDS ?? 4} history shards, mTLS)`
          : process.env.TEMPORAL_ADDRESS
            ? 'external'
            : 'embedded',
      stackStartupSeconds: startupSeconds,
      scenarios: results,
    };
    const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
    const md = markdownReport(report as never);
    writeFileSync(
      path.join(resultsDir, `${stamp}.json`),
      `${JSON.stringify({ ...report, markdown: md }, null, 2)}\n`,
    );
    const complete = SCALE === 1 && defs.length === ALL.length && !failed;
    if (complete) writeFileSync(path.join(resultsDir, 'latest.md'), md);
    process.stdout.write(`${md}\n`);
    log(`bench: results in bench/results/${stamp}.json${complete ? ' and bench/results/latest.md' : ''}`);
  } finally {
    process.off('SIGINT', onSignal);
    await stack?.stop().catch((err) => log(`bench: stopping the stack: ${err.message}`));
    receiver.stop();
    if (process.env.BENCH_KEEP !== 'true') rmSync(dataDir, { recursive: true, force: true });
  }
  if (failed) {
    log('bench: a ledger did not balance or deliveries are missing: this run is void');
    process.exitCode = 1;
  }
}

main().catch((err) => {
  process.stderr.write(`bench: ${err?.stack ?? err}\n`);
  process.exit(1);
});
