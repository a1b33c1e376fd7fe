// Bad input at every write route (issue 2, SPEC "Money rules" 1 and "HTTP API contract"):
// malformed JSON, empty and non-object bodies, floats, negative and > 2^53 amounts sent as
// raw JSON text, strings for amounts, unknown currencies, wrong types, unknown properties,
// unknown and malformed ids, another customer's ids, missing or bad keys, bodies over 1 MB
// and the wrong content type. Each must be a clear 4xx with a stable `error.code`, never a
// 500, and must change nothing: every refusal below is checked against a snapshot of the
// row counts, every account balance, the caps on top-ups and charges, the refunds and the
// settings, and the ledger check must stay clean.
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../helpers/harness.js';

let h: Harness;

interface Sent {
  status: number;
  body: any;
}

interface SendOptions {
  /** A JS value sent as JSON, or `raw` text sent as is. */
  body?: unknown;
  raw?: string;
  /** API key; null sends no Authorization header at all. Default: the admin key. */
  key?: string | null;
  /** Replaces the Authorization header entirely (e.g. "Basic …"). */
  authorization?: string;
  contentType?: string | null;
  idem?: string | null;
}

/** Fastify inject with full control over headers (the harness always adds some). */
async function send(method: 'POST' | 'PATCH' | 'GET', url: string, o: SendOptions = {}): Promise<Sent> {
  const headers: Record<string, string> = {};
  const key = o.key === undefined ? h.adminKey : o.key;
  if (o.authorization !== undefined) headers.authorization = o.authorization;
  else if (key !== null) headers.authorization = `Bearer ${key}`;
  if (method !== 'GET' && o.idem !== null) headers['idempotency-key'] = o.idem ?? randomUUID();
  const payload = o.raw !== undefined ? o.raw : o.body !== undefined ? JSON.stringify(o.body) : undefined;
  if (payload !== undefined && o.contentType !== null) headers['content-type'] = o.contentType ?? 'application/json';
  const res = await h.http.inject({ method, url, headers, ...(payload !== undefined ? { payload } : {}) });
  let body: unknown = res.body;
  try {
    body = JSON.parse(res.body);
  } catch {
    /* not JSON: the assertions below will say so */
  }
  return { status: res.statusCode, body };
}

const COUNTED = ['customers', 'providers', 'api_keys', 'ledger_transactions', 'postings', 'top_ups', 'charges', 'refunds', 'accounts'] as const;

/**
 * Everything a refused request must leave alone, in one query (it runs twice per request):
 * the row counts `h.counts()` reports, every account's balance (so every customer's
 * balance), the refund caps on top-ups and charges, the refunds, the settings and the keys.
 */
async function snapshot(): Promise<Record<string, unknown>> {
  const counts = sql.join(COUNTED.map((t) => sql`(select count(*) from ${sql.table(t)})::int as ${sql.ref(t)}`));
  const digest = await sql<Record<string, unknown>>`
    select ${counts},
      (select coalesce(json_agg(b order by b.account_id), '[]') from
        (select account_id, sum(balance)::text as balance from account_balances group by account_id) b)::text as balances,
      (select coalesce(json_agg(t order by t.id), '[]') from (select id, refunded_amount::text from top_ups) t)::text as top_up_caps,
      (select coalesce(json_agg(c order by c.id), '[]') from
        (select id, status, refunded_amount::text, commission_refunded::text from charges) c)::text as charge_caps,
      (select coalesce(json_agg(r order by r.id), '[]') from (select id, status, attempts, transaction_id from refunds) r)::text as refund_rows,
      (select coalesce(max(data::text), '') from settings) as settings,
      (select coalesce(json_agg(k order by k.id), '[]') from (select id, revoked_at from api_keys) k)::text as key_rows`.execute(
    h.app.services.store.db,
  );
  return digest.rows[0] as Record<string, unknown>;
}

function expectError(r: Sent, status: number, code: string): void {
  expect(r.status, JSON.stringify(r.body)).toBe(status);
  expect(r.body).toMatchObject({ error: { type: expect.any(String), code: expect.any(String), message: expect.any(String) } });
  expect(r.body.error.code, r.body.error.message).toBe(code);
}

/** Sends, expects exactly this refusal, and proves nothing changed. */
async function refused(status: number, code: string, request: () => Promise<Sent>): Promise<Sent> {
  const before = await snapshot();
  const r = await request();
  expectError(r, status, code);
  expect(await snapshot()).toEqual(before);
  return r;
}

// The world the bad requests are aimed at: two customers with credit and keys, two
// providers, and one of each kind of thing per customer.
let A: { id: string; key: string };
let B: { id: string; key: string };
let P: { id: string; key: string };
let P2: { id: string; key: string };
const mine = { topUp: '', charge: '', failedRefund: '', correction: '' };
const theirs = { topUp: '', charge: '', failedRefund: '', correction: '' };
let revokedKey = '';

async function things(customerId: string, into: typeof mine): Promise<void> {
  const topUps = await h.get(`/v1/customers/${customerId}/top-ups`);
  into.topUp = topUps.body.data[0].id;
  const charge = await h.post('/v1/charges', { customerId, providerId: P.id, amount: 1_000, currency: 'USD', description: 'chat' });
  into.charge = charge.body.id;
  const failing = await h.post(`/v1/customers/${customerId}/top-ups`, { amount: 500, currency: 'USD', paymentMethod: 'pm_card_refund_fails' });
  const refund = await h.post(`/v1/top-ups/${failing.body.id}/refunds`, { amount: 200 });
  expect(refund.body.status).toBe('failed');
  into.failedRefund = refund.body.id;
  const correction = await h.post(`/v1/customers/${customerId}/balance-corrections`, { amount: 100, currency: 'USD', memo: 'goodwill' });
  into.correction = correction.body.id;
}

beforeAll(async () => {
  h = await startHarness();
  A = await h.customer({ credit: 10_000, name: 'Alice Private' });
  B = await h.customer({ credit: 10_000, name: 'Bob Private' });
  P = await h.provider();
  P2 = await h.provider();
  await things(A.id, mine);
  await things(B.id, theirs);
  const key = await h.post('/v1/api-keys', { role: 'customer', customerId: A.id, label: 'to revoke' });
  await h.app.services.store.db.updateTable('api_keys').set({ revoked_at: new Date() }).where('id', '=', key.body.id).execute();
  revokedKey = key.body.key;
});
afterAll(() => h?.close());

