// Fills a Settle database with many ledger postings quickly, straight in SQL
// (generate_series), shaped like real traffic and consistent with the kept balances,
// so `settle check` stays clean:
//   - top-ups: card_clearing → customer credit (2 postings each) with their top_ups rows;
//   - charges: customer credit → provider payable + platform fees (3 postings each,
//     2 when the commission rounds to 0) with their charges rows;
//   - each account's balance (shard 0) is raised by the sum of its new postings.
// Foreign-key triggers are switched off for the load (session_replication_role =
// replica); the rows are built to satisfy them, and the check afterwards proves it.
// Bulk ids start with 0000BULK, so they sort before (older than) every real id.

export interface BulkPlan {
  topUps: number;
  charges: number;
  commissionPercent: number;
}

/** Enough top-ups and charges for about `postings` postings (half from each). */
export function planFor(postings: number, commissionPercent: number): BulkPlan {
  const perCharge = commissionPercent > 0 ? 3 : 2;
  const topUps = Math.ceil(postings / 2 / 2);
  const charges = Math.ceil((postings - topUps * 2) / perCharge);
  return { topUps, charges, commissionPercent };
}

export function bulkSql(plan: BulkPlan): string {
  const { topUps, charges } = plan;
  const pct = Number(plan.commissionPercent);
  return /* sql */ `
begin;
set local session_replication_role = replica;
create temp table bench_c on commit drop as select (row_number() over (order by id) - 1)::int as n, id from customers;
create temp table bench_p on commit drop as select (row_number() over (order by id) - 1)::int as n, id from providers;

insert into accounts (id, kind, owner_id, currency, allow_negative, shards, created_at) values
  ('acct_card_clearing_platform_USD', 'card_clearing', null, 'USD', true, 8, now()),
  ('acct_platform_fees_platform_USD', 'platform_fees', null, 'USD', true, 8, now())
  on conflict do nothing;
insert into accounts (id, kind, owner_id, currency, allow_negative, shards, created_at)
  select 'acct_customer_credit_' || id || '_USD', 'customer_credit', id, 'USD', false, 1, now() from bench_c
  on conflict do nothing;
insert into accounts (id, kind, owner_id, currency, allow_negative, shards, created_at)
  select 'acct_provider_payable_' || id || '_USD', 'provider_payable', id, 'USD', true, 1, now() from bench_p
  on conflict do nothing;
insert into account_balances (account_id, shard, allow_negative)
  select a.id, s::int2, a.allow_negative from accounts a, generate_series(0, a.shards - 1) s
  on conflict do nothing;

create temp table bench_tu on commit drop as
  select g,
    'txn_0000BULKT' || lpad(g::text, 17, '0') as txn,
    'tu_0000BULKT' || lpad(g::text, 17, '0') as id,
    c.id as customer_id,
    (10000 + (g % 7) * 100)::int8 as amount,
    timestamptz '2026-09-01T00:00:00Z' + g * interval '5 ms' as at
  from generate_series(1, ${topUps}) g
  join bench_c c on c.n = g % (select count(*)::int from bench_c);

insert into ledger_transactions (id, type, currency, memo, actor, customer_id, provider_id, order_id, cause_type, cause_id, reverses_id, related_id, created_at)
  select txn, 'top_up', 'USD', 'Top-up by card (pm_card_visa)', 'system', customer_id, null, null, 'top_up', id, null, null, at from bench_tu;
insert into top_ups (id, customer_id, amount, currency, payment_method, provider_reference, refunded_amount, transaction_id, created_at)
  select id, customer_id, amount, 'USD', 'pm_card_visa', 'sandbox_bulk_' || g, 0, txn, at from bench_tu;
insert into postings (transaction_id, account_id, amount)
  select txn, 'acct_card_clearing_platform_USD', -amount from bench_tu
  union all
  select txn, 'acct_customer_credit_' || customer_id || '_USD', amount from bench_tu;

create temp table bench_ch on commit drop as
  select g,
    'txn_0000BULKC' || lpad(g::text, 17, '0') as txn,
    'ch_0000BULKC' || lpad(g::text, 17, '0') as id,
    c.id as customer_id,
    p.id as provider_id,
    (100 + (g % 900))::int8 as amount,
    ((100 + (g % 900)) * ${pct} / 100)::int8 as commission,
    timestamptz '2026-10-01T00:00:00Z' + g * interval '5 ms' as at
  from generate_series(1, ${charges}) g
  join bench_c c on c.n = g % (select count(*)::int from bench_c)
  join bench_p p on p.n = (g / 7) % (select count(*)::int from bench_p);

insert into ledger_transactions (id, type, currency, memo, actor, customer_id, provider_id, order_id, cause_type, cause_id, reverses_id, related_id, created_at)
  select txn, 'charge', 'USD', 'Private chat', 'system', customer_id, provider_id, null, 'charge', id, null, null, at from bench_ch;
insert into charges (id, customer_id, provider_id, amount, currency, description, commission_amount, refunded_amount, commission_refunded, status, transaction_id, created_at)
  select id, customer_id, provider_id, amount, 'USD', 'Private chat', commission, 0, 0, 'succeeded', txn, at from bench_ch;
insert into postings (transaction_id, account_id, amount)
  select txn, 'acct_customer_credit_' || customer_id || '_USD', -amount from bench_ch
  union all
  select txn, 'acct_provider_payable_' || provider_id || '_USD', amount - commission from bench_ch
  union all
  select txn, 'acct_platform_fees_platform_USD', commission from bench_ch where commission > 0;

update account_balances b set balance = b.balance + d.delta
  from (
    select account_id, sum(delta)::int8 as delta from (
      select 'acct_card_clearing_platform_USD' as account_id, -sum(amount) as delta from bench_tu
      union all select 'acct_customer_credit_' || customer_id || '_USD', sum(amount) from bench_tu group by customer_id
      union all select 'acct_customer_credit_' || customer_id || '_USD', -sum(amount) from bench_ch group by customer_id
      union all select 'acct_provider_payable_' || provider_id || '_USD', sum(amount - commission) from bench_ch group by provider_id
      union all select 'acct_platform_fees_platform_USD', coalesce(sum(commission), 0) from bench_ch
    ) u group by account_id
  ) d
  where b.account_id = d.account_id and b.shard = 0;
commit;
`;
}
