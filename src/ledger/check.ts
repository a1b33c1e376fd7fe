// The proof: re-derive every balance from the postings and compare it with the kept
// balance; every transaction must balance to zero and have postings in its own
// currency; non-negative accounts must not be negative; and the records that cap
// refunds must agree with the refunds that used them.
import { sql } from 'kysely';
import type { Db } from '../store/db.js';

export interface CheckProblem {
  kind: string;
  id: string;
  detail: string;
}

export interface CheckReport {
  ok: boolean;
  accounts: number;
  transactions: number;
  postings: number;
  pendingRefunds: number;
  problems: CheckProblem[];
}

const MAX_PROBLEMS_PER_RULE = 100;

async function rows<T>(db: Db, query: ReturnType<typeof sql<T>>): Promise<T[]> {
  return (await query.execute(db)).rows;
}

export async function checkLedger(db: Db): Promise<CheckReport> {
  const problems: CheckProblem[] = [];
  const add = (kind: string, list: { id: string; detail: string }[]) => list.forEach((p) => problems.push({ kind, ...p }));

  add('balance_mismatch', await rows(db, sql<{ id: string; detail: string }>`
    select a.id, 'kept ' || coalesce(b.total, 0) || ' but postings sum to ' || coalesce(p.total, 0) as detail
    from accounts a
    left join (select account_id, sum(balance) as total from account_balances group by 1) b on b.account_id = a.id
    left join (select account_id, sum(amount) as total from postings group by 1) p on p.account_id = a.id
    where coalesce(b.total, 0) <> coalesce(p.total, 0)
    limit ${MAX_PROBLEMS_PER_RULE}`));

  add('unbalanced_transaction', await rows(db, sql<{ id: string; detail: string }>`
    select t.id, 'postings sum to ' || coalesce(sum(p.amount), 0) || ' (' || count(p.account_id) || ' postings)' as detail
    from ledger_transactions t left join postings p on p.transaction_id = t.id
    group by t.id having coalesce(sum(p.amount), 0) <> 0 or count(p.account_id) = 0
    limit ${MAX_PROBLEMS_PER_RULE}`));

  // Proven by the write path rather than by foreign keys (migration 005), so checked here.
  add('orphan_posting', await rows(db, sql<{ id: string; detail: string }>`
    select p.transaction_id as id,
      case when t.id is null then 'posting to ' || p.account_id || ' has no transaction'
           else 'posting to missing account ' || p.account_id end as detail
    from postings p
    left join ledger_transactions t on t.id = p.transaction_id
    left join accounts a on a.id = p.account_id
    where t.id is null or a.id is null
    limit ${MAX_PROBLEMS_PER_RULE}`));

  add('orphan_charge', await rows(db, sql<{ id: string; detail: string }>`
    select c.id, 'missing ' || case when t.id is null then 'ledger transaction ' || c.transaction_id
      when cu.id is null then 'customer ' || c.customer_id else 'provider ' || c.provider_id end as detail
    from charges c
    left join ledger_transactions t on t.id = c.transaction_id
    left join customers cu on cu.id = c.customer_id
    left join providers pr on pr.id = c.provider_id
    where t.id is null or cu.id is null or pr.id is null
    limit ${MAX_PROBLEMS_PER_RULE}`));

  add('currency_mismatch', await rows(db, sql<{ id: string; detail: string }>`
    select t.id, 'posting to ' || a.id || ' in a ' || t.currency || ' transaction' as detail
    from postings p join ledger_transactions t on t.id = p.transaction_id join accounts a on a.id = p.account_id
    where a.currency <> t.currency
    limit ${MAX_PROBLEMS_PER_RULE}`));

  add('negative_balance', await rows(db, sql<{ id: string; detail: string }>`
    select a.id, 'balance ' || sum(b.balance) as detail
    from accounts a join account_balances b on b.account_id = a.id
    where not a.allow_negative group by a.id having sum(b.balance) < 0
    limit ${MAX_PROBLEMS_PER_RULE}`));

  add('top_up_refunds_mismatch', await rows(db, sql<{ id: string; detail: string }>`
    select t.id, 'refunded_amount ' || t.refunded_amount || ' but pending+succeeded card refunds total ' || coalesce(r.total, 0) as detail
    from top_ups t
    left join (select source_id, sum(amount) as total from refunds
               where source_type = 'top_up' and status in ('pending', 'succeeded') group by 1) r on r.source_id = t.id
    where t.refunded_amount <> coalesce(r.total, 0)
    limit ${MAX_PROBLEMS_PER_RULE}`));

  add('charge_refunds_mismatch', await rows(db, sql<{ id: string; detail: string }>`
    select c.id, 'refunded_amount ' || c.refunded_amount || ' but succeeded refunds total ' || coalesce(r.total, 0) as detail
    from charges c
    left join (select source_id, sum(amount) as total from refunds
               where source_type = 'charge' and status = 'succeeded' group by 1) r on r.source_id = c.id
    where c.refunded_amount <> coalesce(r.total, 0)
    limit ${MAX_PROBLEMS_PER_RULE}`));

  // Orders: escrow holds exactly paid − refunded until the order ends, then nothing.
  add('order_escrow_mismatch', await rows(db, sql<{ id: string; detail: string }>`
    select o.id, 'escrow holds ' || coalesce(b.total, 0) || ' but paid − refunded is ' || (o.paid - o.refunded)
      || case when o.closed_at is not null then ' (order ended: expected 0)' else '' end as detail
    from orders o
    left join accounts a on a.kind = 'order_escrow' and a.owner_id = o.id
    left join (select account_id, sum(balance) as total from account_balances group by 1) b on b.account_id = a.id
    where coalesce(b.total, 0) <> case when o.closed_at is null then o.paid - o.refunded else 0 end
    limit ${MAX_PROBLEMS_PER_RULE}`));

  add('card_payment_refunds_mismatch', await rows(db, sql<{ id: string; detail: string }>`
    select p.id, 'refunded_amount ' || p.refunded_amount || ' but pending+succeeded card refunds total ' || coalesce(r.total, 0) as detail
    from order_payments p
    left join (select source_id, sum(amount) as total from refunds
               where source_type = 'order_payment' and status in ('pending', 'succeeded') group by 1) r on r.source_id = p.id
    where p.refunded_amount <> coalesce(r.total, 0)
    limit ${MAX_PROBLEMS_PER_RULE}`));

  add('slot_seats_mismatch', await rows(db, sql<{ id: string; detail: string }>`
    select s.id, 'booked ' || s.booked || ' but lines hold ' || coalesce(l.seats, 0) as detail
    from slots s
    left join (select slot_id, sum(quantity) as seats from order_lines
               where status <> 'cancelled' and slot_id is not null group by 1) l on l.slot_id = s.id
    where s.booked <> coalesce(l.seats, 0)
    limit ${MAX_PROBLEMS_PER_RULE}`));

  const [counts] = await rows(db, sql<{ accounts: number; transactions: number; postings: number; pending: number }>`
    select (select count(*) from accounts)::int as accounts,
           (select count(*) from ledger_transactions)::int as transactions,
           (select count(*) from postings)::int as postings,
           (select count(*) from refunds where status = 'pending')::int as pending`);
  return {
    ok: problems.length === 0,
    accounts: counts?.accounts ?? 0,
    transactions: counts?.transactions ?? 0,
    postings: counts?.postings ?? 0,
    pendingRefunds: counts?.pending ?? 0,
    problems,
  };
}
