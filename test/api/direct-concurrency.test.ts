// Issue 4: two staff refunding to the same card payment at the same time can never
// exceed it; the order's refunds never exceed what was paid.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../helpers/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ poolSize: 20 });
});
afterAll(() => h.close());

async function cancelledCardOrder(totalMinor: number) {
  const customer = await h.customer();
  const provider = await h.provider();
  const order = await h.post('/v1/orders', {
    process: 'direct',
    customerId: customer.id,
    providerId: provider.id,
    currency: 'USD',
    lines: [{ description: 'Photography', quantity: 1, unitAmount: totalMinor }],
  });
  const paid = await h.post(`/v1/orders/${order.body.id}/pay`, { paymentMethod: 'pm_card_visa' });
  expect(paid.status).toBe(200);
  await h.post(`/v1/orders/${order.body.id}/cancel`, { undoneLines: true, reason: 'Home sold' });
  return { customer, order: paid.body, card: paid.body.payments[0] };
}

describe('card refund caps under concurrency', () => {
  it('two staff refunding the whole card payment at once: exactly one succeeds', async () => {
    const { customer, order, card } = await cancelledCardOrder(30_000);
    const results = await Promise.all([0, 1].map(() => h.post(`/v1/orders/${order.id}/payments/${card.id}/refunds`, { amount: 30_000 })));
    expect(results.map((r) => r.status).sort()).toEqual([200, 422]);
    expect(results.find((r) => r.status === 422)!.body.error.code).toBe('refund_exceeds_refundable');
    expect(await h.balance(customer.id)).toBe(0);
    expect((await h.get(`/v1/orders/${order.id}/card-refundable`)).body.data[0]).toMatchObject({ refunded: 30_000, maxRefundable: 0 });
    expect((await h.check()).problems).toEqual([]);
  });

  it('20 parallel partial card refunds of 4,000 against 30,000: exactly 7 succeed', async () => {
    const { customer, order, card } = await cancelledCardOrder(30_000);
    const results = await Promise.all(Array.from({ length: 20 }, () => h.post(`/v1/orders/${order.id}/payments/${card.id}/refunds`, { amount: 4_000 })));
    expect(results.filter((r) => r.status === 200)).toHaveLength(7);
    expect(results.filter((r) => r.status !== 200).every((r) => r.status === 422 || r.status === 409)).toBe(true);
    expect(await h.balance(customer.id)).toBe(2_000);
    expect((await h.check()).problems).toEqual([]);
  });

  it('parallel staff refunds of an order in delivery never exceed what was paid', async () => {
    const customer = await h.customer({ credit: 10_000 });
    const provider = await h.provider();
    const order = await h.post('/v1/orders', {
      process: 'direct',
      customerId: customer.id,
      providerId: provider.id,
      currency: 'USD',
      lines: [{ description: 'Photography', quantity: 1, unitAmount: 10_000 }],
    });
    await h.post(`/v1/orders/${order.body.id}/pay`, { useAccountCredit: true });
    const results = await Promise.all(Array.from({ length: 12 }, () => h.post(`/v1/orders/${order.body.id}/refunds`, { amount: 3_000, reason: 'goodwill' })));
    expect(results.filter((r) => r.status === 200)).toHaveLength(3);
    const after = (await h.get(`/v1/orders/${order.body.id}`)).body;
    expect(after.amounts).toMatchObject({ paid: 10_000, refunded: 9_000, refundable: 1_000 });
    expect(await h.balance(customer.id)).toBe(9_000);
    expect((await h.check()).problems).toEqual([]);
  });
});
