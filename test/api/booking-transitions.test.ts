// Every transition of the booking process × every actor × every state, generated from the
// process definition (src/domain/process/booking.ts): where the definition allows it, it
// succeeds and lands in a state the definition names; everywhere else it is refused with
// the exact status and code, and the refusal changes nothing. A transition added to the
// process without a route here, or a guard without a scenario, fails this file.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bookingProcess, GUARDS, targetsOf, type GuardName, type ProcessActor, type TransitionDef } from '../../src/domain/process/index.js';
import { startHarness, type Harness, type Res } from '../helpers/harness.js';
import { advance, DAY, freezeClock, HOUR, isoIn, now } from '../helpers/booking.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ poolSize: 20 });
  await freezeClock(h, '2030-05-06T08:00:00.000Z');
});
afterAll(() => h.close());

// ---------------------------------------------------------------------------------------
// Who asks. "foreign" keys belong to another customer / provider than the order's.
type Who = 'customer' | 'provider' | 'operator' | 'foreignCustomer' | 'foreignProvider';
const WHO: readonly Who[] = ['customer', 'provider', 'operator', 'foreignCustomer', 'foreignProvider'];
const PERSON: Record<Who, ProcessActor | null> = { customer: 'customer', provider: 'provider', operator: 'operator', foreignCustomer: null, foreignProvider: null };

interface Keys {
  customer: { id: string; key: string };
  provider: { id: string; key: string };
  foreignCustomer: { id: string; key: string };
  foreignProvider: { id: string; key: string };
}
let keys: Keys;
const keyOf = (who: Who): string | undefined => (who === 'operator' ? undefined : keys[who].key);

// ---------------------------------------------------------------------------------------
// Orders in every state the process has, plus the variants guards care about. Every
// booking has two session lines, one day apart, paid by card.
type Variant =
  | 'confirmation'
  | 'payment'
  | 'execution'
  | 'execution_proposal'
  | 'execution_started'
  | 'execution_started_proposal'
  | 'execution_all_started'
  | 'execution_confirmation'
  | 'claim'
  | 'closed'
  | 'cancelled';
const STATE_OF: Record<Variant, string> = {
  confirmation: 'confirmation',
  payment: 'payment',
  execution: 'execution',
  execution_proposal: 'execution',
  execution_started: 'execution',
  execution_started_proposal: 'execution',
  execution_all_started: 'execution',
  execution_confirmation: 'execution_confirmation',
  claim: 'claim',
  closed: 'closed',
  cancelled: 'cancelled',
};
const VARIANTS = Object.keys(STATE_OF) as Variant[];
/** One variant per state: the plain one. */
const PRIMARY = VARIANTS.filter((v, i) => VARIANTS.findIndex((w) => STATE_OF[w] === STATE_OF[v]) === i);
const VARIANT_GUARDS: ReadonlySet<GuardName> = new Set(['before_start', 'after_start', 'open_lines_started', 'lines_before_start', 'has_pending_proposal']);
/** Variants whose service has started: built before the clock passes their start. */
const STARTED: ReadonlySet<Variant> = new Set(['execution_started', 'execution_started_proposal', 'execution_all_started', 'execution_confirmation', 'claim', 'closed']);
/**
 * Started variants whose second line has started too (it starts half an hour after the first,
 * not a day): only these can be marked done. In the other started ones the second line is ahead.
 */
const ALL_STARTED: ReadonlySet<Variant> = new Set(['execution_all_started', 'execution_confirmation', 'claim', 'closed']);
const WITH_PROPOSAL: ReadonlySet<Variant> = new Set(['execution_proposal', 'execution_started_proposal']);

interface Fixture {
  id: string;
  variant: Variant;
  lineIds: string[];
  cardPaymentId: string | null;
}

