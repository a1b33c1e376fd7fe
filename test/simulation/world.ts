// The system under test for the simulation (see sim.ts): the app in process on a database
// that survives restarts, and what a run is (options, result, failure).
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { openStore, type Store } from '../../src/store/db.js';
import { migrate } from '../../src/store/migrate.js';
import { createApp, type App } from '../../src/app/app.js';
import { buildHttpApp, type HttpServer } from '../../src/http/app.js';

export type SimDb = 'pglite' | 'postgres';

export interface SimOptions {
  seed: number;
  steps: number;
  db: SimDb;
  /** Run the full ledger check (GET /v1/ledger/check) every N steps (and at the end). */
  checkEvery?: number;
  /** Called with every trace line as it happens (SIM_TRACE=1). */
  log?: (line: string) => void;
}

export interface SimResult {
  seed: number;
  steps: number;
  db: SimDb;
  ms: number;
  /** sha256 of the trace: the same seed must give the same hash. */
  traceHash: string;
  /** One line per step (and sub-lines for duplicates), without ids: the same seed gives the same trace. */
  trace: string[];
  orders: number;
  states: Record<string, number>;
  /** Order events by type (which transitions the run exercised). */
  events: Record<string, number>;
  statuses: Record<string, number>;
  actions: Record<string, number>;
  restarts: number;
  deadlinesFired: number;
  replays: number;
}

export class SimulationFailure extends Error {
  constructor(
    readonly seed: number,
    readonly step: number,
    readonly db: SimDb,
    readonly reason: string,
    readonly trace: string[],
  ) {
    super(
      [
        `simulation failed: seed ${seed}, step ${step} (${db}): ${reason}`,
        `replay: npm run simulate -- --seed ${seed} --steps ${step} --db ${db} --trace   or   SIM_SEED=${seed} SIM_STEPS=${step} SIM_TRACE=1 npx vitest run test/simulation --project ${db}`,
        'last steps:',
        ...trace.slice(-40).map((l) => `  ${l}`),
      ].join('\n'),
    );
  }
}

export class InvariantBroken extends Error {}

/** Where the time goes (SIM_PROFILE=1 prints it). */
export const profile: Record<string, { n: number; ms: number }> = {};
export async function timed<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const t = performance.now();
  try {
    return await fn();
  } finally {
    const p = (profile[name] ??= { n: 0, ms: 0 });
    p.n++;
    p.ms += performance.now() - t;
  }
}

export const fail = (reason: string): never => {
  throw new InvariantBroken(reason);
};

// ---------------------------------------------------------------------------------------
// The system under test: an app on a database that survives restarts.

export interface Res {
  status: number;
  body: any;
  headers: Record<string, unknown>;
}

export class World {
  store!: Store;
  app!: App;
  http!: HttpServer;
  readonly adminKey = `sk_test_admin_${randomUUID()}`;
  deadlineErrors: string[] = [];
  /** Bumped by anything that may have changed the database (a cached fingerprint is then stale). */
  version = 0;

  constructor(private readonly where: { dataDir: string } | { url: string }) {}

  open(): Promise<void> {
    return timed('open', () => this.openNow());
  }

  private async openNow(): Promise<void> {
    this.version++;
    this.store = await openStore('dataDir' in this.where ? { dataDir: this.where.dataDir } : { url: this.where.url, poolSize: 5 });
    await migrate(this.store);
    this.app = await createApp(this.store, {
      mode: 'sandbox',
      onDeadlineError: (err, d) => this.deadlineErrors.push(`${d.transition} on ${d.orderId}: ${(err as Error).message}`),
    });
    await this.app.apiKeys.ensureAdminKey(this.store.db, this.adminKey, 'simulation');
    this.http = await buildHttpApp(this.app, { logger: false });
    await this.http.ready();
  }

  async close(): Promise<void> {
    await this.app.deadlines.stop();
    await this.http.close();
    await this.store.close();
  }

  call(method: 'GET' | 'POST' | 'PATCH', path: string, body: unknown, key: string, idem?: string): Promise<Res> {
    return timed(path === '/v1/test/clock' && method === 'POST' ? 'clock' : path === '/v1/ledger/check' ? 'ledger check' : `http ${method}`, () => this.callNow(method, path, body, key, idem));
  }

  private async callNow(method: 'GET' | 'POST' | 'PATCH', path: string, body: unknown, key: string, idem?: string): Promise<Res> {
    if (method !== 'GET') this.version++;
    const headers: Record<string, string> = { authorization: `Bearer ${key}` };
    if (idem) headers['idempotency-key'] = idem;
    let payload: string | undefined;
    if (method !== 'GET') {
      payload = JSON.stringify(body ?? {});
      headers['content-type'] = 'application/json';
    }
    const res = await this.http.inject({ method, url: path, headers, ...(payload !== undefined ? { payload } : {}) });
    let parsed: unknown = res.body;
    try {
      parsed = JSON.parse(res.body);
    } catch {
      /* not JSON */
    }
    return { status: res.statusCode, body: parsed, headers: res.headers };
  }

