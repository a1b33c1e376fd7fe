// `node --import tsx bench/profile.ts [--db postgres|pglite] [--seconds 10] [--cpu-prof]`
// Where the time of a charge goes (findings in BENCHMARKS.md, "Where the time goes"):
//  - every SQL statement the server sends per charge, with its time to answer
//    (bench/sql-hook.ts loaded into the server);
//  - PostgreSQL: what the backends wait on (pg_stat_activity sampled every 20 ms),
//    per-charge deltas of pg_stat_database / pg_stat_slru (MultiXact traffic) and the
//    CPU of server, backends and load generator;
//  - with --cpu-prof: the server's CPU profile of the load window, by package and by function.
// Same business as `npm run bench`. Scratch database / temp dir removed afterwards.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { Client, runLoad } from './load.js';
import { chargeRequest, setupBusiness } from './business.js';
import { killAllServers, postgresBackendsCpuMs, startServer, type Server } from './server.js';
import { createDatabase, dropAllDatabases, dropDatabase } from './pg.js';
import { round } from './stats.js';
import { summarizeProfile } from './cpu-profile.js';

const { values: args } = parseArgs({
  options: {
    db: { type: 'string', default: 'postgres' },
    seconds: { type: 'string', default: '10' },
    clients: { type: 'string', default: '16' },
    customers: { type: 'string', default: '1000' },
    providers: { type: 'string', default: '50' },
    pool: { type: 'string' },
    'log-level': { type: 'string', default: 'info' },
    'cpu-prof': { type: 'boolean', default: false },
    'no-hook': { type: 'boolean', default: false },
    'keep-profile': { type: 'boolean', default: false },
  },
});
const kind = args.db === 'pglite' ? 'pglite' : 'postgres';
const seconds = Number(args.seconds);
const clients = Number(args.clients);
const ADMIN_KEY = `sk_test_admin_bench_${randomBytes(12).toString('hex')}`;
const TAG = randomBytes(4).toString('hex');
const work = mkdtempSync(path.join(os.tmpdir(), 'settle-profile-'));
const tallyFile = path.join(work, 'sql-tally.json');
const profDir = path.join(work, 'cpuprof');
const log = (m: string) => process.stderr.write(`[profile] ${m}\n`);

type Tally = Record<string, { n: number; ms: number }>;
const readTally = (): Tally => (existsSync(tallyFile) ? (JSON.parse(readFileSync(tallyFile, 'utf8')) as Tally) : {});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function pgStats(c: pg.Client, db: string) {
  const d = (await c.query(`select xact_commit, xact_rollback, tup_inserted, tup_updated, tup_fetched, tup_returned, blks_hit, blks_read, deadlocks, temp_bytes from pg_stat_database where datname = $1`, [db])).rows[0];
  const slru = (await c.query(`select name, blks_zeroed, blks_hit, blks_read, blks_written from pg_stat_slru where name like 'Multi%'`)).rows;
  const wal = (await c.query(`select wal_records, wal_bytes, wal_fpi from pg_stat_wal`)).rows[0];
  return { db: d, slru, wal };
}

function diff(a: Record<string, unknown>, b: Record<string, unknown>, per: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of Object.keys(b)) {
    const delta = Number(b[k]) - Number(a[k]);
    if (Number.isFinite(delta)) out[k] = round(delta / per, 3);
  }
  return out;
}

