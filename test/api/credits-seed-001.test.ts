// Seed 001 (pay-per-minute chat with credits), paragraph by paragraph, through the API.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../helpers/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

describe('seed 001: refunding credits and money', () => {
  it('example 1: a private chat with a broken webcam is refunded in part, as a new linked entry', async () => {
    const customer = await h.customer({ credit: 10_000 });
    const provider = await h.provider();
    const chat = await h.post('/v1/charges', { customerId: customer.id, providerId: provider.id, amount: 1_500, currency: 'USD', description: 'Private chat, 15 min' });
    expect(chat.status).toBe(200);
    expect(await h.balance(customer.id)).toBe(8_500);

    // "Refund transaction" panel: adjust the amount, press Refund.
    const refund = await h.post(`/v1/charges/${chat.body.id}/refunds`, { amount: 500, reason: 'Webcam broken' });
    expect(refund.status).toBe(200);
    expect(refund.body).toMatchObject({ amount: 500, status: 'succeeded', destination: 'account_credit', sourceId: chat.body.id });
    expect(await h.balance(customer.id)).toBe(9_000);

    // A new entry appears in Transactions, saying what was refunded.
    const list = await h.get(`/v1/customers/${customer.id}/transactions`);
    expect(list.body.data.map((t: any) => [t.type, t.amount])).toEqual([
      ['charge_refund', 500],
      ['charge', -1_500],
      ['top_up', 10_000],
    ]);
    expect(list.body.data[0].relatedTransactionId).toBe(chat.body.transactionId);

    // "If something went wrong, remove the wrong entry": a visible reversal.
    const reversal = await h.post(`/v1/transactions/${list.body.data[0].id}/reverse`, { memo: 'Refunded by mistake' });
    expect(reversal.status).toBe(200);
    expect(reversal.body).toMatchObject({ type: 'reversal', amount: -500, reverses: list.body.data[0].id });
    expect(await h.balance(customer.id)).toBe(8_500);
    const after = await h.get(`/v1/customers/${customer.id}/transactions`);
    expect(after.body.data[1].reversedBy).toBe(reversal.body.id);
    // The charge can be refunded again after the wrong refund was reversed.
    expect((await h.get(`/v1/charges/${chat.body.id}`)).body.refundableAmount).toBe(1_500);
    expect((await h.post(`/v1/charges/${chat.body.id}/refunds`, {})).body.amount).toBe(1_500);
    expect(await h.balance(customer.id)).toBe(10_000);
    expect((await h.check()).ok).toBe(true);
  });

  it('example 2: a withdrawal is a negative balance correction to zero, then a refund to the card that added the funds', async () => {
    const customer = await h.customer();
    const topUp = await h.post(`/v1/customers/${customer.id}/top-ups`, { amount: 4_000, currency: 'USD', paymentMethod: 'pm_card_visa' });
    expect(topUp.status).toBe(200);
    // Staff's way in the seed: a negative correction with a memo...
    const correction = await h.post(`/v1/customers/${customer.id}/balance-corrections`, { amount: -1_000, currency: 'USD', memo: 'Part withdrawal paid by bank' });
    expect(correction.status).toBe(200);
    expect(correction.body).toMatchObject({ type: 'correction', amount: -1_000, memo: 'Part withdrawal paid by bank' });
    expect(correction.body.id).toMatch(/^txn_/);
    // ...and Settle's better way: money back through the card the customer used.
    const refund = await h.post(`/v1/top-ups/${topUp.body.id}/refunds`, {});
    expect(refund.status).toBe(422);
    expect(refund.body.error.code).toBe('insufficient_funds'); // 4,000 was topped up but only 3,000 is left
    const partial = await h.post(`/v1/top-ups/${topUp.body.id}/refunds`, { amount: 3_000 });
    expect(partial.status).toBe(200);
    expect(partial.body).toMatchObject({ status: 'succeeded', destination: 'card', amount: 3_000 });
    // "Since it's a refund, customer should have zero balance."
    expect(await h.balance(customer.id)).toBe(0);
    const types = (await h.get(`/v1/customers/${customer.id}/transactions`)).body.data.map((t: any) => t.type);
    expect(types).toEqual(['card_refund', 'correction', 'top_up']);
    expect((await h.check()).ok).toBe(true);
  });

  it('a correction can never take the balance below zero, and a refused one changes nothing', async () => {
    const customer = await h.customer({ credit: 700 });
    const before = await h.counts();
    const r = await h.post(`/v1/customers/${customer.id}/balance-corrections`, { amount: -701, currency: 'USD', memo: 'too much' });
    expect(r.status).toBe(422);
    expect(r.body.error.code).toBe('insufficient_funds');
    expect(await h.counts()).toEqual(before);
    expect(await h.balance(customer.id)).toBe(700);
    const exact = await h.post(`/v1/customers/${customer.id}/balance-corrections`, { amount: -700, currency: 'USD', memo: 'to zero' });
    expect(exact.status).toBe(200);
    expect(await h.balance(customer.id)).toBe(0);
  });

  it('a reversal happens at most once and never makes a balance negative', async () => {
    const customer = await h.customer();
    const credit = await h.post(`/v1/customers/${customer.id}/balance-corrections`, { amount: 1_000, currency: 'USD', memo: 'goodwill' });
    const provider = await h.provider();
    await h.post('/v1/charges', { customerId: customer.id, providerId: provider.id, amount: 600, currency: 'USD', description: 'chat' });
    // Reversing the goodwill credit would leave -600: refused.
    const refused = await h.post(`/v1/transactions/${credit.body.id}/reverse`, { memo: 'oops' });
    expect(refused.status).toBe(422);
    expect(refused.body.error.code).toBe('insufficient_funds');
    await h.post(`/v1/customers/${customer.id}/balance-corrections`, { amount: 600, currency: 'USD', memo: 'more' });
    const ok = await h.post(`/v1/transactions/${credit.body.id}/reverse`, { memo: 'oops' });
    expect(ok.status).toBe(200);
    const again = await h.post(`/v1/transactions/${credit.body.id}/reverse`, { memo: 'oops again' });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('already_reversed');
    const reverseReversal = await h.post(`/v1/transactions/${ok.body.id}/reverse`, {});
    expect(reverseReversal.status).toBe(422);
    expect(reverseReversal.body.error.code).toBe('transaction_not_reversible');
    expect((await h.check()).ok).toBe(true);
  });

  it('commission: the provider gets the charge less commission, and a full refund returns exactly all of it', async () => {
    await h.patch('/v1/settings', { providerCommissionPercent: 12.5 });
    try {
      const customer = await h.customer({ credit: 10_000 });
      const provider = await h.provider();
      const charge = await h.post('/v1/charges', { customerId: customer.id, providerId: provider.id, amount: 999, currency: 'USD', description: 'chat' });
      expect(charge.body.commissionAmount).toBe(125); // 124.875 rounds half up
      expect((await h.get(`/v1/providers/${provider.id}`)).body.payableBalances.USD).toBe(874);
      for (const amount of [333, 333, 1]) expect((await h.post(`/v1/charges/${charge.body.id}/refunds`, { amount })).status).toBe(200);
      expect((await h.post(`/v1/charges/${charge.body.id}/refunds`, {})).body.amount).toBe(332);
      expect((await h.get(`/v1/providers/${provider.id}`)).body.payableBalances.USD).toBe(0);
      expect(await h.balance(customer.id)).toBe(10_000);
      const over = await h.post(`/v1/charges/${charge.body.id}/refunds`, { amount: 1 });
      expect(over.status).toBe(422);
      expect(over.body.error).toMatchObject({ code: 'refund_exceeds_refundable', maxRefundable: 0 });
      expect((await h.check()).ok).toBe(true);
    } finally {
      await h.patch('/v1/settings', { providerCommissionPercent: 0 });
    }
  });
});
