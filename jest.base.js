/** What every jest configuration here shares: TypeScript through swc, Node, the shared services. */
module.exports = {
  project: {
    testEnvironment: 'node',
    transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022' } }] },
  },
  // Tests share one embedded PostgreSQL and Temporal dev server, started once.
  services: {
    globalSetup: '<rootDir>/test/support/global-setup.ts',
    globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  },
};
