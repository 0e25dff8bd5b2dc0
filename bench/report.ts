/** The markdown report of one bench run: throughput and latency, ledger, resources. */

interface Latency {
  p50: number | null;
  p95: number | null;
  p99: number | null;
}
interface Limit {
  perSec: number | null;
  latencyMs: Latency;
  concurrency: number;
}
/** One run of the floor (bench/floor.ts): its rate and CPU per delivery. */
interface FloorRun {
  concurrency: number;
  deliveries: number;
  perSec: number | null;
  /** Percent of all the machine's cores busy while it ran. */
  coresBusy?: number | null;
  cpuMsPerDelivery: { worker: number | null; temporal: number | null; postgres: number | null };
}
interface Scenario {
  name: string;
  title: string;
  publish?: { perSec: number | null; latencyMs: Latency; generatorLagMs: Latency; errors: number };
  publishLimit?: Limit;
  delivery: {
    perSec: number | null;
    seconds: number | null;
    attemptsPerDelivery: number | null;
    /** Percent of all the machine's cores busy from the first publish (or the resume) to the last arrival. */
    coresBusy?: number | null;
  };
  deliveryLimit: Limit;
  e2eMs: Latency;
  e2eFrom: string;
  ledger: {
    published: number;
    fanOut: number;
    expected: number;
    deliveredUnique: number;
    missing: number;
    duplicates: number;
    strays: number;
    balanced: boolean;
  };
  processes: Record<string, { cpuSeconds: number | null; peakRssMiB: number | null }>;
  peakIsPerScenario: boolean;
  /** The floor beside it, just before it, at each concurrency. */
  floor?: FloorRun[];
  /** The floor once more just after it, at Herald's concurrency. */
  floorAfter?: FloorRun;
  /** The floor with records (bench/floor.ts), at Herald's concurrency, after the floor before it. */
  floorWithRecords?: FloorRun;
  /** The scenario's webhook settings (ordering, throttle) and the most arrivals in any second. */
  webhook?: Record<string, unknown>;
  busiestSecond?: number;
  /** Where a delivery's time went (bench/run.ts, phaseMeter). */
  deliveryPhases?: { phase: string; perDelivery: number | null; meanMs: number | null }[];
  /** The Temporal server's persistence calls over the scenario, and its eager start requests. */
  temporalPersistence?: { operation: string; calls: number; seconds: number }[];
}
interface IngestPhase {
  events: number;
  concurrency: number;
  perSec: number | null;
  requestMs: Latency;
  errors: number;
  cpuMsPerEvent: Record<string, number | null>;
}
/** The ingest scenario: publishing alone, one event per request and in batches. */
interface IngestScenario {
  name: 'ingest';
  title: string;
  params: { batchSize: number };
  ingest: { single: IngestPhase; batch: IngestPhase };
  ledger: {
    published: number;
    accepted: number;
    eventsWritten: number;
    heldDeliveries: number;
    balanced: boolean;
  };
}
interface Report {
  startedAt: string;
  finishedAt: string;
  scale: number;
  targetPublishRate: number;
  machine: {
    cpus: number;
    cpuModel?: string;
    memoryGiB: number | null;
    node: string;
    loadBefore: number[];
    loadAfter: number[];
  };
  services: string;
  stackStartupSeconds: number | null;
  scenarios: (Scenario | IngestScenario)[];
}

const v = (n: number | null | undefined) => (n === null || n === undefined ? '–' : String(n));
const ratio = (a: number | null | undefined, b: number | null | undefined) =>
  a && b ? `${Math.round((a / b) * 1000) / 10} %` : '–';
/** a as a multiple of b: "1.23×". */
const ratioX = (a: number | null | undefined, b: number | null | undefined) =>
  a && b ? `${Math.round((a / b) * 100) / 100}×` : '–';
/** A share already in percent: "88.7 %". */
const percent = (share: number | null | undefined) => (share == null ? '–' : `${share} %`);

/** A floor run's CPU per delivery, its processes together. */
const floorTotal = ({ cpuMsPerDelivery: c }: FloorRun) =>
  (c.worker ?? 0) + (c.temporal ?? 0) + (c.postgres ?? 0);

