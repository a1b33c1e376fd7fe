// Money back to a card, in two steps so a failure never loses money (SPEC rule 7):
//   1. reserve: in the request's transaction, take the amount off the source's
//      refundable cap and move it from the customer's credit to "refunds in transit";
//   2. send: after commit, ask the card provider; then settle (one statement on success):
//      success → in transit → card clearing; failure → back to the customer's credit,
//      the cap released, the refund `failed` with the reason (staff may retry).
// A crash between the two leaves the refund `pending`; resumeStaleRefunds() finishes it
// with the same provider idempotency key, so the card is refunded at most once.
import { sql, type RawBuilder } from 'kysely';
import { retryOnConflict, type Trx } from '../store/db.js';
import type { PostInput, PostOptions } from '../ledger/ledger.js';
import { conflict, notFound, ruleRefused, type SettleError } from '../domain/errors.js';
import { customerCredit, platform } from '../ledger/accounts.js';
import { actorLabel, type Actor, type Services } from './context.js';
import { touchOrder, touchOrderVersionsStatement, type TouchedVersions } from './orders/order-version.js';
import { insertRefund, newRefundRow, orderPaymentSource, refundView, topUpSource, type CardSource, type RefundRow, type RefundView } from './refund-records.js';

const STALE_PENDING_MS = 30_000;

/**
 * A write that goes with a refund's successful settle, in its statement: given the settled
 * refund and a condition (`exists (…)`) to write only with the settle.
 */
export type AlsoWrite = (settled: RefundView, onlyWith: RawBuilder<unknown>) => RawBuilder<unknown> | null;

export interface SentRefund {
  refund: RefundView;
  /** Whether the AlsoWrite was written with the settle. */
  alsoWritten: boolean;
  /** For an order's refund that this call settled: the order's versions either side of the settle. */
  orderVersions: TouchedVersions | null;
}

export class CardRefundService {
  constructor(private readonly s: Services) {}

  /**
   * Takes `amountMinor` off the source's cap, as the claim of the reserve's ledger write
   * (the write happens only if the cap allows it).
   */
  private capClaim(source: CardSource, amountMinor: number) {
    const table = sql.table(capTable(source));
    return sql`update ${table} set refunded_amount = refunded_amount + ${amountMinor}::int8
      where id = ${source.id} and refunded_amount + ${amountMinor}::int8 <= amount returning 1`;
  }

  /** The refusal when the cap does not allow a refund: with the most that can still go back. */
  private async capRefusal(trx: Trx, source: CardSource): Promise<SettleError> {
    const row = await trx.selectFrom(capTable(source)).select(['amount', 'refunded_amount']).where('id', '=', source.id).executeTakeFirst();
    if (!row) return notFound(source.type === 'top_up' ? 'top-up' : 'payment', source.id);
    const maxRefundable = Number(row.amount) - Number(row.refunded_amount);
    return ruleRefused('refund_exceeds_refundable', `At most ${maxRefundable} can still be refunded to this card.`, {
      maxRefundable,
      param: 'amount',
    });
  }

  /**
   * A refund of an order's card payment changes that payment and the order's refunds: it
   * does so under the order's lock and gives the order a new version, so a transition
   * waiting on the order reads the change (orders/order-version.ts).
   */
  private async lockOrderOf(trx: Trx, source: CardSource): Promise<void> {
    if (source.type === 'order_payment' && source.orderId) await touchOrder(trx, source.orderId);
  }

  private async releaseCap(trx: Trx, source: CardSource, amountMinor: number): Promise<void> {
    await trx
      .updateTable(capTable(source))
      .set((eb) => ({ refunded_amount: eb('refunded_amount', '-', amountMinor) }))
      .where('id', '=', source.id)
      .execute();
  }

  /**
   * Step 1, inside the caller's transaction. Returns the pending refund. `deferred`: the
   * caller checked the cap and the credit under the order's lock, so only a bug can refuse
   * it; it goes out with the transaction's next statement (ledger.post `deferred`).
   */
  async reserve(
    trx: Trx,
    source: CardSource,
    input: { amountMinor: number; reason: string | null; actor: Actor; explanation?: unknown },
    options: { deferred?: boolean } = {},
  ): Promise<RefundView> {
    if (input.amountMinor <= 0) {
      throw ruleRefused('refund_exceeds_refundable', 'Nothing is left to refund to this card.', { maxRefundable: 0 });
    }
    const now = this.s.clock.now();
    // The cap and the refund row are written in the ledger's statement (the row names the transaction).
    const row = newRefundRow({
      source_type: source.type,
      source_id: source.id,
      order_id: source.orderId,
      customer_id: source.customerId,
      amount: input.amountMinor,
      currency: source.currency,
      destination: 'card',
      status: 'pending',
      reason: input.reason,
      actor: actorLabel(input.actor),
      explanation: input.explanation,
      at: now,
    });
    const posted = await this.s.ledger.post(
      trx,
      {
        id: row.transaction_id as string,
        type: 'card_refund',
        currency: source.currency,
        postings: [
          { account: customerCredit(source.customerId, source.currency), amountMinor: -input.amountMinor },
          { account: platform('refunds_in_transit', source.currency), amountMinor: input.amountMinor },
        ],
        actor: row.actor,
        memo: input.reason,
        customerId: source.customerId,
        orderId: source.orderId,
        cause: { type: 'refund', id: row.id },
        createdAt: now,
      },
      { claim: this.capClaim(source, input.amountMinor), companions: [insertRefund(row)], ...(options.deferred ? { deferred: true } : {}) },
    );
    if (!posted.claimed) throw await this.capRefusal(trx, source);
    if (posted.companionRows[0] !== 1) throw new Error(`refund ${row.id} was not written`);
    return refundView(row);
  }