describe('the snapshot used below', () => {
  it("sees what h.counts() and the customers' balances see", async () => {
    const snap = await snapshot();
    const counts = await h.counts();
    for (const t of COUNTED) expect(snap[t], t).toBe(counts[t]);
    const balances = JSON.parse(snap.balances as string) as Array<{ account_id: string; balance: string }>;
    const of = (id: string) => Number(balances.find((b) => b.account_id === `acct_customer_credit_${id}_USD`)?.balance);
    expect(of(A.id)).toBe(await h.balance(A.id));
    expect(of(B.id)).toBe(await h.balance(B.id));
    // A change is seen: a correction moves A's balance and adds rows.
    await h.post(`/v1/customers/${A.id}/balance-corrections`, { amount: 1, currency: 'USD', memo: 'seen' });
    expect(await snapshot()).not.toEqual(snap);
    await h.post(`/v1/customers/${A.id}/balance-corrections`, { amount: -1, currency: 'USD', memo: 'undo' });
  });
});

interface Route {
  name: string;
  method: 'POST' | 'PATCH';
  path: () => string;
  /** A body this route accepts (so each case below spoils exactly one thing). */
  valid: () => Record<string, unknown>;
  /** A text field, to carry characters the database cannot store. */
  text?: string;
}

const ROUTES: Route[] = [
  { name: 'POST /v1/customers', method: 'POST', path: () => '/v1/customers', valid: () => ({ email: `${randomUUID()}@example.com`, name: 'N' }), text: 'name' },
  { name: 'POST /v1/providers', method: 'POST', path: () => '/v1/providers', valid: () => ({ email: `${randomUUID()}@example.com`, name: 'N' }), text: 'name' },
  { name: 'POST /v1/api-keys', method: 'POST', path: () => '/v1/api-keys', valid: () => ({ role: 'customer', customerId: A.id, label: 'l' }), text: 'label' },
  {
    name: 'POST /v1/customers/:id/top-ups',
    method: 'POST',
    path: () => `/v1/customers/${A.id}/top-ups`,
    valid: () => ({ amount: 100, currency: 'USD', paymentMethod: 'pm_card_visa' }),
    text: 'paymentMethod',
  },
  { name: 'POST /v1/top-ups/:id/refunds', method: 'POST', path: () => `/v1/top-ups/${mine.topUp}/refunds`, valid: () => ({ amount: 1, reason: 'r' }), text: 'reason' },
  {
    name: 'POST /v1/charges',
    method: 'POST',
    path: () => '/v1/charges',
    valid: () => ({ customerId: A.id, providerId: P.id, amount: 1, currency: 'USD', description: 'd' }),
    text: 'description',
  },
  { name: 'POST /v1/charges/:id/refunds', method: 'POST', path: () => `/v1/charges/${mine.charge}/refunds`, valid: () => ({ amount: 1, reason: 'r' }), text: 'reason' },
  {
    name: 'POST /v1/customers/:id/balance-corrections',
    method: 'POST',
    path: () => `/v1/customers/${A.id}/balance-corrections`,
    valid: () => ({ amount: 1, currency: 'USD', memo: 'm' }),
    text: 'memo',
  },
  { name: 'POST /v1/transactions/:id/reverse', method: 'POST', path: () => `/v1/transactions/${mine.correction}/reverse`, valid: () => ({ memo: 'm' }), text: 'memo' },
  { name: 'POST /v1/refunds/:id/retry', method: 'POST', path: () => `/v1/refunds/${mine.failedRefund}/retry`, valid: () => ({}) },
  { name: 'PATCH /v1/settings', method: 'PATCH', path: () => '/v1/settings', valid: () => ({ providerCommissionPercent: 0 }), text: 'timeZone' },
];

