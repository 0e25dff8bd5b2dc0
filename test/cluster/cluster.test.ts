/**
 * `npm run test:cluster`: Herald on Temporal's production topology. The frontend, history, matching
 * and worker services run as separate processes on PostgreSQL, the frontend requires mutual TLS,
 * and Herald's API and two workers reach it configured by environment alone (test/cluster/herald.ts).
 * Checked through the public API: delivery, hold and resume, sync, Run Test; refusals of clients
 * without a good certificate; and two ledgers (published x fan-out = delivered) across a SIGKILL
 * of the history service and of one of the two workers.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { createPool, type Pool } from '../../src/db/pool';
import { createLedger, faultReceiver, faultWebhooks, publish } from '../faults/ledger';
import { type ApiClient, apiClient, eventually } from '../support/client';
import { appWithKey, createWebhook, personEvent } from '../support/fixtures';
import { type Receiver, startReceiver } from '../support/receiver';
import { testEnv } from '../support/stack';
import { SERVER_NAME } from './certs';
import { launchCluster } from './cluster-process';
import { bundleWorkflows, type HeraldDeployment, spawnHerald, startHerald } from './herald';
import type { Cluster } from './topology';

/** CLUSTER_SCALE (default 1) sizes the two ledgers: 150 events x 2 webhooks each at 1. */
const SCALE = Number(process.env.CLUSTER_SCALE ?? 1);
const EVENTS = Math.max(20, Math.round(150 * SCALE));

let dir: string;
let cluster: Cluster;
let herald: HeraldDeployment;
let receiver: Receiver;
let admin: ApiClient;
let pool: Pool;
let bundle: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'herald-cluster-'));
  const t = performance.now();
  cluster = await launchCluster({ dir, shards: 4, ephemeral: true, log: (l) => console.log(l) });
  const clusterSeconds = (performance.now() - t) / 1000;
  bundle = bundleWorkflows(dir);
  const h = performance.now();
  // Test settings (short retries, loopback receivers) without their port and log choices.
  const { PORT: _port, TEMPORAL_TASK_QUEUE: _queue, HERALD_METRICS_PORT: _m, ...settings } = testEnv();
  herald = await startHerald({ cluster, dir, bundle, workers: 2, env: settings });
  console.log(
    `cluster up in ${clusterSeconds.toFixed(1)} s; Herald API and 2 workers ready in ${((performance.now() - h) / 1000).toFixed(1)} s`,
  );
  receiver = await startReceiver();
  admin = apiClient(herald.apiUrl, herald.adminToken);
  pool = createPool(cluster.databaseUrl, 2);
}, 300_000);

afterAll(async () => {
  await pool?.end();
  await herald?.stop();
  await receiver?.close();
  await cluster?.stop();
  if (dir && !process.env.CLUSTER_KEEP) rmSync(dir, { recursive: true, force: true });
});

/** Each test's application sees only its own scope, so no event fans out to another test's webhooks. */
let scopes = 0;
async function customer() {
  const scope = `cluster:${++scopes}`;
  const key = apiClient(
    herald.apiUrl,
    (await appWithKey(admin, { entityTypes: ['person'], scopes: [scope] })).token,
  );
  return { scope, key };
}

/** Pids of the processes polling Herald's task queue (the SDK's identity is pid@host). */
async function pollingPids(): Promise<Set<number>> {
  const connection = await cluster.connect();
  try {
    const answer = await connection.workflowService.describeTaskQueue({
      namespace: cluster.namespace,
      taskQueue: { name: String(herald.env.TEMPORAL_TASK_QUEUE) },
      taskQueueType: 1, // workflow tasks
    });
    return new Set((answer.pollers ?? []).map((p) => Number(String(p.identity).split('@')[0])));
  } finally {
    await connection.close();
  }
}

