// Deadlines: at most one pending per order (the table's primary key), claimed by any
// number of processes. A claim is one `WITH … FOR UPDATE SKIP LOCKED` CTE feeding an
// UPDATE that sets a short lease (never `WHERE id IN (SELECT … SKIP LOCKED)`, which
// PostgreSQL bug #15715 can turn into updating every candidate). Firing happens in its
// own transaction that re-checks the order, so a deadline whose order moved on does
// nothing and a user transition racing it loses cleanly.
import { sql } from 'kysely';
import type { Store, Trx } from '../store/db.js';

export interface DueDeadline {
  orderId: string;
  transition: string;
  dueAt: Date;
}

/** Fires one deadline; may return the order's next deadline (the sweep fires it in turn when due). */
export type FireDeadline = (deadline: DueDeadline) => Promise<DueDeadline | null | void>;

const LEASE_MS = 60_000;
const DEFAULT_BATCH = 100;

/** Replaces the order's pending deadline (or removes it when `deadline` is null). */
export async function setDeadline(trx: Trx, orderId: string, deadline: { transition: string; at: Date } | null): Promise<void> {
  if (!deadline) {
    await trx.deleteFrom('deadlines').where('order_id', '=', orderId).execute();
    return;
  }
  await trx
    .insertInto('deadlines')
    .values({ order_id: orderId, transition: deadline.transition, due_at: deadline.at, lease_until: null, lease_owner: null })
    .onConflict((oc) =>
      oc.column('order_id').doUpdateSet({ transition: deadline.transition, due_at: deadline.at, lease_until: null, lease_owner: null }),
    )
    .execute();
}

export class DeadlineRunner {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<number> | null = null;

  constructor(
    private readonly store: Store,
    private readonly fire: FireDeadline,
    private readonly now: () => Date,
    private readonly owner: string,
    private readonly batchSize = DEFAULT_BATCH,
  ) {}

  /** Leases up to `limit` due deadlines, earliest first, skipping ones others hold. */
  async claim(limit = this.batchSize): Promise<DueDeadline[]> {
    const realNow = new Date();
    const rows = await sql<{ order_id: string; transition: string; due_at: Date }>`
      with due as (
        select order_id from deadlines
        where due_at <= ${this.now().toISOString()}::timestamptz
          and (lease_until is null or lease_until < ${realNow.toISOString()}::timestamptz)
        order by due_at
        limit ${limit}
        for update skip locked)
      update deadlines d
      set lease_until = ${new Date(realNow.getTime() + LEASE_MS).toISOString()}::timestamptz, lease_owner = ${this.owner}
      from due where d.order_id = due.order_id
      returning d.order_id, d.transition, d.due_at`.execute(this.store.db);
    return rows.rows
      .map((r) => ({ orderId: r.order_id, transition: r.transition, dueAt: r.due_at }))
      .sort((a, b) => a.dueAt.getTime() - b.dueAt.getTime());
  }

  /**
   * Fires everything due by now, earliest first, including deadlines that firing creates
   * and that are themselves already due. Returns how many fired (or were found stale).
   * A call made while a sweep runs waits for it and then sweeps again, so anything that
   * became due meanwhile (e.g. the test clock moved) has fired when it resolves.
   */
  async runDue(): Promise<number> {
    while (this.running) await this.running.catch(() => 0);
    this.running = (async () => {
      let total = 0;
      try {
        for (;;) {
          const batch = await this.claim();
          if (batch.length === 0) return total;
          total += await this.fireInOrder(batch);
        }
      } finally {
        this.running = null;
      }
    })();
    return this.running;
  }

  /**
   * runDue, and then waits for the due deadlines it had to pass over: SKIP LOCKED skips a
   * row that a concurrent transition on the order holds (and may keep due, e.g. a staff
   * refund), and another process may hold a lease. The test clock promises that everything
   * due has run when it answers; `maxWaitMs` bounds the wait for a lease a dead process left.
   */
  async runAllDue(maxWaitMs = 5_000): Promise<number> {
    const giveUpAt = Date.now() + maxWaitMs;
    let total = await this.runDue();
    while ((await this.anyDue()) && Date.now() < giveUpAt) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      total += await this.runDue();
    }
    return total;
  }

  private async anyDue(): Promise<boolean> {
    const row = await this.store.db.selectFrom('deadlines').select('order_id').where('due_at', '<=', this.now()).limit(1).executeTakeFirst();
    return row !== undefined;
  }

  /**
   * Fires a claimed batch earliest first. A firing can leave the order with a next deadline
   * that is already due (after a long downtime: auto_done, then auto_close, then the
   * payout); it is fired in its turn among the batch, not after it, so deadlines missed
   * while down still fire in due order. One due after the batch's last waits for a later
   * claim, which finds it among the others in order.
   */
  private async fireInOrder(batch: DueDeadline[]): Promise<number> {
    const queue = [...batch];
    const horizon = queue[queue.length - 1]!.dueAt.getTime();
    const nowMs = this.now().getTime();
    let fired = 0;
    for (let d = queue.shift(); d; d = queue.shift()) {
      const next = await this.fire(d);
      fired++;
      if (!next || next.dueAt.getTime() > Math.min(horizon, nowMs)) continue;
      const at = queue.findIndex((q) => q.dueAt.getTime() > next.dueAt.getTime());
      queue.splice(at === -1 ? queue.length : at, 0, next);
    }
    return fired;
  }

  /** Sweeps every `intervalMs`; `beforeSweep` lets a worker re-read the shared test clock. */
  start(intervalMs: number, onError: (err: unknown) => void, beforeSweep: () => Promise<void> = async () => {}): void {
    if (this.timer) return;
    const tick = () => {
      beforeSweep()
        .then(() => this.runDue())
        .catch(onError)
        .finally(() => {
          if (this.timer) this.timer = setTimeout(tick, intervalMs).unref();
        });
    };
    this.timer = setTimeout(tick, 0).unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running?.catch(() => {});
  }
}
