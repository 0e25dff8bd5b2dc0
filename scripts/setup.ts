// Ensures the Temporal CLI (dev server and Web UI) is available, building it once with Go if needed.
import { ensureTemporalCli } from '../src/embedded/temporal-cli';

ensureTemporalCli().then(
  (cli) => console.log(`temporal CLI: ${cli}`),
  (err) => {
    console.error(err.message);
    process.exit(1);
  },
);
