import { ConfigError } from '../config';
import { MissingToolError } from '../embedded/temporal-cli';

/** A start-up failure the operator can fix: printed as one line, no stack trace. */
export class StartupError extends Error {}

/**
 * Runs a command's main function. Configuration and start-up errors end with one clear line and
 * exit code 1; anything else is a bug and keeps its stack.
 */
export function runMain(name: string, main: () => Promise<void>): void {
  main().catch((err) => {
    if (err instanceof ConfigError || err instanceof StartupError || err instanceof MissingToolError) {
      // One line per problem (a configuration error may list several), each naming the command.
      for (const line of err.message.split('\n')) process.stderr.write(`herald ${name}: ${line}\n`);
    } else {
      process.stderr.write(`herald ${name}: ${err?.stack ?? err}\n`);
    }
    process.exit(1);
  });
}

/** Resolves on the first SIGINT or SIGTERM. */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
}
