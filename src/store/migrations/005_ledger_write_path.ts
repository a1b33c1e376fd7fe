// The ledger's write path, measured (BENCHMARKS.md "Where the time goes"):
//  - Foreign keys on the hottest rows cost more than they prove. Every posting's account
//    FK took FOR KEY SHARE on the platform-fees account row from every concurrent writer
//    (MultiXacts), and the charge's customer/provider FKs did the same on those rows. The
//    ledger proves them without locks: a posting is only written by the statement whose
//    balance update matched that account's balance row, its transaction row is written by
//    the same statement, and a charge's customer and provider are checked in that statement
//    (rows in customers/providers are never deleted). `settle check` re-derives all of it
//    (orphan_posting, orphan_charge).
//  - Platform fees are credited by nearly every money movement: 64 balance shards instead
//    of 8 (the CHECK on accounts.shards allows 64), and a provider's payable gets 4, so
//    concurrent charges rarely queue on one balance row.
export const name = '005_ledger_write_path';
export const up = /* sql */ `
ALTER TABLE postings DROP CONSTRAINT IF EXISTS postings_transaction_id_fkey;
ALTER TABLE postings DROP CONSTRAINT IF EXISTS postings_account_id_fkey;
ALTER TABLE charges DROP CONSTRAINT IF EXISTS charges_transaction_id_fkey;
ALTER TABLE charges DROP CONSTRAINT IF EXISTS charges_customer_id_fkey;
ALTER TABLE charges DROP CONSTRAINT IF EXISTS charges_provider_id_fkey;

UPDATE accounts SET shards = 64 WHERE kind = 'platform_fees';
UPDATE accounts SET shards = 4 WHERE kind = 'provider_payable';
INSERT INTO account_balances (account_id, shard, allow_negative)
SELECT a.id, s.shard, a.allow_negative
FROM accounts a CROSS JOIN LATERAL generate_series(0, a.shards - 1) AS s(shard)
WHERE a.kind IN ('platform_fees', 'provider_payable')
ON CONFLICT DO NOTHING;
`;
