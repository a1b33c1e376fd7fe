// Two `settle serve` processes on one PostgreSQL database, serving the same customers at
// the same time: charges, charge refunds, corrections, top-ups and card refunds of
// top-ups spread over both, plus races sent to both at once (the same Idempotency-Key
// on both; a reversal of the same transaction on both). Afterwards every balance must
// equal the sum of the operations that got a 2xx, no balance may be negative, both
// processes must agree, and `check` (HTTP and CLI) must be clean. No lost update.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, TEST_DB, type TestDatabase } from '../helpers/db.js';
import { Client, prng, runCli, startServerProcess, stopAllServers, type Res, type ServerProcess } from '../helpers/process.js';

const SEED = Number(process.env.SETTLE_TEST_SEED ?? Math.floor(Math.random() * 2 ** 31));
const CUSTOMERS = 6;
const PROVIDERS = 2;
const OPERATIONS = 700;
const CONCURRENCY = 24; // requests in flight at once, over both servers
const OPENING_CREDIT = 5_000;

interface Outcome {
  kind: string;
  server: number;
  status: number;
  code?: string;
  error?: string;
}

describe.skipIf(TEST_DB !== 'postgres')('two server processes on one PostgreSQL database', () => {
  const adminKey = `sk_test_admin_${randomUUID()}`;
  let database: TestDatabase;
  let servers: ServerProcess[] = [];
  let clients: Client[] = [];

  beforeAll(async () => {
    database = await createTestDatabase('postgres');
    // Both start at once on an empty database: migrations take turns on an advisory lock.
    servers = await Promise.all([0, 1].map(() => startServerProcess({ databaseUrl: database.url, adminKey, env: { SETTLE_DB_POOL: '10' } })));
    clients = servers.map((s) => new Client(s.url, adminKey, { maxSockets: CONCURRENCY }));
  });

  afterAll(async () => {
    clients.forEach((c) => c.close());
    await stopAllServers();
    await database?.drop();
  });

  it(`keeps every balance equal to the sum of its acknowledged operations (seed ${SEED})`, async () => {
    const rnd = prng(SEED);
    const [a, b] = clients as [Client, Client];
    const anyClient = () => (rnd.next() < 0.5 ? 0 : 1);

    expect((await a.get('/v1/settings')).body.providerCommissionPercent).toBe(0);

    // The same customers and providers, created through both servers.
    const customers: string[] = [];
    const providers: string[] = [];
    const expected = new Map<string, number>();
    const payable = new Map<string, number>();
    for (let i = 0; i < CUSTOMERS; i++) {
      const c = clients[i % 2]!;
      const res = await c.post('/v1/customers', { email: `multi-${i}-${randomUUID()}@example.com`, name: `Customer ${i}` });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      customers.push(res.body.id);
      expected.set(res.body.id, 0);
    }
    for (let i = 0; i < PROVIDERS; i++) {
      const res = await clients[i % 2]!.post('/v1/providers', { email: `multi-p${i}-${randomUUID()}@example.com`, name: `Provider ${i}` });
      expect(res.status).toBe(200);
      providers.push(res.body.id);
      payable.set(res.body.id, 0);
    }

    const charges: { id: string; customerId: string; providerId: string; amount: number; refunded: number }[] = [];
    const topUps: { id: string; customerId: string; amount: number; refunded: number }[] = [];
    const corrections: { id: string; customerId: string; amount: number; reversalTried: boolean }[] = [];
    const outcomes: Outcome[] = [];
    const add = (customerId: string, amount: number) => expected.set(customerId, expected.get(customerId)! + amount);
    const note = (kind: string, server: number, res: Res) =>
      outcomes.push({ kind, server, status: res.status, ...(res.body?.error?.code ? { code: res.body.error.code } : {}), ...(res.error ? { error: res.error } : {}) });

    async function topUp(server: number, customerId: string, amount: number): Promise<void> {
      const res = await clients[server]!.post(`/v1/customers/${customerId}/top-ups`, { amount, currency: 'USD', paymentMethod: 'pm_card_visa' });
      note('top_up', server, res);
      if (res.status === 200) {
        add(customerId, res.body.amount);
        topUps.push({ id: res.body.id, customerId, amount: res.body.amount, refunded: 0 });
      }
    }
    for (const id of customers) await topUp(0, id, OPENING_CREDIT);

    const chargeBody = (customerId: string) => ({
      customerId,
      providerId: rnd.pick(providers),
      amount: rnd.int(100, 1_500),
      currency: 'USD',
      description: 'Private chat',
    });
    const recordCharge = (res: Res) => {
      if (res.status !== 200) return;
      add(res.body.customerId, -res.body.amount);
      payable.set(res.body.providerId, payable.get(res.body.providerId)! + res.body.amount);
      charges.push({ id: res.body.id, customerId: res.body.customerId, providerId: res.body.providerId, amount: res.body.amount, refunded: 0 });
    };

    const operations: Record<string, { weight: number; run: () => Promise<void> }> = {
      charge: {
        weight: 30,
        async run() {
          const server = anyClient();
          const res = await clients[server]!.post('/v1/charges', chargeBody(rnd.pick(customers)));
          note('charge', server, res);
          recordCharge(res);
        },
      },
      // The same charge with the same Idempotency-Key on both servers at once: one effect.
      charge_same_key_on_both: {
        weight: 6,
        async run() {
          const body = chargeBody(rnd.pick(customers));
          const key = randomUUID();
          const both = await Promise.all([0, 1].map((server) => postRetrying(clients[server]!, '/v1/charges', body, key)));
          both.forEach((res, server) => note('charge_same_key', server, res));
          expect(both[0]!.status).toBe(both[1]!.status);
          if (both[0]!.status === 200) expect(both[0]!.body.id).toBe(both[1]!.body.id);
          else expect(both[0]!.body.error.code).toBe(both[1]!.body.error.code);
          recordCharge(both[0]!);
        },
      },
      charge_refund: {
        weight: 15,
        async run() {
          if (charges.length === 0) return;
          const charge = rnd.pick(charges);
          const server = anyClient();
          const body = rnd.next() < 0.2 ? {} : { amount: rnd.int(1, charge.amount) }; // {} = all that is left
          const res = await clients[server]!.post(`/v1/charges/${charge.id}/refunds`, body);
          note('charge_refund', server, res);
          if (res.status === 200) {
            add(charge.customerId, res.body.amount);
            payable.set(charge.providerId, payable.get(charge.providerId)! - res.body.amount);
            charge.refunded += res.body.amount;
          }
        },
      },
      correction: {
        weight: 15,
        async run() {
          const customerId = rnd.pick(customers);
          const amount = (rnd.next() < 0.5 ? -1 : 1) * rnd.int(50, 1_500);
          const server = anyClient();
          const res = await clients[server]!.post(`/v1/customers/${customerId}/balance-corrections`, { amount, currency: 'USD', memo: 'multi-server test' });
          note('correction', server, res);
          if (res.status === 200) {
            expect(res.body.amount).toBe(amount);
            add(customerId, amount);
            corrections.push({ id: res.body.id, customerId, amount, reversalTried: false });
          }
        },
      },
      // One reversal of the same correction on both servers at once: at most one wins.
      reversal_on_both: {
        weight: 5,
        async run() {
          const correction = corrections.find((c) => !c.reversalTried);
          if (!correction) return;
          correction.reversalTried = true;
          const both = await Promise.all([a, b].map((c) => c.post(`/v1/transactions/${correction.id}/reverse`, { memo: 'race' })));
          both.forEach((res, server) => note('reversal', server, res));
          const won = both.filter((r) => r.status === 200);
          expect(won.length).toBeLessThanOrEqual(1);
          if (won.length === 1) {
            expect(won[0]!.body.amount).toBe(-correction.amount);
            add(correction.customerId, -correction.amount);
          }
        },
      },
      top_up: {
        weight: 15,
        async run() {
          await topUp(anyClient(), rnd.pick(customers), rnd.int(100, 2_000));
        },
      },
      top_up_refund: {
        weight: 8,
        async run() {
          const open = topUps.filter((t) => t.refunded < t.amount);
          if (open.length === 0) return;
          const t = rnd.pick(open);
          const server = anyClient();
          const amount = rnd.int(1, Math.min(t.amount, 1_500));
          const res = await clients[server]!.post(`/v1/top-ups/${t.id}/refunds`, { amount });
          note('top_up_refund', server, res);
          if (res.status === 200) {
            expect(res.body.status).toBe('succeeded');
            add(t.customerId, -amount);
            t.refunded += amount;
          }
        },
      },
    };
    const table = Object.entries(operations).flatMap(([, op]) => Array.from({ length: op.weight }, () => op));

    let started = 0;
    const t0 = Date.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (started < OPERATIONS) {
          started++;
          await rnd.pick(table).run();
        }
      }),
    );
    const elapsedMs = Date.now() - t0;

    // Nothing but answers a client can act on: no 5xx, no dropped connection.
    const summary = tally(outcomes);
    const broken = outcomes.filter((o) => o.status === 0 || o.status >= 500);
    expect(broken, JSON.stringify(broken.slice(0, 5))).toEqual([]);
    const unexpected = outcomes.filter(
      (o) =>
        o.status !== 200 &&
        !(o.status === 422 && ['insufficient_funds', 'refund_exceeds_refundable'].includes(o.code ?? '')) &&
        !(o.status === 409 && o.code === 'already_reversed'),
    );
    expect(unexpected, JSON.stringify(unexpected.slice(0, 5))).toEqual([]);
    // Both processes really served, and the caps really were contended.
    for (const server of [0, 1]) expect(outcomes.filter((o) => o.server === server && o.status === 200).length).toBeGreaterThan(OPERATIONS / 5);
    expect(outcomes.some((o) => o.code === 'insufficient_funds')).toBe(true);
    console.info(`multi-server: ${outcomes.length} requests in ${elapsedMs} ms over 2 processes (seed ${SEED})`, summary);

    // Every balance is exactly the sum of the acknowledged operations, seen alike from both.
    for (const customerId of customers) {
      const seen = await Promise.all([a, b].map((c) => c.get(`/v1/customers/${customerId}`)));
      for (const res of seen) {
        expect(res.status).toBe(200);
        expect(res.body.balances.USD ?? 0, `balance of ${customerId}`).toBe(expected.get(customerId));
        expect(res.body.balances.USD ?? 0).toBeGreaterThanOrEqual(0);
      }
      // The customer's entries add up to the balance too.
      const entries = await a.list<{ amount: number; currency: string }>(`/v1/customers/${customerId}/transactions`);
      expect(entries.reduce((sum, e) => sum + e.amount, 0)).toBe(expected.get(customerId));
      // Exactly the acknowledged charges and top-ups exist: no effect without a 2xx.
      const storedCharges = await b.list<{ id: string; refundedAmount: number }>(`/v1/charges?customerId=${customerId}`);
      const mine = charges.filter((c) => c.customerId === customerId);
      expect(storedCharges.map((c) => c.id).sort()).toEqual(mine.map((c) => c.id).sort());
      for (const c of storedCharges) expect(c.refundedAmount).toBe(mine.find((m) => m.id === c.id)!.refunded);
      const storedTopUps = await a.list<{ id: string; refundedAmount: number }>(`/v1/customers/${customerId}/top-ups`);
      const myTopUps = topUps.filter((t) => t.customerId === customerId);
      expect(storedTopUps.map((t) => t.id).sort()).toEqual(myTopUps.map((t) => t.id).sort());
      for (const t of storedTopUps) expect(t.refundedAmount).toBe(myTopUps.find((m) => m.id === t.id)!.refunded);
    }
    for (const providerId of providers) {
      const res = await b.get(`/v1/providers/${providerId}`);
      expect(res.body.payableBalances.USD ?? 0, `payable of ${providerId}`).toBe(payable.get(providerId));
    }

    for (const c of [a, b]) {
      const check = await c.get('/v1/ledger/check');
      expect(check.status).toBe(200);
      expect(check.body.problems).toEqual([]);
      expect(check.body.ok).toBe(true);
    }

    // Graceful shutdown of both, then the operator's proof from the command line.
    expect(await Promise.all(servers.map((s) => s.stop()))).toEqual([0, 0]);
    const cli = await runCli(['check'], { databaseUrl: database.url });
    expect(cli.code, cli.stdout + cli.stderr).toBe(0);
    expect(JSON.parse(cli.stdout)).toMatchObject({ ok: true, problems: [] });
  });
});

/** A client retrying a 409 idempotency_key_in_use, as the API asks. */
async function postRetrying(client: Client, path: string, body: unknown, key: string): Promise<Res> {
  for (let attempt = 0; ; attempt++) {
    const res = await client.post(path, body, key);
    if (!(res.status === 409 && res.body?.error?.code === 'idempotency_key_in_use') || attempt >= 20) return res;
    await new Promise((r) => setTimeout(r, 25));
  }
}

function tally(outcomes: Outcome[]): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const o of outcomes) {
    const key = o.status === 200 ? '200' : `${o.status} ${o.code ?? o.error ?? ''}`.trim();
    (out[o.kind] ??= {})[key] = (out[o.kind]![key] ?? 0) + 1;
  }
  return out;
}
