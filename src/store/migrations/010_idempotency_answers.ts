// Stored idempotent answers (an order's is ~3.5 KB) cost PostgreSQL more than the rest of
// most transitions' writes: converting the text to jsonb, then compressing it with pglz for
// TOAST. Measured per insert of a real order answer: ~200 µs as jsonb with pglz, ~120 µs as
// jsonb with lz4, ~40 µs as json with lz4. Nothing queries inside an answer; it is only
// given back, so json (the text as sent, checked) is the right type — and a replay now
// gives the keys back in the order the first answer had them.
// lz4 where the server has it (PGlite is built without it: pglz stays there).
export const name = '010_idempotency_answers';
export const up = /* sql */ `
ALTER TABLE idempotency_keys ALTER COLUMN response TYPE json USING response::json;
DO $$
BEGIN
  ALTER TABLE idempotency_keys ALTER COLUMN response SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
  NULL;
END
$$;
`;
