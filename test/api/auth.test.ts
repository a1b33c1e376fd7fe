// Who may do what (issue 2, SPEC "HTTP API contract" and "People and roles"):
//  - admin: everything;
//  - customer key: reads only its own customer, transactions, top-ups, charges and
//    refunds (anything else is a 404, exactly like an unknown id, so ids of others are
//    neither confirmed nor revealed); creates top-ups and charges only for itself; may not
//    create customers, providers, keys, corrections, reversals or refunds (403);
//  - provider key: reads only itself and its own charges; refunds only its own charges;
//  - unknown and revoked keys: 401.
// Every refused write is checked to have changed nothing.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness, type Res } from '../helpers/harness.js';

let h: Harness;
let A: { id: string; key: string };
let B: { id: string; key: string };
let P: { id: string; key: string };
let P2: { id: string; key: string };
/** One of each thing per customer: A's with provider P, B's with provider P2. */
const of = {
  A: { topUp: '', topUpTxn: '', charge: '', chargeRefund: '', cardRefund: '', correction: '' },
  B: { topUp: '', topUpTxn: '', charge: '', chargeRefund: '', cardRefund: '', correction: '' },
};

async function things(customerId: string, providerId: string, into: (typeof of)['A']): Promise<void> {
  const topUp = (await h.get(`/v1/customers/${customerId}/top-ups`)).body.data[0];
  into.topUp = topUp.id;
  into.topUpTxn = topUp.transactionId;
  const charge = await h.post('/v1/charges', { customerId, providerId, amount: 1_000, currency: 'USD', description: 'chat' });
  into.charge = charge.body.id;
  into.chargeRefund = (await h.post(`/v1/charges/${charge.body.id}/refunds`, { amount: 100 })).body.id;
  const failing = await h.post(`/v1/customers/${customerId}/top-ups`, { amount: 500, currency: 'USD', paymentMethod: 'pm_card_refund_fails' });
  into.cardRefund = (await h.post(`/v1/top-ups/${failing.body.id}/refunds`, { amount: 200 })).body.id;
  into.correction = (await h.post(`/v1/customers/${customerId}/balance-corrections`, { amount: 100, currency: 'USD', memo: 'goodwill' })).body.id;
}

beforeAll(async () => {
  h = await startHarness();
  A = await h.customer({ credit: 10_000 });
  B = await h.customer({ credit: 10_000 });
  P = await h.provider();
  P2 = await h.provider();
  await things(A.id, P.id, of.A);
  await things(B.id, P2.id, of.B);
});
afterAll(() => h?.close());

function expectError(r: Res, status: number, code: string): void {
  expect(r.status, JSON.stringify(r.body)).toBe(status);
  expect(r.body).toMatchObject({ error: { type: expect.any(String), code, message: expect.any(String) } });
}

/** What a refused write must leave alone: row counts and every party's balances. */
async function state(): Promise<unknown> {
  const customers = await Promise.all([A, B].map((c) => h.get(`/v1/customers/${c.id}`)));
  const providers = await Promise.all([P, P2].map((p) => h.get(`/v1/providers/${p.id}`)));
  const charges = await Promise.all([of.A.charge, of.B.charge].map((id) => h.get(`/v1/charges/${id}`)));
  const refunds = await Promise.all([of.A.cardRefund, of.B.cardRefund].map((id) => h.get(`/v1/refunds/${id}`)));
  return {
    counts: await h.counts(),
    balances: customers.map((c) => c.body.balances),
    payable: providers.map((p) => p.body.payableBalances),
    charges: charges.map((c) => c.body.refundedAmount),
    refunds: refunds.map((r) => [r.body.status, r.body.attempts]),
    settings: (await h.get('/v1/settings')).body,
  };
}

async function refusedWrite(status: number, code: string, send: () => Promise<Res>): Promise<Res> {
  const before = await state();
  const r = await send();
  expectError(r, status, code);
  expect(await state()).toEqual(before);
  return r;
}

const UNKNOWN = { cus: 'cus_0000000000NOPE', prv: 'prv_0000000000NOPE', tu: 'tu_0000000000NOPE', ch: 'ch_0000000000NOPE', re: 're_0000000000NOPE', txn: 'txn_0000000000NOPE' };

/** A refusal of someone else's id must be indistinguishable from the refusal of an unknown id. */
async function expectSameAsUnknown(key: string, url: (id: string) => string, theirId: string, unknownId: string): Promise<void> {
  const theirs = await h.get(url(theirId), { key });
  const unknown = await h.get(url(unknownId), { key });
  expectError(theirs, 404, 'resource_missing');
  expect(theirs.status).toBe(unknown.status);
  expect(theirs.body).toEqual(JSON.parse(JSON.stringify(unknown.body).replaceAll(unknownId, theirId)));
}

