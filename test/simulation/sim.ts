// A deterministic simulation of Settle's booking, direct and prepay processes, in the spirit of
// TigerBeetle's VOPR. From one seed it builds a small business (customers with credit,
// providers with services and slots of limited capacity) and then takes random steps
// against the real HTTP API (in process, through Fastify's inject):
//   - booking orders (free lines, multi-line sessions, slot lines; some invalid),
//   - direct orders (~25 %: staff only, some on a site; free, timed, service and slot
//     lines; customers and providers trying must be refused), paid, delivered line by
//     line, lines or all undone lines cancelled, refunded to the card or from the payout,
//   - prepay jobs and orders (~25 % of new orders, seed 002, see prepay.ts): picture-day
//     jobs (manual revision or not, a batch shipping deadline ahead or not), names lists
//     and blank cards, pre-orders with access codes (customers; staff for paper orders),
//     paid by credit or card, photos uploaded (not for every code; group pictures),
//     re-tagged, populated and placed (orders without photos split off), revised and
//     released, batches released by hand or at their deadline, cancelled by staff before
//     production, confirmed, complained about, jobs switched to Selling,
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
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { Rng } from './rng.js';
import {
  ALL_ACTIONS, buildRequest, DAY, DIRECT_STATES, feasible, firstDifference, HOUR, isJobAction, iso, JOB_ACTIONS, naturalActor, OK_REFUSALS, otherBody, PLAUSIBLE, PLAUSIBLE_DIRECT, PLAUSIBLE_PREPAY,
  PREPAY_STATES, rel, START, STORED_REFUSALS, TERMINAL, TIME_ZONES,
  type ActionName, type OrderRef, type Party, type PrepayAction, type Sent, type Service, type Who,
} from './actions.js';
import { afterDirectSuccess, createDirectOrder, credit } from './direct.js';
import { afterPrepayTransition, batchLabel, collectionLabel, createJob, createPreOrder, jobStep, placeOf, prepayJobAction, type JobRef, type ProductRef } from './prepay.js';
import { Invariants } from './invariants.js';
import { fail, InvariantBroken, outcome, pgliteTemplate, SimulationFailure, timed, World, type Res, type SimOptions, type SimResult } from './world.js';

export { disposeSimulations, profile, SimulationFailure, type SimDb, type SimOptions, type SimResult } from './world.js';

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

class Simulation {
  readonly rng: Rng;
  private readonly trace: string[] = [];
  step = 0;
  private idemCounter = 0;
  now = new Date(START);
  readonly customers: Party[] = [];
  readonly providers: Party[] = [];
  readonly services: Service[] = [];
  readonly orders: OrderRef[] = [];
  readonly orderIndex = new Map<string, number>();
  private readonly sent: Sent[] = [];
  private readonly topUps: { id: string; customer: number }[] = [];
  private readonly corrections: { id: string; customer: number }[] = [];
  readonly sites: { id: string; customer: number }[] = [];
  /** Prepay jobs, by creation (see prepay.ts). */
  readonly jobs: JobRef[] = [];
  /** Providers' products (services without slots) for the jobs' price lists. */
  readonly products: ProductRef[] = [];
  /** The business's default refund destination (set once in setup; snapshotted onto orders). */
  defaultRefundDestination: 'account_credit' | 'card' = 'account_credit';
  private readonly statuses: Record<string, number> = {};
  private readonly actions: Record<string, number> = {};
  private restarts = 0;
  private replays = 0;
  /** The order the last successful transition moved (likely to be acted on again). */
  private focus: number | null = null;
  private readonly invariants = new Invariants(this);

  constructor(
    readonly options: SimOptions,
    readonly world: World,
  ) {
    this.rng = new Rng(options.seed);
  }

  // ----- plumbing -------------------------------------------------------------------

  /** Sub-lines (duplicates, replays) wait for the line of the step they belong to. */
  readonly subNotes: string[] = [];