  /** Step 2, after the reservation committed: ask the provider, then settle. */
  async send(refundId: string): Promise<RefundView> {
    const row = await this.load(this.s.store.db, refundId);
    if (row.status !== 'pending') return refundView(row);
    return this.sendReserved(refundView(row), await this.loadSource(row));
  }

  /**
   * Step 2 for a refund whose view and source the caller holds (it just reserved it):
   * nothing to read first. The refund is claimed (pending → settled) in the ledger's own
   * statement, so of two processes settling it only one moves the money.
   */
  async sendReserved(refund: RefundView, source: CardSource): Promise<RefundView> {
    return (await this.sendReservedWith(refund, source, null)).refund;
  }

  /**
   * sendReserved, and if the refund succeeds, `alsoWrite(settled)` in the settle's own
   * statement (the request's stored answer, which shows the settled refund): written only
   * with the settle. `alsoWritten` says whether it was.
   */
  async sendReservedWith(refund: RefundView, source: CardSource, alsoWrite: AlsoWrite | null): Promise<SentRefund> {
    const result = await this.s.payments.refund({
      chargeReference: source.providerReference,
      paymentMethod: source.paymentMethod,
      amountMinor: refund.amount,
      currency: refund.currency,
      idempotencyKey: `${refund.id}:${refund.attempts}`,
    });
    // The order's lock first, as transitions take it (orders/order-version.ts), in the
    // claim's own statement.
    const orderId = source.type === 'order_payment' ? source.orderId : null;
    const now = this.s.clock.now();
    const settled = result.ok
      ? { status: 'succeeded' as const, providerReference: result.reference, failureReason: null }
      : { status: 'failed' as const, providerReference: null, failureReason: result.reason };
    const input: PostInput = {
      type: result.ok ? 'card_refund_settled' : 'card_refund_failed',
      currency: refund.currency,
      postings: [
        { account: platform('refunds_in_transit', refund.currency), amountMinor: -refund.amount },
        result.ok
          ? { account: platform('card_clearing', refund.currency), amountMinor: refund.amount }
          : { account: customerCredit(refund.customerId, refund.currency), amountMinor: refund.amount },
      ],
      actor: 'system',
      memo: result.ok ? null : `Card refund failed; the money stays in account credit. ${result.reason}`,
      customerId: refund.customerId,
      cause: { type: 'refund', id: refund.id },
      relatedId: refund.transactionId,
      createdAt: now,
    };
    const claim: PostOptions = {
      claim: sql`update refunds set status = ${settled.status},
        provider_reference = coalesce(${settled.providerReference}::text, provider_reference),
        failure_reason = ${settled.failureReason}::text, updated_at = ${now.toISOString()}::timestamptz
        where id = ${refund.id} and status = 'pending' ${orderId ? sql`and exists (select 1 from locked)` : sql``} returning 1`,
      ...(orderId ? { claimAfter: touchOrderVersionsStatement(orderId) } : {}),
    };
    const done = { ...refund, status: settled.status, failureReason: settled.failureReason, updatedAt: now.toISOString() };
    // another process settled it
    const otherwise = async (): Promise<SentRefund> => ({ refund: refundView(await this.load(this.s.store.db, refund.id)), alsoWritten: false, orderVersions: null });
    if (result.ok) {
      // Settling is then one statement, its own transaction.
      const settle = (companion: RawBuilder<unknown> | null) =>
        retryOnConflict(() => this.s.ledger.post(this.s.store.db, input, { ...claim, atomic: true, ...(companion ? { companions: [companion] } : {}) }));
      const companion = alsoWrite?.(done, sql`select 1 from txn`) ?? null;
      let posted = await settle(companion);
      if (!posted.claimed) return otherwise();
      // An atomic write whose companion wrote nothing wrote nothing at all: settle without it.
      if (companion && posted.companionRows[0] !== 1) posted = await settle(null);
      if (!posted.claimed) return otherwise();
      const orderVersions = orderId ? touchedVersions(posted.claimAfterRow) : null;
      return { refund: done, alsoWritten: companion !== null && posted.companionRows[0] === 1, orderVersions };
    }
    // A failed refund also gives its amount back to the cap: a transaction.
    const posted = await this.s.store.transaction(async (trx) => {
      const p = await this.s.ledger.post(trx, input, claim);
      if (p.claimed) await this.releaseCap(trx, source, refund.amount);
      return p;
    });
    return posted.claimed ? { refund: done, alsoWritten: false, orderVersions: null } : otherwise();
  }