// ---------------------------------------------------------------------------------------
// How each person-facing transition is asked for over HTTP.
interface Route {
  method?: 'PATCH';
  path: (o: Fixture) => string;
  body: (o: Fixture) => unknown;
  /** The route itself is admin-only (403 forbidden before the order is even read). */
  adminOnly?: true;
}
const ROUTES: Record<string, Route> = {
  confirm: { path: (o) => `/v1/orders/${o.id}/confirm`, body: () => ({}) },
  edit: { path: (o) => `/v1/orders/${o.id}/edit`, body: () => ({ comment: 'Edited terms' }) },
  pay: { path: (o) => `/v1/orders/${o.id}/pay`, body: () => ({ useAccountCredit: false, paymentMethod: 'pm_card_visa' }) },
  cancel: { path: (o) => `/v1/orders/${o.id}/cancel`, body: () => ({ reason: 'Plans changed' }) },
  // The first (earliest) line: refused once it has started.
  cancel_lines: { path: (o) => `/v1/orders/${o.id}/cancel`, body: (o) => ({ lineIds: [o.lineIds[0]], reason: 'Cannot come that day' }) },
  edit_line: { method: 'PATCH', path: (o) => `/v1/orders/${o.id}/lines/${o.lineIds[0]}`, body: () => ({ participantName: 'Renamed Guest' }) },
  propose: { path: (o) => `/v1/orders/${o.id}/proposal`, body: (o) => ({ lines: [{ id: o.lineIds[0], unitAmount: 8_000 }], comment: 'Shorter' }) },
  accept_proposal: { path: (o) => `/v1/orders/${o.id}/proposal/accept`, body: () => ({}) },
  decline_proposal: { path: (o) => `/v1/orders/${o.id}/proposal/decline`, body: () => ({}) },
  mark_done: { path: (o) => `/v1/orders/${o.id}/mark-done`, body: () => ({}) },
  confirm_execution: { path: (o) => `/v1/orders/${o.id}/confirm-execution`, body: () => ({}) },
  open_claim: { path: (o) => `/v1/orders/${o.id}/claims`, body: () => ({ reason: 'Half the photos are blurry' }) },
  resolve_claim: { path: (o) => `/v1/orders/${o.id}/claims/resolve`, body: () => ({ outcome: 'reject', reason: 'Photos are fine' }) },
  refund: { path: (o) => `/v1/orders/${o.id}/refunds`, body: () => ({ amount: 500, destination: 'account_credit', reason: 'Goodwill' }) },
  refund_to_card: {
    // A well-formed id when the order has no card payment: the state is judged before the payment.
    path: (o) => `/v1/orders/${o.id}/payments/${o.cardPaymentId ?? 'pay_0000000000000000000000000'}/refunds`,
    body: () => ({ amount: 500 }),
    adminOnly: true,
  },
  review: { path: (o) => `/v1/orders/${o.id}/reviews`, body: () => ({ rating: 5, comment: 'Lovely' }) },
};

const PERSON_TRANSITIONS: readonly TransitionDef[] = bookingProcess.transitions.filter((t) => !t.actors.includes('system') && !t.from.includes('@start'));
const SYSTEM_TRANSITIONS: readonly TransitionDef[] = bookingProcess.transitions.filter((t) => t.actors.includes('system'));

function send(who: Who, route: Route, o: Fixture): Promise<Res> {
  const opts = { key: keyOf(who) } as { key?: string };
  return route.method === 'PATCH' ? h.patch(route.path(o), route.body(o), opts) : h.post(route.path(o), route.body(o), opts);
}

// ---------------------------------------------------------------------------------------
// The expected answer, derived from the definition: foreign keys never learn the order
// exists, the actor is judged before the state, then the state, then the guards.
type Outcome = { ok: true } | { ok: false; status: number; code: string };
const OK: Outcome = { ok: true };
const refused = (status: number, code: string): Outcome => ({ ok: false, status, code });

/**
 * Guard refusals the fixtures reach by construction (actor allowed, state allowed): every
 * fixture awaits the provider in confirmation, started variants are past their first
 * line's start, and only the *_proposal variants carry a proposal.
 */
function guardOutcome(t: TransitionDef, role: ProcessActor, v: Variant): Outcome {
  const started = STARTED.has(v);
  const proposal = WITH_PROPOSAL.has(v);
  switch (t.name) {
    case 'confirm':
      return role === 'customer' ? refused(409, 'not_awaited') : OK;
    case 'cancel':
    case 'cancel_lines':
    case 'edit_line':
    case 'propose':
      return started ? refused(409, 'service_started') : OK;
    case 'accept_proposal':
      if (!proposal) return refused(409, 'no_pending_proposal');
      return started ? refused(409, 'service_started') : OK;
    case 'decline_proposal':
      return proposal ? OK : refused(409, 'no_pending_proposal');
    case 'mark_done':
      return ALL_STARTED.has(v) ? OK : refused(409, 'service_not_started');
    case 'refund':
      // The cancelled fixture was cancelled by the provider: all went back, no payout holds any.
      // In closed the refund comes out of the scheduled payout (booking 1.2.0).
      return v === 'cancelled' ? refused(422, 'refund_exceeds_refundable') : OK;
    default:
      return OK;
  }
}

function expected(t: TransitionDef, who: Who, v: Variant): Outcome {
  const route = ROUTES[t.name]!;
  const role = PERSON[who];
  if (route.adminOnly && role !== 'operator') return refused(403, 'forbidden');
  if (role === null) return refused(404, 'resource_missing');
  if (!t.actors.includes(role)) return refused(403, 'actor_not_allowed');
  if (!t.from.includes(STATE_OF[v])) return refused(409, 'invalid_state_transition');
  return guardOutcome(t, role, v);
}

