import path from 'node:path';
import ipaddr from 'ipaddr.js';
import { z } from 'zod';
import { resolveDatabaseUrl } from './db/connection-string';
import { KEY_BYTES } from './secret-cipher';
import { loadTemporalConnection, type TemporalConnection } from './temporal/connection';

/** Every environment variable Herald reads, with its default. The README's table mirrors this. */
const booleanFlag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'expected true or false' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);
const tcpPort = (fallback: number) => z.coerce.number().int().min(1).max(65535).default(fallback);

const cidrList = z
  .string()
  .default('')
  .transform((value, ctx) => {
    const ranges: [ipaddr.IPv4 | ipaddr.IPv6, number][] = [];
    for (const item of value
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)) {
      try {
        ranges.push(ipaddr.parseCIDR(item));
      } catch {
        ctx.addIssue({ code: 'custom', message: `"${item}" is not a CIDR range` });
        return z.NEVER;
      }
    }
    return ranges;
  });

/** Comma-separated base64 keys of 32 bytes, newest first. Messages never echo a key. */
const encryptionKeys = z.string().transform((value, ctx) => {
  const items = value.split(',').map((s) => s.trim());
  const keys: Buffer[] = [];
  for (const [i, item] of items.entries()) {
    const key = Buffer.from(item, 'base64');
    if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(item) || key.length !== KEY_BYTES) {
      ctx.addIssue({
        code: 'custom',
        message: `key ${i + 1} of ${items.length} is not ${KEY_BYTES} bytes in base64 (make one with: openssl rand -base64 32)`,
      });
      return z.NEVER;
    }
    keys.push(key);
  }
  return keys;
});

const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  DATABASE_URL: z.url({ message: 'expected a postgres:// connection string' }).optional(),
  // TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TLS and the API key: src/temporal/connection.ts.
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('herald'),
  TEMPORAL_UI_URL: z.url().default('http://localhost:8233'),
  HERALD_DATA_DIR: z.string().min(1).default('.data'),
  HERALD_PG_PORT: tcpPort(54329),
  HERALD_TEMPORAL_PORT: tcpPort(7233),
  HERALD_TEMPORAL_UI_PORT: z.coerce.number().int().min(0).max(65535).default(8233),
  HERALD_EPHEMERAL: booleanFlag.default(false),
  HERALD_ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  HERALD_ENCRYPTION_KEY: encryptionKeys.optional(),
  HERALD_ALLOW_HTTP: booleanFlag.default(false),
  HERALD_ALLOWED_NETWORKS: cidrList,
  HERALD_REQUEST_TIMEOUT_MS: positiveInt(15_000),
  HERALD_RETRY_INITIAL_MS: positiveInt(5_000),
  HERALD_RETRY_BACKOFF: z.coerce.number().min(1).default(4),
  HERALD_RETRY_MAX_INTERVAL_MS: positiveInt(36_000_000),
  HERALD_RETRY_MAX_ATTEMPTS: positiveInt(10),
  HERALD_SYNC_CONCURRENCY: positiveInt(16),
  // Below 16, the SDK's sticky polls can take every task slot the first attempts leave, and a new
  // workflow's first task waits for a slow receiver (README); 0 is for replay testing.
  HERALD_WORKER_CACHED_WORKFLOWS: z.coerce
    .number()
    .int()
    .min(0)
    .refine((n) => n === 0 || n >= 16, 'must be 0 (no cache, for replay testing) or at least 16')
    .default(64),
  HERALD_OUTAGE_MAX_MS: positiveInt(24 * 60 * 60 * 1000),
  HERALD_SYNC_HISTORY_LIMIT: z.coerce.number().int().min(100).default(10_000),
  HERALD_RETENTION_DAYS: positiveInt(30),
  HERALD_MAX_PAYLOAD_BYTES: positiveInt(256 * 1024),
  HERALD_MAX_BATCH_BYTES: positiveInt(5 * 1024 * 1024),
  HERALD_RATE_LIMIT_PER_SECOND: z.coerce.number().int().min(0).default(100),
  HERALD_RATE_LIMIT_BURST: positiveInt(200),
  HERALD_AUTH_FAILURES_PER_MINUTE: z.coerce.number().int().min(0).default(20),
  HERALD_METRICS_PORT: z.coerce.number().int().min(0).max(65534).default(9464),
  HERALD_WORKFLOW_BUNDLE: z.string().min(1).optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type Env = z.infer<typeof envSchema>;

