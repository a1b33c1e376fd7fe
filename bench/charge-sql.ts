// The SQL of one charge as the server sends it today (src/services/charges.ts,
// src/ledger/ledger.ts, src/http/idempotency.ts) and as one statement, written with
// pgbench variables (:c customer, :p provider, :amt amount, :fee commission, :neg/:net
// the postings, :shard fee shard, :n unique number), on a business of 1,000 customers
// (cus_b0…) and 50 providers (prv_b0…) that SETUP creates on a migrated database.
// bench/sqlbench.ts runs them with pgbench, bench/pglitebench.ts on PGlite.

export const SETUP = /* sql */ `
insert into customers (id, email, name, created_at)
  select 'cus_b' || n, 'c' || n || '@bench.example', 'Customer ' || n, now() from generate_series(0, 999) n;
insert into providers (id, email, name, created_at)
  select 'prv_b' || n, 'p' || n || '@bench.example', 'Provider ' || n, now() from generate_series(0, 49) n;
insert into accounts (id, kind, owner_id, currency, allow_negative, shards, created_at)
  select 'acct_customer_credit_cus_b' || n || '_USD', 'customer_credit', 'cus_b' || n, 'USD', false, 1, now() from generate_series(0, 999) n
  union all
  select 'acct_provider_payable_prv_b' || n || '_USD', 'provider_payable', 'prv_b' || n, 'USD', true, 1, now() from generate_series(0, 49) n
  union all
  select 'acct_platform_fees_platform_USD', 'platform_fees', null, 'USD', true, 64, now();
insert into account_balances (account_id, shard, allow_negative, balance)
  select id, s::int2, allow_negative, case when kind = 'customer_credit' then 1000000000 else 0 end
  from accounts, generate_series(0, shards - 1) s;
-- The customers' credit came from somewhere: one opening transaction keeps the check clean.
insert into accounts (id, kind, owner_id, currency, allow_negative, shards, created_at)
  values ('acct_card_clearing_platform_USD', 'card_clearing', null, 'USD', true, 1, now());
insert into account_balances (account_id, shard, allow_negative, balance) values ('acct_card_clearing_platform_USD', 0, true, -1000000000000);
insert into ledger_transactions (id, type, currency, actor, cause_type, cause_id, created_at)
  values ('txn_bench_opening', 'top_up', 'USD', 'system', 'top_up', 'tu_bench_opening', now());
insert into postings (transaction_id, account_id, amount)
  select 'txn_bench_opening', id, 1000000000 from accounts where kind = 'customer_credit'
  union all select 'txn_bench_opening', 'acct_card_clearing_platform_USD', -1000000000000;
analyze;
`;

export const VARS = (feeShards: number) => `\\set c random(0, 999)
\\set p random(0, 49)
\\set amt random(100, 999)
\\set fee :amt / 5
\\set neg -1 * :amt
\\set net :amt - :fee
\\set shard random(0, ${feeShards - 1})
\\set n random(1, 1000000000000000)
`;

