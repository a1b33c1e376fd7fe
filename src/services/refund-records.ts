// A refund's record: its row, how it is written (in its ledger transaction's statement) and
// its API view; and the card payments money can go back to. Shared by the card refunds
// (card-refunds.ts), top-ups, charges and orders.
import { sql, type Selectable } from 'kysely';
import type { RefundsTable } from '../store/schema.js';
import { newId } from '../domain/ids.js';

export interface RefundView {
  id: string;
  object: 'refund';
  sourceType: RefundsTable['source_type'];
  sourceId: string;
  orderId: string | null;
  customerId: string;
  amount: number;
  currency: string;
  destination: 'card' | 'account_credit';
  status: RefundsTable['status'];
  reason: string | null;
  failureReason: string | null;
  attempts: number;
  transactionId: string | null;
  /** For order refunds: why this amount (the quote lines it came from). */
  explanation: unknown;
  createdAt: string;
  updatedAt: string;
}

export type RefundRow = Selectable<RefundsTable>;

export function refundView(r: RefundRow): RefundView {
  return {
    id: r.id,
    object: 'refund',
    sourceType: r.source_type,
    sourceId: r.source_id,
    orderId: r.order_id,
    customerId: r.customer_id,
    amount: Number(r.amount),
    currency: r.currency,
    destination: r.destination,
    status: r.status,
    reason: r.reason,
    failureReason: r.failure_reason,
    attempts: r.attempts,
    transactionId: r.transaction_id,
    explanation: r.explanation ?? null,
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
  };
}

/** A card payment that money can go back to: a top-up or an order's card payment. */
export interface CardSource {
  type: 'top_up' | 'order_payment';
  id: string;
  orderId: string | null;
  customerId: string;
  currency: string;
  paymentMethod: string;
  providerReference: string;
}

export function topUpSource(t: {
  id: string;
  customer_id: string;
  currency: string;
  payment_method: string;
  provider_reference: string;
}): CardSource {
  return {
    type: 'top_up',
    id: t.id,
    orderId: null,
    customerId: t.customer_id,
    currency: t.currency,
    paymentMethod: t.payment_method,
    providerReference: t.provider_reference,
  };
}

export function orderPaymentSource(p: {
  id: string;
  order_id: string;
  customer_id: string;
  currency: string;
  payment_method: string | null;
  provider_reference: string | null;
}): CardSource {
  if (!p.payment_method || !p.provider_reference) throw new Error(`payment ${p.id} is not a card payment`);
  return {
    type: 'order_payment',
    id: p.id,
    orderId: p.order_id,
    customerId: p.customer_id,
    currency: p.currency,
    paymentMethod: p.payment_method,
    providerReference: p.provider_reference,
  };
}

/**
 * A new refund's row, before it is written (insertRefund): its first attempt, nothing from
 * a card provider yet, its ids (the refund's and its ledger transaction's) new, and the
 * explanation as it will read back from jsonb.
 */
export function newRefundRow(
  r: Pick<RefundRow, 'source_type' | 'source_id' | 'order_id' | 'customer_id' | 'amount' | 'currency' | 'destination' | 'status' | 'reason' | 'actor'> & {
    explanation: unknown;
    at: Date;
  },
): RefundRow {
  // Named field by field, not spread: on Node 20 each property after a spread costs ~1 µs.
  return {
    id: newId('refund'),
    source_type: r.source_type,
    source_id: r.source_id,
    order_id: r.order_id,
    customer_id: r.customer_id,
    amount: r.amount,
    currency: r.currency,
    destination: r.destination,
    status: r.status,
    reason: r.reason,
    actor: r.actor,
    explanation: r.explanation === undefined ? null : (JSON.parse(JSON.stringify(r.explanation)) as unknown),
    failure_reason: null,
    provider_reference: null,
    attempts: 1,
    transaction_id: newId('transaction'),
    created_at: r.at,
    updated_at: r.at,
  };
}

/** The refund row, as a companion of its ledger transaction: written only with it (`from txn`). */
export function insertRefund(r: RefundRow) {
  return sql`insert into refunds (id, source_type, source_id, order_id, explanation, customer_id, amount, currency,
      destination, status, reason, failure_reason, provider_reference, actor, attempts, transaction_id, created_at, updated_at)
    select ${r.id}, ${r.source_type}, ${r.source_id}, ${r.order_id}, ${r.explanation === null ? null : JSON.stringify(r.explanation)}::jsonb,
      ${r.customer_id}, ${r.amount}::int8, ${r.currency}, ${r.destination}, ${r.status}, ${r.reason}::text, ${r.failure_reason}::text,
      ${r.provider_reference}::text, ${r.actor}, ${r.attempts}::int, txn.id, ${r.created_at.toISOString()}::timestamptz,
      ${r.updated_at.toISOString()}::timestamptz
    from txn`;
}
