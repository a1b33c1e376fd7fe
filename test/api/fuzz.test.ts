// Fuzz (issue 2): generated bodies, ids, keys and content types thrown at every write
// route. Whatever arrives:
//  - the answer is never a 5xx;
//  - every non-2xx is {error: {type, code, message}} and changed nothing (row counts,
//    every balance, the refund caps, the refunds, the settings, the keys);
//  - every 2xx was a legitimately valid request from a key allowed to make it, and had
//    exactly the effect on account credit that it should;
//  - afterwards the ledger check is clean and no balance that must not be negative is.
// Bodies are arbitrary JSON, arbitrary text, valid bodies, and valid bodies with a few
// plausible mutations (a field set to an edge value, dropped, or an unknown one added;
// amounts spelled as raw JSON literals such as 9007199254740993).
// The account-credit routes of issue 2 each have a model of what they may accept and
// what a success must do; every other write route in the OpenAPI document (orders,
// services, sites, auth …) gets bodies generated from its own schema and the general
// checks only (no 5xx, well-formed refusals that change nothing in any table).
// SETTLE_FUZZ_RUNS / SETTLE_FUZZ_GENERIC_RUNS change the number of runs per route.
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../helpers/harness.js';
import { isCurrency } from '../../src/domain/currencies.js';
import { DEFAULT_SETTINGS, isTimeZone } from '../../src/domain/settings.js';

const RUNS = Number(process.env.SETTLE_FUZZ_RUNS ?? 100);
const GENERIC_RUNS = Number(process.env.SETTLE_FUZZ_GENERIC_RUNS ?? 10);
const MAX = Number.MAX_SAFE_INTEGER;

let h: Harness;
const COUNTED_TABLES = ['customers', 'providers', 'api_keys', 'ledger_transactions', 'postings', 'top_ups', 'charges', 'refunds', 'accounts'];
/** Tables a refusal may legitimately write to, or that are not business state. */
const MAY_CHANGE_ON_REFUSAL = new Set(['idempotency_keys', 'login_attempts', 'web_sessions', 'sandbox_clock', 'sandbox_demo', 'schema_migrations', 'migrations']);
/** Every other table; a refusal must not change them either. */
let otherTables: string[] = [];
let A: { id: string; key: string };
let B: { id: string; key: string };
let P: { id: string; key: string };
let P2: { id: string; key: string };

/** Things that exist, by kind, with their owners; plus ids that do not exist. */
const pool = {
  customers: [] as string[],
  providers: [] as string[],
  topUps: [] as Array<{ id: string; customerId: string }>,
  charges: [] as Array<{ id: string; customerId: string; providerId: string }>,
  refunds: [] as Array<{ id: string; customerId: string }>,
  transactions: [] as string[],
};
const UNKNOWN = { cus: 'cus_0000000000NOPE', prv: 'prv_0000000000NOPE', tu: 'tu_0000000000NOPE', ch: 'ch_0000000000NOPE', re: 're_0000000000NOPE', txn: 'txn_0000000000NOPE' };

async function ok<T = any>(p: Promise<{ status: number; body: T }>): Promise<T> {
  const r = await p;
  if (r.status !== 200) throw new Error(`setup failed: ${JSON.stringify(r.body)}`);
  return r.body;
}

beforeAll(async () => {
  h = await startHarness();
  const names = await sql<{ table_name: string }>`
    select table_name from information_schema.tables where table_schema = current_schema() and table_type = 'BASE TABLE'`.execute(h.app.services.store.db);
  const core = new Set<string>([...COUNTED_TABLES, 'account_balances', 'settings']);
  otherTables = names.rows.map((r) => r.table_name).filter((t) => !core.has(t) && !MAY_CHANGE_ON_REFUSAL.has(t)).sort();
  A = await h.customer({ credit: 1_000_000 });
  B = await h.customer({ credit: 1_000_000 });
  P = await h.provider();
  P2 = await h.provider();
  pool.customers = [A.id, B.id];
  pool.providers = [P.id, P2.id];
  for (const [c, p] of [
    [A, P],
    [B, P2],
  ] as const) {
    const visa = (await h.get(`/v1/customers/${c.id}/top-ups`)).body.data[0];
    const failing = await ok(h.post(`/v1/customers/${c.id}/top-ups`, { amount: 50_000, currency: 'USD', paymentMethod: 'pm_card_refund_fails' }));
    pool.topUps.push({ id: visa.id, customerId: c.id }, { id: failing.id, customerId: c.id });
    for (const amount of [100_000, 5_000]) {
      const charge = await ok(h.post('/v1/charges', { customerId: c.id, providerId: p.id, amount, currency: 'USD', description: 'chat' }));
      pool.charges.push({ id: charge.id, customerId: c.id, providerId: p.id });
      pool.transactions.push(charge.transactionId);
    }
    const failed = await ok(h.post(`/v1/top-ups/${failing.id}/refunds`, { amount: 1_000 }));
    const succeeded = await ok(h.post(`/v1/charges/${pool.charges.at(-1)!.id}/refunds`, { amount: 10 }));
    pool.refunds.push({ id: failed.id, customerId: c.id }, { id: succeeded.id, customerId: c.id });
    pool.transactions.push(visa.transactionId, succeeded.transactionId);
    for (const amount of [500, 1_000, -200]) {
      pool.transactions.push((await ok(h.post(`/v1/customers/${c.id}/balance-corrections`, { amount, currency: 'USD', memo: 'fixture' }))).id);
    }
  }
});
afterAll(() => h?.close());

// ---------------------------------------------------------------------------------
// What the server should accept, restated independently of its schemas.

