#!/usr/bin/env node
// `npm test`: every test on PGlite, and again on PostgreSQL when one is reachable
// (SETTLE_TEST_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432/postgres).
// SETTLE_TEST_POSTGRES=required (as in CI) fails instead of skipping when it is not.
import { spawnSync } from 'node:child_process';
import pg from 'pg';

const url = process.env.SETTLE_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const required = process.env.SETTLE_TEST_POSTGRES === 'required';
let reachable = false;
if (process.env.SETTLE_TEST_POSTGRES !== 'off') {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('select 1');
    reachable = true;
  } catch (err) {
    const msg = `PostgreSQL not reachable at ${url} (${err.message})`;
    if (required) {
      console.error(`${msg}; SETTLE_TEST_POSTGRES=required, so failing.`);
      process.exit(1);
    }
    console.warn(`\n*** ${msg}: running the PGlite tests only. Start PostgreSQL to run them on it as well. ***\n`);
  } finally {
    await client.end().catch(() => {});
  }
}
const env = { ...process.env };
if (reachable) env.SETTLE_TEST_POSTGRES_URL = url;
else delete env.SETTLE_TEST_POSTGRES_URL;
const result = spawnSync('npx', ['vitest', 'run', ...process.argv.slice(2)], { stdio: 'inherit', env });
process.exit(result.status ?? 1);
