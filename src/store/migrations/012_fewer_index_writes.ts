// Two indexes every write paid for and no read needed:
// - order_lines_order indexed (order_id, position), the very columns of the unique
//   constraint order_lines_order_id_position_key, whose index serves the same reads.
// - ledger_transactions.reverses_id was UNIQUE over every row, so each ledger write
//   (all but reversals have no reverses_id) added a NULL entry to its index. Only
//   reversals need indexing: "at most one reversal per transaction" is the same rule
//   with a partial unique index, and lookups by reverses_id = … can use it. Built before
//   the old one is dropped, so the table is locked for writes (not reads) while it builds
//   (a scan of the whole ledger at the first start after upgrading).
export const name = '012_fewer_index_writes';
export const up = /* sql */ `
DROP INDEX order_lines_order;
CREATE UNIQUE INDEX ledger_transactions_reverses ON ledger_transactions (reverses_id) WHERE reverses_id IS NOT NULL;
ALTER TABLE ledger_transactions DROP CONSTRAINT ledger_transactions_reverses_id_key;
`;