describe('admin can do everything', () => {
  it('reads every list and every thing', async () => {
    const urls = [
      '/v1/customers',
      `/v1/customers/${A.id}`,
      `/v1/customers/${B.id}`,
      `/v1/customers/${A.id}/transactions`,
      `/v1/customers/${B.id}/top-ups`,
      '/v1/providers',
      `/v1/providers/${P.id}`,
      '/v1/charges',
      `/v1/charges?customerId=${B.id}`,
      `/v1/charges?providerId=${P.id}`,
      `/v1/charges/${of.B.charge}`,
      `/v1/top-ups/${of.A.topUp}`,
      `/v1/refunds/${of.B.cardRefund}`,
      `/v1/refunds/${of.A.chargeRefund}`,
      `/v1/transactions/${of.B.correction}`,
      '/v1/settings',
      '/v1/ledger/check',
      '/v1/test/clock',
    ];
    for (const url of urls) expect((await h.get(url)).status, url).toBe(200);
    const txn = await h.get(`/v1/transactions/${of.A.correction}`);
    expect(txn.body.postings.length).toBeGreaterThan(0); // staff see the postings
  });

  it('creates customers, providers, keys, top-ups, charges, refunds, corrections, reversals and changes settings', async () => {
    const c = await h.post('/v1/customers', { email: `${randomUUID()}@example.com`, name: 'C' });
    expect(c.status).toBe(200);
    const p = await h.post('/v1/providers', { email: `${randomUUID()}@example.com`, name: 'P' });
    expect(p.status).toBe(200);
    for (const body of [{ role: 'admin' }, { role: 'customer', customerId: c.body.id }, { role: 'provider', providerId: p.body.id }]) {
      const k = await h.post('/v1/api-keys', body);
      expect(k.status).toBe(200);
      expect(k.body.key).toMatch(/^sk_test_/);
    }
    const t = await h.post(`/v1/customers/${c.body.id}/top-ups`, { amount: 5_000, currency: 'USD', paymentMethod: 'pm_card_visa' });
    expect(t.status).toBe(200);
    const ch = await h.post('/v1/charges', { customerId: c.body.id, providerId: p.body.id, amount: 1_000, currency: 'USD', description: 'd' });
    expect(ch.status).toBe(200);
    expect((await h.post(`/v1/charges/${ch.body.id}/refunds`, { amount: 100 })).status).toBe(200);
    expect((await h.post(`/v1/top-ups/${t.body.id}/refunds`, { amount: 100 })).status).toBe(200);
    const corr = await h.post(`/v1/customers/${c.body.id}/balance-corrections`, { amount: 10, currency: 'USD', memo: 'm' });
    expect(corr.status).toBe(200);
    expect((await h.post(`/v1/transactions/${corr.body.id}/reverse`, { memo: 'undo' })).status).toBe(200);
    const failing = await h.post(`/v1/customers/${c.body.id}/top-ups`, { amount: 300, currency: 'USD', paymentMethod: 'pm_card_refund_fails' });
    const failed = await h.post(`/v1/top-ups/${failing.body.id}/refunds`, {});
    expect(failed.body.status).toBe('failed');
    expect((await h.post(`/v1/refunds/${failed.body.id}/retry`, {})).status).toBe(200);
    const s = await h.patch('/v1/settings', { noRefundWithinHours: 24 });
    expect(s.status).toBe(200);
    expect((await h.check()).ok).toBe(true);
  });
});

