// jest + ts-jest. ts-jest only transpiles (isolatedModules): type errors are `npm run typecheck`'s
// job (scripts/test.sh runs it first), which keeps a test run fast.
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  moduleFileExtensions: ['ts', 'js', 'json', 'node'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: { isolatedModules: true }, diagnostics: false }],
  },
  testTimeout: 120000,
  setupFilesAfterEnv: ['<rootDir>/test/helpers/remove-temp.ts'],
  modulePathIgnorePatterns: ['<rootDir>/dist/', '<rootDir>/build/', '<rootDir>/build-cmake/', '<rootDir>/prebuilds/'],
};
