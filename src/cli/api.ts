import { resolveAdminToken } from '../admin-token';
import { startApiServer } from '../api/server';
import { loadConfig } from '../config';
import { migrate } from '../db/migrate';
import { PortInUseError, portInUseMessage } from '../embedded/ports';
import { resolveSecretCipher } from '../encryption-key';
import { createLogger } from '../logger';
import { checkTemporal, connectDatabase, requireServices } from './connect';
import { runMain, untilSignal } from './main';

runMain('api', async () => {
  const config = loadConfig();
  const logger = createLogger(config.logLevel, 'herald-api');
  const { databaseUrl, temporalAddress } = requireServices(config);
  const secretCipher = await resolveSecretCipher(config);
  const pool = await connectDatabase(databaseUrl, 1);
  await migrate(pool, secretCipher); // idempotent and serialised by an advisory lock: safe from every replica
  await pool.end();
  await checkTemporal(temporalAddress, config.temporal.connection);
  const server = await startApiServer({
    config,
    databaseUrl,
    temporalAddress,
    adminToken: await resolveAdminToken(config),
    secretCipher,
    logger,
  }).catch(async (err: NodeJS.ErrnoException) => {
    if (err?.code !== 'EADDRINUSE' && err?.code !== 'EACCES') throw err;
    throw new PortInUseError(await portInUseMessage({ role: 'api', port: config.port }, err.code));
  });
  logger.info({ url: server.url }, 'API listening');
  const signal = await untilSignal();
  logger.info({ signal }, 'draining');
  await server.close();
});
