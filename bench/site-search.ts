// Site search at scale (issue 4): 100,000 sites, a query by one word of the address,
// timed through the real SiteService on PostgreSQL (scratch database) and PGlite.
// Prints JSON. `--quick` uses 5,000 sites.
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import pg from 'pg';
import { openStore, type Store } from '../src/store/db.js';
import { migrate } from '../src/store/migrate.js';
import { createApp } from '../src/app/app.js';
import { databaseUrl, PG_ADMIN_URL } from './pg.js';

const quick = process.argv.includes('--quick');
const SITES = quick ? 5_000 : 100_000;
const QUERIES = quick ? 20 : 200;
const STREETS = ['Elm', 'Oak', 'Maple', 'Harbour', 'Córdoba', 'Birch', 'Cedar', 'Willow', 'Ocean', 'Hill', 'Lake', 'River'];
const KINDS = ['Street', 'Avenue', 'Road', 'Lane', 'Drive', 'Court'];
const CITIES = ['Springwood', 'Riverside', 'Lakeside', 'Fairview', 'Kingston', 'Greenfield', 'Málaga', 'Portland'];

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

/** Inserts the sites in SQL (fast), with the same normalised search text the service writes. */
async function fill(store: Store): Promise<void> {
  await sql`insert into customers (id, email, name, created_at) values ('cus_bench', 'bench@example.com', 'Bench Realty', now()) on conflict do nothing`.execute(store.db);
  const streets = sql.raw(`array[${STREETS.map((s) => `'${s}'`).join(',')}]`);
  const kinds = sql.raw(`array[${KINDS.map((s) => `'${s}'`).join(',')}]`);
  const cities = sql.raw(`array[${CITIES.map((s) => `'${s}'`).join(',')}]`);
  const batch = 20_000;
  for (let from = 1; from <= SITES; from += batch) {
    const to = Math.min(SITES, from + batch - 1);
    await sql`
      with g as (
        select i, (i % 9000 + 1)::text || ' ' || (${streets})[1 + i % ${STREETS.length}] || ' '
             || (${kinds})[1 + (i / 7) % ${KINDS.length}] || ', ' || (${cities})[1 + (i / 13) % ${CITIES.length}] as address
        from generate_series(${from}::int, ${to}::int) i)
      insert into sites (id, customer_id, address, archived_at, created_at, search_text, search_tsv)
      select 'site_b' || lpad(i::text, 9, '0'), 'cus_bench', address,
             case when i % 10 = 0 then now() end, now(),
             lower(translate(address, 'óáÓÁ,', 'oaOA ')) || ' bench realty bench@example.com',
             to_tsvector('simple', lower(translate(address, 'óáÓÁ,', 'oaOA ')) || ' bench realty bench@example.com')
      from g`.execute(store.db);
  }
  await sql`analyze sites`.execute(store.db);
}

async function measure(store: Store): Promise<Record<string, number>> {
  const app = await createApp(store, { mode: 'sandbox' });
  const queries = ['cordoba', 'harbour lane', '4242 elm', 'malaga', 'willow court kingston'];
  const times: number[] = [];
  let found = 0;
  for (let i = 0; i < QUERIES; i++) {
    const q = queries[i % queries.length] as string;
    const t0 = performance.now();
    const page = await app.sites.list(store.db, { q, archived: 'false' }, { limit: 20 });
    times.push(performance.now() - t0);
    found += page.data.length;
  }
  times.sort((a, b) => a - b);
  return { sites: SITES, queries: QUERIES, p50Ms: +percentile(times, 50).toFixed(2), p99Ms: +percentile(times, 99).toFixed(2), avgResults: +(found / QUERIES).toFixed(1) };
}

async function onPostgres(): Promise<Record<string, number> | { skipped: string }> {
  const name = `settle_bench_search_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  try {
    await admin.connect();
  } catch (err) {
    return { skipped: `PostgreSQL not reachable: ${(err as Error).message}` };
  }
  await admin.query(`create database ${name}`);
  const store = await openStore({ url: databaseUrl(name) });
  try {
    await migrate(store);
    await fill(store);
    return await measure(store);
  } finally {
    await store.close();
    await admin.query(`drop database if exists ${name} with (force)`);
    await admin.end();
  }
}

async function onPGlite(): Promise<Record<string, number>> {
  const store = await openStore({ url: 'memory://' });
  try {
    await migrate(store);
    await fill(store);
    return await measure(store);
  } finally {
    await store.close();
  }
}

const result = { siteSearch: { target: 'p99 < 50 ms with 100,000 sites', postgres: await onPostgres(), pglite: await onPGlite() } };
console.log(JSON.stringify(result, null, 2));
