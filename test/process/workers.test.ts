// Deadlines shared by many processes: 3 `settle worker` processes and 2 `settle serve`
// processes (which run deadlines too) on one PostgreSQL database, and 5,000 deadlines
// that all become due at once. Each must fire exactly once: one 'order.expire_confirmation'
// event per order, every order cancelled, no deadline row left, nothing recorded as failed.
//
// The orders are written straight into the database (valid booking orders in
// 'confirmation' whose expire_confirmation deadline is due 24 h after their last edit,
// as the process says), with the shared test clock frozen before them. Then one server
// moves the clock past them (POST /v1/test/clock); the other processes re-read the clock
// from the database at each sweep, so all five compete for the same rows.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql, type Insertable } from 'kysely';
import type { DeadlinesTable, OrderLinesTable, OrdersTable } from '../../src/store/schema.js';
import { openStore, type Store } from '../../src/store/db.js';
import { migrate } from '../../src/store/migrate.js';
import { newId } from '../../src/domain/ids.js';
import { DEFAULT_SETTINGS } from '../../src/domain/settings.js';
import { bookingProcess } from '../../src/domain/process/booking.js';
import { createTestDatabase, TEST_DB, type TestDatabase } from '../helpers/db.js';
import { Client, ROOT, startServerProcess, stopAllServers, type ServerProcess } from '../helpers/process.js';

// SETTLE_WORKERS_ORDERS overrides the count (e.g. a smaller run on a slow machine).
const ORDERS = Number(process.env.SETTLE_WORKERS_ORDERS ?? 5_000);
const WORKERS = 3;
const SERVERS = 2;
const HOUR = 3_600_000;
const T0 = Date.parse('2045-03-01T12:00:00.000Z');
const SWEEP_MS = '200';
const POOL = '5';
// The whole test (seed, start five processes, fire, count) is bounded: 90 s.
const TIME_LIMIT_MS = Number(process.env.SETTLE_WORKERS_TIME_LIMIT_MS ?? 90_000);

interface Worker {
  child: ChildProcess;
  exited: Promise<void>;
  output: () => string;
}

const workers: Worker[] = [];
process.once('exit', () => workers.forEach((w) => w.child.kill('SIGKILL')));

