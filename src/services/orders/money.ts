// The order's money, always through the customer's account (SPEC rule 3): a card payment
// credits the account and the order takes its total from the account into escrow;
// refunds go from escrow back to the account and, for the card part, on to the card;
// closing moves escrow to the provider (less commission) and the platform (fee).
import { sql } from 'kysely';
import { SettleError, ruleRefused } from '../../domain/errors.js';
import { newId } from '../../domain/ids.js';
import { percentOfMinor, percentToBasisPoints } from '../../domain/money.js';
import { accountId, customerCredit, orderEscrow, platform, providerPayable, type AccountRef } from '../../ledger/accounts.js';
import type { PostInput, PostOptions } from '../../ledger/ledger.js';
import { actorLabel } from '../context.js';
import { insertRefund, newRefundRow, orderPaymentSource, refundView, type RefundView } from '../refund-records.js';
import type { RefundDestination, TransitionContext } from './context.js';
import { PAYOUT_DEADLINE, policiesOf, type OrderRecord, type PaymentRow } from './records.js';
import { findTransition, getProcess, isTerminal } from '../../domain/process/index.js';

export function totalOf(order: { subtotal: number; service_fee: number }): number {
  return Number(order.subtotal) + Number(order.service_fee);
}

/** Account credit first when asked, the rest by card; a declined card throws and changes nothing. */
export async function collectPayment(ctx: TransitionContext): Promise<void> {
  const { order } = ctx.rec;
  const due = totalOf(order) - order.paid;
  if (due <= 0) return;
  const credit = customerCredit(order.customer_id, order.currency);
  // Mostly the credit covers it all: one statement takes it, if it does (see payAllFromCredit).
  if (ctx.params.useAccountCredit && (await payAllFromCredit(ctx, due))) return;
  // Locked so the credit we plan to use cannot be spent elsewhere before we take it.
  const available = ctx.params.useAccountCredit ? await ctx.s.ledger.lockBalance(ctx.trx, credit) : 0;
  const creditPart = Math.min(available, due);
  const cardPart = due - creditPart;
  const label = actorLabel(ctx.actor);
  if (cardPart > 0) {
    if (!ctx.params.paymentMethod) {
      throw ruleRefused('payment_method_required', `${cardPart} is left to pay by card: send paymentMethod${ctx.params.useAccountCredit ? '' : ' or useAccountCredit'}.`, {
        param: 'paymentMethod',
        amountDue: cardPart,
      });
    }
    const charge = await ctx.s.payments.charge({
      paymentMethod: ctx.params.paymentMethod,
      amountMinor: cardPart,
      currency: order.currency,
      idempotencyKey: `${ctx.idempotencyKey}:order-payment`,
      description: `Order ${order.number}`,
    });
    if (!charge.ok) {
      throw new SettleError(charge.code === 'invalid_payment_method' ? 400 : 402, 'card_error', charge.code, charge.message, { param: 'paymentMethod' });
    }
    const payment = paymentRow(ctx, { method: 'card', amount: cardPart, paymentMethod: ctx.params.paymentMethod, reference: charge.reference });
    await postWith(ctx, payment, {
      type: 'order_card_payment',
      currency: order.currency,
      postings: [
        { account: platform('card_clearing', order.currency), amountMinor: -cardPart },
        { account: credit, amountMinor: cardPart },
      ],
      actor: label,
      memo: `Card payment for order ${order.number}`,
      customerId: order.customer_id,
      providerId: order.provider_id,
      orderId: order.id,
      cause: { type: 'payment', id: payment.id },
      createdAt: ctx.now,
    });
  }
  const payment = paymentRow(ctx, { method: 'account_credit', amount: creditPart, paymentMethod: null, reference: null });
  await postWith(ctx, creditPart > 0 ? payment : null, creditToEscrow(ctx, due, payment.id));
  order.paid += due;
  ctx.event.payment = { amount: due, accountCredit: creditPart, card: cardPart };
}

