// Stored idempotent answers as text instead of json. Every answer is JSON the server itself
// serialized (idempotency.ts), so json's check on input only re-parsed it: measured per
// insert of a ~5 KB order answer on PostgreSQL, 97–137 µs of the backend's CPU as text
// against 130–163 µs as json (begin + insert + commit, one client, three rounds). Each
// request that changes something writes one answer (and a card refund's settle rewrites
// it), so this is ~3 % of PostgreSQL's CPU in a booking lifecycle. Nothing reads inside an
// answer; replays send the text as it is.
// The type change rewrites the table and would reset the column's storage and compression
// (013, 010), so they are set again in the same ALTER, which applies them before the rewrite.
// fillfactor 70: a card refund's settle rewrites its answer (update of a 2–3 KB row), and
// with full pages two in three of those were not HOT (a new index entry in both indexes each).
export const name = '014_answers_as_text';
export const up = /* sql */ `
DO $$
BEGIN
  ALTER TABLE idempotency_keys
    ALTER COLUMN response TYPE text,
    ALTER COLUMN response SET STORAGE MAIN,
    ALTER COLUMN response SET COMPRESSION lz4,
    SET (fillfactor = 70);
EXCEPTION WHEN feature_not_supported THEN
  ALTER TABLE idempotency_keys
    ALTER COLUMN response TYPE text,
    ALTER COLUMN response SET STORAGE MAIN,
    SET (fillfactor = 70);
END
$$;
`;
