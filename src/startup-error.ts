/**
 * A start-up failure the operator can fix (a port in use, a service unreachable, a tool missing):
 * `runMain` prints its message, one line per reason, without a stack trace.
 */
export class StartupError extends Error {
  override name = 'StartupError';
}
