import path from 'node:path';
import type { Logger } from '../logger';
import { StartupError } from '../startup-error';
import { dataDirHolder, heldMessage, lockDataDir } from './data-lock';
import { checkPortsFree, type PortClaim, PortInUseError } from './ports';
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
 * starts; a failure later stops what did start. The data directory is locked while they run.
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
  const embedded = !opts.databaseUrl || !opts.temporalAddress;
  // Another Herald on this data directory explains taken ports too: say it with them.
  const holder = embedded ? await dataDirHolder(opts.dataDir) : undefined;
  const held = holder ? heldMessage(opts.dataDir, holder) : undefined;
  await checkPortsFree([
    ...(opts.otherPorts ?? []),
    ...(opts.databaseUrl ? [] : [{ role: 'postgres' as const, port: opts.postgresPort, host: '127.0.0.1' }]),
    ...(opts.temporalAddress
      ? []
      : [
          { role: 'temporal' as const, port: opts.temporalPort, host: '127.0.0.1' },
          ...(opts.uiPort ? [{ role: 'temporalUi' as const, port: opts.uiPort, host: '127.0.0.1' }] : []),
        ]),
  ]).catch((err) => {
    throw held && err instanceof PortInUseError ? new PortInUseError(`${err.message}\n${held}`) : err;
  });
  if (held) throw new StartupError(held);
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.splice(0).reverse()) await stop().catch(() => {});
  };
  try {
    if (embedded) stops.push(await lockDataDir(opts.dataDir));
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
