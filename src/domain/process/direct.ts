// The direct process (seed 000; SPEC "The direct process"): staff create an order that is
// paid up front, deliver its lines one by one, cancel a line or all undone lines; the
// order closes when no line is open, or is cancelled when every line was cancelled. The
// same engine runs it as the booking process: only this data differs.
import { SAME, START } from './types.js';
import { defineProcess } from './validate.js';
import { payoutDue } from './booking.js';
import { ALSO_FROM_PAYOUT, refundTransition, WHILE_HELD, type RefundRule } from './refund.js';

const CLOSE = ['settle_escrow', 'schedule_payout'] as const;

// Versions (an order keeps the one it was created under):
// - 1.0.0: staff refund only while lines are being delivered.
// - 1.1.0: also once the order has ended, out of the provider's payout while that is
//   still scheduled (see refund.ts).
function directDefinition(version: string, refund: RefundRule) {
  return defineProcess({
    name: 'direct',
    version,
    description: 'Staff-run order paid up front; lines are delivered one by one; cancel lines or all undone lines.',
    schedules: { payout: payoutDue },
    states: [
      { name: 'payment', awaiting: 'customer', description: 'Created by staff, waiting for the up-front payment' },
      { name: 'delivery', awaiting: 'provider', description: 'Paid, lines are being delivered one by one' },
      { name: 'closed', terminal: true, description: 'No line is open any more, and at least one was delivered' },
      { name: 'cancelled', terminal: true, description: 'Every line was cancelled' },
    ],
    transitions: [
      {
        name: 'create',
        description: 'Staff create the order (optionally on a site); a free order needs no payment.',
        from: [START],
        to: [{ when: 'nothing_to_pay', to: 'delivery' }, { to: 'payment' }],
        actors: ['operator'],
        actions: ['reserve_seats'],
      },
      {
        name: 'pay',
        description: 'The customer, or staff for them, pays with account credit and/or card.',
        from: ['payment'],
        to: 'delivery',
        actors: ['customer', 'operator'],
        actions: ['collect_payment'],
      },
      {
        name: 'mark_line_done',
        description: 'One line was delivered; the last open line closes the order.',
        from: ['delivery'],
        to: [{ when: 'no_open_lines', to: 'closed', actions: CLOSE }, { to: SAME }],
        actors: ['provider', 'operator'],
        guards: ['lines_selectable'],
        actions: ['complete_selected_line'],
      },
      {
        name: 'cancel_lines',
        description: 'Cancel the selected lines and refund them (default destination: account credit).',
        from: ['delivery'],
        to: [
          { when: 'all_lines_cancelled', to: 'cancelled', actions: CLOSE },
          { when: 'no_open_lines', to: 'closed', actions: CLOSE },
          { to: SAME },
        ],
        actors: ['operator'],
        guards: ['lines_selectable'],
        actions: ['cancel_selected_lines', 'refund_cancelled_lines', 'release_seats', 'record_cancellation'],
      },
      {
        name: 'cancel',
        description: '"Cancel all undone lines": done lines stay, the order ends.',
        from: ['payment', 'delivery'],
        to: [{ when: 'all_lines_cancelled', to: 'cancelled', actions: CLOSE }, { to: 'closed', actions: CLOSE }],
        actors: ['operator'],
        guards: ['has_open_lines'],
        actions: ['cancel_selected_lines', 'refund_cancelled_lines', 'release_seats', 'record_cancellation'],
      },
      refundTransition(['delivery'], refund),
      {
        name: 'refund_to_card',
        description: "The seed's pencil → Refund Money: move refunded account credit back to the card, up to what it can take.",
        from: ['delivery', 'closed', 'cancelled'],
        to: SAME,
        actors: ['operator'],
        guards: ['within_card_refundable'],
        actions: ['refund_card_payment'],
      },
    ],
  });
}

/** Orders created before 1.1.0 keep it. */
export const directProcessV1_0 = directDefinition('1.0.0', WHILE_HELD);
export const directProcess = directDefinition('1.1.0', ALSO_FROM_PAYOUT);

export type DirectProcess = typeof directProcess;
