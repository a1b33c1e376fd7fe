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
//  5. cold start: spawn → first 200 on /v1/health with an existing PGlite data dir;
//  6. issue 3: booking lifecycles and paid → cancel → refund flows (bench/lifecycle.ts) and
//     the deadline sweep (bench/deadline-sweep.ts), each its own process (booking-section.ts).
//
// --quick: a few seconds per section, small counts (CI smoke). Exits 1 if any request
// got a non-2xx answer, a server crashed, `settle check` found a problem, a booking flow
// failed or the deadline sweep's proof was not clean (the report is written all the same);
// a missed speed target is reported, not fatal.
// Options: --quick, --log-level L (server LOG_LEVEL, default info), --duration S,
//   --clients N, --postings N, --skip-postgres, --skip-pglite, --skip-booking, --out FILE,
//   --keep-logs.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client, runLoad, type LoadResult } from './load.js';
import { chargeRequest, pick, setupBusiness, type Business } from './business.js';
import { CpuTracker, isBackendOf, killAllServers, ROOT, startServer, type Server } from './server.js';
import { createDatabase, dropAllDatabases, dropDatabase, PG_ADMIN_URL, PG_TRANSPORT, pgbenchInit, pgbenchRun, postgresReachable, walPer, walTotals, withDatabase, type PgbenchResult, type WalTotals } from './pg.js';
import { bulkSql, planFor } from './bulk.js';
import { median, round } from './stats.js';
import { benchBooking } from './booking-section.js';
import { runChild } from './child.js';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    'log-level': { type: 'string', default: 'info' },
    duration: { type: 'string' },
    clients: { type: 'string' },
    postings: { type: 'string' },
    'skip-postgres': { type: 'boolean', default: false },
    'skip-pglite': { type: 'boolean', default: false },
    'skip-booking': { type: 'boolean', default: false },
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
const businessOptions = { customers: CFG.customers, providers: CFG.providers, topUpMinor: CFG.topUpMinor, commissionPercent: CFG.commissionPercent, tag: RUN_TAG };
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

interface CpuSplit {
  /** CPU ms per successful request, by process; the machine has nproc × 1000 ms per second. */
  serverMsPerRequest: number;
  postgresMsPerRequest: number | null;
  loadGeneratorMsPerRequest: number;
  serverCoresBusy: number;
  postgresCoresBusy: number | null;
  loadGeneratorCoresBusy: number;
  /** nproc × 1000 ÷ (all CPU ms per request): the rate if CPU were the only limit. */
  cpuBoundCeilingPerS: number;
}

/** Runs a load while measuring the CPU used by the server, its PostgreSQL backends and this process. */
async function measuredLoad(
  server: Server,
  pgDbName: string | null,
  opts: Omit<Parameters<typeof runLoad>[0], 'onTick' | 'onMeasureStart'>,
): Promise<LoadResult & { cpu: CpuSplit; loadAvg1mAfter: number; walPerRequest?: WalTotals | null }> {
  let s0 = 0;
  let wal0: Promise<WalTotals | null> = Promise.resolve(null);
  let backends: CpuTracker | null = null;
  let b0 = process.cpuUsage();
  const result = await runLoad({
    ...opts,
    onTick: () => server.sample(),
    onMeasureStart: () => {
      s0 = server.cpuMs();
      backends = pgDbName ? new CpuTracker(isBackendOf(pgDbName)) : null;
      b0 = process.cpuUsage();
      if (pgDbName) wal0 = walTotals();
    },
  });
  const wal1 = pgDbName ? await walTotals() : null;
  const s = server.cpuMs() - s0;
  const p = (backends as CpuTracker | null)?.stop() ?? null;
  const b1 = process.cpuUsage(b0);
  const b = (b1.user + b1.system) / 1000;
  const n = Math.max(1, result.requests);
  const wall = Math.max(0.001, result.durationS) * 1000;
  return {
    ...result,
    loadAvg1mAfter: round(os.loadavg()[0] ?? 0, 2),
    // PostgreSQL's WAL per request: its work in a measure the machine's speed does not change.
    ...(pgDbName ? { walPerRequest: walPer(await wal0, wal1, result.requests) } : {}),
    cpu: {
      serverMsPerRequest: round(s / n, 3),
      postgresMsPerRequest: p === null ? null : round(p / n, 3),
      loadGeneratorMsPerRequest: round(b / n, 3),
      serverCoresBusy: round(s / wall),
      postgresCoresBusy: p === null ? null : round(p / wall),
      loadGeneratorCoresBusy: round(b / wall),
      cpuBoundCeilingPerS: round((os.cpus().length * 1000) / ((s + (p ?? 0) + b) / n), 0),
    },
  };
}