// ---------------------------------------------------------------------------------------
// Building fixtures: everything whose service must have started is prepared first (start
// in one hour), the clock moves past that start once, and then the rest is built with a
// start days ahead, so no deadline falls while the table runs.
async function createBooking(startsInSeconds: number, policies?: Record<string, unknown>, apartSeconds = DAY): Promise<{ id: string; lineIds: string[] }> {
  if (policies) expect((await h.patch('/v1/settings', policies)).status).toBe(200);
  const base = await now(h);
  const lines = [0, 1].map((i) => ({
    description: `Session ${i + 1}`,
    quantity: 1,
    unitAmount: 10_000,
    startsAt: isoIn(base, startsInSeconds + i * apartSeconds),
    endsAt: isoIn(base, startsInSeconds + i * apartSeconds + HOUR),
  }));
  const r = await h.post(
    '/v1/orders',
    { process: 'booking', customerId: keys.customer.id, providerId: keys.provider.id, currency: 'USD', lines },
    { key: keys.customer.key },
  );
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return { id: r.body.id, lineIds: r.body.lines.map((l: { id: string }) => l.id) };
}

async function ok(r: Promise<Res> | Res, what: string): Promise<Res> {
  const res = await r;
  expect(res.status, `${what}: ${JSON.stringify(res.body)}`).toBe(200);
  return res;
}

/** Steps before the clock passes the start. `prerefund` puts 500 back into the customer's account. */
async function prepare(v: Variant, opts: { prerefund?: boolean } = {}): Promise<Fixture> {
  const order = ALL_STARTED.has(v) ? await createBooking(HOUR / 2, undefined, HOUR / 2) : await createBooking(STARTED.has(v) ? HOUR : 3 * DAY);
  const o: Fixture = { id: order.id, variant: v, lineIds: order.lineIds, cardPaymentId: null };
  if (v === 'confirmation') return o;
  await ok(h.post(`/v1/orders/${o.id}/confirm`, {}, { key: keys.provider.key }), 'confirm');
  if (v === 'payment') return o;
  const paid = await ok(h.post(`/v1/orders/${o.id}/pay`, { paymentMethod: 'pm_card_visa' }, { key: keys.customer.key }), 'pay');
  o.cardPaymentId = paid.body.payments.find((p: { method: string }) => p.method === 'card').id;
  if (opts.prerefund) await ok(h.post(`/v1/orders/${o.id}/refunds`, { amount: 500, destination: 'account_credit' }), 'refund');
  if (WITH_PROPOSAL.has(v)) {
    await ok(h.post(`/v1/orders/${o.id}/proposal`, { lines: [{ id: o.lineIds[1], unitAmount: 9_000 }] }, { key: keys.provider.key }), 'propose');
  }
  if (v === 'cancelled') await ok(h.post(`/v1/orders/${o.id}/cancel`, { reason: 'Camera broken' }, { key: keys.provider.key }), 'cancel');
  return o;
}

/** Steps after the start: done, then confirmed or claimed. */
async function finish(o: Fixture): Promise<Fixture> {
  if (!['execution_confirmation', 'claim', 'closed'].includes(o.variant)) return o;
  await ok(h.post(`/v1/orders/${o.id}/mark-done`, {}, { key: keys.provider.key }), 'mark-done');
  if (o.variant === 'claim') await ok(h.post(`/v1/orders/${o.id}/claims`, { reason: 'Not happy' }, { key: keys.customer.key }), 'claim');
  if (o.variant === 'closed') await ok(h.post(`/v1/orders/${o.id}/confirm-execution`, {}, { key: keys.customer.key }), 'confirm-execution');
  return o;
}

interface Cell {
  t: TransitionDef;
  who: Who;
  v: Variant;
  outcome: Outcome;
}
/**
 * Where the answer depends on the state, every variant is tried. Where it cannot (a key
 * that may never take the transition: 403; a foreign key: 404), one variant where the
 * state would be right and one where it would not are enough.
 */
function variantsFor(t: TransitionDef, who: Who): Variant[] {
  const role = PERSON[who];
  if (role && t.actors.includes(role) && (!ROUTES[t.name]!.adminOnly || role === 'operator')) {
    // The started / proposal variants only matter to guards that read the time or the proposal.
    return t.guards?.some((g) => VARIANT_GUARDS.has(g)) ? VARIANTS : PRIMARY;
  }
  const inState = VARIANTS.find((v) => t.from.includes(STATE_OF[v]))!;
  const outOfState = VARIANTS.find((v) => !t.from.includes(STATE_OF[v]))!;
  return [inState, outOfState];
}
const CELLS: Cell[] = PERSON_TRANSITIONS.flatMap((t) => WHO.flatMap((who) => variantsFor(t, who).map((v) => ({ t, who, v, outcome: expected(t, who, v) }))));
const SUCCESS_CELLS = CELLS.filter((c) => c.outcome.ok);
const REFUSAL_CELLS = CELLS.filter((c) => !c.outcome.ok);

