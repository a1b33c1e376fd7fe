// An order as the engine works on it: the order row, its lines and payments, loaded
// under a row lock; changes are made on this working copy and written back once.
import type { Selectable } from 'kysely';
import type { Db, Trx } from '../../store/db.js';
import { sql } from 'kysely';
import type { OrderEventsTable, OrderLinesTable, OrderPaymentsTable, OrdersTable } from '../../store/schema.js';
import { refundView, type RefundRow, type RefundView } from '../refund-records.js';
import { notFound } from '../../domain/errors.js';
import type { Settings } from '../../domain/settings.js';

export type OrderRow = Selectable<OrdersTable>;
export type LineRow = Selectable<OrderLinesTable>;
export type PaymentRow = Selectable<OrderPaymentsTable>;

/** The pseudo-transition of a payout due after close; it lives in the order's one deadline slot. */
export const PAYOUT_DEADLINE = '@payout';

export interface OrderRecord {
  order: OrderRow;
  lines: LineRow[];
  payments: PaymentRow[];
  /** The order's one deadline row (a process deadline or the payout), if any. */
  deadline: { transition: string; due_at: Date } | null;
  /** The provider's payout for the order, once it ended with something payable. */
  payout: PayoutSummary | null;
}

export interface PayoutSummary {
  id: string;
  /** What is still to be paid (scheduled), or was paid; 0 once refunded in full. */
  amount: number;
  status: 'scheduled' | 'paid' | 'cancelled';
  due_at: Date;
  paid_at: Date | null;
}

/** What the order view needs beyond the record. */
export interface OrderExtras {
  refunds: RefundView[];
  events: Selectable<OrderEventsTable>[];
}

// Child rows come back as JSON (one round trip for the whole order); these revive the
// columns JSON cannot carry as they are (timestamps).
const LINE_TIMES = ['starts_at', 'ends_at', 'done_at', 'cancelled_at'] as const;
const PAYMENT_TIMES = ['created_at'] as const;
const REFUND_TIMES = ['created_at', 'updated_at'] as const;
const EVENT_TIMES = ['created_at'] as const;

function revive<T>(rows: unknown, times: readonly string[]): T[] {
  const list = (typeof rows === 'string' ? JSON.parse(rows) : rows ?? []) as Record<string, unknown>[];
  for (const row of list) {
    for (const k of times) if (typeof row[k] === 'string') row[k] = new Date(row[k] as string);
  }
  return list as T[];
}

const childrenJson = (extras: { refunds: boolean; events: boolean }) => [
  sql`coalesce((select json_agg(l order by l.position) from order_lines l where l.order_id = o.id), '[]')`.as('lines_json'),
  sql`coalesce((select json_agg(p order by p.id) from order_payments p where p.order_id = o.id), '[]')`.as('payments_json'),
  sql`(select json_build_object('transition', d.transition, 'due_at', d.due_at) from deadlines d where d.order_id = o.id)`.as('deadline_json'),
  sql`(select json_build_object('id', p.id, 'amount', p.amount, 'status', p.status, 'due_at', p.due_at, 'paid_at', p.paid_at) from payouts p where p.order_id = o.id)`.as('payout_json'),
  ...(extras.refunds ? [sql`coalesce((select json_agg(r order by r.id) from refunds r where r.order_id = o.id), '[]')`.as('refunds_json')] : []),
  ...(extras.events ? [sql`coalesce((select json_agg(e order by e.id) from order_events e where e.order_id = o.id), '[]')`.as('events_json')] : []),
];

type LoadedRow = OrderRow & {
  lines_json: unknown;
  payments_json: unknown;
  deadline_json: unknown;
  payout_json: unknown;
  refunds_json?: unknown;
  events_json?: unknown;
  locked_version?: string;
  read_version?: string;
};
type Extras = { refunds: boolean; events: boolean };

/**
 * Locking and reading in one statement, and knowing whether that read is current. A
 * `SELECT … FOR UPDATE` that finds the order changed by a transaction that committed after
 * the statement began (it waited for that lock, or met the new version) returns the
 * order's newest row, but its subqueries — the lines, payments, deadline — still read the
 * statement's older snapshot. Every change to those rows also gives the order row a new
 * version (the rule in order-version.ts), so comparing the locked row's version (xmin)
 * with the one the snapshot sees tells the two cases apart; when they differ the order is
 * read again, now under the lock, by a statement whose snapshot includes that change.
 */
const versions = [sql<string>`o.xmin::text`.as('locked_version'), sql<string>`(select v.xmin::text from orders v where v.id = o.id)`.as('read_version')];

function isCurrent(row: LoadedRow): boolean {
  return row.locked_version === row.read_version;
}

function orderQuery(db: Db | Trx, extras: Extras) {
  return db.selectFrom('orders as o').selectAll('o').select(childrenJson(extras));
}

