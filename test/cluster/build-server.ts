// Finds or builds the Temporal server and temporal-sql-tool (test/cluster/binaries.ts) before the
// cluster test, so its set-up time is not spent compiling: .ci/run calls it.
import { ensureTemporalServer } from './binaries';

ensureTemporalServer().then(
  (tools) =>
    console.log(`temporal server: ${tools.server}; sql tool: ${tools.sql}; schemas: ${tools.schemaDir}`),
  (err) => {
    console.error(err.message);
    process.exit(1);
  },
);
