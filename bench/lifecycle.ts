// Issue 3 speed: full booking lifecycles (create → confirm → pay → mark-done →
// confirm-execution) and paid → cancel → refund flows over HTTP at 16 clients, against
// the built server on a scratch PostgreSQL database and on PGlite. Prints JSON.
// `--quick` runs a few seconds each. The flows are in bench/booking-flows.ts.
// Per flow it also reports the CPU of the server (and of PostgreSQL's backends) and,
// from a separate run with bench/sql-hook.ts loaded into the server, the SQL statements
// the server sent (`--no-sql` skips that run).
import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { Client } from './load.js';
import { bookingFlows, runFlows, setupParties, type Flow } from './booking-flows.js';
import { readFileSync } from 'node:fs';
import { cpuMs, postgresBackendsCpuMs, startServer } from './server.js';
import { createDatabase, dropDatabase, PG_TRANSPORT, postgresReachable, walPer, walTotals } from './pg.js';
import { summarize } from './stats.js';
import { summarizeProfile } from './cpu-profile.js';

const quick = process.argv.includes('--quick');
const countSql = !process.argv.includes('--no-sql');
// `--skip-pglite` / `--skip-postgres` bench one store; `--flow lifecycle|cancel` runs one flow.
const skipPglite = process.argv.includes('--skip-pglite');
const skipPostgres = process.argv.includes('--skip-postgres');
const onlyFlow = process.argv.includes('--flow') ? process.argv[process.argv.indexOf('--flow') + 1] : null;
// `--cpu-prof`: the servers' CPU profiles (whole run, setup included), by package and function.
const cpuProf = process.argv.includes('--cpu-prof');
function profiling(label: string): { nodeArgs: string[]; summary: () => unknown } {
  if (!cpuProf) return { nodeArgs: [], summary: () => undefined };
  const dir = mkdtempSync(path.join(os.tmpdir(), `settle-prof-${label}-`));
  return {
    nodeArgs: ['--cpu-prof', '--cpu-prof-dir', dir],
    summary: () => {
      const files = readdirSync(dir);
      const out = files.length ? summarizeProfile(path.join(dir, files[0] as string)) : null;
      // SETTLE_BENCH_KEEP_PROF=DIR keeps the raw profile (open it in Chrome DevTools).
      const keep = process.env.SETTLE_BENCH_KEEP_PROF;
      if (keep && files.length) cpSync(path.join(dir, files[0] as string), path.join(keep, `${label}.cpuprofile`));
      rmSync(dir, { recursive: true, force: true });
      return out;
    },
  };
}
// `SETTLE_BENCH_CLIENTS=1` measures one client (e.g. per-statement times without contention).
const CLIENTS = Number(process.env.SETTLE_BENCH_CLIENTS ?? 16);
const SECONDS = quick ? 3 : 15;
// Each flow runs unmeasured first, so the figures are the server's steady state: until then
// V8 is still compiling the hot paths (measured: ~5 s of a fresh server's CPU went to its
// optimizing compiler in a 15 s run, and it was still ~15 % of the CPU 6–14 s in).
const WARMUP_SECONDS = Number(process.env.SETTLE_BENCH_WARMUP_S ?? (quick ? 0.5 : 5));
const ADMIN = `sk_bench_admin_${randomUUID()}`;

interface RunShape {
  clients: number;
  seconds: number;
  /** Called around each flow's run (the SQL tally takes its snapshots here). */
  mark?: (label: string) => Promise<void>;
  /** The server runs on PostgreSQL: report its WAL per flow too. */
  onPostgres?: boolean;
}

type Cpu = () => { server: number; postgres: number; client: number };

/** CPU ms used so far by the server and (on PostgreSQL) its backends. */
function cpuOf(pid: number, dbName: string | null): Cpu {
  return () => {
    const own = process.cpuUsage();
    return { server: cpuMs(pid) ?? 0, postgres: dbName ? postgresBackendsCpuMs(dbName) : 0, client: (own.user + own.system) / 1000 };
  };
}

/** CPU per flow; `benchClientMs` is this load generator's own, which shares the machine's two cores. */
function perFlow(a: ReturnType<Cpu>, b: ReturnType<Cpu>, flows: number) {
  const ms = (x: number, y: number) => +((y - x) / flows).toFixed(2);
  return { serverMs: ms(a.server, b.server), postgresMs: ms(a.postgres, b.postgres), benchClientMs: ms(a.client, b.client) };
}

async function measure(port: number, cpu: Cpu, shape: RunShape = { clients: CLIENTS, seconds: SECONDS }) {
  const c = new Client(port, ADMIN, CLIENTS * 2);
  const calls: number[] = [];
  const { lifecycle, cancel: cancelFlow } = bookingFlows(c, await setupParties(c, CLIENTS), (ms) => calls.push(ms));
  if (onlyFlow !== 'cancel') await runFlows(shape.clients, WARMUP_SECONDS, lifecycle);
  if (onlyFlow !== 'lifecycle') await runFlows(shape.clients, WARMUP_SECONDS, cancelFlow);
  /** One flow run by every client for `shape.seconds`: its rate, its calls' latency, the CPU it took. */
  const measured = async (label: string, flow: Flow, skip: boolean) => {
    calls.length = 0;
    const walBefore = shape.onPostgres ? await walTotals() : null;
    const cpuBefore = cpu();
    const t0 = performance.now();
    const result = skip ? { flows: 0, errors: 0 } : await runFlows(shape.clients, shape.seconds, flow);
    const seconds = (performance.now() - t0) / 1000;
    const cpuAfter = cpu();
    const walAfter = shape.onPostgres ? await walTotals() : null;
    await shape.mark?.(label);
    return {
      perSecond: +(result.flows / seconds).toFixed(1),
      flows: result.flows,
      errors: result.errors,
      callLatencyMs: summarize([...calls].sort((a, b) => a - b)),
      cpuPerFlow: perFlow(cpuBefore, cpuAfter, result.flows),
      // PostgreSQL's WAL per flow: its work in a measure the machine's speed does not change.
      ...(shape.onPostgres ? { walPerFlow: walPer(walBefore, walAfter, result.flows) } : {}),
    };
  };
  await shape.mark?.('start');
  const lifecycleResult = await measured('lifecycle', lifecycle, onlyFlow === 'cancel');
  const cancelResult = await measured('cancelRefundFlow', cancelFlow, onlyFlow === 'lifecycle');
  c.close();
  return { lifecycle: lifecycleResult, cancelRefundFlow: cancelResult };
}

