// What the simulation knows and does (see sim.ts): the parties, services and orders it made
// (by creation index, never by id, so a replay is identical), the actions it takes in each
// state and who normally takes them, and the requests they become.
import { isDeepStrictEqual } from 'node:util';
import type { Rng } from './rng.js';
import type { Res } from './world.js';


export interface Party {
  id: string;
  key: string;
  label: string;
}

export interface Slot {
  id: string;
  startsAt: Date;
  endsAt: Date;
  capacity: number;
}

export interface Service {
  id: string;
  provider: number;
  unitAmount: number;
  slots: Slot[];
}

export type ProcessName = 'booking' | 'direct' | 'prepay';

export interface OrderRef {
  id: string;
  label: string;
  customer: number;
  provider: number;
  process: ProcessName;
  /** Prepay orders: the job and the subject (by index in the job's names list) they were pre-ordered for. */
  job?: number;
  subject?: number;
}

export interface Sent {
  method: 'POST' | 'PATCH';
  path: string;
  body: unknown;
  key: string;
  idem: string;
  res: Res;
}

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;
export const OK_REFUSALS = new Set([400, 402, 403, 404, 409, 422]);
/** Refusals that the idempotency layer stores (and so replays byte for byte). */
export const STORED_REFUSALS = new Set([400, 402, 404, 422]);
export const DEADLINE_OF_STATE: Record<string, string | undefined> = {
  confirmation: 'expire_confirmation',
  payment: 'expire_payment',
  execution: 'auto_done',
  execution_confirmation: 'auto_close',
};
export const TERMINAL = new Set(['closed', 'cancelled']);
export const PAYMENT_METHODS = { visa: 'pm_card_visa', refund_fails: 'pm_card_refund_fails', declined: 'pm_card_declined', bogus: 'pm_bogus' } as const;
export const TIME_ZONES = ['UTC', 'Europe/Berlin', 'America/Los_Angeles', 'Asia/Tokyo', 'Pacific/Kiritimati'] as const;
export const START = '2040-01-06T08:00:00.000Z';

export type ActionName =
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
export const PLAUSIBLE: Record<string, ActionName[]> = {
  confirmation: ['confirm', 'confirm', 'confirm', 'confirm', 'confirm', 'edit', 'edit', 'cancel', 'quote_then_cancel'],
  payment: ['pay', 'pay', 'pay', 'pay', 'pay', 'pay', 'cancel', 'cancel_lines', 'quote_then_cancel', 'edit_line'],
  execution: ['mark_done', 'mark_done', 'mark_done', 'propose', 'propose', 'accept', 'accept', 'decline', 'cancel', 'cancel_lines', 'quote_then_cancel', 'edit_line', 'refund', 'refund_to_card'],
  execution_confirmation: ['confirm_execution', 'confirm_execution', 'confirm_execution', 'claim', 'claim', 'refund', 'refund_to_card'],
  claim: ['resolve', 'resolve', 'resolve', 'refund'],
  closed: ['review', 'review', 'refund', 'refund_to_card', 'retry_refund'],
  cancelled: ['refund', 'refund_to_card', 'retry_refund'],
};
/** The direct process (SPEC "The direct process"): staff-run, paid up front, lines delivered one by one. */
export const PLAUSIBLE_DIRECT: Record<string, ActionName[]> = {
  payment: ['pay', 'pay', 'pay', 'pay', 'pay', 'pay', 'cancel'],
  delivery: ['line_done', 'line_done', 'line_done', 'line_done', 'line_done', 'cancel_lines', 'cancel_lines', 'cancel', 'refund_to_card', 'refund', 'quote_then_cancel'],
  closed: ['refund', 'refund_to_card', 'retry_refund'],
  cancelled: ['refund', 'refund_to_card', 'retry_refund'],
};
export const DIRECT_STATES = new Set(['payment', 'delivery', 'closed', 'cancelled']);
/**
 * The prepay process (seed 002, see prepay.ts): paid up front, then the job's steps —
 * photos uploaded, populated, placed (into the batch, or manual revision first), the batch
 * released — and the order's own end: confirmed, complained about, or closed by itself.
 * Staff cancel before production. Customers never cancel (a clean 403).
 */
