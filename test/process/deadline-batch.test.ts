// The batched firing path (a sweep fires up to `perTransaction` deadlines in one
// transaction, see src/services/orders/firing.ts) must leave exactly what firing them one
// by one leaves. Two databases get the same business, built the same way through the
// API: orders waiting for confirmation (one with seats in a slot), for payment, paid and
// ended, done and waiting for the customer's confirmation. The clock jumps 40 days without
// firing; one database then fires serially, one deadline per transaction (what the test
// clock does), the other with the runner's batches in lanes, so chains (auto-done →
// auto-close → payout) run across several claims and chunks. Every order, seat count,
// balance and event history must match, and both ledgers check clean.
//
// Then the failure path: a batch holding one order that cannot fire rolls back and fires
// one by one, so the others go through once and the bad one is recorded on its order.
// And money under contention: three runners sweep paid orders of two providers at once
// (on PostgreSQL in parallel lanes, their batches all posting to the same provider and
// platform accounts): every order is done, closed and paid out exactly once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { DeadlineRunner, type DueDeadline } from '../../src/scheduler/deadlines.js';
import { DeadlineFiring } from '../../src/services/orders/firing.js';
import type { Store } from '../../src/store/db.js';
import type { SandboxClock } from '../../src/scheduler/clock.js';
import { startHarness, type Harness } from '../helpers/harness.js';
import { DAY, HOUR, freezeClock, isoIn } from '../helpers/booking.js';
import { OrderNumbers } from '../../src/services/orders/order-numbers.js';
import { OrderCopies } from '../../src/services/orders/order-copies.js';

const T0 = new Date('2031-01-06T09:00:00.000Z');

interface Business {
  h: Harness;
  orderIds: string[];
  customerIds: string[];
  providerIds: string[];
  slotId: string;
}

async function ok(p: Promise<{ status: number; body: any }>, what: string) {
  const r = await p;
  expect(r.status, `${what}: ${JSON.stringify(r.body)}`).toBe(200);
  return r.body;
}

/** The same business on any harness: a fixed sequence of API calls, at fixed times. */
async function buildBusiness(h: Harness): Promise<Business> {
  await freezeClock(h, T0.toISOString());
  const providers = [await h.provider(), await h.provider()];
  const customers = [await h.customer({ credit: 500_000 }), await h.customer({ credit: 500_000 }), await h.customer({ credit: 500_000 })];
  const service = await ok(
    h.post('/v1/services', {
      name: 'Group class',
      providerId: providers[0]!.id,
      unitAmount: 2_500,
      currency: 'USD',
      slots: [{ startsAt: isoIn(T0, 6 * DAY), endsAt: isoIn(T0, 6 * DAY + HOUR), capacity: 5 }],
    }),
    'service',
  );
  const slotId: string = service.slots[0].id;
  const orderIds: string[] = [];
  const book = async (c: number, p: number, startsIn: number, unitAmount: number) => {
    const order = await ok(
      h.post(
        '/v1/orders',
        {
          process: 'booking',
          customerId: customers[c]!.id,
          providerId: providers[p]!.id,
          currency: 'USD',
          lines: [{ description: 'Session', quantity: 1, unitAmount, startsAt: isoIn(T0, startsIn), endsAt: isoIn(T0, startsIn + HOUR) }],
        },
        { key: customers[c]!.key },
      ),
      'book',
    );
    orderIds.push(order.id);
    return order.id as string;
  };
  const confirm = (id: string, p: number) => ok(h.post(`/v1/orders/${id}/confirm`, {}, { key: providers[p]!.key }), 'confirm');
  const pay = (id: string, c: number) => ok(h.post(`/v1/orders/${id}/pay`, { useAccountCredit: true }, { key: customers[c]!.key }), 'pay');

  // Waiting for the provider's confirmation (expire_confirmation), one of them with seats.
  for (let i = 0; i < 4; i++) await book(i % 3, i % 2, 4 * DAY + i * HOUR, 10_000 + i * 111);
  orderIds.push(
    (
      await ok(
        h.post('/v1/orders', { process: 'booking', customerId: customers[0]!.id, providerId: providers[0]!.id, currency: 'USD', lines: [{ slotId, quantity: 2, participantName: 'Ann' }] }, { key: customers[0]!.key }),
        'book seats',
      )
    ).id,
  );
  // Confirmed, never paid (expire_payment).
  for (let i = 0; i < 4; i++) await confirm(await book(i % 3, i % 2, 5 * DAY + i * HOUR, 7_000 + i * 37), i % 2);
  // Paid; the service starts in 3 days and ends an hour later (auto_done, auto_close, payout).
  for (let i = 0; i < 6; i++) {
    const id = await book(i % 3, i % 2, 3 * DAY + i * 60, 20_000 + i * 1_001);
    await confirm(id, i % 2);
    await pay(id, i % 3);
  }
  // Paid, then marked done after its start (waiting for the customer; auto_close later).
  const started: string[] = [];
  for (let i = 0; i < 3; i++) {
    const id = await book(i % 3, (i + 1) % 2, 2 * DAY + i * 60, 15_000 + i * 7);
    await confirm(id, (i + 1) % 2);
    await pay(id, i % 3);
    started.push(id);
  }
  await (h.app.sandboxClock as SandboxClock).setTo(new Date(T0.getTime() + (2 * DAY + 2 * HOUR) * 1000));
  // Now after their start (DAY and HOUR are seconds); mark them done.
  for (const [i, id] of started.entries()) await ok(h.post(`/v1/orders/${id}/mark-done`, {}, { key: providers[(i + 1) % 2]!.key }), 'mark done');
  return { h, orderIds, customerIds: customers.map((c) => c.id), providerIds: providers.map((p) => p.id), slotId };
}

