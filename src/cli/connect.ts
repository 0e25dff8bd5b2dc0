import { Connection } from '@temporalio/client';
import type { Config } from '../config';
import { createPool, type Pool } from '../db/pool';
import {
  connectionOptions,
  describeConnection,
  probeTls,
  type TemporalConnection,
} from '../temporal/connection';
import { StartupError } from './main';

/** The production entry points need both services named; `npm start` provides embedded ones. */
export function requireServices(config: Config): { databaseUrl: string; temporalAddress: string } {
  if (!config.databaseUrl)
    throw new StartupError('DATABASE_URL is required (npm start runs an embedded PostgreSQL instead)');
  if (!config.temporal.address)
    throw new StartupError(
      'TEMPORAL_ADDRESS is required (npm start runs an embedded Temporal server instead)',
    );
  return { databaseUrl: config.databaseUrl, temporalAddress: config.temporal.address };
}

/** A pool that has answered once, or a StartupError naming DATABASE_URL. */
export async function connectDatabase(databaseUrl: string, max?: number): Promise<Pool> {
  const pool = createPool(databaseUrl, max);
  try {
    await pool.query('SELECT 1');
    return pool;
  } catch (err) {
    await pool.end().catch(() => {});
    const host = new URL(databaseUrl).host;
    throw new StartupError(
      `DATABASE_URL: cannot connect to PostgreSQL at ${host}: ${(err as Error).message}`,
    );
  }
}

/** Connects once with the configured TLS and key; a failure is one StartupError line saying why. */
export async function checkTemporal(address: string, settings: TemporalConnection): Promise<void> {
  const failure = (why: string) =>
    new StartupError(
      `TEMPORAL_ADDRESS: cannot connect to Temporal at ${address} (${describeConnection(settings)}): ${why}`,
    );
  // A TLS refusal would reach the SDK as "failed to connect": ask the TLS library for the reason.
  const refused = await probeTls(settings, address);
  if (refused) throw failure(refused);
  try {
    const connection = await Connection.connect({
      ...connectionOptions(settings, address),
      connectTimeout: 5_000,
    });
    await connection.close();
  } catch (err) {
    const hint = settings.tls ? '' : ' (if the server requires TLS, set TEMPORAL_TLS=true)';
    throw failure(`${(err as Error).message.split('\n')[0]}${hint}`);
  }
}
