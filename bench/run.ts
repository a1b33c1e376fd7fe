// `npm run bench [-- --quick]`: Settle's speed, printed as JSON (see BENCHMARKS.md).
//
//  1. charges over HTTP (POST /v1/charges, unique Idempotency-Key each, admin key) at
//     16 keep-alive clients against the built server as a child process, on a fresh
//     PostgreSQL database and on PGlite in a temp dir;
//  2. `pgbench -N` TPS on the same PostgreSQL in the same run (before and after the
//     PostgreSQL charge load) and the ratio charges/s ÷ pgbench TPS;
//  3. balance reads (GET /v1/customers/:id) with ~1,000,000 ledger postings present,
//     loaded with SQL (bench/bulk.ts), then `settle check` on that database;
//  4. the server's memory (VmRSS / VmHWM) under the charge load;
//  5. cold start: spawn → first 200 on /v1/health with an existing PGlite data dir.
//
// --quick: a few seconds per section, small counts (CI smoke). Exits 1 if any request
// got a non-2xx answer, a server crashed, or `settle check` found a problem; a missed
// speed target is reported, not fatal.
// Options: --quick, --log-level L (server LOG_LEVEL, default info), --duration S,
//   --clients N, --postings N, --skip-postgres, --skip-pglite, --out FILE, --keep-logs.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client, mapConcurrent, runLoad, type LoadResult } from './load.js';
import { killAllServers, ROOT, startServer, type Server } from './server.js';
import { createDatabase, dropAllDatabases, dropDatabase, pgbenchInit, pgbenchRun, postgresReachable, withDatabase, type PgbenchResult } from './pg.js';
import { bulkSql, planFor } from './bulk.js';
import { median, round } from './stats.js';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    'log-level': { type: 'string', default: 'info' },
    duration: { type: 'string' },
    clients: { type: 'string' },
    postings: { type: 'string' },
    'skip-postgres': { type: 'boolean', default: false },
    'skip-pglite': { type: 'boolean', default: false },
    out: { type: 'string' },
    'keep-logs': { type: 'boolean', default: false },
  },
  allowPositionals: false,
});

const quick = args.quick ?? false;
const CFG = {
  clients: Number(args.clients ?? 16),
  warmupS: quick ? 0.5 : 3,
  durationS: Number(args.duration ?? (quick ? 1.5 : 20)),
  customers: quick ? 100 : 1000,
  providers: quick ? 10 : 50,
  topUpMinor: 1_000_000, // 10,000.00 USD of credit per customer
  commissionPercent: 20,
  pgbenchScale: quick ? 1 : 10,
  pgbenchSeconds: quick ? 2 : 10,
  pgbenchThreads: 2,
  postings: Number(args.postings ?? (quick ? 10_000 : 1_000_000)),
  readSeconds: quick ? 0.5 : 5,
  coldStarts: quick ? 1 : 3,
  logLevel: args['log-level'] ?? 'info',
};
const TARGETS = { chargesPostgres: 1500, chargesPglite: 800, ratio: 0.35, readP99Ms: 5, pgliteRssMb: 250, coldStartMs: 2000 };

const ADMIN_KEY = `sk_test_admin_bench_${randomBytes(12).toString('hex')}`;
const RUN_TAG = randomBytes(4).toString('hex');
const workDir = mkdtempSync(path.join(os.tmpdir(), 'settle-bench-'));
const problems: string[] = [];
const log = (msg: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

// ---------------------------------------------------------------------------------------
// Cleanup: child servers, scratch databases and the temp dir, also on Ctrl-C.
let cleaned = false;
async function cleanup(): Promise<void> {
  if (cleaned) return;
  cleaned = true;
  killAllServers();
  await dropAllDatabases();
  if (!args['keep-logs']) rmSync(workDir, { recursive: true, force: true });
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    log(`${signal}: cleaning up`);
    void cleanup().finally(() => process.exit(130));
  });
}

// ---------------------------------------------------------------------------------------
function distIsStale(): boolean {
  const dist = path.join(ROOT, 'dist/cli/main.js');
  if (!existsSync(dist)) throw new Error('dist/ is missing: run `npm run build` first.');
  const built = statSync(dist).mtimeMs;
  const newer = (dir: string): boolean =>
    readdirSync(dir, { withFileTypes: true }).some((e) =>
      e.isDirectory() ? newer(path.join(dir, e.name)) : e.name.endsWith('.ts') && statSync(path.join(dir, e.name)).mtimeMs > built,
    );
  return newer(path.join(ROOT, 'src'));
}

