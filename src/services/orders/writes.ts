// Writing transitions back: the order rows, the lines whose status changed, the events
// (history and outbox), the payouts scheduled and each order's next deadline, for one transition or for a whole
// batch of deadline firings, in one statement. The rows travel as JSON arrays
// (jsonb_populate_recordset), so the statement text does not depend on how many orders it
// writes, only on which kinds of rows there are: a few prepared statements in all.
//
// The updates and the delete join on `id >= x.id and id <= x.id`, not `id = x.id`, on purpose: equality
// lets the planner hash-join the record set (it guesses 100 rows) against a scan of the
// whole table, and a prepared statement keeps the plan it chose while the table was small
// — measured: every transition seq-scanned orders, order_lines or deadlines, its cost growing with
// the tables. A range join cannot be hashed, so each row is found by its primary key.
import { sql, type RawBuilder } from 'kysely';
import { IdempotencyKeyTaken } from '../../domain/errors.js';
import type { Trx } from '../../store/db.js';
import { lastStatementMark } from '../../store/pipeline-marks.js';
import { refusedCode } from '../../store/refuse.js';
import type { LineRow, OrderRow } from './records.js';
import type { EventRow } from './views.js';

export interface TransitionWrite {
  order: OrderRow;
  event: EventRow;
  /** The order's deadline from now on; null removes it. */
  deadline: { transition: string; at: Date } | null;
  /** Lines the transition changed (status, done_at, cancelled_at and refunded are written). */
  lines: LineRow[];
  /** Payouts the transition scheduled (inserted). */
  payouts: PayoutRow[];
}

export interface PayoutRow {
  id: string;
  provider_id: string;
  order_id: string;
  amount: number;
  currency: string;
  status: 'scheduled';
  due_at: Date;
  created_at: Date;
}

/** Upper bound on one write, so a runaway batch fails loudly instead of building a huge statement. */
export const MAX_WRITES_PER_STATEMENT = 1_000;

/**
 * Writes the transitions in one statement, with `companion` (e.g. the request's idempotency
 * record) in it too. The companion must write its row: if it writes none (the key was taken
 * meanwhile) the statement raises and IdempotencyKeyTaken is thrown, so nothing of it stays.
 * `last`: nothing follows in this transaction, so the commit may go with it (pipeline-marks.ts).
 * Gives the order row's new version (its xmin) when it wrote one order (order-copies.ts).
 */