export interface Config {
  port: number;
  databaseUrl: string | undefined;
  temporal: {
    address: string | undefined;
    namespace: string;
    taskQueue: string;
    uiUrl: string;
    /** Address, namespace, TLS and API key as Temporal's loader read them (src/temporal/connection.ts). */
    connection: TemporalConnection;
  };
  dataDir: string;
  /** The embedded services of `npm start` and `npm run services` (used only when DATABASE_URL or TEMPORAL_ADDRESS is unset). */
  embedded: {
    postgresPort: number;
    temporalPort: number;
    /** The Temporal Web UI's port; undefined (HERALD_TEMPORAL_UI_PORT=0) runs no UI. */
    temporalUiPort: number | undefined;
    /** Throw-away data (tests): PostgreSQL skips fsync. */
    ephemeral: boolean;
  };
  adminToken: string | undefined;
  /** The keys that encrypt signing secrets at rest, newest (the one that encrypts) first; unset: the data directory's. */
  encryptionKeys: Buffer[] | undefined;
  allowHttp: boolean;
  allowedNetworks: [ipaddr.IPv4 | ipaddr.IPv6, number][];
  requestTimeoutMs: number;
  retry: { initialMs: number; backoff: number; maxIntervalMs: number; maxAttempts: number };
  syncConcurrency: number;
  /** Workflows a worker keeps in memory between their tasks (0: none, every task replays its history). */
  workerCachedWorkflows: number;
  /** How long a delivery waits out Herald's own trouble (PostgreSQL unreachable, ...) before it fails. */
  outageMaxMs: number;
  syncHistoryLimit: number;
  retentionDays: number;
  maxPayloadBytes: number;
  /** The body limit of POST /v1/events/batch. */
  maxBatchBytes: number;
  /** Requests per application key: on average `perSecond` (0: no limit), up to `burst` at once. */
  rateLimit: { perSecond: number; burst: number };
  /** Lookups of tokens that are not valid, per client address and minute (0: no limit). */
  authFailuresPerMinute: number;
  metricsPort: number;
  /** A pre-built workflow bundle for the worker (scripts/bundle-workflows.ts); else dist's, else built at start. */
  workflowBundle: string | undefined;
  logLevel: Env['LOG_LEVEL'];
}

export class ConfigError extends Error {}

/** Parses the environment; throws a ConfigError whose message names every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // An empty variable means "not set", as in most twelve-factor tools.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(present);
  const temporal = loadTemporalConnection(present);
  const database = parsed.success ? resolveDatabaseUrl(parsed.data.DATABASE_URL, present) : undefined;
  // Values are not echoed: DATABASE_URL, HERALD_ADMIN_TOKEN, HERALD_ENCRYPTION_KEY and TEMPORAL_API_KEY carry secrets.
  const lines = [
    ...(parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`)),
    ...(database?.issues ?? []),
    ...temporal.issues,
  ];
  // One line per bad value, each complete on its own (runMain prefixes every line).
  if (!parsed.success || lines.length)
    throw new ConfigError(lines.map((l) => `invalid configuration: ${l}`).join('\n'));
  const e = parsed.data;
  return {
    port: e.PORT,
    databaseUrl: database?.url,
    temporal: {
      address: temporal.connection.address,
      namespace: temporal.connection.namespace,
      taskQueue: e.TEMPORAL_TASK_QUEUE,
      uiUrl: e.TEMPORAL_UI_URL.replace(/\/$/, ''),
      connection: temporal.connection,
    },
    dataDir: path.resolve(e.HERALD_DATA_DIR),
    embedded: {
      postgresPort: e.HERALD_PG_PORT,
      temporalPort: e.HERALD_TEMPORAL_PORT,
      temporalUiPort: e.HERALD_TEMPORAL_UI_PORT || undefined,
      ephemeral: e.HERALD_EPHEMERAL,
    },
    adminToken: e.HERALD_ADMIN_TOKEN,
    encryptionKeys: e.HERALD_ENCRYPTION_KEY,
    allowHttp: e.HERALD_ALLOW_HTTP,
    allowedNetworks: e.HERALD_ALLOWED_NETWORKS,
    requestTimeoutMs: e.HERALD_REQUEST_TIMEOUT_MS,
    retry: {
      initialMs: e.HERALD_RETRY_INITIAL_MS,
      backoff: e.HERALD_RETRY_BACKOFF,
      maxIntervalMs: e.HERALD_RETRY_MAX_INTERVAL_MS,
      maxAttempts: e.HERALD_RETRY_MAX_ATTEMPTS,
    },
    syncConcurrency: e.HERALD_SYNC_CONCURRENCY,
    workerCachedWorkflows: e.HERALD_WORKER_CACHED_WORKFLOWS,
    outageMaxMs: e.HERALD_OUTAGE_MAX_MS,
    syncHistoryLimit: e.HERALD_SYNC_HISTORY_LIMIT,
    retentionDays: e.HERALD_RETENTION_DAYS,
    maxPayloadBytes: e.HERALD_MAX_PAYLOAD_BYTES,
    maxBatchBytes: e.HERALD_MAX_BATCH_BYTES,
    rateLimit: { perSecond: e.HERALD_RATE_LIMIT_PER_SECOND, burst: e.HERALD_RATE_LIMIT_BURST },
    authFailuresPerMinute: e.HERALD_AUTH_FAILURES_PER_MINUTE,
    metricsPort: e.HERALD_METRICS_PORT,
    workflowBundle: e.HERALD_WORKFLOW_BUNDLE && path.resolve(e.HERALD_WORKFLOW_BUNDLE),
    logLevel: e.LOG_LEVEL,
  };
}
