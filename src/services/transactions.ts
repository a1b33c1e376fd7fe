// Reading the ledger the way people look at it: a customer's entries (newest first,
// signed from the customer's point of view) and one transaction with its postings.
import { sql } from 'kysely';
import type { Db, Trx } from '../store/db.js';
import { notFound } from '../domain/errors.js';
import type { AccountKind } from '../ledger/accounts.js';
import { toPage, type Page, type PageRequest } from './pagination.js';

export interface TransactionView {
  id: string;
  object: 'transaction';
  type: string;
  /** Signed amount on the customer's account credit (positive adds credit). */
  amount: number;
  currency: string;
  customerId: string | null;
  providerId: string | null;
  orderId: string | null;
  causeType: string;
  causeId: string;
  relatedTransactionId: string | null;
  reverses: string | null;
  reversedBy: string | null;
  memo: string | null;
  actor: string;
  createdAt: string;
}

export interface PostingView {
  accountId: string;
  kind: AccountKind;
  ownerId: string | null;
  amount: number;
}

export type TransactionWithPostings = TransactionView & { postings: PostingView[] };

interface TxnRow {
  id: string;
  type: string;
  currency: string;
  memo: string | null;
  actor: string;
  customer_id: string | null;
  provider_id: string | null;
  order_id: string | null;
  cause_type: string;
  cause_id: string;
  reverses_id: string | null;
  related_id: string | null;
  created_at: Date;
  amount: number;
  reversed_by: string | null;
}

function toView(r: TxnRow): TransactionView {
  return {
    id: r.id,
    object: 'transaction',
    type: r.type,
    amount: Number(r.amount),
    currency: r.currency,
    customerId: r.customer_id,
    providerId: r.provider_id,
    orderId: r.order_id,
    causeType: r.cause_type,
    causeId: r.cause_id,
    relatedTransactionId: r.related_id ?? r.reverses_id,
    reverses: r.reverses_id,
    reversedBy: r.reversed_by,
    memo: r.memo,
    actor: r.actor,
    createdAt: r.created_at.toISOString(),
  };
}

/** The customer's account-credit entries across currencies, newest first. */
export async function listCustomerTransactions(
  db: Db | Trx,
  customerId: string,
  page: PageRequest,
  currency?: string,
): Promise<Page<TransactionView>> {
  const rows = await sql<TxnRow>`
    select t.*, p.amount, r.id as reversed_by
    from accounts a
    join postings p on p.account_id = a.id
    join ledger_transactions t on t.id = p.transaction_id
    left join ledger_transactions r on r.reverses_id = t.id
    where a.kind = 'customer_credit' and a.owner_id = ${customerId}
      ${currency ? sql`and a.currency = ${currency}` : sql``}
      ${page.startingAfter ? sql`and t.id < ${page.startingAfter}` : sql``}
    order by t.id desc
    limit ${page.limit + 1}`.execute(db);
  return toPage(rows.rows.map(toView), page.limit);
}

/**
 * One transaction as seen from `customerId`'s account (amount = their posting), or
 * for staff from the customer it concerns; postings included for staff.
 */
export async function getTransaction(
  db: Db | Trx,
  id: string,
): Promise<TransactionWithPostings> {
  const t = await db.selectFrom('ledger_transactions').selectAll().where('id', '=', id).executeTakeFirst();
  if (!t) throw notFound('transaction', id);
  const postings = await db
    .selectFrom('postings as p')
    .innerJoin('accounts as a', 'a.id', 'p.account_id')
    .select(['p.account_id', 'p.amount', 'a.kind', 'a.owner_id'])
    .where('p.transaction_id', '=', id)
    .orderBy('p.account_id')
    .execute();
  const reversal = await db.selectFrom('ledger_transactions').select('id').where('reverses_id', '=', id).executeTakeFirst();
  const customerPosting = postings.find((p) => p.kind === 'customer_credit' && p.owner_id === t.customer_id);
  return {
    ...toView({ ...t, amount: customerPosting ? Number(customerPosting.amount) : 0, reversed_by: reversal?.id ?? null }),
    postings: postings.map((p) => ({ accountId: p.account_id, kind: p.kind as AccountKind, ownerId: p.owner_id, amount: Number(p.amount) })),
  };
}
