// Deadlines: at most one pending per order (the table's primary key), claimed by any
// number of processes. A claim is one `WITH … AS MATERIALIZED (… FOR UPDATE SKIP LOCKED)`
// CTE whose ids, read once (`= any(array(…))`), feed an UPDATE that sets a short lease
// (never `WHERE id IN (SELECT … SKIP LOCKED)`, which PostgreSQL bug #15715 can turn into
// updating every candidate). Firing happens in its
// own transaction that re-checks the order, so a deadline whose order moved on does
// nothing and a user transition racing it loses cleanly.
//
// On PostgreSQL a runner fires a claimed batch on several connections at once (different
// orders in parallel; one order's deadlines always one after the other, in due order);
// on PGlite (one connection) it fires them one by one, earliest first.
import { sql, type QueryCreator } from 'kysely';
import type { Db, Store, Trx } from '../store/db.js';
import type { Database } from '../store/schema.js';

export interface DueDeadline {
  orderId: string;
  transition: string;
  dueAt: Date;
}

/** Fires one deadline; may return the order's next deadline (the sweep fires it in turn when due). */
export type FireDeadline = (deadline: DueDeadline) => Promise<DueDeadline | null | void>;
/** Fires several deadlines of different orders together; returns each one's next deadline, in order. */
export type FireDeadlines = (batch: DueDeadline[]) => Promise<Array<DueDeadline | null | void>>;

const LEASE_MS = 60_000;
const DEFAULT_BATCH = 100;
/** Firings in flight at once per runner on PostgreSQL (each holds a pool connection). */
const DEFAULT_PG_CONCURRENCY = 4;
/** A claimed batch per lane on PostgreSQL: enough to keep the lanes busy, small next to the lease. */
const PG_BATCH_PER_LANE = 50;
/** Deadlines fired in one transaction when the runner has a batch firing (fireMany). */
const DEFAULT_PER_TRANSACTION = 25;

export interface DeadlineRunnerOptions {
  /** Deadlines leased per claim (default 100 on PGlite, 50 per lane on PostgreSQL). */
  batchSize?: number;
  /**
   * Firings in flight at once. Default 1 on PGlite (one connection), and on PostgreSQL
   * SETTLE_DEADLINE_CONCURRENCY, or 4 but at most the pool's size less two; keep it below
   * the pool size so requests still get a connection.
   */
  concurrency?: number;
  /**
   * Fires several deadlines in one transaction. Without it (or when a sweep must be
   * serial) every deadline fires on its own with `fire`.
   */
  fireMany?: FireDeadlines;
  /** Deadlines per fireMany call (default SETTLE_DEADLINE_PER_TRANSACTION or 25, at most 500). */
  perTransaction?: number;
  /**
   * Schedules that are not order deadlines, swept at the start of every sweep (a prepay
   * job's batch shipping deadline); returns how many it fired. What it fires may set order
   * deadlines that are already due: the same sweep then fires them.
   */
  sweepFirst?: (now: Date) => Promise<number>;
}

function envCount(name: string, max: number): number | undefined {
  const n = Number(process.env[name]);
  return Number.isInteger(n) && n >= 1 ? Math.min(n, max) : undefined;
}

/**
 * The claim: leases up to `limit` deadlines due by `now` that nobody holds (no lease, or
 * one that ran out by `realNow`), earliest first. Its cost does not grow with the number
 * of deadlines not yet due: the `deadlines_due` index is read from its start and the scan
 * stops after `limit` rows, and the leased rows are then updated by the row addresses the
 * lock returned (`ctid = any(array(…))`, an init plan run once: a TID scan), never by a join
 * the planner might turn into a scan of the whole table. Not through the primary key: its
 * b-tree grows a level with the table, and 1,000 descents made the claim at 1 M deadlines
 * ~1.5–2× as slow as at 10,000 (BENCHMARKS.md, session 15). The addresses are stable while
 * this statement holds the row locks. One corner: a row another transaction rewrote after
 * this statement's snapshot and still due is locked at its new version, which the update
 * cannot see, so it is left out of this claim (not leased, not fired) and claimed by the
 * next one. The limit is written into the text (it is this code's own
 * integer): a generic plan of a prepared statement would otherwise guess a tenth of the
 * table for `limit $n`. Exported so the bench times and explains this exact query.
 */
