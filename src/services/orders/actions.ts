// The actions a process may name, implemented. The engine runs them in the declared
// order inside the transition's database transaction.
import { badRequest, ruleRefused } from '../../domain/errors.js';
import { quoteCancellation, type Canceller } from '../../domain/cancellation.js';
import { evaluateTime, isTerminal, type ActionName } from '../../domain/process/index.js';
import { newId } from '../../domain/ids.js';
import type { TransitionContext } from './context.js';
import { policiesOf, serviceTimes, type LineRow } from './records.js';
import { collectPayment, refundCardPayment, refundFromEscrow, refundFromPayout, settleEscrow, totalOf } from './money.js';
import { applyEdit, applyLineEdit, applyProposal, moveSeatsForChange, recordProposal, releaseSeats, reserveSeats } from './terms.js';

/** Sets the lines' status on the working copy; the engine writes them with the order. */
function setLineStatus(ctx: TransitionContext, lines: LineRow[], status: 'done' | 'cancelled'): void {
  const at = ctx.now;
  for (const l of lines) {
    l.status = status;
    if (status === 'done') l.done_at = at;
    else l.cancelled_at = at;
    if (!ctx.lineWrites.includes(l)) ctx.lineWrites.push(l);
  }
}

function destinationOf(ctx: TransitionContext) {
  return ctx.params.refundDestination ?? ctx.params.destination ?? policiesOf(ctx.rec.order).defaultRefundDestination;
}