async function chargeLoad(server: Server, client: Client, business: Business, pgDbName: string | null) {
  const result = await measuredLoad(server, pgDbName, {
    client,
    concurrency: CFG.clients,
    warmupMs: CFG.warmupS * 1000,
    durationMs: CFG.durationS * 1000,
    next: (i) => chargeRequest(business, RUN_TAG, i),
  });
  if (result.errors) problems.push(`charges: ${result.errors} non-2xx answers (${result.errorSamples[0] ?? ''})`);
  return result;
}

async function balanceReads(server: Server, client: Client, customers: string[], concurrency: number, pgDbName: string | null) {
  // A sanity check first: the answer carries the balance.
  const one = await client.json<{ balances: Record<string, number> }>({ method: 'GET', path: `/v1/customers/${customers[0]}` });
  if (typeof one.balances.USD !== 'number') problems.push(`balance read: no USD balance in ${JSON.stringify(one)}`);
  const result = await measuredLoad(server, pgDbName, {
    client,
    concurrency,
    warmupMs: quick ? 200 : 1000,
    durationMs: CFG.readSeconds * 1000,
    next: () => ({ method: 'GET', path: `/v1/customers/${pick(customers)}` }),
  });
  if (result.errors) problems.push(`balance reads: ${result.errors} non-2xx answers (${result.errorSamples[0] ?? ''})`);
  return result;
}

function compact(r: LoadResult & { cpu?: CpuSplit; loadAvg1mAfter?: number; walPerRequest?: WalTotals | null }) {
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
    ...(r.cpu ? { cpu: r.cpu } : {}),
    ...(r.walPerRequest !== undefined ? { walPerRequest: r.walPerRequest } : {}),
    ...(r.loadAvg1mAfter !== undefined ? { machineLoadAvg1m: r.loadAvg1mAfter } : {}),
    ...(r.errorSamples.length ? { errorSamples: r.errorSamples } : {}),
  };
}

