// Deadline sweep at scale (issue 3): 1,000,000 open booking orders waiting for the
// provider's confirmation, each with its `expire_confirmation` deadline, of which 100,000
// are overdue. Measures, on a scratch PostgreSQL database:
//   (a) the runner's claim (the next 1,000 due deadlines, src/scheduler/deadlines.ts
//       claimQuery) at 10,000 open orders and at 1,000,000 — median of several runs, each
//       rolled back, with EXPLAIN ANALYZE — and their ratio;
//   (b) the wall time for the runner(s) to fire all 100,000 overdue deadlines, then proves
//       each fired exactly once (one event per overdue order, nothing else moved, no
//       deadline left due, ledger check clean), with where the time went per firing.
// Prints JSON.
//
//   npx tsx bench/deadline-sweep.ts [--quick] [--concurrency N] [--runners N] [--processes N]
//                                   [--batch N] [--per-transaction N] [--single] [--open N]
//                                   [--overdue-every N] [--keep]
//   --quick          20,000 open / 2,000 overdue (well under a minute)
//   --concurrency N  firings in flight per runner (default: the runner's PostgreSQL default)
//   --runners N      runners in this process, sharing one pool (default 1)
//   --processes N    instead, N `settle worker` processes fire (real deployment shape)
//   --per-transaction N  deadlines fired per transaction (the runner's default: 25)
//   --single         fire each deadline in its own transaction (the path before batching)
//   --keep           keep the scratch database (prints its URL)
//   --prototype-set-based  fire with a bench-only set-based prototype (see below), to size
//                    what a batch path in the engine would give; not the engine
//
// The rows are written straight in SQL (generate_series), shaped like what the engine
// writes when a customer books (src/services/orders/create.ts → engine.ts): the order in
// 'confirmation' awaiting the provider, one open line, the 'order.create' event, and the
// deadline `expire_confirmation` at last_edit_at + 24 h (the service starts 5 days later,
// so neither the same-day window nor the start caps it). Bulk ids start with 0000BULK.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import os from 'node:os';
import { sql } from 'kysely';
import pg from 'pg';
import { openStore, type Store } from '../src/store/db.js';
import { migrate } from '../src/store/migrate.js';
import { createApp } from '../src/app/app.js';
import { claimDue, claimQuery, DeadlineRunner, type DueDeadline } from '../src/scheduler/deadlines.js';
import { checkLedger } from '../src/ledger/check.js';
import { DEFAULT_SETTINGS } from '../src/domain/settings.js';
import { bookingProcess } from '../src/domain/process/booking.js';
import { quoteCancellation } from '../src/domain/cancellation.js';
import { newId } from '../src/domain/ids.js';
import type { Settings } from '../src/domain/settings.js';
import { totalOf } from '../src/services/orders/money.js';
import { createDatabase, dropDatabase, PG_ADMIN_URL, postgresReachable, withDatabase } from './pg.js';
import { CpuTracker, cpuMs, isBackendOf, ROOT } from './server.js';
import { median, round } from './stats.js';

const argv = process.argv.slice(2);
const flag = (name: string) => argv.includes(`--${name}`);
const opt = (name: string): number | undefined => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? Number(argv[i + 1]) : undefined;
};
const quick = flag('quick');
const OPEN = opt('open') ?? (quick ? 20_000 : 1_000_000);
const OVERDUE_EVERY = opt('overdue-every') ?? 10; // every 10th order is overdue: 10 %
const SMALL = Math.min(OPEN, 10_000); // the claim is timed at 10,000 open, then at OPEN
const OVERDUE = Math.floor(OPEN / OVERDUE_EVERY);
const CLAIM_LIMIT = 1_000;
const CLAIM_RUNS = quick ? 7 : 11;
const CONCURRENCY = opt('concurrency');
const RUNNERS = opt('runners') ?? 1;
const PROCESSES = opt('processes') ?? 0;
const BATCH = opt('batch');
const PER_TRANSACTION = opt('per-transaction');
const SINGLE = flag('single');
const CHUNK = 100_000;
const HOUR = 3_600_000;
const T0 = new Date('2045-03-01T12:00:00.000Z'); // the clock during the sweep
const FIRE_TIME_LIMIT_MS = 15 * 60_000;

const load = () => os.loadavg().map((n) => round(n, 2));
const log = (msg: string) => process.stderr.write(`[deadline-sweep ${new Date().toISOString().slice(11, 19)} load ${load().join(' ')}] ${msg}\n`);

// ----- statement tally (pg.Client.query in this process) -------------------------------------

