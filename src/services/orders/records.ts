// An order as the engine works on it: the order row, its lines and payments, loaded
// under a row lock; changes are made on this working copy and written back once.
import type { Selectable } from 'kysely';
import type { Db, Trx } from '../../store/db.js';
import { sql } from 'kysely';
import type { OrderEventsTable, OrderLinesTable, OrderPaymentsTable, OrdersTable, RefundsTable } from '../../store/schema.js';
import { refundView, type RefundView } from '../card-refunds.js';

type RefundRow = Selectable<RefundsTable>;
import { notFound } from '../../domain/errors.js';
import type { Settings } from '../../domain/settings.js';

export type OrderRow = Selectable<OrdersTable>;
export type LineRow = Selectable<OrderLinesTable>;
export type PaymentRow = Selectable<OrderPaymentsTable>;

export interface OrderRecord {
  order: OrderRow;
  lines: LineRow[];
  payments: PaymentRow[];
  /** The order's one deadline row (a process deadline or the payout), if any. */
  deadline: { transition: string; due_at: Date } | null;
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
  ...(extras.refunds ? [sql`coalesce((select json_agg(r order by r.id) from refunds r where r.order_id = o.id), '[]')`.as('refunds_json')] : []),
  ...(extras.events ? [sql`coalesce((select json_agg(e order by e.id) from order_events e where e.order_id = o.id), '[]')`.as('events_json')] : []),
];

type LoadedRow = OrderRow & { lines_json: unknown; payments_json: unknown; deadline_json: unknown; refunds_json?: unknown; events_json?: unknown };

/**
 * The order with its lines, payments and deadline. With `lock`, the order row is locked
 * first and the rest read after the lock is granted (a statement's own snapshot would
 * predate a change committed while it waited), so two statements; otherwise one.
 */
export async function loadOrder(db: Db | Trx, orderId: string, opts: { lock?: boolean } = {}): Promise<OrderRecord> {
  if (opts.lock) await lockOrder(db, orderId);
  return toRecord(await selectOrder(db, orderId, { refunds: false, events: false }));
}

/**
 * Several orders, locked in id order (so two batches never deadlock on each other's
 * orders) and then loaded: two statements for any number. Orders that do not exist are
 * simply absent from the map.
 */
export async function loadOrders(trx: Trx, orderIds: string[]): Promise<Map<string, OrderRecord>> {
  const ids = [...new Set(orderIds)].sort();
  await sql`select id from orders where id = any (${ids}::text[]) order by id for update`.execute(trx);
  const rows = await trx
    .selectFrom('orders as o')
    .selectAll('o')
    .select(childrenJson({ refunds: false, events: false }))
    .where(sql<boolean>`o.id = any (${ids}::text[])`)
    .execute();
  return new Map(rows.map((row) => [row.id, toRecord(row as unknown as LoadedRow)]));
}

async function lockOrder(db: Db | Trx, orderId: string): Promise<void> {
  const locked = await db.selectFrom('orders').select('id').where('id', '=', orderId).forUpdate().executeTakeFirst();
  if (!locked) throw notFound('order', orderId);
}

/**
 * The record and what its view needs besides (refunds, events), in one statement; with
 * `lock`, after locking the order (for a transition that answers with the view).
 */
export async function loadOrderForView(
  db: Db | Trx,
  orderId: string,
  opts: { lock?: boolean; events: boolean },
): Promise<OrderRecord & { extras: OrderExtras }> {
  if (opts.lock) await lockOrder(db, orderId);
  const row = await selectOrder(db, orderId, { refunds: true, events: opts.events });
  return {
    ...toRecord(row),
    extras: { refunds: revive<RefundRow>(row.refunds_json, REFUND_TIMES).map(refundView), events: revive(row.events_json, EVENT_TIMES) },
  };
}

async function selectOrder(db: Db | Trx, orderId: string, extras: { refunds: boolean; events: boolean }): Promise<LoadedRow> {
  const row = await db
    .selectFrom('orders as o')
    .selectAll('o')
    .select(childrenJson(extras))
    .where('o.id', '=', orderId)
    .executeTakeFirst();
  if (!row) throw notFound('order', orderId);
  return row as unknown as LoadedRow;
}

function toRecord(row: LoadedRow): OrderRecord {
  const { lines_json, payments_json, deadline_json, refunds_json: _r, events_json: _e, ...order } = row;
  const deadline = (typeof deadline_json === 'string' ? JSON.parse(deadline_json) : deadline_json) as { transition: string; due_at: string } | null;
  return {
    order: { ...(order as OrderRow), paid: Number(order.paid), refunded: Number(order.refunded) },
    lines: revive<LineRow>(lines_json, LINE_TIMES),
    payments: revive<PaymentRow>(payments_json, PAYMENT_TIMES),
    deadline: deadline ? { transition: deadline.transition, due_at: new Date(deadline.due_at) } : null,
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
