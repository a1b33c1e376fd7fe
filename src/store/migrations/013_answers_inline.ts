// Stored idempotent answers stay in their row, compressed, instead of in the TOAST table.
// An order's answer (3–8 KB of JSON) still came to more than TOAST's ~2 KB row target after
// lz4, so PostgreSQL moved it out of line: a chunk row in pg_toast plus an index entry, and
// the card-refund settle's rewrite of the answer deleted those and wrote new ones. Measured
// on the paid → cancel → refund flow: 19 % of the WAL (2.8 of 14.7 MB in 5 s).
// STORAGE MAIN compresses the answer and moves it out of line only if the row would not fit
// a page. The short columns become PLAIN: TOAST moves EXTENDED columns out of line before it
// compresses MAIN ones, so without this it toasted the 40-byte key and hash instead (tried).
// They are bounded: the key by the API (255 characters), the scope and hash by the server.
export const name = '013_answers_inline';
export const up = /* sql */ `
ALTER TABLE idempotency_keys
  ALTER COLUMN scope SET STORAGE PLAIN,
  ALTER COLUMN key SET STORAGE PLAIN,
  ALTER COLUMN request_hash SET STORAGE PLAIN,
  ALTER COLUMN response SET STORAGE MAIN;
`;