interface Tally {
  n: number;
  ms: number;
}
const tally = new Map<string, Tally>();
let tallying = false;
{
  const require = createRequire(`${ROOT}/package.json`);
  const proto = (require('pg') as typeof pg).Client.prototype as unknown as Record<string, unknown>;
  const original = proto.query as (...a: unknown[]) => unknown;
  proto.query = function (this: unknown, ...a: unknown[]) {
    const out = original.apply(this, a);
    if (!tallying || !out || typeof (out as Promise<unknown>).then !== 'function') return out;
    const first = a[0] as string | { text?: string } | undefined;
    const text = (typeof first === 'string' ? first : (first?.text ?? '?')).replace(/\s+/g, ' ').trim().slice(0, 110);
    const t0 = performance.now();
    const done = () => {
      const e = tally.get(text) ?? { n: 0, ms: 0 };
      e.n++;
      e.ms += performance.now() - t0;
      tally.set(text, e);
    };
    (out as Promise<unknown>).then(done, done);
    return out;
  };
}

// ----- bulk load -----------------------------------------------------------------------------

const CUSTOMER = 'cus_0000BULKDEADLINESWEEP01';
const PROVIDER = 'prv_0000BULKDEADLINESWEEP01';

function lit(c: pg.Client, v: string): string {
  return c.escapeLiteral(v);
}

/** Orders from..to (1-based): every OVERDUE_EVERY-th overdue (due in [T0−24h, T0)), the rest due in (T0, T0+23h]. */
function insertSql(c: pg.Client, from: number, to: number): string {
  const t0 = lit(c, T0.toISOString());
  const policies = lit(c, JSON.stringify(DEFAULT_SETTINGS));
  // Whole milliseconds (JS dates): the firing re-checks due_at to the millisecond.
  const g = `
    with g as (
      select i,
        'ord_0000BULK' || lpad(i::text, 18, '0') as id,
        case when i % ${OVERDUE_EVERY} = 0
          then ${t0}::timestamptz - interval '48 hours' + ((i::int8 * 7919) % 86400000) * interval '1 millisecond'
          else ${t0}::timestamptz - interval '24 hours' + interval '1 second' + ((i::int8 * 7919) % 82800000) * interval '1 millisecond'
        end as le
      from generate_series(${from}, ${to}) i)`;
  return `
begin;
set local session_replication_role = replica;
${g}
insert into orders (id, number, process, process_version, state, awaiting, customer_id, provider_id, site_id, currency,
  starts_at, ends_at, subtotal, service_fee, paid, refunded, service_fee_refunded, policies, comment, proposal, cancellation,
  claim, review, created_by, last_edit_by, created_at, last_edit_at, entered_state_at, closed_at, updated_at)
select id, 'SO-B' || lpad(i::text, 7, '0'), '${bookingProcess.name}', '${bookingProcess.version}', 'confirmation', 'provider',
  '${CUSTOMER}', '${PROVIDER}', null, 'USD', le + interval '5 days', le + interval '5 days 1 hour', 10000, 0, 0, 0, 0,
  ${policies}::jsonb, null, null, null, null, null, 'customer', null, le, le, le, null, le
from g;
${g}
insert into order_lines (id, order_id, position, description, service_id, slot_id, quantity, unit_amount, amount, status,
  starts_at, ends_at, participant_name, refunded, done_at, cancelled_at)
select 'li_0000BULK' || lpad(i::text, 18, '0'), id, 0, 'Portrait session', null, null, 1, 10000, 10000, 'open',
  le + interval '5 days', le + interval '5 days 1 hour', null, 0, null, null
from g;
${g}
insert into order_events (id, order_id, type, transition, actor, from_state, to_state, reason, payload, created_at)
select 'evt_0000BULK' || lpad(i::text, 18, '0'), id, 'order.create', 'create', 'customer:${CUSTOMER}', null, 'confirmation', null,
  '{"amounts":{"total":10000,"paid":0,"refunded":0},"refunds":[]}'::jsonb, le
from g;
${g}
insert into deadlines (order_id, transition, due_at, lease_until, lease_owner)
select id, 'expire_confirmation', le + interval '24 hours', null, null from g;
commit;`;
}

