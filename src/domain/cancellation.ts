// The cancellation policy as a pure function: given the order, the lines to cancel, who
// cancels and when, it says exactly what is refunded and why, line by line. The quote
// endpoint and the real cancellation run this same function (the quote inside a
// transaction that is rolled back), so a customer is never shown one number and given
// another.
import { percentOfMinor, percentToBasisPoints } from './money.js';
import type { Settings } from './settings.js';

export type Canceller = 'customer' | 'provider' | 'operator' | 'system';

export type LineRule =
  | 'nothing_paid' // the order was not paid yet: nothing to refund
  | 'cancelled_by_provider' // provider cancels: full refund
  | 'cancelled_by_staff' // staff cancel: full refund
  | 'expired' // a deadline cancelled it before payment
  | 'no_refund_policy' // customer cancels, business does not refund customer cancellations
  | 'full_refund_before_window' // customer cancels ≥ noRefundWithinHours before the start
  | 'late_cancellation'; // customer cancels inside the window: lateCancellationRefundPercent

export type FeeRule = 'no_fee' | 'refunded_with_full_refund' | 'kept_partial_cancellation' | 'kept_not_full_refund' | 'kept_by_policy' | 'nothing_paid';

export interface PolicyLine {
  id: string;
  description: string;
  amountMinor: number;
  refundedMinor: number;
  status: 'open' | 'done' | 'cancelled';
  startsAt: Date | null;
}

export interface QuoteLine {
  lineId: string;
  description: string;
  amount: number;
  refund: number;
  rule: LineRule;
  startsAt: string | null;
  /** Whole hours left before the line's start when cancelled (floor), null for untimed lines. */
  hoursBeforeStart: number | null;
  explanation: string;
}

export interface CancellationQuote {
  lines: QuoteLine[];
  serviceFee: { amount: number; refund: number; rule: FeeRule; explanation: string };
  total: number;
}

export type CancellationPolicies = Pick<
  Settings,
  'refundOnCustomerCancellation' | 'noRefundWithinHours' | 'lateCancellationRefundPercent' | 'refundServiceFeeOnCancellation'
>;

const HOUR_MS = 3_600_000;

export function quoteCancellation(input: {
  canceller: Canceller;
  lines: PolicyLine[];
  cancelIds: string[];
  now: Date;
  orderStartsAt: Date | null;
  paidMinor: number;
  serviceFeeMinor: number;
  serviceFeeRefundedMinor: number;
  policies: CancellationPolicies;
}): CancellationQuote {
  const { canceller, policies, now } = input;
  const selected = new Set(input.cancelIds);
  const paid = input.paidMinor > 0;
  const quoted: QuoteLine[] = input.lines
    .filter((l) => selected.has(l.id))
    .map((line) => {
      const startsAt = line.startsAt ?? input.orderStartsAt;
      const msLeft = startsAt ? startsAt.getTime() - now.getTime() : null;
      const hoursBeforeStart = msLeft === null ? null : Math.floor(msLeft / HOUR_MS);
      const refundable = line.amountMinor - line.refundedMinor;
      const base = { lineId: line.id, description: line.description, amount: line.amountMinor, startsAt: startsAt?.toISOString() ?? null, hoursBeforeStart };
      if (!paid) return { ...base, refund: 0, rule: 'nothing_paid' as const, explanation: 'Nothing was paid for this order yet.' };
      if (canceller === 'provider') return { ...base, refund: refundable, rule: 'cancelled_by_provider' as const, explanation: 'Cancelled by the provider: full refund.' };
      if (canceller === 'operator') return { ...base, refund: refundable, rule: 'cancelled_by_staff' as const, explanation: 'Cancelled by staff: full refund.' };
      if (canceller === 'system') return { ...base, refund: refundable, rule: 'expired' as const, explanation: 'Cancelled automatically: full refund.' };
      if (!policies.refundOnCustomerCancellation) {
        return { ...base, refund: 0, rule: 'no_refund_policy' as const, explanation: 'This business does not refund cancellations by customers.' };
      }
      // Inclusive: exactly noRefundWithinHours before the start still gets the full refund.
      if (msLeft === null || msLeft >= policies.noRefundWithinHours * HOUR_MS) {
        return {
          ...base,
          refund: refundable,
          rule: 'full_refund_before_window' as const,
          explanation: `Cancelled at least ${policies.noRefundWithinHours} h before the start: full refund.`,
        };
      }
      const percent = policies.lateCancellationRefundPercent;
      const refund = Math.min(refundable, percentOfMinor(line.amountMinor, percentToBasisPoints(percent)));
      return {
        ...base,
        refund,
        rule: 'late_cancellation' as const,
        explanation:
          percent === 0
            ? `No refund within ${policies.noRefundWithinHours} h of the start.`
            : `Within ${policies.noRefundWithinHours} h of the start: ${percent}% refunded.`,
      };
    });
  const fee = serviceFeeRefund(input, quoted);
  capToHeld(quoted, fee, input.paidMinor);
  return { lines: quoted, serviceFee: fee, total: quoted.reduce((s, l) => s + l.refund, 0) + fee.refund };
}

