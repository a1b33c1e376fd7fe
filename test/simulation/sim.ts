// A deterministic simulation of Settle's booking and direct processes, in the spirit of
// TigerBeetle's VOPR. From one seed it builds a small business (customers with credit,
// providers with services and slots of limited capacity) and then takes random steps
// against the real HTTP API (in process, through Fastify's inject):
//   - booking orders (free lines, multi-line sessions, slot lines; some invalid),
//   - direct orders (~25 %: staff only, some on a site; free, timed, service and slot
//     lines; customers and providers trying must be refused), paid, delivered line by
//     line, lines or all undone lines cancelled, refunded to the card or from the payout,
//   - transitions by every actor, valid and invalid (strangers, wrong party, wrong state,
//     bad amounts) — a refusal must be a clean 4xx that changes nothing,
//   - clock jumps of every size, some landing exactly on a deadline or a policy boundary,
//   - the same request again with the same Idempotency-Key (must replay identically),
//     also long after (old keys, across restarts), and with another body (422),
//   - restarts: the app is closed and a new one opened on the same database (PGlite on
//     disk, or the same PostgreSQL database), sometimes with time passing while "down".
// After every step the invariants are checked (money, deadlines, seats, history), and
// the full ledger check runs every `checkEvery` steps and at the end. A failure names its
// seed and step; the same seed replays the same run (SIM_SEED=<n>).
import { createHash, randomUUID } from 'node:crypto';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { sql } from 'kysely';
import { openStore, type Store } from '../../src/store/db.js';
import { migrate } from '../../src/store/migrate.js';
import { createApp, type App } from '../../src/app/app.js';
import { buildHttpApp, type HttpServer } from '../../src/http/app.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { Rng } from './rng.js';

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

class InvariantBroken extends Error {}

/** Where the time goes (SIM_PROFILE=1 prints it). */
export const profile: Record<string, { n: number; ms: number }> = {};
async function timed<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const t = performance.now();
  try {
    return await fn();
  } finally {
    const p = (profile[name] ??= { n: 0, ms: 0 });
    p.n++;
    p.ms += performance.now() - t;
  }
}

const fail = (reason: string): never => {
  throw new InvariantBroken(reason);
};

// ---------------------------------------------------------------------------------------
// The system under test: an app on a database that survives restarts.

interface Res {
  status: number;
  body: any;
  headers: Record<string, unknown>;
}

class World {
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
}

// ---------------------------------------------------------------------------------------
// What the simulation knows (by creation index, never by id, so a replay is identical).

interface Party {
  id: string;
  key: string;
  label: string;
}

interface Slot {
  id: string;
  startsAt: Date;
  endsAt: Date;
  capacity: number;
}

interface Service {
  id: string;
  provider: number;
  unitAmount: number;
  slots: Slot[];
}

type ProcessName = 'booking' | 'direct';

interface OrderRef {
  id: string;
  label: string;
  customer: number;
  provider: number;
  process: ProcessName;
}