async function fill(url: string, from: number, to: number): Promise<number> {
  const t = performance.now();
  await withDatabase(url, async (c) => {
    for (let a = from; a <= to; a += CHUNK) {
      await c.query(insertSql(c, a, Math.min(to, a + CHUNK - 1)));
      if (to - from > CHUNK) log(`inserted orders up to ${Math.min(to, a + CHUNK - 1)}`);
    }
    // Autovacuum may be off (it is on the bench machine): set hint bits and statistics.
    await c.query('vacuum (analyze) orders, order_lines, order_events, deadlines');
    // The load and the vacuum leave ~1.5 GB of WAL and dirty pages behind at 1 M orders; a
    // checkpoint writing them out while the claim is timed measured the disk, not the
    // query (runs of the same claim spread 9–110 ms). Write them out before timing.
    await c.query('checkpoint');
  });
  return performance.now() - t;
}

// ----- (a) the claim ---------------------------------------------------------------------------

class Rollback extends Error {}

async function timeClaim(url: string, store: Store, open: number) {
  const q = claimQuery({ now: T0, realNow: new Date(), limit: CLAIM_LIMIT, owner: 'bench-claim' }).compile(store.db);
  // Through the store, as the runner sends it (a named prepared statement: after five runs
  // PostgreSQL may switch to a generic plan), each run rolled back so nothing stays leased.
  const prepared: number[] = [];
  let rows = 0;
  for (let i = 0; i < CLAIM_RUNS; i++) {
    await store
      .transaction(async (trx) => {
        const t = performance.now();
        const got = await claimDue(trx, { now: T0, realNow: new Date(), limit: CLAIM_LIMIT, owner: 'bench-claim' });
        prepared.push(performance.now() - t);
        rows = got.length;
        throw new Rollback();
      })
      .catch((err) => {
        if (!(err instanceof Rollback)) throw err;
      });
  }
  return withDatabase(url, async (c) => {
    // Unnamed statements (a custom plan each time).
    const custom: number[] = [];
    for (let i = 0; i < CLAIM_RUNS; i++) {
      await c.query('begin');
      const t = performance.now();
      await c.query(q.sql, q.parameters as unknown[]);
      custom.push(performance.now() - t);
      await c.query('rollback');
    }
    const explain = async (generic: boolean) => {
      await c.query('begin');
      try {
        if (!generic) return (await c.query<{ 'QUERY PLAN': string }>(`explain (analyze, buffers, costs off) ${q.sql}`, q.parameters as unknown[])).rows.map((r) => r['QUERY PLAN']);
        await c.query(`set local plan_cache_mode = force_generic_plan`);
        await c.query(`prepare bench_claim as ${q.sql}`);
        const args = (q.parameters as unknown[]).map((v) => c.escapeLiteral(String(v))).join(', ');
        const plan = await c.query<{ 'QUERY PLAN': string }>(`explain (analyze, buffers, costs off) execute bench_claim(${args})`);
        return plan.rows.map((r) => r['QUERY PLAN']);
      } finally {
        await c.query('rollback');
        await c.query('deallocate all');
      }
    };
    const counts = await c.query<{ open: number; due: number }>(
      `select count(*)::int as open, count(*) filter (where due_at <= $1)::int as due from deadlines`,
      [T0.toISOString()],
    );
    const stats = (xs: number[]) => ({ medianMs: round(median(xs), 3), minMs: round(Math.min(...xs), 3), maxMs: round(Math.max(...xs), 3) });
    return {
      openOrders: open,
      deadlines: counts.rows[0]!.open,
      dueDeadlines: counts.rows[0]!.due,
      claimed: rows,
      runs: CLAIM_RUNS,
      asTheRunnerSendsIt: stats(prepared),
      unnamedStatement: stats(custom),
      medianMs: round(median(prepared), 3),
      loadAvg: load(),
      explainAnalyze: await explain(false),
      explainAnalyzeGenericPlan: await explain(true),
    };
  });
}

// ----- (b) firing ----------------------------------------------------------------------------

interface FireResult {
  mode: string;
  fired: number;
  wallMs: number;
  perSecond: number;
  claims?: { n: number; medianMs: number; maxMs: number; rows: number };
  cpuMs: { node: number; postgres: number; perFiring: { node: number; postgres: number } };
  statements?: { perFiring: number; msPerFiring: number; top: { sql: string; perFiring: number; avgMs: number }[] };
  loadAvgBefore: number[];
  loadAvgAfter: number[];
}