/**
 * Money refunded outside the lines (a staff refund) belongs to no line, so line-by-line
 * refunds could add up to more than the order still holds, and the cancellation would be
 * refused. Cut the excess, last line first and the fee last, and say so in the explanation.
 */
function capToHeld(quoted: QuoteLine[], fee: CancellationQuote['serviceFee'], heldMinor: number): void {
  let excess = quoted.reduce((s, l) => s + l.refund, 0) + fee.refund - heldMinor;
  for (let i = quoted.length - 1; i >= 0 && excess > 0; i--) {
    const line = quoted[i] as QuoteLine;
    const cut = Math.min(line.refund, excess);
    if (cut === 0) continue;
    quoted[i] = { ...line, refund: line.refund - cut, explanation: `${line.explanation} ${cut} less: that much of the order was already refunded.` };
    excess -= cut;
  }
  if (excess > 0) fee.refund -= excess;
}

/**
 * The service fee goes back only when the cancellation ends the order with every line
 * fully refunded — and, when the customer or staff cancel, only if the business says so
 * (seed 002: a fee that is not reverted automatically). A provider's cancellation
 * always returns it: the customer did nothing wrong.
 */
function serviceFeeRefund(input: Parameters<typeof quoteCancellation>[0], quoted: QuoteLine[]): CancellationQuote['serviceFee'] {
  const amount = input.serviceFeeMinor;
  const left = amount - input.serviceFeeRefundedMinor;
  if (amount === 0) return { amount, refund: 0, rule: 'no_fee', explanation: 'There is no service fee.' };
  if (input.paidMinor === 0) return { amount, refund: 0, rule: 'nothing_paid', explanation: 'Nothing was paid for this order yet.' };
  const selected = new Set(input.cancelIds);
  const endsOrder = input.lines.every((l) => l.status === 'cancelled' || selected.has(l.id));
  if (!endsOrder) {
    return { amount, refund: 0, rule: 'kept_partial_cancellation', explanation: 'Lines remain on the order, so the service fee stays.' };
  }
  const allFull = input.lines.every((l) =>
    l.status === 'cancelled' ? l.refundedMinor === l.amountMinor : quoted.find((q) => q.lineId === l.id)?.refund === l.amountMinor - l.refundedMinor,
  );
  if (!allFull) return { amount, refund: 0, rule: 'kept_not_full_refund', explanation: 'The service fee is refunded only with a full refund.' };
  if (input.canceller !== 'provider' && input.canceller !== 'system' && !input.policies.refundServiceFeeOnCancellation) {
    return { amount, refund: 0, rule: 'kept_by_policy', explanation: 'This business does not refund the service fee on cancellation.' };
  }
  return { amount, refund: left, rule: 'refunded_with_full_refund', explanation: 'Full refund: the service fee is refunded too.' };
}