/** `settle worker` on the database; resolves once it says it is running deadlines. */
async function startWorker(databaseUrl: string): Promise<Worker> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of ['SETTLE_DATA_DIR', 'SETTLE_MODE', 'PORT']) delete env[k];
  Object.assign(env, { DATABASE_URL: databaseUrl, SETTLE_DB_POOL: POOL, SETTLE_DEADLINE_INTERVAL_MS: SWEEP_MS, SETTLE_SEED_DEMO: '0', LOG_LEVEL: 'info' });
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'worker'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const collect = (c: Buffer) => {
    out += c.toString('utf8');
    if (out.length > 64 * 1024) out = out.slice(-64 * 1024);
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const worker: Worker = { child, exited, output: () => out };
  workers.push(worker);
  const deadline = Date.now() + 30_000;
  while (!out.includes('settle worker running deadlines')) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`settle worker exited:\n${out}`);
    if (Date.now() > deadline) throw new Error(`settle worker did not start in time:\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return worker;
}

async function stopWorkers(): Promise<void> {
  await Promise.all(
    workers.map(async (w) => {
      if (w.child.exitCode !== null || w.child.signalCode !== null) return;
      w.child.kill('SIGTERM');
      const timer = setTimeout(() => w.child.kill('SIGKILL'), 5_000);
      await w.exited;
      clearTimeout(timer);
    }),
  );
}

/** 5,000 valid booking orders in 'confirmation', their deadlines due between T0+1h and T0+2h. */
async function seedOrders(store: Store): Promise<void> {
  const db = store.db;
  const customerId = newId('customer');
  const providerId = newId('provider');
  const at = new Date(T0 - 2 * 24 * HOUR);
  await db.insertInto('customers').values({ id: customerId, email: `w-${randomUUID()}@example.com`, name: 'Worker test customer', created_at: at }).execute();
  await db.insertInto('providers').values({ id: providerId, email: `w-${randomUUID()}@example.com`, name: 'Worker test provider', created_at: at }).execute();
  // Frozen shared clock: nothing is due yet.
  await db.insertInto('sandbox_clock').values({ id: 1, frozen_at: new Date(T0) }).execute();
  const policies = JSON.stringify(DEFAULT_SETTINGS);
  const BATCH = 500;
  for (let from = 0; from < ORDERS; from += BATCH) {
    const orders: Insertable<OrdersTable>[] = [];
    const lines: Insertable<OrderLinesTable>[] = [];
    const deadlines: Insertable<DeadlinesTable>[] = [];
    for (let i = from; i < Math.min(ORDERS, from + BATCH); i++) {
      const id = newId('order');
      const lastEdit = new Date(T0 - 23 * HOUR + (i % 3_600) * 1_000); // due 24 h later: T0+1h … T0+2h
      const startsAt = new Date(T0 + 5 * 24 * HOUR);
      const endsAt = new Date(startsAt.getTime() + HOUR);
      orders.push({
        id,
        number: `SO-W${String(i + 1).padStart(6, '0')}`,
        process: bookingProcess.name,
        process_version: bookingProcess.version,
        state: 'confirmation',
        awaiting: 'provider',
        customer_id: customerId,
        provider_id: providerId,
        site_id: null,
        currency: 'USD',
        starts_at: startsAt,
        ends_at: endsAt,
        subtotal: 10_000,
        service_fee: 0,
        policies,
        comment: null,
        proposal: null,
        cancellation: null,
        claim: null,
        review: null,
        created_by: 'customer',
        last_edit_by: null,
        created_at: lastEdit,
        last_edit_at: lastEdit,
        entered_state_at: lastEdit,
        closed_at: null,
        updated_at: lastEdit,
      });
      lines.push({
        id: newId('line'),
        order_id: id,
        position: 0,
        description: 'Portrait session',
        service_id: null,
        slot_id: null,
        quantity: 1,
        unit_amount: 10_000,
        amount: 10_000,
        status: 'open',
        starts_at: startsAt,
        ends_at: endsAt,
        participant_name: null,
        refunded: 0,
        done_at: null,
        cancelled_at: null,
      });
      deadlines.push({ order_id: id, transition: 'expire_confirmation', due_at: new Date(lastEdit.getTime() + 24 * HOUR), lease_until: null, lease_owner: null });
    }
    await store.transaction(async (trx) => {
      await trx.insertInto('orders').values(orders).execute();
      await trx.insertInto('order_lines').values(lines).execute();
      await trx.insertInto('deadlines').values(deadlines).execute();
    });
  }
}

describe.skipIf(TEST_DB !== 'postgres')(`${WORKERS} workers + ${SERVERS} servers on one PostgreSQL`, () => {
  const adminKey = `sk_test_admin_${randomUUID()}`;
  let database: TestDatabase;
  let store: Store;
  let servers: ServerProcess[] = [];
  let client: Client | undefined;

  beforeAll(async () => {
    database = await createTestDatabase('postgres');
    store = await openStore({ url: database.url, poolSize: 5 });
    await migrate(store);
  }, 60_000);

  afterAll(async () => {
    client?.close();
    await stopWorkers();
    await stopAllServers();
    await store?.close();
    await database?.drop();
  }, 60_000);

  it(`fires each of ${ORDERS} deadlines due at once exactly once`, async () => {
    const started = Date.now();
    await seedOrders(store);
    const seeded = Date.now();

    const env = { SETTLE_DB_POOL: POOL, SETTLE_DEADLINE_INTERVAL_MS: SWEEP_MS };
    const [srv, wrk] = await Promise.all([
      Promise.all(Array.from({ length: SERVERS }, () => startServerProcess({ databaseUrl: database.url, adminKey, env }))),
      Promise.all(Array.from({ length: WORKERS }, () => startWorker(database.url))),
    ]);
    servers = srv;
    expect(wrk).toHaveLength(WORKERS);
    const running = Date.now();
    const due = await store.db.selectFrom('deadlines').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    expect(Number(due.n)).toBe(ORDERS); // nothing fired before the clock moved

    // Move the shared clock past every deadline on one server; all five processes sweep.
    const budgetEnd = started + TIME_LIMIT_MS - 5_000; // leave time to count
    client = new Client(servers[0]!.url, adminKey, { timeoutMs: TIME_LIMIT_MS });
    const target = new Date(T0 + 3 * HOUR).toISOString();
    const owners = new Set<string>();
    const moved = client.post('/v1/test/clock', { to: target });
    let left = ORDERS;
    while (left > 0 && Date.now() < budgetEnd) {
      await new Promise((r) => setTimeout(r, 100));
      const rows = await sql<{ owner: string | null; n: number }>`
        select lease_owner as owner, count(*)::int as n from deadlines where due_at <= ${target}::timestamptz group by 1`.execute(store.db);
      left = rows.rows.reduce((s, r) => s + Number(r.n), 0);
      for (const r of rows.rows) if (r.owner) owners.add(r.owner);
      if (process.env.WORKERS_PROGRESS) console.log(`${Date.now() - running} ms: ${left} due, ${rows.rows.length - 1} leased group(s)`);
    }
    expect(left, `${left} of ${ORDERS} deadline(s) still due ${Date.now() - running} ms after the clock moved`).toBe(0);
    const fired = Date.now();
    // The server that moved the clock answers once every due deadline has fired (it fires
    // its share and waits for what the others hold).
    const clock = await moved;
    expect(clock.status, JSON.stringify(clock.body ?? clock.error)).toBe(200);
    expect(clock.body.now).toBe(target);

    // Count: one expire_confirmation event per order, every order cancelled, no deadline left.
    const events = await sql<{ events: number }>`
      select count(*)::int as events from order_events where type = 'order.expire_confirmation'`.execute(store.db);
    const perOrder = await sql<{ n: number; orders: number }>`
      select n::int, count(*)::int as orders from (
        select o.id, count(e.id) as n from orders o
        left join order_events e on e.order_id = o.id and e.type = 'order.expire_confirmation' group by o.id) x
      group by n order by n`.execute(store.db);
    expect(perOrder.rows, 'orders by number of expire_confirmation events').toEqual([{ n: 1, orders: ORDERS }]);
    expect(events.rows[0]?.events).toBe(ORDERS);
    const states = await sql<{ state: string; n: number }>`select state, count(*)::int as n from orders group by state`.execute(store.db);
    expect(states.rows).toEqual([{ state: 'cancelled', n: ORDERS }]);
    const leftRows = await store.db.selectFrom('deadlines').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    expect(Number(leftRows.n)).toBe(0);
    const other = await sql<{ type: string; n: number }>`
      select type, count(*)::int as n from order_events where type <> 'order.expire_confirmation' group by type`.execute(store.db);
    expect(other.rows, 'no other events (no order.deadline_failed)').toEqual([]);
    // Each firing happened at its due time, and the seats/lines followed.
    const late = await sql<{ n: number }>`
      select count(*)::int as n from order_events e join orders o on o.id = e.order_id
      where e.type = 'order.expire_confirmation' and (e.created_at <> o.closed_at or e.created_at <> o.last_edit_at + interval '24 hours')`.execute(store.db);
    expect(late.rows[0]!.n).toBe(0);
    const openLines = await sql<{ n: number }>`select count(*)::int as n from order_lines where status <> 'cancelled'`.execute(store.db);
    expect(openLines.rows[0]!.n).toBe(0);

    // Both servers tell the same story, and the ledger is clean.
    const sample = await store.db.selectFrom('orders').select('id').orderBy('id').limit(1).executeTakeFirstOrThrow();
    const seen = await Promise.all(
      servers.map(async (s) => {
        const c = new Client(s.url, adminKey);
        try {
          const r = await c.get(`/v1/orders/${sample.id}`);
          return [r.status, r.body.state, r.body.cancellation?.reason, r.body.deadline];
        } finally {
          c.close();
        }
      }),
    );
    for (const s of seen) expect(s).toEqual([200, 'cancelled', 'confirmation_expired', null]);
    const check = await client.get('/v1/ledger/check');
    expect(check.body.ok, JSON.stringify(check.body.problems)).toBe(true);
    for (const [i, w] of workers.entries()) expect(w.child.exitCode, `worker ${i} exited:\n${w.output()}`).toBeNull();

    console.log(
      `workers: seeded ${ORDERS} orders in ${seeded - started} ms, ${SERVERS} servers + ${WORKERS} workers up in ${running - seeded} ms, ` +
        `all fired in ${fired - running} ms (clock answered with ${clock.body.now}), ${owners.size} process(es) seen holding leases`,
    );
    expect(Date.now() - started).toBeLessThan(TIME_LIMIT_MS);
  }, TIME_LIMIT_MS);
});