async function main() {
  let db: { name: string; url: string } | null = null;
  const env: Record<string, string> = { SETTLE_ADMIN_KEY: ADMIN_KEY, LOG_LEVEL: args['log-level'] ?? 'info', SETTLE_SQL_TALLY_FILE: tallyFile };
  if (args.pool) env.SETTLE_DB_POOL = args.pool;
  if (kind === 'postgres') {
    db = await createDatabase('profile');
    env.DATABASE_URL = db.url;
  } else env.SETTLE_DATA_DIR = path.join(work, 'data');

  // Set up on a plain server, then restart with the profiling hooks for the load alone.
  const setupServer = await startServer({ env, logFile: path.join(work, 'server.log') });
  const setupClient = new Client(setupServer.port, ADMIN_KEY, 8);
  const business = await setupBusiness(setupClient, { customers: Number(args.customers), providers: Number(args.providers), topUpMinor: 1_000_000, commissionPercent: 20, tag: TAG });
  setupClient.close();
  await setupServer.stop();
  log(`set up ${business.customers.length} customers, ${business.providers.length} providers in ${business.setupS}s`);

  const nodeArgs = [
    ...(args['no-hook'] ? [] : ['--import', 'tsx', '--import', './bench/sql-hook.ts']),
    ...(args['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-dir', profDir] : []),
  ];
  const server: Server = await startServer({ env, logFile: path.join(work, 'server.log'), nodeArgs });
  const client = new Client(server.port, ADMIN_KEY, clients);
  const stats = db ? new pg.Client({ connectionString: db.url }) : null;
  await stats?.connect();

  // Warm up (JIT, pool, account cache) outside the window.
  await runLoad({ client, concurrency: clients, warmupMs: 0, durationMs: 3000, next: (i) => chargeRequest(business, `${TAG}w`, i) });
  await sleep(1200);
  const tally0 = readTally();
  const pg0 = stats && db ? await pgStats(stats, db.name) : null;
  const cpu0 = { server: server.cpuMs(), pg: db ? postgresBackendsCpuMs(db.name) : 0, self: process.cpuUsage() };
  const waits = new Map<string, number>();
  const hotRows = new Map<string, number>();
  let waitSamples = 0;
  let sampling = true;
  const sampler = (async () => {
    if (!stats || !db) return;
    const probe = new pg.Client({ connectionString: db.url });
    await probe.connect();
    while (sampling) {
      const rows = (await probe.query(`select coalesce(wait_event_type || ':' || wait_event, 'CPU') as w from pg_stat_activity where datname = $1 and state = 'active' and pid <> pg_backend_pid() and backend_type = 'client backend'`, [db.name])).rows as { w: string }[];
      waitSamples++;
      for (const r of rows) waits.set(r.w, (waits.get(r.w) ?? 0) + 1);
      // Which balance rows are queued on: tuple locks on account_balances, by account kind.
      const locked = (await probe.query(`select regexp_replace(b.account_id, '^acct_(customer_credit|provider_payable|platform_fees|card_clearing)_.*$', '\\1') as kind
        from pg_locks l join account_balances b on b.ctid = format('(%s,%s)', l.page, l.tuple)::tid
        where l.locktype = 'tuple' and l.relation = 'account_balances'::regclass`)).rows as { kind: string }[];
      for (const r of locked) hotRows.set(r.kind, (hotRows.get(r.kind) ?? 0) + 1);
      await sleep(20);
    }
    await probe.end();
  })();

  const nowUs = () => Number(process.hrtime.bigint() / 1000n);
  const windowStart = nowUs();
  const load = await runLoad({ client, concurrency: clients, warmupMs: 0, durationMs: seconds * 1000, next: (i) => chargeRequest(business, TAG, i) });
  const windowUs: [number, number] = [windowStart, nowUs()];
  sampling = false;
  await sampler;
  const cpu1 = { server: server.cpuMs(), pg: db ? postgresBackendsCpuMs(db.name) : 0, self: process.cpuUsage(cpu0.self) };
  await sleep(1200);
  const tally1 = readTally();
  const pg1 = stats && db ? await pgStats(stats, db.name) : null;
  await stats?.end();
  client.close();
  await server.stop();

  const n = load.ok;
  const statements = Object.entries(tally1)
    .map(([sql, v]) => ({ sql, n: v.n - (tally0[sql]?.n ?? 0), ms: v.ms - (tally0[sql]?.ms ?? 0) }))
    .filter((s) => s.n > 0)
    .sort((a, b) => b.n - a.n)
    .map((s) => ({ perCharge: round(s.n / n, 3), avgMs: round(s.ms / s.n, 3), sql: s.sql }));
  const out = {
    db: kind,
    charges: { perS: load.throughputPerS, ok: load.ok, errors: load.errors, p50Ms: load.latency.p50Ms, p99Ms: load.latency.p99Ms, errorSamples: load.errorSamples },
    cpuMsPerCharge: {
      server: round((cpu1.server - cpu0.server) / n, 3),
      postgresBackends: db ? round((cpu1.pg - cpu0.pg) / n, 3) : null,
      loadGenerator: round((cpu1.self.user + cpu1.self.system) / 1000 / n, 3),
    },
    sql: args['no-hook'] ? null : { statementsPerCharge: round(statements.reduce((a, s) => a + s.perCharge, 0), 2), statements },
    postgres:
      pg0 && pg1
        ? {
            perCharge: diff(pg0.db, pg1.db, n),
            walPerCharge: diff(pg0.wal, pg1.wal, n),
            multixactSlru: pg1.slru.map((s, i) => ({ name: s.name, ...diff(pg0.slru[i], s, 1) })),
            waitEvents: {
              samples: waitSamples,
              avgActiveBackends: round([...waits.values()].reduce((a, b) => a + b, 0) / Math.max(1, waitSamples), 2),
              share: Object.fromEntries([...waits.entries()].sort((a, b) => b[1] - a[1]).map(([w, c]) => [w, round(c / Math.max(1, waitSamples), 2)])),
              /** Balance rows with a queue (tuple lock held by the first waiter), per sample, by account kind. */
              queuedBalanceRows: Object.fromEntries([...hotRows.entries()].sort((a, b) => b[1] - a[1]).map(([k, c]) => [k, round(c / Math.max(1, waitSamples), 2)])),
            },
          }
        : null,
    cpuProfile: args['cpu-prof'] && existsSync(profDir) ? readdirSync(profDir).map((f) => summarizeProfile(path.join(profDir, f), windowUs))[0] : null,
    profileDir: args['keep-profile'] ? profDir : undefined,
  };
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  if (db) await dropDatabase(db.name);
}

main()
  .catch((err) => {
    log(String((err as Error).stack ?? err));
    process.exitCode = 1;
  })
  .finally(async () => {
    killAllServers();
    await dropAllDatabases();
    if (!args['keep-profile']) rmSync(work, { recursive: true, force: true });
  });