describe('a customer key', () => {
  it('reads its own customer, transactions, top-ups, charges and refunds', async () => {
    const k = { key: A.key };
    expect((await h.get(`/v1/customers/${A.id}`, k)).body.id).toBe(A.id);
    const txns = await h.get(`/v1/customers/${A.id}/transactions`, k);
    expect(txns.status).toBe(200);
    expect(txns.body.data.length).toBeGreaterThan(0);
    expect(txns.body.data.every((t: any) => t.customerId === A.id)).toBe(true);
    expect((await h.get(`/v1/customers/${A.id}/top-ups`, k)).body.data.every((t: any) => t.customerId === A.id)).toBe(true);
    expect((await h.get(`/v1/top-ups/${of.A.topUp}`, k)).status).toBe(200);
    expect((await h.get(`/v1/charges/${of.A.charge}`, k)).status).toBe(200);
    expect((await h.get(`/v1/refunds/${of.A.cardRefund}`, k)).status).toBe(200);
    expect((await h.get(`/v1/refunds/${of.A.chargeRefund}`, k)).status).toBe(200);
    const own = await h.get(`/v1/transactions/${of.A.correction}`, k);
    expect(own.status).toBe(200);
    expect(own.body.postings).toBeUndefined(); // the platform's side of the books is not theirs
  });

  it("lists only its own charges, whatever filter it sends", async () => {
    for (const url of ['/v1/charges', `/v1/charges?customerId=${B.id}`, `/v1/charges?providerId=${P2.id}`]) {
      const r = await h.get(url, { key: A.key });
      expect(r.status, url).toBe(200);
      expect(r.body.data.every((c: any) => c.customerId === A.id), url).toBe(true);
      expect(r.body.data.map((c: any) => c.id)).not.toContain(of.B.charge);
    }
  });

  it("gets a 404 for every one of another customer's things, exactly as for an unknown id", async () => {
    const k = A.key;
    await expectSameAsUnknown(k, (id) => `/v1/customers/${id}`, B.id, UNKNOWN.cus);
    await expectSameAsUnknown(k, (id) => `/v1/customers/${id}/transactions`, B.id, UNKNOWN.cus);
    await expectSameAsUnknown(k, (id) => `/v1/customers/${id}/top-ups`, B.id, UNKNOWN.cus);
    await expectSameAsUnknown(k, (id) => `/v1/top-ups/${id}`, of.B.topUp, UNKNOWN.tu);
    await expectSameAsUnknown(k, (id) => `/v1/charges/${id}`, of.B.charge, UNKNOWN.ch);
    await expectSameAsUnknown(k, (id) => `/v1/refunds/${id}`, of.B.cardRefund, UNKNOWN.re);
    await expectSameAsUnknown(k, (id) => `/v1/refunds/${id}`, of.B.chargeRefund, UNKNOWN.re);
    for (const txn of [of.B.correction, of.B.topUpTxn]) await expectSameAsUnknown(k, (id) => `/v1/transactions/${id}`, txn, UNKNOWN.txn);
  });

  it('may not read business-wide things: lists of customers and providers, providers, settings, the ledger check (403)', async () => {
    for (const url of ['/v1/customers', '/v1/providers', `/v1/providers/${P.id}`, '/v1/settings', '/v1/ledger/check']) {
      expectError(await h.get(url, { key: A.key }), 403, 'forbidden');
    }
  });

  it('creates top-ups and charges for itself', async () => {
    const before = await h.balance(A.id);
    const t = await h.post(`/v1/customers/${A.id}/top-ups`, { amount: 700, currency: 'USD', paymentMethod: 'pm_card_visa' }, { key: A.key });
    expect(t.status).toBe(200);
    const c = await h.post('/v1/charges', { customerId: A.id, providerId: P2.id, amount: 300, currency: 'USD', description: 'chat' }, { key: A.key });
    expect(c.status).toBe(200);
    expect(await h.balance(A.id)).toBe(before + 400);
    const txns = (await h.get(`/v1/customers/${A.id}/transactions`)).body.data;
    expect(txns[0].actor).toBe(`customer:${A.id}`); // history records who acted
  });

  it("may not top up or charge another customer: 404, as for an unknown customer, and nothing changes", async () => {
    const topUp = { amount: 700, currency: 'USD', paymentMethod: 'pm_card_visa' };
    const theirs = await refusedWrite(404, 'resource_missing', () => h.post(`/v1/customers/${B.id}/top-ups`, topUp, { key: A.key }));
    const unknown = await refusedWrite(404, 'resource_missing', () => h.post(`/v1/customers/${UNKNOWN.cus}/top-ups`, topUp, { key: A.key }));
    expect(theirs.body.error.message.replace(B.id, '')).toBe(unknown.body.error.message.replace(UNKNOWN.cus, ''));
    const charge = (customerId: string) => ({ customerId, providerId: P.id, amount: 100, currency: 'USD', description: 'd' });
    await refusedWrite(404, 'resource_missing', () => h.post('/v1/charges', charge(B.id), { key: A.key }));
    await refusedWrite(404, 'resource_missing', () => h.post('/v1/charges', charge(UNKNOWN.cus), { key: A.key }));
  });

  it('may not create customers, providers, keys, corrections, reversals or refunds, nor change settings (403)', async () => {
    const k = { key: A.key };
    const writes: Array<[string, () => Promise<Res>]> = [
      ['customer', () => h.post('/v1/customers', { email: `${randomUUID()}@example.com`, name: 'N' }, k)],
      ['provider', () => h.post('/v1/providers', { email: `${randomUUID()}@example.com`, name: 'N' }, k)],
      ['admin key', () => h.post('/v1/api-keys', { role: 'admin' }, k)],
      ['key for itself', () => h.post('/v1/api-keys', { role: 'customer', customerId: A.id }, k)],
      ['correction of its own balance', () => h.post(`/v1/customers/${A.id}/balance-corrections`, { amount: 1_000_000, currency: 'USD', memo: 'free money' }, k)],
      ['reversal of its own correction', () => h.post(`/v1/transactions/${of.A.correction}/reverse`, {}, k)],
      ['refund of its own charge', () => h.post(`/v1/charges/${of.A.charge}/refunds`, {}, k)],
      ["refund of another's charge", () => h.post(`/v1/charges/${of.B.charge}/refunds`, {}, k)],
      ['refund of its own top-up', () => h.post(`/v1/top-ups/${of.A.topUp}/refunds`, { amount: 1 }, k)],
      ['retry of its own failed refund', () => h.post(`/v1/refunds/${of.A.cardRefund}/retry`, {}, k)],
      ['settings', () => h.patch('/v1/settings', { providerCommissionPercent: 0 }, k)],
      ['test clock', () => h.post('/v1/test/clock', { advanceSeconds: 1 }, k)],
    ];
    for (const [label, send] of writes) {
      const r = await refusedWrite(403, 'forbidden', send);
      expect(r.body.error.type, label).toBe('permission_error');
    }
  });
});

