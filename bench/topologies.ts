/**
 * `npm run bench:topologies`: the same delivery scenarios on the dev server and on Temporal's
 * production topology (4 and 16 history shards) in one run, one after another on this machine,
 * and one table of their rates and CPU per delivery per process (docs/performance.md).
 *
 * Each topology is a bench/run.ts of its own (its own stack, receiver and ledgers); BENCH_SCALE
 * (default 0.1) and BENCH_SCENARIOS (default single,fanout,held) are passed on.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PROCESS_ORDER } from './report';

const ROOT = path.resolve(__dirname, '..');
const TOPOLOGIES: { label: string; env: Record<string, string> }[] = [
  { label: 'dev server', env: {} },
  { label: 'cluster, 4 shards', env: { BENCH_TOPOLOGY: 'cluster', BENCH_SHARDS: '4' } },
  { label: 'cluster, 16 shards', env: { BENCH_TOPOLOGY: 'cluster', BENCH_SHARDS: '16' } },
];

interface Scenario {
  name: string;
  delivery: { perSec: number | null };
  ledger: { published: number; fanOut: number; deliveredUnique: number; missing: number; balanced: boolean };
  processes: Record<string, { cpuSeconds: number | null }>;
}

function runOne(env: Record<string, string>): { scenarios: Scenario[]; file: string } {
  const result = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bench/run.ts')], {
    cwd: ROOT,
    env: {
      ...process.env,
      BENCH_SCALE: process.env.BENCH_SCALE ?? '0.1',
      BENCH_SCENARIOS: process.env.BENCH_SCENARIOS ?? 'single,fanout,held',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  process.stderr.write(result.stderr);
  const file = /bench: results in (bench\/results\/\S+\.json)/.exec(result.stderr)?.[1];
  if (result.status !== 0 || !file) throw new Error(`bench/run.ts exited with ${result.status}`);
  return { scenarios: JSON.parse(readFileSync(path.join(ROOT, file), 'utf8')).scenarios, file };
}

function main() {
  const startedAt = new Date();
  const rows: string[] = [];
  const files: string[] = [];
  let balanced = true;
  for (const t of TOPOLOGIES) {
    process.stderr.write(`bench:topologies: ${t.label}\n`);
    const { scenarios, file } = runOne(t.env);
    files.push(file);
    for (const s of scenarios) {
      const n = s.ledger.deliveredUnique;
      const ms = PROCESS_ORDER.map((p) => {
        const cpu = s.processes[p]?.cpuSeconds;
        return cpu == null || !n ? '–' : String(Math.round((cpu / n) * 1e5) / 100);
      });
      const total = PROCESS_ORDER.reduce((sum, p) => sum + (s.processes[p]?.cpuSeconds ?? 0), 0);
      balanced &&= s.ledger.balanced && s.ledger.missing === 0;
      rows.push(
        `| ${t.label} | ${s.name} | ${n} | ${s.delivery.perSec ?? '–'} | ${ms.join(' | ')} | ${
          n ? Math.round((total / n) * 1e5) / 100 : '–'
        } | ${s.ledger.published} × ${s.ledger.fanOut}: ${s.ledger.missing} missing ${s.ledger.balanced ? '✓' : '**void**'} |`,
      );
    }
  }
  const md = [
    `# Herald on both topologies (${startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC)`,
    '',
    `\`npm run bench:topologies\`, scale ${process.env.BENCH_SCALE ?? '0.1'}: each topology in turn on this machine (${files.join(', ')}). CPU milliseconds per delivery, per process.`,
    '',
    `| topology | scenario | deliveries | deliveries/s | ${PROCESS_ORDER.join(' | ')} | total ms | ledger |`,
    `|---|---|---|---|${PROCESS_ORDER.map(() => '---').join('|')}|---|---|`,
    ...rows,
    '',
  ].join('\n');
  writeFileSync(path.join(ROOT, 'bench/results/topologies.md'), md);
  process.stdout.write(`${md}\n`);
  if (!balanced) process.exit(1);
}

main();
