/**
 * The production-topology test (`npm run test:cluster`): test/cluster/*.test.ts only. No global
 * setup: the test starts its own PostgreSQL and Temporal services (test/cluster/topology.ts), not
 * the dev server the other suites share. CLUSTER_SCALE (default 1) sizes its ledgers.
 * @type {import('jest').Config}
 */
const { project } = require('./jest.base.js');

module.exports = {
  ...project,
  testMatch: ['<rootDir>/test/cluster/**/*.test.ts'],
  testTimeout: 600_000,
  maxWorkers: 1,
};