const shared = new Map<Variant, Fixture>();
const fresh = new Map<Cell, Fixture>();
const label = (c: Cell) => `${c.t.name} by ${c.who} in ${c.v}`;

/** Runs `fn` over `items` with at most `width` in flight (PostgreSQL really runs them in parallel). */
async function inParallel<T, R>(items: readonly T[], width: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i] as T);
      }
    }),
  );
  return out;
}

beforeAll(async () => {
  const [customer, provider, foreignCustomer, foreignProvider] = [await h.customer(), await h.provider(), await h.customer(), await h.provider()];
  keys = { customer, provider, foreignCustomer, foreignProvider };
  const jobs: { v: Variant; prerefund: boolean; cell?: Cell }[] = [
    ...VARIANTS.map((v) => ({ v, prerefund: false })),
    ...SUCCESS_CELLS.map((cell) => ({ v: cell.v, prerefund: cell.t.name === 'refund_to_card', cell })),
  ];
  // Started ones first, then past their start, then the rest (start three days ahead).
  const early = jobs.filter((j) => STARTED.has(j.v));
  const prepared = await inParallel(early, 8, (j) => prepare(j.v, { prerefund: j.prerefund }));
  await advance(h, HOUR);
  const finished = await inParallel(prepared, 8, finish);
  const late = jobs.filter((j) => !STARTED.has(j.v));
  const built = await inParallel(late, 8, (j) => prepare(j.v, { prerefund: j.prerefund }));
  const all = [...early, ...late];
  [...finished, ...built].forEach((o, i) => {
    const job = all[i]!;
    if (job.cell) fresh.set(job.cell, o);
    else shared.set(job.v, o);
  });
}, 120_000);

// ---------------------------------------------------------------------------------------
describe('the table is complete', () => {
  it('every state of the process has a fixture and every person-facing transition a route', () => {
    expect(new Set(Object.values(STATE_OF))).toEqual(new Set(bookingProcess.states.map((s) => s.name)));
    expect(Object.keys(ROUTES).sort()).toEqual(PERSON_TRANSITIONS.map((t) => t.name).sort());
  });

  it('system transitions are taken only by the deadline worker (tested in booking-deadlines.test.ts)', () => {
    // A new deadline must get its boundary tests there; then add it here.
    expect(SYSTEM_TRANSITIONS.map((t) => t.name).sort()).toEqual(['auto_close', 'auto_done', 'expire_confirmation', 'expire_payment']);
    for (const t of SYSTEM_TRANSITIONS) {
      expect(t.actors, t.name).toEqual(['system']);
      expect(t.at, t.name).toBeDefined();
    }
  });

  it('every (transition, actor) pair is tried where it is allowed and where it is not', () => {
    for (const t of PERSON_TRANSITIONS) {
      for (const who of WHO) {
        const cells = CELLS.filter((c) => c.t === t && c.who === who);
        const role = PERSON[who];
        if (role && t.actors.includes(role)) {
          expect(cells.some((c) => t.from.includes(STATE_OF[c.v])), `${t.name}/${who} in an allowed state`).toBe(true);
        }
        expect(cells.some((c) => !t.from.includes(STATE_OF[c.v])), `${t.name}/${who} in a refused state`).toBe(true);
      }
    }
    expect(SUCCESS_CELLS.length).toBeGreaterThan(30);
  });
});

describe('refused transitions: exact status and code, and nothing changes', () => {
  it(
    'every refused (transition, actor, state) cell',
    async () => {
      const snapshot = async () =>
        Promise.all(
          [...shared.values()].map(async (o) => {
            const v = (await h.get(`/v1/orders/${o.id}`)).body;
            return { state: v.state, awaiting: v.awaiting, amounts: v.amounts, events: v.events.length, updatedAt: v.updatedAt, proposal: v.proposal, lines: v.lines };
          }),
        );
      const before = await snapshot();
      const countsBefore = await h.counts();
      const results = await inParallel(REFUSAL_CELLS, 16, async (c) => ({ c, r: await send(c.who, ROUTES[c.t.name]!, shared.get(c.v)!) }));
      const wrong: string[] = [];
      for (const { c, r } of results) {
        const want = c.outcome as { status: number; code: string };
        if (r.status !== want.status || r.body?.error?.code !== want.code) {
          wrong.push(`${label(c)}: expected ${want.status} ${want.code}, got ${r.status} ${JSON.stringify(r.body?.error ?? r.body)}`);
        }
      }
      expect(wrong).toEqual([]);
      expect(await snapshot()).toEqual(before);
      expect(await h.counts()).toEqual(countsBefore);
    },
    120_000,
  );

  it('refusals say who may act and where (details from the definition)', async () => {
    const o = shared.get('confirmation')!;
    const byCustomer = await h.post(`/v1/orders/${o.id}/mark-done`, {}, { key: keys.customer.key });
    expect(byCustomer.body.error).toMatchObject({ type: 'permission_error', code: 'actor_not_allowed', allowedActors: ['provider', 'operator'] });
    const wrongState = await h.post(`/v1/orders/${o.id}/mark-done`, {}, { key: keys.provider.key });
    expect(wrongState.body.error).toMatchObject({ type: 'conflict_error', code: 'invalid_state_transition', state: 'confirmation', allowedStates: ['execution'] });
  });
});

