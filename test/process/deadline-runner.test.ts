// The deadline runner on its own, with a stand-in firing that behaves like the order
// service's (lock the order, re-check the deadline, write the order's next one), so the
// runner's rules are checked directly: on PostgreSQL several lanes fire different orders
// at once, yet one order's deadlines never overlap and fire in due order, each exactly
// once, also when two runners compete and when firings leave further due deadlines; on
// PGlite it fires one at a time, earliest first.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { openStore, type Store } from '../../src/store/db.js';
import { migrate } from '../../src/store/migrate.js';
import { DeadlineRunner, setDeadline, type DueDeadline } from '../../src/scheduler/deadlines.js';
import { DEFAULT_SETTINGS } from '../../src/domain/settings.js';
import { createTestDatabase, TEST_DB, type TestDatabase } from '../helpers/db.js';

const ORDERS = 160;
const STEPS = 3; // each order has a chain of 3 deadlines, one second apart, all due
const T0 = Date.parse('2040-01-01T00:00:00.000Z');
const NOW = new Date(T0 + 3_600_000);

let database: TestDatabase;
let store: Store;

beforeAll(async () => {
  database = await createTestDatabase();
  store = await openStore({ url: database.url, poolSize: 12 });
  await migrate(store);
  const at = new Date(T0 - 86_400_000).toISOString();
  await sql`insert into customers (id, email, name, created_at) values ('cus_runner', 'runner-c@example.com', 'C', ${at})`.execute(store.db);
  await sql`insert into providers (id, email, name, created_at) values ('prv_runner', 'runner-p@example.com', 'P', ${at})`.execute(store.db);
  await sql`
    insert into orders (id, number, process, process_version, state, awaiting, customer_id, provider_id, currency,
      subtotal, service_fee, policies, created_by, created_at, last_edit_at, entered_state_at, updated_at)
    select 'ord_runner' || lpad(i::text, 5, '0'), 'SO-R' || i, 'booking', '1.0.0', 'confirmation', 'provider', 'cus_runner', 'prv_runner', 'USD',
      100, 0, ${JSON.stringify(DEFAULT_SETTINGS)}::jsonb, 'customer', ${at}, ${at}, ${at}, ${at}
    from generate_series(1, ${ORDERS}) i`.execute(store.db);
}, 60_000);

afterAll(async () => {
  await store?.close();
  await database?.drop();
});

interface Firing {
  orderId: string;
  step: number;
  dueAt: number;
  owner: string;
}

/** A firing like OrderService.fireDeadline: under the order's lock, only if the deadline is still the current one. */
function firing(owner: string, log: Firing[], inFlight: Set<string>, peak: { n: number }, overlaps: string[]) {
  return async (d: DueDeadline): Promise<DueDeadline | null> => {
    return store.transaction(async (trx) => {
      await trx.selectFrom('orders').select('id').where('id', '=', d.orderId).forUpdate().execute();
      const current = await trx.selectFrom('deadlines').selectAll().where('order_id', '=', d.orderId).executeTakeFirst();
      if (!current || current.transition !== d.transition || current.due_at.getTime() !== d.dueAt.getTime()) return null;
      if (inFlight.has(d.orderId)) overlaps.push(d.orderId);
      inFlight.add(d.orderId);
      peak.n = Math.max(peak.n, inFlight.size);
      try {
        await new Promise((r) => setTimeout(r, 2)); // some work, so lanes overlap
        const step = Number(d.transition.slice('step'.length));
        log.push({ orderId: d.orderId, step, dueAt: d.dueAt.getTime(), owner });
        const next = step < STEPS ? { transition: `step${step + 1}`, at: new Date(d.dueAt.getTime() + 1_000) } : null;
        await setDeadline(trx, d.orderId, next);
        return next ? { orderId: d.orderId, transition: next.transition, dueAt: next.at } : null;
      } finally {
        inFlight.delete(d.orderId);
      }
    });
  };
}

