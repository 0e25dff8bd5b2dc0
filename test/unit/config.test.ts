import { ConfigError, loadConfig } from '../../src/config';

test('defaults follow the contract', () => {
  const c = loadConfig({});
  expect(c.port).toBe(3000);
  expect(c.temporal).toMatchObject({
    namespace: 'default',
    taskQueue: 'herald',
    uiUrl: 'http://localhost:8233',
  });
  expect(c.retry).toEqual({ initialMs: 5000, backoff: 4, maxIntervalMs: 36_000_000, maxAttempts: 10 });
  expect(c.requestTimeoutMs).toBe(15_000);
  expect(c.allowHttp).toBe(false);
  expect(c.syncConcurrency).toBe(16);
  expect(c.retentionDays).toBe(30);
});

test('a bad value names the variable and does not echo secrets', () => {
  expect(() => loadConfig({ PORT: 'abc' })).toThrow(ConfigError);
  expect(() => loadConfig({ PORT: 'abc' })).toThrow(/PORT/);
  expect(() => loadConfig({ HERALD_ALLOWED_NETWORKS: '10.0.0.0/8,nonsense' })).toThrow(
    /HERALD_ALLOWED_NETWORKS/,
  );
  expect(() => loadConfig({ HERALD_ALLOW_HTTP: 'maybe' })).toThrow(/HERALD_ALLOW_HTTP/);
  const err = (() => {
    try {
      loadConfig({ HERALD_ADMIN_TOKEN: 'short-secret' });
    } catch (e) {
      return e as Error;
    }
  })();
  expect(err?.message).toMatch(/HERALD_ADMIN_TOKEN/);
  expect(err?.message).not.toContain('short-secret');
});

test('empty variables count as unset', () => {
  expect(loadConfig({ PORT: '', DATABASE_URL: '' })).toMatchObject({ port: 3000, databaseUrl: undefined });
});

test('the embedded services default to ports 54329, 7233 and 8233; a UI port of 0 runs no UI', () => {
  expect(loadConfig({}).embedded).toEqual({
    postgresPort: 54329,
    temporalPort: 7233,
    temporalUiPort: 8233,
    ephemeral: false,
  });
  expect(loadConfig({ HERALD_TEMPORAL_UI_PORT: '0' }).embedded.temporalUiPort).toBeUndefined();
  expect(() => loadConfig({ HERALD_PG_PORT: '0' })).toThrow(/HERALD_PG_PORT/);
  expect(() => loadConfig({ HERALD_TEMPORAL_PORT: '70000' })).toThrow(/HERALD_TEMPORAL_PORT/);
});

test('a workflow cache is 0 (replay testing) or at least 16 workflows', () => {
  expect(() => loadConfig({ HERALD_WORKER_CACHED_WORKFLOWS: '8' })).toThrow(/HERALD_WORKER_CACHED_WORKFLOWS/);
  expect(loadConfig({ HERALD_WORKER_CACHED_WORKFLOWS: '16' }).workerCachedWorkflows).toBe(16);
  expect(loadConfig({ HERALD_WORKER_CACHED_WORKFLOWS: '0' }).workerCachedWorkflows).toBe(0);
});
