// An order as the engine works on it: the order row, its lines and payments, loaded
// under a row lock; changes are made on this working copy and written back once.
import type { Selectable } from 'kysely';
import type { Db, Trx } from '../../store/db.js';
import type { OrderLinesTable, OrderPaymentsTable, OrdersTable } from '../../store/schema.js';
import { notFound } from '../../domain/errors.js';
import type { Settings } from '../../domain/settings.js';

export type OrderRow = Selectable<OrdersTable>;
export type LineRow = Selectable<OrderLinesTable>;
export type PaymentRow = Selectable<OrderPaymentsTable>;

export interface OrderRecord {
  order: OrderRow;
  lines: LineRow[];
  payments: PaymentRow[];
}

export async function loadOrder(db: Db | Trx, orderId: string, opts: { lock?: boolean } = {}): Promise<OrderRecord> {
  let q = db.selectFrom('orders').selectAll().where('id', '=', orderId);
  if (opts.lock) q = q.forUpdate();
  const order = await q.executeTakeFirst();
  if (!order) throw notFound('order', orderId);
  const [lines, payments] = await Promise.all([
    db.selectFrom('order_lines').selectAll().where('order_id', '=', orderId).orderBy('position').execute(),
    db.selectFrom('order_payments').selectAll().where('order_id', '=', orderId).orderBy('id').execute(),
  ]);
  return { order: { ...order, paid: Number(order.paid), refunded: Number(order.refunded) }, lines, payments };
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

/** Writes the working copy's order row back (lines and payments are written as they change). */
export async function saveOrder(trx: Trx, order: OrderRow): Promise<void> {
  await trx
    .updateTable('orders')
    .set({
      state: order.state,
      awaiting: order.awaiting,
      starts_at: order.starts_at,
      ends_at: order.ends_at,
      subtotal: order.subtotal,
      service_fee: order.service_fee,
      paid: order.paid,
      refunded: order.refunded,
      service_fee_refunded: order.service_fee_refunded,
      comment: order.comment,
      proposal: jsonOrNull(order.proposal),
      cancellation: jsonOrNull(order.cancellation),
      claim: jsonOrNull(order.claim),
      review: jsonOrNull(order.review),
      last_edit_by: order.last_edit_by,
      last_edit_at: order.last_edit_at,
      entered_state_at: order.entered_state_at,
      closed_at: order.closed_at,
      updated_at: order.updated_at,
    })
    .where('id', '=', order.id)
    .execute();
}

export function jsonOrNull(value: unknown): string | null {
  return value === null || value === undefined ? null : JSON.stringify(value);
}
