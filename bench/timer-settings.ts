/**
 * How the Temporal history service's timer settings pace a sync, on the production topology
 * (test/cluster: Temporal 1.29.1's four services on PostgreSQL, mutual TLS, 4 shards) with one
 * Herald API and worker. For each dynamic config in turn (the history service restarted on it), a
 * sync of ENTITIES entities paced at INTERVAL ms runs to completion, and the receiver's arrival
 * times give the gaps between requests; then the history service's CPU over 20 s with nothing to
 * do. The three configs: Temporal's defaults (the timer queue reads 1 s ahead, at most 20 reads a
 * second), `history.timerProcessorMaxTimeShift` 10ms alone, and with
 * `history.timerProcessorMaxPollRPS` 1000 too (deploy/temporal-dynamic-config.yaml).
 *
 *   npx tsx bench/timer-settings.ts [interval ms, default 50] [entities, default 40] [rounds, default 2]
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { launchCluster } from '../test/cluster/cluster-process';
import { bundleWorkflows, startHerald } from '../test/cluster/herald';
import { apiClient, eventually } from '../test/support/client';
import { appWithKey, createWebhook } from '../test/support/fixtures';
import { startReceiver } from '../test/support/receiver';
import { testEnv } from '../test/support/stack';
import { cpuSeconds } from './proc';

const EAGER = `system.enableEagerWorkflowStart:
  - value: true
system.enableActivityEagerExecution:
  - value: true
`;
const SHIFT = `history.timerProcessorMaxTimeShift:
  - value: 10ms
`;
const POLL_RPS = `history.timerProcessorMaxPollRPS:
  - value: 1000
`;
const CONFIGS: Record<string, string> = {
  "Temporal's defaults": EAGER,
  'max time shift 10ms': EAGER + SHIFT,
  'shift 10ms, max poll RPS 1000': EAGER + SHIFT + POLL_RPS,
};
const IDLE_SECONDS = 20;

async function main() {
  const interval = Number(process.argv[2] ?? 50);
  const entities = Number(process.argv[3] ?? 40);
  const rounds = Number(process.argv[4] ?? 2);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'herald-bench-timers-'));
  const cluster = await launchCluster({ dir, shards: 4, ephemeral: true });
  const receiver = await startReceiver();
  // Test settings (loopback receivers allowed, short retries) without their port and log choices.
  const { PORT: _port, TEMPORAL_TASK_QUEUE: _queue, HERALD_METRICS_PORT: _metrics, ...settings } = testEnv();
  const herald = await startHerald({ cluster, dir, bundle: bundleWorkflows(dir), workers: 1, env: settings });
  try {
    const admin = apiClient(herald.apiUrl, herald.adminToken);
    const key = apiClient(
      herald.apiUrl,
      (await appWithKey(admin, { entityTypes: ['person'], scopes: ['timers'] })).token,
    );
    for (let i = 0; i < entities; i++) {
      await admin.put(`/v1/entities/person/timers-${i}`, { data: { i }, scopes: ['timers'] });
    }
    let run = 0;
    for (let round = 1; round <= rounds; round++) {
      for (const [name, config] of Object.entries(CONFIGS)) {
        writeFileSync(path.join(dir, 'dynamicconfig.yaml'), config);
        await cluster.kill('history');
        await cluster.start('history');
        const route = `/timers-${++run}`;
        const webhook = await createWebhook(key, { url: receiver.url(route), syncIntervalMs: interval });
        const sync = (await key.post(`/v1/webhooks/${webhook.id}/syncs`, {})).body;
        await eventually(
          async () => (await key.get(`/v1/syncs/${sync.id}`)).body.status === 'completed',
          entities * (interval + 2_000),
          200,
        );
        const at = receiver
          .on(route)
          .map((r) => r.receivedAt)
          .sort((a, b) => a - b);
        const gaps = at
          .slice(1)
          .map((t, i) => t - at[i])
          .sort((a, b) => a - b);
        const q = (f: number) => gaps[Math.min(gaps.length - 1, Math.floor(f * gaps.length))].toFixed(0);
        const pid = cluster.pids().history;
        const idleFrom = pid ? cpuSeconds(pid) : undefined;
        await new Promise((resolve) => setTimeout(resolve, IDLE_SECONDS * 1000)); // a window of nothing to do
        const idleTo = pid ? cpuSeconds(pid) : undefined;
        const idle =
          idleFrom === undefined || idleTo === undefined
            ? 'n/a'
            : `${(((idleTo - idleFrom) / IDLE_SECONDS) * 100).toFixed(1)} % of a core`;
        console.log(
          `round ${round}, ${name}: ${at.length} requests paced at ${interval} ms, gaps p50 ${q(0.5)} p90 ${q(0.9)} ` +
            `max ${q(1)} ms; history idle ${idle}`,
        );
      }
    }
  } finally {
    await herald.stop();
    await receiver.close();
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