describe('allowed transitions succeed and land where the definition says', () => {
  it(
    'every allowed (transition, actor, state) cell, each on its own order',
    async () => {
      const results = await inParallel(SUCCESS_CELLS, 8, async (c) => ({ c, o: fresh.get(c)!, r: await send(c.who, ROUTES[c.t.name]!, fresh.get(c)!) }));
      const wrong: string[] = [];
      for (const { c, o, r } of results) {
        if (r.status !== 200) {
          wrong.push(`${label(c)}: expected 200, got ${r.status} ${JSON.stringify(r.body?.error ?? r.body)}`);
          continue;
        }
        const from = STATE_OF[c.v];
        const targets = targetsOf(c.t, from);
        if (!targets.includes(r.body.state)) wrong.push(`${label(c)}: ended in ${r.body.state}, not one of ${targets.join(', ')}`);
        const event = r.body.events.at(-1);
        const actorLabel = c.who === 'operator' ? /^admin:/ : new RegExp(`^${c.who}:${keys[c.who as 'customer' | 'provider'].id}$`);
        if (event?.transition !== c.t.name || event.from !== from || event.to !== r.body.state || !actorLabel.test(event.actor)) {
          wrong.push(`${label(c)}: last event ${JSON.stringify(event)}`);
        }
        if (r.body.id !== o.id) wrong.push(`${label(c)}: answered with another order`);
      }
      expect(wrong).toEqual([]);
      expect((await h.check()).problems).toEqual([]);
    },
    120_000,
  );

  it('create: by the customer, the provider or staff (for a party); foreign keys are refused', async () => {
    const base = await now(h);
    const body = (customerId: string, providerId: string, extra: Record<string, unknown> = {}) => ({
      process: 'booking',
      customerId,
      providerId,
      currency: 'USD',
      lines: [{ description: 'Shoot', quantity: 1, unitAmount: 5_000, startsAt: isoIn(base, 3 * DAY), endsAt: isoIn(base, 3 * DAY + HOUR) }],
      ...extra,
    });
    const mine = body(keys.customer.id, keys.provider.id);
    const byCustomer = await h.post('/v1/orders', mine, { key: keys.customer.key });
    expect(byCustomer.body).toMatchObject({ state: 'confirmation', awaiting: 'provider' });
    const byProvider = await h.post('/v1/orders', mine, { key: keys.provider.key });
    expect(byProvider.body).toMatchObject({ state: 'confirmation', awaiting: 'customer' });
    expect((await h.post('/v1/orders', mine)).body).toMatchObject({ state: 'confirmation', awaiting: 'provider' });
    expect((await h.post('/v1/orders', body(keys.customer.id, keys.provider.id, { onBehalfOf: 'provider' }))).body).toMatchObject({ awaiting: 'customer' });
    for (const r of [byCustomer, byProvider]) expect(r.body.events).toMatchObject([{ transition: 'create', from: null, to: 'confirmation' }]);
    // Another customer's / provider's key cannot book in someone else's name.
    const foreignC = await h.post('/v1/orders', mine, { key: keys.foreignCustomer.key });
    expect([foreignC.status, foreignC.body.error.code]).toEqual([404, 'resource_missing']);
    const foreignP = await h.post('/v1/orders', mine, { key: keys.foreignProvider.key });
    expect([foreignP.status, foreignP.body.error.code]).toEqual([404, 'resource_missing']);
  });
});

