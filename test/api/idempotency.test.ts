import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { startHarness, type Harness, type Res } from '../helpers/harness.js';
import { book, parties } from '../helpers/booking.js';
import { createTestDatabase } from '../helpers/db.js';
import { openStore } from '../../src/store/db.js';
import { migrate } from '../../src/store/migrate.js';
import { migrations } from '../../src/store/migrations/index.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ poolSize: 20 });
});
afterAll(() => h.close());

describe('Idempotency-Key', () => {
  it('a repeat with the same body replays the first response and has no second effect', async () => {
    const customer = await h.customer({ credit: 1_000 });
    const provider = await h.provider();
    const key = randomUUID();
    const body = { customerId: customer.id, providerId: provider.id, amount: 100, currency: 'USD', description: 'chat' };
    const first = await h.post('/v1/charges', body, { idem: key });
    const second = await h.post('/v1/charges', { ...body }, { idem: key });
    expect(second.status).toBe(200);
    expect(second.body).toEqual(first.body);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(await h.balance(customer.id)).toBe(900);
  });

  it('the same key with a different body is refused with 422 idempotency_key_reused', async () => {
    const customer = await h.customer({ credit: 1_000 });
    const provider = await h.provider();
    const key = randomUUID();
    const body = { customerId: customer.id, providerId: provider.id, amount: 100, currency: 'USD', description: 'chat' };
    await h.post('/v1/charges', body, { idem: key });
    const other = await h.post('/v1/charges', { ...body, amount: 200 }, { idem: key });
    expect(other.status).toBe(422);
    expect(other.body.error.code).toBe('idempotency_key_reused');
    expect(await h.balance(customer.id)).toBe(900);
  });

  it('keys are per API key: another key may use the same string', async () => {
    const customer = await h.customer({ credit: 1_000 });
    const provider = await h.provider();
    const key = randomUUID();
    const body = { customerId: customer.id, providerId: provider.id, amount: 100, currency: 'USD', description: 'chat' };
    expect((await h.post('/v1/charges', body, { idem: key })).status).toBe(200);
    expect((await h.post('/v1/charges', body, { idem: key, key: customer.key })).status).toBe(200);
    expect(await h.balance(customer.id)).toBe(800);
  });

  it('a refusal is stored too: the retry sees the same answer even after the balance changed', async () => {
    const customer = await h.customer({ credit: 50 });
    const provider = await h.provider();
    const key = randomUUID();
    const body = { customerId: customer.id, providerId: provider.id, amount: 100, currency: 'USD', description: 'chat' };
    const first = await h.post('/v1/charges', body, { idem: key });
    expect(first.status).toBe(422);
    await h.post(`/v1/customers/${customer.id}/balance-corrections`, { amount: 100, currency: 'USD', memo: 'more' });
    const retry = await h.post('/v1/charges', body, { idem: key });
    expect(retry.status).toBe(422);
    expect(retry.body).toEqual(first.body);
    expect(await h.balance(customer.id)).toBe(150);
  });

  it('the same key sent 20 times concurrently: one effect, identical responses (409s are retried, as clients should)', async () => {
    const customer = await h.customer({ credit: 10_000 });
    const provider = await h.provider();
    const key = randomUUID();
    const body = { customerId: customer.id, providerId: provider.id, amount: 100, currency: 'USD', description: 'chat' };
    let conflicts = 0;
    const send = async (): Promise<Res> => {
      for (let attempt = 0; attempt < 200; attempt++) {
        const r = await h.post('/v1/charges', body, { idem: key });
        if (r.status !== 409) return r;
        expect(r.body.error.code).toBe('idempotency_key_in_use');
        conflicts++;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      throw new Error('still in use after 200 attempts');
    };
    const results = await Promise.all(Array.from({ length: 20 }, send));
    expect(new Set(results.map((r) => JSON.stringify([r.status, r.body]))).size).toBe(1);
    expect(results[0]!.status).toBe(200);
    // On PostgreSQL they really overlap (PGlite's single queue may run them one by one).
    if (h.kind === 'postgres') expect(conflicts).toBeGreaterThan(0);
    expect(await h.balance(customer.id)).toBe(9_900);
    const charges = await h.get(`/v1/charges?customerId=${customer.id}`);
    expect(charges.body.data).toHaveLength(1);
  });

  it('a top-up retried after a decline is still declined and charges nothing', async () => {
    const customer = await h.customer();
    const key = randomUUID();
    const body = { amount: 500, currency: 'USD', paymentMethod: 'pm_card_declined' };
    const first = await h.post(`/v1/customers/${customer.id}/top-ups`, body, { idem: key });
    expect(first.status).toBe(402);
    expect(first.body.error.code).toBe('card_declined');
    const again = await h.post(`/v1/customers/${customer.id}/top-ups`, body, { idem: key });
    expect(again.status).toBe(402);
    expect(await h.balance(customer.id)).toBe(0);
  });

  it('records are written in the effect transaction: an api key secret is never stored in them', async () => {
    const customer = await h.customer();
    const key = randomUUID();
    const first = await h.post('/v1/api-keys', { role: 'customer', customerId: customer.id }, { idem: key });
    expect(first.body.key).toMatch(/^sk_test_customer_/);
    const replay = await h.post('/v1/api-keys', { role: 'customer', customerId: customer.id }, { idem: key });
    expect(replay.body.id).toBe(first.body.id);
    expect(replay.body.key).toBeNull();
  });

  it('answers are kept in their row, not in TOAST (migration 013): a large order answer under the longest key replays', async () => {
    const p = await parties(h);
    const order = await book(h, p, { startsInSeconds: 5 * 86_400, lines: 12 });
    expect((await h.post(`/v1/orders/${order.id}/confirm`, {}, { key: p.provider.key })).status).toBe(200);
    const paid = await h.post(`/v1/orders/${order.id}/pay`, { paymentMethod: 'pm_card_visa' }, { key: p.customer.key });
    expect(paid.status, JSON.stringify(paid.body)).toBe(200);
    const key = `${randomUUID()}-`.padEnd(255, 'k'); // the longest key the API takes
    const body = { reason: 'changed plans', lineIds: order.lines.slice(0, 6).map((l: { id: string }) => l.id) };
    const first = await h.post(`/v1/orders/${order.id}/cancel`, body, { idem: key, key: p.customer.key });
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect(JSON.stringify(first.body).length).toBeGreaterThan(4_000);
    const replay = await h.post(`/v1/orders/${order.id}/cancel`, body, { idem: key, key: p.customer.key });
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body).toEqual(first.body);
    const db = h.app.services.store.db;
    const toast = await sql<{ name: string }>`select reltoastrelid::regclass::text as name from pg_class where relname = 'idempotency_keys'`.execute(db);
    const chunks = await sql<{ n: number }>`select count(*)::int as n from ${sql.raw(toast.rows[0]!.name)}`.execute(db);
    expect(chunks.rows[0]!.n).toBe(0);
  });

  it('an answer is serialized once: the reply, the stored record and the replay are the same text, and hold what the route schema lets out', async () => {
    const db = h.app.services.store.db;
    const stored = async (key: string) =>
      (await sql<{ response: string }>`select response::text as response from idempotency_keys where key = ${key}`.execute(db)).rows[0]?.response;
    const raw = async (url: string, body: unknown, key: string, apiKey: string) => {
      const res = await h.http.inject({
        method: 'POST',
        url,
        headers: { authorization: `Bearer ${apiKey}`, 'idempotency-key': key, 'content-type': 'application/json' },
        payload: JSON.stringify(body),
      });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
      return res;
    };
    // An order cancel whose card refund settles after the commit (the answer is stored by the settle).
    const p = await parties(h);
    const order = await book(h, p, { startsInSeconds: 5 * 86_400, lines: 2 });
    expect((await h.post(`/v1/orders/${order.id}/confirm`, {}, { key: p.provider.key })).status).toBe(200);
    expect((await h.post(`/v1/orders/${order.id}/pay`, { paymentMethod: 'pm_card_visa' }, { key: p.customer.key })).status).toBe(200);
    const key = randomUUID();
    const cancel = { reason: 'changed plans', lineIds: [order.lines[0].id] };
    const first = await raw(`/v1/orders/${order.id}/cancel`, cancel, key, p.customer.key);
    expect(JSON.parse(first.body).refunds.map((r: { status: string }) => r.status)).toEqual(['succeeded']);
    expect(await stored(key)).toBe(first.body);
    const replay = await raw(`/v1/orders/${order.id}/cancel`, cancel, key, p.customer.key);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body).toBe(first.body);
    // The same order read back (the route's serializer, from the database) holds the same data.
    expect(JSON.parse(first.body)).toEqual((await h.get(`/v1/orders/${order.id}`, { key: p.customer.key })).body);
    // A charge: one statement writes the effect and the record.
    const customer = await h.customer({ credit: 1_000 });
    const chargeKey = randomUUID();
    const charge = await raw('/v1/charges', { customerId: customer.id, providerId: p.provider.id, amount: 100, currency: 'USD', description: 'chat' }, chargeKey, h.adminKey);
    expect(await stored(chargeKey)).toBe(charge.body);
  });
});