/** `settle check` on a database (server stopped for PGlite): must be clean. */
async function settleCheck(env: Record<string, string>): Promise<{ ok: boolean; postings: number; transactions: number; problems: number; seconds: number }> {
  const t0 = performance.now();
  const { code, stdout: out, stderr: err } = await runChild(process.execPath, [path.join(ROOT, 'bin/settle.js'), 'check'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_LEVEL: 'warn', ...env },
  });
  try {
    const report = JSON.parse(out) as { ok: boolean; postings: number; transactions: number; problems: unknown[] };
    if (!report.ok || code !== 0) problems.push(`settle check: ${JSON.stringify(report.problems).slice(0, 500)}`);
    return { ok: report.ok, postings: report.postings, transactions: report.transactions, problems: report.problems.length, seconds: round((performance.now() - t0) / 1000) };
  } catch {
    problems.push(`settle check failed (exit ${code}): ${err.slice(0, 500)}`);
    return { ok: false, postings: 0, transactions: 0, problems: -1, seconds: round((performance.now() - t0) / 1000) };
  }
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
  if (!version) throw new Error(`PostgreSQL is not reachable at ${PG_ADMIN_URL} (SETTLE_BENCH_POSTGRES_URL); use --skip-postgres to bench PGlite only.`);
  log(`PostgreSQL: ${version.split(',')[0]} (${PG_TRANSPORT})`);

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
    const business = await setupBusiness(client, businessOptions);
    const { customers, setupS } = business;
    const memBefore = server.sample();
    log(`charges on PostgreSQL: ${CFG.clients} clients, ${CFG.warmupS}s warm-up + ${CFG.durationS}s`);
    const charges = await chargeLoad(server, client, business, db.name);
    const memLoad = { ...server.peak };
    log(`  ${charges.throughputPerS}/s, p50 ${charges.latency.p50Ms} ms, p99 ${charges.latency.p99Ms} ms, errors ${charges.errors}, RSS peak ${memLoad.rssMb} MB`);

    if (!quick) {
      log('pgbench (after)');
      pgbenchRuns.push(await pgbenchRun(pgbenchDb.name, pgbenchOpts));
    }
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
    const read1 = await balanceReads(server, client, customers, 1, db.name);
    const read16 = await balanceReads(server, client, customers, CFG.clients, db.name);
    log(`  1 client p99 ${read1.latency.p99Ms} ms; ${CFG.clients} clients ${read16.throughputPerS}/s p99 ${read16.latency.p99Ms} ms`);
    client.close();
    await stopChecked(server, 'postgres');

    let coldStartMs: number | null = null;
    if (!quick) {
      const restart = await startServer({ env, logFile: logFile('postgres') });
      coldStartMs = restart.coldStartMs;
      await stopChecked(restart, 'postgres restart');
    }

    log('settle check');
    const check = await settleCheck({ DATABASE_URL: db.url });
    await dropDatabase(db.name);

    const tpsMean = round(pgbenchRuns.reduce((a, r) => a + r.tps, 0) / pgbenchRuns.length, 1);
    // The same comparison in CPU: what one charge costs against one pgbench transaction
    // (server + backends + load generator vs backends + pgbench), immune to other load.
    const pgbenchCpu = pgbenchRuns.map((r) => (r.cpuMsPerTxn ? r.cpuMsPerTxn.postgres + r.cpuMsPerTxn.pgbench : 0)).filter((x) => x > 0);
    const pgbenchCpuMs = pgbenchCpu.length ? pgbenchCpu.reduce((a, b) => a + b, 0) / pgbenchCpu.length : null;
    const chargeCpuMs = charges.cpu.serverMsPerRequest + (charges.cpu.postgresMsPerRequest ?? 0) + charges.cpu.loadGeneratorMsPerRequest;
    return {
      version,
      transport: PG_TRANSPORT,
      charges: { ...compact(charges), setupS, customers: CFG.customers, providers: CFG.providers },
      pgbench: {
        runs: pgbenchRuns,
        tpsMean,
        scale: CFG.pgbenchScale,
        ratio: round(charges.throughputPerS / tpsMean, 3),
        cpuMsPerPgbenchTxn: pgbenchCpuMs === null ? null : round(pgbenchCpuMs, 3),
        cpuMsPerCharge: round(chargeCpuMs, 3),
        cpuRatio: pgbenchCpuMs === null ? null : round(pgbenchCpuMs / chargeCpuMs, 3),
      },
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
  // The first start creates the cluster (initdb in WebAssembly) and migrates; that
  // process keeps initdb's memory, so the load runs on a second start, as in production.
  // (--quick skips that second start: the load then runs on the first process.)
  const first = await startServer({ env, logFile: logFile('pglite') });
  const firstStart = { ms: first.coldStartMs, memory: first.sample() };
  log(`pglite first start (initdb + migrations) ${firstStart.ms} ms, RSS ${firstStart.memory?.rssMb} MB`);
  if (!quick) await stopChecked(first, 'pglite first start');
  const server = quick ? first : await startServer({ env, logFile: logFile('pglite') });
  const client = new Client(server.port, ADMIN_KEY, CFG.clients);
  const phase1 = async () => {
    try {
      log(`pglite server up in ${server.coldStartMs} ms (existing, empty data dir); setting up`);
      const setup = await setupBusiness(client, businessOptions);
      const memBefore = server.sample();
      log(`charges on PGlite: ${CFG.clients} clients, ${CFG.warmupS}s warm-up + ${CFG.durationS}s`);
      const charges = await chargeLoad(server, client, setup, null);
      log(`  ${charges.throughputPerS}/s, p50 ${charges.latency.p50Ms} ms, p99 ${charges.latency.p99Ms} ms, errors ${charges.errors}, RSS peak ${server.peak.rssMb} MB`);
      return {
        customers: setup.customers,
        result: {
          charges: { ...compact(charges), setupS: setup.setupS, customers: CFG.customers, providers: CFG.providers },
          memory: { idleAfterSetup: memBefore, underChargeLoad: { ...server.peak } },
          firstStart,
          secondStartMs: server.coldStartMs,
        },
      };
    } finally {
      client.close();
      await stopChecked(server, 'pglite');
    }
  };
  const { customers, result } = await phase1();

  // Cold starts on the existing data dir (after the charge run; --quick only times the
  // start with the postings below).
  const coldAfterCharges: number[] = [];
  for (let i = 0; i < (quick ? 0 : CFG.coldStarts); i++) {
    const s = await startServer({ env, logFile: logFile('pglite') });
    coldAfterCharges.push(s.coldStartMs);
    await stopChecked(s, 'pglite cold start');
  }
  if (coldAfterCharges.length) log(`cold starts (existing data dir): ${coldAfterCharges.join(', ')} ms`);

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
  let read1: Awaited<ReturnType<typeof balanceReads>>;
  let read16: Awaited<ReturnType<typeof balanceReads>>;
  try {
    read1 = await balanceReads(reader!, readClient, customers, 1, null);
    read16 = await balanceReads(reader!, readClient, customers, CFG.clients, null);
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
      existingDataDirMedianMs: coldAfterCharges.length ? median(coldAfterCharges) : null,
      withPostingsMs: coldWithPostings,
      withPostingsMedianMs: median(coldWithPostings),
    },
  };
}

