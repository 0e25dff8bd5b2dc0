#!/usr/bin/env node
// The closing line of .ci/run: every jest run's counts added up (from the JSON each wrote with
// --json --outputFile), as one plain "tests: N passed, N failed, N skipped" line that CI reads.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const dir = process.argv[2];
const totals = { passed: 0, failed: 0, skipped: 0 };
for (const file of readdirSync(dir)
  .filter((name) => name.endsWith('.json'))
  .sort()) {
  const result = JSON.parse(readFileSync(path.join(dir, file), 'utf8'));
  const skipped = result.numPendingTests + result.numTodoTests;
  console.log(
    `${path.basename(file, '.json')}: ${result.numPassedTests} passed, ${result.numFailedTests} failed, ${skipped} skipped`,
  );
  totals.passed += result.numPassedTests;
  totals.failed += result.numFailedTests;
  totals.skipped += skipped;
}
console.log(`tests: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
process.exit(totals.passed > 0 && totals.failed === 0 ? 0 : 1);
