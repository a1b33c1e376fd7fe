// Firing due deadlines. A firing re-reads the order's deadline under the order's lock, so
// one whose order moved on (another transition, another time) does nothing, and runs the
// declared transition as the system at the deadline's due time.
//
// A sweep fires a batch in one transaction: the orders locked and loaded together (one
// statement), each transition run on its record, and all of them written in one
// statement (writes.ts). If any firing in the batch fails, the batch rolls back and its
// deadlines fire one by one, each in its own transaction, so the good ones still go
// through and the bad one is dropped and recorded on its order. Only a failure of the work
// itself drops a deadline; a transient database error leaves it for a later sweep.
import { SettleError } from '../../domain/errors.js';
import { newId } from '../../domain/ids.js';
import { platform, providerPayable } from '../../ledger/accounts.js';
import { setDeadline, type DueDeadline } from '../../scheduler/deadlines.js';
import { isTransientDbError, type Store, type Trx } from '../../store/db.js';
import { SYSTEM_ACTOR } from '../context.js';
import type { TransitionContext, TransitionDeps } from './context.js';
import { PAYOUT_DEADLINE, runTransition } from './engine.js';
import { loadOrder, loadOrders, type OrderRecord } from './records.js';
import { touchOrder } from './order-version.js';
import { writeTransitions, MAX_WRITES_PER_STATEMENT, type TransitionWrite } from './writes.js';

/** Transient failures of one deadline (in this process) before it is dropped as failed. */
const MAX_TRANSIENT_FAILURES = 5;
const transientKey = (d: DueDeadline) => `${d.orderId} ${d.transition} ${d.dueAt.getTime()}`;

type AfterCommit = TransitionContext['afterCommit'];

/**
 * Sends what the firings left for after the commit (card refunds), as a request does. One
 * that fails stays pending and the card-refund resumer finishes it; the firing stands.
 */
async function runAfterCommit(after: AfterCommit): Promise<void> {
  for (const send of after) await send().catch(() => {});
}

/** An event the system records on an order outside a transition (no state change). */
async function insertSystemEvent(trx: Trx, orderId: string, type: string, at: Date, e: { transition: string | null; reason: string | null; payload: unknown }): Promise<void> {
  await trx
    .insertInto('order_events')
    .values({ id: newId('event'), order_id: orderId, type, transition: e.transition, actor: 'system', from_state: null, to_state: null, reason: e.reason, payload: JSON.stringify(e.payload), created_at: at })
    .execute();
}

export class DeadlineFiring {
  private readonly transientFailures = new Map<string, number>();

  constructor(
    private readonly deps: TransitionDeps,
    private readonly onError: (err: unknown, deadline: DueDeadline) => void,
  ) {}

  private get store(): Store {
    return this.deps.s.store;
  }

  /** Fires one deadline in its own transaction; returns the order's next deadline, if any. */
  async fireOne(d: DueDeadline): Promise<DueDeadline | null> {
    try {
      const { next, after } = await this.store.transaction(async (trx) => {
        const after: AfterCommit = [];
        return { next: await this.fireIn(trx, d, await loadOrder(trx, d.orderId, { lock: true }), null, after), after };
      });
      this.transientFailures.delete(transientKey(d));
      await runAfterCommit(after);
      return next;
    } catch (err) {
      // A busy or unreachable database is no reason to drop the deadline: the error goes to
      // the sweep, the lease runs out and the deadline is claimed and fired again later —
      // up to MAX_TRANSIENT_FAILURES times in this process, then it is dropped like any other.
      if (isTransientDbError(err) && this.countTransient(d)) throw err;
      await this.recordFailure(d, err);
      return null;
    }
  }

  /**
   * Fires a batch (each order at most once) in one transaction, in the batch's order;
   * returns each one's next deadline in the same order. Falls back to fireOne per deadline
   * if anything in the batch fails.
   */
  async fireMany(batch: DueDeadline[]): Promise<Array<DueDeadline | null>> {
    if (batch.length > MAX_WRITES_PER_STATEMENT) throw new Error(`fireMany: ${batch.length} deadlines exceed ${MAX_WRITES_PER_STATEMENT}`);
    if (batch.length > 1 && new Set(batch.map((d) => d.orderId)).size === batch.length) {
      try {
        const { next, after } = await this.store.transaction(async (trx) => {
          const records = await loadOrders(trx, batch.map((d) => d.orderId));
          const writes: TransitionWrite[] = [];
          const after: AfterCommit = [];
          const next: Array<DueDeadline | null> = [];
          for (const d of batch) {
            const rec = records.get(d.orderId);
            if (!rec) throw new Error(`order ${d.orderId} of a due deadline does not exist`);
            next.push(await this.fireIn(trx, d, rec, writes, after));
          }
          await writeTransitions(trx, writes);
          return { next, after };
        });
        await runAfterCommit(after);
        return next;
      } catch {
        // Fall through: one by one, so the failure is pinned on its own order.
      }
    }
    // One by one. A transient failure of one must not hold back the others in the batch:
    // they fire, and the first such error is thrown at the end (the sweep logs it).
    const next: Array<DueDeadline | null> = [];
    let transient: { err: unknown } | null = null;
    for (const d of batch) {
      try {
        next.push(await this.fireOne(d));
      } catch (err) {
        transient ??= { err };
        next.push(null);
      }
    }
    if (transient) throw transient.err;
    return next;
  }

