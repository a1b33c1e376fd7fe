// Seed 004 (service marketplace, prepaid orders), paragraph by paragraph.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../helpers/harness.js';
import { advance, book, DAY, freezeClock, HOUR, now, parties } from '../helpers/booking.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
  await freezeClock(h, '2030-03-04T08:00:00.000Z');
});
afterAll(() => h.close());

describe('seed 004: the prepaid order lifecycle', () => {
  it('Confirmation → Payment → Execution → Confirmation of execution → Closed, and the payout 14 days later', async () => {
    const p = await parties(h, 20_000);
    const order = await book(h, p, { startsInSeconds: 3 * DAY });
    expect(order).toMatchObject({ state: 'confirmation', awaiting: 'provider', number: expect.stringMatching(/^SO-\d{6}$/) });
    expect(order.deadline.action).toBe('expire_confirmation');
    expect(new Date(order.deadline.at).getTime() - (await now(h)).getTime()).toBe(24 * HOUR * 1000);

    const confirmed = await h.post(`/v1/orders/${order.id}/confirm`, {}, { key: p.provider.key });
    expect(confirmed.status).toBe(200);
    expect(confirmed.body).toMatchObject({ state: 'payment', awaiting: 'customer', deadline: { action: 'expire_payment' } });

    const paid = await h.post(`/v1/orders/${order.id}/pay`, { useAccountCredit: true }, { key: p.customer.key });
    expect(paid.status, JSON.stringify(paid.body)).toBe(200);
    expect(paid.body).toMatchObject({ state: 'execution', amounts: { total: 10_000, paid: 10_000, refundable: 10_000 } });
    expect(paid.body.payments).toMatchObject([{ method: 'account_credit', amount: 10_000 }]);
    expect(await h.balance(p.customer.id)).toBe(10_000);

    const early = await h.post(`/v1/orders/${order.id}/mark-done`, {}, { key: p.provider.key });
    expect(early.status).toBe(409);
    expect(early.body.error.code).toBe('service_not_started');

    await advance(h, 3 * DAY + 30 * 60);
    const done = await h.post(`/v1/orders/${order.id}/mark-done`, {}, { key: p.provider.key });
    expect(done.body).toMatchObject({ state: 'execution_confirmation', awaiting: 'customer', deadline: { action: 'auto_close' } });

    const closed = await h.post(`/v1/orders/${order.id}/confirm-execution`, {}, { key: p.customer.key });
    expect(closed.body).toMatchObject({ state: 'closed', deadline: { action: 'payout' } });
    expect((await h.get(`/v1/providers/${p.provider.id}`)).body.payableBalances.USD).toBe(10_000);

    const review = await h.post(`/v1/orders/${order.id}/reviews`, { rating: 5, comment: 'Great' }, { key: p.customer.key });
    expect(review.body.review).toMatchObject({ rating: 5 });
    expect((await h.post(`/v1/orders/${order.id}/reviews`, { rating: 1 }, { key: p.customer.key })).body.error.code).toBe('already_reviewed');

    await advance(h, 14 * DAY - 60);
    expect((await h.get(`/v1/payouts?providerId=${p.provider.id}`)).body.data[0]).toMatchObject({ status: 'scheduled' });
    await advance(h, 60);
    expect((await h.get(`/v1/payouts?providerId=${p.provider.id}`)).body.data[0]).toMatchObject({ status: 'paid', amount: 10_000 });
    expect((await h.get(`/v1/providers/${p.provider.id}`)).body.payableBalances.USD).toBe(0);
    expect((await h.get(`/v1/orders/${order.id}`)).body.deadline).toBeNull();
    expect((await h.check()).problems).toEqual([]);
  });

  it('an edit applies at once and the other party must confirm it within a fresh window', async () => {
    const p = await parties(h);
    const order = await book(h, p, { startsInSeconds: 4 * DAY });
    await advance(h, 2 * HOUR);
    const base = await now(h);
    const edited = await h.post(
      `/v1/orders/${order.id}/edit`,
      { startsAt: new Date(base.getTime() + 5 * DAY * 1000).toISOString(), lines: [{ id: order.lines[0].id, unitAmount: 12_000 }], comment: 'Moved to Saturday' },
      { key: p.provider.key },
    );
    expect(edited.status, JSON.stringify(edited.body)).toBe(200);
    expect(edited.body).toMatchObject({ state: 'confirmation', awaiting: 'customer', amounts: { total: 12_000 }, comment: 'Moved to Saturday' });
    expect(new Date(edited.body.deadline.at).getTime()).toBe(base.getTime() + 24 * HOUR * 1000);
    // The customer edits back instead of confirming: the provider is awaited again.
    const back = await h.post(`/v1/orders/${order.id}/edit`, { lines: [{ id: order.lines[0].id, unitAmount: 11_000 }] }, { key: p.customer.key });
    expect(back.body).toMatchObject({ awaiting: 'provider', amounts: { total: 11_000 } });
    // Not the awaited party: refused.
    expect((await h.post(`/v1/orders/${order.id}/confirm`, {}, { key: p.customer.key })).body.error.code).toBe('not_awaited');
    expect((await h.post(`/v1/orders/${order.id}/confirm`, {}, { key: p.provider.key })).body.state).toBe('payment');
  });

  it('nobody confirms within 24 h (5 h for a same-day appointment): cancelled automatically', async () => {
    const p = await parties(h);
    const order = await book(h, p, { startsInSeconds: 2 * DAY });
    await advance(h, 24 * HOUR - 1);
    expect((await h.get(`/v1/orders/${order.id}`)).body.state).toBe('confirmation');
    await advance(h, 1);
    const expired = (await h.get(`/v1/orders/${order.id}`)).body;
    expect(expired).toMatchObject({ state: 'cancelled', deadline: null });
    expect(expired.cancellation.reason).toBe('confirmation_expired');

    const sameDay = await book(h, p, { startsInSeconds: 8 * HOUR });
    const base = await now(h);
    // UTC business day: the start is later today, so the window is 5 h.
    expect(new Date(sameDay.deadline.at).getTime() - base.getTime()).toBe(5 * HOUR * 1000);
  });

  it('not paid within 12 h: cancelled automatically and the seats are freed', async () => {
    const p = await parties(h);
    const service = await h.post('/v1/services', {
      name: 'Studio session',
      providerId: p.provider.id,
      unitAmount: 5_000,
      currency: 'USD',
      slots: [{ startsAt: new Date((await now(h)).getTime() + 3 * DAY * 1000).toISOString(), endsAt: new Date((await now(h)).getTime() + (3 * DAY + HOUR) * 1000).toISOString(), capacity: 1 }],
    });
    const slotId = service.body.slots[0].id;
    const order = await h.post('/v1/orders', { process: 'booking', customerId: p.customer.id, providerId: p.provider.id, currency: 'USD', lines: [{ slotId, quantity: 1 }] }, { key: p.customer.key });
    expect(order.status, JSON.stringify(order.body)).toBe(200);
    expect((await h.get(`/v1/services/${service.body.id}`)).body.slots[0]).toMatchObject({ booked: 1, available: 0 });
    await h.post(`/v1/orders/${order.body.id}/confirm`, {}, { key: p.provider.key });
    await advance(h, 12 * HOUR);
    const o = (await h.get(`/v1/orders/${order.body.id}`)).body;
    expect(o.state).toBe('cancelled');
    expect(o.cancellation.reason).toBe('payment_expired');
    expect((await h.get(`/v1/services/${service.body.id}`)).body.slots[0]).toMatchObject({ booked: 0, available: 1 });
  });

  it('not marked done within 72 h after the end: done automatically; 5 days later closed automatically', async () => {
    const p = await parties(h, 10_000);
    const order = await book(h, p, { startsInSeconds: DAY, durationSeconds: 2 * HOUR });
    await h.post(`/v1/orders/${order.id}/confirm`, {}, { key: p.provider.key });
    await h.post(`/v1/orders/${order.id}/pay`, { useAccountCredit: true }, { key: p.customer.key });
    await advance(h, DAY + 2 * HOUR + 72 * HOUR);
    const auto = (await h.get(`/v1/orders/${order.id}`)).body;
    expect(auto.state).toBe('execution_confirmation');
    expect(auto.events.at(-1)).toMatchObject({ transition: 'auto_done', actor: 'system' });
    await advance(h, 5 * DAY);
    expect((await h.get(`/v1/orders/${order.id}`)).body.state).toBe('closed');
  });

  it('a claim holds the order until staff resolve it with a partial refund', async () => {
    const p = await parties(h, 10_000);
    const order = await book(h, p, { startsInSeconds: DAY });
    await h.post(`/v1/orders/${order.id}/confirm`, {}, { key: p.provider.key });
    await h.post(`/v1/orders/${order.id}/pay`, { useAccountCredit: true }, { key: p.customer.key });
    await advance(h, DAY + 2 * HOUR);
    await h.post(`/v1/orders/${order.id}/mark-done`, {}, { key: p.provider.key });
    const claim = await h.post(`/v1/orders/${order.id}/claims`, { reason: 'Half the photos are blurry' }, { key: p.customer.key });
    expect(claim.body).toMatchObject({ state: 'claim', awaiting: 'operator', deadline: null });
    await advance(h, 10 * DAY); // no auto-close while a claim is open
    expect((await h.get(`/v1/orders/${order.id}`)).body.state).toBe('claim');
    expect((await h.post(`/v1/orders/${order.id}/claims/resolve`, { outcome: 'refund', amount: 4_000 }, { key: p.customer.key })).status).toBe(403);
    const resolved = await h.post(`/v1/orders/${order.id}/claims/resolve`, { outcome: 'refund', amount: 4_000 });
    expect(resolved.body).toMatchObject({ state: 'closed', amounts: { refunded: 4_000, refundable: 6_000 } });
    expect(await h.balance(p.customer.id)).toBe(4_000);
    expect((await h.get(`/v1/providers/${p.provider.id}`)).body.payableBalances.USD).toBe(6_000);
    expect((await h.check()).problems).toEqual([]);
  });

  it('the customer cancels 24 h or more ahead: full refund; less than that: no refund (defaults)', async () => {
    const p = await parties(h, 20_000);
    const early = await book(h, p, { startsInSeconds: 2 * DAY });
    await h.post(`/v1/orders/${early.id}/confirm`, {}, { key: p.provider.key });
    await h.post(`/v1/orders/${early.id}/pay`, { useAccountCredit: true }, { key: p.customer.key });
    await advance(h, DAY); // exactly 24 h before the start
    const quote = await h.post(`/v1/orders/${early.id}/cancellation-quote`, {}, { key: p.customer.key });
    expect(quote.body).toMatchObject({ total: 10_000, lines: [{ rule: 'full_refund_before_window', hoursBeforeStart: 24 }] });
    const cancelled = await h.post(`/v1/orders/${early.id}/cancel`, { reason: 'Plans changed' }, { key: p.customer.key });
    expect(cancelled.body).toMatchObject({ state: 'cancelled', amounts: { refunded: 10_000 } });
    expect(await h.balance(p.customer.id)).toBe(20_000);

    const late = await book(h, p, { startsInSeconds: 2 * DAY });
    await h.post(`/v1/orders/${late.id}/confirm`, {}, { key: p.provider.key });
    await h.post(`/v1/orders/${late.id}/pay`, { useAccountCredit: true }, { key: p.customer.key });
    await advance(h, DAY + 1); // one second less than 24 h before the start
    const lateQuote = await h.post(`/v1/orders/${late.id}/cancellation-quote`, {}, { key: p.customer.key });
    expect(lateQuote.body).toMatchObject({ total: 0, lines: [{ rule: 'late_cancellation', hoursBeforeStart: 23 }] });
    const lateCancel = await h.post(`/v1/orders/${late.id}/cancel`, { reason: 'Sick' }, { key: p.customer.key });
    expect(lateCancel.body).toMatchObject({ state: 'cancelled', amounts: { refunded: 0 } });
    expect(await h.balance(p.customer.id)).toBe(10_000);
    // The kept money reaches the provider, with a payout scheduled.
    expect((await h.get(`/v1/providers/${p.provider.id}`)).body.payableBalances.USD).toBe(10_000);
    expect((await h.check()).problems).toEqual([]);
  });

  it('the provider proposes a lower price before the start; accepted, the difference is refunded', async () => {
    const p = await parties(h, 10_000);
    const order = await book(h, p, { startsInSeconds: 3 * DAY });
    await h.post(`/v1/orders/${order.id}/confirm`, {}, { key: p.provider.key });
    await h.post(`/v1/orders/${order.id}/pay`, { useAccountCredit: true }, { key: p.customer.key });
    const higher = await h.post(`/v1/orders/${order.id}/proposal`, { lines: [{ id: order.lines[0].id, unitAmount: 15_000 }] }, { key: p.provider.key });
    expect(higher.status).toBe(422);
    expect(higher.body.error.code).toBe('price_increase_not_allowed');
    const proposal = await h.post(`/v1/orders/${order.id}/proposal`, { lines: [{ id: order.lines[0].id, unitAmount: 7_500 }], comment: 'Shorter shoot' }, { key: p.provider.key });
    expect(proposal.body).toMatchObject({ state: 'execution', amounts: { total: 10_000 }, proposal: { total: 7_500 } });
    const accepted = await h.post(`/v1/orders/${order.id}/proposal/accept`, {}, { key: p.customer.key });
    expect(accepted.body).toMatchObject({ proposal: null, amounts: { total: 7_500, paid: 10_000, refunded: 2_500 } });
    expect(await h.balance(p.customer.id)).toBe(2_500);
    // A declined proposal changes nothing.
    await h.post(`/v1/orders/${order.id}/proposal`, { startsAt: new Date((await now(h)).getTime() + 4 * DAY * 1000).toISOString() }, { key: p.provider.key });
    const declined = await h.post(`/v1/orders/${order.id}/proposal/decline`, {}, { key: p.customer.key });
    expect(declined.body).toMatchObject({ proposal: null, startsAt: order.startsAt });
  });

  it('pay: account credit first, the rest by card; a declined card changes nothing', async () => {
    const p = await parties(h, 3_000);
    const order = await book(h, p, { startsInSeconds: 3 * DAY });
    await h.post(`/v1/orders/${order.id}/confirm`, {}, { key: p.provider.key });
    const before = await h.counts();
    const declined = await h.post(`/v1/orders/${order.id}/pay`, { useAccountCredit: true, paymentMethod: 'pm_card_declined' }, { key: p.customer.key });
    expect(declined.status).toBe(402);
    expect(declined.body.error.code).toBe('card_declined');
    expect(await h.counts()).toEqual(before);
    expect((await h.get(`/v1/orders/${order.id}`)).body.state).toBe('payment');
    const paid = await h.post(`/v1/orders/${order.id}/pay`, { useAccountCredit: true, paymentMethod: 'pm_card_visa' }, { key: p.customer.key });
    expect(paid.body.payments.map((x: any) => [x.method, x.amount])).toEqual(
      expect.arrayContaining([
        ['account_credit', 3_000],
        ['card', 7_000],
      ]),
    );
    expect(await h.balance(p.customer.id)).toBe(0);
    // The provider cancels: full refund, the card part back to the card when asked.
    const cancelled = await h.post(`/v1/orders/${order.id}/cancel`, { reason: 'Camera broken', refundDestination: 'card' }, { key: p.provider.key });
    expect(cancelled.body).toMatchObject({ state: 'cancelled', amounts: { refunded: 10_000 } });
    const card = cancelled.body.refunds.find((r: any) => r.destination === 'card');
    expect(card).toMatchObject({ amount: 7_000, status: 'succeeded' });
    expect(await h.balance(p.customer.id)).toBe(3_000);
    expect((await h.check()).problems).toEqual([]);
  });
});
