// A transition locks its order and reads it with its lines, payments and deadline in one
// statement (src/services/orders/records.ts). When the lock had to wait for another
// transaction that changed the order, that statement's subqueries still see the older
// snapshot; the loader must notice (the order row's version) and read again. Here a
// transaction changes a line and the order while holding the lock, three loaders wait
// for it, and each must come back with the change. PostgreSQL only: PGlite runs one
// transaction at a time, so nothing can wait there.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { loadOrder, loadOrderForView, loadOrders } from '../../src/services/orders/records.js';
import { startHarness, type Harness } from '../helpers/harness.js';
import { TEST_DB } from '../helpers/db.js';
import { DAY, HOUR, freezeClock, isoIn } from '../helpers/booking.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ poolSize: 8 });
  await freezeClock(h, '2032-02-02T10:00:00.000Z');
});
afterAll(() => h?.close());

describe.skipIf(TEST_DB === 'pglite')('reading an order under its lock', () => {
  it('a reader that waited for the lock sees what the holder changed (lines and order), alone or in a batch', async () => {
    const customer = await h.customer();
    const provider = await h.provider();
    const start = new Date('2032-02-02T10:00:00.000Z');
    const lines = [0, 1].map((i) => ({ description: `Session ${i + 1}`, quantity: 1, unitAmount: 4_000, startsAt: isoIn(start, 3 * DAY + i * DAY), endsAt: isoIn(start, 3 * DAY + i * DAY + HOUR) }));
    const created = await h.post('/v1/orders', { process: 'booking', customerId: customer.id, providerId: provider.id, currency: 'USD', lines }, { key: customer.key });
    expect(created.status).toBe(200);
    const id: string = created.body.id;
    const store = h.app.services.store;

    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let holding!: () => void;
    const held = new Promise<void>((r) => (holding = r));
    const holder = store.transaction(async (trx) => {
      await sql`select id from orders where id = ${id} for update`.execute(trx);
      await sql`update order_lines set description = 'Changed while you waited' where order_id = ${id} and position = 0`.execute(trx);
      await sql`update orders set comment = 'changed' where id = ${id}`.execute(trx);
      holding();
      await gate;
    });
    await held;
    const single = store.transaction((trx) => loadOrder(trx, id, { lock: true }));
    const forView = store.transaction((trx) => loadOrderForView(trx, id, { lock: true, events: true }));
    const batch = store.transaction((trx) => loadOrders(trx, [id]));
    // Let all three reach the lock and wait on it.
    await new Promise((r) => setTimeout(r, 300));
    const waiting = await sql<{ n: number }>`select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`.execute(store.db);
    expect(waiting.rows[0]!.n).toBe(3);
    release();
    await holder;
    for (const rec of [await single, await forView, (await batch).get(id)!]) {
      expect(rec.order.comment).toBe('changed');
      expect(rec.lines.map((l) => l.description)).toEqual(['Changed while you waited', 'Session 2']);
    }
  });
});