export function claimQuery(o: { now: Date; realNow: Date; limit: number; owner: string; leaseMs?: number }) {
  const limit = Math.max(1, Math.floor(o.limit));
  return sql<{ order_id: string; transition: string; due_at: Date }>`
      with due as materialized (
        select ctid from deadlines
        where due_at <= ${o.now.toISOString()}::timestamptz
          and (lease_until is null or lease_until < ${o.realNow.toISOString()}::timestamptz)
        order by due_at
        limit ${sql.lit(limit)}
        for update skip locked)
      update deadlines
      set lease_until = ${new Date(o.realNow.getTime() + (o.leaseMs ?? LEASE_MS)).toISOString()}::timestamptz, lease_owner = ${o.owner}
      where ctid = any (array(select ctid from due))
      returning order_id, transition, due_at`;
}

/** Runs the claim on `db` (a transaction in the bench, so it can be rolled back). */
export async function claimDue(db: Db | Trx, o: { now: Date; realNow: Date; limit: number; owner: string }): Promise<DueDeadline[]> {
  const rows = await claimQuery(o).execute(db);
  return rows.rows
    .map((r) => ({ orderId: r.order_id, transition: r.transition, dueAt: r.due_at }))
    .sort((a, b) => a.dueAt.getTime() - b.dueAt.getTime());
}

/** The statement that replaces the order's pending deadline (or removes it when null); returns order_id. */
export function deadlineWrite(qc: QueryCreator<Database>, orderId: string, deadline: { transition: string; at: Date } | null) {
  if (!deadline) return qc.deleteFrom('deadlines').where('order_id', '=', orderId).returning('order_id');
  return qc
    .insertInto('deadlines')
    .values({ order_id: orderId, transition: deadline.transition, due_at: deadline.at, lease_until: null, lease_owner: null })
    .onConflict((oc) =>
      oc.column('order_id').doUpdateSet({ transition: deadline.transition, due_at: deadline.at, lease_until: null, lease_owner: null }),
    )
    .returning('order_id');
}

/** Replaces the order's pending deadline (or removes it when `deadline` is null). */
export async function setDeadline(trx: Trx, orderId: string, deadline: { transition: string; at: Date } | null): Promise<void> {
  await deadlineWrite(trx, orderId, deadline).execute();
}

export class DeadlineRunner {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<number> | null = null;
  private stopping = false;
  readonly batchSize: number;
  readonly concurrency: number;
  readonly perTransaction: number;
  private readonly fireMany: FireDeadlines | undefined;
  private readonly sweepFirst: ((now: Date) => Promise<number>) | undefined;

  constructor(
    private readonly store: Store,
    private readonly fire: FireDeadline,
    private readonly now: () => Date,
    private readonly owner: string,
    options: number | DeadlineRunnerOptions = {},
  ) {
    const o = typeof options === 'number' ? { batchSize: options } : options;
    // By default two of the store's connections stay free for requests (a small pool: db.ts).
    const lanes = Math.min(DEFAULT_PG_CONCURRENCY, Math.max(1, store.connections - 2));
    this.concurrency = store.kind === 'pglite' ? 1 : Math.max(1, Math.floor(o.concurrency ?? envCount('SETTLE_DEADLINE_CONCURRENCY', 64) ?? lanes));
    this.batchSize = Math.max(1, Math.floor(o.batchSize ?? (this.concurrency > 1 ? PG_BATCH_PER_LANE * this.concurrency : DEFAULT_BATCH)));
    this.fireMany = o.fireMany;
    this.sweepFirst = o.sweepFirst;
    this.perTransaction = o.fireMany ? Math.max(1, Math.floor(o.perTransaction ?? envCount('SETTLE_DEADLINE_PER_TRANSACTION', 500) ?? DEFAULT_PER_TRANSACTION)) : 1;
  }

  /** Leases up to `limit` due deadlines, earliest first, skipping ones others hold. */
  claim(limit = this.batchSize): Promise<DueDeadline[]> {
    return claimDue(this.store.db, { now: this.now(), realNow: new Date(), limit, owner: this.owner });
  }

