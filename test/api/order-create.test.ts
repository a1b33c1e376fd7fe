// Creating an order reads nothing back (src/services/orders/create.ts): the order row is
// built in memory, its number taken from this process's block of the order_numbers
// sequence (order-numbers.ts), and on PostgreSQL its insert travels with the create
// transition's write. These tests check that what the create answers is what is stored,
// and that numbers stay unique and increasing, also under concurrent creates.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../helpers/harness.js';
import { DAY, book, parties } from '../helpers/booking.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h?.close());

describe('creating an order', () => {
  it('answers with the order exactly as it is stored', async () => {
    const p = await parties(h);
    for (const lines of [1, 3]) {
      const created = await book(h, p, { startsInSeconds: 6 * DAY, lines, unitAmount: 12_345 });
      const read = await h.get(`/v1/orders/${created.id}`);
      expect(read.status).toBe(200);
      expect(read.body).toEqual(created);
    }
    const direct = await h.post(
      '/v1/orders',
      { process: 'direct', customerId: p.customer.id, providerId: p.provider.id, currency: 'USD', lines: [{ description: 'Prints', quantity: 3, unitAmount: 250 }], comment: 'Matte, please' },
    ); // staff create direct orders
    expect(direct.status, JSON.stringify(direct.body)).toBe(200);
    expect((await h.get(`/v1/orders/${direct.body.id}`)).body).toEqual(direct.body);
  });

  it('gives every order its own number, increasing one after another, also when many are created at once', async () => {
    const p = await parties(h);
    const one = async () => (await book(h, p, { startsInSeconds: 6 * DAY })).number as string;
    const sequential: string[] = [];
    for (let i = 0; i < 40; i++) sequential.push(await one()); // more than one block
    for (const n of sequential) expect(n).toMatch(/^SO-\d{6,}$/);
    const values = sequential.map((n) => Number(n.slice(3)));
    for (let i = 1; i < values.length; i++) expect(values[i]!).toBeGreaterThan(values[i - 1]!);
    const concurrent = await Promise.all(Array.from({ length: 40 }, one));
    expect(new Set([...sequential, ...concurrent]).size).toBe(80);
  });

  it('refuses an unknown customer or provider with 404 and writes nothing (the insert went out with the write)', async () => {
    const p = await parties(h);
    const before = await h.counts();
    for (const [customerId, providerId, missing] of [
      ['cus_0000000000NOPE', p.provider.id, 'cus_0000000000NOPE'],
      [p.customer.id, 'prv_0000000000NOPE', 'prv_0000000000NOPE'],
    ] as const) {
      const r = await h.post('/v1/orders', { process: 'booking', customerId, providerId, currency: 'USD', lines: [{ description: 'd', quantity: 1, unitAmount: 100 }] });
      expect(r.status).toBe(404);
      expect(r.body.error.code).toBe('resource_missing');
      expect(r.body.error.message).toContain(missing);
    }
    expect(await h.counts()).toEqual(before);
  });
});
