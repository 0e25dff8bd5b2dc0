import { DefaultLogger, Runtime } from '@temporalio/worker';

let installed = false;

/**
 * Installs the Temporal SDK's native runtime once per process, before the first native connection
 * (the worker's, and the API's client). Herald's entry points handle SIGINT and SIGTERM
 * themselves, so the runtime takes no signals. The first caller's options win: in a process that
 * runs an API and a worker (the tests), SDK metrics are served only if the worker came first.
 */
export function installRuntime(opts: { sdkMetricsAddress?: string } = {}): void {
  if (installed) return;
  installed = true;
  try {
    Runtime.install({
      shutdownSignals: [],
      logger: new DefaultLogger('ERROR'),
      ...(opts.sdkMetricsAddress
        ? { telemetryOptions: { metrics: { prometheus: { bindAddress: opts.sdkMetricsAddress } } } }
        : {}),
    });
  } catch {
    // Installed already (Runtime.instance() was called before this).
  }
}