const UNSTORABLE = /[\u0000\uD800-\uDFFF]/u;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const text = (max: number) => (v: unknown) => typeof v === 'string' && [...v].length >= 1 && [...v].length <= max && !UNSTORABLE.test(v);
const email = (v: unknown) => typeof v === 'string' && [...v].length <= 254 && /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(v) && !UNSTORABLE.test(v);
const amount = (min: number) => (v: unknown) => Number.isSafeInteger(v) && (v as number) >= min && (v as number) <= MAX;
const currency = (v: unknown) => typeof v === 'string' && isCurrency(v);
const idOf = (prefix: string) => (v: unknown) => typeof v === 'string' && new RegExp(`^${prefix}_[0-9A-Za-z]{1,64}$`).test(v);
const oneOf = (...values: unknown[]) => (v: unknown) => values.includes(v);
const percent = (v: unknown) => typeof v === 'number' && v >= 0 && v <= 100 && Math.abs(Math.round(v * 100) - v * 100) < 1e-6;
const int = (max: number) => (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0 && (v as number) <= max;
const bool = (v: unknown) => typeof v === 'boolean';

type Fields = Record<string, { required?: boolean; ok: (v: unknown) => boolean }>;

function conforms(body: unknown, fields: Fields): body is Record<string, any> {
  if (!isObject(body)) return false;
  for (const key of Object.keys(body)) if (!(key in fields)) return false;
  for (const [key, f] of Object.entries(fields)) {
    if (!(key in body)) {
      if (f.required) return false;
    } else if (!f.ok(body[key])) return false;
  }
  return true;
}

const SETTINGS_FIELDS: Fields = {
  timeZone: { ok: (v) => text(64)(v) },
  defaultCurrency: { ok: currency },
  confirmationWindowHours: { ok: int(24 * 30) },
  sameDayConfirmationWindowHours: { ok: int(24) },
  paymentWindowHours: { ok: int(24 * 30) },
  completionWindowHours: { ok: int(24 * 30) },
  executionConfirmationWindowDays: { ok: int(365) },
  payoutDelayDays: { ok: int(365) },
  allowCustomerEdits: { ok: bool },
  allowCustomerCancellation: { ok: bool },
  refundOnCustomerCancellation: { ok: bool },
  noRefundWithinHours: { ok: int(24 * 365) },
  lateCancellationRefundPercent: { ok: percent },
  refundServiceFeeOnCancellation: { ok: bool },
  defaultRefundDestination: { ok: oneOf('account_credit', 'card') },
  serviceFee: { ok: (v) => conforms(v, { fixed: { required: true, ok: amount(0) }, percent: { required: true, ok: percent } }) },
  providerCommissionPercent: { ok: percent },
};

// ---------------------------------------------------------------------------------
// Generators.

const edgeNumber = fc.constantFrom(0, -0, 1, -1, 2, 15.5, 0.1, 0.01, 99.99, 100, 100.01, 1.13, 12.5, 1500, -1500, 1e6, MAX, MAX - 1, -MAX, 2 ** 53, 2 ** 63, 1e300, -1e300, 5e-324);
const anyNumber = fc.oneof(edgeNumber, fc.integer(), fc.maxSafeInteger(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer({ min: -3, max: 3000 }));
const badText = fc.constantFrom('', ' ', 'a\u0000b', '\u0000', 'x\uD800', '\uDFFFy', '\uD83D\uDE00', 'é', 'x'.repeat(201), 'x'.repeat(501), '\n', '<script>', "'; drop table customers; --");
const plausible = fc.constantFrom(
  'USD',
  'usd',
  'EUR',
  'JPY',
  'KWD',
  'ZZZ',
  'US',
  'pm_card_visa',
  'pm_card_declined',
  'pm_card_refund_fails',
  'pm_nope',
  'admin',
  'customer',
  'provider',
  'account_credit',
  'card',
  'UTC',
  'Europe/Berlin',
  'Mars/Base',
  '1500',
  'a@b.co',
  ...Object.values(UNKNOWN),
);
// Deferred (chain) because the pool is filled in beforeAll.
const existingIds = fc.constant(null).chain(() => fc.constantFrom(...pool.customers, ...pool.providers, ...pool.topUps.map((t) => t.id), ...pool.charges.map((c) => c.id)));
const anyText = fc.oneof(fc.string(), fc.string({ unit: 'binary', maxLength: 30 }), badText, plausible);
const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: anyNumber },
  { weight: 4, arbitrary: anyText },
  { weight: 2, arbitrary: existingIds },
  { weight: 1, arbitrary: fc.boolean() },
  { weight: 1, arbitrary: fc.constant(null) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
);

/** A request body as sent: raw text, and what a JSON parser makes of it (undefined: not JSON). */
interface Body {
  raw: string | undefined;
  parsed: unknown;
  contentType: string | null;
}

const asBody = (value: unknown): Body => ({ raw: JSON.stringify(value), parsed: value, contentType: 'application/json' });

type Op = { op: 'set'; key: string; value: unknown } | { op: 'delete'; key: string } | { op: 'add'; key: string; value: unknown } | { op: 'rawAmount'; key: string; literal: string };

const RAW_LITERALS = ['9007199254740993', '9007199254740992', '9007199254740991', '-9007199254740991', '1e300', '-1e300', '1e2', '1E3', '1.0', '15.50', '-0', '0.0', '18446744073709551616', '123456789012345678901234567890'];

/** A valid body with up to three plausible mutations; amounts may be spelled as raw literals. */
function mutated(valid: fc.Arbitrary<Record<string, unknown>>, keys: string[]): fc.Arbitrary<Body> {
  const op: fc.Arbitrary<Op> = fc.oneof(
    { weight: 5, arbitrary: fc.record({ op: fc.constant('set' as const), key: fc.constantFrom(...keys), value: anyValue }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('delete' as const), key: fc.constantFrom(...keys) }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('add' as const), key: fc.oneof(fc.string(), fc.constantFrom('__proto__', 'constructor', 'id', 'extra')), value: anyValue }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('rawAmount' as const), key: fc.constantFrom(...keys), literal: fc.constantFrom(...RAW_LITERALS) }) },
  );
  return fc.tuple(valid, fc.array(op, { minLength: 1, maxLength: 3 })).map(([body, ops]) => {
    const out: Record<string, unknown> = { ...body };
    const raws: Array<[string, string]> = [];
    for (const o of ops) {
      if (o.op === 'delete') delete out[o.key];
      else if (o.op === 'rawAmount') {
        const marker = `@@RAW${raws.length}@@`;
        out[o.key] = marker;
        raws.push([marker, o.literal]);
      } else Object.defineProperty(out, o.key, { value: o.value, enumerable: true, writable: true, configurable: true });
    }
    let raw = JSON.stringify(out);
    for (const [marker, literal] of raws) raw = raw.replace(`"${marker}"`, literal);
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      parsed = undefined;
    }
    return { raw, parsed, contentType: 'application/json' };
  });
}

