// Charges (seed 001): a one-step spend of account credit with a provider — credit →
// provider payable, less the business's commission. Refunds return it (all or part,
// as often as wanted up to the charged amount) as new linked entries.
import { sql, type RawBuilder } from 'kysely';
import type { Db, Trx } from '../store/db.js';
import { conflict, IdempotencyKeyTaken, notFound, ruleRefused } from '../domain/errors.js';
import { newId } from '../domain/ids.js';
import { percentOfMinor, percentToBasisPoints, proportionalShareMinor } from '../domain/money.js';
import { customerCredit, platform, providerPayable } from '../ledger/accounts.js';
import { actorLabel, type Actor, type Services } from './context.js';
import { refundView, type RefundView } from './refund-records.js';
import { toPage, type Page, type PageRequest } from './pagination.js';

export interface ChargeView {
  id: string;
  object: 'charge';
  customerId: string;
  providerId: string;
  amount: number;
  currency: string;
  description: string;
  commissionAmount: number;
  refundedAmount: number;
  refundableAmount: number;
  status: 'succeeded' | 'reversed';
  transactionId: string;
  createdAt: string;
}

type ChargeRow = {
  id: string;
  customer_id: string;
  provider_id: string;
  amount: number;
  currency: string;
  description: string;
  commission_amount: number;
  refunded_amount: number;
  commission_refunded: number;
  status: 'succeeded' | 'reversed';
  transaction_id: string;
  created_at: Date;
};

function view(r: ChargeRow): ChargeView {
  return {
    id: r.id,
    object: 'charge',
    customerId: r.customer_id,
    providerId: r.provider_id,
    amount: Number(r.amount),
    currency: r.currency,
    description: r.description,
    commissionAmount: Number(r.commission_amount),
    refundedAmount: Number(r.refunded_amount),
    refundableAmount: r.status === 'succeeded' ? Number(r.amount) - Number(r.refunded_amount) : 0,
    status: r.status,
    transactionId: r.transaction_id,
    createdAt: r.created_at.toISOString(),
  };
}

export class ChargeService {
  constructor(private readonly s: Services) {}

  /**
   * One ledger statement writes everything: the balance updates (refused if the credit is
   * short), the ledger transaction and postings, the charge row and, when `recordInsert`
   * is given, the request's idempotency record. That the customer and provider exist is
   * the statement's guard (no foreign keys on this hot path: migration 005). The statement
   * is its own transaction.
   */
  async create(
    db: Db,
    input: {
      customerId: string;
      providerId: string;
      amountMinor: number;
      currency: string;
      description: string;
      actor: Actor;
      /** The idempotency record's INSERT for this response (see Idempotency): one statement, not two. */
      recordInsert?: (body: ChargeView) => RawBuilder<unknown> | null;
    },
  ): Promise<ChargeView> {
    const settings = await this.s.settings.get(db);
    const commissionMinor = percentOfMinor(input.amountMinor, percentToBasisPoints(settings.providerCommissionPercent));
    const id = newId('charge');
    const transactionId = newId('transaction');
    const now = this.s.clock.now();
    const { customerId, providerId, currency } = input;
    const charge = view({
      id,
      customer_id: customerId,
      provider_id: providerId,
      amount: input.amountMinor,
      currency,
      description: input.description,
      commission_amount: commissionMinor,
      refunded_amount: 0,
      commission_refunded: 0,
      status: 'succeeded',
      transaction_id: transactionId,
      created_at: now,
    });
    const record = input.recordInsert?.(charge) ?? null;
    const chargeRow = sql`insert into charges (id, customer_id, provider_id, amount, currency, description, commission_amount, status, transaction_id, created_at)
      values (${id}, ${customerId}, ${providerId}, ${input.amountMinor}, ${currency}, ${input.description}, ${commissionMinor}, 'succeeded',
        ${transactionId}, ${now.toISOString()}::timestamptz)`;
    // A statement on its own (no begin, no commit): refused, it undoes itself (`atomic`).
    const posted = await this.s.ledger.post(
      db,
      {
        id: transactionId,
        type: 'charge',
        currency,
        postings: [
          { account: customerCredit(customerId, currency), amountMinor: -input.amountMinor },
          { account: providerPayable(providerId, currency), amountMinor: input.amountMinor - commissionMinor },
          { account: platform('platform_fees', currency), amountMinor: commissionMinor },
        ],
        actor: actorLabel(input.actor),
        memo: input.description,
        customerId,
        providerId,
        cause: { type: 'charge', id },
        createdAt: now,
      },
      {
        guard: {
          condition: sql`exists (select 1 from customers where id = ${customerId}) and exists (select 1 from providers where id = ${providerId})`,
          error: async (q) => ((await q.selectFrom('customers').select('id').where('id', '=', customerId).executeTakeFirst())
            ? notFound('provider', providerId)
            : notFound('customer', customerId)),
        },
        companions: record ? [chargeRow, record] : [chargeRow],
        atomic: true,
      },
    );
    if (record && posted.companionRows[1] !== 1) throw new IdempotencyKeyTaken();
    return charge;
  }