  note(line: string): void {
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

  get admin(): Party {
    return { id: 'admin', key: this.world.adminKey, label: 'admin' };
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

  /**
   * Sends a mutating request; checks its status is clean; that a refusal changed nothing;
   * and sometimes sends it again with the same Idempotency-Key (same answer, no effect)
   * or with the same key and another body (422 idempotency_key_reused).
   */
  async send(what: string, method: 'POST' | 'PATCH', path: string, body: unknown, key: string, opts: { noDuplicate?: boolean } = {}): Promise<Res> {
    const before = await this.world.fingerprint();
    const idem = this.nextIdem();
    const res = await this.world.call(method, path, body, key, idem);
    this.expectCleanStatus(what, res);
    if (res.status !== 200) {
      const after = await this.world.fingerprint();
      if (after !== before) fail(`${what}: refused with ${outcome(res)} but the database changed`);
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
    const before = await this.world.fingerprint();
    const again = await this.world.call(first.method, first.path, first.body, first.key, first.idem);
    const label = old ? `old replay of ${what}` : `duplicate of ${what}`;
    this.expectCleanStatus(label, again);
    if (again.status !== first.res.status) fail(`${label}: first ${outcome(first.res)}, again ${outcome(again)}`);
    if (first.res.status === 200 || STORED_REFUSALS.has(first.res.status)) {
      if (!isDeepStrictEqual(again.body, first.res.body)) {
        fail(`${label}: replayed body differs\nfirst: ${JSON.stringify(first.res.body).slice(0, 800)}\nagain: ${JSON.stringify(again.body).slice(0, 800)}`);
      }
      if (first.res.status === 200 && again.headers['idempotent-replayed'] !== 'true') fail(`${label}: 200 replay without Idempotent-Replayed: true`);
    } else if (again.body?.error?.code !== first.res.body?.error?.code) {
      fail(`${label}: first ${outcome(first.res)}, again ${outcome(again)}`);
    }
    const after = await this.world.fingerprint();
    if (after !== before) fail(`${label}: the repeat changed the database`);
    this.subNotes.push(`${old ? 'old replay' : 'duplicate'} → ${outcome(again)} (same)`);
    // The same key with another body must be refused when the first answer was stored.
    if (first.res.status === 200 && this.rng.chance(0.3)) {
      const other = otherBody(first.body);
      const reused = await this.world.call(first.method, first.path, other, first.key, first.idem);
      this.count(this.statuses, String(reused.status));
      // Schema validation (additionalProperties) may refuse first with a 400; both are clean refusals.
      const code = reused.body?.error?.code;
      if (!(reused.status === 422 && code === 'idempotency_key_reused') && reused.status !== 400) {
        fail(`${label} with another body: expected 422 idempotency_key_reused, got ${outcome(reused)}`);
      }
      if ((await this.world.fingerprint()) !== before) fail(`${label} with another body changed the database`);
      this.subNotes.push(`same key, other body → ${outcome(reused)}`);
    }
  }

  async get(path: string, key = this.world.adminKey): Promise<Res> {
    const res = await this.world.call('GET', path, undefined, key);
    return res;
  }

  private async order(ref: OrderRef): Promise<any> {
    const res = await this.get(`/v1/orders/${ref.id}`);
    if (res.status !== 200) fail(`GET order ${ref.label}: ${outcome(res)}`);
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
    if (clock.status !== 200) fail(`setting the clock: ${outcome(clock)}`);
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
    if (s.status !== 200) fail(`settings: ${outcome(s)}`);
    this.note(`settings ${JSON.stringify(settings)}`);

    const nCustomers = rng.int(3, 6);
    for (let i = 0; i < nCustomers; i++) {
      const c = await this.world.call('POST', '/v1/customers', { email: `c${i}-${this.options.seed}@sim.example`, name: `Customer ${i}` }, this.world.adminKey, this.nextIdem());
      if (c.status !== 200) fail(`customer: ${outcome(c)}`);
      const k = await this.world.call('POST', '/v1/api-keys', { role: 'customer', customerId: c.body.id }, this.world.adminKey, this.nextIdem());
      this.customers.push({ id: c.body.id, key: k.body.key, label: `c${i}` });
      const credit = rng.pick([0, 5_000, 20_000, 60_000, 150_000]);
      if (credit) {
        const t = await this.world.call('POST', `/v1/customers/${c.body.id}/top-ups`, { amount: credit, currency: 'USD', paymentMethod: rng.pick(['pm_card_visa', 'pm_card_refund_fails']) }, this.world.adminKey, this.nextIdem());
        if (t.status !== 200) fail(`top-up: ${outcome(t)}`);
        this.topUps.push({ id: t.body.id, customer: i });
      }
      this.note(`customer c${i} with credit ${credit}`);
    }
    const nProviders = rng.int(2, 3);
    for (let i = 0; i < nProviders; i++) {
      const p = await this.world.call('POST', '/v1/providers', { email: `p${i}-${this.options.seed}@sim.example`, name: `Provider ${i}` }, this.world.adminKey, this.nextIdem());
      if (p.status !== 200) fail(`provider: ${outcome(p)}`);
      const k = await this.world.call('POST', '/v1/api-keys', { role: 'provider', providerId: p.body.id }, this.world.adminKey, this.nextIdem());
      this.providers.push({ id: p.body.id, key: k.body.key, label: `p${i}` });
      this.note(`provider p${i}`);
    }
    for (let i = 0; i < nProviders; i++) await this.createService(i);
    // A picture-day job with its names list, so that pre-orders come from the first steps on.
    await createJob(this);
    await this.checkInvariants(true);
  }

  private async createService(provider: number): Promise<void> {
    const rng = this.rng;
    const unitAmount = rng.pick([1_500, 4_000, 9_900, 25_000]);
    const slots = Array.from({ length: rng.int(3, 6) }, () => {
      const startsAt = this.now.getTime() + rng.int(1, 14 * 24) * HOUR + rng.pick([0, 30 * 60_000]);
      return { startsAt: iso(startsAt), endsAt: iso(startsAt + rng.pick([1, 2, 3]) * HOUR), capacity: rng.int(1, 4) };
    });
    const res = await this.send(
      'create service',
      'POST',
      '/v1/services',
      { name: `Session ${this.services.length}`, providerId: this.providers[provider]!.id, unitAmount, currency: 'USD', slots },
      this.world.adminKey,
    );
    if (res.status !== 200) fail(`create service: ${outcome(res)}`);
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
          job: this.jobs.length ? 6 : 2,
        });
        this.count(this.actions, kind);
        const jumped = await this.runStep(kind);
        await this.checkInvariants(jumped);
        if (this.step % checkEvery === 0) await this.invariants.fullCheck();
      }
      this.step = this.options.steps;
      await this.invariants.fullCheck();
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
      case 'job':
        await jobStep(this);
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

  labelOf(id: string): string {
    const i = this.orderIndex.get(id);
    if (i !== undefined) return this.orders[i]!.label;
    for (const j of this.jobs) {
      if (j.id === id) return j.label;
      if (j.collections.includes(id)) return collectionLabel(j, id);
      if (j.batches.includes(id)) return batchLabel(j, id);
    }
    return id.slice(0, id.indexOf('_'));
  }

  // ----- steps -------------------------------------------------------------------------

  private async createOrder(): Promise<void> {
    const process = this.rng.weighted({ booking: 52, direct: 24, prepay: 24 });
    if (process === 'direct') return createDirectOrder(this);
    if (process === 'prepay') return createPreOrder(this);
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
          startsAt: iso(start),
          endsAt: iso(start + duration),
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
    if (broken === 'ends_before') lines[0] = { description: 'Backwards', quantity: 1, unitAmount: 100, startsAt: iso(now + DAY), endsAt: iso(now + DAY - HOUR) };
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
      this.note(`create ${label} (c${ref.customer}/p${provider}, ${shape}${broken !== 'none' ? `, ${broken}` : ''}) by ${who} → ${outcome(res)} total ${res.body.amounts.total}`);
    } else {
      const pastRefused = startsInPast && who !== 'admin' && res.status === 422 && res.body?.error?.code === 'starts_in_past';
      if (broken === 'none' && !pastRefused && res.body?.error?.code !== 'slot_full') fail(`create order (valid, ${shape}) refused: ${outcome(res)} ${res.body?.error?.message}`);
      this.note(`create (c${customer}/p${provider}, ${shape}, ${broken}) by ${who} → ${outcome(res)}`);
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
    if (ref.process === 'prepay' && !PREPAY_STATES.has(order.state)) fail(`${ref.label}: a prepay order in state ${order.state}`);
    const table: Record<string, PrepayAction[]> = ref.process === 'direct' ? PLAUSIBLE_DIRECT : ref.process === 'prepay' ? PLAUSIBLE_PREPAY : PLAUSIBLE;
    const plausible = (table[order.state] ?? []).filter((a) => isJobAction(a) || feasible(a, order));
    // Prepay orders also get the job's steps for them (populate, place, release…), wanted or not.
    const pool: PrepayAction[] = ref.process === 'prepay' ? [...ALL_ACTIONS, ...JOB_ACTIONS] : ALL_ACTIONS;
    const chosen: PrepayAction = plausible.length && rng.chance(0.82) ? rng.pick(plausible) : rng.pick(pool);
    const who: Who = rng.chance(0.85) ? naturalActor(chosen, order, rng) : rng.pick(['customer', 'provider', 'admin', 'stranger_customer', 'stranger_provider'] as const);
    if (isJobAction(chosen)) {
      this.count(this.actions, `t:${chosen}`);
      if (await prepayJobAction(this, chosen, who, ref)) this.focus = this.orderIndex.get(ref.id) ?? null;
      return;
    }
    const action: ActionName = chosen;
    const party = this.keyOf(who, ref);
    const request = buildRequest(this, action, order, ref);
    const head = `${ref.label}[${order.state}] ${action} by ${who}${request.summary ? ` ${request.summary}` : ''}`;
    this.count(this.actions, `t:${action}`);

    // Direct and prepay cancellations refund to account credit by default: the customer's balance says how much arrived.
    const creditBefore = ref.process !== 'booking' && (action === 'cancel' || action === 'cancel_lines' || action === 'quote_then_cancel') ? await credit(this, ref.customer) : null;
    // Where a prepay order is in its job: no order-route transition may move it there.
    const place = ref.process === 'prepay' ? await placeOf(this, ref) : null;
    const afterPrepay = (res: Res) => afterPrepayTransition(this, action, who, ref, order, res, request, head, place!, creditBefore, () => credit(this, ref.customer));
    if (action === 'quote_then_cancel') {
      const res = await this.quoteThenCancel(head, ref, order, party, request.body);
      if (res.status === 200 && ref.process === 'direct') {
        await afterDirectSuccess(this, action, ref, order, res.body, { path: `/v1/orders/${ref.id}/cancel`, body: request.body }, head, creditBefore);
      }
      if (ref.process === 'prepay') await afterPrepay(res);
      if (res.status === 200) this.focus = this.orderIndex.get(ref.id) ?? null;
      return;
    }
    const res = await this.send(head, request.method, request.path, request.body, party.key);
    this.note(`${head} → ${outcome(res)}`);
    if (res.status === 200) {
      // The answer is the order as the transition left it: a read right after gives the same
      // (nothing else runs between steps; a stored answer replays it, so it must be right).
      if (res.body?.object === 'order') {
        const read = await this.order(ref);
        if (!isDeepStrictEqual(read, res.body)) fail(`${head}: the answer differs from the order read after it\n${firstDifference(res.body, read)}`);
      }
      await this.afterSuccess(action, who, order, res.body, head);
      if (ref.process === 'direct') await afterDirectSuccess(this, action, ref, order, res.body, request, head, creditBefore);
      this.focus = this.orderIndex.get(ref.id) ?? null;
    }
    if (ref.process === 'prepay') await afterPrepay(res);
    if (res.status !== 200 && (who === 'stranger_customer' || who === 'stranger_provider') && party.id !== this.customers[ref.customer]!.id && party.id !== this.providers[ref.provider]!.id) {
      if (res.status !== 404 && res.status !== 403 && res.status !== 400) fail(`${head}: a stranger got ${outcome(res)} instead of 404/403`);
    }
    if (res.status === 200 && (who === 'stranger_customer' || who === 'stranger_provider')) {
      if (party.id !== this.customers[ref.customer]!.id && party.id !== this.providers[ref.provider]!.id) fail(`${head}: a stranger's request succeeded`);
    }
  }

  /** Checks that hold for a transition that succeeded, against the order before it. */
  private async afterSuccess(action: ActionName, who: Who, before: any, after: any, head: string): Promise<void> {
    if (action === 'retry_refund') {
      if (after.object !== 'refund' || !['succeeded', 'failed', 'pending'].includes(after.status)) fail(`${head}: retry answered ${JSON.stringify(after).slice(0, 300)}`);
      return;
    }
    if (action === 'pay') {
      if (after.state !== ({ direct: 'delivery', prepay: 'collection' }[before.process as string] ?? 'execution')) fail(`${head}: paid but state is ${after.state}`);
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

  /** The quote is a dry run of the same code: cancelling right after refunds exactly its total. */
  private async quoteThenCancel(head: string, ref: OrderRef, order: any, party: Party, body: Record<string, unknown>): Promise<Res> {
    const quoteBody: Record<string, unknown> = {};
    if (body.lineIds) quoteBody.lineIds = body.lineIds;
    if (body.refundDestination) quoteBody.refundDestination = body.refundDestination;
    const before = await this.world.fingerprint();
    const quote = await this.world.call('POST', `/v1/orders/${ref.id}/cancellation-quote`, quoteBody, party.key, this.nextIdem());
    this.expectCleanStatus(`${head} (quote)`, quote);
    if ((await this.world.fingerprint()) !== before) fail(`${head}: the cancellation quote changed the database`);
    const res = await this.send(`${head} (cancel after quote)`, 'POST', `/v1/orders/${ref.id}/cancel`, body, party.key);
    this.note(`${head} quote → ${outcome(quote)}${quote.status === 200 ? ` total ${quote.body.total}` : ''}; cancel → ${outcome(res)}`);
    if (quote.status === 200 && res.status === 200) {
      const refunded = res.body.amounts.refunded - order.amounts.refunded;
      if (refunded !== quote.body.total) fail(`${head}: quoted ${quote.body.total} but the cancellation refunded ${refunded}`);
    }
    if ((quote.status === 200) !== (res.status === 200)) {
      fail(`${head}: the quote said ${outcome(quote)} but the cancellation said ${outcome(res)}`);
    }
    return res;
  }

  private async clockJump(): Promise<void> {
    const rng = this.rng;
    const now = this.now.getTime();
    // Open batches with a shipping deadline: the clock sometimes goes exactly there (or just before).
    const batchDeadlines = this.jobs.length
      ? (await this.world.store.db.selectFrom('job_batches').select('release_at').where('status', '=', 'open').where('release_at', 'is not', null).orderBy('release_at').execute()).map((r) => r.release_at!.getTime())
      : [];
    const kind = rng.weighted({ seconds: 10, minutes: 18, hours: 30, days: 8, weeks: 2, deadline: 20, boundary: 12, batch: batchDeadlines.length ? 25 : 0 });
    let target: number;
    if (kind === 'deadline' || kind === 'boundary' || kind === 'batch') {
      const candidates: number[] = [];
      if (kind === 'batch') {
        for (const t of batchDeadlines) candidates.push(t, t, t - 1_000, t + rng.int(1, 6) * HOUR);
      } else if (kind === 'deadline') {
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
    const useTo = kind === 'deadline' || kind === 'boundary' || kind === 'batch' || rng.chance(0.3);
    const body = useTo ? { to: iso(target) } : { advanceSeconds: Math.round((target - now) / 1000) };
    const firedBefore = await this.countSystemEvents();
    const res = await this.send(`clock ${kind}`, 'POST', '/v1/test/clock', body, this.world.adminKey, { noDuplicate: true });
    if (res.status !== 200) fail(`clock: ${outcome(res)}`);
    const reported = new Date(res.body.now).getTime();
    if (reported !== (useTo ? target : now + Math.round((target - now) / 1000) * 1000)) fail(`clock: asked for ${iso(target)}, got ${res.body.now}`);
    const jump = rel(reported, this.now);
    this.now = new Date(reported);
    const fired = (await this.countSystemEvents()) - firedBefore;
    const batches = batchDeadlines.filter((t) => t <= reported).length;
    this.note(`clock ${kind} ${jump} → ${iso(reported)}, ${fired} deadline firing(s)${batches ? `, ${batches} batch deadline(s)` : ''}`);
    // Going back is refused and changes nothing.
    if (rng.chance(0.05)) {
      const back = await this.send('clock back', 'POST', '/v1/test/clock', { to: iso(reported - 1_000) }, this.world.adminKey, { noDuplicate: true });
      if (back.status !== 400) fail(`clock back: expected 400, got ${outcome(back)}`);
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
      this.note(`top-up c${c} ${amount} ${paymentMethod} → ${outcome(res)}`);
    } else if (kind === 'top_up_refund') {
      // Back to the card: capped by the top-up and by the credit the customer still has.
      const topUp = rng.pick(this.topUps);
      const body = rng.chance(0.3) ? {} : { amount: rng.int(1, 60_000) };
      const res = await this.send('top-up refund', 'POST', `/v1/top-ups/${topUp.id}/refunds`, body, this.world.adminKey);
      this.note(`top-up refund c${topUp.customer} ${JSON.stringify(body)} → ${outcome(res)}`);
    } else if (kind === 'correction') {
      const amount = rng.chance(0.5) ? rng.int(1, 30_000) : -rng.int(1, 80_000);
      const res = await this.send('correction', 'POST', `/v1/customers/${customer.id}/balance-corrections`, { amount, currency: 'USD', memo: 'sim' }, this.world.adminKey);
      if (res.status === 200) this.corrections.push({ id: res.body.id, customer: c });
      this.note(`correction c${c} ${amount} → ${outcome(res)}`);
    } else {
      const correction = rng.pick(this.corrections);
      const res = await this.send('reversal', 'POST', `/v1/transactions/${correction.id}/reverse`, { memo: 'wrong entry' }, this.world.adminKey);
      this.note(`reverse a correction of c${correction.customer} → ${outcome(res)}`);
    }
  }

  private async readStep(): Promise<void> {
    if (!this.orders.length) return;
    const ref = this.rng.pick(this.orders);
    const own = await this.get(`/v1/orders/${ref.id}`, this.customers[ref.customer]!.key);
    if (own.status !== 200) fail(`the customer cannot read their own order ${ref.label}: ${outcome(own)}`);
    const mine = await this.get(`/v1/orders/${ref.id}`, this.providers[ref.provider]!.key);
    if (mine.status !== 200) fail(`the provider cannot read their own order ${ref.label}: ${outcome(mine)}`);
    const other = this.customers.findIndex((_, i) => i !== ref.customer);
    if (other >= 0) {
      const res = await this.get(`/v1/orders/${ref.id}`, this.customers[other]!.key);
      if (res.status !== 404) fail(`another customer read ${ref.label}: ${outcome(res)}`);
    }
    if (ref.process === 'prepay') {
      // The customer sees their order's place in its job; another customer does not; staff find it by its number (cancelled too).
      const job = await this.get(`/v1/orders/${ref.id}/job`, this.customers[ref.customer]!.key);
      if (job.status !== 200 || job.body.orderId !== ref.id) fail(`the customer cannot read the job view of ${ref.label}: ${outcome(job)}`);
      if (other >= 0) {
        const res = await this.get(`/v1/orders/${ref.id}/job`, this.customers[other]!.key);
        if (res.status !== 404) fail(`another customer read the job view of ${ref.label}: ${outcome(res)}`);
      }
      const found = await this.get(`/v1/orders?q=${encodeURIComponent(job.body.order.number)}`);
      if (found.status !== 200 || !(found.body.data as any[]).some((o) => o.id === ref.id)) fail(`searching ${ref.label} (${job.body.order.state}) by its number did not find it: ${outcome(found)}`);
    } else {
      const res = await this.get(`/v1/orders/${ref.id}/job`);
      if (res.status !== 404) fail(`${ref.label} (${ref.process}) has a job view: ${outcome(res)}`);
    }
    const list = await this.get(`/v1/orders?limit=100`, this.customers[ref.customer]!.key);
    if (list.status !== 200) fail(`list: ${outcome(list)}`);
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
    if (res.status !== 200) fail(`settings ${JSON.stringify(patch)}: ${outcome(res)}`);
    this.note(`settings ${JSON.stringify(patch)} (new orders only)`);
  }

  /** Close the app and open a new one on the same database; sometimes time passes while down. */
  private async restart(): Promise<boolean> {
    await this.world.close();
    await this.world.open();
    this.restarts++;
    const clock = (await this.get('/v1/test/clock')).body;
    if (new Date(clock.now).getTime() !== this.now.getTime()) fail(`after a restart the clock says ${clock.now}, it was ${iso(this.now.getTime())}`);
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
    return timed('invariants', () => this.invariants.check(clockMoved));
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
    const states: Record<string, number> = {};
    for (const r of await this.world.store.db.selectFrom('orders').select('state').execute()) states[r.state] = (states[r.state] ?? 0) + 1;
    const events: Record<string, number> = {};
    // By process: which transitions of each process the run exercised.
    const rows = await this.world.store.db.selectFrom('order_events as e').innerJoin('orders as o', 'o.id', 'e.order_id').select(['e.type', 'o.process']).execute();
    for (const e of rows) {
      const key = `${e.process}:${e.type.replace(/^order\./, '')}`;
      events[key] = (events[key] ?? 0) + 1;
    }
    return { states, events, deadlinesFired: await this.countSystemEvents() };
  }
}
