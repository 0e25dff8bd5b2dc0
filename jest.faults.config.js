/**
 * The fault suite (`npm run test:faults`): test/faults/*.test.ts only, over the same global setup
 * as `npm test`. One file at a time: each case kills or stops a process and times recovery.
 * FAULT_SCALE (default 1) sizes the cases; CI runs a fraction (.ci/run).
 * @type {import('jest').Config}
 */
const { project, services } = require('./jest.base.js');

module.exports = {
  ...project,
  ...services,
  testMatch: ['<rootDir>/test/faults/**/*.test.ts'],
  testTimeout: 600_000,
  maxWorkers: 1,
};
