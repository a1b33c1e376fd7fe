// A transition may start from the copy of the order this process wrote last instead of
// reading it (src/services/orders/order-copies.ts); its first statement locks the order and
// checks the row is still that version. These tests make copies go stale in every way
// another writer can (a second server, a card refund settling, a deadline firing) and check
// that the transaction is run again on the stored order: nothing lost, nothing twice. The
// whole suite also runs with SETTLE_VERIFY_ORDER_COPIES=1 (vitest.config.ts), comparing
// every copy used with the order read under its lock.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../src/app/app.js';
import { buildHttpApp, type HttpServer } from '../../src/http/app.js';
import { OrderCopies, assertCopyCurrent, putAfterSettles, type HeldCopy, type OrderCopy } from '../../src/services/orders/order-copies.js';
import type { SentRefund } from '../../src/services/card-refunds.js';
import type { RefundView } from '../../src/services/refund-records.js';
import { sql } from 'kysely';
import { openStore, runAgain, transactionAttempt } from '../../src/store/db.js';
import { TEST_DB, databaseUrl } from '../helpers/db.js';
import { startHarness, type Harness } from '../helpers/harness.js';
import { DAY, advance, book, isoIn, now, parties } from '../helpers/booking.js';

let h: Harness;
/** A second server on the same database, with copies of its own. */
let other: { app: App; http: HttpServer };
beforeAll(async () => {
  h = await startHarness();
  const app = await createApp(h.app.services.store, { mode: 'sandbox' });
  const http = await buildHttpApp(app, { logger: false });
  await http.ready();
  other = { app, http };
});
afterAll(async () => {
  await other?.http.close();
  await h?.close();
});

async function postOther(path: string, body: unknown, key: string) {
  await other.app.sandboxClock?.refresh(); // the first server's test clock may have moved
  const res = await other.http.inject({
    method: 'POST',
    url: path,
    headers: { authorization: `Bearer ${key}`, 'idempotency-key': randomUUID(), 'content-type': 'application/json' },
    payload: JSON.stringify(body),
  });
  return { status: res.statusCode, body: JSON.parse(res.body) };
}

const counts = () => ({ ...h.app.orderCopies.counts });

/**
 * The suite's check of every copy used reads the order, which also sends the copy's
 * pending version check at once; the tests of stale copies turn it off, so they see what
 * a server does.
 */
async function unverified<T>(fn: () => Promise<T>): Promise<T> {
  const saved = process.env.SETTLE_VERIFY_ORDER_COPIES;
  delete process.env.SETTLE_VERIFY_ORDER_COPIES;
  try {
    return await fn();
  } finally {
    if (saved !== undefined) process.env.SETTLE_VERIFY_ORDER_COPIES = saved;
  }
}

/** A two-line booking, confirmed and paid by `paymentMethod`, and its customer's first cancel of a line to the card. */
async function paidTwoLinesThenCancelOne(paymentMethod: string) {
  const p = await parties(h);
  const order = await book(h, p, { startsInSeconds: 6 * DAY, lines: 2 });
  await h.post(`/v1/orders/${order.id}/confirm`, {}, { key: p.provider.key });
  await h.post(`/v1/orders/${order.id}/pay`, { paymentMethod }, { key: p.customer.key });
  const one = await h.post(`/v1/orders/${order.id}/cancel`, { lineIds: [order.lines[0].id], refundDestination: 'card' }, { key: p.customer.key });
  expect(one.status, JSON.stringify(one.body)).toBe(200);
  return { p, order, one };
}