describe(`DeadlineRunner on ${TEST_DB}`, () => {
  it('fires every deadline of every order exactly once, one order in due order, different orders in parallel', async () => {
    // Due times interleave across orders: order i's chain starts at T0 + i * 10 ms.
    await sql`
      insert into deadlines (order_id, transition, due_at)
      select id, 'step1', ${new Date(T0).toISOString()}::timestamptz + (row_number() over (order by id)) * interval '10 milliseconds'
      from orders`.execute(store.db);
    const log: Firing[] = [];
    const inFlight = new Set<string>();
    const peak = { n: 0 };
    const overlaps: string[] = [];
    // Two runners compete on PostgreSQL; PGlite is one connection, so one runner there.
    const runners = (TEST_DB === 'postgres' ? ['a', 'b'] : ['a']).map(
      (owner) => new DeadlineRunner(store, firing(owner, log, inFlight, peak, overlaps), () => NOW, `test-${owner}`, { concurrency: 4, batchSize: 40 }),
    );
    if (TEST_DB === 'pglite') expect(runners[0]!.concurrency).toBe(1);
    else expect(runners[0]!.concurrency).toBe(4);
    const counts = await Promise.all(runners.map((r) => r.runDue()));
    expect(counts.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(ORDERS * STEPS);

    expect(overlaps, 'an order fired twice at once').toEqual([]);
    expect(log).toHaveLength(ORDERS * STEPS);
    const byOrder = new Map<string, Firing[]>();
    for (const f of log) byOrder.set(f.orderId, [...(byOrder.get(f.orderId) ?? []), f]);
    expect(byOrder.size).toBe(ORDERS);
    for (const [id, fs] of byOrder) expect(fs.map((f) => f.step), id).toEqual([1, 2, 3]);
    const left = await store.db.selectFrom('deadlines').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    expect(Number(left.n)).toBe(0);
    if (TEST_DB === 'postgres') {
      expect(peak.n, 'different orders fired in parallel').toBeGreaterThan(1);
      expect(new Set(log.map((f) => f.owner)).size, 'both runners took a share').toBe(2);
    } else {
      // One at a time, earliest first: follow-ups join the queue in their turn, so the
      // firings are in due order across orders too.
      expect(peak.n).toBe(1);
      const dues = log.map((f) => f.dueAt);
      expect(dues.filter((d, i) => i > 0 && d < dues[i - 1]!)).toEqual([]);
    }
  });

  it('a firing that throws stops the sweep with that error; the rest of the batch fires after its lease', async () => {
    await sql`
      insert into deadlines (order_id, transition, due_at)
      select id, 'step3', ${new Date(T0).toISOString()}::timestamptz + (row_number() over (order by id)) * interval '1 second'
      from (select id from orders order by id limit 10) o`.execute(store.db);
    let calls = 0;
    const failing = new DeadlineRunner(
      store,
      async () => {
        calls++;
        throw new Error('boom');
      },
      () => NOW,
      'test-failing',
      { concurrency: 3, batchSize: 10 },
    );
    await expect(failing.runDue()).rejects.toThrow('boom');
    expect(calls).toBeLessThanOrEqual(3);
    // Leased by the failed runner: another runner skips them until the lease runs out.
    const log: Firing[] = [];
    const other = new DeadlineRunner(store, firing('c', log, new Set(), { n: 0 }, []), () => NOW, 'test-c', { concurrency: 3, batchSize: 10 });
    expect(await other.runDue()).toBe(0);
    await sql`update deadlines set lease_until = now() - interval '1 second'`.execute(store.db);
    expect(await other.runDue()).toBe(10);
    expect(log).toHaveLength(10);
  });

  it('stop() lets the batch in hand finish and claims no further batch', async () => {
    await sql`
      insert into deadlines (order_id, transition, due_at)
      select id, 'step3', ${new Date(T0).toISOString()}::timestamptz + (row_number() over (order by id)) * interval '1 second'
      from orders`.execute(store.db);
    const log: Firing[] = [];
    const runner = new DeadlineRunner(store, firing('d', log, new Set(), { n: 0 }, []), () => NOW, 'test-d', { concurrency: 2, batchSize: 20 });
    const sweep = runner.runDue();
    await new Promise((r) => setTimeout(r, 5));
    await runner.stop();
    const fired = await sweep;
    expect(fired % 20).toBe(0); // whole batches only
    expect(fired).toBeLessThan(ORDERS);
    const leased = await sql<{ n: number }>`select count(*)::int as n from deadlines where lease_owner = 'test-d'`.execute(store.db);
    expect(leased.rows[0]!.n, 'no claimed deadline left unfired').toBe(0);
    // After stop() the runner sweeps again when asked.
    expect(fired + (await runner.runDue())).toBe(ORDERS);
  });

  it('by default leaves two of the store\'s connections free for requests (PGlite: one lane)', () => {
    const lanes = (connections: number) => new DeadlineRunner({ ...store, connections }, async () => null, () => NOW, 'test-lanes').concurrency;
    const saved = process.env.SETTLE_DEADLINE_CONCURRENCY;
    delete process.env.SETTLE_DEADLINE_CONCURRENCY;
    try {
      if (TEST_DB === 'postgres') expect([lanes(1), lanes(3), lanes(4), lanes(6), lanes(20)]).toEqual([1, 1, 2, 4, 4]);
      else expect([lanes(1), lanes(20)]).toEqual([1, 1]);
    } finally {
      if (saved !== undefined) process.env.SETTLE_DEADLINE_CONCURRENCY = saved;
    }
  });
});