  async get(db: Db | Trx, id: string): Promise<ChargeView> {
    return view(await this.load(db, id));
  }

  async list(db: Db, filter: { customerId?: string | undefined; providerId?: string | undefined }, page: PageRequest): Promise<Page<ChargeView>> {
    let q = db.selectFrom('charges').selectAll().orderBy('id', 'desc').limit(page.limit + 1);
    if (filter.customerId) q = q.where('customer_id', '=', filter.customerId);
    if (filter.providerId) q = q.where('provider_id', '=', filter.providerId);
    if (page.startingAfter) q = q.where('id', '<', page.startingAfter);
    return toPage((await q.execute()).map((r) => view(r as ChargeRow)), page.limit);
  }

  /**
   * Refunds part or all of what is left of a charge to the customer's credit. The cap is
   * a single conditional UPDATE, so parallel refunds can never exceed the charge. The
   * commission goes back in proportion, computed on the running total so that a full
   * refund returns exactly all of it.
   */
  async refund(trx: Trx, chargeId: string, input: { amountMinor?: number | undefined; reason: string | null; actor: Actor }): Promise<RefundView> {
    // No amount means "all that is left": read it under the row lock the UPDATE takes anyway.
    const amountMinor =
      input.amountMinor ?? (await this.remaining(trx, chargeId));
    const updated = await sql<ChargeRow>`
      update charges set
        refunded_amount = refunded_amount + ${amountMinor},
        commission_refunded = div(commission_amount::numeric * (refunded_amount + ${amountMinor}), amount)::bigint
      where id = ${chargeId} and status = 'succeeded'
        and ${amountMinor}::bigint > 0 and refunded_amount + ${amountMinor} <= amount
      returning *`.execute(trx);
    const charge = updated.rows[0];
    if (!charge) throw await this.refusal(trx, chargeId);
    const refundedBefore = Number(charge.refunded_amount) - amountMinor;
    const commissionMinor =
      Number(charge.commission_refunded) - proportionalShareMinor(Number(charge.commission_amount), refundedBefore, Number(charge.amount));
    const now = this.s.clock.now();
    const refundId = newId('refund');
    const txn = await this.s.ledger.post(trx, {
      type: 'charge_refund',
      currency: charge.currency,
      postings: [
        { account: customerCredit(charge.customer_id, charge.currency), amountMinor },
        { account: providerPayable(charge.provider_id, charge.currency), amountMinor: -(amountMinor - commissionMinor) },
        { account: platform('platform_fees', charge.currency), amountMinor: -commissionMinor },
      ],
      actor: actorLabel(input.actor),
      memo: input.reason ?? `Refund of ${charge.description}`,
      customerId: charge.customer_id,
      providerId: charge.provider_id,
      cause: { type: 'refund', id: refundId },
      relatedId: charge.transaction_id,
      createdAt: now,
    });
    const refund = await trx
      .insertInto('refunds')
      .values({
        id: refundId,
        source_type: 'charge',
        source_id: charge.id,
        customer_id: charge.customer_id,
        amount: amountMinor,
        currency: charge.currency,
        destination: 'account_credit',
        status: 'succeeded',
        reason: input.reason,
        actor: actorLabel(input.actor),
        attempts: 1,
        transaction_id: txn.id,
        created_at: now,
        updated_at: now,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return refundView(refund);
  }

  private async remaining(trx: Trx, chargeId: string): Promise<number> {
    const row = await trx.selectFrom('charges').select(['amount', 'refunded_amount']).where('id', '=', chargeId).forUpdate().executeTakeFirst();
    return row ? Number(row.amount) - Number(row.refunded_amount) : 0;
  }

  private async refusal(trx: Trx, chargeId: string) {
    const row = await this.load(trx, chargeId);
    if (row.status === 'reversed') return conflict('charge_reversed', 'This charge was reversed; there is nothing to refund.');
    const maxRefundable = Number(row.amount) - Number(row.refunded_amount);
    return ruleRefused(
      'refund_exceeds_refundable',
      maxRefundable === 0 ? 'This charge is already fully refunded.' : `At most ${maxRefundable} of this charge can still be refunded.`,
      { maxRefundable, param: 'amount' },
    );
  }

  async load(db: Db | Trx, id: string): Promise<ChargeRow> {
    const row = await db.selectFrom('charges').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw notFound('charge', id);
    return row as ChargeRow;
  }
}