describe.each(ROUTES)('$name: malformed requests', (route) => {
  const go = (o: SendOptions) => send(route.method, route.path(), o);

  it('malformed JSON → 400 invalid_json', async () => {
    for (const raw of ['{"amount": 1,', '{amount: 1}', "{'a': 1}", '{"a": 1}}', 'nul', '{"a": NaN}', '{"a": 0x10}', '{"a": Infinity}', '\u0000']) {
      await refused(400, 'invalid_json', () => go({ raw }));
    }
  });

  it('an empty body with a JSON content type → 400 invalid_json', async () => {
    await refused(400, 'invalid_json', () => go({ raw: '' }));
    await refused(400, 'invalid_json', () => go({ raw: '   ' }));
  });

  it('JSON that is not an object → 400 parameter_invalid', async () => {
    for (const raw of ['null', '[]', '[{}]', '"text"', '42', 'true']) {
      const r = await refused(400, 'parameter_invalid', () => go({ raw }));
      expect(r.body.error.param).toBe('body');
    }
  });

  it('an unknown property → 400 parameter_unknown, naming it', async () => {
    const r = await refused(400, 'parameter_unknown', () => go({ body: { ...route.valid(), surprise: 1 } }));
    expect(r.body.error.param).toBe('surprise');
    await refused(400, 'parameter_unknown', () => go({ body: { ...route.valid(), __proto_: {} } }));
  });

  it('prototype-pollution keys → 400 invalid_json', async () => {
    await refused(400, 'invalid_json', () => go({ raw: JSON.stringify(route.valid()).replace(/^\{/, '{"__proto__": {"admin": true},') }));
    await refused(400, 'invalid_json', () => go({ raw: JSON.stringify(route.valid()).replace(/^\{/, '{"constructor": {"prototype": {"admin": true}},') }));
  });

  it('the wrong content type → 415 unsupported_media_type (text/plain: 400, a string is not an object)', async () => {
    const raw = JSON.stringify(route.valid());
    await refused(415, 'unsupported_media_type', () => go({ raw, contentType: 'application/xml' }));
    await refused(415, 'unsupported_media_type', () => go({ raw, contentType: 'application/x-www-form-urlencoded' }));
    await refused(415, 'unsupported_media_type', () => go({ raw, contentType: 'multipart/form-data; boundary=x' }));
    await refused(400, 'parameter_invalid', () => go({ raw, contentType: 'text/plain' }));
  });

  it('a body over 1 MB → 413 body_too_large', async () => {
    await refused(413, 'body_too_large', () => go({ body: { ...route.valid(), padding: 'x'.repeat(1024 * 1024) } }));
    await refused(413, 'body_too_large', () => go({ raw: `[${'0,'.repeat(600_000)}0]` }));
  });

  it('deeply nested JSON → a 4xx, not a crash', async () => {
    await refused(400, 'parameter_invalid', () => go({ raw: `${'['.repeat(100_000)}${']'.repeat(100_000)}` }));
    const nested = `${'{"a":'.repeat(50_000)}1${'}'.repeat(50_000)}`;
    await refused(400, 'parameter_unknown', () => go({ raw: JSON.stringify(route.valid()).replace(/^\{/, `{"deep": ${nested}${Object.keys(route.valid()).length ? ',' : ''}`) }));
  });

  it('text the database cannot store (NUL, unpaired surrogates) → 400 parameter_invalid', async () => {
    const field = route.text ?? 'x';
    for (const bad of ['a\u0000b', 'a\uD800b', '\uDC00']) {
      const r = await refused(400, 'parameter_invalid', () => go({ body: { ...route.valid(), [field]: bad } }));
      expect(r.body.error.param).toBe(field);
    }
    const key = await refused(400, 'parameter_invalid', () => go({ body: { ...route.valid(), 'k\u0000': 1 } }));
    expect(key.body.error.param).toBe('k\u0000');
  });

  it('missing, malformed, unknown and revoked keys → 401 unauthenticated, whatever the body', async () => {
    const body = route.valid();
    await refused(401, 'unauthenticated', () => go({ body, key: null }));
    await refused(401, 'unauthenticated', () => go({ raw: '{"broken', key: null }));
    await refused(401, 'unauthenticated', () => go({ body: { ...body, padding: 'x'.repeat(1024 * 1024) }, key: null }));
    for (const authorization of ['', 'Bearer', 'Bearer ', `Basic ${Buffer.from('admin:admin').toString('base64')}`, `Token ${h.adminKey}`, `Bearer ${h.adminKey} extra`, `Bearer ${'k'.repeat(201)}`, `${h.adminKey}`]) {
      await refused(401, 'unauthenticated', () => go({ body, authorization }));
    }
    for (const key of ['garbage', `${h.adminKey}x`, h.adminKey.slice(0, -1), 'sk_test_admin_00000000-0000-0000-0000-000000000000', revokedKey]) {
      await refused(401, 'unauthenticated', () => go({ body, key }));
    }
  });

  it('an Idempotency-Key that is too long → 400 idempotency_key_invalid', async () => {
    await refused(400, 'idempotency_key_invalid', () => go({ body: route.valid(), idem: 'k'.repeat(256) }));
  });
});

/** Raw JSON text for `valid` with `field` set to the literal `rawValue` (e.g. 9007199254740993). */
function withRaw(valid: Record<string, unknown>, field: string, rawValue: string): string {
  return JSON.stringify({ ...valid, [field]: '@@RAW@@' }).replace('"@@RAW@@"', rawValue);
}

// Not a safe non-negative integer of minor units: each is a 400 amount_invalid.
const NOT_AN_AMOUNT = [
  '15.5',
  '0.01',
  '1500.0000001',
  '9007199254740992', // 2^53
  '9007199254740993', // 2^53 + 1: JSON.parse would silently round it to 2^53
  '18446744073709551616',
  '1e300',
  '1e16',
  '"1500"',
  '"15.00"',
  '""',
  'null',
  'true',
  '[1500]',
  '{"value": 1500}',
];

const AMOUNT_ROUTES = [
  { name: 'top-up', path: () => `/v1/customers/${A.id}/top-ups`, valid: () => ({ amount: 100, currency: 'USD', paymentMethod: 'pm_card_visa' }), signed: false },
  { name: 'top-up refund', path: () => `/v1/top-ups/${mine.topUp}/refunds`, valid: () => ({ amount: 1 }), signed: false },
  { name: 'charge', path: () => '/v1/charges', valid: () => ({ customerId: A.id, providerId: P.id, amount: 1, currency: 'USD', description: 'd' }), signed: false },
  { name: 'charge refund', path: () => `/v1/charges/${mine.charge}/refunds`, valid: () => ({ amount: 1 }), signed: false },
  { name: 'balance correction', path: () => `/v1/customers/${A.id}/balance-corrections`, valid: () => ({ amount: 1, currency: 'USD', memo: 'm' }), signed: true },
];

describe.each(AMOUNT_ROUTES)('$name: amounts that are not safe integers of minor units', (route) => {
  const go = (raw: string) => send('POST', route.path(), { raw });

  it('floats, > 2^53, strings, and other types → 400 amount_invalid', async () => {
    for (const value of NOT_AN_AMOUNT) {
      const r = await refused(400, 'amount_invalid', () => go(withRaw(route.valid(), 'amount', value)));
      expect(r.body.error.param).toBe('amount');
    }
  });

  it(route.signed ? 'below -(2^53 - 1), or zero → 400 amount_invalid' : 'zero and negative amounts → 400 amount_invalid', async () => {
    const values = route.signed ? ['0', '-0', '-9007199254740992', '-9007199254740993', '-1e300', '-15.5'] : ['0', '-0', '-1', '-5', '-1500', '-9007199254740993', '-1e300'];
    for (const value of values) await refused(400, 'amount_invalid', () => go(withRaw(route.valid(), 'amount', value)));
  });

  it('NaN and Infinity are not JSON → 400 invalid_json', async () => {
    for (const value of ['NaN', 'Infinity', '-Infinity', '1_000', '01500', '+1500', '.5']) {
      await refused(400, 'invalid_json', () => go(withRaw(route.valid(), 'amount', value)));
    }
  });
});

describe.each([
  { name: 'top-up', path: () => `/v1/customers/${A.id}/top-ups`, valid: () => ({ amount: 100, currency: 'USD', paymentMethod: 'pm_card_visa' }) },
  { name: 'charge', path: () => '/v1/charges', valid: () => ({ customerId: A.id, providerId: P.id, amount: 1, currency: 'USD', description: 'd' }) },
  { name: 'balance correction', path: () => `/v1/customers/${A.id}/balance-corrections`, valid: () => ({ amount: 1, currency: 'USD', memo: 'm' }) },
])('$name: currencies that are not ISO 4217 codes', (route) => {
  it('→ 400 parameter_invalid on currency', async () => {
    for (const currency of ['ZZZ', 'XXY', 'usd', 'Usd', 'US', 'USDD', '', ' USD', 'US D', '840', 840, null, true, ['USD'], { code: 'USD' }]) {
      const r = await refused(400, 'parameter_invalid', () => send('POST', route.path(), { body: { ...route.valid(), currency } }));
      expect(r.body.error.param).toBe('currency');
    }
  });

  it('a missing currency → 400 parameter_missing', async () => {
    const { currency: _omitted, ...body } = route.valid();
    const r = await refused(400, 'parameter_missing', () => send('POST', route.path(), { body }));
    expect(r.body.error.param).toBe('currency');
  });
});

describe('wrong types and values, route by route', () => {
  const cases: Array<[string, 'POST' | 'PATCH', () => string, () => unknown, number, string, string?]> = [
    // [label, method, path, body, status, code, param]
    ['customer: email a number', 'POST', () => '/v1/customers', () => ({ email: 42, name: 'N' }), 400, 'parameter_invalid', 'email'],
    ['customer: email without @', 'POST', () => '/v1/customers', () => ({ email: 'nobody.example.com', name: 'N' }), 400, 'parameter_invalid', 'email'],
    ['customer: email with spaces', 'POST', () => '/v1/customers', () => ({ email: 'a b@example.com', name: 'N' }), 400, 'parameter_invalid', 'email'],
    ['customer: email too long', 'POST', () => '/v1/customers', () => ({ email: `${'a'.repeat(250)}@example.com`, name: 'N' }), 400, 'parameter_invalid', 'email'],
    ['customer: empty name', 'POST', () => '/v1/customers', () => ({ email: 'x@example.com', name: '' }), 400, 'parameter_invalid', 'name'],
    ['customer: name too long', 'POST', () => '/v1/customers', () => ({ email: 'x@example.com', name: 'n'.repeat(201) }), 400, 'parameter_invalid', 'name'],
    ['customer: name null', 'POST', () => '/v1/customers', () => ({ email: 'x@example.com', name: null }), 400, 'parameter_invalid', 'name'],
    ['customer: name an object', 'POST', () => '/v1/customers', () => ({ email: 'x@example.com', name: { first: 'N' } }), 400, 'parameter_invalid', 'name'],
    ['customer: no email', 'POST', () => '/v1/customers', () => ({ name: 'N' }), 400, 'parameter_missing', 'email'],
    ['customer: empty object', 'POST', () => '/v1/customers', () => ({}), 400, 'parameter_missing'],
    ['provider: email an array', 'POST', () => '/v1/providers', () => ({ email: ['a@example.com'], name: 'N' }), 400, 'parameter_invalid', 'email'],
    ['provider: no name', 'POST', () => '/v1/providers', () => ({ email: 'p@example.com' }), 400, 'parameter_missing', 'name'],
    ['api key: unknown role', 'POST', () => '/v1/api-keys', () => ({ role: 'root' }), 400, 'parameter_invalid', 'role'],
    ['api key: role in capitals', 'POST', () => '/v1/api-keys', () => ({ role: 'ADMIN' }), 400, 'parameter_invalid', 'role'],
    ['api key: no role', 'POST', () => '/v1/api-keys', () => ({ customerId: A.id }), 400, 'parameter_missing', 'role'],
    ['api key: customer key without customerId', 'POST', () => '/v1/api-keys', () => ({ role: 'customer' }), 400, 'parameter_missing', 'customerId'],
    ['api key: provider key without providerId', 'POST', () => '/v1/api-keys', () => ({ role: 'provider' }), 400, 'parameter_missing', 'providerId'],
    ['api key: admin key with a customerId', 'POST', () => '/v1/api-keys', () => ({ role: 'admin', customerId: A.id }), 400, 'parameter_invalid', 'customerId'],
    ['api key: customer key with a providerId', 'POST', () => '/v1/api-keys', () => ({ role: 'customer', customerId: A.id, providerId: P.id }), 400, 'parameter_invalid', 'providerId'],
    ['api key: customerId with a provider prefix', 'POST', () => '/v1/api-keys', () => ({ role: 'customer', customerId: P.id }), 400, 'parameter_invalid', 'customerId'],
    ['api key: label a number', 'POST', () => '/v1/api-keys', () => ({ role: 'admin', label: 7 }), 400, 'parameter_invalid', 'label'],
    ['top-up: paymentMethod a number', 'POST', () => `/v1/customers/${A.id}/top-ups`, () => ({ amount: 100, currency: 'USD', paymentMethod: 4242 }), 400, 'parameter_invalid', 'paymentMethod'],
    ['top-up: empty paymentMethod', 'POST', () => `/v1/customers/${A.id}/top-ups`, () => ({ amount: 100, currency: 'USD', paymentMethod: '' }), 400, 'parameter_invalid', 'paymentMethod'],
    ['top-up: unknown payment method', 'POST', () => `/v1/customers/${A.id}/top-ups`, () => ({ amount: 100, currency: 'USD', paymentMethod: 'pm_card_nonsense' }), 400, 'invalid_payment_method', 'paymentMethod'],
    ['top-up: no amount', 'POST', () => `/v1/customers/${A.id}/top-ups`, () => ({ currency: 'USD', paymentMethod: 'pm_card_visa' }), 400, 'parameter_missing', 'amount'],
    ['top-up: declined card (402, not bad input, but changes nothing)', 'POST', () => `/v1/customers/${A.id}/top-ups`, () => ({ amount: 100, currency: 'USD', paymentMethod: 'pm_card_declined' }), 402, 'card_declined', 'paymentMethod'],
    ['top-up refund: reason a number', 'POST', () => `/v1/top-ups/${mine.topUp}/refunds`, () => ({ amount: 1, reason: 5 }), 400, 'parameter_invalid', 'reason'],
    ['top-up refund: empty reason', 'POST', () => `/v1/top-ups/${mine.topUp}/refunds`, () => ({ amount: 1, reason: '' }), 400, 'parameter_invalid', 'reason'],
    ['top-up refund: more than was topped up', 'POST', () => `/v1/top-ups/${mine.topUp}/refunds`, () => ({ amount: 10_001 }), 422, 'refund_exceeds_refundable', 'amount'],
    ['charge: customerId a number', 'POST', () => '/v1/charges', () => ({ customerId: 1, providerId: P.id, amount: 1, currency: 'USD', description: 'd' }), 400, 'parameter_invalid', 'customerId'],
    ['charge: providerId with a customer prefix', 'POST', () => '/v1/charges', () => ({ customerId: A.id, providerId: B.id, amount: 1, currency: 'USD', description: 'd' }), 400, 'parameter_invalid', 'providerId'],
    ['charge: empty description', 'POST', () => '/v1/charges', () => ({ customerId: A.id, providerId: P.id, amount: 1, currency: 'USD', description: '' }), 400, 'parameter_invalid', 'description'],
    ['charge: description too long', 'POST', () => '/v1/charges', () => ({ customerId: A.id, providerId: P.id, amount: 1, currency: 'USD', description: 'd'.repeat(501) }), 400, 'parameter_invalid', 'description'],
    ['charge: no description', 'POST', () => '/v1/charges', () => ({ customerId: A.id, providerId: P.id, amount: 1, currency: 'USD' }), 400, 'parameter_missing', 'description'],
    ['charge: more than the balance', 'POST', () => '/v1/charges', () => ({ customerId: A.id, providerId: P.id, amount: 1_000_000, currency: 'USD', description: 'd' }), 422, 'insufficient_funds'],
    ['charge: a currency the customer holds none of', 'POST', () => '/v1/charges', () => ({ customerId: A.id, providerId: P.id, amount: 1, currency: 'JPY', description: 'd' }), 422, 'insufficient_funds'],
    ['charge refund: reason an array', 'POST', () => `/v1/charges/${mine.charge}/refunds`, () => ({ reason: ['r'] }), 400, 'parameter_invalid', 'reason'],
    ['charge refund: more than was charged', 'POST', () => `/v1/charges/${mine.charge}/refunds`, () => ({ amount: 1_001 }), 422, 'refund_exceeds_refundable', 'amount'],
    ['correction: no memo', 'POST', () => `/v1/customers/${A.id}/balance-corrections`, () => ({ amount: 1, currency: 'USD' }), 400, 'parameter_missing', 'memo'],
    ['correction: empty memo', 'POST', () => `/v1/customers/${A.id}/balance-corrections`, () => ({ amount: 1, currency: 'USD', memo: '' }), 400, 'parameter_invalid', 'memo'],
    ['correction: below zero', 'POST', () => `/v1/customers/${A.id}/balance-corrections`, () => ({ amount: -1_000_000, currency: 'USD', memo: 'm' }), 422, 'insufficient_funds'],
    ['reverse: memo a number', 'POST', () => `/v1/transactions/${mine.correction}/reverse`, () => ({ memo: 5 }), 400, 'parameter_invalid', 'memo'],
    ['reverse: a top-up cannot be reversed', 'POST', () => `/v1/transactions/${topUpTxn}/reverse`, () => ({}), 422, 'transaction_not_reversible'],
    ['retry: a property in the empty body', 'POST', () => `/v1/refunds/${mine.failedRefund}/retry`, () => ({ amount: 1 }), 400, 'parameter_unknown', 'amount'],
    ['settings: empty patch', 'PATCH', () => '/v1/settings', () => ({}), 400, 'parameter_invalid', 'body'],
    ['settings: percent over 100', 'PATCH', () => '/v1/settings', () => ({ providerCommissionPercent: 100.5 }), 400, 'parameter_invalid', 'providerCommissionPercent'],
    ['settings: negative percent', 'PATCH', () => '/v1/settings', () => ({ providerCommissionPercent: -1 }), 400, 'parameter_invalid', 'providerCommissionPercent'],
    ['settings: percent with three decimals', 'PATCH', () => '/v1/settings', () => ({ providerCommissionPercent: 12.345 }), 400, 'parameter_invalid', 'providerCommissionPercent'],
    ['settings: percent as a string', 'PATCH', () => '/v1/settings', () => ({ providerCommissionPercent: '5' }), 400, 'parameter_invalid', 'providerCommissionPercent'],
    ['settings: fractional hours', 'PATCH', () => '/v1/settings', () => ({ confirmationWindowHours: 1.5 }), 400, 'parameter_invalid', 'confirmationWindowHours'],
    ['settings: hours over the maximum', 'PATCH', () => '/v1/settings', () => ({ sameDayConfirmationWindowHours: 25 }), 400, 'parameter_invalid', 'sameDayConfirmationWindowHours'],
    ['settings: boolean as a string', 'PATCH', () => '/v1/settings', () => ({ allowCustomerEdits: 'yes' }), 400, 'parameter_invalid', 'allowCustomerEdits'],
    ['settings: unknown refund destination', 'PATCH', () => '/v1/settings', () => ({ defaultRefundDestination: 'wallet' }), 400, 'parameter_invalid', 'defaultRefundDestination'],
    ['settings: unknown time zone', 'PATCH', () => '/v1/settings', () => ({ timeZone: 'Mars/Olympus_Mons' }), 400, 'parameter_invalid', 'timeZone'],
    ['settings: unknown currency', 'PATCH', () => '/v1/settings', () => ({ defaultCurrency: 'ZZZ' }), 400, 'currency_invalid', 'defaultCurrency'],
    ['settings: lower-case currency', 'PATCH', () => '/v1/settings', () => ({ defaultCurrency: 'usd' }), 400, 'parameter_invalid', 'defaultCurrency'],
    ['settings: half a service fee', 'PATCH', () => '/v1/settings', () => ({ serviceFee: { fixed: 100 } }), 400, 'parameter_missing', 'serviceFee.percent'],
    ['settings: fractional fixed fee', 'PATCH', () => '/v1/settings', () => ({ serviceFee: { fixed: 1.5, percent: 0 } }), 400, 'amount_invalid', 'serviceFee.fixed'],
    ['settings: negative fixed fee', 'PATCH', () => '/v1/settings', () => ({ serviceFee: { fixed: -1, percent: 0 } }), 400, 'amount_invalid', 'serviceFee.fixed'],
    ['settings: unknown nested property', 'PATCH', () => '/v1/settings', () => ({ serviceFee: { fixed: 0, percent: 0, cap: 1 } }), 400, 'parameter_unknown', 'serviceFee.cap'],
  ];
  let topUpTxn = '';
  beforeAll(async () => {
    topUpTxn = (await h.get(`/v1/top-ups/${mine.topUp}`)).body.transactionId;
  });

  it.each(cases)('%s → %s %s', async (_label, method, path, body, status, code, param) => {
    const r = await refused(status, code, () => send(method, path(), { body: body() }));
    if (param) expect(r.body.error.param).toBe(param);
  });

  it('a two-decimal percentage that is not exact in binary floating point (1.13) is accepted and used', async () => {
    const r = await h.patch('/v1/settings', { providerCommissionPercent: 1.13 });
    try {
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      const charge = await h.post('/v1/charges', { customerId: A.id, providerId: P.id, amount: 1_000, currency: 'USD', description: 'd' });
      expect(charge.body.commissionAmount).toBe(11); // 11.3 rounds to 11
      expect((await h.post(`/v1/charges/${charge.body.id}/refunds`, {})).status).toBe(200);
    } finally {
      await h.patch('/v1/settings', { providerCommissionPercent: 0 });
    }
  });
});

describe('unknown ids (well-formed, nonexistent) → 404 resource_missing', () => {
  const cases: Array<[string, () => string, () => unknown, string]> = [
    ['top-up for an unknown customer', () => '/v1/customers/cus_0000000000NOPE/top-ups', () => ({ amount: 100, currency: 'USD', paymentMethod: 'pm_card_visa' }), 'cus_0000000000NOPE'],
    ['refund of an unknown top-up', () => '/v1/top-ups/tu_0000000000NOPE/refunds', () => ({ amount: 1 }), 'tu_0000000000NOPE'],
    ['retry of an unknown refund', () => '/v1/refunds/re_0000000000NOPE/retry', () => ({}), 're_0000000000NOPE'],
    ['charge of an unknown customer', () => '/v1/charges', () => ({ customerId: 'cus_0000000000NOPE', providerId: P.id, amount: 1, currency: 'USD', description: 'd' }), 'cus_0000000000NOPE'],
    ['charge for an unknown provider', () => '/v1/charges', () => ({ customerId: A.id, providerId: 'prv_0000000000NOPE', amount: 1, currency: 'USD', description: 'd' }), 'prv_0000000000NOPE'],
    ['refund of an unknown charge', () => '/v1/charges/ch_0000000000NOPE/refunds', () => ({ amount: 1 }), 'ch_0000000000NOPE'],
    ['full refund of an unknown charge', () => '/v1/charges/ch_0000000000NOPE/refunds', () => ({}), 'ch_0000000000NOPE'],
    ['correction for an unknown customer', () => '/v1/customers/cus_0000000000NOPE/balance-corrections', () => ({ amount: 1, currency: 'USD', memo: 'm' }), 'cus_0000000000NOPE'],
    ['reversal of an unknown transaction', () => '/v1/transactions/txn_0000000000NOPE/reverse', () => ({}), 'txn_0000000000NOPE'],
    ['key for an unknown customer', () => '/v1/api-keys', () => ({ role: 'customer', customerId: 'cus_0000000000NOPE' }), 'cus_0000000000NOPE'],
    ['key for an unknown provider', () => '/v1/api-keys', () => ({ role: 'provider', providerId: 'prv_0000000000NOPE' }), 'prv_0000000000NOPE'],
    ['order for an unknown customer', () => '/v1/orders', () => ({ process: 'booking', customerId: 'cus_0000000000NOPE', providerId: P.id, currency: 'USD', lines: [{ description: 'd', quantity: 1, unitAmount: 100 }] }), 'cus_0000000000NOPE'],
    ['order for an unknown provider', () => '/v1/orders', () => ({ process: 'booking', customerId: A.id, providerId: 'prv_0000000000NOPE', currency: 'USD', lines: [{ description: 'd', quantity: 1, unitAmount: 100 }] }), 'prv_0000000000NOPE'],
    ['order for an unknown customer and provider', () => '/v1/orders', () => ({ process: 'direct', customerId: 'cus_0000000000NOPE', providerId: 'prv_0000000000NOPE', currency: 'USD', lines: [{ description: 'd', quantity: 1, unitAmount: 100 }] }), '_0000000000NOPE'],
  ];
  it.each(cases)('%s', async (_label, path, body, id) => {
    const r = await refused(404, 'resource_missing', () => send('POST', path(), { body: body() }));
    expect(r.body.error.message).toContain(id);
  });
});

describe('malformed ids in the path → 400 parameter_invalid on id', () => {
  const malformed = (prefix: string, other: string) => [
    '123',
    `${prefix}_`,
    `${prefix}-123`,
    `${prefix.toUpperCase()}_123`,
    `${other}_123`, // the wrong kind of id
    `${prefix}_abc%21`,
    `${prefix}_%00`,
    `${prefix}_%C3%A9`,
    `${prefix}_${'A'.repeat(65)}`,
    `%20${prefix}_123`,
    `${prefix}_1%2F2`,
  ];
  const routes: Array<[string, (id: string) => string, () => unknown, string, string]> = [
    ['top-ups', (id) => `/v1/customers/${id}/top-ups`, () => ({ amount: 100, currency: 'USD', paymentMethod: 'pm_card_visa' }), 'cus', 'prv'],
    ['balance corrections', (id) => `/v1/customers/${id}/balance-corrections`, () => ({ amount: 1, currency: 'USD', memo: 'm' }), 'cus', 'prv'],
    ['top-up refunds', (id) => `/v1/top-ups/${id}/refunds`, () => ({}), 'tu', 'ch'],
    ['charge refunds', (id) => `/v1/charges/${id}/refunds`, () => ({}), 'ch', 'tu'],
    ['reversals', (id) => `/v1/transactions/${id}/reverse`, () => ({}), 'txn', 're'],
    ['refund retries', (id) => `/v1/refunds/${id}/retry`, () => ({}), 're', 'txn'],
  ];
  it.each(routes)('%s', async (_label, path, body, prefix, other) => {
    for (const id of malformed(prefix, other)) {
      const r = await refused(400, 'parameter_invalid', () => send('POST', path(id), { body: body() }));
      expect(r.body.error.param, id).toBe('id');
    }
  });

  it('a path that matches no route → 404 route_not_found', async () => {
    await refused(404, 'route_not_found', () => send('POST', `/v1/customers/${A.id}/top-ups/extra`, { body: {} }));
    await refused(404, 'route_not_found', () => send('POST', '/v1/nothing', { body: {} }));
  });
});

describe("another customer's ids with a customer key: refused exactly as if they did not exist", () => {
  /** The refusal for B's id must look like the one for an unknown id, and mention nothing of B. */
  function sameAsUnknown(theirs: Sent, unknown: Sent, theirId: string, unknownId: string): void {
    expect(theirs.status).toBe(unknown.status);
    expect(theirs.body).toEqual(JSON.parse(JSON.stringify(unknown.body).replaceAll(unknownId, theirId)));
    expect(JSON.stringify(theirs.body)).not.toContain('Bob');
    expect(Object.keys(theirs.body.error).sort()).toEqual(['code', 'message', 'param', 'type']); // nothing about them
  }

  it("top-up to another customer's account → 404, like an unknown customer", async () => {
    const body = { amount: 100, currency: 'USD', paymentMethod: 'pm_card_visa' };
    const theirsR = await refused(404, 'resource_missing', () => send('POST', `/v1/customers/${B.id}/top-ups`, { body, key: A.key }));
    const unknown = await refused(404, 'resource_missing', () => send('POST', '/v1/customers/cus_0000000000NOPE/top-ups', { body, key: A.key }));
    sameAsUnknown(theirsR, unknown, B.id, 'cus_0000000000NOPE');
  });

  it("a charge on another customer's credit → 404, like an unknown customer", async () => {
    const body = (customerId: string) => ({ customerId, providerId: P.id, amount: 100, currency: 'USD', description: 'd' });
    const theirsR = await refused(404, 'resource_missing', () => send('POST', '/v1/charges', { body: body(B.id), key: A.key }));
    const unknown = await refused(404, 'resource_missing', () => send('POST', '/v1/charges', { body: body('cus_0000000000NOPE'), key: A.key }));
    sameAsUnknown(theirsR, unknown, B.id, 'cus_0000000000NOPE');
  });

  it('admin-only writes on their things → 403, exactly as on my own things', async () => {
    const pairs: Array<[string, string, unknown]> = [
      [`/v1/top-ups/${theirs.topUp}/refunds`, `/v1/top-ups/${mine.topUp}/refunds`, { amount: 1 }],
      [`/v1/charges/${theirs.charge}/refunds`, `/v1/charges/${mine.charge}/refunds`, { amount: 1 }],
      [`/v1/customers/${B.id}/balance-corrections`, `/v1/customers/${A.id}/balance-corrections`, { amount: 1, currency: 'USD', memo: 'm' }],
      [`/v1/transactions/${theirs.correction}/reverse`, `/v1/transactions/${mine.correction}/reverse`, {}],
      [`/v1/refunds/${theirs.failedRefund}/retry`, `/v1/refunds/${mine.failedRefund}/retry`, {}],
    ];
    for (const [theirPath, myPath, body] of pairs) {
      const t = await refused(403, 'forbidden', () => send('POST', theirPath, { body, key: A.key }));
      const m = await refused(403, 'forbidden', () => send('POST', myPath, { body, key: A.key }));
      expect(t.body).toEqual(m.body);
    }
  });

  it("a provider refunding another provider's charge → 404, like an unknown charge", async () => {
    const theirsR = await refused(404, 'resource_missing', () => send('POST', `/v1/charges/${mine.charge}/refunds`, { body: { amount: 1 }, key: P2.key }));
    const unknown = await refused(404, 'resource_missing', () => send('POST', '/v1/charges/ch_0000000000NOPE/refunds', { body: { amount: 1 }, key: P2.key }));
    sameAsUnknown(theirsR, unknown, mine.charge, 'ch_0000000000NOPE');
  });

  it('an idempotent replay is per key: the same Idempotency-Key from another customer does not replay their response', async () => {
    const idem = randomUUID();
    const body = { amount: 100, currency: 'USD', paymentMethod: 'pm_card_visa' };
    const bobs = await send('POST', `/v1/customers/${B.id}/top-ups`, { body, key: B.key, idem });
    expect(bobs.status).toBe(200);
    const alice = await refused(404, 'resource_missing', () => send('POST', `/v1/customers/${B.id}/top-ups`, { body, key: A.key, idem }));
    expect(JSON.stringify(alice.body)).not.toContain(bobs.body.id);
  });
});

describe('reads with bad input', () => {
  it('bad query strings → 400, never 500', async () => {
    const cases: Array<[string, string]> = [
      ['/v1/customers?limit=0', 'parameter_invalid'],
      ['/v1/customers?limit=1000000', 'parameter_invalid'],
      ['/v1/customers?limit=abc', 'parameter_invalid'],
      ['/v1/customers?limit=1.5', 'parameter_invalid'],
      ['/v1/customers?bogus=1', 'parameter_unknown'],
      ['/v1/customers?email=%00', 'parameter_invalid'],
      ['/v1/customers?starting_after=%00', 'parameter_invalid'],
      [`/v1/customers/${A.id}/transactions?starting_after=a%00b`, 'parameter_invalid'],
      [`/v1/customers/${A.id}/transactions?currency=ZZZ`, 'parameter_invalid'],
      [`/v1/charges?customerId=nope`, 'parameter_invalid'],
    ];
    for (const [url, code] of cases) {
      const r = await send('GET', url);
      expectError(r, 400, code);
    }
  });

  it('unknown and malformed ids → 404 / 400', async () => {
    for (const url of ['/v1/customers/cus_0000000000NOPE', '/v1/providers/prv_0000000000NOPE', '/v1/top-ups/tu_0000000000NOPE', '/v1/charges/ch_0000000000NOPE', '/v1/refunds/re_0000000000NOPE', '/v1/transactions/txn_0000000000NOPE', '/v1/customers/cus_0000000000NOPE/transactions']) {
      expectError(await send('GET', url), 404, 'resource_missing');
    }
    for (const url of ['/v1/customers/nope', '/v1/top-ups/cus_1', '/v1/charges/ch_%00', '/v1/transactions/txn_a-b']) {
      expectError(await send('GET', url), 400, 'parameter_invalid');
    }
  });
});

describe('order money that would take a credit past 2^53 - 1', () => {
  // Order payments by card and order refunds into credit add to the customer's credit too;
  // on PostgreSQL those ledger writes go out with the transition's next statement, so the
  // refusal must still come back as this 422, with nothing of the transition written.
  const paidOrder = async (c: { id: string; key: string }, pay: boolean) => {
    const p = await h.provider();
    const lines = [{ description: 'Session', quantity: 1, unitAmount: 100 }];
    const order = await h.post('/v1/orders', { process: 'booking', customerId: c.id, providerId: p.id, currency: 'USD', lines }, { key: c.key });
    expect(order.status, JSON.stringify(order.body)).toBe(200);
    expect((await h.post(`/v1/orders/${order.body.id}/confirm`, {}, { key: p.key })).status).toBe(200);
    if (pay) expect((await h.post(`/v1/orders/${order.body.id}/pay`, { useAccountCredit: false, paymentMethod: 'pm_card_visa' }, { key: c.key })).status).toBe(200);
    return order.body.id as string;
  };

  it('an order paid by card into a credit at the limit is refused, and nothing of the payment is written', async () => {
    const c = await h.customer();
    expect((await h.post(`/v1/customers/${c.id}/top-ups`, { amount: Number.MAX_SAFE_INTEGER - 50, currency: 'USD', paymentMethod: 'pm_card_visa' })).status).toBe(200);
    const orderId = await paidOrder(c, false);
    const r = await refused(422, 'balance_limit_exceeded', () =>
      send('POST', `/v1/orders/${orderId}/pay`, { body: { useAccountCredit: false, paymentMethod: 'pm_card_visa' }, key: c.key }),
    );
    expect(r.body.error.message).toContain(String(Number.MAX_SAFE_INTEGER));
    const order = await h.get(`/v1/orders/${orderId}`);
    expect([order.body.state, order.body.amounts.paid]).toEqual(['payment', 0]);
  });

  it('an order refund into a credit at the limit is refused, and the order is not cancelled', async () => {
    const c = await h.customer();
    const orderId = await paidOrder(c, true);
    expect((await h.post(`/v1/customers/${c.id}/top-ups`, { amount: Number.MAX_SAFE_INTEGER - 50, currency: 'USD', paymentMethod: 'pm_card_visa' })).status).toBe(200);
    await refused(422, 'balance_limit_exceeded', () => send('POST', `/v1/orders/${orderId}/cancel`, { body: { refundDestination: 'account_credit' }, key: c.key }));
    expect((await h.get(`/v1/orders/${orderId}`)).body.state).toBe('execution');
  });
});

describe('the sandbox test clock', () => {
  it('cannot be moved past the year 9999 (the last time an ISO 8601 timestamp can say): 400, and it stays put', async () => {
    expect((await h.post('/v1/test/clock', { to: '9999-12-31T00:00:00Z' })).status).toBe(200);
    await refused(400, 'clock_out_of_range', () => send('POST', '/v1/test/clock', { body: { advanceSeconds: 24 * 3600 } }));
    await refused(400, 'clock_out_of_range', () => send('POST', '/v1/test/clock', { body: { to: '9999-12-31T23:00:00-05:00' } }));
    expect((await h.get('/v1/test/clock')).body.now).toBe('9999-12-31T00:00:00.000Z');
    // Money still moves at the end of time.
    const t = await h.post(`/v1/customers/${A.id}/top-ups`, { amount: 100, currency: 'USD', paymentMethod: 'pm_card_visa' });
    expect(t.status).toBe(200);
    expect(t.body.createdAt).toBe('9999-12-31T00:00:00.000Z');
  });
});

describe('balances that would pass 2^53 - 1', () => {
  // Each amount is at most 2^53 - 1, but two of them could add up to more; the ledger's
  // balance update refuses (422 balance_limit_exceeded) rather than store an unreadable balance.
  it('a top-up that would take a balance past 2^53 - 1 is refused, and the balance stays readable', async () => {
    const c = await h.customer();
    expect((await h.post(`/v1/customers/${c.id}/top-ups`, { amount: Number.MAX_SAFE_INTEGER, currency: 'USD', paymentMethod: 'pm_card_visa' })).status).toBe(200);
    const more = await send('POST', `/v1/customers/${c.id}/top-ups`, { body: { amount: 1, currency: 'USD', paymentMethod: 'pm_card_visa' } });
    expect(more.status).toBe(422);
    expect(more.body.error.code).toBe('balance_limit_exceeded');
    expect((await h.get(`/v1/customers/${c.id}`)).status).toBe(200);
  });
});

// Last (vitest runs a file's tests in order): after every bad request above, the
// ledger still proves out and no account that must not go negative is negative.
describe('after all of the above', () => {
  it('the ledger check is clean', async () => {
    const report = await h.check();
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
    const negative = await sql<{ id: string }>`
      select a.id from accounts a join account_balances b on b.account_id = a.id
      where not a.allow_negative group by a.id having sum(b.balance) < 0`.execute(h.app.services.store.db);
    expect(negative.rows).toEqual([]);
  });
});