/** `n` bookings of one new customer and provider, waiting for confirmation (expire_confirmation in 24 h). */
async function unconfirmedBookings(h: Harness, n: number): Promise<string[]> {
  const start = h.app.services.clock.now();
  const p = { customer: await h.customer(), provider: await h.provider() };
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const line = { description: 'S', quantity: 1, unitAmount: 1_000, startsAt: isoIn(start, 10 * DAY), endsAt: isoIn(start, 10 * DAY + HOUR) };
    const order = await ok(h.post('/v1/orders', { process: 'booking', customerId: p.customer.id, providerId: p.provider.id, currency: 'USD', lines: [line] }, { key: p.customer.key }), 'book');
    ids.push(order.id);
  }
  return ids;
}

/** The orders' pending deadlines, earliest first, as the runner would claim them. */
async function deadlinesOf(h: Harness, ids: string[]): Promise<DueDeadline[]> {
  const rows = await sql<{ order_id: string; transition: string; due_at: Date }>`
    select order_id, transition, due_at from deadlines where order_id = any(${ids}::text[]) order by due_at`.execute(h.app.services.store.db);
  return rows.rows.map((r) => ({ orderId: r.order_id, transition: r.transition, dueAt: r.due_at }));
}

/** What the deadlines left, keyed by position (ids differ between the two databases). */
async function outcome(b: Business) {
  const orders = [];
  for (const id of b.orderIds) {
    const o = (await b.h.get(`/v1/orders/${id}`)).body;
    orders.push({
      state: o.state,
      awaiting: o.awaiting,
      amounts: o.amounts,
      deadline: o.deadline,
      lines: o.lines.map((l: any) => ({ status: l.status, refunded: l.refunded })),
      events: o.events.map((e: any) => [e.type, e.from, e.to, e.createdAt, e.reason]),
    });
  }
  const customers = [];
  for (const id of b.customerIds) customers.push((await b.h.get(`/v1/customers/${id}`)).body.balances);
  const providers = [];
  for (const id of b.providerIds) providers.push((await b.h.get(`/v1/providers/${id}`)).body.payableBalances);
  const slot = await sql<{ booked: number }>`select booked from slots where id = ${b.slotId}`.execute(b.h.app.services.store.db);
  const events = await sql<{ n: number }>`select count(*)::int as n from order_events`.execute(b.h.app.services.store.db);
  return { orders, customers, providers, seats: slot.rows[0]?.booked, events: events.rows[0]?.n };
}

let serial: Business;
let batched: Business;

beforeAll(async () => {
  serial = await buildBusiness(await startHarness({ poolSize: 8 }));
  batched = await buildBusiness(await startHarness({ poolSize: 8 }));
}, 120_000);

afterAll(async () => {
  await serial?.h.close();
  await batched?.h.close();
});

