import pg from 'pg';

// int8 (bigint) columns such as entity versions and counts fit in a JS number for Herald's ranges.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number.parseInt(v, 10));

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;

export function createPool(connectionString: string, max = 10): pg.Pool {
  const pool = new pg.Pool({ connectionString, max, connectionTimeoutMillis: 5_000 });
  // An idle client losing its connection (say, Postgres restarting) must not crash the process.
  pool.on('error', () => {});
  // A client in use loses it too, and the pool listens only to idle ones: without a listener of its
  // own its 'error' event would crash the process. The query in flight fails by itself, and the
  // pool drops the dead client when it is released.
  pool.on('connect', (client) => client.on('error', () => {}));
  return pool;
}

/**
 * A named statement: PostgreSQL parses and plans it once per connection, and later runs send only
 * the parameters. For the queries every event and every attempt runs (docs/performance.md).
 */
export function prepared(name: string, text: string, values: unknown[]): pg.QueryConfig {
  return { name: `herald_${name}`, text, values };
}

/** Runs fn in one transaction on one client. */
export function inTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  return onTransactionClient(pool, async (client) => {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  });
}

/**
 * Runs `run` on one client that opens and closes its transaction itself, so it can send BEGIN or
 * COMMIT in one message with its own statements (one round trip less; see attemptGate). Whatever
 * is open when it throws is rolled back.
 */
export async function onTransactionClient<T>(
  pool: pg.Pool,
  run: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  try {
    return await run(client);
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}