/** Starts that asked for their first task eagerly, of all workflows the server created. */
function eagerShare(rows: Scenario['temporalPersistence']): string {
  const calls = (op: string) => rows?.find((r) => r.operation === op)?.calls;
  const eager = calls('eager starts requested');
  const created = calls('CreateWorkflowExecution');
  return eager === undefined || !created ? '–' : `${Math.round((eager / created) * 100)} %`;
}

/** The processes a delivery costs CPU in, in the order the tables list them (bench/topologies.ts too). */
export const PROCESS_ORDER = [
  'api',
  'worker',
  'temporal',
  'frontend',
  'history',
  'matching',
  'temporal-worker',
  'postgres',
];

export function markdownReport(report: Report): string {
  const r = { ...report, scenarios: report.scenarios.filter((s): s is Scenario => s.name !== 'ingest') };
  const ingest = report.scenarios.find((s): s is IngestScenario => s.name === 'ingest');
  const lines = [
    `# Herald benchmark (${r.startedAt.slice(0, 16).replace('T', ' ')} UTC)`,
    '',
    `\`npm run bench\`, scale ${r.scale}, ${r.services} services, target publish rate ${r.targetPublishRate}/s. ` +
      `${r.machine.cpus} CPUs (${r.machine.cpuModel ?? '?'}), ${v(r.machine.memoryGiB)} GiB, Node ${r.machine.node}; ` +
      `load average ${r.machine.loadBefore.join(' ')} before, ${r.machine.loadAfter.join(' ')} after. ` +
      `Stack up in ${v(r.stackStartupSeconds)} s.`,
    '',
  ];
  if (r.scenarios.length) lines.push(...deliveryTables(r));
  if (ingest) lines.push(...ingestTable(ingest));
  lines.push(
    '',
    r.scenarios.every((s) => s.peakIsPerScenario)
      ? 'Peak RSS is per scenario (VmHWM reset through /proc/<pid>/clear_refs at its start).'
      : 'Peak RSS is since process start (VmHWM could not be reset here).',
    '',
  );
  return lines.join('\n');
}

