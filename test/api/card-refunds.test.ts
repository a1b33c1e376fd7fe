// Money back to the card (SPEC rules 3 and 7): capped by the top-up and the balance; a
// failed card refund keeps the money in account credit, shows `failed` with the reason,
// and can be retried.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../helpers/harness.js';
import { randomUUID } from 'node:crypto';
import { book, DAY, parties } from '../helpers/booking.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

async function topUp(customerId: string, amount: number, paymentMethod = 'pm_card_visa') {
  const r = await h.post(`/v1/customers/${customerId}/top-ups`, { amount, currency: 'USD', paymentMethod });
  expect(r.status).toBe(200);
  return r.body;
}

describe('card refunds of top-ups', () => {
  it('refunds part, then the rest; never more than the top-up', async () => {
    const c = await h.customer();
    const t = await topUp(c.id, 5_000);
    const first = await h.post(`/v1/top-ups/${t.id}/refunds`, { amount: 1_200, reason: 'changed mind' });
    expect(first.body).toMatchObject({ status: 'succeeded', amount: 1_200, destination: 'card', sourceId: t.id });
    const over = await h.post(`/v1/top-ups/${t.id}/refunds`, { amount: 3_801 });
    expect(over.status).toBe(422);
    expect(over.body.error).toMatchObject({ code: 'refund_exceeds_refundable', maxRefundable: 3_800 });
    const rest = await h.post(`/v1/top-ups/${t.id}/refunds`, {});
    expect(rest.body.amount).toBe(3_800);
    expect(await h.balance(c.id)).toBe(0);
    expect((await h.get(`/v1/top-ups/${t.id}`)).body).toMatchObject({ refundedAmount: 5_000, refundableAmount: 0 });
    const nothing = await h.post(`/v1/top-ups/${t.id}/refunds`, {});
    expect(nothing.status).toBe(422);
    expect((await h.check()).ok).toBe(true);
  });

  it('is capped by the available credit: money already spent cannot go back to the card', async () => {
    const c = await h.customer();
    const p = await h.provider();
    const t = await topUp(c.id, 1_000);
    await h.post('/v1/charges', { customerId: c.id, providerId: p.id, amount: 700, currency: 'USD', description: 'chat' });
    const r = await h.post(`/v1/top-ups/${t.id}/refunds`, { amount: 301 });
    expect(r.status).toBe(422);
    expect(r.body.error.code).toBe('insufficient_funds');
    expect((await h.get(`/v1/top-ups/${t.id}`)).body.refundedAmount).toBe(0); // the refused attempt reserved nothing
    expect((await h.post(`/v1/top-ups/${t.id}/refunds`, { amount: 300 })).status).toBe(200);
  });

  it('a failed card refund never loses money: it stays in credit, shows failed with the reason, and can be retried', async () => {
    const c = await h.customer();
    const t = await topUp(c.id, 2_000, 'pm_card_refund_fails');
    const r = await h.post(`/v1/top-ups/${t.id}/refunds`, { amount: 500 });
    expect(r.status).toBe(200);
    expect(r.body.status).toBe('failed');
    expect(r.body.failureReason).toMatch(/refused/);
    expect(await h.balance(c.id)).toBe(2_000);
    expect((await h.get(`/v1/top-ups/${t.id}`)).body.refundedAmount).toBe(0);
    const entries = (await h.get(`/v1/customers/${c.id}/transactions`)).body.data.map((e: any) => [e.type, e.amount]);
    expect(entries).toEqual([
      ['card_refund_failed', 500],
      ['card_refund', -500],
      ['top_up', 2_000],
    ]);
    expect((await h.get(`/v1/refunds/${r.body.id}`)).body.status).toBe('failed');
    // Staff retry: this sandbox card always refuses, so it fails again, still losing nothing.
    const retry = await h.post(`/v1/refunds/${r.body.id}/retry`, {});
    expect(retry.status).toBe(200);
    expect(retry.body).toMatchObject({ status: 'failed', attempts: 2 });
    expect(await h.balance(c.id)).toBe(2_000);
    // A refund that did not fail cannot be "retried".
    const t2 = await topUp(c.id, 100);
    const ok = await h.post(`/v1/top-ups/${t2.id}/refunds`, {});
    expect((await h.post(`/v1/refunds/${ok.body.id}/retry`, {})).status).toBe(409);
    expect((await h.check()).ok).toBe(true);
  });

  it('a refund left pending by a crash is finished exactly once by the resume sweep', async () => {
    const c = await h.customer();
    const t = await topUp(c.id, 1_000);
    // Step 1 only, as if the process died before asking the card provider.
    const pending = await h.app.services.store.transaction((trx) =>
      h.app.topUps.refund(trx, t.id, { amountMinor: 400, reason: null, actor: { role: 'admin', keyId: 'test' } }),
    );
    expect(pending.status).toBe('pending');
    expect((await h.check()).pendingRefunds).toBeGreaterThan(0);
    await Promise.all([h.app.cardRefunds.resumeStaleRefunds(0), h.app.cardRefunds.resumeStaleRefunds(0)]);
    const done = await h.get(`/v1/refunds/${pending.id}`);
    expect(done.body.status).toBe('succeeded');
    expect(await h.balance(c.id)).toBe(600);
    const settled = await h.app.services.store.db
      .selectFrom('ledger_transactions')
      .select('id')
      .where('cause_id', '=', pending.id)
      .where('type', '=', 'card_refund_settled')
      .execute();
    expect(settled).toHaveLength(1);
    expect((await h.check()).ok).toBe(true);
  });

  it('a declined card tops up nothing', async () => {
    const c = await h.customer();
    const before = await h.counts();
    const r = await h.post(`/v1/customers/${c.id}/top-ups`, { amount: 1_000, currency: 'USD', paymentMethod: 'pm_card_declined' });
    expect(r.status).toBe(402);
    expect(r.body.error).toMatchObject({ type: 'card_error', code: 'card_declined' });
    expect(await h.counts()).toEqual(before);
  });

  it('respects currency exponents: JPY credit is whole yen', async () => {
    const c = await h.customer();
    const t = await h.post(`/v1/customers/${c.id}/top-ups`, { amount: 1_500, currency: 'JPY', paymentMethod: 'pm_card_visa' });
    expect(t.status).toBe(200);
    const customer = await h.get(`/v1/customers/${c.id}`);
    expect(customer.body.balances).toEqual({ JPY: 1_500, USD: 0 });
  });
});