async function fireInProcess(url: string, dbName: string): Promise<FireResult> {
  const concurrency = CONCURRENCY;
  const poolSize = RUNNERS * (concurrency ?? 4) + 2;
  const store = await openStore({ url, poolSize });
  const deadlineErrors: string[] = [];
  try {
    const app = await createApp(store, { mode: 'sandbox', onDeadlineError: (err, d) => deadlineErrors.push(`${d.orderId}: ${(err as Error).message}`) });
    const now = () => app.services.clock.now();
    const claims: { ms: number; rows: number }[] = [];
    const runners = Array.from({ length: RUNNERS }, (_, i) => {
      const r = new DeadlineRunner(store, (d: DueDeadline) => app.orders.fireDeadline(d), now, `bench-${i}-${randomUUID().slice(0, 8)}`, {
        ...(concurrency ? { concurrency } : {}),
        ...(BATCH ? { batchSize: BATCH } : {}),
        ...(SINGLE ? {} : { fireMany: (b: DueDeadline[]) => app.orders.fireDeadlines(b), ...(PER_TRANSACTION ? { perTransaction: PER_TRANSACTION } : {}) }),
      });
      const claim = r.claim.bind(r);
      r.claim = async (limit?: number) => {
        const t = performance.now();
        const got = await claim(limit);
        claims.push({ ms: performance.now() - t, rows: got.length });
        return got;
      };
      return r;
    });
    if (now().getTime() !== T0.getTime()) throw new Error(`clock at ${now().toISOString()}, expected ${T0.toISOString()}`);
    const loadAvgBefore = load();
    const backends = new CpuTracker(isBackendOf(dbName));
    const cpu0 = process.cpuUsage();
    tallying = true;
    const t = performance.now();
    const counts = await Promise.all(runners.map((r) => r.runDue()));
    const wallMs = performance.now() - t;
    tallying = false;
    const cpu = process.cpuUsage(cpu0);
    const pgMs = backends.stop();
    if (deadlineErrors.length) throw new Error(`deadlines failed: ${deadlineErrors.slice(0, 5).join('; ')}`);
    const fired = counts.reduce((a, b) => a + b, 0);
    const nodeMs = (cpu.user + cpu.system) / 1000;
    const claimMs = claims.filter((c) => c.rows > 0).map((c) => c.ms);
    const totalStatements = [...tally.values()].reduce((a, e) => a + e.n, 0);
    const totalStatementMs = [...tally.values()].reduce((a, e) => a + e.ms, 0);
    return {
      mode: `${RUNNERS} runner(s) in one process, concurrency ${runners[0]!.concurrency} each, batch ${runners[0]!.batchSize}`,
      fired,
      wallMs: Math.round(wallMs),
      perSecond: Math.round((fired / wallMs) * 1000),
      claims: { n: claims.length, medianMs: round(median(claimMs), 2), maxMs: round(Math.max(...claimMs), 2), rows: claims.reduce((a, c) => a + c.rows, 0) },
      cpuMs: { node: Math.round(nodeMs), postgres: Math.round(pgMs), perFiring: { node: round(nodeMs / fired, 3), postgres: round(pgMs / fired, 3) } },
      statements: {
        perFiring: round(totalStatements / fired, 2),
        msPerFiring: round(totalStatementMs / fired, 2),
        top: [...tally.entries()]
          .sort((a, b) => b[1].n - a[1].n)
          .slice(0, 16)
          .map(([k, e]) => ({ sql: k, perFiring: round(e.n / fired, 3), avgMs: round(e.ms / e.n, 3) })),
      },
      loadAvgBefore,
      loadAvgAfter: load(),
    };
  } finally {
    await store.close();
  }
}