export const PLAUSIBLE_PREPAY: Record<string, PrepayAction[]> = {
  payment: ['pay', 'pay', 'pay', 'pay', 'pay', 'pay', 'pay', 'pay', 'pay', 'pay', 'quote_then_cancel'],
  collection: [
    'upload', 'upload', 'upload', 'populate', 'populate', 'populate', 'populate', 'populate', 'place', 'place', 'place', 'place', 'place',
    'set_photos', 'set_photos', 'cancel', 'refund', 'refund_to_card',
  ],
  revision: ['set_photos', 'set_photos', 'release_revision', 'release_revision', 'release_revision', 'release_revision', 'release_revision', 'release_revision', 'quote_then_cancel', 'refund'],
  batch: ['release_batch', 'release_batch', 'release_batch', 'release_batch', 'batch_deadline', 'batch_deadline', 'batch_deadline', 'cancel', 'refund', 'set_photos'],
  production: ['confirm_execution', 'confirm_execution', 'confirm_execution', 'claim', 'claim', 'refund', 'refund_to_card'],
  claim: ['resolve', 'resolve', 'resolve', 'refund'],
  closed: ['refund', 'refund_to_card', 'retry_refund', 'review'],
  cancelled: ['refund', 'refund_to_card', 'retry_refund', 'release_batch'],
};
export const PREPAY_STATES = new Set(Object.keys(PLAUSIBLE_PREPAY));
/** The deadline each prepay state needs (the batch's own deadline is the job's, not the order's). */
export const DEADLINE_OF_PREPAY_STATE: Record<string, string | undefined> = {
  payment: 'expire_payment',
  production: 'auto_close',
};
/** What staff do to a prepay order through its job (services/jobs), not through /v1/orders. */
export type JobAction = 'upload' | 'populate' | 'place' | 'set_photos' | 'release_revision' | 'release_batch' | 'batch_deadline';
export type PrepayAction = ActionName | JobAction;
export const JOB_ACTIONS: JobAction[] = ['upload', 'populate', 'place', 'set_photos', 'release_revision', 'release_batch', 'batch_deadline'];
export function isJobAction(action: string): action is JobAction {
  return (JOB_ACTIONS as string[]).includes(action);
}
export const ALL_ACTIONS: ActionName[] = [
  'confirm', 'edit', 'propose', 'accept', 'decline', 'pay', 'mark_done', 'confirm_execution', 'claim', 'resolve',
  'review', 'cancel', 'cancel_lines', 'quote_then_cancel', 'refund', 'refund_to_card', 'edit_line', 'line_done', 'retry_refund',
];

