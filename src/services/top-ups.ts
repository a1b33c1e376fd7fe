// Top-ups: a card payment that becomes account credit (card clearing → credit), and
// refunds of a top-up back to that card (capped by the top-up and the balance).
import type { Db, Trx } from '../store/db.js';
import { notFound, SettleError } from '../domain/errors.js';
import { newId } from '../domain/ids.js';
import { customerCredit, platform } from '../ledger/accounts.js';
import { actorLabel, type Actor, type Services } from './context.js';
import type { CardRefundService } from './card-refunds.js';
import { topUpSource, type RefundView } from './refund-records.js';
import type { PartyService } from './parties.js';
import { toPage, type Page, type PageRequest } from './pagination.js';

export interface TopUpView {
  id: string;
  object: 'top_up';
  customerId: string;
  amount: number;
  currency: string;
  paymentMethod: string;
  status: 'succeeded';
  refundedAmount: number;
  refundableAmount: number;
  transactionId: string;
  createdAt: string;
}

type TopUpRow = {
  id: string;
  customer_id: string;
  amount: number;
  currency: string;
  payment_method: string;
  provider_reference: string;
  refunded_amount: number;
  transaction_id: string;
  created_at: Date;
};

function view(r: TopUpRow): TopUpView {
  return {
    id: r.id,
    object: 'top_up',
    customerId: r.customer_id,
    amount: Number(r.amount),
    currency: r.currency,
    paymentMethod: r.payment_method,
    status: 'succeeded',
    refundedAmount: Number(r.refunded_amount),
    refundableAmount: Number(r.amount) - Number(r.refunded_amount),
    transactionId: r.transaction_id,
    createdAt: r.created_at.toISOString(),
  };
}

export class TopUpService {
  constructor(
    private readonly s: Services,
    private readonly parties: PartyService,
    private readonly refunds: CardRefundService,
  ) {}

  /**
   * Charges the card and credits the account in one database transaction. The provider
   * call carries `idempotencyKey`, so a retried request never charges the card twice.
   */
  async create(
    trx: Trx,
    input: { customerId: string; amountMinor: number; currency: string; paymentMethod: string; actor: Actor; idempotencyKey: string },
  ): Promise<TopUpView> {
    await this.parties.assertCustomer(trx, input.customerId);
    const id = newId('topUp');
    const charge = await this.s.payments.charge({
      paymentMethod: input.paymentMethod,
      amountMinor: input.amountMinor,
      currency: input.currency,
      idempotencyKey: input.idempotencyKey,
      description: `Top-up ${id}`,
    });
    if (!charge.ok) {
      const status = charge.code === 'invalid_payment_method' ? 400 : 402;
      throw new SettleError(status, 'card_error', charge.code, charge.message, { param: 'paymentMethod' });
    }
    const now = this.s.clock.now();
    const txn = await this.s.ledger.post(trx, {
      type: 'top_up',
      currency: input.currency,
      postings: [
        { account: platform('card_clearing', input.currency), amountMinor: -input.amountMinor },
        { account: customerCredit(input.customerId, input.currency), amountMinor: input.amountMinor },
      ],
      actor: actorLabel(input.actor),
      memo: `Top-up by card (${input.paymentMethod})`,
      customerId: input.customerId,
      cause: { type: 'top_up', id },
      createdAt: now,
    });
    const row = await trx
      .insertInto('top_ups')
      .values({
        id,
        customer_id: input.customerId,
        amount: input.amountMinor,
        currency: input.currency,
        payment_method: input.paymentMethod,
        provider_reference: charge.reference,
        transaction_id: txn.id,
        created_at: now,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return view(row as TopUpRow);
  }

  async get(db: Db | Trx, id: string): Promise<TopUpView> {
    return view(await this.load(db, id));
  }

  async list(db: Db, customerId: string, page: PageRequest): Promise<Page<TopUpView>> {
    let q = db.selectFrom('top_ups').selectAll().where('customer_id', '=', customerId).orderBy('id', 'desc').limit(page.limit + 1);
    if (page.startingAfter) q = q.where('id', '<', page.startingAfter);
    return toPage((await q.execute()).map((r) => view(r as TopUpRow)), page.limit);
  }

  /** Reserves a card refund of the top-up (default: all that is left); send it after commit. */
  async refund(trx: Trx, topUpId: string, input: { amountMinor?: number | undefined; reason: string | null; actor: Actor }): Promise<RefundView> {
    const topUp = await this.load(trx, topUpId);
    const amountMinor = input.amountMinor ?? Number(topUp.amount) - Number(topUp.refunded_amount);
    return this.refunds.reserve(trx, topUpSource(topUp), { amountMinor, reason: input.reason, actor: input.actor });
  }

  private async load(db: Db | Trx, id: string): Promise<TopUpRow> {
    const row = await db.selectFrom('top_ups').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw notFound('top-up', id);
    return row as TopUpRow;
  }
}