describe('a provider key', () => {
  it('reads itself and its own charges only', async () => {
    const k = { key: P.key };
    const me = await h.get(`/v1/providers/${P.id}`, k);
    expect(me.status).toBe(200);
    expect(me.body.payableBalances.USD).toBeGreaterThan(0);
    expect((await h.get(`/v1/charges/${of.A.charge}`, k)).status).toBe(200);
    for (const url of ['/v1/charges', `/v1/charges?providerId=${P2.id}`, `/v1/charges?customerId=${B.id}`]) {
      const r = await h.get(url, k);
      expect(r.status, url).toBe(200);
      expect(r.body.data.length, url).toBeLessThanOrEqual(r.body.data.filter((c: any) => c.providerId === P.id).length);
      expect(r.body.data.map((c: any) => c.id)).not.toContain(of.B.charge);
    }
  });

  it("gets a 404 for another provider and for another provider's charge, exactly as for unknown ids", async () => {
    await expectSameAsUnknown(P.key, (id) => `/v1/providers/${id}`, P2.id, UNKNOWN.prv);
    await expectSameAsUnknown(P.key, (id) => `/v1/charges/${id}`, of.B.charge, UNKNOWN.ch);
  });

  it('does not learn whether customer-side things exist: top-ups, refunds and transactions are 404 like unknown ids', async () => {
    await expectSameAsUnknown(P.key, (id) => `/v1/top-ups/${id}`, of.A.topUp, UNKNOWN.tu);
    await expectSameAsUnknown(P.key, (id) => `/v1/refunds/${id}`, of.A.cardRefund, UNKNOWN.re);
    await expectSameAsUnknown(P.key, (id) => `/v1/transactions/${id}`, of.A.correction, UNKNOWN.txn);
  });

  it('may not read customers, lists of parties, settings or the ledger check (403, whether the customer exists or not)', async () => {
    for (const url of [`/v1/customers/${A.id}`, `/v1/customers/${UNKNOWN.cus}`, `/v1/customers/${A.id}/transactions`, `/v1/customers/${A.id}/top-ups`, '/v1/customers', '/v1/providers', '/v1/settings', '/v1/ledger/check']) {
      expectError(await h.get(url, { key: P.key }), 403, 'forbidden');
    }
  });

  it('refunds its own charges', async () => {
    const before = await h.balance(A.id);
    const r = await h.post(`/v1/charges/${of.A.charge}/refunds`, { amount: 50, reason: 'call dropped' }, { key: P.key });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body).toMatchObject({ amount: 50, status: 'succeeded', sourceId: of.A.charge });
    expect(await h.balance(A.id)).toBe(before + 50);
  });

  it("may not refund another provider's charge: 404, as for an unknown charge, and nothing changes", async () => {
    const theirs = await refusedWrite(404, 'resource_missing', () => h.post(`/v1/charges/${of.B.charge}/refunds`, { amount: 1 }, { key: P.key }));
    const unknown = await refusedWrite(404, 'resource_missing', () => h.post(`/v1/charges/${UNKNOWN.ch}/refunds`, { amount: 1 }, { key: P.key }));
    expect(theirs.body.error.message.replace(of.B.charge, '')).toBe(unknown.body.error.message.replace(UNKNOWN.ch, ''));
  });

  it('may not create customers, providers, keys, top-ups, charges, corrections, reversals or card refunds, nor change settings (403)', async () => {
    const k = { key: P.key };
    const writes: Array<[string, () => Promise<Res>]> = [
      ['customer', () => h.post('/v1/customers', { email: `${randomUUID()}@example.com`, name: 'N' }, k)],
      ['provider', () => h.post('/v1/providers', { email: `${randomUUID()}@example.com`, name: 'N' }, k)],
      ['key', () => h.post('/v1/api-keys', { role: 'provider', providerId: P.id }, k)],
      ['top-up', () => h.post(`/v1/customers/${A.id}/top-ups`, { amount: 100, currency: 'USD', paymentMethod: 'pm_card_visa' }, k)],
      ['charge to itself', () => h.post('/v1/charges', { customerId: A.id, providerId: P.id, amount: 100, currency: 'USD', description: 'd' }, k)],
      ['correction', () => h.post(`/v1/customers/${A.id}/balance-corrections`, { amount: -100, currency: 'USD', memo: 'm' }, k)],
      ['reversal', () => h.post(`/v1/transactions/${of.A.correction}/reverse`, {}, k)],
      ['card refund', () => h.post(`/v1/top-ups/${of.A.topUp}/refunds`, { amount: 1 }, k)],
      ['retry', () => h.post(`/v1/refunds/${of.A.cardRefund}/retry`, {}, k)],
      ['settings', () => h.patch('/v1/settings', { providerCommissionPercent: 50 }, k)],
    ];
    for (const [label, send] of writes) {
      const r = await refusedWrite(403, 'forbidden', send);
      expect(r.body.error.type, label).toBe('permission_error');
    }
  });
});