function machine() {
  const cpus = os.cpus();
  let freeH = '';
  try {
    freeH = execFileSync('free', ['-h'], { encoding: 'utf8' }).trim();
  } catch {
    /* not on every system */
  }
  return {
    nproc: Number(execFileSync('nproc', { encoding: 'utf8' }).trim()),
    cpuModel: cpus[0]?.model ?? 'unknown',
    memTotalGb: round(os.totalmem() / 1024 ** 3, 1),
    free: freeH,
    loadAvg: os.loadavg().map((l) => round(l, 2)),
    node: process.version,
    platform: `${os.type()} ${os.release()}`,
  };
}

/** Creates the business: commission setting, providers, customers with credit. */
async function setupBusiness(client: Client): Promise<{ customers: string[]; providers: string[]; setupS: number }> {
  const t0 = performance.now();
  await client.json({ method: 'PATCH', path: '/v1/settings', body: { providerCommissionPercent: CFG.commissionPercent }, headers: { 'idempotency-key': `bench-settings-${RUN_TAG}` } });
  const idem = (what: string, i: number) => ({ 'idempotency-key': `bench-${RUN_TAG}-${what}-${i}` });
  const providers = await mapConcurrent(Array.from({ length: CFG.providers }), 8, async (_, i) =>
    (await client.json<{ id: string }>({ method: 'POST', path: '/v1/providers', body: { name: `Provider ${i}`, email: `provider-${RUN_TAG}-${i}@bench.example` }, headers: idem('prv', i) })).id,
  );
  const customers = await mapConcurrent(Array.from({ length: CFG.customers }), 8, async (_, i) => {
    const c = await client.json<{ id: string }>({ method: 'POST', path: '/v1/customers', body: { name: `Customer ${i}`, email: `customer-${RUN_TAG}-${i}@bench.example` }, headers: idem('cus', i) });
    await client.json({ method: 'POST', path: `/v1/customers/${c.id}/top-ups`, body: { amount: CFG.topUpMinor, currency: 'USD', paymentMethod: 'pm_card_visa' }, headers: idem('tu', i) });
    return c.id;
  });
  return { customers, providers, setupS: round((performance.now() - t0) / 1000) };
}

function pick<T>(list: readonly T[]): T {
  return list[Math.floor(Math.random() * list.length)] as T;
}

async function chargeLoad(server: Server, client: Client, customers: string[], providers: string[]): Promise<LoadResult> {
  const result = await runLoad({
    client,
    concurrency: CFG.clients,
    warmupMs: CFG.warmupS * 1000,
    durationMs: CFG.durationS * 1000,
    onTick: () => server.sample(),
    next: (i) => ({
      method: 'POST',
      path: '/v1/charges',
      headers: { 'idempotency-key': `bench-${RUN_TAG}-charge-${i}` },
      body: { customerId: pick(customers), providerId: pick(providers), amount: 100 + (i % 900), currency: 'USD', description: `Private chat, ${1 + (i % 30)} minutes` },
    }),
  });
  if (result.errors) problems.push(`charges: ${result.errors} non-2xx answers (${result.errorSamples[0] ?? ''})`);
  return result;
}

async function balanceReads(server: Server, client: Client, customers: string[], concurrency: number): Promise<LoadResult> {
  // A sanity check first: the answer carries the balance.
  const one = await client.json<{ balances: Record<string, number> }>({ method: 'GET', path: `/v1/customers/${customers[0]}` });
  if (typeof one.balances.USD !== 'number') problems.push(`balance read: no USD balance in ${JSON.stringify(one)}`);
  const result = await runLoad({
    client,
    concurrency,
    warmupMs: quick ? 200 : 1000,
    durationMs: CFG.readSeconds * 1000,
    onTick: () => server.sample(),
    next: () => ({ method: 'GET', path: `/v1/customers/${pick(customers)}` }),
  });
  if (result.errors) problems.push(`balance reads: ${result.errors} non-2xx answers (${result.errorSamples[0] ?? ''})`);
  return result;
}

function compact(r: LoadResult) {
  return {
    throughputPerS: r.throughputPerS,
    p50Ms: r.latency.p50Ms,
    p90Ms: r.latency.p90Ms,
    p99Ms: r.latency.p99Ms,
    maxMs: r.latency.maxMs,
    meanMs: r.latency.meanMs,
    requests: r.requests,
    errors: r.errors,
    clients: r.concurrency,
    durationS: r.durationS,
    statuses: r.statuses,
    ...(r.errorSamples.length ? { errorSamples: r.errorSamples } : {}),
  };
}

