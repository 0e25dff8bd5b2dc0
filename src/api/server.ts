import http, { type Server } from 'node:http';
import type { Config } from '../config';
import { createAttemptNotifications } from '../db/notifications';
import { createPool } from '../db/pool';
import type { Logger } from '../logger';
import { createMetrics, registerStateGauges } from '../metrics';
import type { SecretCipher } from '../secret-cipher';
import { connectTemporalClient } from '../temporal/client';
import { ensureRetentionSchedule } from '../temporal/schedules';
import { createApp } from './app';
import { createAuthenticator } from './auth';
import type { ApiContext } from './context';
import { clientErrorResponse } from './problem';

export interface ApiServer {
  url: string;
  port: number;
  context: ApiContext;
  /** Stops taking connections, lets requests in flight finish, then closes its clients. */
  close(): Promise<void>;
}

/** Builds and starts the API process's parts: pool, Temporal client, HTTP server. */
export async function startApiServer(opts: {
  config: Config;
  databaseUrl: string;
  temporalAddress: string;
  adminToken: string;
  /** Encrypts the signing secrets the API writes (create, rotate-secret). */
  secretCipher: SecretCipher;
  logger: Logger;
}): Promise<ApiServer> {
  const { config, logger } = opts;
  const pool = createPool(opts.databaseUrl, 20);
  const temporal = await connectTemporalClient(config, opts.temporalAddress);
  // Not fatal: the API serves without it, and the next start of any API process tries again.
  await ensureRetentionSchedule(temporal, config, logger).catch((err) =>
    logger.warn({ err: (err as Error).message }, 'retention schedule not created'),
  );
  const notifications = createAttemptNotifications(opts.databaseUrl, logger);
  const metrics = createMetrics();
  registerStateGauges(metrics, (sql) => pool.query(sql));
  const context: ApiContext = {
    config,
    pool,
    temporal,
    logger,
    metrics,
    notifications,
    secretCipher: opts.secretCipher,
    authenticate: createAuthenticator(pool, opts.adminToken, {
      authFailuresPerMinute: config.authFailuresPerMinute,
    }),
  };
  const app = createApp(context);
  // Express 5's app.listen hands a listen error (a port in use) to its callback, which this took
  // for success: the API then ran without listening. The plain server rejects instead.
  const server: Server = http.createServer(app);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    await notifications.close().catch(() => {});
    await temporal.connection.close().catch(() => {});
    await pool.end().catch(() => {});
    throw err;
  }
  server.keepAliveTimeout = 65_000;
  // Malformed HTTP never reaches Express: answer it with a problem too, then close the connection.
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (err.code === 'ECONNRESET' || !socket.writable) return socket.destroy();
    socket.end(clientErrorResponse(err));
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    context,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      // Streams never end by themselves; give requests in flight a moment, then cut the rest.
      const cut = setTimeout(() => server.closeAllConnections(), 5_000);
      await closed;
      clearTimeout(cut);
      await notifications.close();
      await temporal.connection.close();
      await pool.end();
    },
  };
}
