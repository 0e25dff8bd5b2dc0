#!/usr/bin/env node
// The closing lines of .ci/run: every jest run's counts added up (from the JSON each wrote with
// --json --outputFile), printed per run and then in jest's own summary format, so that whoever reads
// only the end of the log sees how many tests ran and how many failed.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const dir = process.argv[2];
const totals = { suites: 0, suitesFailed: 0, passed: 0, failed: 0, skipped: 0 };
for (const file of readdirSync(dir)
  .filter((name) => name.endsWith('.json'))
  .sort()) {
  const result = JSON.parse(readFileSync(path.join(dir, file), 'utf8'));
  const skipped = result.numPendingTests + result.numTodoTests;
  console.log(
    `${path.basename(file, '.json')}: ${result.numPassedTests} passed, ${result.numFailedTests} failed, ${skipped} skipped`,
  );
  totals.suites += result.numTotalTestSuites;
  totals.suitesFailed += result.numFailedTestSuites;
  totals.passed += result.numPassedTests;
  totals.failed += result.numFailedTests;
  totals.skipped += skipped;
}

/** "1 failed, 2 skipped, 339 passed, 342 total", as jest words it (zero counts left out). */
function counts(failed, skipped, passed) {
  const parts = [];
  if (failed) parts.push(`${failed} failed`);
  if (skipped) parts.push(`${skipped} skipped`);
  parts.push(`${passed} passed`, `${failed + skipped + passed} total`);
  return parts.join(', ');
}
console.log(`Test Suites: ${counts(totals.suitesFailed, 0, totals.suites - totals.suitesFailed)}`);
console.log(`Tests:       ${counts(totals.failed, totals.skipped, totals.passed)}`);
console.log(`tests: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
process.exit(totals.passed > 0 && totals.failed === 0 ? 0 : 1);