  /** Counts a transient failure of `d`; false once it has failed that way too often (then it is dropped). */
  private countTransient(d: DueDeadline): boolean {
    const key = transientKey(d);
    const failures = (this.transientFailures.get(key) ?? 0) + 1;
    if (this.transientFailures.size >= 10_000) this.transientFailures.clear();
    this.transientFailures.set(key, failures);
    return failures <= MAX_TRANSIENT_FAILURES;
  }

  /**
   * The firing itself, on the locked record; with `writes`, the transition's write is
   * collected there. Work for after the commit (card refunds to send) goes to `after`.
   */
  private async fireIn(trx: Trx, d: DueDeadline, rec: OrderRecord, writes: TransitionWrite[] | null, after: AfterCommit): Promise<DueDeadline | null> {
    // Firing gives the order a new version: this process's copy of it would only be found stale.
    this.deps.orderCopies.drop(d.orderId);
    const current = rec.deadline;
    if (!current || current.transition !== d.transition || current.due_at.getTime() !== d.dueAt.getTime()) return null;
    if (d.transition === PAYOUT_DEADLINE) {
      await this.payOut(trx, d.orderId, d.dueAt);
      return null;
    }
    const ctx = await runTransition(this.deps, trx, {
      orderId: d.orderId,
      transition: d.transition,
      actor: SYSTEM_ACTOR,
      params: {},
      idempotencyKey: `deadline:${d.orderId}:${d.transition}:${d.dueAt.toISOString()}`,
      now: d.dueAt,
      record: rec,
      ...(writes ? { defer: writes } : {}),
    });
    after.push(...ctx.afterCommit);
    const next = ctx.nextDeadline;
    return next ? { orderId: d.orderId, transition: next.transition, dueAt: next.at } : null;
  }

  /** A deadline that cannot fire must not block the sweep forever: drop it and say so on the order. */
  private async recordFailure(d: DueDeadline, err: unknown): Promise<void> {
    this.onError(err, d);
    await this.store.transaction(async (trx) => {
      // The order's lock first, as every transition takes it (and a new version, see touchOrder).
      await touchOrder(trx, d.orderId);
      const current = await trx.selectFrom('deadlines').selectAll().where('order_id', '=', d.orderId).forUpdate().executeTakeFirst();
      if (!current || current.transition !== d.transition || current.due_at.getTime() !== d.dueAt.getTime()) return;
      await setDeadline(trx, d.orderId, null);
      await insertSystemEvent(trx, d.orderId, 'order.deadline_failed', d.dueAt, {
        transition: d.transition,
        reason: err instanceof SettleError ? err.code : 'internal_error',
        payload: { dueAt: d.dueAt.toISOString(), message: (err as Error).message },
      });
    });
  }

  /** The provider's payout for an order, due payoutDelayDays after close: payable → paid out. */
  private async payOut(trx: Trx, orderId: string, now: Date): Promise<void> {
    await touchOrder(trx, orderId);
    const payout = await trx.selectFrom('payouts').selectAll().where('order_id', '=', orderId).where('status', '=', 'scheduled').forUpdate().executeTakeFirst();
    if (!payout) {
      await setDeadline(trx, orderId, null);
      return;
    }
    const txn = await this.deps.s.ledger.post(trx, {
      type: 'payout',
      currency: payout.currency,
      postings: [
        { account: providerPayable(payout.provider_id, payout.currency), amountMinor: -Number(payout.amount) },
        { account: platform('payouts_sent', payout.currency), amountMinor: Number(payout.amount) },
      ],
      actor: 'system',
      memo: `Payout ${payout.id}`,
      providerId: payout.provider_id,
      orderId,
      cause: { type: 'payout', id: payout.id },
      createdAt: now,
    });
    await trx.updateTable('payouts').set({ status: 'paid', paid_at: now, transaction_id: txn.id }).where('id', '=', payout.id).execute();
    await insertSystemEvent(trx, orderId, 'payout.paid', now, {
      transition: null,
      reason: null,
      payload: { payoutId: payout.id, amount: Number(payout.amount), providerId: payout.provider_id },
    });
    await setDeadline(trx, orderId, null);
  }
}
