// A Settle app on a fresh database, driven through HTTP with Fastify's inject (no
// sockets), plus helpers to create the usual things.
import { randomUUID } from 'node:crypto';
import { openStore } from '../../src/store/db.js';
import { migrate } from '../../src/store/migrate.js';
import { createApp, type App } from '../../src/app/app.js';
import { buildHttpApp, type HttpServer } from '../../src/http/app.js';
import { checkLedger, type CheckReport } from '../../src/ledger/check.js';
import { createTestDatabase, TEST_DB } from './db.js';

export interface Res<T = any> {
  status: number;
  body: T;
  headers: Record<string, unknown>;
}

export interface CallOptions {
  key?: string;
  idem?: string | false;
  headers?: Record<string, string>;
  rawBody?: string;
}

export interface Harness {
  app: App;
  http: HttpServer;
  adminKey: string;
  kind: 'pglite' | 'postgres';
  post<T = any>(path: string, body?: unknown, opts?: CallOptions): Promise<Res<T>>;
  patch<T = any>(path: string, body?: unknown, opts?: CallOptions): Promise<Res<T>>;
  get<T = any>(path: string, opts?: CallOptions): Promise<Res<T>>;
  check(): Promise<CheckReport>;
  customer(opts?: { credit?: number; currency?: string; name?: string }): Promise<{ id: string; key: string }>;
  provider(): Promise<{ id: string; key: string }>;
  balance(customerId: string, currency?: string): Promise<number>;
  counts(): Promise<Record<string, number>>;
  close(): Promise<void>;
}

export async function startHarness(options: { poolSize?: number } = {}): Promise<Harness> {
  const db = await createTestDatabase();
  const store = await openStore({ url: db.url, ...(options.poolSize ? { poolSize: options.poolSize } : {}) });
  await migrate(store);
  const app = await createApp(store, { mode: 'sandbox' });
  const adminKey = `sk_test_admin_${randomUUID()}`;
  await app.apiKeys.ensureAdminKey(store.db, adminKey, 'test');
  const http = await buildHttpApp(app, { logger: false });
  await http.ready();

  async function call(method: 'GET' | 'POST' | 'PATCH', path: string, body: unknown, opts: CallOptions = {}): Promise<Res> {
    const headers: Record<string, string> = { authorization: `Bearer ${opts.key ?? adminKey}`, ...(opts.headers ?? {}) };
    if (method !== 'GET' && opts.idem !== false) headers['idempotency-key'] = opts.idem ?? randomUUID();
    let payload: string | undefined;
    if (opts.rawBody !== undefined) payload = opts.rawBody;
    else if (method !== 'GET') payload = JSON.stringify(body ?? {});
    if (payload !== undefined && !headers['content-type']) headers['content-type'] = 'application/json';
    const res = await http.inject({ method, url: path, headers, ...(payload !== undefined ? { payload } : {}) });
    let parsed: unknown = res.body;
    try {
      parsed = JSON.parse(res.body);
    } catch {
      /* not JSON */
    }
    return { status: res.statusCode, body: parsed, headers: res.headers };
  }

  const h: Harness = {
    app,
    http,
    adminKey,
    kind: TEST_DB,
    post: (p, b, o) => call('POST', p, b, o),
    patch: (p, b, o) => call('PATCH', p, b, o),
    get: (p, o) => call('GET', p, undefined, o),
    check: () => checkLedger(store.db),
    async customer(o = {}) {
      const c = await h.post('/v1/customers', { email: `${randomUUID()}@example.com`, name: o.name ?? 'Test Customer' });
      if (c.status !== 200) throw new Error(`customer: ${JSON.stringify(c.body)}`);
      if (o.credit) {
        const t = await h.post(`/v1/customers/${c.body.id}/top-ups`, { amount: o.credit, currency: o.currency ?? 'USD', paymentMethod: 'pm_card_visa' });
        if (t.status !== 200) throw new Error(`top-up: ${JSON.stringify(t.body)}`);
      }
      const k = await h.post('/v1/api-keys', { role: 'customer', customerId: c.body.id });
      return { id: c.body.id, key: k.body.key };
    },
    async provider() {
      const p = await h.post('/v1/providers', { email: `${randomUUID()}@example.com`, name: 'Test Provider' });
      if (p.status !== 200) throw new Error(`provider: ${JSON.stringify(p.body)}`);
      const k = await h.post('/v1/api-keys', { role: 'provider', providerId: p.body.id });
      return { id: p.body.id, key: k.body.key };
    },
    async balance(customerId, currency = 'USD') {
      const r = await h.get(`/v1/customers/${customerId}`);
      return r.body.balances[currency] ?? 0;
    },
    async counts() {
      const tables = ['customers', 'providers', 'api_keys', 'ledger_transactions', 'postings', 'top_ups', 'charges', 'refunds', 'accounts'] as const;
      const out: Record<string, number> = {};
      for (const t of tables) {
        const row = await store.db.selectFrom(t).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
        out[t] = Number(row.n);
      }
      return out;
    },
    async close() {
      await http.close();
      await store.close();
      await db.drop();
    },
  };
  return h;
}
