import { defineConfig } from 'vitest/config';

// Every test runs on embedded PGlite; when PostgreSQL is reachable (scripts/test.js
// decides and sets SETTLE_TEST_POSTGRES_URL) the database tests run again on it.
const postgresUrl = process.env.SETTLE_TEST_POSTGRES_URL;
const dbTests = ['test/api/**/*.test.ts', 'test/property/**/*.test.ts', 'test/process/**/*.test.ts'];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      { extends: true, test: { name: 'pglite', include: dbTests, env: { SETTLE_TEST_DB: 'pglite' } } },
      ...(postgresUrl
        ? [{ extends: true, test: { name: 'postgres', include: dbTests, env: { SETTLE_TEST_DB: 'postgres', SETTLE_TEST_POSTGRES_URL: postgresUrl } } }]
        : []),
    ],
  },
});
