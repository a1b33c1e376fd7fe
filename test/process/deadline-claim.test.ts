// The runner's claim (src/scheduler/deadlines.ts claimQuery) on a table of a few thousand
// deadlines: it leases exactly the earliest due ones nobody holds, skips rows another
// transaction has locked, and reaches its rows through the `deadlines_due` index and the
// locked rows' addresses (a TID scan) — never a scan of the whole table, also under a
// generic plan, which is what PostgreSQL connections run (src/store/postgres.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { openStore, type Store, type Trx } from '../../src/store/db.js';
import { migrate } from '../../src/store/migrate.js';
import { claimDue, claimQuery } from '../../src/scheduler/deadlines.js';
import { DEFAULT_SETTINGS } from '../../src/domain/settings.js';
import { createTestDatabase, TEST_DB, type TestDatabase } from '../helpers/db.js';

const ORDERS = 3_000;
const T0 = Date.parse('2040-01-01T00:00:00.000Z');
const SECOND = 1_000;
// Deadline i is due at T0 + i s; every third order's lease is still running at REAL_NOW.
const NOW = new Date(T0 + 1_000 * SECOND);
const REAL_NOW = new Date(T0);
const idOf = (i: number) => `ord_claim${String(i).padStart(5, '0')}`;

let database: TestDatabase;
let store: Store;

beforeAll(async () => {
  database = await createTestDatabase();
  store = await openStore({ url: database.url, poolSize: 4 });
  await migrate(store);
  const at = new Date(T0 - 86_400_000).toISOString();
  await sql`insert into customers (id, email, name, created_at) values ('cus_claim', 'claim-c@example.com', 'C', ${at})`.execute(store.db);
  await sql`insert into providers (id, email, name, created_at) values ('prv_claim', 'claim-p@example.com', 'P', ${at})`.execute(store.db);
  await sql`
    insert into orders (id, number, process, process_version, state, awaiting, customer_id, provider_id, currency,
      subtotal, service_fee, policies, created_by, created_at, last_edit_at, entered_state_at, updated_at)
    select 'ord_claim' || lpad(i::text, 5, '0'), 'SO-C' || i, 'booking', '1.2.0', 'confirmation', 'provider', 'cus_claim', 'prv_claim', 'USD',
      100, 0, ${JSON.stringify(DEFAULT_SETTINGS)}::jsonb, 'customer', ${at}, ${at}, ${at}, ${at}
    from generate_series(1, ${ORDERS}) i`.execute(store.db);
  // Inserted in reverse due order, so the earliest due are not the table's first rows.
  await sql`
    insert into deadlines (order_id, transition, due_at, lease_until, lease_owner)
    select 'ord_claim' || lpad(i::text, 5, '0'), 'expire_confirmation',
      ${new Date(T0).toISOString()}::timestamptz + make_interval(secs => i),
      case when i % 3 = 0 then ${new Date(T0 + 60 * SECOND).toISOString()}::timestamptz end,
      case when i % 3 = 0 then 'another-process' end
    from generate_series(${ORDERS}, 1, -1) i`.execute(store.db);
  await sql`analyze deadlines`.execute(store.db);
}, 60_000);

afterAll(async () => {
  await store?.close();
  await database?.drop();
});

/** Runs `work` in a transaction that is rolled back, returning what it returned. */
async function rolledBack<T>(work: (trx: Trx) => Promise<T>): Promise<T> {
  let out: T | undefined;
  await store
    .transaction(async (trx) => {
      out = await work(trx);
      throw new Error('rollback');
    })
    .catch((e: Error) => {
      if (e.message !== 'rollback') throw e;
    });
  return out as T;
}

describe('claiming due deadlines', () => {
  it('leases the earliest due deadlines nobody holds, and only those', async () => {
    const claimed = await rolledBack(async (trx) => {
      const due = await claimDue(trx, { now: NOW, realNow: REAL_NOW, limit: 10, owner: 'me' });
      const leased = await sql<{ order_id: string }>`select order_id from deadlines where lease_owner = 'me' order by order_id`.execute(trx);
      return { due: due.map((d) => d.orderId), leased: leased.rows.map((r) => r.order_id) };
    });
    // 1, 2, 4, 5, 7, … : every third is held by another process's lease.
    const expected = [1, 2, 4, 5, 7, 8, 10, 11, 13, 14].map(idOf);
    expect(claimed.due).toEqual(expected);
    expect(claimed.leased).toEqual(expected);
  });

  it('takes nothing that is not yet due, and stops at what is', async () => {
    const due = await rolledBack((trx) => claimDue(trx, { now: new Date(T0 + 4 * SECOND), realNow: REAL_NOW, limit: 1_000, owner: 'me' }));
    expect(due.map((d) => d.orderId)).toEqual([1, 2, 4].map(idOf));
  });

  it.skipIf(TEST_DB === 'pglite')('skips rows another transaction holds, without waiting', async () => {
    let release!: () => void;
    let locked!: () => void;
    const holding = new Promise<void>((resolve) => (locked = resolve));
    const holder = store.transaction(async (trx) => {
      await sql`select 1 from deadlines where order_id in (${idOf(1)}, ${idOf(2)}) for update`.execute(trx);
      locked();
      await new Promise<void>((resolve) => (release = resolve));
    });
    await holding;
    try {
      const due = await rolledBack((trx) => claimDue(trx, { now: NOW, realNow: REAL_NOW, limit: 3, owner: 'me' }));
      expect(due.map((d) => d.orderId)).toEqual([4, 5, 7].map(idOf));
    } finally {
      release();
      await holder;
    }
  });

  it('never scans the whole deadlines table, also under a generic plan', async () => {
    const { scans, plan } = await rolledBack(async (trx) => {
      if (TEST_DB !== 'pglite') await sql`set local plan_cache_mode = force_generic_plan`.execute(trx);
      const counters = async () =>
        (await sql<{ seq_scan: number }>`select seq_scan::int from pg_stat_xact_user_tables where relname = 'deadlines'`.execute(trx)).rows[0]!.seq_scan;
      const q = claimQuery({ now: NOW, realNow: REAL_NOW, limit: 10, owner: 'me' }).compile(store.db);
      const explained = await trx.executeQuery({ ...q, sql: `explain (costs off) ${q.sql}` });
      const before = await counters();
      await claimDue(trx, { now: NOW, realNow: REAL_NOW, limit: 10, owner: 'me' });
      return {
        scans: (await counters()) - before,
        plan: (explained.rows as { 'QUERY PLAN': string }[]).map((r) => r['QUERY PLAN']).join('\n'),
      };
    });
    expect(scans, plan).toBe(0);
    expect(plan).toMatch(/Index Scan using deadlines_due/);
    expect(plan).toMatch(/Tid Scan on deadlines/);
    expect(plan).not.toMatch(/Seq Scan/);
  });
});