/** `settle check` on a database (server stopped for PGlite): must be clean. */
function settleCheck(env: Record<string, string>): Promise<{ ok: boolean; postings: number; transactions: number; problems: number; seconds: number }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'bin/settle.js'), 'check'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      try {
        const report = JSON.parse(out) as { ok: boolean; postings: number; transactions: number; problems: unknown[] };
        if (!report.ok || code !== 0) problems.push(`settle check: ${JSON.stringify(report.problems).slice(0, 500)}`);
        resolve({ ok: report.ok, postings: report.postings, transactions: report.transactions, problems: report.problems.length, seconds: round((performance.now() - t0) / 1000) });
      } catch {
        problems.push(`settle check failed (exit ${code}): ${err.slice(0, 500)}`);
        resolve({ ok: false, postings: 0, transactions: 0, problems: -1, seconds: round((performance.now() - t0) / 1000) });
      }
    });
  });
}

async function stopChecked(server: Server, label: string): Promise<void> {
  const exit = await server.stop();
  if (exit.code !== 0) problems.push(`${label}: server exited with ${JSON.stringify(exit)} on SIGTERM`);
}

function logFile(name: string): string {
  return path.join(workDir, `${name}.log`);
}

// ---------------------------------------------------------------------------------------
async function benchPostgres() {
  const version = await postgresReachable();
  if (!version) throw new Error('PostgreSQL is not reachable (SETTLE_BENCH_POSTGRES_URL or postgres://postgres@127.0.0.1:5432/postgres); use --skip-postgres to bench PGlite only.');
  log(`PostgreSQL: ${version.split(',')[0]}`);

  log(`pgbench: init scale ${CFG.pgbenchScale}`);
  const pgbenchDb = await createDatabase('pgbench');
  await pgbenchInit(pgbenchDb.name, CFG.pgbenchScale);
  const pgbenchOpts = { clients: CFG.clients, threads: CFG.pgbenchThreads, seconds: CFG.pgbenchSeconds };
  log(`pgbench -N -c ${CFG.clients} -j ${CFG.pgbenchThreads} -T ${CFG.pgbenchSeconds} (before)`);
  const pgbenchRuns: PgbenchResult[] = [await pgbenchRun(pgbenchDb.name, pgbenchOpts)];

  const db = await createDatabase('settle');
  const env = { DATABASE_URL: db.url, SETTLE_ADMIN_KEY: ADMIN_KEY, LOG_LEVEL: CFG.logLevel };
  const server = await startServer({ env, logFile: logFile('postgres') });
  const client = new Client(server.port, ADMIN_KEY, CFG.clients);
  try {
    log(`postgres server up in ${server.coldStartMs} ms (fresh database, migrations included); setting up ${CFG.customers} customers, ${CFG.providers} providers`);
    const { customers, providers, setupS } = await setupBusiness(client);
    const memBefore = server.sample();
    log(`charges on PostgreSQL: ${CFG.clients} clients, ${CFG.warmupS}s warm-up + ${CFG.durationS}s`);
    const charges = await chargeLoad(server, client, customers, providers);
    const memLoad = { ...server.peak };
    log(`  ${charges.throughputPerS}/s, p50 ${charges.latency.p50Ms} ms, p99 ${charges.latency.p99Ms} ms, errors ${charges.errors}, RSS peak ${memLoad.rssMb} MB`);

    log('pgbench (after)');
    pgbenchRuns.push(await pgbenchRun(pgbenchDb.name, pgbenchOpts));
    await dropDatabase(pgbenchDb.name);

    const plan = planFor(CFG.postings, CFG.commissionPercent);
    log(`bulk-loading ~${CFG.postings} postings (${plan.topUps} top-ups, ${plan.charges} charges) with SQL`);
    const t0 = performance.now();
    const postings = await withDatabase(db.url, async (c) => {
      await c.query(bulkSql(plan));
      await c.query('analyze');
      return Number((await c.query<{ n: string }>('select count(*) as n from postings')).rows[0]?.n ?? 0);
    });
    const bulkS = round((performance.now() - t0) / 1000);
    log(`  ${postings} postings present (bulk load ${bulkS}s); balance reads`);
    const read1 = await balanceReads(server, client, customers, 1);
    const read16 = await balanceReads(server, client, customers, CFG.clients);
    log(`  1 client p99 ${read1.latency.p99Ms} ms; ${CFG.clients} clients ${read16.throughputPerS}/s p99 ${read16.latency.p99Ms} ms`);
    client.close();
    await stopChecked(server, 'postgres');

    const restart = await startServer({ env, logFile: logFile('postgres') });
    const coldStartMs = restart.coldStartMs;
    await stopChecked(restart, 'postgres restart');

    log('settle check');
    const check = await settleCheck({ DATABASE_URL: db.url });
    await dropDatabase(db.name);

    const tpsMean = round((pgbenchRuns[0]!.tps + pgbenchRuns[1]!.tps) / 2, 1);
    return {
      version,
      charges: { ...compact(charges), setupS, customers: CFG.customers, providers: CFG.providers },
      pgbench: { runs: pgbenchRuns, tpsMean, scale: CFG.pgbenchScale, ratio: round(charges.throughputPerS / tpsMean, 3) },
      balanceRead: { postings, bulkLoadS: bulkS, bulkPlan: plan, oneClient: compact(read1), concurrent: compact(read16), check },
      memory: { idleAfterSetup: memBefore, underChargeLoad: memLoad, afterReads: server.peak },
      coldStart: { freshDatabaseMs: server.coldStartMs, existingDatabaseMs: coldStartMs },
    };
  } finally {
    client.close();
    killAllServers();
  }
}