describe('mutual TLS', () => {
  test('a client without a certificate, or with one from another CA, is refused; with Herald’s it connects', async () => {
    const ca = readFileSync(cluster.certs.ca);
    const attempt = async (clientCertPair?: { crt: Buffer; key: Buffer }) => {
      const connection = await Connection.connect({
        address: cluster.address,
        tls: { serverNameOverride: SERVER_NAME, serverRootCACertificate: ca, clientCertPair },
        connectTimeout: 3_000,
      });
      await connection.close();
    };
    await expect(attempt()).rejects.toThrow();
    await expect(
      attempt({ crt: readFileSync(cluster.certs.rogue.cert), key: readFileSync(cluster.certs.rogue.key) }),
    ).rejects.toThrow();
    await expect(Connection.connect({ address: cluster.address, connectTimeout: 3_000 })).rejects.toThrow();
    await expect(
      attempt({ crt: readFileSync(cluster.certs.client.cert), key: readFileSync(cluster.certs.client.key) }),
    ).resolves.toBeUndefined();
  });

  test('Herald refuses to start with one clear line when the certificate is wrong or missing', async () => {
    const { certs } = cluster;
    const cases: {
      name: string;
      entry: 'api' | 'worker';
      env: Record<string, string | undefined>;
      line: RegExp;
    }[] = [
      {
        name: 'no client certificate',
        entry: 'api',
        env: { TEMPORAL_TLS_CLIENT_CERT_PATH: undefined, TEMPORAL_TLS_CLIENT_KEY_PATH: undefined },
        line: /^herald api: TEMPORAL_ADDRESS: cannot connect to Temporal at \S+ \(TLS\): the server requires a client certificate: set TEMPORAL_TLS_CLIENT_CERT_PATH/,
      },
      {
        name: 'a certificate from an unknown CA',
        entry: 'worker',
        env: {
          TEMPORAL_TLS_CLIENT_CERT_PATH: certs.rogue.cert,
          TEMPORAL_TLS_CLIENT_KEY_PATH: certs.rogue.key,
        },
        line: /^herald worker: TEMPORAL_ADDRESS: cannot connect to Temporal at \S+ \(mutual TLS\): the server refused the client certificate/,
      },
      {
        name: 'a certificate file that is not there',
        entry: 'api',
        env: { TEMPORAL_TLS_CLIENT_CERT_PATH: path.join(dir, 'missing.pem') },
        line: /^herald api: invalid configuration: TEMPORAL_TLS_CLIENT_CERT_PATH: cannot read the file \(ENOENT\)$/,
      },
      {
        name: 'a key that is not the certificate’s',
        entry: 'worker',
        env: { TEMPORAL_TLS_CLIENT_KEY_PATH: certs.rogue.key },
        line: /^herald worker: invalid configuration: TEMPORAL_TLS_CLIENT_KEY_PATH: the key does not belong to TEMPORAL_TLS_CLIENT_CERT_PATH$/,
      },
      {
        name: 'no CA for the server’s certificate',
        entry: 'api',
        env: { TEMPORAL_TLS_SERVER_CA_CERT_PATH: undefined },
        line: /the server's certificate is not trusted: set TEMPORAL_TLS_SERVER_CA_CERT_PATH/,
      },
      {
        name: 'plaintext',
        entry: 'api',
        env: Object.fromEntries(
          Object.keys(cluster.heraldEnv)
            .filter((k) => k.startsWith('TEMPORAL_TLS'))
            .map((k) => [k, undefined]),
        ),
        line: /^herald api: TEMPORAL_ADDRESS: cannot connect to Temporal at \S+ \(plaintext\): .*set TEMPORAL_TLS=true/,
      },
    ];
    const results = await Promise.all(
      cases.map(async (c) => {
        const env: NodeJS.ProcessEnv = { ...herald.env, PORT: '0', ...c.env };
        for (const [k, v] of Object.entries(c.env)) if (v === undefined) delete env[k];
        const p = spawnHerald(c.entry, env);
        const code = await p.exited;
        return { name: c.name, code, lines: p.stderr().trim().split('\n'), line: c.line };
      }),
    );
    for (const r of results) {
      console.log(`refused (${r.name}): ${r.lines.join(' | ')}`);
      expect({ name: r.name, code: r.code, lines: r.lines.length }).toEqual({
        name: r.name,
        code: 1,
        lines: 1,
      });
      expect(r.lines[0]).toMatch(r.line);
    }
    // No key material in what it printed.
    const secret = readFileSync(certs.client.key, 'utf8').split('\n')[1];
    for (const r of results) expect(r.lines.join('\n')).not.toContain(secret);
  }, 120_000);
});