describe('order copies', () => {
  it('carry a whole lifecycle without reading the order, each answer equal to the stored order', async () => {
    const p = await parties(h, 50_000);
    const before = counts();
    const order = await book(h, p, { startsInSeconds: 6 * DAY });
    const steps: Array<[string, unknown, string]> = [
      ['confirm', {}, h.adminKey],
      ['pay', { useAccountCredit: true }, p.customer.key],
      ['mark-done', {}, h.adminKey],
      ['confirm-execution', {}, p.customer.key],
    ];
    for (const [step, body, key] of steps) {
      if (step === 'mark-done') await advance(h, 6 * DAY + 60); // the service has started
      const r = await h.post(`/v1/orders/${order.id}/${step}`, body, { key });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      expect((await h.get(`/v1/orders/${order.id}`)).body).toEqual(r.body);
    }
    const after = counts();
    expect(after.used - before.used).toBe(4);
    expect(after.stale - before.stale).toBe(0);
    expect(await h.balance(p.customer.id)).toBe(50_000 - 10_000 - (order.amounts.total - 10_000));
    expect((await h.check()).ok).toBe(true);
  });

  it('found stale because another server moved the order: the transition runs again on the stored order', () => unverified(async () => {
    const p = await parties(h, 50_000);
    const order = await book(h, p, { startsInSeconds: 6 * DAY });
    expect(h.app.orderCopies.size).toBeGreaterThan(0);
    // The second server confirms: this server's copy (state: confirmation) is stale now.
    expect((await postOther(`/v1/orders/${order.id}/confirm`, {}, h.adminKey)).status).toBe(200);
    const before = counts();
    const paid = await h.post(`/v1/orders/${order.id}/pay`, { useAccountCredit: true }, { key: p.customer.key });
    expect(paid.status, JSON.stringify(paid.body)).toBe(200);
    expect(paid.body.state).toBe('execution');
    expect(paid.body.events.map((e: { transition: string }) => e.transition)).toEqual(['create', 'confirm', 'pay']);
    const after = counts();
    expect(after.used - before.used).toBe(1);
    expect(after.stale - before.stale).toBe(1);
    expect(await h.balance(p.customer.id)).toBe(50_000 - order.amounts.total); // taken once
    expect((await h.get(`/v1/orders/${order.id}`)).body).toEqual(paid.body);
    expect((await h.check()).ok).toBe(true);
  }));

  it('found stale before a card payment: the check is waited for, so the card is charged once', () => unverified(async () => {
    const p = await parties(h);
    const order = await book(h, p, { startsInSeconds: 6 * DAY });
    expect((await postOther(`/v1/orders/${order.id}/confirm`, {}, h.adminKey)).status).toBe(200);
    const before = counts();
    const paid = await h.post(`/v1/orders/${order.id}/pay`, { paymentMethod: 'pm_card_visa' }, { key: p.customer.key });
    expect(paid.status, JSON.stringify(paid.body)).toBe(200);
    expect(counts().stale - before.stale).toBe(1);
    expect(paid.body.payments).toHaveLength(1);
    expect(paid.body.amounts.paid).toBe(order.amounts.total);
    // One card payment in the ledger: card clearing gave exactly the total once.
    const txns = await h.app.services.store.db
      .selectFrom('ledger_transactions')
      .select(['id', 'type'])
      .where('order_id', '=', order.id)
      .where('type', '=', 'order_card_payment')
      .execute();
    expect(txns).toHaveLength(1);
    expect((await h.check()).ok).toBe(true);
  }));

  it('kept through a card refund that settles after the commit: the next transition starts from it', async () => {
    // The cancel's card refund settles after its commit, touching the order: the copy is
    // put back at the settle's version, with the refund as settled.
    const { order, one } = await paidTwoLinesThenCancelOne('pm_card_visa');
    expect(one.body.refunds.every((r: { status: string }) => r.status === 'succeeded')).toBe(true);
    const before = counts();
    const rest = await h.post(`/v1/orders/${order.id}/cancel`, { refundDestination: 'card' }, { key: h.adminKey });
    expect(rest.status, JSON.stringify(rest.body)).toBe(200);
    expect(counts().used - before.used).toBe(1);
    expect(counts().stale - before.stale).toBe(0);
    expect(rest.body.state).toBe('cancelled');
    expect(rest.body.amounts.refunded).toBe(rest.body.amounts.paid);
    expect(rest.body.refunds).toHaveLength(2);
    expect((await h.get(`/v1/orders/${order.id}`)).body).toEqual(rest.body);
    expect((await h.check()).ok).toBe(true);
  });

  it('not kept through a card refund that failed: the next transition reads the order', async () => {
    const { p, order, one } = await paidTwoLinesThenCancelOne('pm_card_refund_fails');
    expect(one.body.refunds.map((r: { status: string }) => r.status)).toEqual(['failed']);
    const before = counts();
    const rest = await h.post(`/v1/orders/${order.id}/cancel`, { refundDestination: 'account_credit' }, { key: h.adminKey });
    expect(rest.status, JSON.stringify(rest.body)).toBe(200);
    expect(counts().used - before.used).toBe(0);
    expect(rest.body.state).toBe('cancelled');
    expect((await h.get(`/v1/orders/${order.id}`)).body).toEqual(rest.body);
    // The failed refund's money is back in credit, with the rest of the order's.
    expect(await h.balance(p.customer.id)).toBe(order.amounts.total);
    expect((await h.check()).ok).toBe(true);
  });

  it('not kept through a card refund when another server wrote the order before it settled', () => unverified(async () => {
    const p = await parties(h);
    const order = await book(h, p, { startsInSeconds: 6 * DAY, lines: 2 });
    await h.post(`/v1/orders/${order.id}/confirm`, {}, { key: p.provider.key });
    await h.post(`/v1/orders/${order.id}/pay`, { paymentMethod: 'pm_card_visa' }, { key: p.customer.key });
    // While the card provider is being asked, the second server writes the order (a proposal):
    // the settle then finds the order at another version than the cancel left.
    const payments = h.app.services.payments;
    const refund = payments.refund.bind(payments);
    let proposed: { status: number; body: { error?: unknown } } | undefined;
    payments.refund = async (input) => {
      proposed = await postOther(`/v1/orders/${order.id}/proposal`, { lines: [{ id: order.lines[1].id, unitAmount: 4_000 }] }, p.provider.key);
      return refund(input);
    };
    let one;
    try {
      one = await h.post(`/v1/orders/${order.id}/cancel`, { lineIds: [order.lines[0].id], refundDestination: 'card' }, { key: p.customer.key });
    } finally {
      payments.refund = refund;
    }
    expect(one.status, JSON.stringify(one.body)).toBe(200);
    expect(proposed?.status, JSON.stringify(proposed?.body)).toBe(200);
    const before = counts();
    // Had the copy been put back, it would lack the proposal, and accepting would be refused.
    const accepted = await h.post(`/v1/orders/${order.id}/proposal/accept`, {}, { key: p.customer.key });
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(200);
    expect(counts().used - before.used).toBe(0);
    expect(accepted.body.lines[1].unitAmount).toBe(4_000);
    expect((await h.get(`/v1/orders/${order.id}`)).body).toEqual(accepted.body);
    expect((await h.check()).ok).toBe(true);
  }));

  it('found stale because a deadline fired: run again, money right', () => unverified(async () => {
    const p = await parties(h);
    // A deadline fired by the sweep (here: confirmation expired) moves an order this server has a copy of.
    const lapsing = await book(h, p, { startsInSeconds: 6 * DAY });
    await advance(h, 25 * 3600);
    const late = await h.post(`/v1/orders/${lapsing.id}/confirm`, {}, { key: p.provider.key });
    expect(late.status).toBe(409);
    expect(late.body.error.code, JSON.stringify(late.body)).toBe('invalid_state_transition'); // the stored state's refusal, not the copy's
    expect((await h.get(`/v1/orders/${lapsing.id}`)).body.state).toBe('cancelled');
    expect((await h.check()).ok).toBe(true);
  }));

  it.skipIf(TEST_DB !== 'postgres')('answer a refusal worked out from a copy only once the copy is confirmed: a lock timeout while confirming answers as a read would', () => unverified(async () => {
    // A server whose connections give up waiting for a lock after 300 ms, and another session holding the order's lock.
    const db = h.app.services.store.db;
    const name = (await sql<{ n: string }>`select current_database() as n`.execute(db)).rows[0]!.n;
    await sql.raw(`alter database ${name} set lock_timeout = '300ms'`).execute(db);
    const store = await openStore({ url: databaseUrl(process.env.SETTLE_TEST_POSTGRES_URL as string, name) });
    const app = await createApp(store, { mode: 'sandbox' });
    const http = await buildHttpApp(app, { logger: false });
    try {
      await http.ready();
      const post = async (path: string, body: unknown, key: string, idem = randomUUID()) => {
        const res = await http.inject({ method: 'POST', url: path, headers: { authorization: `Bearer ${key}`, 'idempotency-key': idem, 'content-type': 'application/json' }, payload: JSON.stringify(body) });
        return { status: res.statusCode, body: JSON.parse(res.body) };
      };
      const p = await parties(h);
      const base = await now(h);
      const lines = [{ description: 'Session', quantity: 1, unitAmount: 10_000, startsAt: isoIn(base, 6 * DAY), endsAt: isoIn(base, 6 * DAY + 3600) }];
      const order = (await post('/v1/orders', { process: 'booking', customerId: p.customer.id, providerId: p.provider.id, currency: 'USD', lines }, p.customer.key)).body;
      expect(order.state).toBe('confirmation'); // that server has a copy now
      const idem = randomUUID();
      const answered = await db.connection().execute(async (holder) => {
        await sql`begin`.execute(holder);
        await sql`select 1 from orders where id = ${order.id} for update`.execute(holder);
        // Paying in confirmation is refused from the copy before any statement; confirming the copy waits, then times out.
        const r = await post(`/v1/orders/${order.id}/pay`, { useAccountCredit: true }, p.customer.key, idem);
        await sql`rollback`.execute(holder);
        return r;
      });
      expect(answered.status, JSON.stringify(answered.body)).toBe(500);
      // Retried with the same key once the lock is free: the refusal, now confirmed.
      const again = await post(`/v1/orders/${order.id}/pay`, { useAccountCredit: true }, p.customer.key, idem);
      expect(again.status).toBe(409);
      expect(again.body.error.code).toBe('invalid_state_transition');
    } finally {
      await http.close();
      await store.close();
      await sql.raw(`alter database ${name} reset lock_timeout`).execute(db);
    }
  }));

  it('pay from credit on a copy without checking the credit first; when it falls short the payment runs again the long way', async () => {
    const p = await parties(h, 3_000); // less than one order's total
    const [a, b] = [await book(h, p, { startsInSeconds: 6 * DAY }), await book(h, p, { startsInSeconds: 6 * DAY })];
    for (const o of [a, b]) expect((await h.post(`/v1/orders/${o.id}/confirm`, {}, { key: p.provider.key })).status).toBe(200);
    const before = counts();
    // Credit only: the same refusal as without a copy, naming what is left to pay by card.
    const short = await h.post(`/v1/orders/${a.id}/pay`, { useAccountCredit: true }, { key: p.customer.key });
    expect(short.body.error?.code, JSON.stringify(short.body)).toBe('payment_method_required');
    expect(short.body.error.amountDue ?? short.body.error.details?.amountDue).toBe(a.amounts.total - 3_000);
    expect(await h.balance(p.customer.id)).toBe(3_000);
    // Credit and a card: split, the credit part first.
    const split = await h.post(`/v1/orders/${b.id}/pay`, { useAccountCredit: true, paymentMethod: 'pm_card_visa' }, { key: p.customer.key });
    expect(split.status, JSON.stringify(split.body)).toBe(200);
    expect(split.body.payments.map((x: { method: string; amount: number }) => [x.method, x.amount]).sort()).toEqual(
      [['account_credit', 3_000], ['card', b.amounts.total - 3_000]].sort(),
    );
    expect(counts().shortcutsUndone - before.shortcutsUndone).toBe(2);
    expect(await h.balance(p.customer.id)).toBe(0);
    expect((await h.get(`/v1/orders/${b.id}`)).body).toEqual(split.body);
    expect((await h.check()).ok).toBe(true);
  });

  it('pay from credit on copies concurrently, credit for one order only: one pays, the others are told to add a card', async () => {
    const one = (await book(h, await parties(h), { startsInSeconds: 6 * DAY })).amounts.total as number;
    const p = await parties(h, one);
    const orders = [];
    for (let i = 0; i < 6; i++) orders.push(await book(h, p, { startsInSeconds: 6 * DAY }));
    for (const o of orders) expect((await h.post(`/v1/orders/${o.id}/confirm`, {}, { key: p.provider.key })).status).toBe(200);
    const paid = await Promise.all(orders.map((o) => h.post(`/v1/orders/${o.id}/pay`, { useAccountCredit: true }, { key: p.customer.key })));
    expect(paid.filter((r) => r.status === 200)).toHaveLength(1);
    for (const r of paid.filter((x) => x.status !== 200)) expect(r.body.error.code, JSON.stringify(r.body)).toBe('payment_method_required');
    expect(await h.balance(p.customer.id)).toBe(0);
    expect((await h.check()).ok).toBe(true);
  });

  it('serve concurrent requests on one order as before: one copy, the rest read and wait on the lock', async () => {
    const p = await parties(h, 50_000);
    const order = await book(h, p, { startsInSeconds: 6 * DAY });
    await h.post(`/v1/orders/${order.id}/confirm`, {}, { key: p.provider.key });
    const tries = await Promise.all(Array.from({ length: 8 }, () => h.post(`/v1/orders/${order.id}/pay`, { useAccountCredit: true }, { key: p.customer.key })));
    expect(tries.filter((r) => r.status === 200)).toHaveLength(1);
    for (const r of tries.filter((x) => x.status !== 200)) expect(r.status).toBe(409);
    expect(await h.balance(p.customer.id)).toBe(50_000 - order.amounts.total);
    expect((await h.check()).ok).toBe(true);
  });
});