// ---------------------------------------------------------------------------------------
const coldMs = (r: { coldStart: { existingDataDirMedianMs: number | null; withPostingsMedianMs: number } }) =>
  r.coldStart.existingDataDirMedianMs ?? r.coldStart.withPostingsMedianMs;

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
  const booking = args['skip-booking']
    ? null
    : await benchBooking({ quick, skipPostgres: args['skip-postgres'] ?? false, skipPglite: args['skip-pglite'] ?? false, workDir, log });
  if (booking) problems.push(...booking.problems);

  // --quick is a smoke run (small counts, the load on PGlite's first process): not judged.
  const t = (name: string, target: string, measured: number | null, met: boolean | null) => ({ name, target, measured, met: quick ? null : met });
  const targets = [
    pgRes && t('charges/s on PostgreSQL (16 clients)', `>= ${TARGETS.chargesPostgres}`, pgRes.charges.throughputPerS, pgRes.charges.throughputPerS >= TARGETS.chargesPostgres),
    liteRes && t('charges/s on PGlite (16 clients)', `>= ${TARGETS.chargesPglite}`, liteRes.charges.throughputPerS, liteRes.charges.throughputPerS >= TARGETS.chargesPglite),
    pgRes && t('charges/s ÷ pgbench -N TPS', `>= ${TARGETS.ratio}`, pgRes.pgbench.ratio, pgRes.pgbench.ratio >= TARGETS.ratio),
    pgRes && t(`balance read p99 (1 client, ${pgRes.balanceRead.postings} postings) on PostgreSQL, ms`, `< ${TARGETS.readP99Ms}`, pgRes.balanceRead.oneClient.p99Ms, pgRes.balanceRead.oneClient.p99Ms < TARGETS.readP99Ms),
    liteRes && t(`balance read p99 (1 client, ${liteRes.balanceRead.postings} postings) on PGlite, ms`, `< ${TARGETS.readP99Ms}`, liteRes.balanceRead.oneClient.p99Ms, liteRes.balanceRead.oneClient.p99Ms < TARGETS.readP99Ms),
    liteRes && t('server peak RSS under charge load on PGlite, MB', `<= ${TARGETS.pgliteRssMb}`, liteRes.memory.underChargeLoad.rssMb, liteRes.memory.underChargeLoad.rssMb <= TARGETS.pgliteRssMb),
    pgRes && t('server peak RSS under charge load on PostgreSQL, MB', 'report', pgRes.memory.underChargeLoad.rssMb, null),
    liteRes && t('cold start, existing PGlite data dir (median), ms', `<= ${TARGETS.coldStartMs}`, coldMs(liteRes), coldMs(liteRes) <= TARGETS.coldStartMs),
    liteRes && t(`cold start, PGlite data dir with ${liteRes.balanceRead.postings} postings (median), ms`, 'report', liteRes.coldStart.withPostingsMedianMs, null),
    ...(booking?.targets ?? []),
  ].filter(Boolean);

  const report = {
    ...meta,
    postgres: pgRes,
    pglite: liteRes,
    bookingFlows: booking?.bookingFlows ?? null,
    deadlineSweep: booking?.deadlineSweep ?? null,
    targets,
    problems,
    ok: problems.length === 0,
    totalS: round((performance.now() - started) / 1000, 1),
    loadAvgAtEnd: os.loadavg().map((l) => round(l, 2)),
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