describe('through the public API', () => {
  test('an event is delivered, signed, and its delivery succeeds', async () => {
    const { scope, key } = await customer();
    const webhook = await createWebhook(key, { url: receiver.url('/c-delivery') });
    const published = await admin.post('/v1/events', personEvent('d1', { scopes: [scope] }));
    expect(published.status).toBe(202);
    await eventually(async () => receiver.on('/c-delivery').length === 1, 30_000);
    const request = receiver.on('/c-delivery')[0];
    expect(request.headers['webhook-id']).toBe(published.body.id);
    expect(String(request.headers['webhook-signature'])).toMatch(/^v1,/);
    const deliveryId = published.body.deliveries[0].id;
    await eventually(
      async () => (await key.get(`/v1/deliveries/${deliveryId}`)).body.status === 'succeeded',
      30_000,
    );
    expect(webhook.id).toBe(published.body.deliveries[0].webhookId);
  });

  test('events published while paused are held, and all arrive after resume', async () => {
    const { scope, key } = await customer();
    const webhook = await createWebhook(key, { url: receiver.url('/c-held') });
    expect((await key.post(`/v1/webhooks/${webhook.id}/pause`)).body.status).toBe('paused');
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) {
      const res = await admin.post('/v1/events', personEvent(`h${i}`, { scopes: [scope] }));
      expect(res.body.deliveries[0].status).toBe('held');
      ids.push(res.body.id);
    }
    const held = await key.get(`/v1/webhooks/${webhook.id}/deliveries?status=held&limit=100`);
    expect(held.body.data).toHaveLength(20);
    expect(receiver.on('/c-held')).toHaveLength(0);
    expect((await key.post(`/v1/webhooks/${webhook.id}/resume`)).body.status).toBe('active');
    await eventually(async () => receiver.on('/c-held').length >= 20, 60_000);
    expect(new Set(receiver.on('/c-held').map((r) => String(r.headers['webhook-id'])))).toEqual(new Set(ids));
  });

  test('a full sync sends every visible entity once and completes', async () => {
    const { scope, key } = await customer();
    const ids = Array.from({ length: 40 }, (_, i) => `s${String(i).padStart(3, '0')}`);
    for (const id of ids) {
      const res = await admin.put(`/v1/entities/person/${id}`, { data: { id }, scopes: [scope] });
      expect(res.status).toBe(200);
    }
    const webhook = await createWebhook(key, { url: receiver.url('/c-sync'), events: ['person.sync'] });
    const started = await key.post(`/v1/webhooks/${webhook.id}/syncs`, {});
    expect(started.status).toBe(202);
    const done = await eventually(async () => {
      const s = await key.get(`/v1/syncs/${started.body.id}`);
      return s.body.status === 'completed' && s.body;
    }, 60_000);
    expect(done).toMatchObject({ total: 40, sent: 40, failed: 0 });
    const sent = receiver.on('/c-sync').map((r) => JSON.parse(r.body).entity.id);
    expect(sent.sort()).toEqual(ids);
  });

  test('Run Test makes exactly one attempt and answers with its outcome', async () => {
    const { key } = await customer();
    const webhook = await createWebhook(key, { url: receiver.url('/c-test') });
    const result = await key.post(`/v1/webhooks/${webhook.id}/test`);
    expect(result.status).toBe(200);
    expect(result.body).toMatchObject({ outcome: 'succeeded', responseStatus: 200 });
    expect(receiver.on('/c-test')).toHaveLength(1);
  });
});

describe('faults on the production topology', () => {
  test('SIGKILL of the history service mid-run, then a restart: nothing lost', async () => {
    const ledger = createLedger('cluster-history-kill');
    const fault = await faultReceiver(ledger, Number(herald.env.HERALD_REQUEST_TIMEOUT_MS ?? 2000), () => ({
      delayMs: 10,
    }));
    try {
      await faultWebhooks(herald.apiUrl, herald.adminToken, fault, 'history-kill');
      const publishing = publish({
        apiUrl: () => herald.apiUrl,
        adminToken: herald.adminToken,
        ledger,
        prefix: 'hk',
        scope: 'history-kill',
        from: 0,
        to: EVENTS,
        lanes: 4,
      });
      await eventually(async () => ledger.counts().delivered >= (EVENTS * 2) / 4, 120_000, 20);
      const before = cluster.pids().history;
      await cluster.kill('history');
      const atKill = ledger.counts().delivered;
      expect(atKill).toBeLessThan(EVENTS * 2);
      const down = performance.now();
      await cluster.start('history');
      expect(cluster.pids().history).not.toBe(before);
      await publishing;
      expect(ledger.counts().expected).toBe(EVENTS * 2);
      const counts = await ledger.complete(240_000);
      console.log(
        `${ledger.line()} (${atKill} delivered at the kill; complete ${((performance.now() - down) / 1000).toFixed(1)} s after it)`,
      );
      expect(counts).toMatchObject({ missing: 0, unexpected: 0 });
      await ledger.verifyDeliveryRows(pool);
    } finally {
      await fault.close();
    }
  }, 400_000);

  test('SIGKILL of one of the two workers mid-run: nothing lost', async () => {
    const ledger = createLedger('cluster-worker-kill');
    const fault = await faultReceiver(ledger, Number(herald.env.HERALD_REQUEST_TIMEOUT_MS ?? 2000), () => ({
      delayMs: 20,
    }));
    try {
      // Both workers poll (after the history restart they found it again by themselves).
      const live = herald.workers.filter((w) => w.child.exitCode === null);
      expect(live).toHaveLength(2);
      await eventually(async () => {
        const pids = await pollingPids();
        return live.every((w) => pids.has(w.child.pid!));
      }, 120_000);
      await faultWebhooks(herald.apiUrl, herald.adminToken, fault, 'worker-kill');
      await publish({
        apiUrl: () => herald.apiUrl,
        adminToken: herald.adminToken,
        ledger,
        prefix: 'wk',
        scope: 'worker-kill',
        from: 0,
        to: EVENTS,
        lanes: 4,
      });
      await eventually(async () => ledger.counts().delivered >= (EVENTS * 2) / 4, 120_000, 20);
      live[0].child.kill('SIGKILL');
      const atKill = ledger.counts().delivered;
      expect(atKill).toBeLessThan(EVENTS * 2);
      const counts = await ledger.complete(240_000);
      console.log(`${ledger.line()} (${atKill} delivered at the kill)`);
      expect(counts).toMatchObject({ missing: 0, unexpected: 0 });
      await ledger.verifyDeliveryRows(pool);
    } finally {
      await fault.close();
    }
  }, 400_000);
});
