// `npm run record:histories`: records workflow histories for the replay test (test/replay/).
const base = require('./jest.config.js');

/** @type {import('jest').Config} */
module.exports = {
  ...base,
  testMatch: ['<rootDir>/test/replay/record-histories.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
  maxWorkers: 1,
};