describe('migration 014 (answers as text)', () => {
  it('keeps every stored answer to the byte, rewritten inline (STORAGE MAIN) with the compression 010 set', async () => {
    const testDb = await createTestDatabase();
    const store = await openStore({ url: testDb.url, poolSize: 2 });
    try {
      // The schema as it was before 014, with answers stored as json.
      const before = migrations.findIndex((m) => m.name === '014_answers_as_text');
      expect(before).toBeGreaterThan(0);
      await sql`create table settle_migrations (name text primary key, applied_at timestamptz not null)`.execute(store.db);
      for (const m of migrations.slice(0, before)) {
        await sql.raw(m.up).execute(store.db);
        await sql`insert into settle_migrations (name, applied_at) values (${m.name}, now())`.execute(store.db);
      }
      // Key order, spacing and escapes as sent: json keeps the text, so must text.
      const answers = ['{"b":1,"a":[1,2,{"z":null}]}', `{"id":"ord_1","note":"caf\\u00e9 \\"x\\"","pad":"${'p'.repeat(6_000)}"}`];
      for (const [i, answer] of answers.entries()) {
        await sql`insert into idempotency_keys (scope, key, request_hash, status_code, response)
          values ('upgrade', ${`k${i}`}, 'h', 200, ${answer}::json)`.execute(store.db);
      }
      const compressionOf = async () =>
        (await sql<{ c: string }>`select attcompression::text as c from pg_attribute where attrelid = 'idempotency_keys'::regclass and attname = 'response'`.execute(store.db)).rows[0]?.c;
      const compressionBefore = await compressionOf();
      expect(await migrate(store)).toEqual(migrations.slice(before).map((m) => m.name));
      const rows = await sql<{ response: string }>`select response from idempotency_keys where scope = 'upgrade' order by key`.execute(store.db);
      expect(rows.rows.map((r) => r.response)).toEqual(answers);
      const column = await sql<{ type: string; storage: string }>`
        select format_type(atttypid, atttypmod) as type, attstorage as storage from pg_attribute
        where attrelid = 'idempotency_keys'::regclass and attname = 'response'`.execute(store.db);
      expect(column.rows[0]).toEqual({ type: 'text', storage: 'm' });
      // The column's compression as 010 set it (lz4 where the server has it; PGlite's default
      // otherwise), and the rows the type change rewrote were compressed with it, in their row.
      expect(await compressionOf()).toBe(compressionBefore);
      const big = await sql<{ method: string | null }>`select pg_column_compression(response) as method from idempotency_keys where scope = 'upgrade' and key = 'k1'`.execute(store.db);
      expect(big.rows[0]?.method).toBe(compressionBefore === 'l' ? 'lz4' : 'pglz');
      const toast = await sql<{ name: string }>`select reltoastrelid::regclass::text as name from pg_class where relname = 'idempotency_keys'`.execute(store.db);
      const chunks = await sql<{ n: number }>`select count(*)::int as n from ${sql.raw(toast.rows[0]!.name)}`.execute(store.db);
      expect(chunks.rows[0]!.n).toBe(0);
      const options = await sql<{ reloptions: string[] }>`select reloptions from pg_class where relname = 'idempotency_keys'`.execute(store.db);
      expect(options.rows[0]?.reloptions).toContain('fillfactor=70');
    } finally {
      await store.close();
      await testDb.drop();
    }
  });
});