describe('cancellation quote: the dry run answers exactly as the cancel would, and changes nothing', () => {
  it('every actor in every state', async () => {
    const cancel = bookingProcess.transitions.find((t) => t.name === 'cancel')!;
    const countsBefore = await h.counts();
    const wrong: string[] = [];
    for (const v of VARIANTS) {
      const o = shared.get(v)!;
      const before = (await h.get(`/v1/orders/${o.id}`)).body;
      for (const who of WHO) {
        const want = expected(cancel, who, v);
        const r = await h.post(`/v1/orders/${o.id}/cancellation-quote`, {}, { key: keyOf(who) });
        if (want.ok) {
          if (r.status !== 200 || r.body.object !== 'cancellation_quote' || r.body.orderStateAfter !== 'cancelled') wrong.push(`${v}/${who}: ${r.status} ${JSON.stringify(r.body)}`);
        } else if (r.status !== want.status || r.body.error?.code !== want.code) {
          wrong.push(`${v}/${who}: expected ${want.status} ${want.code}, got ${r.status} ${JSON.stringify(r.body.error)}`);
        }
      }
      const after = (await h.get(`/v1/orders/${o.id}`)).body;
      expect({ ...after, events: after.events.length }, v).toEqual({ ...before, events: before.events.length });
    }
    expect(wrong).toEqual([]);
    expect(await h.counts()).toEqual(countsBefore);
  });
});

