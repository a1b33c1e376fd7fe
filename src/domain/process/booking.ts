// The booking process (seeds 004 and 003; SPEC "The booking process"): the prepaid
// lifecycle confirmation → payment → execution → execution_confirmation → closed, with
// claim and cancelled. Change a window in the settings, or a rule here with a new
// version; the engine does not change.
//
// Versions (an order keeps the one it was created under):
// - 1.0.0: mark_done once the order's first start has passed.
// - 1.1.0: mark_done once every open line has started. Marking done completes every open
//   line, so under 1.0.0 a booking of several sessions could be reported done after its
//   first one: the sessions still ahead were then paid out undelivered, and the customer
//   could no longer cancel them (seed 003).
// - 1.2.0: staff may refund an ended order (closed or cancelled) from the provider's payout
//   while that is still scheduled: a complaint after the close no longer needs money from
//   outside Settle. Before, `refund` ended with the order.
import { ifSameDay, min, plus, ref } from './time.js';
import { SAME, START } from './types.js';
import { defineProcess } from './validate.js';
import type { GuardName } from './vocabulary.js';
import { ALSO_FROM_PAYOUT, refundTransition, WHILE_HELD, type RefundRule } from './refund.js';

const PEOPLE = ['customer', 'provider', 'operator'] as const;

/** 24 h after the create/edit, 5 h when the service starts that same local day, never after the start. */
export const confirmationDeadline = min(
  ifSameDay(
    ref('lastEditAt'),
    ref('startsAt'),
    plus(ref('lastEditAt'), { hours: 'sameDayConfirmationWindowHours' }),
    plus(ref('lastEditAt'), { hours: 'confirmationWindowHours' }),
  ),
  ref('startsAt'),
);
export const paymentDeadline = min(plus(ref('enteredState'), { hours: 'paymentWindowHours' }), ref('startsAt'));
export const completionDeadline = plus(ref('endsAt'), { hours: 'completionWindowHours' });
export const executionConfirmationDeadline = plus(ref('enteredState'), { days: 'executionConfirmationWindowDays' });
export const payoutDue = plus(ref('closedAt'), { days: 'payoutDelayDays' });

// Every way an order ends after money may have been paid runs the same tail, so money kept
// on a late cancellation reaches the provider just as on a close.
const CANCEL_ORDER = ['cancel_selected_lines', 'refund_cancelled_lines', 'release_seats', 'clear_proposal', 'record_cancellation', 'settle_escrow', 'schedule_payout'] as const;
const EXPIRE = ['cancel_selected_lines', 'release_seats', 'record_cancellation'] as const;
const CLOSE = ['settle_escrow', 'schedule_payout'] as const;

/** What changed between versions: how mark_done decides that the service has started. */
interface MarkDoneRule {
  guards: readonly GuardName[];
  description: string;
}

