// The order as the API shows it: state, whom it awaits, the current deadline, lines,
// amounts consistent with the ledger, payments, refunds and the full event history.
import { sql } from 'kysely';
import { normalizeSearchText } from '../../domain/search.js';
import type { Db, Trx } from '../../store/db.js';
import type { RefundView } from '../refund-records.js';
import { loadOrderForView, type LineRow, type OrderExtras, type OrderRecord } from './records.js';
import { refundableNow, totalOf } from './money.js';
import { PAYOUT_DEADLINE } from './engine.js';

export interface OrderView {
  id: string;
  object: 'order';
  number: string;
  process: string;
  processVersion: string;
  state: string;
  awaiting: string | null;
  deadline: { at: string; action: string } | null;
  customerId: string;
  providerId: string;
  siteId: string | null;
  currency: string;
  startsAt: string | null;
  endsAt: string | null;
  comment: string | null;
  lines: ReturnType<typeof lineView>[];
  amounts: { subtotal: number; serviceFee: number; total: number; paid: number; refunded: number; refundable: number };
  /** The provider's payout, once the order ended with something payable. */
  payout: { id: string; amount: number; status: string; dueAt: string; paidAt: string | null } | null;
  payments: { id: string; method: string; amount: number; refunded: number; paymentMethod: string | null; createdAt: string }[];
  refunds: RefundView[];
  proposal: unknown;
  cancellation: unknown;
  claim: unknown;
  review: unknown;
  policies: unknown;
  events?: EventView[];
  createdAt: string;
  updatedAt: string;
  closedAt: string | null;
}

export interface EventView {
  id: string;
  object: 'event';
  type: string;
  orderId: string;
  transition: string | null;
  actor: string;
  from: string | null;
  to: string | null;
  reason: string | null;
  data: unknown;
  createdAt: string;
}

export function lineView(l: LineRow) {
  return {
    id: l.id,
    description: l.description,
    serviceId: l.service_id,
    slotId: l.slot_id,
    quantity: l.quantity,
    unitAmount: Number(l.unit_amount),
    amount: Number(l.amount),
    status: l.status,
    startsAt: l.starts_at?.toISOString() ?? null,
    endsAt: l.ends_at?.toISOString() ?? null,
    participantName: l.participant_name,
    refunded: Number(l.refunded),
  };
}

export type EventRow = { id: string; type: string; order_id: string; transition: string | null; actor: string; from_state: string | null; to_state: string | null; reason: string | null; payload: unknown; created_at: Date };

export function eventView(e: EventRow): EventView {
  return {
    id: e.id,
    object: 'event',
    type: e.type,
    orderId: e.order_id,
    transition: e.transition,
    actor: e.actor,
    from: e.from_state,
    to: e.to_state,
    reason: e.reason,
    data: e.payload,
    createdAt: e.created_at.toISOString(),
  };
}

export async function orderView(db: Db | Trx, orderId: string, opts: { events?: boolean } = { events: true }): Promise<OrderView> {
  const withEvents = opts.events ?? true;
  const rec = await loadOrderForView(db, orderId, { events: withEvents });
  return buildView(rec, rec.extras, withEvents);
}

/** The view of a record and its refunds and events, all in hand (no database work). */
export function buildView(rec: OrderRecord, extras: OrderExtras, withEvents: boolean): OrderView {
  const { order, lines, payments, deadline, payout } = rec;
  const { refunds, events } = extras;
  const cardRefunded = payments.filter((p) => p.method === 'card').reduce((s, p) => s + p.refunded_amount, 0);
  const inAccount = order.refunded - cardRefunded;
  return {
    id: order.id,
    object: 'order',
    number: order.number,
    process: order.process,
    processVersion: order.process_version,
    state: order.state,
    awaiting: order.awaiting,
    deadline: deadline ? { at: deadline.due_at.toISOString(), action: deadline.transition === PAYOUT_DEADLINE ? 'payout' : deadline.transition } : null,
    customerId: order.customer_id,
    providerId: order.provider_id,
    siteId: order.site_id,
    currency: order.currency,
    startsAt: order.starts_at?.toISOString() ?? null,
    endsAt: order.ends_at?.toISOString() ?? null,
    comment: order.comment,
    lines: lines.map(lineView),
    amounts: {
      subtotal: Number(order.subtotal),
      serviceFee: Number(order.service_fee),
      total: totalOf(order),
      paid: order.paid,
      refunded: order.refunded,
      refundable: refundableNow(rec),
    },
    payout: payout ? { id: payout.id, amount: payout.amount, status: payout.status, dueAt: payout.due_at.toISOString(), paidAt: payout.paid_at?.toISOString() ?? null } : null,
    payments: payments.map((p) => ({
      id: p.id,
      method: p.method,
      amount: Number(p.amount),
      // Card: what went back to the card. Account credit: what this order returned to the account.
      refunded: p.method === 'card' ? Number(p.refunded_amount) : Math.max(0, Math.min(Number(p.amount), inAccount)),
      paymentMethod: p.payment_method,
      createdAt: p.created_at.toISOString(),
    })),
    refunds,
    proposal: order.proposal ?? null,
    cancellation: order.cancellation ?? null,
    claim: order.claim ?? null,
    review: order.review ?? null,
    policies: order.policies,
    ...(withEvents ? { events: events.map(eventView) } : {}),
    createdAt: order.created_at.toISOString(),
    updatedAt: order.updated_at.toISOString(),
    closedAt: order.closed_at?.toISOString() ?? null,
  };
}

/** Order search for staff: number, customer name/e-mail, state, party, site — newest first. */
export async function listOrderIds(
  db: Db,
  filter: { state?: string | undefined; customerId?: string | undefined; providerId?: string | undefined; siteId?: string | undefined; process?: string | undefined; q?: string | undefined },
  page: { limit: number; startingAfter?: string | undefined },
): Promise<string[]> {
  let q = db
    .selectFrom('orders as o')
    .innerJoin('customers as c', 'c.id', 'o.customer_id')
    .leftJoin('sites as s', 's.id', 'o.site_id')
    .select('o.id')
    .orderBy('o.id', 'desc')
    .limit(page.limit + 1);
  if (filter.state) q = q.where('o.state', '=', filter.state);
  if (filter.customerId) q = q.where('o.customer_id', '=', filter.customerId);
  if (filter.providerId) q = q.where('o.provider_id', '=', filter.providerId);
  if (filter.siteId) q = q.where('o.site_id', '=', filter.siteId);
  if (filter.process) q = q.where('o.process', '=', filter.process);
  if (filter.q) {
    const escape = (t: string) => t.replace(/[\\%_]/g, (m) => `\\${m}`);
    const like = `%${escape(filter.q.toLowerCase())}%`;
    const siteLike = `%${escape(normalizeSearchText(filter.q))}%`;
    q = q.where((eb) =>
      eb.or([
        eb(sql`lower(o.number)`, 'like', like),
        eb(sql`lower(c.name)`, 'like', like),
        eb(sql`lower(c.email)`, 'like', like),
        eb(sql`s.search_text`, 'like', siteLike),
        eb('o.id', '=', filter.q as string),
      ]),
    );
  }
  if (page.startingAfter) q = q.where('o.id', '<', page.startingAfter);
  return (await q.execute()).map((r) => r.id);
}