/** Everything from valid bodies to nonsense, in proportions that still reach the handlers. */
function bodies(valid: fc.Arbitrary<Record<string, unknown>>, keys: string[]): fc.Arbitrary<Body> {
  return fc.oneof(
    { weight: 3, arbitrary: valid.map(asBody) },
    { weight: 6, arbitrary: mutated(valid, keys) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map(asBody) },
    { weight: 1, arbitrary: fc.dictionary(fc.constantFrom(...keys), anyValue).map(asBody) },
    {
      weight: 1,
      arbitrary: fc.tuple(fc.oneof(fc.string(), fc.json(), fc.constantFrom('', '{', 'null', '{"a":1}}', '\u0000')), fc.constantFrom('application/json', 'text/plain', 'application/xml', 'application/x-www-form-urlencoded')).map(
        ([raw, contentType]): Body => {
          let parsed: unknown;
          try {
            parsed = contentType === 'application/json' ? JSON.parse(raw) : undefined;
          } catch {
            parsed = undefined;
          }
          return { raw, parsed, contentType };
        },
      ),
    },
    { weight: 1, arbitrary: fc.constant<Body>({ raw: undefined, parsed: undefined, contentType: null }) },
  );
}

/** A path id: mostly one that exists, sometimes unknown, sometimes malformed. */
function pathId(existing: () => string[], prefix: string, unknown: string): fc.Arbitrary<string> {
  const malformed = fc
    .oneof(fc.string({ unit: 'binary', maxLength: 12 }), fc.constantFrom('', '..', `${prefix}_`, `${prefix}_a-b`, `${prefix}_${'A'.repeat(65)}`, 'cus_1', 'x%00'))
    .map((s) => [...Buffer.from(s, 'utf8')].map((b) => `%${b.toString(16).padStart(2, '0')}`).join(''));
  return fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...existing()) }, { weight: 1, arbitrary: fc.constant(unknown) }, { weight: 1, arbitrary: malformed });
}

type Who = 'admin' | 'customerA' | 'customerB' | 'providerP' | 'providerP2' | 'nobody';
const who = fc.oneof({ weight: 6, arbitrary: fc.constant<Who>('admin') }, { weight: 3, arbitrary: fc.constantFrom<Who>('customerA', 'customerB', 'providerP', 'providerP2', 'nobody') });
const keyOf = (w: Who) => ({ admin: h.adminKey, customerA: A.key, customerB: B.key, providerP: P.key, providerP2: P2.key, nobody: 'sk_test_nobody' })[w];
const customerOf = (w: Who) => (w === 'customerA' ? A.id : w === 'customerB' ? B.id : null);
const providerOf = (w: Who) => (w === 'providerP' ? P.id : w === 'providerP2' ? P2.id : null);

// ---------------------------------------------------------------------------------
// Sending, and what a request may change.

interface Snapshot {
  counts: Record<string, number>;
  credit: Map<string, bigint>;
  digest: string;
  /** Every other business table (orders, services, sites …), hashed. */
  tables: string;
}

async function snapshot(): Promise<Snapshot> {
  const tables = otherTables.length
    ? sql.join(otherTables.map((t) => sql`(select md5(coalesce(string_agg(x::text, '|' order by x::text), '')) from ${sql.table(t)} x)`))
    : sql`''`;
  const r = await sql<{ counts: string; credit: string; digest: string; tables: string }>`
    select concat_ws(',', ${tables}) as tables,
      json_build_object(
        'customers', (select count(*) from customers), 'providers', (select count(*) from providers),
        'api_keys', (select count(*) from api_keys), 'ledger_transactions', (select count(*) from ledger_transactions),
        'postings', (select count(*) from postings), 'top_ups', (select count(*) from top_ups),
        'charges', (select count(*) from charges), 'refunds', (select count(*) from refunds),
        'accounts', (select count(*) from accounts))::text as counts,
      (select coalesce(json_agg(json_build_array(account_id, balance) order by account_id), '[]') from
        (select b.account_id, sum(b.balance)::text as balance from account_balances b join accounts a on a.id = b.account_id
         where a.kind = 'customer_credit' group by b.account_id) x)::text as credit,
      concat_ws('|',
        (select json_agg(b order by b.account_id, b.shard) from account_balances b)::text,
        (select json_agg(t order by t.id) from (select id, refunded_amount from top_ups) t)::text,
        (select json_agg(c order by c.id) from (select id, status, refunded_amount, commission_refunded from charges) c)::text,
        (select json_agg(r order by r.id) from (select id, status, attempts, transaction_id from refunds) r)::text,
        (select max(data::text) from settings),
        (select json_agg(k order by k.id) from (select id, revoked_at from api_keys) k)::text) as digest`.execute(h.app.services.store.db);
  const row = r.rows[0]!;
  const credit = new Map((JSON.parse(row.credit) as Array<[string, string]>).map(([id, b]) => [id, BigInt(b)]));
  return { counts: JSON.parse(row.counts), credit, digest: row.digest, tables: row.tables };
}