const out: Record<string, unknown> = { clients: CLIENTS, secondsEach: SECONDS, warmupSecondsEach: WARMUP_SECONDS, targets: { lifecyclePostgres: 250, lifecyclePglite: 120, cancelFlowPostgres: 160 } };
if (!skipPostgres && (await postgresReachable())) {
  const db = await createDatabase('lifecycle');
  const prof = profiling('pg');
  const server = await startServer({ nodeArgs: prof.nodeArgs, env: { DATABASE_URL: db.url, SETTLE_ADMIN_KEY: ADMIN, LOG_LEVEL: 'warn' }, logFile: path.join(os.tmpdir(), 'settle-bench-lifecycle-pg.log') });
  try {
    out.postgres = { transport: PG_TRANSPORT, ...(await measure(server.port, cpuOf(server.pid, db.name), { clients: CLIENTS, seconds: SECONDS, onPostgres: true })) };
  } finally {
    await server.stop();
    await dropDatabase(db.name);
  }
  if (cpuProf) out.postgresServerProfile = prof.summary();
}
type Tally = Record<string, { n: number; ms: number }>;

/** The SQL hook's key for round trips (bench/sql-hook.ts). */
const ROUND_TRIP = '(round trip)';

/** Statements and round trips per flow on PostgreSQL, one client, from the SQL hook's tally (bench/sql-hook.ts). */
async function statementsPerFlow() {
  const db = await createDatabase('lifecycle_sql');
  const tallyFile = path.join(os.tmpdir(), `settle-bench-sql-${process.pid}.json`);
  const server = await startServer({
    nodeArgs: ['--import', 'tsx', '--import', './bench/sql-hook.ts'],
    env: { DATABASE_URL: db.url, SETTLE_ADMIN_KEY: ADMIN, LOG_LEVEL: 'warn', SETTLE_SQL_TALLY_FILE: tallyFile },
    logFile: path.join(os.tmpdir(), 'settle-bench-lifecycle-sql.log'),
  });
  const snapshots: Record<string, Tally> = {};
  const read = (): Tally => {
    try {
      return JSON.parse(readFileSync(tallyFile, 'utf8')) as Tally;
    } catch {
      return {};
    }
  };
  try {
    const m = await measure(server.port, cpuOf(server.pid, db.name), {
      clients: 1,
      seconds: quick ? 2 : 4,
      mark: async (label) => {
        await new Promise((r) => setTimeout(r, 1_200)); // the hook writes its tally every second
        snapshots[label] = read();
      },
    });
    const between = (from: string, to: string, flows: number) => {
      const a = snapshots[from] ?? {};
      const b = snapshots[to] ?? {};
      const shapes = Object.entries(b)
        .map(([sqlText, v]) => ({ sql: sqlText, perFlow: +((v.n - (a[sqlText]?.n ?? 0)) / flows).toFixed(2) }))
        .filter((x) => x.perFlow > 0)
        .sort((x, y) => y.perFlow - x.perFlow);
      const trips = shapes.find((x) => x.sql === ROUND_TRIP);
      const statements = shapes.filter((x) => x !== trips);
      return {
        flows,
        statementsPerFlow: +statements.reduce((t, x) => t + x.perFlow, 0).toFixed(1),
        roundTripsPerFlow: trips ? +trips.perFlow.toFixed(1) : null,
        top: statements.slice(0, 12),
      };
    };
    return {
      lifecycle: between('start', 'lifecycle', m.lifecycle.flows),
      cancelRefundFlow: between('lifecycle', 'cancelRefundFlow', m.cancelRefundFlow.flows),
    };
  } finally {
    await server.stop();
    await dropDatabase(db.name);
    rmSync(tallyFile, { force: true });
  }
}
if (countSql && !skipPostgres && (await postgresReachable())) out.sqlOnPostgres = await statementsPerFlow();

if (!skipPglite) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'settle-bench-lifecycle-'));
  const prof = profiling('pglite');
  const server = await startServer({ nodeArgs: prof.nodeArgs, env: { SETTLE_DATA_DIR: dir, SETTLE_ADMIN_KEY: ADMIN, LOG_LEVEL: 'warn' }, logFile: path.join(os.tmpdir(), 'settle-bench-lifecycle-pglite.log') });
  try {
    out.pglite = await measure(server.port, cpuOf(server.pid, null));
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  if (cpuProf) out.pgliteServerProfile = prof.summary();
}
console.log(JSON.stringify({ bookingFlows: out }, null, 2));
