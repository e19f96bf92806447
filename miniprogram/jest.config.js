module.exports = {
  testEnvironment: 'jsdom',
  roots: ['<rootDir>/tests'],
  testMatch: ['**/*.test.js'],
  snapshotSerializers: ['miniprogram-simulate/jest-snapshot-plugin'],
  // Runs the tests in a time zone far from Beijing, so that a time shown in
  // Beijing time cannot pass by accident.
  globalSetup: '<rootDir>/tests/helpers/global-setup.js',
  setupFiles: ['<rootDir>/tests/helpers/setup.js'],
  restoreMocks: true,
  collectCoverageFrom: ['**/*.js', '!node_modules/**', '!tests/**', '!coverage/**', '!*.config.js'],
};