// What the server sends today for one charge (src/services/charges.ts, src/ledger/ledger.ts,
// src/http/idempotency.ts), with the same shapes and parameters.
export const INSERT_CHARGE = `insert into "charges" ("id", "customer_id", "provider_id", "amount", "currency", "description", "commission_amount", "status", "transaction_id", "created_at") values ('ch_b' || :n::text, 'cus_b' || :c::text, 'prv_b' || :p::text, :amt, 'USD', 'Private chat, 5 minutes', :fee, 'succeeded', 'txn_b' || :n::text, now()) returning *;`;
export const LEDGER_POST = `with v (account_id, shard, delta) as (values ('acct_customer_credit_cus_b' || :c::text || '_USD'::text, 0::int2, (:neg)::int8), ('acct_platform_fees_platform_USD'::text, :shard::int2, :fee::int8), ('acct_provider_payable_prv_b' || :p::text || '_USD'::text, 0::int2, (:net)::int8)), upd as (update account_balances b set balance = b.balance + v.delta from v where b.account_id = v.account_id and b.shard = v.shard and (b.allow_negative or b.balance + v.delta >= 0) returning b.account_id), txn as (insert into ledger_transactions (id, type, currency, memo, actor, customer_id, provider_id, order_id, cause_type, cause_id, reverses_id, related_id, created_at) select 'txn_b' || :n::text, 'charge', 'USD', 'Private chat, 5 minutes', 'admin-key_bench', 'cus_b' || :c::text, 'prv_b' || :p::text, null, 'charge', 'ch_b' || :n::text, null, null, now() where (select count(*) from upd) = 3 returning id), posted as (insert into postings (transaction_id, account_id, amount) select txn.id, v.account_id, v.delta from txn, v returning 1) select (select count(*) from upd)::int as updated, (select min(v.account_id) from v where v.account_id not in (select account_id from upd)) as failed;`;
const RESPONSE = `'{"id":"ch_b","object":"charge","customerId":"cus_b","providerId":"prv_b","amount":500,"currency":"USD","description":"Private chat, 5 minutes","commissionAmount":100,"refundedAmount":0,"refundableAmount":500,"status":"succeeded","transactionId":"txn_b","createdAt":"2026-11-21"}'`;
export const IDEM = `insert into "idempotency_keys" ("scope", "key", "request_hash", "status_code", "response") values ('key_bench', 'k' || :n::text, md5(:n::text), 200, ${RESPONSE}) on conflict ("scope", "key") do nothing returning "key";`;

// The whole charge as one statement: idempotency record first; nothing else happens
// unless it is new and every balance update passes.
export const ONE_STATEMENT = `with v (account_id, shard, delta) as (values ('acct_customer_credit_cus_b' || :c::text || '_USD'::text, 0::int2, (:neg)::int8), ('acct_platform_fees_platform_USD'::text, :shard::int2, :fee::int8), ('acct_provider_payable_prv_b' || :p::text || '_USD'::text, 0::int2, (:net)::int8)), idem as (insert into idempotency_keys (scope, key, request_hash, status_code, response) values ('key_bench', 'k' || :n::text, md5(:n::text), 200, ${RESPONSE}) on conflict (scope, key) do nothing returning 1), upd as (update account_balances b set balance = b.balance + v.delta from v where b.account_id = v.account_id and b.shard = v.shard and (b.allow_negative or b.balance + v.delta >= 0) and exists (select 1 from idem) returning b.account_id), txn as (insert into ledger_transactions (id, type, currency, memo, actor, customer_id, provider_id, order_id, cause_type, cause_id, reverses_id, related_id, created_at) select 'txn_b' || :n::text, 'charge', 'USD', 'Private chat, 5 minutes', 'admin-key_bench', 'cus_b' || :c::text, 'prv_b' || :p::text, null, 'charge', 'ch_b' || :n::text, null, null, now() where (select count(*) from upd) = 3 returning id), posted as (insert into postings (transaction_id, account_id, amount) select txn.id, v.account_id, v.delta from txn, v returning 1), ch as (insert into charges (id, customer_id, provider_id, amount, currency, description, commission_amount, status, transaction_id, created_at) select 'ch_b' || :n::text, 'cus_b' || :c::text, 'prv_b' || :p::text, :amt, 'USD', 'Private chat, 5 minutes', :fee, 'succeeded', txn.id, now() from txn returning 1) select (select count(*) from idem)::int as idem, (select count(*) from upd)::int as updated;`;

/** The same SQL with positional parameters ($1…) and the values for one charge. */
export function positional(sqlText: string): { text: string; names: string[] } {
  const names: string[] = [];
  const text = sqlText.replace(/(?<!:):(n|c|p|amt|fee|neg|net|shard)\b/g, (_, name: string) => {
    let i = names.indexOf(name);
    if (i < 0) i = names.push(name) - 1;
    return `$${i + 1}`;
  });
  return { text, names };
}

export function chargeValues(n: number, feeShards: number): Record<string, number> {
  const amt = 100 + Math.floor(Math.random() * 900);
  const fee = Math.floor(amt / 5);
  return { n, c: Math.floor(Math.random() * 1000), p: Math.floor(Math.random() * 50), amt, fee, neg: -amt, net: amt - fee, shard: Math.floor(Math.random() * feeShards) };
}
