// The guards a process may name, implemented. Each throws the refusal (and changes
// nothing, the transaction rolls back) or returns.
import { conflict, ruleRefused, SettleError } from '../../domain/errors.js';
import type { GuardName } from '../../domain/process/index.js';
import type { TransitionContext } from './context.js';
import { policiesOf } from './records.js';
import { assertRefundable, cardRefundable, totalOf } from './money.js';
import { proposedTotal } from './terms.js';

function startsAtOf(ctx: TransitionContext, line?: { starts_at: Date | null }): Date | null {
  return line?.starts_at ?? ctx.rec.order.starts_at;
}

export const GUARD_IMPLEMENTATIONS: Record<GuardName, (ctx: TransitionContext) => void | Promise<void>> = {
  actor_is_awaited(ctx) {
    if (ctx.role === 'operator') return;
    if (ctx.rec.order.awaiting !== ctx.role) {
      throw conflict('not_awaited', `The order is waiting for the ${ctx.rec.order.awaiting ?? 'nobody'}, not the ${ctx.role}.`, {
        awaiting: ctx.rec.order.awaiting,
      });
    }
  },
  before_start(ctx) {
    const startsAt = startsAtOf(ctx);
    if (startsAt && ctx.now.getTime() >= startsAt.getTime()) {
      throw conflict('service_started', `The service started at ${startsAt.toISOString()}; this is only possible before the start.`);
    }
  },
  after_start(ctx) {
    const startsAt = startsAtOf(ctx);
    if (startsAt && ctx.now.getTime() < startsAt.getTime()) {
      throw conflict('service_not_started', `The service starts at ${startsAt.toISOString()}; it can be marked done only once it has started.`);
    }
  },
  open_lines_started(ctx) {
    // Marking done completes every open line: a session still ahead would be paid out
    // undelivered and could no longer be cancelled. The latest start is the one to wait for.
    let waitFor: { id: string; startsAt: Date } | null = null;
    for (const line of ctx.rec.lines) {
      const startsAt = line.status === 'open' ? startsAtOf(ctx, line) : null;
      if (startsAt && ctx.now.getTime() < startsAt.getTime() && (!waitFor || startsAt.getTime() > waitFor.startsAt.getTime())) waitFor = { id: line.id, startsAt };
    }
    if (waitFor) {
      const at = waitFor.startsAt.toISOString();
      throw conflict('service_not_started', `Line ${waitFor.id} starts at ${at}; the order can be marked done once every open line has started (cancel the lines that will not take place).`, {
        lineId: waitFor.id,
        startsAt: at,
      });
    }
  },
  lines_selectable(ctx) {
    const ids = ctx.params.lineIds ?? [];
    if (ids.length === 0) throw new SettleError(400, 'invalid_request_error', 'parameter_missing', 'Name at least one line (lineIds).', { param: 'lineIds' });
    for (const id of ids) {
      const line = ctx.rec.lines.find((l) => l.id === id);
      if (!line) throw new SettleError(404, 'not_found_error', 'resource_missing', `No such line on this order: '${id}'`, { param: 'lineIds' });
      if (line.status !== 'open') throw conflict('line_not_open', `Line ${id} is already ${line.status}.`, { lineId: id });
    }
  },
  lines_before_start(ctx) {
    for (const line of ctx.selected) {
      const startsAt = startsAtOf(ctx, line);
      if (startsAt && ctx.now.getTime() >= startsAt.getTime()) {
        throw conflict('service_started', `Line ${line.id} started at ${startsAt.toISOString()}; it can no longer be changed or cancelled.`, { lineId: line.id });
      }
    }
  },
  has_open_lines(ctx) {
    if (!ctx.rec.lines.some((l) => l.status === 'open')) throw conflict('no_open_lines', 'Every line is already done or cancelled.');
  },
  customer_may_cancel(ctx) {
    // An unpaid order can always be withdrawn; the setting governs cancelling paid ones.
    if (ctx.role === 'customer' && ctx.rec.order.paid > 0 && !policiesOf(ctx.rec.order).allowCustomerCancellation) {
      throw ruleRefused('customer_cancellation_not_allowed', 'This business does not let customers cancel online; contact them.');
    }
  },
  customer_may_edit(ctx) {
    if (ctx.role === 'customer' && !policiesOf(ctx.rec.order).allowCustomerEdits) {
      throw ruleRefused('customer_edits_not_allowed', 'This business does not let customers modify sessions online; contact them.');
    }
  },
  has_pending_proposal(ctx) {
    const proposal = ctx.rec.order.proposal as { id?: string; proposedAt?: string } | null;
    if (!proposal) throw conflict('no_pending_proposal', 'There is no proposed change waiting for an answer.');
    // The provider may replace a proposal while the customer reads it: answer only the one seen.
    const seen = ctx.params.proposalId;
    if (seen !== undefined && seen !== proposal.id) {
      throw conflict('proposal_changed', `The proposal was replaced (now the one made at ${proposal.proposedAt}); read it again before answering.`, { proposal });
    }
  },
  price_not_increased(ctx) {
    const proposed = proposedTotal(ctx);
    const current = totalOf(ctx.rec.order);
    if (proposed > current) {
      throw ruleRefused('price_increase_not_allowed', `A proposal may lower the price but not raise it (${proposed} > ${current}).`, {
        proposedTotal: proposed,
        currentTotal: current,
      });
    }
  },
  not_reviewed(ctx) {
    if (ctx.rec.order.review) throw conflict('already_reviewed', 'This order has already been reviewed.');
  },
  within_refundable(ctx) {
    assertRefundable(ctx.rec, ctx.params.amount ?? 0);
  },
  async within_card_refundable(ctx) {
    const payment = ctx.rec.payments.find((p) => p.id === ctx.params.paymentId && p.method === 'card');
    if (!payment) throw new SettleError(404, 'not_found_error', 'resource_missing', `No card payment '${ctx.params.paymentId}' on this order.`, { param: 'paymentId' });
    const max = await cardRefundable(ctx, payment);
    if ((ctx.params.amount ?? max) > max) {
      throw ruleRefused('refund_exceeds_refundable', `At most ${max} can go back to this card now.`, { maxRefundable: max, param: 'amount' });
    }
  },
};