/** Whether the action has something to act on (a proposal to accept, a card to refund to…). */
export function feasible(action: ActionName, order: any): boolean {
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

export type Who = 'customer' | 'provider' | 'admin' | 'stranger_customer' | 'stranger_provider';

/** Who would normally take the action (the simulation mostly asks them, sometimes others). */
export function naturalActor(action: PrepayAction, order: any, rng: Rng): Who {
  if (isJobAction(action)) return rng.chance(0.92) ? 'admin' : rng.pick(['customer', 'provider'] as const);
  if (order.process === 'prepay') {
    // Staff (and the provider) run the job; the customer pays, confirms or complains.
    switch (action) {
      case 'cancel':
      case 'quote_then_cancel':
        return rng.weighted({ admin: 60, provider: 30, customer: 10 });
      case 'resolve':
        return 'admin';
      default:
        break;
    }
  }
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

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** `ms` relative to `now`, in hours (for the trace). */
export function rel(ms: number, now: Date): string {
  const h = (ms - now.getTime()) / HOUR;
  return `${h >= 0 ? '+' : ''}${Math.round(h * 10) / 10}h`;
}

/** What building a request needs from the simulation. */
export interface RequestContext {
  readonly rng: Rng;
  readonly now: Date;
  readonly services: readonly Service[];
}

/** The request the action becomes for the order, with a summary for the trace. */
export function buildRequest(sim: RequestContext, action: ActionName, order: any, ref: OrderRef): { method: 'POST' | 'PATCH'; path: string; body: Record<string, unknown>; summary: string } {
  const rng = sim.rng;
  const base = `/v1/orders/${ref.id}`;
  const lines = order.lines as any[];
  const open = lines.filter((l) => l.status === 'open');
  const anyLine = () => (open.length && rng.chance(0.9) ? rng.pick(open) : rng.pick(lines));
  const pos = (l: any) => `L${lines.indexOf(l)}`;
  const refundable = order.amounts.refundable as number;
  const now = sim.now.getTime();
  const post = (path: string, body: Record<string, unknown>, summary = '') => ({ method: 'POST' as const, path: `${base}/${path}`, body, summary });
  switch (action) {
    case 'confirm':
      return post('confirm', {});
    case 'edit': {
      const v = rng.weighted({ time: 35, price: 30, quantity: 10, comment: 10, slot: 10, past: 5 });
      if (v === 'time' || v === 'past') {
        const t = v === 'past' ? now - rng.int(1, 48) * HOUR : now + rng.int(1, 12 * 24) * HOUR;
        return post('edit', { startsAt: iso(t), comment: 'new time' }, `${v} ${rel(t, sim.now)}`);
      }
      if (v === 'price' || v === 'quantity') {
        const l = anyLine();
        const change = v === 'price' ? { unitAmount: rng.pick([0, 800, 5_000, 9_999, 30_000]) } : { quantity: rng.int(1, 3) };
        return post('edit', { lines: [{ id: l.id, ...change }] }, `${pos(l)} ${JSON.stringify(change)}`);
      }
      if (v === 'slot') {
        const l = anyLine();
        const slot = someSlot(sim, l);
        return post('edit', { lines: [{ id: l.id, slotId: slot }] }, `${pos(l)} slot`);
      }
      return post('edit', { comment: `c${rng.int(1, 9)}` }, 'comment');
    }
    case 'propose': {
      const v = rng.weighted({ lower: 40, higher: 15, time: 25, empty: 5, quantity: 10, slot: 10 });
      const l = anyLine();
      if (v === 'slot') return post('proposal', { lines: [{ id: l.id, slotId: someSlot(sim, l) }] }, `${pos(l)} slot`);
      if (v === 'lower' || v === 'higher') {
        const unitAmount = v === 'lower' ? Math.floor(l.unitAmount * rng.pick([0, 0.5, 0.9])) : l.unitAmount + rng.int(1, 5_000);
        return post('proposal', { lines: [{ id: l.id, unitAmount }], comment: 'proposal' }, `${pos(l)} ${v} ${unitAmount}`);
      }
      if (v === 'quantity') return post('proposal', { lines: [{ id: l.id, quantity: rng.int(1, 3) }] }, `${pos(l)} quantity`);
      if (v === 'time') {
        const t = now + rng.int(-2, 10 * 24) * HOUR;
        return post('proposal', { startsAt: iso(t) }, `time ${rel(t, sim.now)}`);
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
      if (action === 'quote_then_cancel' && open.length > 1 && rng.chance(order.process === 'prepay' ? 0.1 : 0.5)) body.lineIds = rng.subset(open).map((l) => l.id);
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
        v === 'participant' ? { participantName: `Guest ${rng.int(1, 99)}` } : v === 'slot' ? { slotId: someSlot(sim, l) } : { startsAt: iso(now + rng.int(-3, 200) * HOUR) };
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
function someSlot(sim: RequestContext, line: any): string {
  const service = sim.services.find((s) => s.id === line.serviceId);
  const pool = service && sim.rng.chance(0.85) ? service.slots : sim.services.flatMap((s) => s.slots);
  return pool.length ? sim.rng.pick(pool).id : 'slot_00000000000000000000000000';
}

/** A valid request body that differs from `body` (for the same-key-other-body check). */
export function otherBody(body: unknown): Record<string, unknown> {
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

/** Where two JSON values first differ, for a failure message. */
export function firstDifference(a: unknown, b: unknown, path = ''): string {
  if (isDeepStrictEqual(a, b)) return '';
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
      const d = firstDifference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`);
      if (d) return d;
    }
  }
  return `${path || '(root)'}: answer ${JSON.stringify(a)?.slice(0, 300)} / read ${JSON.stringify(b)?.slice(0, 300)}`;
}