export async function writeTransitions(
  trx: Trx,
  writes: TransitionWrite[],
  companion: RawBuilder<unknown> | null = null,
  options: { last?: boolean } = {},
): Promise<string | null> {
  if (writes.length === 0 && !companion) return null;
  if (writes.length > MAX_WRITES_PER_STATEMENT) throw new Error(`writeTransitions: ${writes.length} writes exceed ${MAX_WRITES_PER_STATEMENT}`);
  const ids = new Set(writes.map((w) => w.order.id));
  // UPDATE … FROM with one order twice would apply one of them at random.
  if (ids.size !== writes.length) throw new Error('writeTransitions: an order appears twice in one write');
  // Only the columns the update sets: the rest of the row (the policy snapshot above all)
  // would be serialized here and parsed there for nothing.
  const orders = writes.map((w) => updatedColumns(w.order));
  const lines = writes.flatMap((w) => w.lines.map((l) => ({ id: l.id, status: l.status, done_at: l.done_at, cancelled_at: l.cancelled_at, refunded: l.refunded })));
  const events = writes.map((w) => w.event);
  const payouts = writes.flatMap((w) => w.payouts);
  const removed = writes.filter((w) => !w.deadline).map((w) => w.order.id);
  const deadlines = writes.flatMap((w) => (w.deadline ? [{ order_id: w.order.id, transition: w.deadline.transition, due_at: w.deadline.at }] : []));
  // Only the parts with rows to write: an empty part still opens its table and indexes and
  // checks their locks. Each shape is its own prepared statement (a handful in all).
  const parts: RawBuilder<unknown>[] = [];
  if (removed.length > 0) {
    parts.push(sql`dd as (
      delete from deadlines d using unnest(${removed}::text[]) r (order_id)
      where d.order_id >= r.order_id and d.order_id <= r.order_id)`);
  }
  if (deadlines.length > 0) {
    parts.push(sql`du as (
      insert into deadlines (order_id, transition, due_at, lease_until, lease_owner)
      select x.order_id, x.transition, x.due_at, null, null
      from jsonb_populate_recordset(null::deadlines, ${JSON.stringify(deadlines)}::jsonb) x
      on conflict (order_id) do update
        set transition = excluded.transition, due_at = excluded.due_at, lease_until = null, lease_owner = null)`);
  }
  if (orders.length > 0) {
    parts.push(sql`o as (
      update orders o set
        state = x.state, awaiting = x.awaiting, starts_at = x.starts_at, ends_at = x.ends_at,
        subtotal = x.subtotal, service_fee = x.service_fee, paid = x.paid, refunded = x.refunded,
        service_fee_refunded = x.service_fee_refunded, comment = x.comment, proposal = x.proposal,
        cancellation = x.cancellation, claim = x.claim, review = x.review, last_edit_by = x.last_edit_by,
        last_edit_at = x.last_edit_at, entered_state_at = x.entered_state_at, closed_at = x.closed_at,
        updated_at = x.updated_at
      from jsonb_populate_recordset(null::orders, ${JSON.stringify(orders)}::jsonb) x
      where o.id >= x.id and o.id <= x.id
      returning o.xmin::text as version)`);
  }
  if (lines.length > 0) {
    parts.push(sql`l as (
      update order_lines l set status = x.status, done_at = x.done_at, cancelled_at = x.cancelled_at, refunded = x.refunded
      from jsonb_populate_recordset(null::order_lines, ${JSON.stringify(lines)}::jsonb) x
      where l.id >= x.id and l.id <= x.id)`);
  }
  if (events.length > 0) {
    parts.push(sql`e as (
      insert into order_events (id, order_id, type, transition, actor, from_state, to_state, reason, payload, created_at)
      select x.id, x.order_id, x.type, x.transition, x.actor, x.from_state, x.to_state, x.reason, x.payload, x.created_at
      from jsonb_populate_recordset(null::order_events, ${JSON.stringify(events)}::jsonb) x)`);
  }
  if (payouts.length > 0) {
    parts.push(sql`p as (
      insert into payouts (id, provider_id, order_id, amount, currency, status, due_at, created_at)
      select x.id, x.provider_id, x.order_id, x.amount, x.currency, x.status, x.due_at, x.created_at
      from jsonb_populate_recordset(null::payouts, ${JSON.stringify(payouts)}::jsonb) x)`);
  }
  if (companion) parts.push(sql`k as (${companion} returning 1)`);
  const statement = sql<{ version: string | null }>`
    with ${sql.join(parts, sql`, `)}
    select ${companion ? sql`settle_refuse(case when (select count(*) from k) <> 1 then 'companion' end),` : sql``}
      ${orders.length > 0 ? sql`(select version from o limit 1)` : sql`null::text`} as version
    ${options.last ? lastStatementMark() : sql``}`;
  try {
    const result = await statement.execute(trx);
    return writes.length === 1 ? (result.rows[0]?.version ?? null) : null;
  } catch (err) {
    if (refusedCode(err) === 'companion') throw new IdempotencyKeyTaken();
    throw err;
  }
}

/** The order columns a transition may change (the update in writeTransitions sets exactly these). */
function updatedColumns(o: OrderRow) {
  return {
    id: o.id,
    state: o.state,
    awaiting: o.awaiting,
    starts_at: o.starts_at,
    ends_at: o.ends_at,
    subtotal: o.subtotal,
    service_fee: o.service_fee,
    paid: o.paid,
    refunded: o.refunded,
    service_fee_refunded: o.service_fee_refunded,
    comment: o.comment,
    proposal: o.proposal,
    cancellation: o.cancellation,
    claim: o.claim,
    review: o.review,
    last_edit_by: o.last_edit_by,
    last_edit_at: o.last_edit_at,
    entered_state_at: o.entered_state_at,
    closed_at: o.closed_at,
    updated_at: o.updated_at,
  };
}