export const ACTION_IMPLEMENTATIONS: Record<ActionName, (ctx: TransitionContext) => void | Promise<unknown>> = {
  reserve_seats: reserveSeats,
  release_seats: releaseSeats,
  move_seats: moveSeatsForChange,
  apply_edit: applyEdit,
  apply_line_edit: applyLineEdit,
  collect_payment: collectPayment,
  record_proposal: recordProposal,
  apply_proposal: applyProposal,
  async refund_price_difference(ctx) {
    const difference = Number(ctx.event.priceDifference ?? 0);
    if (difference <= 0) return;
    await refundFromEscrow(ctx, {
      amountMinor: difference,
      destination: destinationOf(ctx),
      reason: 'Lower price accepted',
      explanation: { rule: 'price_lowered', previousTotal: totalOf(ctx.rec.order) + difference, newTotal: totalOf(ctx.rec.order) },
    });
  },
  clear_proposal(ctx) {
    if (ctx.rec.order.proposal && ctx.transition.name === 'decline_proposal') ctx.event.declinedProposal = ctx.rec.order.proposal;
    ctx.rec.order.proposal = null;
  },
  cancel_selected_lines(ctx) {
    const toCancel = ctx.selected.filter((l) => l.status === 'open');
    ctx.quote = quoteCancellation({
      canceller: ctx.role as Canceller,
      lines: ctx.rec.lines.map((l) => ({
        id: l.id,
        description: l.description,
        amountMinor: Number(l.amount),
        refundedMinor: Number(l.refunded),
        status: l.status,
        startsAt: l.starts_at,
      })),
      cancelIds: toCancel.map((l) => l.id),
      now: ctx.now,
      orderStartsAt: ctx.rec.order.starts_at,
      paidMinor: ctx.rec.order.paid - ctx.rec.order.refunded,
      serviceFeeMinor: Number(ctx.rec.order.service_fee),
      serviceFeeRefundedMinor: Number(ctx.rec.order.service_fee_refunded),
      policies: policiesOf(ctx.rec.order),
    });
    setLineStatus(ctx, toCancel, 'cancelled');
    ctx.cancelled = toCancel;
    // The service time follows the lines still on the order (start guards, auto-done deadline).
    const times = serviceTimes(ctx.rec.lines);
    ctx.rec.order.starts_at = times.startsAt;
    ctx.rec.order.ends_at = times.endsAt;
  },
  async refund_cancelled_lines(ctx) {
    const quote = ctx.quote;
    if (!quote || quote.total === 0) return;
    for (const q of quote.lines) {
      if (q.refund === 0) continue;
      // Written with the order at the end of the transition (the order's lock covers its lines).
      const line = ctx.rec.lines.find((l) => l.id === q.lineId) as LineRow;
      line.refunded = Number(line.refunded) + q.refund;
      if (!ctx.lineWrites.includes(line)) ctx.lineWrites.push(line);
    }
    await refundFromEscrow(ctx, {
      amountMinor: quote.total,
      destination: destinationOf(ctx),
      reason: ctx.params.reason ?? 'Cancellation',
      explanation: quote,
      serviceFeeMinor: quote.serviceFee.refund,
    });
  },
  record_cancellation(ctx) {
    const reason = ctx.params.reason ?? ctx.transition.reasonCode ?? null;
    const record = {
      by: ctx.role,
      at: ctx.now.toISOString(),
      reason,
      lineIds: ctx.cancelled.map((l) => l.id),
      wholeOrder: ctx.rec.lines.every((l) => l.status !== 'open'),
      refunded: ctx.quote?.total ?? 0,
      quote: ctx.quote,
    };
    const previous = (ctx.rec.order.cancellation as { history?: unknown[] } | null)?.history ?? [];
    ctx.rec.order.cancellation = { ...record, history: [...previous, record] };
    ctx.event.cancellation = record;
  },
  complete_open_lines(ctx) {
    setLineStatus(ctx, ctx.rec.lines.filter((l) => l.status === 'open'), 'done');
  },
  complete_selected_line(ctx) {
    setLineStatus(ctx, ctx.selected, 'done');
  },
  record_claim(ctx) {
    if (!ctx.params.reason) throw badRequest('parameter_missing', 'Say what went wrong (reason).', { param: 'reason' });
    ctx.rec.order.claim = { reason: ctx.params.reason, openedAt: ctx.now.toISOString(), by: ctx.role, resolution: null };
    ctx.event.claim = ctx.rec.order.claim;
  },
  async resolve_claim(ctx) {
    const claim = ctx.rec.order.claim as Record<string, unknown>;
    const outcome = ctx.params.outcome;
    if (outcome !== 'refund' && outcome !== 'reject') throw badRequest('parameter_missing', 'outcome must be refund or reject.', { param: 'outcome' });
    let refunded = 0;
    if (outcome === 'refund') {
      refunded = ctx.params.amount ?? ctx.rec.order.paid - ctx.rec.order.refunded;
      if (refunded > ctx.rec.order.paid - ctx.rec.order.refunded) {
        // 422 like every other refund cap (SPEC: a rule refused it), not 409.
        const maxRefundable = ctx.rec.order.paid - ctx.rec.order.refunded;
        throw ruleRefused('refund_exceeds_refundable', `At most ${maxRefundable} can be refunded.`, { maxRefundable, param: 'amount' });
      }
      const full = refunded === ctx.rec.order.paid - ctx.rec.order.refunded;
      await refundFromEscrow(ctx, {
        amountMinor: refunded,
        destination: destinationOf(ctx),
        reason: ctx.params.reason ?? `Claim: ${String(claim.reason)}`,
        explanation: { rule: full ? 'claim_full_refund' : 'claim_partial_refund', claim: claim.reason },
        serviceFeeMinor: full ? Number(ctx.rec.order.service_fee) - Number(ctx.rec.order.service_fee_refunded) : 0,
      });
    }
    ctx.rec.order.claim = { ...claim, resolution: { outcome, amount: refunded, at: ctx.now.toISOString(), reason: ctx.params.reason ?? null } };
    ctx.event.claimResolution = (ctx.rec.order.claim as Record<string, unknown>).resolution;
  },
  async refund_order(ctx) {
    const amount = ctx.params.amount;
    if (amount === undefined) throw badRequest('parameter_missing', 'Missing required parameter: amount.', { param: 'amount' });
    // An ended order settled what it held at its end: the refund comes out of the payout.
    const ended = isTerminal(ctx.process, ctx.rec.order.state);
    await (ended ? refundFromPayout : refundFromEscrow)(ctx, {
      amountMinor: amount,
      destination: destinationOf(ctx),
      reason: ctx.params.reason ?? 'Refund by staff',
      explanation: { rule: ended ? 'staff_refund_from_payout' : 'staff_refund' },
    });
  },
  refund_card_payment: refundCardPayment,
  async settle_escrow(ctx) {
    ctx.event.providerEarned = await settleEscrow(ctx);
  },
  async schedule_payout(ctx) {
    const amount = Number(ctx.event.providerEarned ?? 0);
    if (amount <= 0 || ctx.dryRun) return;
    const { order } = ctx.rec;
    const payoutExpr = ctx.process.schedules?.payout;
    const dueAt = payoutExpr ? evaluateTime(payoutExpr, { closedAt: ctx.now }, policiesOf(order)) : ctx.now;
    // Written with the order at the end of the transition (writes.ts).
    const payout = { id: newId('payout'), provider_id: order.provider_id, order_id: order.id, amount, currency: order.currency, status: 'scheduled' as const, due_at: dueAt ?? ctx.now, created_at: ctx.now };
    ctx.payoutWrites.push(payout);
    ctx.rec.payout = { id: payout.id, amount, status: 'scheduled', due_at: payout.due_at, paid_at: null };
    ctx.event.payout = { amount, dueAt: (dueAt ?? ctx.now).toISOString() };
  },
  record_review(ctx) {
    const rating = ctx.params.rating;
    if (rating === undefined) throw badRequest('parameter_missing', 'Missing required parameter: rating.', { param: 'rating' });
    ctx.rec.order.review = { rating, comment: ctx.params.comment ?? null, at: ctx.now.toISOString() };
    ctx.event.review = ctx.rec.order.review;
  },
};