describe('an order cancelled to the card: the stored answer of the cancel', () => {
  // The answer shows the settled refund; the settle's own statement stores it when the
  // refund went through (service.ts, card-refunds.ts), a failed one is read back and stored.
  for (const card of ['pm_card_visa', 'pm_card_refund_fails'] as const) {
    it(`is the first answer, refunds settled (${card})`, async () => {
      const p = await parties(h);
      const order = await book(h, p, { startsInSeconds: 10 * DAY, lines: 2 });
      expect((await h.post(`/v1/orders/${order.id}/confirm`, {}, { key: p.provider.key })).status).toBe(200);
      const paid = await h.post(`/v1/orders/${order.id}/pay`, { useAccountCredit: false, paymentMethod: card }, { key: p.customer.key });
      expect(paid.status, JSON.stringify(paid.body)).toBe(200);
      const expected = card === 'pm_card_visa' ? 'succeeded' : 'failed';
      for (const body of [{ lineIds: [paid.body.lines[0].id], refundDestination: 'card' }, { refundDestination: 'card' }]) {
        const idem = randomUUID();
        const first = await h.post(`/v1/orders/${order.id}/cancel`, body, { key: p.customer.key, idem });
        expect(first.status, JSON.stringify(first.body)).toBe(200);
        const cardRefunds = first.body.refunds.filter((r: { destination: string }) => r.destination === 'card');
        expect(cardRefunds.length).toBeGreaterThan(0);
        expect(cardRefunds.at(-1).status).toBe(expected);
        const replay = await h.post(`/v1/orders/${order.id}/cancel`, body, { key: p.customer.key, idem });
        expect(replay.headers['idempotent-replayed']).toBe('true');
        expect(replay.status).toBe(200);
        expect(replay.body).toEqual(first.body);
      }
      expect((await h.check()).ok).toBe(true);
    });
  }
});

describe('an order paid partly from credit and partly by card, cancelled to the card', () => {
  it('refunds the card part to the card and the rest to credit, and answers with its refunds as a read lists them', async () => {
    const p = await parties(h, 3_000); // less than the order: the card pays the rest
    const order = await book(h, p, { startsInSeconds: 10 * DAY });
    expect((await h.post(`/v1/orders/${order.id}/confirm`, {}, { key: p.provider.key })).status).toBe(200);
    const paid = await h.post(`/v1/orders/${order.id}/pay`, { useAccountCredit: true, paymentMethod: 'pm_card_visa' }, { key: p.customer.key });
    expect(paid.status, JSON.stringify(paid.body)).toBe(200);
    const cancelled = await h.post(`/v1/orders/${order.id}/cancel`, { refundDestination: 'card' }, { key: p.customer.key });
    expect(cancelled.status, JSON.stringify(cancelled.body)).toBe(200);
    const byDestination = Object.fromEntries(cancelled.body.refunds.map((r: { destination: string; amount: number }) => [r.destination, r.amount]));
    expect(byDestination).toEqual({ account_credit: 3_000, card: order.amounts.total - 3_000 });
    expect((await h.get(`/v1/orders/${order.id}`)).body).toEqual(cancelled.body);
    expect(await h.balance(p.customer.id)).toBe(3_000);
    expect((await h.check()).ok).toBe(true);
  });
});