const CREDIT_SHORT = new SettleError(402, 'card_error', 'credit_short', 'internal: the credit does not cover the order');

/**
 * Pays the whole amount from account credit when the credit covers it, in one statement:
 * the guard locks the credit's balance row and checks it before anything is written, so a
 * short balance writes nothing and the caller goes on to split between credit and card.
 *
 * On this process's copy of the order (not in a dry run) it does not wait to learn whether
 * the credit covers it: the write is deferred (it goes out with the transition's own) and a
 * short balance fails the transaction, which runTransition then runs again the long way (no
 * copy then, so no shortcut). The copy's check is deferred too, and together they save the
 * round trip a read-and-decide would cost.
 */
async function payAllFromCredit(ctx: TransitionContext, due: number): Promise<boolean> {
  const { order } = ctx.rec;
  const payment = paymentRow(ctx, { method: 'account_credit', amount: due, paymentMethod: null, reference: null });
  const posting = creditToEscrow(ctx, due, payment.id);
  if (ctx.fromCopy && !ctx.dryRun) {
    ctx.againOnBalanceRefusal = true;
    await postWith(ctx, payment, posting);
  } else {
    const credit = customerCredit(order.customer_id, order.currency);
    try {
      await postWith(ctx, payment, posting, {
        condition: sql`(select b.balance >= ${due}::int8 from account_balances b where b.account_id = ${accountId(credit)} and b.shard = 0 for update)`,
        error: () => CREDIT_SHORT,
      });
    } catch (err) {
      if (err === CREDIT_SHORT) return false;
      throw err;
    }
  }
  order.paid += due;
  ctx.event.payment = { amount: due, accountCredit: due, card: 0 };
  return true;
}

/** The order takes `amountMinor` from the customer's account into its escrow. */
function creditToEscrow(ctx: TransitionContext, amountMinor: number, paymentId: string): Omit<PostInput, 'id'> {
  const { order } = ctx.rec;
  return {
    type: 'order_payment',
    currency: order.currency,
    postings: [
      { account: customerCredit(order.customer_id, order.currency), amountMinor: -amountMinor },
      { account: orderEscrow(order.id, order.currency), amountMinor },
    ],
    actor: actorLabel(ctx.actor),
    memo: `Payment for order ${order.number}`,
    customerId: order.customer_id,
    providerId: order.provider_id,
    orderId: order.id,
    cause: { type: 'payment', id: paymentId },
    createdAt: ctx.now,
  };
}

function paymentRow(
  ctx: TransitionContext,
  p: { method: 'card' | 'account_credit'; amount: number; paymentMethod: string | null; reference: string | null },
): PaymentRow {
  const { order } = ctx.rec;
  return {
    id: newId('payment'),
    order_id: order.id,
    customer_id: order.customer_id,
    method: p.method,
    amount: p.amount,
    currency: order.currency,
    refunded_amount: 0,
    payment_method: p.paymentMethod,
    provider_reference: p.reference,
    transaction_id: newId('transaction'),
    created_at: ctx.now,
  };
}

/**
 * Ledger writes that only the balance limit can refuse go out with the transition's next
 * statement (ledger.post `deferred`); its refusal then fails that statement and is decoded
 * as the ledger's (balanceRefusal). A dry run (a cancellation quote) is rolled back and
 * would drop them unsent, so it writes them at once, to meet the same refusals.
 */
function deferredUnlessDryRun(ctx: TransitionContext): { deferred: boolean } {
  return { deferred: !ctx.dryRun };
}