/** Change of each customer's credit (by account id) between two snapshots, zeros left out. */
function creditChanges(before: Snapshot, after: Snapshot): Record<string, bigint> {
  const out: Record<string, bigint> = {};
  for (const id of new Set([...before.credit.keys(), ...after.credit.keys()])) {
    const d = (after.credit.get(id) ?? 0n) - (before.credit.get(id) ?? 0n);
    if (d !== 0n) out[id] = d;
  }
  return out;
}
const creditAccount = (customerId: string, cur: string) => `acct_customer_credit_${customerId}_${cur}`;

interface Sent {
  status: number;
  body: any;
}

async function send(method: 'POST' | 'PATCH', url: string, w: Who, body: Body): Promise<Sent> {
  const headers: Record<string, string> = { authorization: `Bearer ${keyOf(w)}`, 'idempotency-key': randomUUID() };
  if (body.contentType) headers['content-type'] = body.contentType;
  const res = await h.http.inject({ method, url, headers, ...(body.raw !== undefined ? { payload: body.raw } : {}) });
  let parsed: unknown = res.body;
  try {
    parsed = JSON.parse(res.body);
  } catch {
    /* checked below */
  }
  return { status: res.statusCode, body: parsed };
}

interface Case {
  url: string;
  who: Who;
  body: Body;
  /** For the route's own checks. */
  pathId: string;
}

interface Route {
  name: string;
  method: 'POST' | 'PATCH';
  cases: () => fc.Arbitrary<Case>;
  /** Was this request one the route may accept? */
  legit: (c: Case) => boolean;
  /** Given a 2xx, did it change account credit exactly as it should? */
  effect: (c: Case, res: Sent, credit: Record<string, bigint>, before: Snapshot, after: Snapshot) => void;
}

const isJson = (b: Body) => b.contentType !== null && b.contentType.startsWith('application/json') && b.parsed !== undefined;
const noCreditChange = (_c: Case, _r: Sent, credit: Record<string, bigint>) => expect(credit).toEqual({});
const only = (account: string, delta: number | bigint) => ({ ...(BigInt(delta) !== 0n ? { [account]: BigInt(delta) } : {}) });

function caseOf(path: (id: string) => string, ids: fc.Arbitrary<string>, body: fc.Arbitrary<Body>): fc.Arbitrary<Case> {
  return fc.record({ id: ids, who, body }).map(({ id, who: w, body: b }) => ({ url: path(id), who: w, body: b, pathId: id }));
}

const party = (kind: 'customers' | 'providers'): Route => ({
  name: `POST /v1/${kind}`,
  method: 'POST',
  cases: () =>
    caseOf(
      () => `/v1/${kind}`,
      fc.constant(''),
      bodies(fc.record({ email: fc.oneof(fc.emailAddress(), fc.uuid().map((u) => `${u}@example.com`)), name: fc.oneof(fc.string({ minLength: 1, maxLength: 200 }), fc.string({ unit: 'binary', minLength: 1, maxLength: 20 })) }), ['email', 'name']),
    ),
  legit: (c) => c.who === 'admin' && isJson(c.body) && conforms(c.body.parsed, { email: { required: true, ok: email }, name: { required: true, ok: text(200) } }),
  effect: (_c, res, credit, before, after) => {
    expect(credit).toEqual({});
    expect(after.counts[kind]).toBe(before.counts[kind]! + 1);
    expect(res.body.id).toMatch(kind === 'customers' ? /^cus_/ : /^prv_/);
  },
});

