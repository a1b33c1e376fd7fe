import { existsSync } from 'node:fs';
import { defineConfig } from 'vitest/config';

// Every test runs on embedded PGlite; when PostgreSQL is reachable (scripts/test.js
// decides and sets SETTLE_TEST_POSTGRES_URL) the database tests run again on it.
const postgresUrl = process.env.SETTLE_TEST_POSTGRES_URL;
// Every time a transition starts from this process's copy of an order, the tests compare
// the copy with the order read under its lock (src/services/orders/order-copies.ts).
const verifyCopies = { SETTLE_VERIFY_ORDER_COPIES: '1' };
const dbTests = ['test/api/**/*.test.ts', 'test/property/**/*.test.ts', 'test/process/**/*.test.ts', 'test/simulation/**/*.test.ts'];

// The web pages in Debian's Chromium (playwright-core). Without /usr/bin/chromium they are
// skipped, and said so: `apt-get install -y chromium` (.ci/run does it) to run them.
const CHROMIUM = '/usr/bin/chromium';
const browserTests = existsSync(CHROMIUM);
if (!browserTests && !process.env.VITEST_WORKER_ID) {
  console.warn(`\n*** Browser tests (test/browser) SKIPPED: ${CHROMIUM} not found. Install it with: apt-get update && apt-get install -y chromium ***\n`);
}

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      { extends: true, test: { name: 'pglite', include: dbTests, env: { SETTLE_TEST_DB: 'pglite', ...verifyCopies } } },
      ...(postgresUrl
        ? [{ extends: true, test: { name: 'postgres', include: dbTests, env: { SETTLE_TEST_DB: 'postgres', SETTLE_TEST_POSTGRES_URL: postgresUrl, ...verifyCopies } } }]
        : []),
      ...(browserTests
        ? [
            {
              extends: true,
              test: {
                name: 'browser',
                include: ['test/browser/**/*.test.ts'],
                globalSetup: ['test/browser/global-setup.ts'],
                // One file at a time: each starts its own server and Chromium.
                fileParallelism: false,
                testTimeout: 180_000,
                hookTimeout: 180_000,
              },
            },
          ]
        : []),
    ],
  },
});