/** Posts the payment's ledger transaction with the payment row (if any) in the same statement. */
async function postWith(ctx: TransitionContext, payment: PaymentRow | null, input: Omit<PostInput, 'id'>, guard?: PostOptions['guard']): Promise<void> {
  // Without a guard it is refused only past the balance limit (the money was just checked,
  // locked or charged): deferred, it goes out with the transition's next statement.
  const deferred = guard ? {} : deferredUnlessDryRun(ctx);
  if (!payment) {
    await ctx.s.ledger.post(ctx.trx, input, deferred);
    return;
  }
  const p = payment;
  const posted = await ctx.s.ledger.post(ctx.trx, { ...input, id: p.transaction_id }, {
    ...(guard ? { guard } : deferred),
    companions: [
      sql`insert into order_payments (id, order_id, customer_id, method, amount, currency, payment_method, provider_reference, transaction_id, created_at)
        select ${p.id}, ${p.order_id}, ${p.customer_id}, ${p.method}, ${p.amount}::int8, ${p.currency}, ${p.payment_method}::text,
          ${p.provider_reference}::text, txn.id, ${p.created_at.toISOString()}::timestamptz
        from txn`,
    ],
  });
  if (posted.companionRows[0] !== 1) throw new Error(`payment ${p.id} was not written`);
  ctx.rec.payments.push(p);
}

interface RefundInput {
  amountMinor: number;
  destination: RefundDestination;
  reason: string | null;
  explanation?: unknown;
  serviceFeeMinor?: number;
}

/**
 * Refunds `amountMinor` of the order's escrow to the customer's account and, when the
 * destination is the card, sends as much of it as the order's card payments can take
 * back on to them (the rest stays in the account, as seed 000 says).
 */
export async function refundFromEscrow(ctx: TransitionContext, input: RefundInput): Promise<void> {
  await refundOrderMoney(ctx, input, orderEscrow(ctx.rec.order.id, ctx.rec.order.currency));
}

/**
 * What staff can still refund: while the order holds its money, what was paid and not
 * refunded; once it has ended (under a process version whose `refund` allows it), no more
 * than its provider payout has left while that is not paid (refundFromPayout).
 */
export function refundableNow({ order, payout }: OrderRecord): number {
  const notRefunded = order.paid - order.refunded;
  const process = getProcess(order.process, order.process_version);
  if (!process || !isTerminal(process, order.state)) return notRefunded;
  if (!findTransition(process, order.state, 'refund').ok) return 0;
  return payout?.status === 'scheduled' ? Math.min(notRefunded, payout.amount) : 0;
}

/** The `within_refundable` guard: 409 once an ended order's payout was paid, 422 above what is refundable now. */
export function assertRefundable(rec: OrderRecord, amountMinor: number): void {
  // Only an ended order has a payout.
  const { payout } = rec;
  if (payout?.status === 'paid') {
    throw new SettleError(409, 'conflict_error', 'payout_already_paid', `The provider's payout for this order was paid at ${payout.paid_at?.toISOString()}; Settle holds none of this order's money any more.`, {
      payoutId: payout.id,
    });
  }
  const max = refundableNow(rec);
  if (amountMinor > max) {
    const where = payout ? " (from the provider's payout, which is not paid yet)" : '';
    throw ruleRefused('refund_exceeds_refundable', `At most ${max} of this order can still be refunded${where}.`, { maxRefundable: max, param: 'amount' });
  }
}

/**
 * An ended order's refund: its money went to the provider payable and the platform at the
 * close, so the refund comes out of the provider's payout while that is still scheduled
 * (the platform keeps its service fee and commission, as Stripe Connect does by default).
 * The payout shrinks by the amount; refunded in full it is cancelled and never paid. Every
 * write of a payout holds the order's lock (firing.ts payOut touches the order first), so
 * the payout read with the order is current here.
 */