async function benchPglite() {
  const dataDir = path.join(workDir, 'pglite-data');
  mkdirSync(dataDir, { recursive: true });
  const env = { SETTLE_DATA_DIR: dataDir, SETTLE_ADMIN_KEY: ADMIN_KEY, LOG_LEVEL: CFG.logLevel };
  const server = await startServer({ env, logFile: logFile('pglite') });
  const client = new Client(server.port, ADMIN_KEY, CFG.clients);
  let customers: string[] = [];
  let result: Record<string, unknown> = {};
  try {
    log(`pglite server up in ${server.coldStartMs} ms (new data dir, migrations included); setting up`);
    const setup = await setupBusiness(client);
    customers = setup.customers;
    const memBefore = server.sample();
    log(`charges on PGlite: ${CFG.clients} clients, ${CFG.warmupS}s warm-up + ${CFG.durationS}s`);
    const charges = await chargeLoad(server, client, setup.customers, setup.providers);
    log(`  ${charges.throughputPerS}/s, p50 ${charges.latency.p50Ms} ms, p99 ${charges.latency.p99Ms} ms, errors ${charges.errors}, RSS peak ${server.peak.rssMb} MB`);
    result = {
      charges: { ...compact(charges), setupS: setup.setupS, customers: CFG.customers, providers: CFG.providers },
      memory: { idleAfterSetup: memBefore, underChargeLoad: { ...server.peak } },
      firstStartMs: server.coldStartMs,
    };
  } finally {
    client.close();
    await stopChecked(server, 'pglite');
  }

  // Cold starts on the existing data dir (after the charge run).
  const coldAfterCharges: number[] = [];
  for (let i = 0; i < CFG.coldStarts; i++) {
    const s = await startServer({ env, logFile: logFile('pglite') });
    coldAfterCharges.push(s.coldStartMs);
    await stopChecked(s, 'pglite cold start');
  }
  log(`cold starts (existing data dir): ${coldAfterCharges.join(', ')} ms`);

  // ~1M postings, written with PGlite in this process while the server is down.
  const plan = planFor(CFG.postings, CFG.commissionPercent);
  log(`bulk-loading ~${CFG.postings} postings into the PGlite data dir`);
  const t0 = performance.now();
  const { PGlite } = await import('@electric-sql/pglite');
  const lite = await PGlite.create({ dataDir });
  let postings = 0;
  try {
    await lite.exec(bulkSql(plan));
    await lite.exec('analyze');
    postings = Number((await lite.query<{ n: number }>('select count(*)::int as n from postings')).rows[0]?.n ?? 0);
  } finally {
    await lite.close();
  }
  const bulkS = round((performance.now() - t0) / 1000);
  log(`  ${postings} postings present (bulk load ${bulkS}s)`);

  const coldWithPostings: number[] = [];
  let reader: Server | null = null;
  for (let i = 0; i < CFG.coldStarts; i++) {
    const s = await startServer({ env, logFile: logFile('pglite') });
    coldWithPostings.push(s.coldStartMs);
    if (i < CFG.coldStarts - 1) await stopChecked(s, 'pglite cold start');
    else reader = s;
  }
  log(`cold starts (with ${postings} postings): ${coldWithPostings.join(', ')} ms; balance reads`);
  const readClient = new Client(reader!.port, ADMIN_KEY, CFG.clients);
  let read1: LoadResult;
  let read16: LoadResult;
  try {
    read1 = await balanceReads(reader!, readClient, customers, 1);
    read16 = await balanceReads(reader!, readClient, customers, CFG.clients);
  } finally {
    readClient.close();
    await stopChecked(reader!, 'pglite reads');
  }
  log(`  1 client p99 ${read1.latency.p99Ms} ms; ${CFG.clients} clients ${read16.throughputPerS}/s p99 ${read16.latency.p99Ms} ms`);
  log('settle check');
  const check = await settleCheck({ SETTLE_DATA_DIR: dataDir });
  return {
    ...result,
    balanceRead: { postings, bulkLoadS: bulkS, bulkPlan: plan, oneClient: compact(read1), concurrent: compact(read16), check, readerMemory: reader!.peak },
    coldStart: {
      existingDataDirMs: coldAfterCharges,
      existingDataDirMedianMs: median(coldAfterCharges),
      withPostingsMs: coldWithPostings,
      withPostingsMedianMs: median(coldWithPostings),
    },
  };
}

