// Staff may refund an ended order from its provider payout while that is still scheduled
// (services/orders/money.ts refundFromPayout). A payout refunded in full is not paid at all:
// it ends 'cancelled' (amount 0) instead of 'paid'.
export const name = '011_payout_refunds';
export const up = /* sql */ `
ALTER TABLE payouts DROP CONSTRAINT payouts_status_check;
ALTER TABLE payouts ADD CONSTRAINT payouts_status_check CHECK (status IN ('scheduled', 'paid', 'cancelled'));
ALTER TABLE payouts ADD CONSTRAINT payouts_paid_has_transaction CHECK ((status = 'paid') = (transaction_id IS NOT NULL));
`;