/** The delivery scenarios' tables: rates and ledgers, resources, CPU per delivery, the floor, throttles. */
function deliveryTables(r: Omit<Report, 'scenarios'> & { scenarios: Scenario[] }): string[] {
  const lines = [
    'Limits are measured in the same run, just before each scenario: the publisher itself against the bare ' +
      'receiver, and a plain node:http keep-alive client (its own process) against the same receiver.',
    '',
    '| scenario | published/s (of limit) | POST p50 / p99 ms | deliveries/s (of plain limit) | end-to-end p50 / p95 / p99 ms | ledger |',
    '|---|---|---|---|---|---|',
  ];
  for (const s of r.scenarios) {
    const pub = s.publish
      ? `${v(s.publish.perSec)} (${ratio(s.publish.perSec, s.publishLimit?.perSec)} of ${v(s.publishLimit?.perSec)})`
      : '–';
    const post = s.publish ? `${v(s.publish.latencyMs.p50)} / ${v(s.publish.latencyMs.p99)}` : '–';
    const del = `${v(s.delivery.perSec)} (${ratio(s.delivery.perSec, s.deliveryLimit.perSec)} of ${v(s.deliveryLimit.perSec)})`;
    const e2e = `${v(s.e2eMs.p50)} / ${v(s.e2eMs.p95)} / ${v(s.e2eMs.p99)}`;
    const l = s.ledger;
    const ledger = `${l.published} × ${l.fanOut} = ${l.expected}: ${l.deliveredUnique} delivered + ${l.missing} missing${
      l.duplicates ? `, ${l.duplicates} duplicates` : ''
    }${l.strays ? `, ${l.strays} strays` : ''} ${l.balanced && l.missing === 0 ? '✓' : '**void**'}`;
    lines.push(`| ${s.title} | ${pub} | ${post} | ${del} | ${e2e} | ${ledger} |`);
  }
  lines.push(
    '',
    'End-to-end latency runs from each event’s scheduled send time (written into its `data` by the ' +
      'generator) to its first successful arrival at the receiver; for the release, from the resume call; ' +
      'for the sync, from the sync start call.',
    '',
    '| scenario | CPU s: API / worker / Temporal / PostgreSQL / receiver / bench | peak RSS MiB: API / worker / Temporal | attempts per delivery |',
    '|---|---|---|---|',
  );
  for (const s of r.scenarios) {
    const p = s.processes;
    const cpu = ['api', 'worker', 'temporal', 'postgres', 'receiver', 'bench']
      .map((n) => v(p[n]?.cpuSeconds))
      .join(' / ');
    const rss = ['api', 'worker', 'temporal'].map((n) => v(p[n]?.peakRssMiB)).join(' / ');
    lines.push(`| ${s.name} | ${cpu} | ${rss} | ${v(s.delivery.attemptsPerDelivery)} |`);
  }
  // CPU per delivery, per process: what docs/deployment.md's capacity model is built from.
  const names = PROCESS_ORDER.filter((n) => r.scenarios.some((s) => s.processes[n]));
  lines.push('', `| scenario | CPU ms per delivery: ${names.join(' / ')} | total |`, '|---|---|---|');
  for (const s of r.scenarios) {
    const n = s.ledger.deliveredUnique;
    const per = names.map((name) => s.processes[name]?.cpuSeconds);
    const total = per.reduce<number>((sum, c) => sum + (c ?? 0), 0);
    const ms = (c: number | null | undefined) =>
      c == null || !n ? '–' : String(Math.round((c / n) * 1e5) / 100);
    lines.push(`| ${s.name} | ${per.map(ms).join(' / ')} | ${ms(total)} |`);
  }
  const floored = r.scenarios.filter((s) => s.floor?.length);
  if (floored.length) {
    lines.push(
      '',
      'The floor (bench/floor.ts) is the least a delivery does on Temporal: started eagerly, one local activity that ' +
        'POSTs the same body to the same receiver, completed; run beside each scenario on the same server. Ratios ' +
        'are Herald over the floor at the starts in flight and task slots of Herald’s worker (the first figure); ' +
        'the second has four times as many of both. Each run, the floor’s and the scenario’s, is charged until the ' +
        'Temporal server and PostgreSQL are idle again, so what its workflows leave them to do is its own. The last ' +
        'column is the floor run once more just after the scenario, on the server as the scenario left it.',
      '',
      `| scenario | floor deliveries/s at ${floored[0].floor!.map((f) => f.concurrency).join(' / ')} in flight | Herald deliveries/s (of floor) | CPU ms per delivery, Herald worker / floor worker | Temporal, Herald / floor | PostgreSQL, Herald / floor | total, Herald / floor (ratio) | starts eager, Herald | cores busy, Herald / floor | floor after: total (ratio) |`,
      '|---|---|---|---|---|---|---|---|---|---|',
    );
    for (const s of floored) {
      const f = s.floor![0];
      const n = s.ledger.deliveredUnique;
      const herald = (names: string[]) =>
        n
          ? (names.reduce((sum, name) => sum + (s.processes[name]?.cpuSeconds ?? 0), 0) / n) * 1000
          : undefined;
      const temporalNames = ['temporal', 'frontend', 'history', 'matching', 'temporal-worker'];
      const hw = herald(['worker']);
      const ht = herald(temporalNames);
      const hp = herald(['postgres']);
      const ha = herald(['api']);
      const hTotal = (hw ?? 0) + (ht ?? 0) + (hp ?? 0) + (ha ?? 0);
      const c = f.cpuMsPerDelivery;
      const fTotal = floorTotal(f);
      const after = s.floorAfter ? floorTotal(s.floorAfter) : undefined;
      const pair = (a: number | undefined, b: number | null) =>
        `${v(a === undefined ? null : Math.round(a * 100) / 100)} / ${v(b)}`;
      lines.push(
        `| ${s.name} | ${s.floor!.map((x) => v(x.perSec)).join(' / ')} | ${v(s.delivery.perSec)} (${ratioX(s.delivery.perSec, f.perSec)}) | ` +
          `${pair(hw, c.worker)} | ${pair(ht, c.temporal)} | ${pair(hp, c.postgres)} | ` +
          `${v(Math.round(hTotal * 100) / 100)} / ${v(Math.round(fTotal * 100) / 100)} (${ratioX(hTotal, fTotal)}) | ` +
          `${eagerShare(s.temporalPersistence)} | ${percent(s.delivery.coresBusy)} / ${percent(f.coresBusy)} | ` +
          `${after === undefined ? '–' : `${v(Math.round(after * 100) / 100)} (${ratioX(hTotal, after)})`} |`,
      );
    }
  }
  const recorded = r.scenarios.filter((s) => s.floorWithRecords && s.floor?.length);
  if (recorded.length) {
    lines.push(
      '',
      'The floor with records (bench/floor.ts) is the floor that also writes, one statement each on Herald’s own ' +
        'tables, the rows a delivery must leave: its event and delivery before the start, `sending` before the ' +
        'request, the attempt and the final state after it. Its worker column includes those statements’ client ' +
        'side (Herald’s is in its API and worker). Herald’s total is its four processes, API included.',
      '',
      '| scenario | floor with records deliveries/s | CPU ms per delivery, worker / Temporal / PostgreSQL = total | the records’ own (over the floor before) | Herald’s total (ratio to the floor with records) |',
      '|---|---|---|---|---|',
    );
    for (const s of recorded) {
      const f = s.floorWithRecords!;
      const c = f.cpuMsPerDelivery;
      const total = floorTotal(f);
      const n = s.ledger.deliveredUnique;
      const herald = n
        ? (PROCESS_ORDER.reduce((sum, name) => sum + (s.processes[name]?.cpuSeconds ?? 0), 0) / n) * 1000
        : undefined;
      const r2 = (x: number | undefined) => (x === undefined ? null : Math.round(x * 100) / 100);
      lines.push(
        `| ${s.name} | ${v(f.perSec)} | ${v(c.worker)} / ${v(c.temporal)} / ${v(c.postgres)} = ${v(r2(total))} | ` +
          `${v(r2(total - floorTotal(s.floor![0])))} | ${v(r2(herald))} (${ratioX(herald, total)}) |`,
      );
    }
  }
  const controlled = r.scenarios.filter((s) => s.webhook);
  if (controlled.length) {
    lines.push(
      '',
      '| scenario | webhook settings | deliveries/s | most arrivals in any second |',
      '|---|---|---|---|',
    );
    for (const s of controlled)
      lines.push(
        `| ${s.name} | \`${JSON.stringify(s.webhook)}\` | ${v(s.delivery.perSec)} | ${v(s.busiestSecond)} |`,
      );
  }
  const phased = r.scenarios.filter((s) => s.deliveryPhases?.length);
  if (phased.length) {
    lines.push(
      '',
      'Where the time of a delivery goes: each phase’s mean in ms, from the Temporal SDK’s histograms in the worker, ' +
        'the server’s and Herald’s own, over the scenario; × how often it happened per delivery.',
      '',
      `| phase | ${phased.map((s) => s.name).join(' | ')} |`,
      `|---|${phased.map(() => '---|').join('')}`,
    );
    for (const [i, { phase }] of phased[0].deliveryPhases!.entries()) {
      const cells = phased.map((s) => {
        const p = s.deliveryPhases![i];
        return `${v(p.meanMs)} × ${v(p.perDelivery)}`;
      });
      lines.push(`| ${phase} | ${cells.join(' | ')} |`);
    }
  }
  return lines;
}

