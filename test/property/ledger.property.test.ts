// Model-based property test: random sequences of top-ups, charges, refunds, card
// refunds, corrections and reversals. After every step the API's balances equal a
// simple model's, nothing is negative, and at the end `check` is clean.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { startHarness, type Harness } from '../helpers/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

type Op =
  | { kind: 'topUp'; c: number; amount: number; failingCard: boolean }
  | { kind: 'charge'; c: number; p: number; amount: number }
  | { kind: 'chargeRefund'; pick: number; amount: number | null }
  | { kind: 'topUpRefund'; pick: number; amount: number | null }
  | { kind: 'correction'; c: number; amount: number }
  | { kind: 'reverse'; pick: number };

const amount = fc.integer({ min: 1, max: 5_000 });
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('topUp' as const), c: fc.nat(2), amount, failingCard: fc.boolean() }),
  fc.record({ kind: fc.constant('charge' as const), c: fc.nat(2), p: fc.nat(1), amount }),
  fc.record({ kind: fc.constant('chargeRefund' as const), pick: fc.nat(), amount: fc.option(amount) }),
  fc.record({ kind: fc.constant('topUpRefund' as const), pick: fc.nat(), amount: fc.option(amount) }),
  fc.record({ kind: fc.constant('correction' as const), c: fc.nat(2), amount: fc.integer({ min: -3_000, max: 3_000 }).filter((n) => n !== 0) }),
  fc.record({ kind: fc.constant('reverse' as const), pick: fc.nat() }),
);

/** Where each kind of answer can be read back. */
const READ_PATH: Record<string, string> = { top_up: 'top-ups', charge: 'charges', refund: 'refunds', transaction: 'transactions' };

/** An answer is what a retry of the request replays: it must be the resource as a read right after gives it. */
async function expectReadEqual(r: { status: number; body: { object?: string; id?: string } }): Promise<void> {
  if (r.status !== 200) return;
  const collection = READ_PATH[r.body.object ?? ''];
  expect(collection, `no read for an answer of ${JSON.stringify(r.body).slice(0, 200)}`).toBeDefined();
  const read = await h.get(`/v1/${collection}/${r.body.id}`);
  expect(read.status).toBe(200);
  expect(read.body).toEqual(r.body);
}

describe('ledger invariants under random operations', () => {
  it('balances match the model, never go negative, and check stays clean', async () => {
    const customers = [await h.customer(), await h.customer(), await h.customer()];
    const providers = [await h.provider(), await h.provider()];
    const model = new Map<string, number>(customers.map((c) => [c.id, 0]));
    const charges: { id: string; customer: string; left: number }[] = [];
    const topUps: { id: string; customer: string; left: number }[] = [];
    // Reversible entries; a refund remembers its charge so reversing it restores the cap.
    const txns: { id: string; refundOf?: { charge: string; amount: number } }[] = [];

    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 5, maxLength: 25 }), async (ops) => {
        for (const o of ops) {
          const bal = (id: string) => model.get(id) as number;
          if (o.kind === 'topUp') {
            const c = customers[o.c]!.id;
            const r = await h.post(`/v1/customers/${c}/top-ups`, { amount: o.amount, currency: 'USD', paymentMethod: o.failingCard ? 'pm_card_refund_fails' : 'pm_card_visa' });
            await expectReadEqual(r);
            expect(r.status).toBe(200);
            model.set(c, bal(c) + o.amount);
            topUps.push({ id: r.body.id, customer: c, left: o.amount });
          } else if (o.kind === 'charge') {
            const c = customers[o.c]!.id;
            const r = await h.post('/v1/charges', { customerId: c, providerId: providers[o.p]!.id, amount: o.amount, currency: 'USD', description: 'x' });
            await expectReadEqual(r);
            if (o.amount <= bal(c)) {
              expect(r.status).toBe(200);
              model.set(c, bal(c) - o.amount);
              charges.push({ id: r.body.id, customer: c, left: o.amount });
              txns.push({ id: r.body.transactionId });
            } else expect(r.body.error.code).toBe('insufficient_funds');
          } else if (o.kind === 'chargeRefund' && charges.length) {
            const ch = charges[o.pick % charges.length]!;
            const want = o.amount ?? ch.left;
            const r = await h.post(`/v1/charges/${ch.id}/refunds`, o.amount === null ? {} : { amount: o.amount });
            await expectReadEqual(r);
            if (want > 0 && want <= ch.left) {
              expect(r.status).toBe(200);
              ch.left -= want;
              model.set(ch.customer, bal(ch.customer) + want);
              txns.push({ id: r.body.transactionId, refundOf: { charge: ch.id, amount: want } });
            } else expect([409, 422]).toContain(r.status);
          } else if (o.kind === 'topUpRefund' && topUps.length) {
            const t = topUps[o.pick % topUps.length]!;
            const want = o.amount ?? t.left;
            const r = await h.post(`/v1/top-ups/${t.id}/refunds`, o.amount === null ? {} : { amount: o.amount });
            await expectReadEqual(r);
            if (want > 0 && want <= t.left && want <= bal(t.customer)) {
              expect(r.status).toBe(200);
              if (r.body.status === 'succeeded') {
                t.left -= want;
                model.set(t.customer, bal(t.customer) - want);
              } else expect(r.body.status).toBe('failed'); // money stays in credit
            } else expect(r.status).toBe(422);
          } else if (o.kind === 'correction') {
            const c = customers[o.c]!.id;
            const r = await h.post(`/v1/customers/${c}/balance-corrections`, { amount: o.amount, currency: 'USD', memo: 'prop' });
            await expectReadEqual(r);
            if (bal(c) + o.amount >= 0) {
              expect(r.status).toBe(200);
              model.set(c, bal(c) + o.amount);
              txns.push({ id: r.body.id });
            } else expect(r.body.error.code).toBe('insufficient_funds');
          } else if (o.kind === 'reverse' && txns.length) {
            const t = txns[o.pick % txns.length]!;
            const r = await h.post(`/v1/transactions/${t.id}/reverse`, {});
            await expectReadEqual(r);
            if (r.status === 200) {
              const c = r.body.customerId as string;
              model.set(c, bal(c) + r.body.amount);
              const charge = charges.find((x) => x.id === r.body.causeId);
              if (charge) charge.left = 0; // a reversed charge cannot be refunded
              if (t.refundOf) charges.find((x) => x.id === t.refundOf!.charge)!.left += t.refundOf.amount;
            } else expect([409, 422]).toContain(r.status);
          }
          for (const c of customers) {
            const actual = await h.balance(c.id);
            expect(actual).toBeGreaterThanOrEqual(0);
            expect(actual).toBe(model.get(c.id));
          }
        }
        const report = await h.check();
        expect(report.problems).toEqual([]);
      }),
      { numRuns: 12 },
    );
  });
});