describe('a transaction run again', () => {
  it('knows it is not its first run (a transition then reads the order, taking no copy)', async () => {
    const runs: number[] = [];
    await h.app.services.store.transaction(async (trx) => {
      runs.push(transactionAttempt(trx));
      if (runs.length < 3) throw runAgain('test');
    });
    expect(runs).toEqual([1, 2, 3]);
  });
});

describe('OrderCopies', () => {
  const copy = (id: string): OrderCopy => ({
    order: { id, state: 'confirmation', paid: 0 } as unknown as OrderCopy['order'],
    lines: [],
    payments: [],
    deadline: { transition: 'expire_confirmation', due_at: new Date('2026-01-01T00:00:00Z') },
    payout: null,
    extras: { refunds: [], events: [] },
  });

  it('gives a copy once, keeps its own copy of what it was given, and forgets old ones', () => {
    const copies = new OrderCopies({ maxCopies: 2, maxAgeMs: 1_000 });
    const a = copy('ord_a');
    copies.put('ord_a', '10', a, 0);
    a.order.state = 'changed after put';
    const taken = copies.take('ord_a', 500);
    expect(taken?.version).toBe('10');
    expect(taken?.copy.order.state).toBe('confirmation');
    expect(taken?.copy.deadline?.due_at).toBeInstanceOf(Date);
    expect(copies.take('ord_a', 500)).toBeUndefined(); // taken out
    copies.put('ord_b', '11', copy('ord_b'), 0);
    expect(copies.take('ord_b', 1_001)).toBeUndefined(); // too old
    copies.put('ord_c', '12', copy('ord_c'), 0);
    copies.put('ord_d', '13', copy('ord_d'), 0);
    copies.put('ord_e', '14', copy('ord_e'), 0); // over the limit: the oldest goes
    expect(copies.size).toBe(2);
    expect(copies.take('ord_c', 0)).toBeUndefined();
    expect(copies.take('ord_e', 0)?.version).toBe('14');
    const none = new OrderCopies({ maxCopies: 0 });
    none.put('ord_a', '1', copy('ord_a'));
    expect(none.take('ord_a')).toBeUndefined();
  });

  it('put back after card refunds only along an unbroken chain of versions, all succeeded, and over no newer copy', () => {
    const refund = (id: string) => ({ id, status: 'pending', failureReason: null, updatedAt: '2026-01-01T00:00:00.000Z' }) as unknown as RefundView;
    const held = (): HeldCopy => ({ version: '10', copy: { ...copy('ord_a'), extras: { refunds: [refund('ref_1'), refund('ref_2')], events: [] } } });
    const sent = (id: string, before: string, after: string, status = 'succeeded'): SentRefund => ({
      refund: { ...refund(id), status, updatedAt: '2026-01-01T00:00:01.000Z' } as RefundView,
      alsoWritten: false,
      orderVersions: { before, after },
    });
    // Two settles, each finding the version the write before it left: the copy at the last one's, refunds settled.
    const copies = new OrderCopies();
    expect(putAfterSettles(copies, held(), [sent('ref_1', '10', '11'), sent('ref_2', '11', '12')])).toBe(true);
    const taken = copies.take('ord_a');
    expect(taken?.version).toBe('12');
    expect(taken?.copy.extras.refunds.map((r) => [r.id, r.status, r.updatedAt])).toEqual([
      ['ref_1', 'succeeded', '2026-01-01T00:00:01.000Z'],
      ['ref_2', 'succeeded', '2026-01-01T00:00:01.000Z'],
    ]);
    // Someone wrote the order between the two settles (11 → 15): not put back.
    expect(putAfterSettles(copies, held(), [sent('ref_1', '10', '11'), sent('ref_2', '15', '16')])).toBe(false);
    // Someone wrote it before the first settle.
    expect(putAfterSettles(copies, held(), [sent('ref_1', '13', '14'), sent('ref_2', '14', '15')])).toBe(false);
    // A refund failed (its money went back to credit, its cap released): not put back.
    expect(putAfterSettles(copies, held(), [sent('ref_1', '10', '11'), sent('ref_2', '11', '12', 'failed')])).toBe(false);
    // Settled by another process (no versions): not put back.
    expect(putAfterSettles(copies, held(), [sent('ref_1', '10', '11'), { ...sent('ref_2', '11', '12'), orderVersions: null }])).toBe(false);
    expect(copies.size).toBe(0);
    // A later transition in this process put a newer copy meanwhile: it stays.
    copies.put('ord_a', '20', copy('ord_a'));
    expect(putAfterSettles(copies, held(), [sent('ref_1', '10', '11'), sent('ref_2', '11', '12')])).toBe(false);
    expect(copies.take('ord_a')?.version).toBe('20');
  });

  it('the test check tells a copy that differs from the stored order (key order aside)', () => {
    const a = copy('ord_a');
    const b = structuredClone(a);
    b.extras.events.push({ payload: { y: 1, x: 2 } } as never);
    a.extras.events.push({ payload: { x: 2, y: 1 } } as never);
    expect(() => assertCopyCurrent(a, b)).not.toThrow();
    b.order.state = 'payment';
    expect(() => assertCopyCurrent(a, b)).toThrow(/differs from the stored order ord_a/);
  });
});
