// Direct orders in the simulation (SPEC "The direct process", see sim.ts): creating them
// (staff only, some on a site of the customer) and the checks after a direct transition.
import { HOUR, iso, type ActionName, type OrderRef, type Party, type Service } from './actions.js';
import type { Rng } from './rng.js';
import { fail, outcome, type Res, type SimOptions, type World } from './world.js';

/** What direct orders need from the simulation. */
export interface DirectContext {
  readonly rng: Rng;
  readonly world: World;
  readonly options: SimOptions;
  readonly now: Date;
  readonly admin: Party;
  readonly customers: readonly Party[];
  readonly providers: readonly Party[];
  readonly services: readonly Service[];
  readonly sites: { id: string; customer: number }[];
  readonly orders: OrderRef[];
  readonly orderIndex: Map<string, number>;
  readonly subNotes: string[];
  readonly defaultRefundDestination: 'account_credit' | 'card';
  send(what: string, method: 'POST' | 'PATCH', path: string, body: unknown, key: string): Promise<Res>;
  get(path: string): Promise<Res>;
  note(line: string): void;
}

/** A site of the customer (made the first time it is needed, sometimes a new one). */
async function siteOf(sim: DirectContext, customer: number): Promise<string | null> {
  const own = sim.sites.filter((s) => s.customer === customer);
  if (own.length && sim.rng.chance(0.7)) return sim.rng.pick(own).id;
  const address = `${sim.rng.int(1, 999)} ${sim.rng.pick(['Elm Street', 'Harbour View', 'Ocean Drive', 'Rue de l’Église'])}, Sim ${sim.options.seed}`;
  const res = await sim.send('create site', 'POST', '/v1/sites', { address, customerId: sim.customers[customer]!.id }, sim.world.adminKey);
  sim.subNotes.push(`site for c${customer} → ${outcome(res)}`);
  if (res.status !== 200) fail(`create site: ${outcome(res)}`);
  sim.sites.push({ id: res.body.id, customer });
  return res.body.id as string;
}

/**
 * A direct order (SPEC "The direct process"): staff create it, optionally on a site of
 * the customer; customers and providers may not (a clean refusal that changes nothing).
 * Lines are free (with or without a time), priced by a service, or take a slot's seat.
 */
export async function createDirectOrder(sim: DirectContext): Promise<void> {
  const rng = sim.rng;
  const customer = rng.int(0, sim.customers.length - 1);
  const provider = rng.int(0, sim.providers.length - 1);
  const who = rng.weighted({ admin: 80, customer: 10, provider: 10 });
  const now = sim.now.getTime();
  const services = sim.services.filter((s) => s.provider === provider);
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
      lines.push({ description: 'Visit', quantity: 1, unitAmount: rng.pick([2_500, 9_000]), startsAt: iso(start), endsAt: iso(start + rng.pick([1, 2]) * HOUR) });
    } else if (kind === 'service') {
      lines.push({ serviceId: rng.pick(services).id, quantity: rng.chance(0.8) ? 1 : 2 });
    } else {
      lines.push({ slotId: rng.pick(futureSlots).id, quantity: 1, participantName: `Guest ${rng.int(1, 99)}` });
    }
  }
  const shape = kinds.join('+');
  const broken = rng.weighted({ none: 84, negative: 3, no_lines: 3, bad_currency: 2, other_site: sim.customers.length > 1 ? 4 : 0, unknown_site: 2, unknown_customer: 2 });
  let customerId = sim.customers[customer]!.id;
  let currency = 'USD';
  let siteId: string | null = null;
  if (broken === 'negative') lines[0] = { description: 'x', quantity: 1, unitAmount: -5 };
  if (broken === 'no_lines') lines.length = 0;
  if (broken === 'bad_currency') currency = kinds.every((k) => k === 'free' || k === 'timed') ? 'XXX' : 'EUR';
  if (broken === 'unknown_customer') customerId = 'cus_00000000000000000000000000';
  if (broken === 'other_site') siteId = await siteOf(sim, (customer + 1) % sim.customers.length);
  else if (broken === 'unknown_site') siteId = 'site_00000000000000000000000000';
  else if (rng.chance(0.3)) siteId = await siteOf(sim, customer);
  const party = who === 'customer' ? sim.customers[customer]! : who === 'provider' ? sim.providers[provider]! : sim.admin;
  const body: Record<string, unknown> = { process: 'direct', customerId, providerId: sim.providers[provider]!.id, currency, lines, ...(siteId ? { siteId } : {}) };
  const res = await sim.send('create direct order', 'POST', '/v1/orders', body, party.key);
  const label = `o${sim.orders.length}`;
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
    const ref: OrderRef = { id: o.id, label, customer: sim.customers.findIndex((c) => c.id === o.customerId), provider, process: 'direct' };
    if (ref.customer !== customer) fail(`create direct order: made for another customer`);
    sim.orders.push(ref);
    sim.orderIndex.set(ref.id, sim.orders.length - 1);
    sim.note(`create ${label} ${what} → ${outcome(res)} total ${o.amounts.total}`);
  } else {
    if (who === 'admin' && broken === 'none' && res.body?.error?.code !== 'slot_full') fail(`create direct order (valid, ${shape}) refused: ${outcome(res)} ${res.body?.error?.message}`);
    // The lines are checked before the actor: a past line may be refused first (starts_in_past).
    const pastFirst = startsInPast && res.status === 422 && res.body?.error?.code === 'starts_in_past';
    if (who !== 'admin' && broken === 'none' && res.status !== 403 && !pastFirst) fail(`a ${who} creating a direct order: expected 403, got ${outcome(res)}`);
    if (broken === 'other_site' && who === 'admin' && res.body?.error?.code !== 'site_of_other_customer') fail(`a direct order on another customer's site: expected site_of_other_customer, got ${outcome(res)}`);
    sim.note(`create ${what} → ${outcome(res)}`);
  }
}

/** The customer's account credit in USD. */
export async function credit(sim: DirectContext, customer: number): Promise<number> {
  const res = await sim.get(`/v1/customers/${sim.customers[customer]!.id}`);
  if (res.status !== 200) fail(`GET customer c${customer}: ${outcome(res)}`);
  return Number(res.body.balances?.USD ?? 0);
}

/**
 * Checks for a direct order's transition that succeeded, against the order before it:
 * line_done marks exactly that line, the order closes when no line is open; a
 * cancellation cancels exactly the lines it names (or every undone one), refunds staff's
 * full amount of each (the fee only when the order ends fully refunded), to account
 * credit unless told otherwise; nothing here may touch a line it did not name.
 */
export async function afterDirectSuccess(sim: DirectContext, action: ActionName, ref: OrderRef, before: any, after: any, request: { path: string; body: Record<string, unknown> }, head: string, creditBefore: number | null): Promise<void> {
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
    const destination = (request.body.refundDestination as string | undefined) ?? sim.defaultRefundDestination;
    if (destination === 'account_credit') {
      if (fresh.some((r) => r.destination !== 'account_credit')) fail(`${head}: refunds to ${fresh.map((r) => r.destination).join(',')}, expected account credit`);
      const arrived = (await credit(sim, ref.customer)) - (creditBefore ?? 0);
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

