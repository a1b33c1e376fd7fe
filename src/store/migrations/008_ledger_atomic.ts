// A ledger write that is its own transaction (a charge: one statement, no begin/commit).
// Inside a transaction a refused write is undone by rolling the transaction back; a
// statement on its own must undo itself, so the ledger's statement ends by calling
// settle_refuse(code), which raises when code is not null (nothing of the statement stays)
// and names why: 'guard', 'balance' or 'companion:<i>' (ledger.ts decodes it).
export const name = '008_ledger_atomic';
export const up = /* sql */ `
CREATE OR REPLACE FUNCTION settle_refuse(code text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  IF code IS NOT NULL THEN
    RAISE EXCEPTION 'settle_refused:%', code USING ERRCODE = 'P0001';
  END IF;
  RETURN true;
END
$$;
`;
