// Refunds after an order has ended (booking 1.2.0, direct 1.1.0): the money an order held
// went to the provider payable and the platform at its close, so staff refund out of the
// provider's payout while that is still scheduled — the payout shrinks, the platform keeps
// its fee and commission, a payout refunded in full is cancelled and never paid, and once
// it was paid the refund is refused (409 payout_already_paid). Tried against its caps one
// at a time, in parallel, and racing the payout itself; `check` after each.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness, type Res } from '../helpers/harness.js';
import { DAY, HOUR, advance, book, freezeClock, parties } from '../helpers/booking.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ poolSize: 24 });
  await freezeClock(h, '2031-03-03T09:00:00.000Z');
  // A commission, so that what the platform keeps and what the provider is owed differ.
  expect((await h.patch('/v1/settings', { providerCommissionPercent: 20 })).status).toBe(200);
});
afterAll(() => h.close());

type Parties = Awaited<ReturnType<typeof parties>>;

function ok(r: Res, what: string): any {
  expect(r.status, `${what}: ${JSON.stringify(r.body)}`).toBe(200);
  return r.body;
}

/** A booking of `unitAmount` that starts in an hour, paid as `payment`, done and confirmed: closed, payout scheduled. */
async function closedBooking(p: Parties, unitAmount: number, payment: Record<string, unknown> = { useAccountCredit: true }) {
  const order = await book(h, p, { startsInSeconds: HOUR, unitAmount });
  ok(await h.post(`/v1/orders/${order.id}/confirm`, {}, { key: p.provider.key }), 'confirm');
  ok(await h.post(`/v1/orders/${order.id}/pay`, payment, { key: p.customer.key }), 'pay');
  await advance(h, HOUR + 60);
  ok(await h.post(`/v1/orders/${order.id}/mark-done`, {}, { key: p.provider.key }), 'mark-done');
  return ok(await h.post(`/v1/orders/${order.id}/confirm-execution`, {}, { key: p.customer.key }), 'confirm-execution');
}

const refund = (orderId: string, body: Record<string, unknown>) => h.post(`/v1/orders/${orderId}/refunds`, { reason: 'Complaint after the close', ...body });
const payable = async (providerId: string): Promise<number> => (await h.get(`/v1/providers/${providerId}`)).body.payableBalances?.USD ?? 0;
const payoutsOf = async (providerId: string) => (await h.get(`/v1/payouts?providerId=${providerId}`)).body.data as { orderId: string; amount: number; status: string }[];