const ROUTES: Route[] = [
  party('customers'),
  party('providers'),
  {
    name: 'POST /v1/api-keys',
    method: 'POST',
    cases: () =>
      caseOf(
        () => '/v1/api-keys',
        fc.constant(''),
        bodies(
          fc.oneof(
            fc.constant({ role: 'admin' }),
            fc.constantFrom(...pool.customers).map((customerId) => ({ role: 'customer', customerId })),
            fc.constantFrom(...pool.providers).map((providerId) => ({ role: 'provider', providerId, label: 'fuzz' })),
          ),
          ['role', 'customerId', 'providerId', 'label'],
        ),
      ),
    legit: (c) => {
      const b = c.body.parsed as any;
      if (c.who !== 'admin' || !isJson(c.body)) return false;
      if (!conforms(b, { role: { required: true, ok: oneOf('admin', 'customer', 'provider') }, customerId: { ok: idOf('cus') }, providerId: { ok: idOf('prv') }, label: { ok: text(200) } })) return false;
      if (b.role === 'customer') return pool.customers.includes(b.customerId) && b.providerId === undefined;
      if (b.role === 'provider') return pool.providers.includes(b.providerId) && b.customerId === undefined;
      return b.customerId === undefined && b.providerId === undefined;
    },
    effect: (_c, res, credit, before, after) => {
      expect(credit).toEqual({});
      expect(after.counts.api_keys).toBe(before.counts.api_keys! + 1);
      expect(res.body.key).toMatch(/^sk_test_/);
    },
  },
  {
    name: 'PATCH /v1/settings',
    method: 'PATCH',
    cases: () =>
      caseOf(
        () => '/v1/settings',
        fc.constant(''),
        bodies(
          fc.record(
            {
              providerCommissionPercent: fc.oneof(fc.integer({ min: 0, max: 10_000 }).map((bp) => bp / 100), fc.constantFrom(0, 1.13, 12.5, 100)),
              timeZone: fc.constantFrom('UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata'),
              defaultCurrency: fc.constantFrom('USD', 'EUR', 'JPY'),
              serviceFee: fc.record({ fixed: fc.integer({ min: 0, max: 10_000 }), percent: fc.integer({ min: 0, max: 10_000 }).map((bp) => bp / 100) }),
              lateCancellationRefundPercent: fc.integer({ min: 0, max: 10_000 }).map((bp) => bp / 100),
              confirmationWindowHours: fc.integer({ min: 0, max: 720 }),
              allowCustomerEdits: fc.boolean(),
              defaultRefundDestination: fc.constantFrom('account_credit', 'card'),
            },
            { requiredKeys: [] },
          ),
          Object.keys(SETTINGS_FIELDS),
        ),
      ),
    legit: (c) => c.who === 'admin' && isJson(c.body) && conforms(c.body.parsed, SETTINGS_FIELDS) && Object.keys(c.body.parsed).length > 0 && (c.body.parsed.timeZone === undefined || isTimeZone(c.body.parsed.timeZone)),
    effect: (c, res, credit) => {
      expect(credit).toEqual({});
      expect(res.body).toMatchObject(JSON.parse(JSON.stringify(c.body.parsed))); // -0 is 0 in JSON
    },
  },
  {
    name: 'POST /v1/customers/:id/top-ups',
    method: 'POST',
    cases: () =>
      caseOf(
        (id) => `/v1/customers/${id}/top-ups`,
        pathId(() => pool.customers, 'cus', UNKNOWN.cus),
        bodies(
          fc.record({
            amount: fc.oneof(fc.integer({ min: 1, max: 100_000 }), fc.constantFrom(1, 99, 1_000_000_000)),
            currency: fc.constantFrom('USD', 'USD', 'EUR', 'JPY', 'KWD'),
            paymentMethod: fc.constantFrom('pm_card_visa', 'pm_card_visa', 'pm_card_refund_fails', 'pm_card_declined'),
          }),
          ['amount', 'currency', 'paymentMethod'],
        ),
      ),
    legit: (c) =>
      (c.who === 'admin' || customerOf(c.who) === c.pathId) &&
      pool.customers.includes(c.pathId) &&
      isJson(c.body) &&
      conforms(c.body.parsed, { amount: { required: true, ok: amount(1) }, currency: { required: true, ok: currency }, paymentMethod: { required: true, ok: oneOf('pm_card_visa', 'pm_card_refund_fails') } }),
    effect: (c, res, credit) => {
      const b = c.body.parsed as any;
      expect(credit).toEqual(only(creditAccount(c.pathId, b.currency), b.amount));
      expect(res.body).toMatchObject({ customerId: c.pathId, amount: b.amount, currency: b.currency });
    },
  },
  {
    name: 'POST /v1/charges',
    method: 'POST',
    cases: () =>
      caseOf(
        () => '/v1/charges',
        fc.constant(''),
        bodies(
          fc.record({
            customerId: fc.constantFrom(...pool.customers),
            providerId: fc.constantFrom(...pool.providers),
            amount: fc.oneof(fc.integer({ min: 1, max: 20_000 }), fc.constantFrom(1, 2_000_000, MAX)),
            currency: fc.constantFrom('USD', 'USD', 'USD', 'EUR'),
            description: fc.oneof(fc.constant('chat'), fc.string({ minLength: 1, maxLength: 500 })),
          }),
          ['customerId', 'providerId', 'amount', 'currency', 'description'],
        ),
      ),
    legit: (c) => {
      const b = c.body.parsed as any;
      if (!isJson(c.body)) return false;
      if (!conforms(b, { customerId: { required: true, ok: idOf('cus') }, providerId: { required: true, ok: idOf('prv') }, amount: { required: true, ok: amount(1) }, currency: { required: true, ok: currency }, description: { required: true, ok: text(500) } })) return false;
      return (c.who === 'admin' || customerOf(c.who) === b.customerId) && pool.customers.includes(b.customerId) && pool.providers.includes(b.providerId);
    },
    effect: (c, res, credit) => {
      const b = c.body.parsed as any;
      expect(credit).toEqual(only(creditAccount(b.customerId, b.currency), -b.amount));
      expect(res.body).toMatchObject({ customerId: b.customerId, providerId: b.providerId, amount: b.amount, currency: b.currency });
      pool.charges.push({ id: res.body.id, customerId: b.customerId, providerId: b.providerId });
    },
  },
  {
    name: 'POST /v1/charges/:id/refunds',
    method: 'POST',
    cases: () =>
      caseOf(
        (id) => `/v1/charges/${id}/refunds`,
        pathId(() => pool.charges.map((c) => c.id), 'ch', UNKNOWN.ch),
        bodies(fc.record({ amount: fc.integer({ min: 1, max: 3_000 }), reason: fc.string({ minLength: 1, maxLength: 50 }) }, { requiredKeys: [] }), ['amount', 'reason']),
      ),
    legit: (c) => {
      const charge = pool.charges.find((x) => x.id === c.pathId);
      return (
        !!charge &&
        (c.who === 'admin' || providerOf(c.who) === charge.providerId) &&
        isJson(c.body) &&
        conforms(c.body.parsed, { amount: { ok: amount(1) }, reason: { ok: text(500) } })
      );
    },
    effect: (c, res, credit) => {
      const charge = pool.charges.find((x) => x.id === c.pathId)!;
      const b = c.body.parsed as any;
      if (b.amount !== undefined) expect(res.body.amount).toBe(b.amount);
      expect(res.body).toMatchObject({ sourceId: charge.id, status: 'succeeded', destination: 'account_credit' });
      expect(credit).toEqual(only(creditAccount(charge.customerId, res.body.currency), res.body.amount));
    },
  },
  {
    name: 'POST /v1/top-ups/:id/refunds',
    method: 'POST',
    cases: () =>
      caseOf(
        (id) => `/v1/top-ups/${id}/refunds`,
        pathId(() => pool.topUps.map((t) => t.id), 'tu', UNKNOWN.tu),
        bodies(fc.record({ amount: fc.integer({ min: 1, max: 3_000 }), reason: fc.string({ minLength: 1, maxLength: 50 }) }, { requiredKeys: ['amount'] }), ['amount', 'reason']),
      ),
    legit: (c) => c.who === 'admin' && pool.topUps.some((t) => t.id === c.pathId) && isJson(c.body) && conforms(c.body.parsed, { amount: { ok: amount(1) }, reason: { ok: text(500) } }),
    effect: (c, res, credit) => {
      const topUp = pool.topUps.find((t) => t.id === c.pathId)!;
      const b = c.body.parsed as any;
      if (b.amount !== undefined) expect(res.body.amount).toBe(b.amount);
      expect(['succeeded', 'failed']).toContain(res.body.status);
      expect(credit).toEqual(only(creditAccount(topUp.customerId, res.body.currency), res.body.status === 'succeeded' ? -res.body.amount : 0));
    },
  },
  {
    name: 'POST /v1/refunds/:id/retry',
    method: 'POST',
    cases: () => caseOf((id) => `/v1/refunds/${id}/retry`, pathId(() => pool.refunds.map((r) => r.id), 're', UNKNOWN.re), bodies(fc.constant({}), ['amount'])),
    legit: (c) => c.who === 'admin' && pool.refunds.some((r) => r.id === c.pathId) && (c.body.raw === undefined || (isJson(c.body) && conforms(c.body.parsed, {}))),
    effect: (c, res, credit) => {
      const refund = pool.refunds.find((r) => r.id === c.pathId)!;
      expect(['succeeded', 'failed']).toContain(res.body.status);
      expect(credit).toEqual(only(creditAccount(refund.customerId, res.body.currency), res.body.status === 'succeeded' ? -res.body.amount : 0));
    },
  },
  {
    name: 'POST /v1/customers/:id/balance-corrections',
    method: 'POST',
    cases: () =>
      caseOf(
        (id) => `/v1/customers/${id}/balance-corrections`,
        pathId(() => pool.customers, 'cus', UNKNOWN.cus),
        bodies(
          fc.record({ amount: fc.oneof(fc.integer({ min: -5_000, max: 5_000 }), fc.constantFrom(-MAX, MAX, 0)), currency: fc.constantFrom('USD', 'USD', 'EUR'), memo: fc.string({ minLength: 1, maxLength: 500 }) }),
          ['amount', 'currency', 'memo'],
        ),
      ),
    legit: (c) =>
      c.who === 'admin' &&
      pool.customers.includes(c.pathId) &&
      isJson(c.body) &&
      conforms(c.body.parsed, { amount: { required: true, ok: (v) => Number.isSafeInteger(v) && v !== 0 }, currency: { required: true, ok: currency }, memo: { required: true, ok: text(500) } }),
    effect: (c, res, credit) => {
      const b = c.body.parsed as any;
      expect(credit).toEqual(only(creditAccount(c.pathId, b.currency), b.amount));
      expect(res.body).toMatchObject({ type: 'correction', amount: b.amount });
      pool.transactions.push(res.body.id);
    },
  },
  {
    name: 'POST /v1/transactions/:id/reverse',
    method: 'POST',
    cases: () =>
      caseOf(
        (id) => `/v1/transactions/${id}/reverse`,
        pathId(() => pool.transactions, 'txn', UNKNOWN.txn),
        bodies(fc.record({ memo: fc.string({ minLength: 1, maxLength: 500 }) }, { requiredKeys: [] }), ['memo']),
      ),
    legit: (c) => c.who === 'admin' && pool.transactions.includes(c.pathId) && isJson(c.body) && conforms(c.body.parsed, { memo: { ok: text(500) } }),
    effect: (c, res, credit) => {
      expect(res.body).toMatchObject({ type: 'reversal', reverses: c.pathId });
      expect(credit).toEqual(res.body.customerId ? only(creditAccount(res.body.customerId, res.body.currency), res.body.amount) : {});
    },
  },
  {
    name: 'POST /v1/test/clock',
    method: 'POST',
    cases: () =>
      caseOf(
        () => '/v1/test/clock',
        fc.constant(''),
        bodies(
          fc.oneof(
            fc.record({ advanceSeconds: fc.oneof(fc.integer({ min: 0, max: 3_600 }), fc.constant(10 * 365 * 24 * 3600)) }),
            fc.date({ min: new Date('2020-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true }).map((d) => ({ to: d.toISOString() })),
          ),
          ['advanceSeconds', 'to'],
        ),
      ),
    // Whether a time is accepted depends on where the clock stands; 2xx only needs a well-formed body.
    legit: (c) =>
      c.who === 'admin' &&
      isJson(c.body) &&
      (conforms(c.body.parsed, { advanceSeconds: { required: true, ok: int(10 * 365 * 24 * 3600) } }) ||
        conforms(c.body.parsed, { to: { required: true, ok: (v) => typeof v === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(v) && !Number.isNaN(Date.parse(v)) } })),
    effect: noCreditChange,
  },
];

/** Runs one route's fuzz: the checks every request must pass, then the route's own. */
async function fuzzRoute(route: Route, runs: number): Promise<Record<number, number>> {
  const statuses: Record<number, number> = {};
  // Runs are sequential and nothing else writes, so one run's "after" is the next "before".
  let last = await snapshot();
  await fc.assert(
    fc.asyncProperty(route.cases(), async (c) => {
      const before = last;
      const res = await send(route.method, c.url, c.who, c.body);
      const after = await snapshot();
      last = after;
      statuses[res.status] = (statuses[res.status] ?? 0) + 1;
      const context = `${c.who} ${route.method} ${c.url} ${c.body.contentType} ${c.body.raw?.slice(0, 300)} → ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`;
      expect(res.status, context).toBeLessThan(500);
      expect(res.status, context).toBeGreaterThanOrEqual(200);
      if (res.status >= 300) {
        expect(res.body, context).toMatchObject({ error: { type: expect.any(String), code: expect.any(String), message: expect.any(String) } });
        expect(after.counts, context).toEqual(before.counts);
        expect(after.digest, context).toBe(before.digest);
        expect(after.tables, context).toBe(before.tables);
        return;
      }
      expect(route.legit(c), `a 2xx for a request that should have been refused: ${context}`).toBe(true);
      route.effect(c, res, creditChanges(before, after), before, after);
    }),
    { numRuns: runs },
  );
  if (process.env.SETTLE_FUZZ_DEBUG) console.log(route.name, JSON.stringify(statuses));
  return statuses;
}

const successes = (statuses: Record<number, number>) => Object.entries(statuses).filter(([s]) => Number(s) < 300).reduce((n, [, k]) => n + k, 0);

// The test clock last: it may leave the clock anywhere up to the year 9999.
const CLOCK = ROUTES.find((r) => r.name === 'POST /v1/test/clock')!;

describe.each(ROUTES.filter((r) => r !== CLOCK))('fuzz $name', (route) => {
  it(`never 5xx; refusals are well-formed and change nothing; successes are legitimate (${RUNS} runs)`, async () => {
    const statuses = await fuzzRoute(route, RUNS);
    // The run must have reached the handlers, not only the validators.
    expect(successes(statuses), JSON.stringify(statuses)).toBeGreaterThan(0);
  });
});

// ---------------------------------------------------------------------------------
// Every other write route, found in the OpenAPI document (orders, services, sites, auth …):
// bodies generated from the route's own request schema (so they reach the handler), then
// mutated as above. No model of what they should accept here; but never a 5xx, every
// refusal well-formed, and a refusal changes nothing — in the ledger and money tables as
// above, and in every other business table.

const COVERED = new Set(ROUTES.map((r) => r.name));

/** ids seen in any response, by prefix (ord, li, pay, svc, slot, site …). */
const seen = new Map<string, Set<string>>();
function collectIds(value: unknown): void {
  if (typeof value === 'string') {
    const m = /^([a-z]+)_[0-9A-Z]{26}$/.exec(value);
    if (m) {
      if (!seen.has(m[1]!)) seen.set(m[1]!, new Set());
      seen.get(m[1]!)!.add(value);
    }
  } else if (Array.isArray(value)) value.forEach(collectIds);
  else if (isObject(value)) Object.values(value).forEach(collectIds);
}
const idsWithPrefix = (prefix: string) => [...(seen.get(prefix) ?? [])];

let clockNowMs = Date.now();

/** Values that satisfy a request schema (TypeBox JSON Schema as published in the OpenAPI document). */
function fromSchema(s: any, name: string): fc.Arbitrary<unknown> {
  if (!s || typeof s !== 'object') return anyValue;
  if (s.const !== undefined) return fc.constant(s.const);
  if (Array.isArray(s.enum)) return fc.constantFrom(...s.enum);
  const union = s.anyOf ?? s.oneOf;
  if (Array.isArray(union)) return fc.oneof(...union.map((x: any) => fromSchema(x, name)));
  if (Array.isArray(s.allOf) && s.allOf.length === 1) return fromSchema(s.allOf[0], name);
  switch (s.type) {
    case 'object': {
      const props: Record<string, any> = s.properties ?? {};
      const model = Object.fromEntries(Object.entries(props).map(([k, v]) => [k, fromSchema(v, k)]));
      return fc.record(model, { requiredKeys: (s.required ?? []).filter((k: string) => k in props) }) as fc.Arbitrary<unknown>;
    }
    case 'array':
      return fc.array(fromSchema(s.items, name), { minLength: s.minItems ?? 0, maxLength: Math.max(s.minItems ?? 0, Math.min(s.maxItems ?? 3, 3)) });
    case 'integer': {
      const lo = Math.max(s.minimum ?? (s.exclusiveMinimum !== undefined ? s.exclusiveMinimum + 1 : 0), -1_000_000);
      const hi = Math.min(s.maximum ?? 50_000, Math.max(lo, /amount/i.test(name) ? 50_000 : 1_000));
      return fc.oneof(fc.integer({ min: lo, max: Math.max(lo, hi) }), fc.constant(lo));
    }
    case 'number': {
      const lo = s.minimum ?? 0;
      const hi = Math.min(s.maximum ?? 100, lo + 100);
      return fc.integer({ min: Math.ceil(lo * 100), max: Math.floor(hi * 100) }).map((x) => x / 100);
    }
    case 'boolean':
      return fc.boolean();
    case 'string': {
      const idPattern = typeof s.pattern === 'string' ? /^\^([a-z]+)_\[/.exec(s.pattern) : null;
      if (idPattern) {
        const known = idsWithPrefix(idPattern[1]!);
        const unknown = `${idPattern[1]}_0000000000NOPE`;
        return known.length ? fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...known) }, { weight: 1, arbitrary: fc.constant(unknown) }) : fc.constant(unknown);
      }
      if (s.format === 'date-time') return fc.integer({ min: -2 * 3600, max: 30 * 24 * 3600 }).map((sec) => new Date(clockNowMs + sec * 1000).toISOString());
      if (s.format === 'email') return fc.oneof(fc.constant('a@example.com'), fc.uuid().map((u) => `${u}@example.com`));
      if (s.format === 'iso4217' || /currency/i.test(name)) return fc.constantFrom('USD', 'USD', 'EUR');
      if (/paymentMethod/i.test(name)) return fc.constantFrom('pm_card_visa', 'pm_card_declined', 'pm_card_refund_fails');
      if (/password/i.test(name)) return fc.constantFrom('correct horse battery staple', 'short', 'x'.repeat(200));
      const min = Math.max(s.minLength ?? 0, 0);
      return fc.string({ minLength: min, maxLength: Math.max(min, Math.min(s.maxLength ?? 30, 30)) });
    }
    default:
      return anyValue;
  }
}

interface DocRoute {
  name: string;
  method: 'POST' | 'PATCH';
  path: string;
  params: Array<{ name: string; prefix: string | null }>;
  body: any;
}

async function documentedWriteRoutes(): Promise<DocRoute[]> {
  const doc = (await h.get('/v1/openapi.json')).body;
  const out: DocRoute[] = [];
  for (const [path, ops] of Object.entries<any>(doc.paths)) {
    for (const [m, op] of Object.entries<any>(ops)) {
      if (m !== 'post' && m !== 'patch') continue;
      const method = m.toUpperCase() as 'POST' | 'PATCH';
      const name = `${method} ${path.replace(/\{(\w+)\}/g, ':$1')}`;
      if (COVERED.has(name)) continue;
      const params = (op.parameters ?? [])
        .filter((p: any) => p.in === 'path')
        .map((p: any) => ({ name: p.name, prefix: /^\^([a-z]+)_/.exec(p.schema?.pattern ?? '')?.[1] ?? null }));
      out.push({ name, method, path, params, body: op.requestBody?.content?.['application/json']?.schema ?? null });
    }
  }
  return out;
}

function genericRoute(d: DocRoute): Route {
  const keys = Object.keys(d.body?.properties ?? {});
  const valid = (d.body ? fromSchema(d.body, '') : fc.constant({})).map((v) => (isObject(v) ? v : {}));
  const ids = d.params.map((p) =>
    pathId(() => {
      const known = p.prefix ? idsWithPrefix(p.prefix) : [];
      return known.length ? known : [`${p.prefix ?? 'x'}_0000000000NOPE`];
    }, p.prefix ?? 'x', `${p.prefix ?? 'x'}_0000000000NOPE`),
  );
  return {
    name: d.name,
    method: d.method,
    cases: () =>
      fc.record({ ids: fc.tuple(...ids), who, body: bodies(valid, keys.length ? keys : ['extra']) }).map(({ ids: values, who: w, body }) => {
        let url = d.path;
        d.params.forEach((p, i) => (url = url.replace(`{${p.name}}`, values[i] as string)));
        return { url, who: w, body, pathId: '' };
      }),
    // No model of these routes here: any 2xx is accepted, and its ids feed later runs.
    legit: () => true,
    effect: (_c, res) => collectIds(res.body),
  };
}

describe('fuzz every other write route in the OpenAPI document', () => {
  let routes: DocRoute[] = [];
  beforeAll(async () => {
    clockNowMs = new Date((await h.get('/v1/test/clock')).body.now).getTime();
    for (const id of [...pool.customers, ...pool.providers, ...pool.topUps.map((t) => t.id), ...pool.charges.map((c) => c.id), ...pool.refunds.map((r) => r.id), ...pool.transactions]) collectIds(id);
    // Something for the routes to act on: a service with a slot, a site, and orders of
    // both processes — made with whatever the current API accepts (collected ids only).
    const start = (days: number, hours = 0) => new Date(clockNowMs + (days * 24 + hours) * 3600_000).toISOString();
    const seeds: Array<[string, unknown, string?]> = [
      ['/v1/services', { name: 'Lesson', providerId: P.id, unitAmount: 5_000, currency: 'USD', slots: [{ startsAt: start(3), endsAt: start(3, 1), capacity: 3 }] }],
      ['/v1/sites', { address: '1 Main Street, Springfield', customerId: A.id }],
    ];
    for (const process of ['booking', 'direct']) {
      for (const days of [2, 10]) {
        seeds.push([
          '/v1/orders',
          { process, customerId: A.id, providerId: P.id, currency: 'USD', lines: [{ description: 'Session', quantity: 1, unitAmount: 10_000, startsAt: start(days), endsAt: start(days, 1) }] },
        ]);
      }
    }
    for (const [url, body] of seeds) collectIds((await h.post(url, body)).body);
    for (const ord of idsWithPrefix('ord')) {
      collectIds((await h.post(`/v1/orders/${ord}/confirm`, {}, { key: P.key })).body);
      collectIds((await h.post(`/v1/orders/${ord}/pay`, { useAccountCredit: true }, { key: A.key })).body);
      collectIds((await h.get(`/v1/orders/${ord}`)).body);
    }
    routes = await documentedWriteRoutes();
  });

  it(`never 5xx; every refusal is well-formed and changes nothing, in any table (${GENERIC_RUNS} runs per route)`, async () => {
    expect(routes.length).toBeGreaterThan(0);
    for (const d of routes) await fuzzRoute(genericRoute(d), GENERIC_RUNS);
  });
});

describe(`fuzz ${CLOCK.name}`, () => {
  it(`never 5xx; refusals are well-formed and change nothing (${RUNS} runs)`, async () => {
    expect(successes(await fuzzRoute(CLOCK, RUNS))).toBeGreaterThan(0);
  });
});

describe('after the fuzz', () => {
  it('the ledger check is clean and no balance that must not be negative is negative', async () => {
    const report = await h.check();
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
    const negative = await sql<{ id: string }>`
      select a.id from accounts a join account_balances b on b.account_id = a.id
      where not a.allow_negative group by a.id having sum(b.balance) < 0`.execute(h.app.services.store.db);
    expect(negative.rows).toEqual([]);
    await h.patch('/v1/settings', { ...DEFAULT_SETTINGS });
  });
});