interface Sent {
  method: 'POST' | 'PATCH';
  path: string;
  body: unknown;
  key: string;
  idem: string;
  res: Res;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const OK_REFUSALS = new Set([400, 402, 403, 404, 409, 422]);
/** Refusals that the idempotency layer stores (and so replays byte for byte). */
const STORED_REFUSALS = new Set([400, 402, 404, 422]);
const DEADLINE_OF_STATE: Record<string, string | undefined> = {
  confirmation: 'expire_confirmation',
  payment: 'expire_payment',
  execution: 'auto_done',
  execution_confirmation: 'auto_close',
};
const TERMINAL = new Set(['closed', 'cancelled']);
const PAYMENT_METHODS = { visa: 'pm_card_visa', refund_fails: 'pm_card_refund_fails', declined: 'pm_card_declined', bogus: 'pm_bogus' } as const;
const TIME_ZONES = ['UTC', 'Europe/Berlin', 'America/Los_Angeles', 'Asia/Tokyo', 'Pacific/Kiritimati'] as const;
const START = '2040-01-06T08:00:00.000Z';

type ActionName =
  | 'confirm'
  | 'edit'
  | 'propose'
  | 'accept'
  | 'decline'
  | 'pay'
  | 'mark_done'
  | 'confirm_execution'
  | 'claim'
  | 'resolve'
  | 'review'
  | 'cancel'
  | 'cancel_lines'
  | 'quote_then_cancel'
  | 'refund'
  | 'refund_to_card'
  | 'edit_line'
  | 'line_done'
  | 'retry_refund';

/** What the parties usually do next in each state (repeats weigh the usual path). */
const PLAUSIBLE: Record<string, ActionName[]> = {
  confirmation: ['confirm', 'confirm', 'confirm', 'confirm', 'confirm', 'edit', 'edit', 'cancel', 'quote_then_cancel'],
  payment: ['pay', 'pay', 'pay', 'pay', 'pay', 'pay', 'cancel', 'cancel_lines', 'quote_then_cancel', 'edit_line'],
  execution: ['mark_done', 'mark_done', 'mark_done', 'propose', 'propose', 'accept', 'accept', 'decline', 'cancel', 'cancel_lines', 'quote_then_cancel', 'edit_line', 'refund', 'refund_to_card'],
  execution_confirmation: ['confirm_execution', 'confirm_execution', 'confirm_execution', 'claim', 'claim', 'refund', 'refund_to_card'],
  claim: ['resolve', 'resolve', 'resolve', 'refund'],
  closed: ['review', 'review', 'refund', 'refund_to_card', 'retry_refund'],
  cancelled: ['refund', 'refund_to_card', 'retry_refund'],
};
/** The direct process (SPEC "The direct process"): staff-run, paid up front, lines delivered one by one. */
const PLAUSIBLE_DIRECT: Record<string, ActionName[]> = {
  payment: ['pay', 'pay', 'pay', 'pay', 'pay', 'pay', 'cancel'],
  delivery: ['line_done', 'line_done', 'line_done', 'line_done', 'line_done', 'cancel_lines', 'cancel_lines', 'cancel', 'refund_to_card', 'refund', 'quote_then_cancel'],
  closed: ['refund', 'refund_to_card', 'retry_refund'],
  cancelled: ['refund', 'refund_to_card', 'retry_refund'],
};
const DIRECT_STATES = new Set(['payment', 'delivery', 'closed', 'cancelled']);
const ALL_ACTIONS: ActionName[] = [
  'confirm', 'edit', 'propose', 'accept', 'decline', 'pay', 'mark_done', 'confirm_execution', 'claim', 'resolve',
  'review', 'cancel', 'cancel_lines', 'quote_then_cancel', 'refund', 'refund_to_card', 'edit_line', 'line_done', 'retry_refund',
];

/** Whether the action has something to act on (a proposal to accept, a card to refund to…). */
function feasible(action: ActionName, order: any): boolean {
  switch (action) {
    case 'accept':
    case 'decline':
      return order.proposal !== null;
    case 'refund_to_card':
      return (order.payments as any[]).some((p) => p.method === 'card');
    case 'retry_refund':
      return (order.refunds as any[]).some((r) => r.status === 'failed');
    case 'review':
      return order.review === null;
    case 'refund':
      return order.amounts.refundable > 0;
    default:
      return true;
  }
}

type Who = 'customer' | 'provider' | 'admin' | 'stranger_customer' | 'stranger_provider';

/** Who would normally take the action (the simulation mostly asks them, sometimes others). */
function naturalActor(action: ActionName, order: any, rng: Rng): Who {
  if (order.process === 'direct') {
    // Staff run direct orders; the customer pays, the provider delivers. Others now and
    // then (a customer cancelling, a provider refunding) must be refused cleanly.
    switch (action) {
      case 'pay':
        return rng.chance(0.7) ? 'customer' : 'admin';
      case 'line_done':
        return rng.chance(0.7) ? 'provider' : 'admin';
      case 'cancel':
      case 'cancel_lines':
      case 'quote_then_cancel':
      case 'refund':
      case 'refund_to_card':
      case 'retry_refund':
        return rng.chance(0.9) ? 'admin' : rng.pick(['customer', 'provider'] as const);
      default:
        break;
    }
  }
  switch (action) {
    case 'confirm':
      return order.awaiting === 'customer' ? 'customer' : order.awaiting === 'provider' ? 'provider' : 'admin';
    case 'edit':
      return rng.pick(['customer', 'provider', 'admin'] as const);
    case 'propose':
    case 'mark_done':
      return rng.chance(0.85) ? 'provider' : 'admin';
    case 'accept':
    case 'decline':
    case 'pay':
    case 'confirm_execution':
    case 'claim':
    case 'review':
    case 'edit_line':
      return rng.chance(0.85) ? 'customer' : 'admin';
    case 'cancel':
    case 'cancel_lines':
    case 'quote_then_cancel':
      return rng.pick(['customer', 'customer', 'provider', 'admin'] as const);
    default:
      return 'admin';
  }
}

// ---------------------------------------------------------------------------------------

export async function runSimulation(options: SimOptions): Promise<SimResult> {
  const started = Date.now();
  let database: TestDatabase | undefined;
  let dataDir: string | undefined;
  if (options.db === 'postgres') database = await createTestDatabase('postgres');
  else {
    // A copy of a migrated template: PGlite's initdb is the slowest part of a short run.
    dataDir = mkdtempSync(join(tmpdir(), 'settle-sim-'));
    cpSync(await pgliteTemplate(), join(dataDir, 'db'), { recursive: true });
  }
  const world = new World(database ? { url: database.url } : { dataDir: join(dataDir!, 'db') });
  const sim = new Simulation(options, world);
  try {
    await world.open();
    await sim.run();
    return { ...sim.result(), ...(await sim.summary()), ms: Date.now() - started };
  } finally {
    await world.close().catch(() => {});
    await database?.drop().catch(() => {});
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }
}

let template: { dir: string; ready: Promise<string> } | undefined;

/** An empty, migrated PGlite data directory, made once per process and copied for each run. */
function pgliteTemplate(): Promise<string> {
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

class Simulation {
  private readonly rng: Rng;
  private readonly trace: string[] = [];
  private step = 0;
  private idemCounter = 0;
  private now = new Date(START);
  private readonly customers: Party[] = [];
  private readonly providers: Party[] = [];
  private readonly services: Service[] = [];
  private readonly orders: OrderRef[] = [];
  private readonly orderIndex = new Map<string, number>();
  private readonly sent: Sent[] = [];
  private readonly topUps: { id: string; customer: number }[] = [];
  private readonly corrections: { id: string; customer: number }[] = [];
  private readonly sites: { id: string; customer: number }[] = [];
  /** The business's default refund destination (set once in setup; snapshotted onto orders). */
  private defaultRefundDestination: 'account_credit' | 'card' = 'account_credit';
  private readonly statuses: Record<string, number> = {};
  private readonly actions: Record<string, number> = {};
  private restarts = 0;
  private replays = 0;
  private lastCheckedStep = -1;
  /** The order the last successful transition moved (likely to be acted on again). */
  private focus: number | null = null;

  constructor(
    private readonly options: SimOptions,
    private readonly world: World,
  ) {
    this.rng = new Rng(options.seed);
  }

  // ----- plumbing -------------------------------------------------------------------

  /** Sub-lines (duplicates, replays) wait for the line of the step they belong to. */
  private readonly subNotes: string[] = [];

  private note(line: string): void {
    for (const entry of [`#${this.step} ${line}`, ...this.subNotes.splice(0).map((l) => `#${this.step}   ${l}`)]) {
      this.trace.push(entry);
      this.options.log?.(entry);
    }
  }

  private count(map: Record<string, number>, key: string): void {
    map[key] = (map[key] ?? 0) + 1;
  }

  private nextIdem(): string {
    return `sim-${this.options.seed}-${++this.idemCounter}`;
  }

  private get admin(): Party {
    return { id: 'admin', key: this.world.adminKey, label: 'admin' };
  }

  private iso(ms: number): string {
    return new Date(ms).toISOString();
  }

  /** A refusal must be a 4xx with a Stripe-style error body; a 5xx (or 401) is a bug. */
  private expectCleanStatus(what: string, res: Res): void {
    this.count(this.statuses, String(res.status));
    if (res.status === 200) return;
    if (!OK_REFUSALS.has(res.status)) fail(`${what}: unexpected status ${res.status}: ${JSON.stringify(res.body).slice(0, 600)}`);
    const e = res.body?.error;
    if (!e || typeof e.type !== 'string' || typeof e.code !== 'string' || typeof e.message !== 'string') {
      fail(`${what}: ${res.status} without a proper error body: ${JSON.stringify(res.body).slice(0, 300)}`);
    }
    // One error code, one status (and type), whichever endpoint refuses.
    const seen = this.errorCodes.get(e.code);
    if (seen && (seen.status !== res.status || seen.type !== e.type)) {
      fail(`${what}: ${e.code} came as ${res.status} ${e.type} here but as ${seen.status} ${seen.type} from ${seen.what}`);
    }
    if (!seen) this.errorCodes.set(e.code, { status: res.status, type: e.type, what });
  }

  private readonly errorCodes = new Map<string, { status: number; type: string; what: string }>();

  private outcome(res: Res): string {
    if (res.status === 200) return res.body?.state ? `200 ${res.body.state}` : '200';
    return `${res.status} ${res.body?.error?.code ?? '?'}`;
  }

  private cached: { version: number; value: string } | null = null;

  /**
   * A snapshot of everything a request could change (not the idempotency records), cached
   * while nothing that could change the database has happened since.
   */
  private async fingerprint(): Promise<string> {
    if (this.cached?.version === this.world.version) return this.cached.value;
    const version = this.world.version;
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
        (select md5(data::text) from settings limit 1) as settings`.execute(this.world.store.db);
    return JSON.stringify(r.rows[0]);
  }

  /**
   * Sends a mutating request; checks its status is clean; that a refusal changed nothing;
   * and sometimes sends it again with the same Idempotency-Key (same answer, no effect)
   * or with the same key and another body (422 idempotency_key_reused).
   */
  private async send(what: string, method: 'POST' | 'PATCH', path: string, body: unknown, key: string, opts: { noDuplicate?: boolean } = {}): Promise<Res> {
    const before = await this.fingerprint();
    const idem = this.nextIdem();
    const res = await this.world.call(method, path, body, key, idem);
    this.expectCleanStatus(what, res);
    if (res.status !== 200) {
      const after = await this.fingerprint();
      if (after !== before) fail(`${what}: refused with ${this.outcome(res)} but the database changed`);
    }
    // (A refusal was just proven to change nothing; anything else invalidates the cache.)
    const entry: Sent = { method, path, body, key, idem, res };
    if (res.status === 200) {
      // (Test clock moves too: a replay must answer the same and leave the clock where it is.)
      this.sent.push(entry);
      if (this.sent.length > 200) this.sent.splice(0, this.sent.length - 200);
    }
    if (!opts.noDuplicate && this.rng.chance(0.12)) await this.duplicate(what, entry, false);
    return res;
  }

  /** The same request, same key: the same answer, and nothing changes. */
  private async duplicate(what: string, first: Sent, old: boolean): Promise<void> {
    this.replays++;
    const before = await this.fingerprint();
    const again = await this.world.call(first.method, first.path, first.body, first.key, first.idem);
    const label = old ? `old replay of ${what}` : `duplicate of ${what}`;
    this.expectCleanStatus(label, again);
    if (again.status !== first.res.status) fail(`${label}: first ${this.outcome(first.res)}, again ${this.outcome(again)}`);
    if (first.res.status === 200 || STORED_REFUSALS.has(first.res.status)) {
      if (!isDeepStrictEqual(again.body, first.res.body)) {
        fail(`${label}: replayed body differs\nfirst: ${JSON.stringify(first.res.body).slice(0, 800)}\nagain: ${JSON.stringify(again.body).slice(0, 800)}`);
      }
      if (first.res.status === 200 && again.headers['idempotent-replayed'] !== 'true') fail(`${label}: 200 replay without Idempotent-Replayed: true`);
    } else if (again.body?.error?.code !== first.res.body?.error?.code) {
      fail(`${label}: first ${this.outcome(first.res)}, again ${this.outcome(again)}`);
    }
    const after = await this.fingerprint();
    if (after !== before) fail(`${label}: the repeat changed the database`);
    this.subNotes.push(`${old ? 'old replay' : 'duplicate'} → ${this.outcome(again)} (same)`);
    // The same key with another body must be refused when the first answer was stored.
    if (first.res.status === 200 && this.rng.chance(0.3)) {
      const other = otherBody(first.body);
      const reused = await this.world.call(first.method, first.path, other, first.key, first.idem);
      this.count(this.statuses, String(reused.status));
      // Schema validation (additionalProperties) may refuse first with a 400; both are clean refusals.
      const code = reused.body?.error?.code;
      if (!(reused.status === 422 && code === 'idempotency_key_reused') && reused.status !== 400) {
        fail(`${label} with another body: expected 422 idempotency_key_reused, got ${this.outcome(reused)}`);
      }
      if ((await this.fingerprint()) !== before) fail(`${label} with another body changed the database`);
      this.subNotes.push(`same key, other body → ${this.outcome(reused)}`);
    }
  }

  private async get(path: string, key = this.world.adminKey): Promise<Res> {
    const res = await this.world.call('GET', path, undefined, key);
    return res;
  }

  private async order(ref: OrderRef): Promise<any> {
    const res = await this.get(`/v1/orders/${ref.id}`);
    if (res.status !== 200) fail(`GET order ${ref.label}: ${this.outcome(res)}`);
    return res.body;
  }

  private keyOf(who: Who, ref: OrderRef): Party {
    switch (who) {
      case 'customer':
        return this.customers[ref.customer]!;
      case 'provider':
        return this.providers[ref.provider]!;
      case 'admin':
        return this.admin;
      case 'stranger_customer': {
        const others = this.customers.filter((_, i) => i !== ref.customer);
        return others.length ? this.rng.pick(others) : this.customers[ref.customer]!;
      }
      case 'stranger_provider': {
        const others = this.providers.filter((_, i) => i !== ref.provider);
        return others.length ? this.rng.pick(others) : this.providers[ref.provider]!;
      }
    }
  }

  // ----- setup --------------------------------------------------------------------------

  private async setup(): Promise<void> {
    const rng = this.rng;
    const clock = await this.world.call('POST', '/v1/test/clock', { to: START }, this.world.adminKey, this.nextIdem());
    if (clock.status !== 200) fail(`setting the clock: ${this.outcome(clock)}`);
    const settings = {
      timeZone: rng.pick(TIME_ZONES),
      serviceFee: { fixed: rng.pick([0, 0, 100, 250]), percent: rng.pick([0, 0, 2.5, 10]) },
      providerCommissionPercent: rng.pick([0, 10, 15.5]),
      lateCancellationRefundPercent: rng.pick([0, 0, 50, 33.33]),
      noRefundWithinHours: rng.pick([24, 24, 48, 2]),
      refundServiceFeeOnCancellation: rng.chance(0.7),
      defaultRefundDestination: rng.pick(['account_credit', 'card'] as const),
      allowCustomerCancellation: rng.chance(0.85),
      allowCustomerEdits: rng.chance(0.85),
    };
    this.defaultRefundDestination = settings.defaultRefundDestination;
    const s = await this.world.call('PATCH', '/v1/settings', settings, this.world.adminKey, this.nextIdem());
    if (s.status !== 200) fail(`settings: ${this.outcome(s)}`);
    this.note(`settings ${JSON.stringify(settings)}`);

    const nCustomers = rng.int(3, 6);
    for (let i = 0; i < nCustomers; i++) {
      const c = await this.world.call('POST', '/v1/customers', { email: `c${i}-${this.options.seed}@sim.example`, name: `Customer ${i}` }, this.world.adminKey, this.nextIdem());
      if (c.status !== 200) fail(`customer: ${this.outcome(c)}`);
      const k = await this.world.call('POST', '/v1/api-keys', { role: 'customer', customerId: c.body.id }, this.world.adminKey, this.nextIdem());
      this.customers.push({ id: c.body.id, key: k.body.key, label: `c${i}` });
      const credit = rng.pick([0, 5_000, 20_000, 60_000, 150_000]);
      if (credit) {
        const t = await this.world.call('POST', `/v1/customers/${c.body.id}/top-ups`, { amount: credit, currency: 'USD', paymentMethod: rng.pick(['pm_card_visa', 'pm_card_refund_fails']) }, this.world.adminKey, this.nextIdem());
        if (t.status !== 200) fail(`top-up: ${this.outcome(t)}`);
        this.topUps.push({ id: t.body.id, customer: i });
      }
      this.note(`customer c${i} with credit ${credit}`);
    }
    const nProviders = rng.int(2, 3);
    for (let i = 0; i < nProviders; i++) {
      const p = await this.world.call('POST', '/v1/providers', { email: `p${i}-${this.options.seed}@sim.example`, name: `Provider ${i}` }, this.world.adminKey, this.nextIdem());
      if (p.status !== 200) fail(`provider: ${this.outcome(p)}`);
      const k = await this.world.call('POST', '/v1/api-keys', { role: 'provider', providerId: p.body.id }, this.world.adminKey, this.nextIdem());
      this.providers.push({ id: p.body.id, key: k.body.key, label: `p${i}` });
      this.note(`provider p${i}`);
    }
    for (let i = 0; i < nProviders; i++) await this.createService(i);
    await this.checkInvariants(true);
  }

  private async createService(provider: number): Promise<void> {
    const rng = this.rng;
    const unitAmount = rng.pick([1_500, 4_000, 9_900, 25_000]);
    const slots = Array.from({ length: rng.int(3, 6) }, () => {
      const startsAt = this.now.getTime() + rng.int(1, 14 * 24) * HOUR + rng.pick([0, 30 * 60_000]);
      return { startsAt: this.iso(startsAt), endsAt: this.iso(startsAt + rng.pick([1, 2, 3]) * HOUR), capacity: rng.int(1, 4) };
    });
    const res = await this.send(
      'create service',
      'POST',
      '/v1/services',
      { name: `Session ${this.services.length}`, providerId: this.providers[provider]!.id, unitAmount, currency: 'USD', slots },
      this.world.adminKey,
    );
    if (res.status !== 200) fail(`create service: ${this.outcome(res)}`);
    this.services.push({
      id: res.body.id,
      provider,
      unitAmount,
      slots: (res.body.slots as any[]).map((s) => ({ id: s.id, startsAt: new Date(s.startsAt), endsAt: new Date(s.endsAt), capacity: s.capacity })),
    });
    this.note(`service s${this.services.length - 1} of p${provider}: ${slots.length} slots, ${unitAmount} each`);
  }

  // ----- the run --------------------------------------------------------------------------

  async run(): Promise<void> {
    const checkEvery = this.options.checkEvery ?? 10;
    try {
      await this.setup();
      for (this.step = 1; this.step <= this.options.steps; this.step++) {
        const live = await this.liveOrders();
        const kind = this.rng.weighted({
          create: live < 2 ? 45 : live < 5 ? 16 : 8,
          transition: this.orders.length ? 58 : 0,
          clock: 10,
          old_replay: this.sent.length ? 3 : 0,
          money: 4,
          restart: 1.2,
          service: 1.5,
          settings: 1,
          read: 2.5,
        });
        this.count(this.actions, kind);
        const jumped = await this.runStep(kind);
        await this.checkInvariants(jumped);
        if (this.step % checkEvery === 0) await this.fullCheck();
      }
      this.step = this.options.steps;
      await this.fullCheck();
    } catch (err) {
      if (err instanceof SimulationFailure) throw err;
      const reason = err instanceof InvariantBroken ? err.message : `unexpected error: ${(err as Error).stack ?? String(err)}`;
      throw new SimulationFailure(this.options.seed, this.step, this.options.db, reason, this.trace);
    }
  }

  /** Returns true when the step moved the clock (then no deadline may be overdue). */
  private async runStep(kind: string): Promise<boolean> {
    switch (kind) {
      case 'create':
        await this.createOrder();
        return false;
      case 'transition':
        await this.transition();
        return false;
      case 'clock':
        await this.clockJump();
        return true;
      case 'old_replay': {
        const first = this.rng.pick(this.sent);
        const what = `${first.method} ${first.path.replace(/[a-z]+_[0-9A-Z]{26}/g, (m) => this.labelOf(m))}`;
        await this.duplicate(what, first, true);
        this.note(`replay an old request: ${what}`);
        return false;
      }
      case 'money':
        await this.moneyStep();
        return false;
      case 'restart':
        return this.restart();
      case 'service':
        await this.createService(this.rng.int(0, this.providers.length - 1));
        return false;
      case 'settings':
        await this.changeSettings();
        return false;
      case 'read':
        await this.readStep();
        return false;
    }
    throw new Error(`unknown step ${kind}`);
  }

  private async liveOrders(): Promise<number> {
    const r = await this.world.store.db
      .selectFrom('orders')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('state', 'not in', [...TERMINAL])
      .executeTakeFirstOrThrow();
    return Number(r.n);
  }

  private labelOf(id: string): string {
    const i = this.orderIndex.get(id);
    return i === undefined ? id.slice(0, id.indexOf('_')) : this.orders[i]!.label;
  }

  // ----- steps -------------------------------------------------------------------------

  private async createOrder(): Promise<void> {
    if (this.rng.chance(0.25)) return this.createDirectOrder();
    const rng = this.rng;
    const customer = rng.int(0, this.customers.length - 1);
    const provider = rng.int(0, this.providers.length - 1);
    const who = rng.weighted({ customer: 50, provider: 30, admin: 20 });
    const now = this.now.getTime();
    const lines: Record<string, unknown>[] = [];
    // Customers and providers book only what is ahead (starts_in_past); staff may record the past.
    let startsInPast = false;
    let shape: string;
    const services = this.services.filter((s) => s.provider === provider);
    const futureSlots = services.flatMap((s) => s.slots.filter((sl) => sl.startsAt.getTime() > now));
    if (futureSlots.length && rng.chance(0.45)) {
      shape = 'slots';
      for (let i = Number(rng.weighted({ 1: 50, 2: 35, 3: 15 })); i > 0; i--) {
        const slot = rng.pick(futureSlots);
        lines.push({ slotId: slot.id, quantity: rng.chance(0.85) ? 1 : 2, participantName: `Guest ${rng.int(1, 99)}` });
      }
    } else {
      const n = rng.weighted({ 1: 55, 2: 30, 3: 15 });
      shape = `${n} free line(s)`;
      const when = rng.weighted({ soon: 20, days: 50, later: 25, past: 3, exact: 2 });
      startsInPast = when === 'past';
      let start =
        when === 'soon'
          ? now + rng.int(20, 6 * 60) * 60_000 // same day: the 5 h confirmation window
          : when === 'days'
            ? now + rng.int(6, 72) * HOUR + rng.pick([0, 15 * 60_000])
            : when === 'later'
              ? now + rng.int(3, 12) * DAY + rng.int(0, 23) * HOUR
              : when === 'past'
                ? now - rng.int(1, 5) * HOUR // already started: must not break anything
                : now + 24 * HOUR; // exactly at the refund boundary
      for (let i = 0; i < Number(n); i++) {
        const duration = rng.pick([30, 60, 90, 180]) * 60_000;
        lines.push({
          description: `Session ${i + 1}`,
          quantity: rng.chance(0.9) ? 1 : 2,
          unitAmount: rng.chance(0.04) ? 0 : rng.pick([500, 2_500, 7_000, 10_000, 12_345, 40_000]),
          startsAt: this.iso(start),
          endsAt: this.iso(start + duration),
        });
        start += rng.int(2, 48) * HOUR;
      }
    }
    // Some requests are wrong on purpose; they must be refused cleanly.
    const broken = rng.weighted({ none: 88, negative: 2, no_lines: 2, other_customer: 3, bad_slot: 2, ends_before: 2, bad_currency: 1 });
    let customerId = this.customers[customer]!.id;
    let currency = 'USD';
    if (broken === 'negative') lines[0] = { ...lines[0], unitAmount: -5, description: 'x' };
    if (broken === 'no_lines') lines.length = 0;
    if (broken === 'other_customer' && this.customers.length > 1) customerId = this.customers[(customer + 1) % this.customers.length]!.id;
    if (broken === 'bad_slot') lines[0] = { slotId: 'slot_00000000000000000000000000', quantity: 1 };
    if (broken === 'ends_before') lines[0] = { description: 'Backwards', quantity: 1, unitAmount: 100, startsAt: this.iso(now + DAY), endsAt: this.iso(now + DAY - HOUR) };
    if (broken === 'bad_currency') currency = shape === 'slots' ? 'EUR' : 'XXX';
    const party = who === 'customer' ? this.customers[customer]! : who === 'provider' ? this.providers[provider]! : this.admin;
    const body: Record<string, unknown> = { process: 'booking', customerId, providerId: this.providers[provider]!.id, currency, lines };
    if (who === 'admin' && rng.chance(0.5)) body.onBehalfOf = rng.pick(['customer', 'provider'] as const);
    const res = await this.send('create order', 'POST', '/v1/orders', body, party.key);
    const label = `o${this.orders.length}`;
    if (res.status === 200) {
      if (broken !== 'none' && broken !== 'other_customer' && broken !== 'bad_currency') fail(`create order (${broken}) was accepted`);
      if (broken === 'other_customer' && who === 'customer') fail('a customer created an order for another customer');
      if (startsInPast && who !== 'admin') fail(`a ${who} booked a start in the past`);
      const ref: OrderRef = { id: res.body.id, label, customer: this.customers.findIndex((c) => c.id === res.body.customerId), provider, process: 'booking' };
      this.orders.push(ref);
      this.orderIndex.set(ref.id, this.orders.length - 1);
      this.note(`create ${label} (c${ref.customer}/p${provider}, ${shape}${broken !== 'none' ? `, ${broken}` : ''}) by ${who} → ${this.outcome(res)} total ${res.body.amounts.total}`);
    } else {
      const pastRefused = startsInPast && who !== 'admin' && res.status === 422 && res.body?.error?.code === 'starts_in_past';
      if (broken === 'none' && !pastRefused && res.body?.error?.code !== 'slot_full') fail(`create order (valid, ${shape}) refused: ${this.outcome(res)} ${res.body?.error?.message}`);
      this.note(`create (c${customer}/p${provider}, ${shape}, ${broken}) by ${who} → ${this.outcome(res)}`);
    }
  }

  /** A site of the customer (made the first time it is needed, sometimes a new one). */
  private async siteOf(customer: number): Promise<string | null> {
    const own = this.sites.filter((s) => s.customer === customer);
    if (own.length && this.rng.chance(0.7)) return this.rng.pick(own).id;
    const address = `${this.rng.int(1, 999)} ${this.rng.pick(['Elm Street', 'Harbour View', 'Ocean Drive', 'Rue de l’Église'])}, Sim ${this.options.seed}`;
    const res = await this.send('create site', 'POST', '/v1/sites', { address, customerId: this.customers[customer]!.id }, this.world.adminKey);
    this.subNotes.push(`site for c${customer} → ${this.outcome(res)}`);
    if (res.status !== 200) fail(`create site: ${this.outcome(res)}`);
    this.sites.push({ id: res.body.id, customer });
    return res.body.id as string;
  }

  /**
   * A direct order (SPEC "The direct process"): staff create it, optionally on a site of
   * the customer; customers and providers may not (a clean refusal that changes nothing).
   * Lines are free (with or without a time), priced by a service, or take a slot's seat.
   */
  private async createDirectOrder(): Promise<void> {
    const rng = this.rng;
    const customer = rng.int(0, this.customers.length - 1);
    const provider = rng.int(0, this.providers.length - 1);
    const who = rng.weighted({ admin: 80, customer: 10, provider: 10 });
    const now = this.now.getTime();
    const services = this.services.filter((s) => s.provider === provider);
    const futureSlots = services.flatMap((s) => s.slots.filter((sl) => sl.startsAt.getTime() > now));
    const lines: Record<string, unknown>[] = [];
    const kinds: string[] = [];
    let startsInPast = false;
    for (let i = Number(rng.weighted({ 1: 30, 2: 35, 3: 25, 4: 10 })); i > 0; i--) {
      const kind = rng.weighted({ free: 70, timed: 12, service: services.length ? 10 : 0, slot: futureSlots.length ? 8 : 0 });
      kinds.push(kind);
      if (kind === 'free') {
        lines.push({ description: `Item ${lines.length + 1}`, quantity: rng.chance(0.85) ? 1 : rng.int(2, 3), unitAmount: rng.chance(0.05) ? 0 : rng.pick([1_000, 5_000, 12_345, 15_000, 20_000]) });
      } else if (kind === 'timed') {
        // Staff may record the past (a visit that already happened).
        const start = now + rng.int(-48, 14 * 24) * HOUR;
        if (start <= now) startsInPast = true;
        lines.push({ description: 'Visit', quantity: 1, unitAmount: rng.pick([2_500, 9_000]), startsAt: this.iso(start), endsAt: this.iso(start + rng.pick([1, 2]) * HOUR) });
      } else if (kind === 'service') {
        lines.push({ serviceId: rng.pick(services).id, quantity: rng.chance(0.8) ? 1 : 2 });
      } else {
        lines.push({ slotId: rng.pick(futureSlots).id, quantity: 1, participantName: `Guest ${rng.int(1, 99)}` });
      }
    }
    const shape = kinds.join('+');
    const broken = rng.weighted({ none: 84, negative: 3, no_lines: 3, bad_currency: 2, other_site: this.customers.length > 1 ? 4 : 0, unknown_site: 2, unknown_customer: 2 });
    let customerId = this.customers[customer]!.id;
    let currency = 'USD';
    let siteId: string | null = null;
    if (broken === 'negative') lines[0] = { description: 'x', quantity: 1, unitAmount: -5 };
    if (broken === 'no_lines') lines.length = 0;
    if (broken === 'bad_currency') currency = kinds.every((k) => k === 'free' || k === 'timed') ? 'XXX' : 'EUR';
    if (broken === 'unknown_customer') customerId = 'cus_00000000000000000000000000';
    if (broken === 'other_site') siteId = await this.siteOf((customer + 1) % this.customers.length);
    else if (broken === 'unknown_site') siteId = 'site_00000000000000000000000000';
    else if (rng.chance(0.3)) siteId = await this.siteOf(customer);
    const party = who === 'customer' ? this.customers[customer]! : who === 'provider' ? this.providers[provider]! : this.admin;
    const body: Record<string, unknown> = { process: 'direct', customerId, providerId: this.providers[provider]!.id, currency, lines, ...(siteId ? { siteId } : {}) };
    const res = await this.send('create direct order', 'POST', '/v1/orders', body, party.key);
    const label = `o${this.orders.length}`;
    const what = `direct (c${customer}/p${provider}, ${shape}${siteId ? ', on a site' : ''}${broken !== 'none' ? `, ${broken}` : ''}) by ${who}`;
    if (res.status === 200) {
      if (who !== 'admin') fail(`a ${who} created a direct order`);
      if (broken !== 'none' && broken !== 'bad_currency') fail(`create direct order (${broken}) was accepted`);
      const o = res.body;
      if (o.process !== 'direct') fail(`create direct order: the order says process ${o.process}`);
      // Paid up front: a free order needs no payment and goes straight to delivery.
      const expected = o.amounts.total === 0 ? 'delivery' : 'payment';
      if (o.state !== expected) fail(`create direct order: total ${o.amounts.total} but state ${o.state}, expected ${expected}`);
      if (o.amounts.paid !== 0 || o.amounts.refunded !== 0) fail(`create direct order: paid ${o.amounts.paid}, refunded ${o.amounts.refunded} at creation`);
      if ((o.lines as any[]).length !== lines.length || (o.lines as any[]).some((l) => l.status !== 'open')) fail(`create direct order: lines ${JSON.stringify((o.lines as any[]).map((l) => l.status))}`);
      if (o.amounts.subtotal !== (o.lines as any[]).reduce((s, l) => s + l.amount, 0)) fail(`create direct order: subtotal ${o.amounts.subtotal} is not the sum of its lines`);
      if (o.deadline !== null) fail(`create direct order: a deadline ${JSON.stringify(o.deadline)} on a direct order`);
      const ref: OrderRef = { id: o.id, label, customer: this.customers.findIndex((c) => c.id === o.customerId), provider, process: 'direct' };
      if (ref.customer !== customer) fail(`create direct order: made for another customer`);
      this.orders.push(ref);
      this.orderIndex.set(ref.id, this.orders.length - 1);
      this.note(`create ${label} ${what} → ${this.outcome(res)} total ${o.amounts.total}`);
    } else {
      if (who === 'admin' && broken === 'none' && res.body?.error?.code !== 'slot_full') fail(`create direct order (valid, ${shape}) refused: ${this.outcome(res)} ${res.body?.error?.message}`);
      // The lines are checked before the actor: a past line may be refused first (starts_in_past).
      const pastFirst = startsInPast && res.status === 422 && res.body?.error?.code === 'starts_in_past';
      if (who !== 'admin' && broken === 'none' && res.status !== 403 && !pastFirst) fail(`a ${who} creating a direct order: expected 403, got ${this.outcome(res)}`);
      if (broken === 'other_site' && who === 'admin' && res.body?.error?.code !== 'site_of_other_customer') fail(`a direct order on another customer's site: expected site_of_other_customer, got ${this.outcome(res)}`);
      this.note(`create ${what} → ${this.outcome(res)}`);
    }
  }

  private async transition(): Promise<void> {
    const rng = this.rng;
    // Mostly orders that can still move; sometimes finished ones (to try the impossible).
    const live: number[] = [];
    const all: number[] = [];
    const states = await this.world.store.db.selectFrom('orders').select(['id', 'state']).execute();
    const stateOf = new Map(states.map((s) => [s.id, s.state]));
    this.orders.forEach((o, i) => {
      all.push(i);
      if (!TERMINAL.has(stateOf.get(o.id) ?? '')) live.push(i);
    });
    // The order that just moved, and recent live ones, get most of the attention, so that
    // some orders go the whole way before their deadlines catch them.
    // A just-ended one sometimes too: its review, or a refund out of its payout before that is paid.
    const focus = this.focus !== null && (live.includes(this.focus) || rng.chance(0.25)) && rng.chance(0.5) ? this.focus : null;
    const ref = this.orders[focus ?? (live.length && rng.chance(0.93) ? (rng.chance(0.5) ? rng.pick(live.slice(-4)) : rng.pick(live)) : rng.pick(all))]!;
    this.focus = null;
    const order = await this.order(ref);
    if (order.process !== ref.process) fail(`${ref.label}: created as ${ref.process}, now says process ${order.process}`);
    if (ref.process === 'direct' && !DIRECT_STATES.has(order.state)) fail(`${ref.label}: a direct order in state ${order.state}`);
    const plausible = ((ref.process === 'direct' ? PLAUSIBLE_DIRECT : PLAUSIBLE)[order.state] ?? []).filter((a) => feasible(a, order));
    const action: ActionName = plausible.length && rng.chance(0.82) ? rng.pick(plausible) : rng.pick(ALL_ACTIONS);
    const who: Who = rng.chance(0.85) ? naturalActor(action, order, rng) : rng.pick(['customer', 'provider', 'admin', 'stranger_customer', 'stranger_provider'] as const);
    const party = this.keyOf(who, ref);
    const request = this.buildRequest(action, order, ref);
    const head = `${ref.label}[${order.state}] ${action} by ${who}${request.summary ? ` ${request.summary}` : ''}`;
    this.count(this.actions, `t:${action}`);

    // Direct cancellations refund to account credit by default: the customer's balance says how much arrived.
    const creditBefore = ref.process === 'direct' && (action === 'cancel' || action === 'cancel_lines' || action === 'quote_then_cancel') ? await this.credit(ref.customer) : null;
    if (action === 'quote_then_cancel') {
      const res = await this.quoteThenCancel(head, ref, order, party, request.body);
      if (res.status === 200 && ref.process === 'direct') {
        await this.afterDirectSuccess(action, ref, order, res.body, { path: `/v1/orders/${ref.id}/cancel`, body: request.body }, head, creditBefore);
      }
      if (res.status === 200) this.focus = this.orderIndex.get(ref.id) ?? null;
      return;
    }
    const res = await this.send(head, request.method, request.path, request.body, party.key);
    this.note(`${head} → ${this.outcome(res)}`);
    if (res.status === 200) {
      // The answer is the order as the transition left it: a read right after gives the same
      // (nothing else runs between steps; a stored answer replays it, so it must be right).
      if (res.body?.object === 'order') {
        const read = await this.order(ref);
        if (!isDeepStrictEqual(read, res.body)) fail(`${head}: the answer differs from the order read after it\n${firstDifference(res.body, read)}`);
      }
      await this.afterSuccess(action, who, order, res.body, head);
      if (ref.process === 'direct') await this.afterDirectSuccess(action, ref, order, res.body, request, head, creditBefore);
      this.focus = this.orderIndex.get(ref.id) ?? null;
    }
    if (res.status !== 200 && (who === 'stranger_customer' || who === 'stranger_provider') && party.id !== this.customers[ref.customer]!.id && party.id !== this.providers[ref.provider]!.id) {
      if (res.status !== 404 && res.status !== 403 && res.status !== 400) fail(`${head}: a stranger got ${this.outcome(res)} instead of 404/403`);
    }
    if (res.status === 200 && (who === 'stranger_customer' || who === 'stranger_provider')) {
      if (party.id !== this.customers[ref.customer]!.id && party.id !== this.providers[ref.provider]!.id) fail(`${head}: a stranger's request succeeded`);
    }
  }

  /** The customer's account credit in USD. */
  private async credit(customer: number): Promise<number> {
    const res = await this.get(`/v1/customers/${this.customers[customer]!.id}`);
    if (res.status !== 200) fail(`GET customer c${customer}: ${this.outcome(res)}`);
    return Number(res.body.balances?.USD ?? 0);
  }

  /**
   * Checks for a direct order's transition that succeeded, against the order before it:
   * line_done marks exactly that line, the order closes when no line is open; a
   * cancellation cancels exactly the lines it names (or every undone one), refunds staff's
   * full amount of each (the fee only when the order ends fully refunded), to account
   * credit unless told otherwise; nothing here may touch a line it did not name.
   */
  private async afterDirectSuccess(action: ActionName, ref: OrderRef, before: any, after: any, request: { path: string; body: Record<string, unknown> }, head: string, creditBefore: number | null): Promise<void> {
    if (after?.object !== 'order') return;
    const beforeLines = before.lines as any[];
    const afterLines = after.lines as any[];
    const statusOf = (lines: any[], id: string) => lines.find((l) => l.id === id)?.status;
    if (afterLines.length !== beforeLines.length || afterLines.some((l, i) => l.id !== beforeLines[i].id)) fail(`${head}: the lines changed identity`);
    const open = afterLines.filter((l) => l.status === 'open').length;
    const done = afterLines.filter((l) => l.status === 'done').length;
    const endState = open > 0 ? 'delivery' : done > 0 ? 'closed' : 'cancelled';
    if (action === 'pay') {
      if (after.state !== 'delivery') fail(`${head}: paid but state is ${after.state}`);
      if (afterLines.some((l, i) => l.status !== beforeLines[i].status)) fail(`${head}: paying changed line statuses`);
    }
    if (action === 'line_done') {
      const id = request.path.split('/').at(-2)!;
      if (statusOf(beforeLines, id) !== 'open' || statusOf(afterLines, id) !== 'done') fail(`${head}: line ${statusOf(beforeLines, id)} → ${statusOf(afterLines, id)}`);
      const others = afterLines.filter((l, i) => l.id !== id && l.status !== beforeLines[i].status);
      if (others.length) fail(`${head}: marking one line done changed ${others.length} other line(s)`);
      if (after.state !== endState) fail(`${head}: ${open} open / ${done} done line(s) but state ${after.state}, expected ${endState}`);
      if (after.amounts.paid !== before.amounts.paid || after.amounts.refunded !== before.amounts.refunded) fail(`${head}: delivering a line moved money`);
      if (after.state === 'closed' && after.payout && after.payout.status !== 'scheduled') fail(`${head}: closed with a ${after.payout.status} payout`);
    }
    if (action === 'cancel' || action === 'cancel_lines' || action === 'quote_then_cancel') {
      const named = Array.isArray(request.body.lineIds) && (request.body.lineIds as string[]).length ? new Set(request.body.lineIds as string[]) : null;
      const cancelled = beforeLines.filter((l) => l.status === 'open' && (named ? named.has(l.id) : true));
      for (const [i, l] of afterLines.entries()) {
        const was = beforeLines[i];
        const want = cancelled.some((c) => c.id === l.id) ? 'cancelled' : was.status;
        if (l.status !== want) fail(`${head}: ${pos(i)} ${was.status} → ${l.status}, expected ${want}`);
        if (want === was.status && l.refunded !== was.refunded) fail(`${head}: ${pos(i)} (not cancelled) refunded ${was.refunded} → ${l.refunded}`);
      }
      if (after.state !== endState) fail(`${head}: ${open} open / ${done} done line(s) after the cancellation but state ${after.state}, expected ${endState}`);
      const refunded = after.amounts.refunded - before.amounts.refunded;
      const lineRefunds = cancelled.reduce((s, c) => s + (afterLines.find((l) => l.id === c.id).refunded - c.refunded), 0);
      const owed = cancelled.reduce((s, c) => s + (c.amount - c.refunded), 0);
      const held = before.amounts.paid - before.amounts.refunded;
      if (before.amounts.paid === 0) {
        if (refunded !== 0) fail(`${head}: refunded ${refunded} of an unpaid order`);
      } else if (owed <= held) {
        // Staff cancel with a full refund of every line they cancel.
        const short = cancelled.filter((c) => afterLines.find((l) => l.id === c.id).refunded !== c.amount);
        if (short.length) fail(`${head}: cancelled line(s) not refunded in full: ${JSON.stringify(short.map((c) => [c.amount, afterLines.find((l) => l.id === c.id).refunded]))}`);
        // The fee goes back only when the order ends with every line fully refunded.
        const fee = refunded - lineRefunds;
        if (fee !== 0 && (endState !== 'cancelled' || fee !== before.amounts.serviceFee)) fail(`${head}: refunded ${refunded}, lines ${lineRefunds}, so ${fee} of a fee of ${before.amounts.serviceFee} (${endState})`);
      } else if (after.amounts.refunded !== after.amounts.paid) fail(`${head}: owed ${owed}, held ${held}, but refunded only ${refunded}`);
      if (lineRefunds > refunded) fail(`${head}: lines got ${lineRefunds} of a refund of ${refunded}`);
      // Where the money went: new refunds add up to it, to account credit unless told otherwise.
      const seen = new Set((before.refunds as any[]).map((r) => r.id));
      const fresh = (after.refunds as any[]).filter((r) => !seen.has(r.id));
      const total = fresh.reduce((s, r) => s + r.amount, 0);
      if (total !== refunded) fail(`${head}: new refunds add up to ${total}, the order refunded ${refunded}`);
      const destination = (request.body.refundDestination as string | undefined) ?? this.defaultRefundDestination;
      if (destination === 'account_credit') {
        if (fresh.some((r) => r.destination !== 'account_credit')) fail(`${head}: refunds to ${fresh.map((r) => r.destination).join(',')}, expected account credit`);
        const arrived = (await this.credit(ref.customer)) - (creditBefore ?? 0);
        if (creditBefore !== null && arrived !== refunded) fail(`${head}: refunded ${refunded} to account credit but the balance moved by ${arrived}`);
      }
    }
    if (action === 'refund' || action === 'refund_to_card' || action === 'retry_refund') {
      if (afterLines.some((l, i) => l.status !== beforeLines[i].status)) fail(`${head}: a refund changed line statuses`);
      if (after.state !== before.state) fail(`${head}: a refund moved the order ${before.state} → ${after.state}`);
    }
    for (const p of after.payments as any[]) if (p.refunded > p.amount || p.refunded < 0) fail(`${head}: payment ${p.method} ${p.amount} refunded ${p.refunded}`);
    function pos(i: number) {
      return `L${i}`;
    }
  }

  /** Checks that hold for a transition that succeeded, against the order before it. */
  private async afterSuccess(action: ActionName, who: Who, before: any, after: any, head: string): Promise<void> {
    if (action === 'retry_refund') {
      if (after.object !== 'refund' || !['succeeded', 'failed', 'pending'].includes(after.status)) fail(`${head}: retry answered ${JSON.stringify(after).slice(0, 300)}`);
      return;
    }
    if (action === 'pay') {
      if (after.state !== (before.process === 'direct' ? 'delivery' : 'execution')) fail(`${head}: paid but state is ${after.state}`);
      if (after.amounts.paid !== before.amounts.total) fail(`${head}: paid ${after.amounts.paid}, total was ${before.amounts.total}`);
      const sum = (after.payments as any[]).reduce((s, p) => s + p.amount, 0);
      if (sum !== after.amounts.paid) fail(`${head}: payments sum to ${sum}, paid says ${after.amounts.paid}`);
    }
    if (action === 'cancel' && (who === 'provider' || who === 'admin') && before.amounts.paid > 0) {
      // Staff and providers refund every line they cancel in full (earlier late cancellations
      // keep their terms), unless that is more than the order still holds: then all it holds.
      const short = (before.lines as any[])
        .filter((line) => line.status === 'open')
        .map((line) => (after.lines as any[]).find((l) => l.id === line.id))
        .filter((l) => l?.status !== 'cancelled' || l.refunded !== l.amount);
      if (short.length && after.amounts.refunded !== after.amounts.paid) {
        fail(`${head}: refunded ${after.amounts.refunded} of ${after.amounts.paid}, lines ${JSON.stringify(short.map((l) => [l?.status, l?.refunded, l?.amount]))}`);
      }
    }
    if (action === 'resolve' && after.state !== 'closed') fail(`${head}: claim resolved but state is ${after.state}`);
    if (action === 'refund' && TERMINAL.has(before.state)) {
      // After the end a refund comes out of the scheduled payout, by exactly its amount.
      const taken = after.amounts.refunded - before.amounts.refunded;
      if (before.payout?.status !== 'scheduled' || after.payout?.amount !== before.payout.amount - taken) {
        fail(`${head}: refunded ${taken} after the end; payout ${JSON.stringify(before.payout)} → ${JSON.stringify(after.payout)}`);
      }
    }
    if (action === 'mark_done' && who === 'customer') fail(`${head}: customer marked done`);
    if (after.amounts.refunded > after.amounts.paid) fail(`${head}: refunded ${after.amounts.refunded} > paid ${after.amounts.paid}`);
  }

  private buildRequest(action: ActionName, order: any, ref: OrderRef): { method: 'POST' | 'PATCH'; path: string; body: Record<string, unknown>; summary: string } {
    const rng = this.rng;
    const base = `/v1/orders/${ref.id}`;
    const lines = order.lines as any[];
    const open = lines.filter((l) => l.status === 'open');
    const anyLine = () => (open.length && rng.chance(0.9) ? rng.pick(open) : rng.pick(lines));
    const pos = (l: any) => `L${lines.indexOf(l)}`;
    const refundable = order.amounts.refundable as number;
    const now = this.now.getTime();
    const post = (path: string, body: Record<string, unknown>, summary = '') => ({ method: 'POST' as const, path: `${base}/${path}`, body, summary });
    switch (action) {
      case 'confirm':
        return post('confirm', {});
      case 'edit': {
        const v = rng.weighted({ time: 35, price: 30, quantity: 10, comment: 10, slot: 10, past: 5 });
        if (v === 'time' || v === 'past') {
          const t = v === 'past' ? now - rng.int(1, 48) * HOUR : now + rng.int(1, 12 * 24) * HOUR;
          return post('edit', { startsAt: this.iso(t), comment: 'new time' }, `${v} ${this.rel(t)}`);
        }
        if (v === 'price' || v === 'quantity') {
          const l = anyLine();
          const change = v === 'price' ? { unitAmount: rng.pick([0, 800, 5_000, 9_999, 30_000]) } : { quantity: rng.int(1, 3) };
          return post('edit', { lines: [{ id: l.id, ...change }] }, `${pos(l)} ${JSON.stringify(change)}`);
        }
        if (v === 'slot') {
          const l = anyLine();
          const slot = this.someSlot(l);
          return post('edit', { lines: [{ id: l.id, slotId: slot }] }, `${pos(l)} slot`);
        }
        return post('edit', { comment: `c${rng.int(1, 9)}` }, 'comment');
      }
      case 'propose': {
        const v = rng.weighted({ lower: 40, higher: 15, time: 25, empty: 5, quantity: 10, slot: 10 });
        const l = anyLine();
        if (v === 'slot') return post('proposal', { lines: [{ id: l.id, slotId: this.someSlot(l) }] }, `${pos(l)} slot`);
        if (v === 'lower' || v === 'higher') {
          const unitAmount = v === 'lower' ? Math.floor(l.unitAmount * rng.pick([0, 0.5, 0.9])) : l.unitAmount + rng.int(1, 5_000);
          return post('proposal', { lines: [{ id: l.id, unitAmount }], comment: 'proposal' }, `${pos(l)} ${v} ${unitAmount}`);
        }
        if (v === 'quantity') return post('proposal', { lines: [{ id: l.id, quantity: rng.int(1, 3) }] }, `${pos(l)} quantity`);
        if (v === 'time') {
          const t = now + rng.int(-2, 10 * 24) * HOUR;
          return post('proposal', { startsAt: this.iso(t) }, `time ${this.rel(t)}`);
        }
        return post('proposal', {}, 'empty');
      }
      case 'accept':
        return post('proposal/accept', rng.chance(0.8) ? {} : { reason: 'ok' });
      case 'decline':
        return post('proposal/decline', {});
      case 'pay': {
        const useAccountCredit = rng.chance(0.6);
        const pm = rng.chance(0.9) ? PAYMENT_METHODS[rng.weighted({ visa: 72, refund_fails: 12, declined: 12, bogus: 4 })] : undefined;
        return post('pay', { useAccountCredit, ...(pm ? { paymentMethod: pm } : {}) }, `credit=${useAccountCredit} ${pm ?? 'no card'}`);
      }
      case 'mark_done':
        return post('mark-done', {});
      case 'confirm_execution':
        return post('confirm-execution', {});
      case 'claim':
        return rng.chance(0.9) ? post('claims', { reason: 'Not as promised' }) : post('claims', {}, 'no reason');
      case 'resolve': {
        const outcome = rng.chance(0.6) ? 'refund' : 'reject';
        const body: Record<string, unknown> = { outcome };
        if (outcome === 'refund' && rng.chance(0.6)) body.amount = rng.chance(0.3) ? refundable + rng.int(1, 500) : rng.int(1, Math.max(1, refundable));
        if (rng.chance(0.5)) body.destination = rng.pick(['card', 'account_credit'] as const);
        return post('claims/resolve', body, JSON.stringify(body));
      }
      case 'review': {
        const rating = rng.chance(0.9) ? rng.int(1, 5) : rng.pick([0, 6]);
        return post('reviews', { rating, comment: 'sim' }, `rating ${rating}`);
      }
      case 'cancel':
      case 'quote_then_cancel': {
        const body: Record<string, unknown> = { reason: 'Plans changed' };
        if (action === 'quote_then_cancel' && open.length > 1 && rng.chance(0.5)) body.lineIds = rng.subset(open).map((l) => l.id);
        // Direct: "Cancel all undone lines" (the flag is optional: cancel without lineIds is the same).
        if (order.process === 'direct' && !body.lineIds && action === 'cancel' && rng.chance(0.5)) body.undoneLines = true;
        if (rng.chance(0.4)) body.refundDestination = rng.pick(['card', 'account_credit'] as const);
        const summary = body.lineIds ? `lines ${(body.lineIds as string[]).map((id) => pos(lines.find((l) => l.id === id))).join(',')}` : 'whole';
        return post('cancel', body, `${summary}${body.refundDestination ? ` to ${body.refundDestination}` : ''}`);
      }
      case 'cancel_lines': {
        const chosen = rng.chance(0.9) ? rng.subset(open.length ? open : lines) : lines;
        const body: Record<string, unknown> = { lineIds: chosen.map((l) => l.id), reason: 'One session off' };
        if (rng.chance(0.4)) body.refundDestination = rng.pick(['card', 'account_credit'] as const);
        return post('cancel', body, `lines ${chosen.map(pos).join(',')}`);
      }
      case 'refund': {
        const amount = rng.chance(0.8) ? rng.int(1, Math.max(1, refundable)) : refundable + rng.int(1, 500);
        const body: Record<string, unknown> = { amount, reason: 'Goodwill' };
        if (rng.chance(0.6)) body.destination = rng.pick(['card', 'account_credit'] as const);
        return post('refunds', body, `${amount}${body.destination ? ` to ${body.destination}` : ''}`);
      }
      case 'refund_to_card': {
        const cards = (order.payments as any[]).filter((p) => p.method === 'card');
        const payment = cards.length ? rng.pick(cards) : (order.payments as any[])[0];
        const paymentId = payment?.id ?? 'pay_00000000000000000000000000';
        const body = rng.chance(0.5) ? {} : { amount: rng.int(1, 20_000) };
        return post(`payments/${paymentId}/refunds`, body, `${payment ? payment.method : 'no payment'} ${JSON.stringify(body)}`);
      }
      case 'edit_line': {
        const l = anyLine();
        const v = rng.weighted({ participant: 40, slot: 40, time: 20 });
        const body: Record<string, unknown> =
          v === 'participant' ? { participantName: `Guest ${rng.int(1, 99)}` } : v === 'slot' ? { slotId: this.someSlot(l) } : { startsAt: this.iso(now + rng.int(-3, 200) * HOUR) };
        return { method: 'PATCH', path: `${base}/lines/${l.id}`, body, summary: `${pos(l)} ${v}` };
      }
      case 'line_done': {
        const l = anyLine();
        return post(`lines/${l.id}/done`, {}, pos(l));
      }
      case 'retry_refund': {
        const failed = (order.refunds as any[]).filter((r) => r.status === 'failed');
        const refund = failed.length ? rng.pick(failed) : (order.refunds as any[])[0];
        return { method: 'POST', path: `/v1/refunds/${refund?.id ?? 're_00000000000000000000000000'}/retry`, body: {}, summary: refund ? refund.status : 'none' };
      }
    }
  }

  /** Another slot of the line's service (or any slot, to try a wrong one). */
  private someSlot(line: any): string {
    const service = this.services.find((s) => s.id === line.serviceId);
    const pool = service && this.rng.chance(0.85) ? service.slots : this.services.flatMap((s) => s.slots);
    return pool.length ? this.rng.pick(pool).id : 'slot_00000000000000000000000000';
  }

  private rel(ms: number): string {
    const h = (ms - this.now.getTime()) / HOUR;
    return `${h >= 0 ? '+' : ''}${Math.round(h * 10) / 10}h`;
  }

  /** The quote is a dry run of the same code: cancelling right after refunds exactly its total. */
  private async quoteThenCancel(head: string, ref: OrderRef, order: any, party: Party, body: Record<string, unknown>): Promise<Res> {
    const quoteBody: Record<string, unknown> = {};
    if (body.lineIds) quoteBody.lineIds = body.lineIds;
    if (body.refundDestination) quoteBody.refundDestination = body.refundDestination;
    const before = await this.fingerprint();
    const quote = await this.world.call('POST', `/v1/orders/${ref.id}/cancellation-quote`, quoteBody, party.key, this.nextIdem());
    this.expectCleanStatus(`${head} (quote)`, quote);
    if ((await this.fingerprint()) !== before) fail(`${head}: the cancellation quote changed the database`);
    const res = await this.send(`${head} (cancel after quote)`, 'POST', `/v1/orders/${ref.id}/cancel`, body, party.key);
    this.note(`${head} quote → ${this.outcome(quote)}${quote.status === 200 ? ` total ${quote.body.total}` : ''}; cancel → ${this.outcome(res)}`);
    if (quote.status === 200 && res.status === 200) {
      const refunded = res.body.amounts.refunded - order.amounts.refunded;
      if (refunded !== quote.body.total) fail(`${head}: quoted ${quote.body.total} but the cancellation refunded ${refunded}`);
    }
    if ((quote.status === 200) !== (res.status === 200)) {
      fail(`${head}: the quote said ${this.outcome(quote)} but the cancellation said ${this.outcome(res)}`);
    }
    return res;
  }

  private async clockJump(): Promise<void> {
    const rng = this.rng;
    const now = this.now.getTime();
    const kind = rng.weighted({ seconds: 10, minutes: 18, hours: 30, days: 8, weeks: 2, deadline: 20, boundary: 12 });
    let target: number;
    if (kind === 'deadline' || kind === 'boundary') {
      const candidates: number[] = [];
      if (kind === 'deadline') {
        const rows = await this.world.store.db.selectFrom('deadlines').select('due_at').orderBy('due_at').limit(5).execute();
        for (const r of rows) candidates.push(r.due_at.getTime(), r.due_at.getTime() - 1_000);
      } else {
        const policies = (await this.get('/v1/settings')).body;
        const rows = await this.world.store.db.selectFrom('order_lines').select('starts_at').where('status', '=', 'open').execute();
        for (const r of rows) {
          if (!r.starts_at) continue;
          const s = r.starts_at.getTime();
          const w = policies.noRefundWithinHours * HOUR;
          candidates.push(s, s - 1_000, s - w, s - w + 1_000, s - w - 1_000);
        }
      }
      const future = candidates.filter((t) => t > now).sort((a, b) => a - b);
      target = future.length ? rng.pick(future.slice(0, 6)) : now + rng.int(1, 3600) * 1_000;
    } else {
      const unit = { seconds: 1_000, minutes: 60_000, hours: HOUR, days: DAY, weeks: 7 * DAY }[kind];
      const n = kind === 'seconds' ? rng.int(0, 59) : kind === 'minutes' ? rng.int(1, 59) : kind === 'hours' ? rng.int(1, 12) : kind === 'days' ? rng.int(1, 6) : rng.int(1, 3);
      target = now + n * unit;
    }
    const useTo = kind === 'deadline' || kind === 'boundary' || rng.chance(0.3);
    const body = useTo ? { to: this.iso(target) } : { advanceSeconds: Math.round((target - now) / 1000) };
    const firedBefore = await this.countSystemEvents();
    const res = await this.send(`clock ${kind}`, 'POST', '/v1/test/clock', body, this.world.adminKey, { noDuplicate: true });
    if (res.status !== 200) fail(`clock: ${this.outcome(res)}`);
    const reported = new Date(res.body.now).getTime();
    if (reported !== (useTo ? target : now + Math.round((target - now) / 1000) * 1000)) fail(`clock: asked for ${this.iso(target)}, got ${res.body.now}`);
    const jump = this.rel(reported);
    this.now = new Date(reported);
    const fired = (await this.countSystemEvents()) - firedBefore;
    this.note(`clock ${kind} ${jump} → ${this.iso(reported)}, ${fired} deadline firing(s)`);
    // Going back is refused and changes nothing.
    if (rng.chance(0.05)) {
      const back = await this.send('clock back', 'POST', '/v1/test/clock', { to: this.iso(reported - 1_000) }, this.world.adminKey, { noDuplicate: true });
      if (back.status !== 400) fail(`clock back: expected 400, got ${this.outcome(back)}`);
    }
  }

  private async countSystemEvents(): Promise<number> {
    const r = await this.world.store.db.selectFrom('order_events').select((eb) => eb.fn.countAll<number>().as('n')).where('actor', '=', 'system').executeTakeFirstOrThrow();
    return Number(r.n);
  }

  /** Account credit moving outside orders: top-ups, their card refunds, corrections and reversals. */
  private async moneyStep(): Promise<void> {
    const rng = this.rng;
    const c = rng.int(0, this.customers.length - 1);
    const customer = this.customers[c]!;
    const kind = rng.weighted({ top_up: 35, top_up_refund: this.topUps.length ? 20 : 0, correction: 30, reversal: this.corrections.length ? 15 : 0 });
    if (kind === 'top_up') {
      const amount = rng.pick([1_000, 10_000, 50_000]);
      const paymentMethod = rng.pick(['pm_card_visa', 'pm_card_declined', 'pm_card_refund_fails']);
      const res = await this.send('top-up', 'POST', `/v1/customers/${customer.id}/top-ups`, { amount, currency: 'USD', paymentMethod }, rng.chance(0.7) ? this.world.adminKey : customer.key);
      if (res.status === 200) this.topUps.push({ id: res.body.id, customer: c });
      this.note(`top-up c${c} ${amount} ${paymentMethod} → ${this.outcome(res)}`);
    } else if (kind === 'top_up_refund') {
      // Back to the card: capped by the top-up and by the credit the customer still has.
      const topUp = rng.pick(this.topUps);
      const body = rng.chance(0.3) ? {} : { amount: rng.int(1, 60_000) };
      const res = await this.send('top-up refund', 'POST', `/v1/top-ups/${topUp.id}/refunds`, body, this.world.adminKey);
      this.note(`top-up refund c${topUp.customer} ${JSON.stringify(body)} → ${this.outcome(res)}`);
    } else if (kind === 'correction') {
      const amount = rng.chance(0.5) ? rng.int(1, 30_000) : -rng.int(1, 80_000);
      const res = await this.send('correction', 'POST', `/v1/customers/${customer.id}/balance-corrections`, { amount, currency: 'USD', memo: 'sim' }, this.world.adminKey);
      if (res.status === 200) this.corrections.push({ id: res.body.id, customer: c });
      this.note(`correction c${c} ${amount} → ${this.outcome(res)}`);
    } else {
      const correction = rng.pick(this.corrections);
      const res = await this.send('reversal', 'POST', `/v1/transactions/${correction.id}/reverse`, { memo: 'wrong entry' }, this.world.adminKey);
      this.note(`reverse a correction of c${correction.customer} → ${this.outcome(res)}`);
    }
  }

  private async readStep(): Promise<void> {
    if (!this.orders.length) return;
    const ref = this.rng.pick(this.orders);
    const own = await this.get(`/v1/orders/${ref.id}`, this.customers[ref.customer]!.key);
    if (own.status !== 200) fail(`the customer cannot read their own order ${ref.label}: ${this.outcome(own)}`);
    const mine = await this.get(`/v1/orders/${ref.id}`, this.providers[ref.provider]!.key);
    if (mine.status !== 200) fail(`the provider cannot read their own order ${ref.label}: ${this.outcome(mine)}`);
    const other = this.customers.findIndex((_, i) => i !== ref.customer);
    if (other >= 0) {
      const res = await this.get(`/v1/orders/${ref.id}`, this.customers[other]!.key);
      if (res.status !== 404) fail(`another customer read ${ref.label}: ${this.outcome(res)}`);
    }
    const list = await this.get(`/v1/orders?limit=100`, this.customers[ref.customer]!.key);
    if (list.status !== 200) fail(`list: ${this.outcome(list)}`);
    if ((list.body.data as any[]).some((o) => o.customerId !== this.customers[ref.customer]!.id)) fail('a customer lists another customer’s order');
    this.note(`read ${ref.label} as its parties and a stranger`);
  }

  private async changeSettings(): Promise<void> {
    const rng = this.rng;
    const patch = rng.pick([
      { serviceFee: { fixed: rng.pick([0, 150]), percent: rng.pick([0, 5]) } },
      { noRefundWithinHours: rng.pick([0, 24, 72]) },
      { lateCancellationRefundPercent: rng.pick([0, 25, 100]) },
      { providerCommissionPercent: rng.pick([0, 20]) },
      { timeZone: rng.pick(TIME_ZONES) },
      { allowCustomerCancellation: rng.chance(0.7) },
      { paymentWindowHours: rng.pick([1, 12, 48]) },
      { confirmationWindowHours: rng.pick([2, 24]) },
    ]);
    const res = await this.send('settings', 'PATCH', '/v1/settings', patch, this.world.adminKey);
    if (res.status !== 200) fail(`settings ${JSON.stringify(patch)}: ${this.outcome(res)}`);
    this.note(`settings ${JSON.stringify(patch)} (new orders only)`);
  }

  /** Close the app and open a new one on the same database; sometimes time passes while down. */
  private async restart(): Promise<boolean> {
    await this.world.close();
    await this.world.open();
    this.restarts++;
    const clock = (await this.get('/v1/test/clock')).body;
    if (new Date(clock.now).getTime() !== this.now.getTime()) fail(`after a restart the clock says ${clock.now}, it was ${this.iso(this.now.getTime())}`);
    let down = '';
    if (this.rng.chance(0.5)) {
      // Time passed while the server was down.
      const seconds = this.rng.int(60, 4 * 24 * 3600);
      this.world.version++;
      this.now = await this.world.app.sandboxClock!.advance(seconds);
      down = `, ${Math.round(seconds / 360) / 10} h passed while down`;
    }
    // What a server does first when it starts: fire the deadlines it missed, in order.
    this.world.version++;
    const fired = await this.world.app.deadlines.runDue();
    if (fired) down += `, ${fired} missed deadline(s) fired`;
    this.note(`restart${down}`);
    return true;
  }

  // ----- invariants --------------------------------------------------------------------------

  private checkInvariants(clockMoved: boolean): Promise<void> {
    return timed('invariants', () => this.checkInvariantsNow(clockMoved));
  }

  private async checkInvariantsNow(clockMoved: boolean): Promise<void> {
    const db = this.world.store.db;
    if (this.world.deadlineErrors.length) fail(`a deadline could not fire: ${this.world.deadlineErrors.join('; ')}`);

    // Account credit is never negative.
    const negative = await sql<{ id: string; balance: number }>`
      select a.id, sum(b.balance)::bigint as balance from accounts a join account_balances b on b.account_id = a.id
      where a.kind = 'customer_credit' group by a.id having sum(b.balance) < 0`.execute(db);
    if (negative.rows.length) fail(`negative account credit: ${JSON.stringify(negative.rows)}`);

    // Every order: money agrees with its escrow account and the ledger; the deadline its state needs; history.
    const orders = await sql<any>`
      select o.id, o.process, o.state, o.paid, o.refunded, o.subtotal, o.service_fee, o.starts_at, o.ends_at, o.entered_state_at,
             o.last_edit_at, o.closed_at, o.policies,
             coalesce((select sum(b.balance) from account_balances b where b.account_id = 'acct_order_escrow_' || o.id || '_' || o.currency), 0)::bigint as escrow,
             coalesce((select sum(p.amount) from postings p join ledger_transactions t on t.id = p.transaction_id
                       where p.account_id = 'acct_order_escrow_' || o.id || '_' || o.currency and t.type = 'order_payment'), 0)::bigint as paid_in,
             coalesce((select -sum(p.amount) from postings p join ledger_transactions t on t.id = p.transaction_id
                       where p.account_id = 'acct_order_escrow_' || o.id || '_' || o.currency and t.type = 'order_refund'), 0)::bigint as refunded_out,
             coalesce((select -sum(p.amount) from postings p join ledger_transactions t on t.id = p.transaction_id
                       where t.order_id = o.id and t.type = 'order_refund' and p.account_id like 'acct_provider_payable_%'), 0)::bigint as refunded_from_payout,
             coalesce((select sum(p.amount) from postings p join ledger_transactions t on t.id = p.transaction_id
                       where t.order_id = o.id and t.type = 'order_settlement' and p.account_id like 'acct_provider_payable_%'), 0)::bigint as provider_earned,
             (select count(*) from deadlines d where d.order_id = o.id)::int as n_deadlines,
             d.transition as d_transition, d.due_at as d_due,
             py.status as payout_status, py.due_at as payout_due, py.amount as payout_amount,
             (select count(*) from order_lines l where l.order_id = o.id and l.status = 'open')::int as open_lines,
             (select count(*) from order_lines l where l.order_id = o.id and l.status <> 'cancelled')::int as live_lines,
             (select count(*) from order_lines l where l.order_id = o.id and l.status = 'done')::int as done_lines,
             (select count(*) from order_lines l where l.order_id = o.id)::int as all_lines,
             (select coalesce(sum(l.refunded), 0) from order_lines l where l.order_id = o.id)::bigint as lines_refunded,
             (select count(*) from order_lines l where l.order_id = o.id and (l.refunded < 0 or l.refunded > l.amount))::int as bad_line_refunds,
             (select e.to_state from order_events e where e.order_id = o.id and e.transition is not null order by e.id desc limit 1) as last_to,
             (select sum(p.amount) from order_payments p where p.order_id = o.id)::bigint as payments_sum,
             -- The lines still on the order (all of them once every one is cancelled); untimed lines count too.
             (select case when bool_or(l.status <> 'cancelled') then min(l.starts_at) filter (where l.status <> 'cancelled') else min(l.starts_at) end
                from order_lines l where l.order_id = o.id) as lines_start,
             (select case when bool_or(l.status <> 'cancelled') then max(l.ends_at) filter (where l.status <> 'cancelled') else max(l.ends_at) end
                from order_lines l where l.order_id = o.id) as lines_end
      from orders o left join deadlines d on d.order_id = o.id left join payouts py on py.order_id = o.id`.execute(db);
    const known = new Set(orders.rows.map((o: any) => o.id as string));
    for (const ref of this.orders) if (!known.has(ref.id)) fail(`${ref.label} (${ref.process}) is gone from the database`);
    for (const o of orders.rows) {
      const label = this.labelOf(o.id);
      const where = `${label} ${o.process} [${o.state}]`;
      const ref = this.orders[this.orderIndex.get(o.id) ?? -1];
      if (!ref) fail(`an order the simulation did not create: ${o.id} (${o.process})`);
      if (ref!.process !== o.process) fail(`${where}: created as ${ref!.process}`);
      const direct = o.process === 'direct';
      if (!direct && o.process !== 'booking') fail(`${where}: unknown process`);
      if (direct && !DIRECT_STATES.has(o.state)) fail(`${where}: not a state of the direct process`);
      if (!direct && !(o.state in PLAUSIBLE)) fail(`${where}: not a state of the booking process`);
      if (o.bad_line_refunds !== 0) fail(`${where}: ${o.bad_line_refunds} line(s) refunded below 0 or above their amount`);
      const paid = Number(o.paid);
      const refunded = Number(o.refunded);
      const escrow = Number(o.escrow);
      if (refunded > paid) fail(`${where}: refunded ${refunded} > paid ${paid}`);
      if (refunded < 0 || paid < 0) fail(`${where}: negative paid/refunded`);
      if (Number(o.paid_in) !== paid) fail(`${where}: paid ${paid} but the ledger put ${o.paid_in} into escrow`);
      // Refunds come out of escrow while the order holds the money, after its end out of the payout.
      const refundedOut = Number(o.refunded_out) + Number(o.refunded_from_payout);
      if (refundedOut !== refunded) fail(`${where}: refunded ${refunded} but the ledger refunded ${o.refunded_out} from escrow and ${o.refunded_from_payout} from the payout`);
      if (Number(o.refunded_from_payout) > 0 && !TERMINAL.has(o.state)) fail(`${where}: refunded from a payout before the order ended`);
      // The payout is what the provider earned at the end less what was refunded from it since.
      if (o.payout_status && Number(o.payout_amount) !== Number(o.provider_earned) - Number(o.refunded_from_payout)) {
        fail(`${where}: payout ${o.payout_amount} (${o.payout_status}), earned ${o.provider_earned} less ${o.refunded_from_payout} refunded from it`);
      }
      if (o.payout_status === 'cancelled' && Number(o.payout_amount) !== 0) fail(`${where}: a cancelled payout of ${o.payout_amount}`);
      const expectedEscrow = TERMINAL.has(o.state) ? 0 : paid - refunded;
      if (escrow !== expectedEscrow) fail(`${where}: escrow holds ${escrow}, expected ${expectedEscrow} (paid ${paid}, refunded ${refunded})`);
      if ((o.state === 'confirmation' || o.state === 'payment') && paid !== 0) fail(`${where}: money paid before the payment step (${paid})`);
      // Line refunds are part of the order's refunds (the rest are staff refunds, claims, price cuts).
      if (Number(o.lines_refunded) > refunded) fail(`${where}: lines refunded ${o.lines_refunded}, the order only ${refunded}`);
      if (direct) {
        // Paid up front: once delivering, the whole total was paid (a free order pays nothing).
        if (o.state !== 'payment' && !(o.state === 'cancelled' && paid === 0) && paid !== Number(o.subtotal) + Number(o.service_fee)) {
          fail(`${where}: paid ${paid}, the total is ${Number(o.subtotal) + Number(o.service_fee)}`);
        }
        if (o.state === 'payment' && o.open_lines !== o.all_lines) fail(`${where}: lines delivered or cancelled before payment`);
        // Delivery lasts while a line is open; the last one closes (something delivered) or cancels (nothing delivered) it.
        if (o.state === 'delivery' && o.open_lines === 0) fail(`${where}: no open line left`);
        if (o.state === 'closed' && o.done_lines === 0) fail(`${where}: closed with no line delivered`);
        if (o.state === 'cancelled' && o.done_lines !== 0) fail(`${where}: cancelled with ${o.done_lines} line(s) delivered`);
      }
      // The card part and the account-credit part add up to what was paid.
      if (Number(o.payments_sum ?? 0) !== paid) fail(`${where}: payments add up to ${o.payments_sum ?? 0}, paid says ${paid}`);
      if (o.last_to !== o.state) fail(`${where}: the last event says ${o.last_to}`);
      // The service time is derived from the lines that are still on the order.
      const t = (d: Date | null) => d?.getTime() ?? null;
      if (t(o.starts_at) !== t(o.lines_start) || t(o.ends_at) !== t(o.lines_end)) {
        fail(`${where}: service time ${o.starts_at?.toISOString()}–${o.ends_at?.toISOString()}, its lines say ${o.lines_start?.toISOString()}–${o.lines_end?.toISOString()}`);
      }
      if (['execution_confirmation', 'claim', 'closed', 'cancelled'].includes(o.state) && o.open_lines !== 0) fail(`${where}: ${o.open_lines} line(s) still open`);
      if (o.state === 'cancelled' && o.live_lines !== 0 && o.closed_at === null) fail(`${where}: cancelled without closed_at`);
      if (TERMINAL.has(o.state) && !o.closed_at) fail(`${where}: terminal without closed_at`);

      // Deadlines: exactly one for a state that has one; terminal ones only for a scheduled payout.
      // The direct process has no deadlines of its own (staff drive it), only the payout's.
      const wanted = direct ? undefined : DEADLINE_OF_STATE[o.state];
      if (wanted) {
        if (o.n_deadlines !== 1 || o.d_transition !== wanted) fail(`${where}: deadline ${o.d_transition ?? 'none'} (${o.n_deadlines} rows), expected ${wanted}`);
        const expectedDue = this.expectedDue(o);
        if (expectedDue !== null && o.d_due.getTime() !== expectedDue) {
          fail(`${where}: ${wanted} due ${o.d_due.toISOString()}, the rules say ${this.iso(expectedDue)}`);
        }
      } else if (TERMINAL.has(o.state)) {
        if (o.payout_status === 'scheduled') {
          if (o.n_deadlines !== 1 || o.d_transition !== '@payout' || o.d_due.getTime() !== o.payout_due.getTime()) {
            fail(`${where}: a scheduled payout needs its deadline, found ${o.d_transition ?? 'none'}`);
          }
        } else if (o.n_deadlines !== 0) fail(`${where}: finished with nothing to pay out but has deadline ${o.d_transition}`);
      } else if (o.n_deadlines !== 0) fail(`${where}: no deadline expected, found ${o.d_transition}`);
      if (o.payout_status && !TERMINAL.has(o.state)) fail(`${where}: a payout exists before the order finished`);
      // The payout is due payoutDelayDays calendar days (business time zone) after the end.
      if (o.payout_status && o.closed_at) {
        const p = o.policies as { timeZone: string; payoutDelayDays: number };
        const due = addLocalDays((o.closed_at as Date).getTime(), p.payoutDelayDays, p.timeZone);
        if ((o.payout_due as Date).getTime() !== due) fail(`${where}: payout due ${(o.payout_due as Date).toISOString()}, closed ${(o.closed_at as Date).toISOString()} + ${p.payoutDelayDays} days is ${this.iso(due)}`);
      }
      if (TERMINAL.has(o.state) && Number(o.provider_earned) > 0 && !o.payout_status) fail(`${where}: the provider earned ${o.provider_earned} but there is no payout`);
    }

    // Deadlines whose order the simulation does not know (or of other processes) must not exist either;
    // a direct order's only deadline is its payout's.
    const stray = await sql<{ n: number }>`
      select count(*)::int as n from deadlines d left join orders o on o.id = d.order_id
      where o.id is null or o.process not in ('booking', 'direct') or (o.process = 'direct' and d.transition <> '@payout')`.execute(db);
    if (stray.rows[0]!.n) fail(`deadlines on unknown orders or processes, or a direct order's own deadline: ${stray.rows[0]!.n}`);

    // Right after the clock moved, every deadline due by now has fired.
    if (clockMoved) {
      const overdue = await sql<{ order_id: string; transition: string; due_at: Date }>`
        select order_id, transition, due_at from deadlines where due_at <= ${this.iso(this.now.getTime())}::timestamptz`.execute(db);
      if (overdue.rows.length) {
        fail(`overdue deadlines after the clock moved: ${overdue.rows.map((r) => `${this.labelOf(r.order_id)} ${r.transition} ${r.due_at.toISOString()}`).join(', ')}`);
      }
    }

    // Seats: booked equals the seats of the open/done lines holding the slot, within capacity.
    const slots = await sql<{ id: string; capacity: number; booked: number; held: number }>`
      select s.id, s.capacity, s.booked,
             coalesce(sum(l.quantity) filter (where l.status in ('open', 'done')), 0)::int as held
      from slots s left join order_lines l on l.slot_id = s.id group by s.id, s.capacity, s.booked`.execute(db);
    for (const s of slots.rows) {
      if (Number(s.booked) !== Number(s.held)) fail(`slot ${this.slotLabel(s.id)}: booked ${s.booked} but lines hold ${s.held}`);
      if (Number(s.booked) > Number(s.capacity) || Number(s.booked) < 0) fail(`slot ${this.slotLabel(s.id)}: booked ${s.booked} of ${s.capacity}`);
    }

    // A deadline that could not fire is recorded as an event: there must be none.
    const failed = await sql<{ n: number }>`select count(*)::int as n from order_events where type = 'order.deadline_failed'`.execute(db);
    if (failed.rows[0]!.n) fail(`${failed.rows[0]!.n} order.deadline_failed event(s)`);
  }

  private slotLabel(id: string): string {
    for (const [i, s] of this.services.entries()) {
      const j = s.slots.findIndex((sl) => sl.id === id);
      if (j >= 0) return `s${i}.${j}`;
    }
    return id;
  }

  /**
   * The due time the SPEC gives for the order's state, computed here independently of the
   * engine: confirmation 24 h after the create/edit (5 h when the service starts that same
   * local day), never after the start; payment 12 h, never after the start; auto-done at
   * end + 72 h; auto-close 5 calendar days after entering (business wall clock, so 119 or
   * 121 hours across a DST change).
   */
  private expectedDue(o: any): number | null {
    const p = o.policies as { timeZone: string; confirmationWindowHours: number; sameDayConfirmationWindowHours: number; paymentWindowHours: number; completionWindowHours: number; executionConfirmationWindowDays: number };
    const start = o.starts_at ? (o.starts_at as Date).getTime() : null;
    const capped = (t: number) => (start === null ? t : Math.min(t, start));
    switch (o.state) {
      case 'confirmation': {
        const edit = (o.last_edit_at as Date).getTime();
        const sameDay = start !== null && localDay(edit, p.timeZone) === localDay(start, p.timeZone);
        return capped(edit + (sameDay ? p.sameDayConfirmationWindowHours : p.confirmationWindowHours) * HOUR);
      }
      case 'payment':
        return capped((o.entered_state_at as Date).getTime() + p.paymentWindowHours * HOUR);
      case 'execution':
        return o.ends_at ? (o.ends_at as Date).getTime() + p.completionWindowHours * HOUR : null;
      case 'execution_confirmation':
        return addLocalDays((o.entered_state_at as Date).getTime(), p.executionConfirmationWindowDays, p.timeZone);
      default:
        return null;
    }
  }

  private async fullCheck(): Promise<void> {
    if (this.lastCheckedStep === this.step) return;
    this.lastCheckedStep = this.step;
    const res = await this.get('/v1/ledger/check');
    if (res.status !== 200) fail(`ledger check: ${this.outcome(res)}`);
    if (!res.body.ok) fail(`ledger check found problems: ${JSON.stringify(res.body.problems).slice(0, 1_500)}`);
  }

  result(): Omit<SimResult, 'ms'> {
    return {
      seed: this.options.seed,
      steps: this.options.steps,
      db: this.options.db,
      traceHash: createHash('sha256').update(this.trace.join('\n')).digest('hex').slice(0, 16),
      trace: [...this.trace],
      orders: this.orders.length,
      states: {},
      events: {},
      statuses: this.statuses,
      actions: this.actions,
      restarts: this.restarts,
      deadlinesFired: 0,
      replays: this.replays,
    };
  }

  /** Order states and fired deadlines at the end (for the report). */
  async summary(): Promise<{ states: Record<string, number>; events: Record<string, number>; deadlinesFired: number }> {
    const rows = await this.world.store.db.selectFrom('orders').select('state').execute();
    const states: Record<string, number> = {};
    for (const r of rows) states[r.state] = (states[r.state] ?? 0) + 1;
    const events: Record<string, number> = {};
    for (const e of await this.world.store.db.selectFrom('order_events').select('type').execute()) events[e.type] = (events[e.type] ?? 0) + 1;
    return { states, events, deadlinesFired: await this.countSystemEvents() };
  }
}

/** A valid request body that differs from `body` (for the same-key-other-body check). */
function otherBody(body: unknown): Record<string, unknown> {
  const b: Record<string, unknown> = { ...(typeof body === 'object' && body ? (body as Record<string, unknown>) : {}) };
  for (const k of ['reason', 'comment', 'name', 'memo', 'participantName']) {
    if (typeof b[k] === 'string') return { ...b, [k]: `${b[k] as string} (other)` };
  }
  if (typeof b.amount === 'number') return { ...b, amount: b.amount + 1 };
  if (typeof b.useAccountCredit === 'boolean') return { ...b, useAccountCredit: !b.useAccountCredit };
  if (typeof b.rating === 'number') return { ...b, rating: b.rating === 5 ? 4 : 5 };
  if (Array.isArray(b.lines)) return { ...b, comment: 'other' };
  return { ...b, reason: 'other' };
}

/** Local wall time minus UTC at instant `ms`, in ms (whole seconds). */
function zoneOffset(ms: number, timeZone: string): number {
  const whole = Math.floor(ms / 1000) * 1000;
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' })
      .formatToParts(new Date(whole))
      .filter((p) => p.type !== 'literal')
      .map((p) => [p.type, Number(p.value)]),
  ) as Record<string, number>;
  return Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!) - whole;
}

/**
 * `days` calendar days later on the wall clock of `timeZone`: in a repeated hour the
 * earlier instant, in a skipped hour pushed forward by the gap (Temporal's 'compatible').
 */
function addLocalDays(ms: number, days: number, timeZone: string): number {
  const wall = ms + zoneOffset(ms, timeZone) + days * DAY;
  const candidates = [zoneOffset(wall - DAY, timeZone), zoneOffset(wall + DAY, timeZone)].map((o) => wall - o);
  const fits = candidates.filter((t) => t + zoneOffset(t, timeZone) === wall);
  return fits.length ? Math.min(...fits) : wall - zoneOffset(wall - DAY, timeZone);
}

function localDay(ms: number, timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(ms));
}

/** Where two JSON values first differ, for a failure message. */
function firstDifference(a: unknown, b: unknown, path = ''): string {
  if (isDeepStrictEqual(a, b)) return '';
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
      const d = firstDifference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`);
      if (d) return d;
    }
  }
  return `${path || '(root)'}: answer ${JSON.stringify(a)?.slice(0, 300)} / read ${JSON.stringify(b)?.slice(0, 300)}`;
}