/** `settle worker` processes on the database; the shared test clock is moved to T0 once all run. */
async function fireWithProcesses(url: string, dbName: string, store: Store): Promise<FireResult> {
  const children: ChildProcess[] = [];
  const kill = () => children.forEach((ch) => ch.kill('SIGKILL'));
  process.once('exit', kill);
  try {
    await sql`update sandbox_clock set frozen_at = ${new Date(T0.getTime() - 72 * HOUR).toISOString()}::timestamptz`.execute(store.db);
    const outputs: string[] = [];
    await Promise.all(
      Array.from({ length: PROCESSES }, async (_, i) => {
        const env: NodeJS.ProcessEnv = { ...process.env };
        for (const k of ['SETTLE_DATA_DIR', 'SETTLE_MODE', 'PORT']) delete env[k];
        Object.assign(env, {
          DATABASE_URL: url,
          SETTLE_DB_POOL: String((CONCURRENCY ?? 4) + 2),
          SETTLE_DEADLINE_INTERVAL_MS: '100',
          SETTLE_SEED_DEMO: '0',
          LOG_LEVEL: 'info',
          ...(CONCURRENCY ? { SETTLE_DEADLINE_CONCURRENCY: String(CONCURRENCY) } : {}),
        });
        const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'worker'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
        children.push(child);
        outputs[i] = '';
        child.stdout!.on('data', (d: Buffer) => (outputs[i] += d.toString()));
        child.stderr!.on('data', (d: Buffer) => (outputs[i] += d.toString()));
      }),
    );
    const startBy = Date.now() + 60_000;
    while (!outputs.every((o) => o.includes('settle worker running deadlines'))) {
      if (children.some((ch) => ch.exitCode !== null)) throw new Error(`a worker exited:\n${outputs.join('\n---\n')}`);
      if (Date.now() > startBy) throw new Error(`workers did not start:\n${outputs.join('\n---\n')}`);
      await new Promise((res) => setTimeout(res, 100));
    }
    await new Promise((res) => setTimeout(res, 500)); // their first (empty) sweep
    const pids = new Set(children.map((ch) => ch.pid!));
    const workersCpu0 = [...pids].reduce((a, p) => a + (cpuMs(p) ?? 0), 0);
    const loadAvgBefore = load();
    const backends = new CpuTracker(isBackendOf(dbName));
    const t = performance.now();
    await sql`update sandbox_clock set frozen_at = ${T0.toISOString()}::timestamptz`.execute(store.db);
    for (;;) {
      await new Promise((res) => setTimeout(res, 100));
      const r = await sql<{ n: number }>`select count(*)::int as n from deadlines where due_at <= ${T0.toISOString()}::timestamptz`.execute(store.db);
      if (r.rows[0]!.n === 0) break;
      if (performance.now() - t > FIRE_TIME_LIMIT_MS) throw new Error(`${r.rows[0]!.n} still due after ${FIRE_TIME_LIMIT_MS} ms`);
      if (children.some((ch) => ch.exitCode !== null)) throw new Error(`a worker exited:\n${outputs.join('\n---\n')}`);
    }
    const wallMs = performance.now() - t;
    const pgMs = backends.stop();
    const nodeMs = [...pids].reduce((a, p) => a + (cpuMs(p) ?? 0), 0) - workersCpu0;
    const fired = OVERDUE;
    return {
      mode: `${PROCESSES} settle worker process(es), concurrency ${CONCURRENCY ?? 'default'}, 100 ms sweep interval (wall time includes up to one interval)`,
      fired,
      wallMs: Math.round(wallMs),
      perSecond: Math.round((fired / wallMs) * 1000),
      cpuMs: { node: Math.round(nodeMs), postgres: Math.round(pgMs), perFiring: { node: round(nodeMs / fired, 3), postgres: round(pgMs / fired, 3) } },
      loadAvgBefore,
      loadAvgAfter: load(),
    };
  } finally {
    await Promise.all(
      children.map(
        (ch) =>
          new Promise<void>((res) => {
            if (ch.exitCode !== null || ch.signalCode !== null) return res();
            ch.once('exit', () => res());
            ch.kill('SIGTERM');
            setTimeout(() => ch.kill('SIGKILL'), 10_000).unref();
          }),
      ),
    );
    process.removeListener('exit', kill);
  }
}

// ----- prototype: set-based firing (bench only; what a batch path in the engine could do) ---
//
// NOT the engine. To size the suggestion in the report: the same outcome as the engine's
// expire_confirmation (EXPIRE actions: cancel the open lines, release seats, record the
// cancellation with its quote; the event; no next deadline) for a whole batch of orders in
// a constant number of statements (lock, re-check the deadlines, lines, three writes, the
// deadline delete), computing the per-order JSON with the same domain function. It only
// handles this case (no seats, nothing paid) and refuses anything else.