// ---------------------------------------------------------------------------------------
// Every guard the booking process names, refused on purpose (the table above reaches some
// of them; this reaches each one, with its exact status and code).
describe('guard refusals', () => {
  const GUARD_SCENARIOS: Record<GuardName, string> = {
    actor_is_awaited: 'confirm by the party that is not awaited → 409 not_awaited',
    before_start: 'cancel / propose / accept after the start → 409 service_started',
    after_start: '(booking 1.0.0 only: mark done before the first start → 409 service_not_started)',
    open_lines_started: 'mark done while a line is still ahead → 409 service_not_started naming it; cancel it, and then it can',
    lines_selectable: 'cancel an unknown line → 404, an already cancelled one → 409 line_not_open',
    lines_before_start: 'cancel or edit a line that started → 409 service_started; a later line of the same order still can',
    has_open_lines: '(direct process only)',
    customer_may_cancel: 'allowCustomerCancellation false: the customer cannot cancel a paid order → 422 customer_cancellation_not_allowed',
    customer_may_edit: 'allowCustomerEdits false → 422 customer_edits_not_allowed',
    has_pending_proposal: 'accept / decline without a proposal → 409 no_pending_proposal',
    price_not_increased: 'a proposal above the current price → 422 price_increase_not_allowed',
    not_reviewed: 'a second review → 409 already_reviewed',
    within_refundable: 'a refund above the refundable amount → 422 refund_exceeds_refundable',
    within_card_refundable: 'a card refund above what the card can take back → 422 refund_exceeds_refundable; unknown payment → 404',
  };

  it('every guard the booking process uses has a scenario below', () => {
    const used = new Set(bookingProcess.transitions.flatMap((t) => t.guards ?? []));
    for (const g of used) expect(GUARD_SCENARIOS[g], g).toBeDefined();
    expect(Object.keys(GUARD_SCENARIOS).sort()).toEqual(Object.keys(GUARDS).sort());
  });

  const refusedWith = async (r: Promise<Res>, status: number, code: string) => {
    const res = await r;
    expect([res.status, res.body.error?.code], JSON.stringify(res.body)).toEqual([status, code]);
  };

  it('lines: unknown → 404, cancelled → 409 line_not_open; each line is judged by its own start', async () => {
    const o = shared.get('execution_started')!;
    await refusedWith(h.post(`/v1/orders/${o.id}/cancel`, { lineIds: ['li_doesnotexist'] }, { key: keys.customer.key }), 404, 'resource_missing');
    // The first line started an hour ago; the second starts tomorrow and can still go.
    await refusedWith(h.post(`/v1/orders/${o.id}/cancel`, { lineIds: [o.lineIds[0]] }, { key: keys.provider.key }), 409, 'service_started');
    await refusedWith(h.patch(`/v1/orders/${o.id}/lines/${o.lineIds[0]}`, { participantName: 'X' }, { key: keys.customer.key }), 409, 'service_started');
    const edited = await h.patch(`/v1/orders/${o.id}/lines/${o.lineIds[1]}`, { participantName: 'Second Guest' }, { key: keys.customer.key });
    expect(edited.status, JSON.stringify(edited.body)).toBe(200);
    // open_lines_started: not done while the second session is still ahead (it would be paid
    // out undelivered, and the customer could no longer cancel it).
    const early = await h.post(`/v1/orders/${o.id}/mark-done`, {}, { key: keys.provider.key });
    expect([early.status, early.body.error?.code, early.body.error?.lineId], JSON.stringify(early.body)).toEqual([409, 'service_not_started', o.lineIds[1]]);
    const cancelled = await h.post(`/v1/orders/${o.id}/cancel`, { lineIds: [o.lineIds[1]], reason: 'Only day one' }, { key: keys.provider.key });
    expect(cancelled.body).toMatchObject({ state: 'execution', amounts: { refunded: 10_000 } });
    expect(cancelled.body.lines.map((l: { status: string }) => l.status)).toEqual(['open', 'cancelled']);
    await refusedWith(h.post(`/v1/orders/${o.id}/cancel`, { lineIds: [o.lineIds[1]] }, { key: keys.provider.key }), 409, 'line_not_open');
    // Every open line has started now: it can be marked done, and only the open line is.
    const done = await ok(h.post(`/v1/orders/${o.id}/mark-done`, {}, { key: keys.provider.key }), 'mark-done');
    expect(done.body.state).toBe('execution_confirmation');
    expect(done.body.lines.map((l: { status: string }) => l.status)).toEqual(['done', 'cancelled']);
  });

  it('customer_may_cancel / customer_may_edit follow the policies the order was created under', async () => {
    const order = await createBooking(3 * DAY, { allowCustomerCancellation: false, allowCustomerEdits: false });
    expect((await h.patch('/v1/settings', { allowCustomerCancellation: true, allowCustomerEdits: true })).status).toBe(200);
    const id = order.id;
    await refusedWith(h.patch(`/v1/orders/${id}/lines/${order.lineIds[0]}`, { participantName: 'X' }, { key: keys.customer.key }), 409, 'invalid_state_transition');
    await ok(h.post(`/v1/orders/${id}/confirm`, {}, { key: keys.provider.key }), 'confirm');
    await refusedWith(h.patch(`/v1/orders/${id}/lines/${order.lineIds[0]}`, { participantName: 'X' }, { key: keys.customer.key }), 422, 'customer_edits_not_allowed');
    // Staff still may, for the customer.
    await ok(h.patch(`/v1/orders/${id}/lines/${order.lineIds[0]}`, { participantName: 'Staff Edit' }), 'staff edit');
    await ok(h.post(`/v1/orders/${id}/pay`, { paymentMethod: 'pm_card_visa' }, { key: keys.customer.key }), 'pay');
    await refusedWith(h.post(`/v1/orders/${id}/cancel`, { reason: 'x' }, { key: keys.customer.key }), 422, 'customer_cancellation_not_allowed');
    await refusedWith(h.post(`/v1/orders/${id}/cancel`, { lineIds: [order.lineIds[0]] }, { key: keys.customer.key }), 422, 'customer_cancellation_not_allowed');
    await refusedWith(h.post(`/v1/orders/${id}/cancellation-quote`, {}, { key: keys.customer.key }), 422, 'customer_cancellation_not_allowed');
    // An unpaid order can always be withdrawn by the customer.
    const unpaid = await createBooking(3 * DAY, { allowCustomerCancellation: false });
    expect((await h.patch('/v1/settings', { allowCustomerCancellation: true })).status).toBe(200);
    expect((await h.post(`/v1/orders/${unpaid.id}/cancel`, { reason: 'x' }, { key: keys.customer.key })).body.state).toBe('cancelled');
  });

  it('proposals: a higher price is refused; accept/decline need a pending proposal', async () => {
    const o = shared.get('execution')!;
    await refusedWith(h.post(`/v1/orders/${o.id}/proposal`, { lines: [{ id: o.lineIds[0], unitAmount: 10_001 }] }, { key: keys.provider.key }), 422, 'price_increase_not_allowed');
    await refusedWith(h.post(`/v1/orders/${o.id}/proposal/accept`, {}, { key: keys.customer.key }), 409, 'no_pending_proposal');
    await refusedWith(h.post(`/v1/orders/${o.id}/proposal/decline`, {}, { key: keys.customer.key }), 409, 'no_pending_proposal');
    // After the start, a proposal can be declined but not accepted.
    const started = shared.get('execution_started_proposal')!;
    await refusedWith(h.post(`/v1/orders/${started.id}/proposal/accept`, {}, { key: keys.customer.key }), 409, 'service_started');
    await refusedWith(h.post(`/v1/orders/${started.id}/proposal`, { comment: 'x' }, { key: keys.provider.key }), 409, 'service_started');
  });

  it('starts_in_past: customers and providers book and move only what is still ahead; staff may record after the fact; proposal_changed: answer only the proposal seen', async () => {
    const at = await now(h);
    const pastLine = { description: 'Yesterday', quantity: 1, unitAmount: 5_000, startsAt: isoIn(at, -DAY), endsAt: isoIn(at, -DAY + HOUR) };
    const body = { process: 'booking', customerId: keys.customer.id, providerId: keys.provider.id, currency: 'USD', lines: [pastLine] };
    const counts = await h.counts();
    await refusedWith(h.post('/v1/orders', body, { key: keys.customer.key }), 422, 'starts_in_past');
    await refusedWith(h.post('/v1/orders', { ...body, lines: [{ ...pastLine, startsAt: isoIn(at, 0), endsAt: isoIn(at, HOUR) }] }, { key: keys.provider.key }), 422, 'starts_in_past');
    expect(await h.counts()).toEqual(counts);
    const recorded = await h.post('/v1/orders', body);
    expect(recorded.status, JSON.stringify(recorded.body)).toBe(200);
    // Its confirmation window is capped at a start already past: due now, not before its own creation.
    expect(recorded.body.deadline.at).toBe(at.toISOString());
    // Edits and proposals may not move a session into the past either.
    const o = await createBooking(3 * DAY);
    await refusedWith(h.post(`/v1/orders/${o.id}/edit`, { startsAt: isoIn(at, -HOUR) }, { key: keys.customer.key }), 422, 'starts_in_past');
    await ok(h.post(`/v1/orders/${o.id}/confirm`, {}, { key: keys.provider.key }), 'confirm');
    await ok(h.post(`/v1/orders/${o.id}/pay`, { paymentMethod: 'pm_card_visa' }, { key: keys.customer.key }), 'pay');
    await refusedWith(h.post(`/v1/orders/${o.id}/proposal`, { startsAt: isoIn(at, -HOUR) }, { key: keys.provider.key }), 422, 'starts_in_past');
    const first = await ok(h.post(`/v1/orders/${o.id}/proposal`, { startsAt: isoIn(at, 2 * DAY) }, { key: keys.provider.key }), 'propose');
    // The provider replaces the proposal while the customer reads the first one (same second: the clock is frozen).
    const second = await ok(h.post(`/v1/orders/${o.id}/proposal`, { startsAt: isoIn(at, 2 * DAY + HOUR) }, { key: keys.provider.key }), 'propose again');
    const seen = first.body.proposal.id;
    expect(second.body.proposal.proposedAt).toBe(first.body.proposal.proposedAt);
    expect(second.body.proposal.id).not.toBe(seen);
    const before = (await h.get(`/v1/orders/${o.id}`)).body;
    await refusedWith(h.post(`/v1/orders/${o.id}/proposal/accept`, { proposalId: seen }, { key: keys.customer.key }), 409, 'proposal_changed');
    await refusedWith(h.post(`/v1/orders/${o.id}/proposal/decline`, { proposalId: seen }, { key: keys.customer.key }), 409, 'proposal_changed');
    expect((await h.get(`/v1/orders/${o.id}`)).body).toEqual(before);
    const accepted = await ok(h.post(`/v1/orders/${o.id}/proposal/accept`, { proposalId: second.body.proposal.id }, { key: keys.customer.key }), 'accept the one seen');
    expect(accepted.body).toMatchObject({ proposal: null, startsAt: isoIn(at, 2 * DAY + HOUR) });
  });

  it('reviews once; refunds within the refundable amount; card refunds within what the card can take back', async () => {
    const closed = shared.get('closed')!;
    await ok(h.post(`/v1/orders/${closed.id}/reviews`, { rating: 4 }, { key: keys.customer.key }), 'review');
    await refusedWith(h.post(`/v1/orders/${closed.id}/reviews`, { rating: 1 }, { key: keys.customer.key }), 409, 'already_reviewed');
    await refusedWith(h.post(`/v1/orders/${closed.id}/reviews`, { rating: 1 }), 409, 'already_reviewed');

    const held = shared.get('execution_confirmation')!;
    await refusedWith(h.post(`/v1/orders/${held.id}/refunds`, { amount: 20_001, destination: 'account_credit' }), 422, 'refund_exceeds_refundable');
    // Nothing of this order went back to the account, so nothing can go on to the card.
    await refusedWith(h.post(`/v1/orders/${held.id}/payments/${held.cardPaymentId}/refunds`, { amount: 1 }), 422, 'refund_exceeds_refundable');
    await refusedWith(h.post(`/v1/orders/${held.id}/payments/pay_0000000000000000000000000/refunds`, { amount: 1 }), 404, 'resource_missing');
    await ok(h.post(`/v1/orders/${held.id}/refunds`, { amount: 2_000, destination: 'account_credit' }), 'refund');
    await refusedWith(h.post(`/v1/orders/${held.id}/payments/${held.cardPaymentId}/refunds`, { amount: 2_001 }), 422, 'refund_exceeds_refundable');
    const toCard = await ok(h.post(`/v1/orders/${held.id}/payments/${held.cardPaymentId}/refunds`, {}), 'card refund');
    expect(toCard.body.refunds.filter((r: { destination: string }) => r.destination === 'card')).toMatchObject([{ amount: 2_000, status: 'succeeded' }]);
    await refusedWith(h.post(`/v1/orders/${held.id}/refunds`, { amount: 18_001, destination: 'account_credit' }), 422, 'refund_exceeds_refundable');
    expect((await h.check()).problems).toEqual([]);
  });
});
