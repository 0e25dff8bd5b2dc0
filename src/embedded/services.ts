import path from 'node:path';
import type { Logger } from '../logger';
import { checkPortsFree, type PortClaim } from './ports';
import { startEmbeddedPostgres } from './postgres';
import { ensureTemporalCli } from './temporal-cli';
import { startTemporalDevServer } from './temporal-server';

export interface EmbeddedServices {
  databaseUrl: string;
  temporalAddress: string;
  temporalUiUrl: string | undefined;
  /** The embedded Temporal dev server's process id, when this started one (the benchmark reads its CPU). */
  temporalPid?: number;
  stop(): Promise<void>;
}

/**
 * The embedded default: PostgreSQL and the Temporal dev server with their data under `dataDir`,
 * each only when the environment does not name one already. Every port they need (and the
 * caller's `otherPorts`) is checked first, so a taken port stops everything before anything
 * starts; a failure later stops what did start.
 */
export async function startEmbeddedServices(opts: {
  dataDir: string;
  databaseUrl?: string;
  temporalAddress?: string;
  postgresPort: number;
  temporalPort: number;
  uiPort?: number;
  namespace: string;
  ephemeral?: boolean;
  logger: Logger;
  /** More flags for the embedded Temporal dev server. */
  temporalArgs?: string[];
  /** Ports the caller will listen on too (the API's), checked with these. */
  otherPorts?: PortClaim[];
}): Promise<EmbeddedServices> {
  await checkPortsFree([
    ...(opts.otherPorts ?? []),
    ...(opts.databaseUrl ? [] : [{ role: 'postgres' as const, port: opts.postgresPort, host: '127.0.0.1' }]),
    ...(opts.temporalAddress
      ? []
      : [
          { role: 'temporal' as const, port: opts.temporalPort, host: '127.0.0.1' },
          ...(opts.uiPort ? [{ role: 'temporalUi' as const, port: opts.uiPort, host: '127.0.0.1' }] : []),
        ]),
  ]);
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch(() => {});
  };
  try {
    let databaseUrl = opts.databaseUrl;
    if (!databaseUrl) {
      const pg = await startEmbeddedPostgres({
        dir: path.join(opts.dataDir, 'postgres'),
        port: opts.postgresPort,
        database: 'herald',
        ephemeral: opts.ephemeral,
        logger: opts.logger,
      });
      stops.push(pg.stop);
      databaseUrl = pg.url;
    }
    let temporalAddress = opts.temporalAddress;
    let temporalUiUrl: string | undefined;
    let temporalPid: number | undefined;
    if (!temporalAddress) {
      const cli = await ensureTemporalCli((line) => opts.logger.info(line));
      const server = await startTemporalDevServer({
        cli,
        dir: path.join(opts.dataDir, 'temporal'),
        port: opts.temporalPort,
        uiPort: opts.uiPort,
        namespace: opts.namespace,
        logger: opts.logger,
        extraArgs: opts.temporalArgs,
      });
      stops.push(server.stop);
      temporalPid = server.process.pid;
      temporalAddress = server.address;
      temporalUiUrl = server.uiUrl;
    }
    return { databaseUrl, temporalAddress, temporalUiUrl, temporalPid, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