async function fireSetBased(store: Store, batch: DueDeadline[]): Promise<number> {
  return store.transaction(async (trx) => {
    const ids = batch.map((d) => d.orderId).sort();
    const orders = (
      await sql<{ id: string; state: string; paid: number; refunded: number; subtotal: number; service_fee: number; service_fee_refunded: number; starts_at: Date | null; policies: Settings; cancellation: { history?: unknown[] } | null }>`
        select id, state, paid, refunded, subtotal, service_fee, service_fee_refunded, starts_at, policies, cancellation
        from orders where id = any(${ids}::text[]) order by id for update`.execute(trx)
    ).rows;
    const current = new Map(
      (await sql<{ order_id: string; transition: string; due_at: Date }>`select order_id, transition, due_at from deadlines where order_id = any(${ids}::text[])`.execute(trx)).rows.map((r) => [r.order_id, r]),
    );
    const wanted = new Map(batch.map((d) => [d.orderId, d]));
    const live = orders.filter((o) => {
      const d = wanted.get(o.id)!;
      const c = current.get(o.id);
      return c && c.transition === d.transition && c.due_at.getTime() === d.dueAt.getTime();
    });
    if (live.length === 0) return 0;
    for (const o of live) {
      if (o.state !== 'confirmation' || wanted.get(o.id)!.transition !== 'expire_confirmation' || Number(o.paid) !== 0) throw new Error(`prototype handles only unpaid expire_confirmation (${o.id})`);
    }
    const liveIds = live.map((o) => o.id);
    const lines = (
      await sql<{ id: string; order_id: string; description: string; amount: number; refunded: number; status: string; starts_at: Date | null; slot_id: string | null }>`
        select id, order_id, description, amount, refunded, status, starts_at, slot_id from order_lines where order_id = any(${liveIds}::text[]) order by order_id, position`.execute(trx)
    ).rows;
    const byOrder = new Map<string, typeof lines>();
    for (const l of lines) {
      if (l.slot_id) throw new Error('prototype does not release seats');
      byOrder.set(l.order_id, [...(byOrder.get(l.order_id) ?? []), l]);
    }
    const lineIds: string[] = [];
    const lineAt: string[] = [];
    const orderAt: string[] = [];
    const cancellations: string[] = [];
    const eventIds: string[] = [];
    const payloads: string[] = [];
    for (const o of live) {
      const at = wanted.get(o.id)!.dueAt;
      const own = byOrder.get(o.id) ?? [];
      const toCancel = own.filter((l) => l.status === 'open');
      const quote = quoteCancellation({
        canceller: 'system',
        lines: own.map((l) => ({ id: l.id, description: l.description, amountMinor: Number(l.amount), refundedMinor: Number(l.refunded), status: l.status as 'open', startsAt: l.starts_at })),
        cancelIds: toCancel.map((l) => l.id),
        now: at,
        orderStartsAt: o.starts_at,
        paidMinor: Number(o.paid) - Number(o.refunded),
        serviceFeeMinor: Number(o.service_fee),
        serviceFeeRefundedMinor: Number(o.service_fee_refunded),
        policies: o.policies,
      });
      for (const l of toCancel) {
        lineIds.push(l.id);
        lineAt.push(at.toISOString());
      }
      const record = { by: 'system', at: at.toISOString(), reason: 'confirmation_expired', lineIds: toCancel.map((l) => l.id), wholeOrder: true, refunded: quote.total, quote };
      orderAt.push(at.toISOString());
      cancellations.push(JSON.stringify({ ...record, history: [...(o.cancellation?.history ?? []), record] }));
      eventIds.push(newId('event'));
      payloads.push(JSON.stringify({ cancellation: record, amounts: { total: totalOf(o), paid: Number(o.paid), refunded: Number(o.refunded) }, refunds: [] }));
    }
    await sql`update order_lines l set status = 'cancelled', cancelled_at = u.at
      from unnest(${lineIds}::text[], ${lineAt}::timestamptz[]) u(id, at) where l.id = u.id`.execute(trx);
    await sql`update orders o set state = 'cancelled', awaiting = null, entered_state_at = u.at, closed_at = u.at, updated_at = u.at, cancellation = u.c
      from unnest(${liveIds}::text[], ${orderAt}::timestamptz[], ${cancellations}::jsonb[]) u(id, at, c) where o.id = u.id`.execute(trx);
    await sql`insert into order_events (id, order_id, type, transition, actor, from_state, to_state, reason, payload, created_at)
      select e, id, 'order.expire_confirmation', 'expire_confirmation', 'system', 'confirmation', 'cancelled', 'confirmation_expired', p, at
      from unnest(${eventIds}::text[], ${liveIds}::text[], ${payloads}::jsonb[], ${orderAt}::timestamptz[]) u(e, id, p, at)`.execute(trx);
    await sql`delete from deadlines where order_id = any(${liveIds}::text[])`.execute(trx);
    return live.length;
  });
}

