// `npm run record:histories`: records workflow histories for the replay test (test/replay/).
const { project, services } = require('./jest.base.js');

/** @type {import('jest').Config} */
module.exports = {
  ...project,
  ...services,
  testMatch: ['<rootDir>/test/replay/record-histories.ts'],
  testTimeout: 120_000,
  maxWorkers: 1,
};