export async function refundFromPayout(ctx: TransitionContext, input: RefundInput): Promise<void> {
  // The within_refundable guard (assertRefundable) has checked the amount against the payout.
  const { order, payout } = ctx.rec;
  if (!payout || input.amountMinor <= 0) return;
  await refundOrderMoney(ctx, input, providerPayable(order.provider_id, order.currency));
  payout.amount -= input.amountMinor;
  if (payout.amount === 0) {
    payout.status = 'cancelled';
    if (ctx.rec.deadline?.transition === PAYOUT_DEADLINE) ctx.rec.deadline = null;
  }
  ctx.event.payoutAfterRefund = { id: payout.id, amount: payout.amount, status: payout.status };
  if (ctx.dryRun) return;
  const updated = await sql`update payouts set amount = amount - ${input.amountMinor}::int8, status = ${payout.status}
    where id = ${payout.id} and status = 'scheduled' and amount >= ${input.amountMinor}::int8`.execute(ctx.trx);
  // The order's lock keeps the payout as read: anything else is a bug.
  if (Number(updated.numAffectedRows ?? 0) !== 1) throw new Error(`payout ${payout.id} was not reduced by ${input.amountMinor}`);
}

/** Refunds `amountMinor` from `source` (the order's escrow, or the provider payable) to the customer, on to cards as asked. */
async function refundOrderMoney(ctx: TransitionContext, input: RefundInput, source: AccountRef): Promise<void> {
  const { order } = ctx.rec;
  if (input.amountMinor <= 0) return;
  if (order.refunded + input.amountMinor > order.paid) {
    throw ruleRefused('refund_exceeds_refundable', `At most ${order.paid - order.refunded} of this order can still be refunded.`, {
      maxRefundable: order.paid - order.refunded,
    });
  }
  // What goes on to cards is known before anything is written (the payments are read
  // under the order's lock), so the account-credit refund row rides in the ledger's statement.
  const cardParts = input.destination === 'card' ? splitOverCards(ctx.rec.payments, input.amountMinor) : [];
  const toAccount = input.amountMinor - cardParts.reduce((s, c) => s + c.amountMinor, 0);
  const refund = newRefundRow({
    source_type: 'order',
    source_id: order.id,
    order_id: order.id,
    customer_id: order.customer_id,
    amount: toAccount,
    currency: order.currency,
    destination: 'account_credit',
    status: 'succeeded',
    reason: input.reason,
    actor: actorLabel(ctx.actor),
    explanation: input.explanation,
    at: ctx.now,
  });
  const posted = await ctx.s.ledger.post(
    ctx.trx,
    {
      id: refund.transaction_id as string,
      type: 'order_refund',
      currency: order.currency,
      postings: [
        { account: source, amountMinor: -input.amountMinor },
        { account: customerCredit(order.customer_id, order.currency), amountMinor: input.amountMinor },
      ],
      actor: refund.actor,
      memo: input.reason ?? `Refund for order ${order.number}`,
      customerId: order.customer_id,
      providerId: order.provider_id,
      orderId: order.id,
      cause: { type: 'refund', id: refund.id },
      createdAt: ctx.now,
    },
    // The source holds what is refunded (checked above and by the caller); refused only past the credit's limit: deferred.
    { ...deferredUnlessDryRun(ctx), ...(toAccount > 0 ? { companions: [insertRefund(refund)] } : {}) },
  );
  order.refunded += input.amountMinor;
  order.service_fee_refunded += input.serviceFeeMinor ?? 0;
  // Listed in the order a read lists them (by id: the account part's id was made first).
  if (toAccount > 0) {
    if (posted.companionRows[0] !== 1) throw new Error(`refund ${refund.id} was not written`);
    ctx.refunds.push(refundView(refund));
  }
  // The card parts were split under the order's lock (caps) and their money is the credit
  // this transaction just moved in (and holds locked): only a bug refuses them, deferred.
  for (const c of cardParts) await reserveCardRefund(ctx, c.payment, c.amountMinor, input.reason, input.explanation, deferredUnlessDryRun(ctx));
}

/** How `amountMinor` goes back to the card payments: largest remaining first. */
function splitOverCards(payments: PaymentRow[], amountMinor: number): { payment: PaymentRow; amountMinor: number }[] {
  let left = amountMinor;
  const parts: { payment: PaymentRow; amountMinor: number }[] = [];
  const cards = payments
    .filter((p) => p.method === 'card' && p.amount - p.refunded_amount > 0)
    .sort((a, b) => b.amount - b.refunded_amount - (a.amount - a.refunded_amount));
  for (const payment of cards) {
    if (left === 0) break;
    const part = Math.min(left, payment.amount - payment.refunded_amount);
    parts.push({ payment, amountMinor: part });
    left -= part;
  }
  return parts;
}