describe('refunds after the close come out of the scheduled payout', () => {
  it('to account credit: the payout shrinks, the platform keeps its fee and commission; above what is left → 422, nothing changes', async () => {
    const p = await parties(h, 50_000);
    const closed = await closedBooking(p, 10_000);
    expect(closed).toMatchObject({ state: 'closed', processVersion: '1.2.0', payout: { status: 'scheduled', paidAt: null } });
    const payoutMinor: number = closed.payout.amount;
    expect(payoutMinor).toBeGreaterThan(2_000);
    expect(payoutMinor).toBe(8_000); // the 20 % commission stays with the platform
    expect(closed.amounts).toMatchObject({ paid: 10_000, refunded: 0, refundable: payoutMinor });
    expect(await payable(p.provider.id)).toBe(payoutMinor);
    const balance = await h.balance(p.customer.id);

    const after = ok(await refund(closed.id, { amount: 2_000, destination: 'account_credit' }), 'refund');
    expect(after).toMatchObject({
      state: 'closed',
      amounts: { refunded: 2_000, refundable: payoutMinor - 2_000 },
      payout: { id: closed.payout.id, amount: payoutMinor - 2_000, status: 'scheduled', dueAt: closed.payout.dueAt },
      deadline: { action: 'payout', at: closed.payout.dueAt },
    });
    expect(after.refunds.at(-1)).toMatchObject({ amount: 2_000, destination: 'account_credit', status: 'succeeded', reason: 'Complaint after the close' });
    expect(after.events.at(-1)).toMatchObject({ type: 'order.refund', from: 'closed', to: 'closed', data: { payoutAfterRefund: { amount: payoutMinor - 2_000, status: 'scheduled' } } });
    expect(await h.balance(p.customer.id)).toBe(balance + 2_000);
    expect(await payable(p.provider.id)).toBe(payoutMinor - 2_000);

    const before = await h.counts();
    const tooMuch = await refund(closed.id, { amount: payoutMinor - 2_000 + 1, destination: 'account_credit' });
    expect(tooMuch.status).toBe(422);
    expect(tooMuch.body.error).toMatchObject({ code: 'refund_exceeds_refundable', maxRefundable: payoutMinor - 2_000 });
    // Above what was paid and not refunded too: the limit named is still the payout's.
    const farTooMuch = await refund(closed.id, { amount: 10_000 - 2_000 + 1, destination: 'account_credit' });
    expect(farTooMuch.body.error).toMatchObject({ code: 'refund_exceeds_refundable', maxRefundable: payoutMinor - 2_000 });
    expect(await h.counts()).toEqual(before);
    expect((await h.get(`/v1/orders/${closed.id}`)).body.payout.amount).toBe(payoutMinor - 2_000);
    expect((await h.check()).problems).toEqual([]);
  });

  it('to the card it was paid with: the card gets it back, the account credit is as before', async () => {
    const p = await parties(h);
    const closed = await closedBooking(p, 8_000, { useAccountCredit: false, paymentMethod: 'pm_card_visa' });
    const after = ok(await refund(closed.id, { amount: 1_500, destination: 'card' }), 'card refund');
    expect(after.payments.find((x: { method: string }) => x.method === 'card')).toMatchObject({ amount: 8_000, refunded: 1_500 });
    expect(after.refunds.at(-1)).toMatchObject({ amount: 1_500, destination: 'card', status: 'succeeded' });
    expect(after.payout.amount).toBe(closed.payout.amount - 1_500);
    expect(await h.balance(p.customer.id)).toBe(0);
    expect((await h.check()).problems).toEqual([]);
  });

  it('refunded in full the payout is cancelled and never paid; a paid payout refuses refunds (409 payout_already_paid)', async () => {
    const p = await parties(h, 50_000);
    const whole = await closedBooking(p, 5_000);
    const paidOut = await closedBooking(p, 6_000);
    const all = ok(await refund(whole.id, { amount: whole.payout.amount, destination: 'account_credit' }), 'refund all');
    expect(all).toMatchObject({ payout: { amount: 0, status: 'cancelled' }, deadline: null, amounts: { refundable: 0 } });
    expect((await refund(whole.id, { amount: 1, destination: 'account_credit' })).body.error).toMatchObject({ code: 'refund_exceeds_refundable', maxRefundable: 0 });

    await advance(h, 15 * DAY); // both payouts fall due: only the one still scheduled is paid
    const payouts = await payoutsOf(p.provider.id);
    expect(payouts.find((x) => x.orderId === whole.id)).toMatchObject({ amount: 0, status: 'cancelled' });
    expect(payouts.find((x) => x.orderId === paidOut.id)).toMatchObject({ amount: paidOut.payout.amount, status: 'paid' });
    expect((await h.get(`/v1/orders/${whole.id}`)).body.events.map((e: { type: string }) => e.type)).not.toContain('payout.paid');
    expect(await payable(p.provider.id)).toBe(0);

    const paidView = (await h.get(`/v1/orders/${paidOut.id}`)).body;
    expect(paidView).toMatchObject({ payout: { status: 'paid' }, amounts: { refundable: 0 } });
    const before = await h.counts();
    const late = await refund(paidOut.id, { amount: 100, destination: 'account_credit' });
    expect(late.status).toBe(409);
    expect(late.body.error).toMatchObject({ code: 'payout_already_paid', payoutId: paidOut.payout.id });
    expect(await h.counts()).toEqual(before);
    expect((await h.check()).problems).toEqual([]);
  });

  it('a late cancellation: the part the provider kept can be refunded from its payout', async () => {
    expect((await h.patch('/v1/settings', { lateCancellationRefundPercent: 50 })).status).toBe(200);
    try {
      const p = await parties(h, 20_000);
      const order = await book(h, p, { startsInSeconds: 12 * HOUR, unitAmount: 10_000 });
      ok(await h.post(`/v1/orders/${order.id}/confirm`, {}, { key: p.provider.key }), 'confirm');
      ok(await h.post(`/v1/orders/${order.id}/pay`, { useAccountCredit: true }, { key: p.customer.key }), 'pay');
      const cancelled = ok(await h.post(`/v1/orders/${order.id}/cancel`, { reason: 'Ill' }, { key: p.customer.key }), 'late cancel');
      expect(cancelled).toMatchObject({ state: 'cancelled', amounts: { refunded: 5_000 }, payout: { status: 'scheduled' } });
      const after = ok(await refund(order.id, { amount: cancelled.payout.amount, destination: 'account_credit', reason: 'Goodwill' }), 'goodwill');
      expect(after).toMatchObject({ state: 'cancelled', payout: { amount: 0, status: 'cancelled' }, amounts: { refunded: 5_000 + cancelled.payout.amount } });
      expect((await h.check()).problems).toEqual([]);
    } finally {
      expect((await h.patch('/v1/settings', { lateCancellationRefundPercent: 0 })).status).toBe(200);
    }
  });

  it('a direct order (seed 000) delivered and closed: a refund afterwards comes out of its payout', async () => {
    const p = await parties(h, 30_000);
    const created = ok(
      await h.post('/v1/orders', {
        process: 'direct',
        customerId: p.customer.id,
        providerId: p.provider.id,
        currency: 'USD',
        lines: [{ description: 'Photography (25 photos)', quantity: 1, unitAmount: 20_000 }],
      }),
      'create',
    );
    expect(created.processVersion).toBe('1.1.0');
    ok(await h.post(`/v1/orders/${created.id}/pay`, { useAccountCredit: true }), 'pay');
    const closed = ok(await h.post(`/v1/orders/${created.id}/lines/${created.lines[0].id}/done`, {}), 'done');
    expect(closed).toMatchObject({ state: 'closed', payout: { status: 'scheduled' } });
    const after = ok(await refund(created.id, { amount: 3_000, destination: 'account_credit' }), 'refund');
    expect(after).toMatchObject({ state: 'closed', amounts: { refunded: 3_000 }, payout: { amount: closed.payout.amount - 3_000 } });
    expect(await h.balance(p.customer.id)).toBe(30_000 - 20_000 + 3_000);
    expect((await h.check()).problems).toEqual([]);
  });

  it('orders created under booking 1.1.0 keep their rule: no refund once ended', async () => {
    const p = await parties(h, 20_000);
    const closed = await closedBooking(p, 4_000);
    await h.app.services.store.db.updateTable('orders').set({ process_version: '1.1.0' }).where('id', '=', closed.id).execute();
    const view = (await h.get(`/v1/orders/${closed.id}`)).body;
    expect(view).toMatchObject({ processVersion: '1.1.0', amounts: { refundable: 0 }, payout: { status: 'scheduled' } });
    const refused = await refund(closed.id, { amount: 100, destination: 'account_credit' });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: 'invalid_state_transition' });
  });
});