  /** Staff retry of a failed card refund: reserve again, then send as a new attempt. */
  async retry(trx: Trx, refundId: string, actor: Actor): Promise<RefundView> {
    // The order's lock before the refund's, in the order every transition takes them.
    const seen = await this.load(trx, refundId);
    if (seen.destination === 'card') await this.lockOrderOf(trx, await this.loadSource(seen, trx));
    const refund = await this.load(trx, refundId, true);
    if (refund.destination !== 'card' || refund.status !== 'failed') {
      throw conflict('refund_not_retryable', `Only a failed card refund can be retried; this one is ${refund.status}.`);
    }
    const source = await this.loadSource(refund, trx);
    const now = this.s.clock.now();
    const txn = await this.s.ledger.post(
      trx,
      {
        type: 'card_refund',
        currency: refund.currency,
        postings: [
          { account: customerCredit(refund.customer_id, refund.currency), amountMinor: -Number(refund.amount) },
          { account: platform('refunds_in_transit', refund.currency), amountMinor: Number(refund.amount) },
        ],
        actor: actorLabel(actor),
        memo: `Retry of refund ${refund.id}`,
        customerId: refund.customer_id,
        cause: { type: 'refund', id: refund.id },
        relatedId: refund.transaction_id,
        createdAt: now,
      },
      { claim: this.capClaim(source, Number(refund.amount)) },
    );
    if (!txn.claimed) throw await this.capRefusal(trx, source);
    const row = await trx
      .updateTable('refunds')
      .set((eb) => ({ status: 'pending', attempts: eb('attempts', '+', 1), transaction_id: txn.id, updated_at: now }))
      .where('id', '=', refund.id)
      .returningAll()
      .executeTakeFirstOrThrow();
    return refundView(row);
  }

  /** Finishes refunds left pending by a crash; safe to run from any number of processes. */
  async resumeStaleRefunds(olderThanMs = STALE_PENDING_MS): Promise<number> {
    const cutoff = new Date(this.s.clock.now().getTime() - olderThanMs);
    const stale = await this.s.store.db
      .selectFrom('refunds')
      .select('id')
      .where('status', '=', 'pending')
      .where(sql<boolean>`updated_at < ${cutoff.toISOString()}::timestamptz`)
      .limit(100)
      .execute();
    for (const { id } of stale) await this.send(id);
    return stale.length;
  }

  async get(db: Parameters<CardRefundService['load']>[0], id: string): Promise<RefundView> {
    return refundView(await this.load(db, id));
  }

  private async load(db: Trx | Services['store']['db'], id: string, forUpdate = false): Promise<RefundRow> {
    let q = db.selectFrom('refunds').selectAll().where('id', '=', id);
    if (forUpdate) q = q.forUpdate();
    const row = await q.executeTakeFirst();
    if (!row) throw notFound('refund', id);
    return row;
  }

  private async loadSource(refund: RefundRow, db: Trx | Services['store']['db'] = this.s.store.db): Promise<CardSource> {
    if (refund.source_type === 'order_payment') {
      const p = await db.selectFrom('order_payments').selectAll().where('id', '=', refund.source_id).executeTakeFirst();
      if (!p) throw notFound('payment', refund.source_id);
      return orderPaymentSource(p);
    }
    const t = await db.selectFrom('top_ups').selectAll().where('id', '=', refund.source_id).executeTakeFirst();
    if (!t) throw notFound('top-up', refund.source_id);
    return topUpSource(t);
  }
}

/** Where a card source keeps its refunded-so-far cap. */
function capTable(source: CardSource): 'top_ups' | 'order_payments' {
  return source.type === 'top_up' ? 'top_ups' : 'order_payments';
}

/** The versions the settle's touch of the order returned; null (no copy kept) if they are not there: the money has moved, so no reason to fail. */
function touchedVersions(row: Record<string, unknown> | null): TouchedVersions | null {
  const before = row?.before;
  const after = row?.after;
  return typeof before === 'string' && typeof after === 'string' ? { before, after } : null;
}