async function reserveCardRefund(
  ctx: TransitionContext,
  payment: PaymentRow,
  amountMinor: number,
  reason: string | null,
  explanation: unknown,
  options: { deferred: boolean } = { deferred: false },
): Promise<RefundView> {
  const source = orderPaymentSource(payment);
  const refund = await ctx.cardRefunds.reserve(ctx.trx, source, { amountMinor, reason, actor: ctx.actor, explanation }, options);
  payment.refunded_amount += amountMinor;
  ctx.refunds.push(refund);
  if (!ctx.dryRun) ctx.afterCommit.push((alsoWrite) => ctx.cardRefunds.sendReservedWith(refund, source, alsoWrite ?? null));
  return refund;
}

/**
 * The most that can go back to `payment` now: what it captured minus what already went
 * back to it, no more than this order returned to the account and has not yet sent to a
 * card, and no more than the customer's available credit.
 */
export async function cardRefundable(ctx: TransitionContext, payment: PaymentRow): Promise<number> {
  const { order } = ctx.rec;
  const sentToCards = ctx.rec.payments.filter((p) => p.method === 'card').reduce((s, p) => s + p.refunded_amount, 0);
  const inAccount = order.refunded - sentToCards;
  const balance = await ctx.s.ledger.balance(ctx.trx, customerCredit(order.customer_id, order.currency));
  return Math.max(0, Math.min(payment.amount - payment.refunded_amount, inAccount, balance));
}

/** Seed 000's "Refund Money": account credit this order returned → back to its card. */
export async function refundCardPayment(ctx: TransitionContext): Promise<void> {
  const payment = ctx.rec.payments.find((p) => p.id === ctx.params.paymentId) as PaymentRow;
  const amount = ctx.params.amount ?? (await cardRefundable(ctx, payment));
  if (amount <= 0) throw ruleRefused('refund_exceeds_refundable', 'Nothing can go back to this card now.', { maxRefundable: 0 });
  await reserveCardRefund(ctx, payment, amount, ctx.params.reason ?? null, undefined);
}

/**
 * Moves what is left in escrow to the provider (less commission) and the platform (the
 * service fee not refunded, plus commission). Returns what the provider earned.
 */
export async function settleEscrow(ctx: TransitionContext): Promise<number> {
  const { order } = ctx.rec;
  const held = order.paid - order.refunded;
  if (held <= 0) return 0;
  const feeKept = Math.min(held, Number(order.service_fee) - Number(order.service_fee_refunded));
  const providerGross = held - feeKept;
  const commission = percentOfMinor(providerGross, percentToBasisPoints(policiesOf(order).providerCommissionPercent));
  const payable = providerGross - commission;
  // Escrow pays out exactly what it holds: only a bug refuses this; deferred.
  await ctx.s.ledger.post(
    ctx.trx,
    {
      type: 'order_settlement',
      currency: order.currency,
      postings: [
        { account: orderEscrow(order.id, order.currency), amountMinor: -held },
        { account: providerPayable(order.provider_id, order.currency), amountMinor: payable },
        { account: platform('platform_fees', order.currency), amountMinor: feeKept + commission },
      ],
      actor: actorLabel(ctx.actor),
      memo: `Order ${order.number} settled: provider ${payable}, fee ${feeKept}, commission ${commission}`,
      customerId: order.customer_id,
      providerId: order.provider_id,
      orderId: order.id,
      cause: { type: 'order', id: order.id },
      createdAt: ctx.now,
    },
    deferredUnlessDryRun(ctx),
  );
  ctx.event.settlement = { held, providerPayable: payable, serviceFee: feeKept, commission };
  return payable;
}
