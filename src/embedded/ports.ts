import net from 'node:net';
import { Connection } from '@temporalio/client';
import { StartupError } from '../startup-error';

/** The ports `npm start` listens on, each with the variable that moves it. */
export type PortRole = 'api' | 'postgres' | 'temporal' | 'temporalUi';

export interface PortClaim {
  role: PortRole;
  port: number;
  /** The address the owner binds; unset: every address, as `server.listen(port)` does. */
  host?: string;
}

const ROLES: Record<PortRole, { what: string; variable: string }> = {
  api: { what: 'the API', variable: 'PORT' },
  postgres: { what: 'embedded PostgreSQL', variable: 'HERALD_PG_PORT' },
  temporal: { what: 'the embedded Temporal server', variable: 'HERALD_TEMPORAL_PORT' },
  temporalUi: { what: 'the Temporal Web UI', variable: 'HERALD_TEMPORAL_UI_PORT' },
};

/** A port that is taken (or cannot be listened on): its message names the port and the way out. */
export class PortInUseError extends StartupError {
  override name = 'PortInUseError';
}

/**
 * The one-line account of a taken port: which port, whose it is, the variable that moves it and,
 * when a PostgreSQL or Temporal server is what listens there, the variable that uses it instead.
 */
export async function portInUseMessage(claim: PortClaim, code = 'EADDRINUSE'): Promise<string> {
  const { what, variable } = ROLES[claim.role];
  const { port } = claim;
  if (code !== 'EADDRINUSE') {
    return `port ${port} (${what}) cannot be listened on (${code}): set ${variable} to another port`;
  }
  const head = `port ${port} (${what}) is already in use`;
  switch (claim.role) {
    case 'api':
      return `${head}: set ${variable} to another port`;
    case 'postgres':
      return (await speaksPostgres(port))
        ? `${head} by a PostgreSQL server: set DATABASE_URL to use it instead, or ${variable} to run the embedded one on another port`
        : `${head}: set ${variable} to another port, or DATABASE_URL to use a PostgreSQL server listening there`;
    case 'temporal': {
      const address = `127.0.0.1:${port}`;
      return (await temporalAnswers(address))
        ? `${head} by a Temporal server: set TEMPORAL_ADDRESS=${address} to use it instead, or ${variable} to run the embedded one on another port`
        : `${head}: set ${variable} to another port, or, if a Temporal server listens there, TEMPORAL_ADDRESS=${address} to use it instead`;
    }
    case 'temporalUi':
      return `${head}: set ${variable} to another port (0 runs no UI)`;
  }
}

/**
 * Checks, before anything starts, that every claimed port can be listened on. Throws one
 * PortInUseError with a line for each port that cannot, so all conflicts show at once.
 */
export async function checkPortsFree(claims: PortClaim[]): Promise<void> {
  const failures = await Promise.all(
    claims.map(async (claim) => {
      const code = await listenError(claim.port, claim.host);
      return code ? portInUseMessage(claim, code) : undefined;
    }),
  );
  const lines = failures.filter((line): line is string => line !== undefined);
  if (lines.length > 0) throw new PortInUseError(lines.join('\n'));
}

/** Listens on the port for a moment: undefined when that works, else the error's code. */
function listenError(port: number, host?: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(undefined)));
  });
}

/** Whether a PostgreSQL server answers on loopback: it answers an SSLRequest with one byte, S or N. */
function speaksPostgres(port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const done = (answer: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('connect', () => socket.write(Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f])));
    socket.once('data', (chunk) => done(chunk.length === 1 && (chunk[0] === 0x53 || chunk[0] === 0x4e)));
    socket.once('error', () => done(false));
    socket.once('close', () => done(false));
  });
}

/** Whether a Temporal frontend at `address` answers GetSystemInfo. */
export async function temporalAnswers(address: string, timeoutMs = 2_000): Promise<boolean> {
  const [host, port] = address.split(':');
  const open = await new Promise<boolean>((resolve) => {
    const socket = net.connect(Number(port), host, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
  if (!open) return false;
  // Connection.connect would leave a failed connection's channel open: close it either way.
  const connection = Connection.lazy({ address, connectTimeout: timeoutMs });
  try {
    await connection.ensureConnected();
    await connection.withDeadline(Date.now() + timeoutMs, () => connection.workflowService.getSystemInfo({}));
    return true;
  } catch {
    return false;
  } finally {
    await connection.close().catch(() => {});
  }
}
