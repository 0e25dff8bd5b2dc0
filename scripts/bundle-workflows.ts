// Pre-bundles the workflow code so workers start without running webpack (npm run build; tests).
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';

async function main() {
  const out = path.resolve(process.argv[2] ?? path.join(__dirname, '../dist/workflow-bundle.js'));
  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve('../workflows'),
    logger: {
      trace() {},
      debug() {},
      info() {},
      warn: console.warn,
      error: console.error,
      log() {},
    } as never,
  });
  await writeFile(out, code);
  console.error(`workflow bundle written to ${out}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