/** The ingest scenario's table: single and batched publishing, and its ledger. */
function ingestTable(ingest: IngestScenario): string[] {
  const lines: string[] = [];
  const l = ingest.ledger;
  lines.push(
    '',
    `${ingest.title}. CPU per event over the phase; the ledger counts what PostgreSQL holds afterwards.`,
    '',
    '| publishing | events | in flight | events/s | request p50 / p99 ms | CPU ms per event: API / PostgreSQL / bench |',
    '|---|---|---|---|---|---|',
  );
  for (const [label, p] of [
    ['one event per request', ingest.ingest.single],
    [`batches of ${ingest.params.batchSize}`, ingest.ingest.batch],
  ] as const) {
    const cpu = ['api', 'postgres', 'bench'].map((n) => v(p.cpuMsPerEvent[n])).join(' / ');
    lines.push(
      `| ${label} | ${p.events} | ${p.concurrency} | ${v(p.perSec)} | ${v(p.requestMs.p50)} / ${v(p.requestMs.p99)} | ${cpu} |`,
    );
  }
  lines.push(
    '',
    `Ingest ledger: ${l.published} published, ${l.accepted} accepted, ${l.eventsWritten} events and ${l.heldDeliveries} held deliveries written ${l.balanced ? '✓' : '**void**'}`,
  );
  return lines;
}
