// Staff's partial refund (`refund`), shared by the booking and direct processes. While the
// order holds its money the refund comes from that (escrow); once the order has ended,
// what it held went to the provider payable and the platform at its close, so from later
// versions a refund comes out of the provider's payout while that is still scheduled (as
// on Stripe Connect by default: the platform keeps its fee, the provider's share pays).
import { SAME, type TransitionDef } from './types.js';

export interface RefundRule {
  /** Also from the ended states, out of the scheduled payout. */
  fromPayout: boolean;
}

export const WHILE_HELD: RefundRule = { fromPayout: false };
export const ALSO_FROM_PAYOUT: RefundRule = { fromPayout: true };

/** `refund` from `holding` (the states in which the order holds its money), per `rule`. */
export function refundTransition<const S extends string>(holding: readonly S[], rule: RefundRule): TransitionDef<S | 'closed' | 'cancelled', 'refund'> {
  return {
    name: 'refund',
    description: rule.fromPayout
      ? "Staff refund part of the order's money: from what it holds, or once it has ended from the provider's payout while that is not paid yet."
      : "Staff refund part of the order's money while it is still held.",
    from: rule.fromPayout ? [...holding, 'closed', 'cancelled'] : holding,
    to: SAME,
    actors: ['operator'],
    guards: ['within_refundable'],
    actions: ['refund_order'],
  };
}
