// Reading an order the way its pages need: line statuses with the refund and its reason,
// which lines may still be cancelled, the payment labels of seed 000.
import { money } from '../../lib/format';
import type { CancellationRecord, Line, Order, QuoteLine } from '../../lib/types';

function cancellationRecords(order: Order): CancellationRecord[] {
  const c = order.cancellation;
  if (!c) return [];
  return c.history?.length ? c.history : [c];
}

export function quoteLineOf(order: Order, lineId: string): QuoteLine | null {
  for (const r of [...cancellationRecords(order)].reverse()) {
    const q = r.quote?.lines.find((l) => l.lineId === lineId);
    if (q) return q;
  }
  return null;
}

/** "Cancelled · Refunded $90.00", "Cancelled · no refund, within 24 hours", "Done", "Open". */
export function lineStatusText(order: Order, line: Line): string {
  if (line.status === 'done') return 'Done';
  if (line.status === 'open') return 'Open';
  if (line.refunded > 0) return `Cancelled · Refunded ${money(line.refunded, order.currency)}`;
  const q = quoteLineOf(order, line.id);
  if (q?.rule === 'late_cancellation') {
    const hours = order.policies?.noRefundWithinHours;
    return `Cancelled · no refund, within ${hours ?? '?'} hours`;
  }
  if (q?.rule === 'nothing_paid') return 'Cancelled · nothing was paid';
  if (q?.rule === 'no_refund_policy') return 'Cancelled · no refund (business policy)';
  return 'Cancelled · no refund';
}

/** A seat in a slot (seed 003's sessions): edited and cancelled one by one. */
export function isSession(line: Line): boolean {
  return Boolean(line.slotId);
}

export function paymentLabel(method: string): string {
  return method === 'card' ? 'Paid (Card)' : method === 'account_credit' ? 'Paid (Account credit)' : `Paid (${method})`;
}

/** Lines a party may still cancel one by one, in this state. */
export function lineCancellable(order: Order, line: Line, role: 'admin' | 'customer' | 'provider'): boolean {
  if (line.status !== 'open') return false;
  if (order.process === 'direct') return role === 'admin' && order.state === 'delivery';
  // A prepay order is cancelled whole (its process has no line cancellation).
  if (order.process === 'prepay') return false;
  return order.state === 'payment' || order.state === 'execution';
}

export function openLines(order: Order): Line[] {
  return order.lines.filter((l) => l.status === 'open');
}

/** A line's own start, or the order's for an untimed line. */
function startOf(order: Order, line: Line): string | null {
  return line.startsAt ?? order.startsAt;
}

/** Open lines whose own start is still ahead. */
export function openLinesAhead(order: Order, nowMs: number): Line[] {
  return openLines(order).filter((l) => {
    const startsAt = startOf(order, l);
    return startsAt !== null && Date.parse(startsAt) > nowMs;
  });
}

/** The latest start among `lines` (null when none has one). */
export function latestStart(order: Order, lines: Line[]): string | null {
  let latest: string | null = null;
  for (const l of lines) {
    const startsAt = startOf(order, l);
    if (startsAt && (latest === null || Date.parse(startsAt) > Date.parse(latest))) latest = startsAt;
  }
  return latest;
}

/**
 * Whether "mark done" passes the start rule of the order's booking version (the server's
 * guard decides; this only hides a button that would be refused): from 1.1.0 every open
 * line must have started, under 1.0.0 the order's first start was enough.
 */
export function markDoneReady(order: Order, nowMs: number): boolean {
  if (order.processVersion === '1.0.0') return order.startsAt === null || Date.parse(order.startsAt) <= nowMs;
  return openLinesAhead(order, nowMs).length === 0;
}

/** When "mark done" becomes possible: null when it is already (or no start is known). */
export function markDoneFrom(order: Order, nowMs: number): string | null {
  if (markDoneReady(order, nowMs)) return null;
  return order.processVersion === '1.0.0' ? order.startsAt : latestStart(order, openLinesAhead(order, nowMs));
}

export const CANCELLABLE_STATES: Record<string, string[]> = {
  booking: ['confirmation', 'payment', 'execution'],
  direct: ['payment', 'delivery'],
  // Staff only (the customer cannot cancel a pre-order): before it goes to production.
  prepay: ['payment', 'collection', 'revision', 'batch'],
};

/** What the process calls each state, for the staff's order pages ("Booking", "Prepay order"…). */
export function processLabel(process: string): string {
  return process === 'direct' ? 'Direct order' : process === 'prepay' ? 'Prepay order (picture day)' : process === 'booking' ? 'Booking' : process;
}

// A picture-day order as the parent follows it: what is happening to it now.
const PREPAY_STEPS: Record<string, string> = {
  payment: 'Waiting for your payment',
  collection: 'Paid · photos follow picture day',
  revision: 'Photos being prepared',
  batch: 'Photos ready · going to the lab',
  production: 'In production',
  claim: 'Complaint open',
  closed: 'Closed',
  cancelled: 'Cancelled',
};

/** The state as the customer reads it (prepay orders say where the photos are). */
export function customerStateLabel(order: Order): string | undefined {
  return order.process === 'prepay' ? PREPAY_STEPS[order.state] : undefined;
}

export function canCancelOrder(order: Order): boolean {
  return (CANCELLABLE_STATES[order.process] ?? []).includes(order.state) && openLines(order).length > 0;
}

export function serviceIdsOf(order: Order): string[] {
  return [...new Set(order.lines.map((l) => l.serviceId).filter((x): x is string => Boolean(x)))];
}