async function firePrototype(url: string, dbName: string): Promise<FireResult> {
  const lanes = CONCURRENCY ?? 2;
  const chunk = BATCH ?? 250;
  const store = await openStore({ url, poolSize: lanes + 2 });
  try {
    const runner = new DeadlineRunner(store, async () => null, () => T0, `bench-proto-${randomUUID().slice(0, 8)}`, { concurrency: 1, batchSize: chunk * lanes });
    const loadAvgBefore = load();
    const backends = new CpuTracker(isBackendOf(dbName));
    const cpu0 = process.cpuUsage();
    tallying = true;
    const t = performance.now();
    let fired = 0;
    for (;;) {
      const batch = await runner.claim();
      if (batch.length === 0) break;
      const parts = Array.from({ length: Math.ceil(batch.length / chunk) }, (_, i) => batch.slice(i * chunk, (i + 1) * chunk));
      fired += (await Promise.all(parts.map((p) => fireSetBased(store, p)))).reduce((a, b) => a + b, 0);
    }
    const wallMs = performance.now() - t;
    tallying = false;
    const cpu = process.cpuUsage(cpu0);
    const pgMs = backends.stop();
    const nodeMs = (cpu.user + cpu.system) / 1000;
    const totalStatements = [...tally.values()].reduce((a, e) => a + e.n, 0);
    return {
      mode: `PROTOTYPE set-based firing (bench only, not the engine): ${lanes} transactions of ${chunk} orders in flight`,
      fired,
      wallMs: Math.round(wallMs),
      perSecond: Math.round((fired / wallMs) * 1000),
      cpuMs: { node: Math.round(nodeMs), postgres: Math.round(pgMs), perFiring: { node: round(nodeMs / fired, 3), postgres: round(pgMs / fired, 3) } },
      statements: {
        perFiring: round(totalStatements / fired, 3),
        msPerFiring: round([...tally.values()].reduce((a, e) => a + e.ms, 0) / fired, 3),
        top: [...tally.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, 10).map(([k, e]) => ({ sql: k, perFiring: round(e.n / fired, 4), avgMs: round(e.ms / e.n, 3) })),
      },
      loadAvgBefore,
      loadAvgAfter: load(),
    };
  } finally {
    await store.close();
  }
}

// ----- proof ---------------------------------------------------------------------------------

async function prove(store: Store) {
  const t = performance.now();
  const db = store.db;
  const one = async <T>(q: ReturnType<typeof sql<T>>) => (await q.execute(db)).rows[0] as T;
  const t0 = T0.toISOString();
  const events = await one(sql<{ n: number; orders: number; twice: number }>`
    select count(*)::int as n, count(distinct order_id)::int as orders,
      (select count(*)::int from (select order_id from order_events where type = 'order.expire_confirmation' group by 1 having count(*) > 1) x) as twice
    from order_events where type = 'order.expire_confirmation'`);
  const wrong = await one(sql<{ not_due: number; wrong_time: number; wrong_state: number }>`
    select count(*) filter (where o.last_edit_at + interval '24 hours' > ${t0}::timestamptz)::int as not_due,
           count(*) filter (where e.created_at <> o.last_edit_at + interval '24 hours' or o.closed_at <> e.created_at)::int as wrong_time,
           count(*) filter (where o.state <> 'cancelled' or e.from_state <> 'confirmation' or e.to_state <> 'cancelled')::int as wrong_state
    from order_events e join orders o on o.id = e.order_id where e.type = 'order.expire_confirmation'`);
  const states = (await sql<{ state: string; n: number }>`select state, count(*)::int as n from orders group by 1 order by 1`.execute(db)).rows;
  const other = (await sql<{ type: string; n: number }>`select type, count(*)::int as n from order_events where type not in ('order.create', 'order.expire_confirmation') group by 1`.execute(db)).rows;
  const left = await one(sql<{ n: number; due: number; min_due: Date | null }>`
    select count(*)::int as n, count(*) filter (where due_at <= ${t0}::timestamptz)::int as due, min(due_at) as min_due from deadlines`);
  const lines = await one(sql<{ open_on_cancelled: number; cancelled_on_open: number }>`
    select count(*) filter (where o.state = 'cancelled' and l.status <> 'cancelled')::int as open_on_cancelled,
           count(*) filter (where o.state <> 'cancelled' and l.status <> 'open')::int as cancelled_on_open
    from order_lines l join orders o on o.id = l.order_id`);
  const ledger = await checkLedger(db);
  const expected = {
    events: OVERDUE,
    cancelled: OVERDUE,
    confirmation: OPEN - OVERDUE,
    deadlinesLeft: OPEN - OVERDUE,
  };
  const got = {
    events: events.n,
    cancelled: states.find((s) => s.state === 'cancelled')?.n ?? 0,
    confirmation: states.find((s) => s.state === 'confirmation')?.n ?? 0,
    deadlinesLeft: left.n,
  };
  const ok =
    JSON.stringify(expected) === JSON.stringify(got) &&
    events.orders === OVERDUE &&
    events.twice === 0 &&
    wrong.not_due === 0 &&
    wrong.wrong_time === 0 &&
    wrong.wrong_state === 0 &&
    other.length === 0 &&
    left.due === 0 &&
    lines.open_on_cancelled === 0 &&
    lines.cancelled_on_open === 0 &&
    ledger.ok;
  return {
    ok,
    expected,
    got,
    ordersWithTwoEvents: events.twice,
    eventsForOrdersNotDue: wrong.not_due,
    eventsAtWrongTime: wrong.wrong_time,
    eventsWithWrongStates: wrong.wrong_state,
    otherEvents: other,
    deadlinesStillDue: left.due,
    earliestDeadlineLeft: left.min_due,
    lines,
    ledgerCheck: { ok: ledger.ok, problems: ledger.problems.slice(0, 5) },
    ms: Math.round(performance.now() - t),
  };
}