  /**
   * Fires everything due by now, earliest first, including deadlines that firing creates
   * and that are themselves already due. Returns how many fired (or were found stale).
   * A call made while a sweep runs waits for it and then sweeps again, so anything that
   * became due meanwhile (e.g. the test clock moved) has fired when it resolves.
   */
  async runDue(options: { serial?: boolean } = {}): Promise<number> {
    const lanes = options.serial ? 1 : this.concurrency;
    while (this.running) await this.running.catch(() => 0);
    this.running = (async () => {
      let total = 0;
      // A failing schedule must not hold up the order deadlines: they still fire, then its error is thrown.
      let firstFailed: { err: unknown } | null = null;
      try {
        if (this.sweepFirst) total += await this.sweepFirst(this.now()).catch((err: unknown) => ((firstFailed = { err }), 0));
        // stop() lets the batch in hand finish, then ends the sweep (its leases are all used).
        while (!this.stopping) {
          const batch = await this.claim();
          if (batch.length === 0) break;
          total += await this.fireInOrder(batch, lanes, options.serial ? 1 : this.perTransaction);
        }
        if (firstFailed) throw (firstFailed as { err: unknown }).err;
        return total;
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
   * It fires one at a time, so a clock jump replays history in exactly one (due) order.
   */
  async runAllDue(maxWaitMs = 5_000): Promise<number> {
    const giveUpAt = Date.now() + maxWaitMs;
    let total = await this.runDue({ serial: true });
    while ((await this.anyDue()) && Date.now() < giveUpAt) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      total += await this.runDue({ serial: true });
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
   *
   * With `concurrency` > 1 (PostgreSQL) that many lanes take the earliest waiting deadline
   * each: the batch holds each order once, and an order's next deadline joins the queue
   * only once its previous firing has committed, so one order's deadlines never overlap
   * and stay in due order, while different orders fire in parallel (and may finish out
   * of due order). With a batch firing (fireMany) a lane takes up to `perTransaction` of
   * the earliest at once and fires them in one transaction; a serial sweep (the test
   * clock) fires one at a time, so a clock jump replays history in exactly one order.
   * If a firing throws, the lanes stop taking more, the ones in flight finish, and the
   * first error is thrown; the rest of the batch keeps its lease and is claimed again
   * once the lease runs out.
   */
  private async fireInOrder(batch: DueDeadline[], lanes: number, perTransaction: number): Promise<number> {
    const queue = [...batch];
    const horizon = queue[queue.length - 1]!.dueAt.getTime();
    const nowMs = this.now().getTime();
    let fired = 0;
    let failed: { err: unknown } | null = null;
    const fireChunk = async (chunk: DueDeadline[]): Promise<Array<DueDeadline | null | void>> =>
      chunk.length > 1 && this.fireMany ? this.fireMany(chunk) : [await this.fire(chunk[0]!)];
    const lane = async (): Promise<void> => {
      for (let chunk = queue.splice(0, perTransaction); chunk.length && !failed; chunk = queue.splice(0, perTransaction)) {
        let nexts: Array<DueDeadline | null | void>;
        try {
          nexts = await fireChunk(chunk);
        } catch (err) {
          failed ??= { err };
          return;
        }
        fired += chunk.length;
        for (const next of nexts) {
          if (!next || next.dueAt.getTime() > Math.min(horizon, nowMs)) continue;
          const at = queue.findIndex((q) => q.dueAt.getTime() > next.dueAt.getTime());
          queue.splice(at === -1 ? queue.length : at, 0, next);
        }
      }
    };
    // A lane that runs out while others still fire may miss a follow-up they enqueue; the
    // last lane standing picks it up, so one busy lane always drains the queue.
    await Promise.all(Array.from({ length: Math.min(lanes, Math.ceil(queue.length / perTransaction)) }, lane));
    if (failed) throw (failed as { err: unknown }).err;
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

  /** Stops sweeping: the batch in hand finishes firing, no further batch is claimed. */
  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.stopping = true;
    try {
      await this.running?.catch(() => {});
    } finally {
      this.stopping = false;
    }
  }
}
