// The rule the one-statement locked read of an order (records.ts readOrder) and a process's
// copies of orders (order-copies.ts: an unchanged version means an unchanged order) rest on:
// whatever writes an order's child rows — lines, payments, deadline, refunds, events,
// inserts included — does so holding the order's row lock and leaves the order row with a
// new version. A transition does both (it locks the order first and rewrites its row at
// the end). Anything else that writes those rows calls touchOrder first, in the same
// transaction, before any other write.
import { sql, type RawBuilder } from 'kysely';
import type { Trx } from '../../store/db.js';

/** Locks the order (as transitions do, before anything else) and gives its row a new version without changing it. */
export async function touchOrder(trx: Trx, orderId: string): Promise<void> {
  await sql`update orders set updated_at = updated_at where id = ${orderId}`.execute(trx);
}

/** The order's versions either side of a touch: `before` is its newest committed row's. */
export interface TouchedVersions {
  before: string;
  after: string;
}

/**
 * touchOrder as a statement to run inside another (a CTE that must run first), which also
 * returns the row's version before it and after it (as TouchedVersions). `before` comes
 * from a `for update` read, which waits for a concurrent writer and then sees its row (a
 * plain read would see the statement's snapshot).
 */
export function touchOrderVersionsStatement(orderId: string): RawBuilder<unknown> {
  return sql`with prev as (select xmin::text as version from orders where id = ${orderId} for update)
    update orders set updated_at = updated_at where id = ${orderId} and exists (select 1 from prev)
    returning (select version from prev) as before, xmin::text as after`;
}