describe('under concurrency', () => {
  it('30 parallel refunds of 500 against a payout: exactly what it has left, never more', async () => {
    const p = await parties(h, 50_000);
    const closed = await closedBooking(p, 10_000);
    const payoutMinor: number = closed.payout.amount;
    const results = await Promise.all(Array.from({ length: 30 }, () => refund(closed.id, { amount: 500, destination: 'account_credit' })));
    const succeeded = results.filter((r) => r.status === 200).length;
    expect(results.every((r) => r.status === 200 || (r.status === 422 && r.body.error.code === 'refund_exceeds_refundable')), JSON.stringify(results.filter((r) => r.status !== 200).map((r) => r.body))).toBe(true);
    expect(payoutMinor).toBe(8_000);
    expect(succeeded).toBe(16);
    const view = (await h.get(`/v1/orders/${closed.id}`)).body;
    expect(view.amounts.refunded).toBe(succeeded * 500);
    expect(view.payout.amount).toBe(payoutMinor - succeeded * 500);
    expect(await payable(p.provider.id)).toBe(payoutMinor - succeeded * 500);
    expect((await h.check()).problems).toEqual([]);
  });

  it('refunds racing the payout as it falls due: refunded before it, or refused after; never both', async () => {
    const p = await parties(h, 50_000);
    const closed = await closedBooking(p, 10_000);
    const payoutMinor: number = closed.payout.amount;
    const dueInSeconds = (Date.parse(closed.payout.dueAt) - Date.parse((await h.get('/v1/test/clock')).body.now)) / 1000;
    await advance(h, dueInSeconds - 1);
    const [results] = await Promise.all([
      Promise.all(Array.from({ length: 12 }, () => refund(closed.id, { amount: 300, destination: 'account_credit' }))),
      advance(h, 2), // the payout falls due and the deadline runner pays it meanwhile
    ]);
    const refundedMinor = results.filter((r) => r.status === 200).length * 300;
    for (const r of results) if (r.status !== 200) expect([409, 422]).toContain(r.status);
    const view = (await h.get(`/v1/orders/${closed.id}`)).body;
    expect(view.amounts.refunded).toBe(refundedMinor);
    expect(view.payout).toMatchObject({ status: 'paid', amount: payoutMinor - refundedMinor });
    expect(await payable(p.provider.id)).toBe(0);
    expect((await h.check()).problems).toEqual([]);
  });
});