describe('unknown and revoked keys', () => {
  it('are 401 on every route, reads and writes', async () => {
    const created = await h.post('/v1/api-keys', { role: 'admin', label: 'leaked' });
    await h.app.services.store.db.updateTable('api_keys').set({ revoked_at: new Date() }).where('id', '=', created.body.id).execute();
    const keys = [created.body.key, 'sk_test_admin_nope', `${h.adminKey}0`, A.key.toUpperCase(), ' '];
    const calls: Array<(key: string) => Promise<Res>> = [
      (key) => h.get(`/v1/customers/${A.id}`, { key }),
      (key) => h.get('/v1/customers', { key }),
      (key) => h.get(`/v1/charges/${of.A.charge}`, { key }),
      (key) => h.get('/v1/settings', { key }),
      (key) => h.post('/v1/customers', { email: `${randomUUID()}@example.com`, name: 'N' }, { key }),
      (key) => h.post(`/v1/customers/${A.id}/balance-corrections`, { amount: 1, currency: 'USD', memo: 'm' }, { key }),
      (key) => h.post(`/v1/charges/${of.A.charge}/refunds`, {}, { key }),
    ];
    for (const key of keys) {
      for (const call of calls) await refusedWrite(401, 'unauthenticated', () => call(key));
    }
  });

  it('a missing Authorization header is 401, but the public endpoints need none', async () => {
    const r = await h.http.inject({ method: 'GET', url: `/v1/customers/${A.id}` });
    expect(r.statusCode).toBe(401);
    expect(JSON.parse(r.body).error.code).toBe('unauthenticated');
    for (const url of ['/v1/health', '/v1/openapi.json']) expect((await h.http.inject({ method: 'GET', url })).statusCode, url).toBe(200);
  });

  it('keys are kept hashed: no secret is stored, and a replayed key creation does not show it again', async () => {
    const idem = randomUUID();
    const first = await h.post('/v1/api-keys', { role: 'customer', customerId: A.id }, { idem });
    const replay = await h.post('/v1/api-keys', { role: 'customer', customerId: A.id }, { idem });
    expect(replay.body.id).toBe(first.body.id);
    expect(replay.body.key).toBeNull();
    const rows = await h.app.services.store.db.selectFrom('api_keys').selectAll().execute();
    expect(JSON.stringify(rows)).not.toContain(first.body.key);
    const stored = await h.app.services.store.db.selectFrom('idempotency_keys').select('response').execute();
    expect(JSON.stringify(stored)).not.toContain(first.body.key);
  });
});

describe('after all of the above', () => {
  it('the ledger check is clean', async () => {
    const report = await h.check();
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
  });
});
