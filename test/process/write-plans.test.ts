// A transition's write (src/services/orders/writes.ts) must find its rows by primary key
// whatever plan the database keeps for it. On PostgreSQL every statement is prepared once
// per connection and, after a few runs, executes a generic plan that may have been chosen
// while the tables were small. With `id = x.id` joins against a JSON record set (which the
// planner guesses at 100 rows), that plan hash-joined a scan of the whole orders,
// order_lines and deadlines tables into every transition. Here the tables hold a few
// thousand orders, the generic plan is forced, and one transition's write must not scan
// any of the three tables (the database's own per-transaction scan counters).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { loadOrder } from '../../src/services/orders/records.js';
import { writeTransitions } from '../../src/services/orders/writes.js';
import { startHarness, type Harness } from '../helpers/harness.js';
import { DAY, HOUR, freezeClock, isoIn } from '../helpers/booking.js';
import { TEST_DB } from '../helpers/db.js';

const FILLER_ORDERS = 3_000;

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
  await freezeClock(h, '2032-03-01T10:00:00.000Z');
});
afterAll(() => h?.close());

describe('writing a transition', () => {
  it.skipIf(TEST_DB === 'pglite')('runs on PostgreSQL connections with generic plans and without JIT', async () => {
    // Generic plans of the range joins carry huge row estimates; with JIT on, a large
    // database compiled every transition's plan again (src/store/postgres.ts).
    const settings = await h.app.services.store.transaction(
      async (trx) => (await sql<{ jit: string; mode: string }>`select current_setting('jit') as jit, current_setting('plan_cache_mode') as mode, ${1}::int as n`.execute(trx)).rows[0],
    );
    expect(settings).toMatchObject({ jit: 'off', mode: 'force_generic_plan' });
  });

  it('touches orders, lines and deadlines by primary key only, even under a generic plan', async () => {
    const customer = await h.customer();
    const provider = await h.provider();
    const start = new Date('2032-03-01T10:00:00.000Z');
    const lines = [0, 1].map((i) => ({ description: `Session ${i + 1}`, quantity: 1, unitAmount: 4_000, startsAt: isoIn(start, 3 * DAY + i * DAY), endsAt: isoIn(start, 3 * DAY + i * DAY + HOUR) }));
    const created = await h.post('/v1/orders', { process: 'booking', customerId: customer.id, providerId: provider.id, currency: 'USD', lines }, { key: customer.key });
    expect(created.status).toBe(200);
    const id: string = created.body.id;
    const store = h.app.services.store;

    // Copies of the order (with lines and a deadline each) so a scan would cost something.
    await sql`
      with o as (
        insert into orders
        select 'ord_filler_' || g, 'FILL-' || g, process, process_version, state, awaiting, customer_id, provider_id,
          site_id, currency, starts_at, ends_at, subtotal, service_fee, paid, refunded, service_fee_refunded, policies,
          comment, proposal, cancellation, claim, review, created_by, last_edit_by, created_at, last_edit_at,
          entered_state_at, closed_at, updated_at
        from orders, generate_series(1, ${FILLER_ORDERS}::int) g where id = ${id}
        returning id),
      l as (
        insert into order_lines (id, order_id, position, description, service_id, slot_id, quantity, unit_amount, amount,
          status, starts_at, ends_at, participant_name, refunded, done_at, cancelled_at)
        select 'line_filler_' || substr(o.id, 12) || '_' || l.position, o.id, l.position, l.description, l.service_id,
          l.slot_id, l.quantity, l.unit_amount, l.amount, l.status, l.starts_at, l.ends_at, l.participant_name, l.refunded,
          l.done_at, l.cancelled_at
        from o, order_lines l where l.order_id = ${id})
      insert into deadlines (order_id, transition, due_at)
      select o.id, d.transition, d.due_at from o, deadlines d where d.order_id = ${id}`.execute(store.db);
    await sql`analyze orders, order_lines, deadlines`.execute(store.db);

    const scans = await store.transaction(async (trx) => {
      await sql`set local plan_cache_mode = force_generic_plan`.execute(trx);
      // This backend's counters not yet sent to the shared statistics: compare before/after.
      const counters = async () =>
        (
          await sql<{ relname: string; seq_scan: number; idx_scan: number }>`
            select relname, seq_scan::int, idx_scan::int from pg_stat_xact_user_tables
            where relname in ('orders', 'order_lines', 'deadlines') order by relname`.execute(trx)
        ).rows;
      const before = await counters();
      const rec = await loadOrder(trx, id, { lock: true });
      const now = new Date('2032-03-01T11:00:00.000Z');
      const event = { id: `evt_plan_${Date.now()}`, type: 'order.note', order_id: id, transition: null, actor: 'test', from_state: rec.order.state, to_state: rec.order.state, reason: null, payload: {}, created_at: now };
      // One write with a changed line and a new deadline, one that removes the deadline.
      await writeTransitions(trx, [{ order: { ...rec.order, updated_at: now }, event, deadline: { transition: 'expire', at: new Date(now.getTime() + DAY) }, lines: rec.lines.slice(0, 1), payouts: [] }]);
      await writeTransitions(trx, [{ order: { ...rec.order, updated_at: now }, event: { ...event, id: `${event.id}_2` }, deadline: null, lines: rec.lines, payouts: [] }]);
      const after = await counters();
      const rows = after.map((a, i) => ({ relname: a.relname, seqScans: a.seq_scan - before[i]!.seq_scan, indexScans: a.idx_scan - before[i]!.idx_scan }));
      throw Object.assign(new Error('rollback'), { rows });
    }).catch((e: { rows?: unknown }) => e.rows);

    expect(scans).toEqual([
      { relname: 'deadlines', seqScans: 0, indexScans: expect.any(Number) },
      { relname: 'order_lines', seqScans: 0, indexScans: expect.any(Number) },
      { relname: 'orders', seqScans: 0, indexScans: expect.any(Number) },
    ]);
    for (const s of scans as { indexScans: number }[]) expect(s.indexScans).toBeGreaterThan(0);
  });
});