/** One order read; with `lock`, locked and read in one statement (a second only if it had to wait for a change). */
async function readOrder(db: Db | Trx, orderId: string, extras: Extras, lock: boolean): Promise<LoadedRow> {
  const q = orderQuery(db, extras).where('o.id', '=', orderId);
  const row = (lock ? await q.select(versions).forUpdate().executeTakeFirst() : await q.executeTakeFirst()) as LoadedRow | undefined;
  if (!row) throw notFound('order', orderId);
  if (!lock || isCurrent(row)) return row;
  return (await orderQuery(db, extras).where('o.id', '=', orderId).executeTakeFirstOrThrow()) as unknown as LoadedRow;
}

/** The order with its lines, payments and deadline; with `lock`, under the order's row lock. */
export async function loadOrder(db: Db | Trx, orderId: string, opts: { lock?: boolean } = {}): Promise<OrderRecord> {
  return toRecord(await readOrder(db, orderId, { refunds: false, events: false }, opts.lock ?? false));
}

/**
 * Several orders, locked in id order (so two batches never deadlock on each other's
 * orders) and read in one statement (plus one for any that had to wait for a change).
 * Orders that do not exist are simply absent from the map.
 */
export async function loadOrders(trx: Trx, orderIds: string[]): Promise<Map<string, OrderRecord>> {
  const ids = [...new Set(orderIds)].sort();
  const anyOf = (list: string[]) => sql<boolean>`o.id = any (${list}::text[])`;
  const extras = { refunds: false, events: false };
  const rows = (await orderQuery(trx, extras).select(versions).where(anyOf(ids)).orderBy('o.id').forUpdate().execute()) as unknown as LoadedRow[];
  const stale = rows.filter((r) => !isCurrent(r)).map((r) => r.id);
  const fresh = stale.length ? ((await orderQuery(trx, extras).where(anyOf(stale)).execute()) as unknown as LoadedRow[]) : [];
  const byId = new Map<string, OrderRecord>();
  for (const row of [...rows.filter(isCurrent), ...fresh]) byId.set(row.id, toRecord(row));
  return byId;
}

/**
 * The record and what its view needs besides (refunds, events), in one statement; with
 * `lock`, under the order's row lock (for a transition that answers with the view).
 */
export async function loadOrderForView(
  db: Db | Trx,
  orderId: string,
  opts: { lock?: boolean; events: boolean },
): Promise<OrderRecord & { extras: OrderExtras }> {
  const row = await readOrder(db, orderId, { refunds: true, events: opts.events }, opts.lock ?? false);
  return {
    ...toRecord(row),
    extras: { refunds: revive<RefundRow>(row.refunds_json, REFUND_TIMES).map(refundView), events: revive(row.events_json, EVENT_TIMES) },
  };
}

function toRecord(row: LoadedRow): OrderRecord {
  const { lines_json, payments_json, deadline_json, payout_json, refunds_json: _r, events_json: _e, locked_version: _l, read_version: _v, ...order } = row;
  const deadline = (typeof deadline_json === 'string' ? JSON.parse(deadline_json) : deadline_json) as { transition: string; due_at: string } | null;
  const payout = (typeof payout_json === 'string' ? JSON.parse(payout_json) : payout_json) as (Omit<PayoutSummary, 'due_at' | 'paid_at'> & { due_at: string; paid_at: string | null }) | null;
  return {
    order: { ...(order as OrderRow), paid: Number(order.paid), refunded: Number(order.refunded) },
    lines: revive<LineRow>(lines_json, LINE_TIMES),
    payments: revive<PaymentRow>(payments_json, PAYMENT_TIMES),
    deadline: deadline ? { transition: deadline.transition, due_at: new Date(deadline.due_at) } : null,
    payout: payout ? { ...payout, amount: Number(payout.amount), due_at: new Date(payout.due_at), paid_at: payout.paid_at ? new Date(payout.paid_at) : null } : null,
  };
}

export function policiesOf(order: OrderRow): Settings {
  return order.policies as Settings;
}

/** The service time of an order: from its earliest line start to its latest line end. */
export function serviceTimes(lines: LineRow[]): { startsAt: Date | null; endsAt: Date | null } {
  const live = lines.filter((l) => l.status !== 'cancelled');
  const pool = live.length ? live : lines;
  const starts = pool.map((l) => l.starts_at).filter((d): d is Date => d !== null);
  const ends = pool.map((l) => l.ends_at).filter((d): d is Date => d !== null);
  return {
    startsAt: starts.length ? new Date(Math.min(...starts.map((d) => d.getTime()))) : null,
    endsAt: ends.length ? new Date(Math.max(...ends.map((d) => d.getTime()))) : null,
  };
}