function bookingDefinition(version: string, markDone: MarkDoneRule, refund: RefundRule) {
  return defineProcess({
    name: 'booking',
    version,
    description: 'Prepaid booking: confirm, pay, perform, confirm the execution, close; with deadlines, proposals, claims and cancellations.',
    schedules: { payout: payoutDue },
    states: [
      { name: 'confirmation', awaiting: 'counterparty', description: 'Waiting for the other party to confirm or edit' },
      { name: 'payment', awaiting: 'customer', description: 'Confirmed, waiting for the customer to pay' },
      { name: 'execution', awaiting: 'provider', description: 'Paid, the service is to be provided' },
      { name: 'execution_confirmation', awaiting: 'customer', description: 'Done, waiting for the customer to confirm or claim' },
      { name: 'claim', awaiting: 'operator', description: 'The customer complained, staff resolve it' },
      { name: 'closed', terminal: true, description: 'Finished, the provider payout is scheduled, the customer may review' },
      { name: 'cancelled', terminal: true, description: 'Cancelled by a party or by an expired deadline' },
    ],
    transitions: [
      {
        name: 'create',
        description: 'Book: the order waits for the other party to confirm.',
        from: [START],
        to: 'confirmation',
        actors: PEOPLE,
        actions: ['reserve_seats'],
      },
      {
        name: 'confirm',
        description: 'The awaited party accepts the terms; a free order skips payment.',
        from: ['confirmation'],
        to: [{ when: 'nothing_to_pay', to: 'execution' }, { to: 'payment' }],
        actors: PEOPLE,
        guards: ['actor_is_awaited'],
      },
      {
        name: 'edit',
        description: 'Change date/time, price or comment; the other party is awaited again with a fresh deadline.',
        from: ['confirmation'],
        to: 'confirmation',
        actors: PEOPLE,
        guards: ['before_start'],
        actions: ['move_seats', 'apply_edit'],
      },
      {
        name: 'expire_confirmation',
        description: 'Nobody confirmed in time.',
        from: ['confirmation'],
        to: 'cancelled',
        actors: ['system'],
        at: confirmationDeadline,
        actions: EXPIRE,
        reasonCode: 'confirmation_expired',
      },
      {
        name: 'pay',
        description: 'Account credit first when asked, the rest by card; a declined card changes nothing.',
        from: ['payment'],
        to: 'execution',
        actors: ['customer', 'operator'],
        actions: ['collect_payment'],
      },
      {
        name: 'expire_payment',
        description: 'Not paid in time; the seats are freed.',
        from: ['payment'],
        to: 'cancelled',
        actors: ['system'],
        at: paymentDeadline,
        actions: EXPIRE,
        reasonCode: 'payment_expired',
      },
      {
        name: 'cancel',
        description: 'Cancel the whole order before the service starts, refunding under the cancellation policy.',
        from: ['confirmation', 'payment', 'execution'],
        to: 'cancelled',
        actors: PEOPLE,
        guards: ['before_start', 'customer_may_cancel'],
        actions: CANCEL_ORDER,
      },
      {
        name: 'cancel_lines',
        description: 'Cancel some session lines, each judged by its own start; cancelling the last open one cancels the order.',
        from: ['payment', 'execution'],
        to: [{ when: 'all_lines_cancelled', to: 'cancelled', actions: CLOSE }, { to: SAME }],
        actors: PEOPLE,
        guards: ['lines_selectable', 'lines_before_start', 'customer_may_cancel'],
        actions: ['cancel_selected_lines', 'refund_cancelled_lines', 'release_seats', 'record_cancellation'],
      },
      {
        name: 'edit_line',
        description: "Move a session line to another slot or change its participant (seed 003's guest edits).",
        from: ['payment', 'execution'],
        to: SAME,
        actors: ['customer', 'operator'],
        guards: ['lines_selectable', 'lines_before_start', 'customer_may_edit'],
        actions: ['move_seats', 'apply_line_edit'],
      },
      {
        name: 'propose',
        description: 'Before the start the provider proposes a new date/time or a lower price; nothing changes until accepted.',
        from: ['execution'],
        to: SAME,
        actors: ['provider', 'operator'],
        guards: ['before_start', 'price_not_increased'],
        actions: ['record_proposal'],
      },
      {
        name: 'accept_proposal',
        description: 'The customer accepts the proposal; a lower price refunds the difference.',
        from: ['execution'],
        to: SAME,
        actors: ['customer', 'operator'],
        guards: ['has_pending_proposal', 'before_start'],
        actions: ['move_seats', 'apply_proposal', 'refund_price_difference', 'clear_proposal'],
      },
      {
        name: 'decline_proposal',
        description: 'The customer declines the proposal; the order stays as it was.',
        from: ['execution'],
        to: SAME,
        actors: ['customer', 'operator'],
        guards: ['has_pending_proposal'],
        actions: ['clear_proposal'],
      },
      {
        name: 'mark_done',
        description: markDone.description,
        from: ['execution'],
        to: 'execution_confirmation',
        actors: ['provider', 'operator'],
        guards: markDone.guards,
        actions: ['complete_open_lines', 'clear_proposal'],
      },
      {
        name: 'auto_done',
        description: 'Not marked done in time after the end: done automatically.',
        from: ['execution'],
        to: 'execution_confirmation',
        actors: ['system'],
        at: completionDeadline,
        actions: ['complete_open_lines', 'clear_proposal'],
        reasonCode: 'completion_window_elapsed',
      },
      {
        name: 'confirm_execution',
        description: 'The customer confirms the service was provided.',
        from: ['execution_confirmation'],
        to: 'closed',
        actors: ['customer', 'operator'],
        actions: CLOSE,
      },
      {
        name: 'open_claim',
        description: 'The customer is not happy or the service was not provided; the order is held.',
        from: ['execution_confirmation'],
        to: 'claim',
        actors: ['customer', 'operator'],
        actions: ['record_claim'],
      },
      {
        name: 'auto_close',
        description: 'Neither confirmed nor claimed in time: closed automatically.',
        from: ['execution_confirmation'],
        to: 'closed',
        actors: ['system'],
        at: executionConfirmationDeadline,
        actions: CLOSE,
        reasonCode: 'execution_confirmation_window_elapsed',
      },
      {
        name: 'resolve_claim',
        description: 'Staff refund (full or partial, to card or account) or reject, and close.',
        from: ['claim'],
        to: 'closed',
        actors: ['operator'],
        actions: ['resolve_claim', ...CLOSE],
      },
      refundTransition(['execution', 'execution_confirmation', 'claim'], refund),
      {
        name: 'refund_to_card',
        description: 'Staff move money this order returned to account credit back to its card.',
        from: ['execution', 'execution_confirmation', 'claim', 'closed', 'cancelled'],
        to: SAME,
        actors: ['operator'],
        guards: ['within_card_refundable'],
        actions: ['refund_card_payment'],
      },
      {
        name: 'review',
        description: 'The customer rates the service once.',
        from: ['closed'],
        to: SAME,
        actors: ['customer', 'operator'],
        guards: ['not_reviewed'],
        actions: ['record_review'],
      },
    ],
  });
}

const MARK_DONE_AFTER_FIRST_START: MarkDoneRule = {
  guards: ['after_start'],
  description: 'The provider reports the service provided (only once it has started).',
};
const MARK_DONE_AFTER_EVERY_START: MarkDoneRule = {
  guards: ['open_lines_started'],
  description: 'The provider reports the service provided (only once every open line has started).',
};

/** Orders created before 1.1.0 keep it. */
export const bookingProcessV1_0 = bookingDefinition('1.0.0', MARK_DONE_AFTER_FIRST_START, WHILE_HELD);
/** Orders created before 1.2.0 keep it. */
export const bookingProcessV1_1 = bookingDefinition('1.1.0', MARK_DONE_AFTER_EVERY_START, WHILE_HELD);
export const bookingProcess = bookingDefinition('1.2.0', MARK_DONE_AFTER_EVERY_START, ALSO_FROM_PAYOUT);

export type BookingProcess = typeof bookingProcess;
