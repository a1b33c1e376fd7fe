// A transition may start from the copy of an order this process wrote last (order-copies.ts)
// instead of reading it. Its first statement locks the order and checks that the row is
// still the version that copy was made from; settle_retry_unless raises a serialization
// failure when it is not, so the whole transaction is rolled back and run again
// (retryOnConflict), this time reading the order.
export const name = '009_order_copies';
export const up = /* sql */ `
CREATE OR REPLACE FUNCTION settle_retry_unless(ok boolean) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  IF ok IS NOT TRUE THEN
    RAISE EXCEPTION 'settle: the row changed since this process read it; run the transaction again' USING ERRCODE = '40001';
  END IF;
  RETURN true;
END
$$;
`;