describe('batched deadline firing', () => {
  it('leaves every order, seat, balance and event exactly as firing one by one does', async () => {
    const later = new Date(T0.getTime() + 40 * DAY * 1000);
    for (const b of [serial, batched]) await (b.h.app.sandboxClock as SandboxClock).setTo(later);
    const before = await outcome(batched);
    expect(before).toEqual(await outcome(serial));
    expect(before.seats).toBe(2);

    const fired = await serial.h.app.deadlines.runAllDue();
    const app = batched.h.app;
    let chunks = 0;
    const runner = new DeadlineRunner(app.services.store, (d) => app.orders.fireDeadline(d), () => app.services.clock.now(), 'test-batch', {
      batchSize: 7,
      perTransaction: 3,
      fireMany: (batch) => {
        chunks++;
        return app.orders.fireDeadlines(batch);
      },
    });
    expect(await runner.runDue()).toBe(fired);
    expect(chunks).toBeGreaterThan(3);

    const after = await outcome(batched);
    expect(after).toEqual(await outcome(serial));
    // The jump fired something of every kind: expiries, auto-done, auto-close and payouts.
    const states = after.orders.map((o) => o.state);
    expect(states.filter((s) => s === 'cancelled')).toHaveLength(9);
    expect(states.filter((s) => s === 'closed')).toHaveLength(9);
    expect(after.seats).toBe(0);
    expect(after.events).toBeGreaterThan(before.events! + 9 + 9 * 2);
    expect(after.orders.every((o) => o.deadline === null)).toBe(true);
    for (const b of [serial, batched]) expect((await b.h.check()).ok).toBe(true);
  });

  it('a batch with an order that cannot fire falls back to one by one: the rest fire once, the bad one is recorded', async () => {
    const h = batched.h;
    const app = h.app;
    const start = app.services.clock.now();
    const ids = await unconfirmedBookings(h, 5);
    // An order running a process this code does not know cannot fire.
    await sql`update orders set process_version = '0.0.0-unknown' where id = ${ids[2]}`.execute(app.services.store.db);
    const due = await deadlinesOf(h, ids);
    expect(due).toHaveLength(5);
    // One of them is stale by the time the batch fires: its order moved on (cancelled).
    await ok(h.post(`/v1/orders/${ids[4]}/cancel`, { reason: 'changed plans' }), 'cancel');
    await (app.sandboxClock as SandboxClock).setTo(new Date(start.getTime() + 2 * DAY * 1000));
    const next = await app.orders.fireDeadlines(due);
    expect(next).toEqual([null, null, null, null, null]);
    const events = await sql<{ order_id: string; type: string }>`select order_id, type from order_events where order_id = any(${ids}::text[]) and type <> 'order.create' and type <> 'order.cancel'`.execute(app.services.store.db);
    const byOrder = (id: string) => events.rows.filter((e) => e.order_id === id).map((e) => e.type);
    expect(byOrder(ids[0]!)).toEqual(['order.expire_confirmation']);
    expect(byOrder(ids[1]!)).toEqual(['order.expire_confirmation']);
    expect(byOrder(ids[2]!)).toEqual(['order.deadline_failed']);
    expect(byOrder(ids[3]!)).toEqual(['order.expire_confirmation']);
    // Firing the same batch again changes nothing: every deadline in it is gone or stale.
    expect(await app.orders.fireDeadlines(due)).toEqual([null, null, null, null, null]);
    const again = await sql<{ n: number }>`select count(*)::int as n from order_events where order_id = any(${ids}::text[])`.execute(app.services.store.db);
    expect(again.rows[0]!.n).toBe(events.rows.length + 5 + 1);
    expect((await h.check()).ok).toBe(true);
  });

  it('three runners sweeping paid orders of two providers at once: each order done, closed and paid out exactly once', async () => {
    const h = serial.h;
    const app = h.app;
    const start = app.services.clock.now();
    const providers = [await h.provider(), await h.provider()];
    const customer = await h.customer({ credit: 10_000_000 });
    const ids: string[] = [];
    for (let i = 0; i < 48; i++) {
      const p = providers[i % 2]!;
      const order = await ok(
        h.post(
          '/v1/orders',
          { process: 'booking', customerId: customer.id, providerId: p.id, currency: 'USD', lines: [{ description: 'S', quantity: 1, unitAmount: 3_000 + i * 17, startsAt: isoIn(start, 3 * DAY + i * 60), endsAt: isoIn(start, 3 * DAY + i * 60 + HOUR) }] },
          { key: customer.key },
        ),
        'book',
      );
      await ok(h.post(`/v1/orders/${order.id}/confirm`, {}, { key: p.key }), 'confirm');
      await ok(h.post(`/v1/orders/${order.id}/pay`, { useAccountCredit: true }, { key: customer.key }), 'pay');
      ids.push(order.id);
    }
    const paid = await h.balance(customer.id);
    await (app.sandboxClock as SandboxClock).setTo(new Date(start.getTime() + 40 * DAY * 1000));
    const runners = [0, 1, 2].map(
      (i) =>
        new DeadlineRunner(app.services.store, (d) => app.orders.fireDeadline(d), () => app.services.clock.now(), `test-contention-${i}`, {
          batchSize: 20,
          perTransaction: 6,
          fireMany: (batch) => app.orders.fireDeadlines(batch),
        }),
    );
    await Promise.all(runners.map((r) => r.runDue()));
    const events = await sql<{ order_id: string; type: string; n: number }>`
      select order_id, type, count(*)::int as n from order_events
      where order_id = any(${ids}::text[]) and type in ('order.auto_done', 'order.auto_close', 'payout.paid', 'order.deadline_failed')
      group by order_id, type`.execute(app.services.store.db);
    expect(events.rows.filter((e) => e.type === 'order.deadline_failed')).toEqual([]);
    for (const type of ['order.auto_done', 'order.auto_close', 'payout.paid']) {
      const rows = events.rows.filter((e) => e.type === type);
      expect(rows, type).toHaveLength(ids.length);
      expect(rows.every((r) => r.n === 1), type).toBe(true);
    }
    const states = await sql<{ state: string; n: number }>`select state, count(*)::int as n from orders where id = any(${ids}::text[]) group by state`.execute(app.services.store.db);
    expect(states.rows).toEqual([{ state: 'closed', n: ids.length }]);
    const left = await sql<{ n: number }>`select count(*)::int as n from deadlines where order_id = any(${ids}::text[])`.execute(app.services.store.db);
    expect(left.rows[0]!.n).toBe(0);
    // The providers' payable went out as payouts: nothing owed, and the customer's money stayed spent.
    for (const p of providers) expect((await h.get(`/v1/providers/${p.id}`)).body.payableBalances?.USD ?? 0).toBe(0);
    expect(await h.balance(customer.id)).toBe(paid);
    expect((await h.check()).ok).toBe(true);
  });

  it('a transient database error keeps the deadline for a later sweep (5 times at most) and never holds back the rest of its batch', async () => {
    const h = serial.h;
    const app = h.app;
    const start = app.services.clock.now();
    const ids = await unconfirmedBookings(h, 4);
    await (app.sandboxClock as SandboxClock).setTo(new Date(start.getTime() + 2 * DAY * 1000));
    const due = await deadlinesOf(h, ids);
    const first = due[0]!.orderId;
    // A store whose next `failures` transactions fail as when PostgreSQL is restarting (57P01).
    const real = app.services.store;
    let failures = 0;
    const flaky: Store = {
      ...real,
      transaction: (fn) => (failures-- > 0 ? Promise.reject(Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' })) : real.transaction(fn)),
    };
    const dropped: string[] = [];
    const firing = new DeadlineFiring({ s: { ...app.services, store: flaky }, catalog: app.catalog, cardRefunds: app.cardRefunds, orderNumbers: new OrderNumbers(), orderCopies: new OrderCopies() }, (_err, d) => dropped.push(d.orderId));
    const fired = async () =>
      (await sql<{ order_id: string; type: string }>`select order_id, type from order_events where order_id = any(${ids}::text[]) and type <> 'order.create' order by id`.execute(app.services.store.db)).rows;
    failures = 1;
    await expect(firing.fireOne(due[0]!)).rejects.toMatchObject({ code: '57P01' });
    // The batch fails, and so does the first deadline on its own; the other three still fire.
    failures = 2;
    await expect(firing.fireMany(due)).rejects.toMatchObject({ code: '57P01' });
    expect((await fired()).map((e) => [e.order_id, e.type])).toEqual(due.slice(1).map((d) => [d.orderId, 'order.expire_confirmation']));
    expect(dropped).toEqual([]);
    // It is kept through five transient failures; the sixth drops it and records why.
    for (let i = 0; i < 3; i++) {
      failures = 1;
      await expect(firing.fireOne(due[0]!)).rejects.toMatchObject({ code: '57P01' });
    }
    expect(await deadlinesOf(h, [first])).toHaveLength(1);
    failures = 1;
    expect(await firing.fireOne(due[0]!)).toBeNull();
    expect(dropped).toEqual([first]);
    expect((await fired()).filter((e) => e.order_id === first)).toEqual([{ order_id: first, type: 'order.deadline_failed' }]);
    expect(await deadlinesOf(h, [first])).toEqual([]);
    expect((await h.check()).ok).toBe(true);
  });
});