// ----- main ----------------------------------------------------------------------------------

async function main(): Promise<void> {
  const version = await postgresReachable();
  if (!version) throw new Error(`PostgreSQL is not reachable at ${PG_ADMIN_URL} (SETTLE_BENCH_POSTGRES_URL)`);
  const started = new Date();
  const db = await createDatabase('deadlines');
  log(`scratch database ${db.name}`);
  let store: Store | null = null;
  try {
    store = await openStore({ url: db.url, poolSize: 4 });
    await migrate(store);
    await sql`insert into customers (id, email, name, created_at) values (${CUSTOMER}, 'sweep-customer@example.com', 'Sweep customer', ${T0.toISOString()}::timestamptz - interval '10 days')`.execute(store.db);
    await sql`insert into providers (id, email, name, created_at) values (${PROVIDER}, 'sweep-provider@example.com', 'Sweep provider', ${T0.toISOString()}::timestamptz - interval '10 days')`.execute(store.db);
    await sql`insert into sandbox_clock (id, frozen_at) values (1, ${T0.toISOString()}::timestamptz)`.execute(store.db);

    const fillSmallMs = await fill(db.url, 1, SMALL);
    log(`${SMALL} open orders in ${Math.round(fillSmallMs)} ms; timing the claim`);
    const small = await timeClaim(db.url, store, SMALL);
    const fillRestMs = OPEN > SMALL ? await fill(db.url, SMALL + 1, OPEN) : 0;
    log(`${OPEN} open orders (${Math.round(fillRestMs)} ms more); timing the claim`);
    const large = await timeClaim(db.url, store, OPEN);
    const sizes = (
      await sql<{ rel: string; size: string }>`
        select relname as rel, pg_size_pretty(pg_total_relation_size(oid)) as size from pg_class
        where relname in ('orders', 'order_lines', 'order_events', 'deadlines') order by relname`.execute(store.db)
    ).rows;

    log(`firing ${OVERDUE} overdue deadlines`);
    const fire = flag('prototype-set-based')
      ? await firePrototype(db.url, db.name)
      : PROCESSES > 0
        ? await fireWithProcesses(db.url, db.name, store)
        : await fireInProcess(db.url, db.name);
    log(`fired ${fire.fired} in ${fire.wallMs} ms; proving`);
    const proof = await prove(store);
    const out = {
      bench: 'deadline-sweep',
      startedAt: started.toISOString(),
      finishedAt: new Date().toISOString(),
      quick,
      machine: { cpus: os.cpus().length, uptimeLoadAvg: load(), postgres: version.split(',')[0] },
      setup: {
        openOrders: OPEN,
        overdue: OVERDUE,
        insertMs: { small: Math.round(fillSmallMs), rest: Math.round(fillRestMs) },
        ordersPerSecondInserted: Math.round((OPEN / (fillSmallMs + fillRestMs)) * 1000),
        tableSizes: Object.fromEntries(sizes.map((s) => [s.rel, s.size])),
      },
      claim: {
        limit: CLAIM_LIMIT,
        small,
        large,
        ratio: round(large.medianMs / small.medianMs, 2),
        goal: 'ratio ≤ 2',
      },
      fire: { ...fire, goal: `${OVERDUE} within 60 s` },
      proof,
      database: flag('keep') ? db.url : undefined,
    };
    console.log(JSON.stringify(out, null, 2));
    if (!proof.ok) process.exitCode = 1;
  } finally {
    await store?.close();
    if (!flag('keep')) await dropDatabase(db.name);
  }
}

await main();
