// Staff fixes: balance corrections (signed, with a memo) and reversals. A reversal is a
// new transaction with every posting negated, linked to the original; the database
// allows one per transaction. Nothing here may take account credit below zero.
import type { Trx } from '../store/db.js';
import { badRequest, conflict, notFound, ruleRefused } from '../domain/errors.js';
import { newId } from '../domain/ids.js';
import { customerCredit, platform } from '../ledger/accounts.js';
import { actorLabel, type Actor, type Services } from './context.js';
import { getTransaction, type TransactionView, type TransactionWithPostings } from './transactions.js';
import type { PartyService } from './parties.js';

/** Transaction types a reversal may undo, and the bookkeeping each needs. */
const REVERSIBLE = new Set(['correction', 'charge', 'charge_refund']);
const UNIQUE_VIOLATION = '23505';

export class AdjustmentService {
  constructor(
    private readonly s: Services,
    private readonly parties: PartyService,
  ) {}

  async correct(
    trx: Trx,
    input: { customerId: string; amountMinor: number; currency: string; memo: string; actor: Actor },
  ): Promise<TransactionView> {
    if (input.amountMinor === 0) throw badRequest('amount_invalid', 'A correction must change the balance (amount ≠ 0).', { param: 'amount' });
    await this.parties.assertCustomer(trx, input.customerId);
    const id = newId('transaction');
    const txn = await this.s.ledger.post(trx, {
      id,
      type: 'correction',
      currency: input.currency,
      postings: [
        { account: customerCredit(input.customerId, input.currency), amountMinor: input.amountMinor },
        { account: platform('adjustments', input.currency), amountMinor: -input.amountMinor },
      ],
      actor: actorLabel(input.actor),
      memo: input.memo,
      customerId: input.customerId,
      cause: { type: 'correction', id },
      createdAt: this.s.clock.now(),
    });
    return getTransaction(trx, txn.id);
  }

  async reverse(trx: Trx, transactionId: string, input: { memo: string | null; actor: Actor }): Promise<TransactionView> {
    // Concurrent reversals of one transaction queue here, so the second one sees the
    // first and says "already reversed" rather than failing on a balance.
    await trx.selectFrom('ledger_transactions').select('id').where('id', '=', transactionId).forNoKeyUpdate().execute();
    const original = await getTransaction(trx, transactionId);
    if (!REVERSIBLE.has(original.type)) {
      throw ruleRefused(
        'transaction_not_reversible',
        original.type === 'reversal'
          ? 'A reversal cannot itself be reversed; make a correction instead.'
          : `This transaction (${original.type}) cannot be reversed; ${original.type === 'top_up' ? 'refund the top-up to the card instead' : 'use a refund instead'}.`,
      );
    }
    if (original.reversedBy) throw conflict('already_reversed', `Transaction ${transactionId} was already reversed by ${original.reversedBy}.`);
    await this.undoDomainEffects(trx, original);
    try {
      const txn = await this.s.ledger.post(trx, {
        type: 'reversal',
        currency: original.currency,
        postings: original.postings.map((p) => ({ account: { kind: p.kind, ownerId: p.ownerId, currency: original.currency }, amountMinor: -p.amount })),
        actor: actorLabel(input.actor),
        memo: input.memo ?? `Reversal of ${original.type} ${original.id}`,
        customerId: original.customerId,
        providerId: original.providerId,
        orderId: original.orderId,
        cause: { type: original.causeType, id: original.causeId },
        reversesId: original.id,
        createdAt: this.s.clock.now(),
      });
      return getTransaction(trx, txn.id);
    } catch (err) {
      if ((err as { code?: string }).code === UNIQUE_VIOLATION) {
        throw conflict('already_reversed', `Transaction ${transactionId} was already reversed.`);
      }
      throw err;
    }
  }

  /** Keeps charges and refunds consistent with a reversal of their ledger entry. */
  private async undoDomainEffects(trx: Trx, original: TransactionWithPostings): Promise<void> {
    if (original.type === 'charge') {
      const updated = await trx
        .updateTable('charges')
        .set({ status: 'reversed' })
        .where('id', '=', original.causeId)
        .where('status', '=', 'succeeded')
        .where('refunded_amount', '=', 0)
        .returning('id')
        .executeTakeFirst();
      if (!updated) {
        throw ruleRefused('charge_has_refunds', 'This charge has refunds (or was reversed); reverse or keep those first.');
      }
    } else if (original.type === 'charge_refund') {
      const refund = await trx
        .updateTable('refunds')
        .set({ status: 'reversed', updated_at: this.s.clock.now() })
        .where('id', '=', original.causeId)
        .where('status', '=', 'succeeded')
        .returning(['source_id', 'amount'])
        .executeTakeFirst();
      if (!refund) throw conflict('already_reversed', 'This refund was already reversed.');
      const fees = original.postings.find((p) => p.kind === 'platform_fees');
      const commissionMinor = fees ? -fees.amount : 0;
      const charge = await trx
        .updateTable('charges')
        .set((eb) => ({
          refunded_amount: eb('refunded_amount', '-', Number(refund.amount)),
          commission_refunded: eb('commission_refunded', '-', commissionMinor),
        }))
        .where('id', '=', refund.source_id)
        .where('status', '=', 'succeeded')
        .returning('id')
        .executeTakeFirst();
      if (!charge) throw notFound('charge', refund.source_id);
    }
  }
}