  private cached: { version: number; value: string } | null = null;

  /**
   * A snapshot of everything a request could change (not the idempotency records), cached
   * while nothing that could change the database has happened since.
   */
  async fingerprint(): Promise<string> {
    if (this.cached?.version === this.version) return this.cached.value;
    const version = this.version;
    const value = await timed('fingerprint', () => this.fingerprintNow());
    this.cached = { version, value };
    return value;
  }

  private async fingerprintNow(): Promise<string> {
    const r = await sql<Record<string, unknown>>`
      select
        (select count(*) from ledger_transactions)::int as txns,
        (select count(*) from postings)::int as postings,
        (select count(*) from order_events)::int as events,
        (select count(*) from payouts)::int as payouts,
        (select count(*) from customers)::int as customers,
        (select coalesce(sum(booked), 0) from slots)::int as booked,
        (select md5(coalesce(string_agg(o.id || o.state || o.paid || '/' || o.refunded || '/' || o.subtotal || '/' || o.service_fee || '/'
            || o.service_fee_refunded || o.updated_at::text || coalesce(o.starts_at::text, '') || coalesce(o.proposal::text, '')
            || coalesce(o.review::text, '') || coalesce(o.claim::text, '') || coalesce(o.comment, '') || coalesce(o.awaiting, ''), ',' order by o.id), '')) from orders o) as orders,
        (select md5(coalesce(string_agg(l.id || l.status || l.refunded || '/' || l.amount || '/' || l.quantity || coalesce(l.slot_id, '')
            || coalesce(l.starts_at::text, '') || coalesce(l.participant_name, ''), ',' order by l.id), '')) from order_lines l) as lines,
        (select md5(coalesce(string_agg(d.order_id || d.transition || d.due_at::text, ',' order by d.order_id), '')) from deadlines d) as deadlines,
        (select md5(coalesce(string_agg(b.account_id || b.shard || '=' || b.balance, ',' order by b.account_id, b.shard), '')) from account_balances b) as balances,
        (select md5(coalesce(string_agg(r.id || r.status || r.amount, ',' order by r.id), '')) from refunds r) as refunds,
        (select md5(coalesce(string_agg(p.id || p.refunded_amount, ',' order by p.id), '')) from order_payments p) as payments,
        (select md5(data::text) from settings limit 1) as settings,
        -- Prepay jobs: the job, its names list, photos, collections, batches and where each order is.
        (select md5(coalesce(string_agg(j.id || j.status || j.manual_revision::text || coalesce(j.batch_release_at::text, '') || j.name
            || coalesce(j.picture_day::text, '') || j.updated_at::text, ',' order by j.id), '')) from jobs j) as jobs,
        (select md5(coalesce(string_agg(s.id || coalesce(s.name, '') || '/' || coalesce(s.group_name, ''), ',' order by s.id), '')) from job_subjects s) as subjects,
        (select md5(coalesce(string_agg(p.job_id || p.service_id || p.position, ',' order by p.job_id, p.position), '')) from job_products p) as products,
        (select count(*) from job_collections)::int as collections,
        (select md5(coalesce(string_agg(p.id || coalesce(p.access_code, '') || '/' || coalesce(p.group_name, ''), ',' order by p.id), '')) from job_photos p) as photos,
        (select md5(coalesce(string_agg(b.id || b.status || coalesce(b.release_at::text, '') || coalesce(b.released_at::text, ''), ',' order by b.id), '')) from job_batches b) as batches,
        (select md5(coalesce(string_agg(jo.order_id || jo.collection_id || coalesce(jo.batch_id, '') || jo.photos::text || coalesce(jo.populated_at::text, ''), ',' order by jo.order_id), ''))
           from job_orders jo) as job_orders`.execute(this.store.db);
    return JSON.stringify(r.rows[0]);
  }
}

/** How an answer reads in the trace: the state reached, or the refusal's code. */
export function outcome(res: Res): string {
  if (res.status === 200) return res.body?.state ? `200 ${res.body.state}` : '200';
  return `${res.status} ${res.body?.error?.code ?? '?'}`;
}

let template: { dir: string; ready: Promise<string> } | undefined;

/** An empty, migrated PGlite data directory, made once per process and copied for each run. */
export function pgliteTemplate(): Promise<string> {
  if (!template) {
    const dir = mkdtempSync(join(tmpdir(), 'settle-sim-template-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    const ready = (async () => {
      const store = await openStore({ dataDir: join(dir, 'db') });
      try {
        await migrate(store);
      } finally {
        await store.close();
      }
      return join(dir, 'db');
    })();
    template = { dir, ready };
  }
  return template.ready;
}

/** Removes the PGlite template (call when no more runs follow; test workers may not see 'exit'). */
export async function disposeSimulations(): Promise<void> {
  const t = template;
  template = undefined;
  if (!t) return;
  await t.ready.catch(() => undefined);
  rmSync(t.dir, { recursive: true, force: true });
}
