// Money rule 5: concurrent different requests never break a cap. On PostgreSQL these
// run through a real connection pool, so row locks and conditional updates are what
// keeps the caps; on PGlite the single queue serialises them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../helpers/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ poolSize: 20 });
});
afterAll(() => h.close());

describe('caps hold under concurrency', () => {
  it('50 parallel refunds of 10 against a charge of 100: exactly 10 succeed', async () => {
    const customer = await h.customer({ credit: 100 });
    const provider = await h.provider();
    const charge = await h.post('/v1/charges', { customerId: customer.id, providerId: provider.id, amount: 100, currency: 'USD', description: 'chat' });
    expect(charge.status).toBe(200);
    const results = await Promise.all(Array.from({ length: 50 }, () => h.post(`/v1/charges/${charge.body.id}/refunds`, { amount: 10 })));
    const ok = results.filter((r) => r.status === 200);
    expect(ok).toHaveLength(10);
    for (const r of results.filter((x) => x.status !== 200)) {
      expect(r.status).toBe(422);
      expect(r.body.error.code).toBe('refund_exceeds_refundable');
    }
    expect((await h.get(`/v1/charges/${charge.body.id}`)).body).toMatchObject({ refundedAmount: 100, refundableAmount: 0 });
    expect(await h.balance(customer.id)).toBe(100);
    expect((await h.check()).ok).toBe(true);
  });

  it('50 parallel charges against a balance that covers 20: exactly 20 succeed', async () => {
    const customer = await h.customer({ credit: 2_000 });
    const provider = await h.provider();
    const results = await Promise.all(
      Array.from({ length: 50 }, () =>
        h.post('/v1/charges', { customerId: customer.id, providerId: provider.id, amount: 100, currency: 'USD', description: 'minute' }),
      ),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(20);
    expect(results.filter((r) => r.status === 422).every((r) => r.body.error.code === 'insufficient_funds')).toBe(true);
    expect(results.filter((r) => r.status !== 200 && r.status !== 422)).toHaveLength(0);
    expect(await h.balance(customer.id)).toBe(0);
    expect((await h.get(`/v1/providers/${provider.id}`)).body.payableBalances.USD).toBe(2_000);
    expect((await h.check()).ok).toBe(true);
  });

  it('parallel card refunds of a top-up never exceed the top-up or the balance', async () => {
    const customer = await h.customer();
    const topUp = await h.post(`/v1/customers/${customer.id}/top-ups`, { amount: 1_000, currency: 'USD', paymentMethod: 'pm_card_visa' });
    const results = await Promise.all(Array.from({ length: 30 }, () => h.post(`/v1/top-ups/${topUp.body.id}/refunds`, { amount: 70 })));
    const ok = results.filter((r) => r.status === 200);
    expect(ok).toHaveLength(14); // 14 × 70 = 980 ≤ 1000 < 15 × 70
    expect(await h.balance(customer.id)).toBe(20);
    expect((await h.get(`/v1/top-ups/${topUp.body.id}`)).body.refundedAmount).toBe(980);
    expect((await h.check()).ok).toBe(true);
  });

  it('charges and corrections racing on one balance never take it below zero', async () => {
    const customer = await h.customer({ credit: 1_000 });
    const provider = await h.provider();
    const ops = Array.from({ length: 40 }, (_, i) =>
      i % 2 === 0
        ? h.post('/v1/charges', { customerId: customer.id, providerId: provider.id, amount: 90, currency: 'USD', description: 'x' })
        : h.post(`/v1/customers/${customer.id}/balance-corrections`, { amount: -80, currency: 'USD', memo: 'x' }),
    );
    const results = await Promise.all(ops);
    const spent = results.reduce((s, r, i) => s + (r.status === 200 ? (i % 2 === 0 ? 90 : 80) : 0), 0);
    expect(spent).toBeLessThanOrEqual(1_000);
    expect(await h.balance(customer.id)).toBe(1_000 - spent);
    expect(1_000 - spent).toBeLessThan(80); // it kept going until nothing more fit
    expect((await h.check()).ok).toBe(true);
  });

  it('two concurrent reversals of one transaction: exactly one wins', async () => {
    const customer = await h.customer();
    const correction = await h.post(`/v1/customers/${customer.id}/balance-corrections`, { amount: 500, currency: 'USD', memo: 'x' });
    const results = await Promise.all(Array.from({ length: 8 }, () => h.post(`/v1/transactions/${correction.body.id}/reverse`, {})));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.status === 409).every((r) => r.body.error.code === 'already_reversed')).toBe(true);
    expect(results.filter((r) => r.status !== 200 && r.status !== 409)).toHaveLength(0);
    expect(await h.balance(customer.id)).toBe(0);
  });
});