// ---------------------------------------------------------------------------------------
async function main(): Promise<number> {
  const started = performance.now();
  const stale = distIsStale();
  if (stale) log('warning: src/ has changes newer than dist/ — run `npm run build` so the bench measures the current code');
  const meta = {
    date: new Date().toISOString(),
    quick,
    machine: machine(),
    config: CFG,
    distStale: stale,
  };
  log(`Settle bench${quick ? ' (quick)' : ''}: ${meta.machine.nproc} cores, node ${meta.machine.node}, server LOG_LEVEL=${CFG.logLevel}; work dir ${workDir}`);

  const pgRes = args['skip-postgres'] ? null : await benchPostgres();
  const liteRes = args['skip-pglite'] ? null : await benchPglite();

  const t = (name: string, target: string, measured: number | null, met: boolean | null) => ({ name, target, measured, met });
  const targets = [
    pgRes && t('charges/s on PostgreSQL (16 clients)', `>= ${TARGETS.chargesPostgres}`, pgRes.charges.throughputPerS, pgRes.charges.throughputPerS >= TARGETS.chargesPostgres),
    liteRes && t('charges/s on PGlite (16 clients)', `>= ${TARGETS.chargesPglite}`, (liteRes.charges as { throughputPerS: number }).throughputPerS, (liteRes.charges as { throughputPerS: number }).throughputPerS >= TARGETS.chargesPglite),
    pgRes && t('charges/s ÷ pgbench -N TPS', `>= ${TARGETS.ratio}`, pgRes.pgbench.ratio, pgRes.pgbench.ratio >= TARGETS.ratio),
    pgRes && t(`balance read p99 (1 client, ${pgRes.balanceRead.postings} postings) on PostgreSQL, ms`, `< ${TARGETS.readP99Ms}`, pgRes.balanceRead.oneClient.p99Ms, pgRes.balanceRead.oneClient.p99Ms < TARGETS.readP99Ms),
    liteRes && t(`balance read p99 (1 client, ${liteRes.balanceRead.postings} postings) on PGlite, ms`, `< ${TARGETS.readP99Ms}`, liteRes.balanceRead.oneClient.p99Ms, liteRes.balanceRead.oneClient.p99Ms < TARGETS.readP99Ms),
    liteRes && t('server peak RSS under charge load on PGlite, MB', `<= ${TARGETS.pgliteRssMb}`, (liteRes.memory as { underChargeLoad: { rssMb: number } }).underChargeLoad.rssMb, (liteRes.memory as { underChargeLoad: { rssMb: number } }).underChargeLoad.rssMb <= TARGETS.pgliteRssMb),
    pgRes && t('server peak RSS under charge load on PostgreSQL, MB', 'report', pgRes.memory.underChargeLoad.rssMb, null),
    liteRes && t('cold start, existing PGlite data dir (median), ms', `<= ${TARGETS.coldStartMs}`, liteRes.coldStart.existingDataDirMedianMs, liteRes.coldStart.existingDataDirMedianMs <= TARGETS.coldStartMs),
  ].filter(Boolean);

  const report = {
    ...meta,
    postgres: pgRes,
    pglite: liteRes,
    targets,
    problems,
    ok: problems.length === 0,
    totalS: round((performance.now() - started) / 1000, 1),
  };
  const json = JSON.stringify(report, null, 2);
  process.stdout.write(`${json}\n`);
  if (args.out) writeFileSync(args.out, `${json}\n`);
  if (args['keep-logs']) log(`server logs kept in ${workDir}`);
  if (problems.length) log(`PROBLEMS:\n  ${problems.join('\n  ')}`);
  return problems.length ? 1 : 0;
}

main()
  .then(async (code) => {
    await cleanup();
    process.exit(code);
  })
  .catch(async (err) => {
    log(`bench failed: ${(err as Error).stack ?? err}`);
    await cleanup();
    process.exit(1);
  });
