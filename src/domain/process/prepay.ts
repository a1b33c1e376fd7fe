// The prepay process (seed 002): a customer pre-orders photo products for a picture-day
// job with the access code on their QR card and pays up front. After picture day staff
// populate the job's photos into the orders and place them: orders with photos join the
// job's open batch (or manual revision first, when the job asks for it), orders without
// photos are split off into a collection of their own. The batch goes to production by
// hand or at the job's batch shipping deadline. The customer may then confirm receipt or
// complain; the order closes and the provider's payout is scheduled.
//
// Where the seed's system falls short, Settle does better: cancelling a prepay order
// refunds it in the same step (to account credit by default, or the card), and the
// service fee follows `refundServiceFeeOnCancellation` instead of needing a call to
// customer care.
//
// The job's own bookkeeping (collections, batches, photos) lives in services/jobs; this is
// what happens to each order.
import { plus, ref } from './time.js';
import { SAME, START } from './types.js';
import { defineProcess } from './validate.js';
import { executionConfirmationDeadline, payoutDue } from './booking.js';
import { ALSO_FROM_PAYOUT, refundTransition } from './refund.js';

const CLOSE = ['settle_escrow', 'schedule_payout'] as const;
const STAFF = ['provider', 'operator'] as const;
/** States in which the order waits at the business, paid or not, before production. */
const BEFORE_PRODUCTION = ['payment', 'collection', 'revision', 'batch'] as const;

export const prepayPaymentDeadline = plus(ref('enteredState'), { hours: 'paymentWindowHours' });

export const prepayProcess = defineProcess({
  name: 'prepay',
  version: '1.0.0',
  description: "Picture-day pre-order: paid up front with an access code, photos populated after the shoot, placed into the job's batch, sent to production.",
  schedules: { payout: payoutDue },
  states: [
    { name: 'payment', awaiting: 'customer', description: 'Pre-ordered, waiting for the up-front payment' },
    { name: 'collection', awaiting: 'operator', description: "Paid, in the job's order collection: photos to populate, then to place" },
    { name: 'revision', awaiting: 'operator', description: 'Manual revision: staff check or replace the photos, then release it to the batch' },
    { name: 'batch', awaiting: 'operator', description: "In the job's open batch, waiting to go to production" },
    { name: 'production', awaiting: 'customer', description: 'Sent to production; the customer may confirm receipt or complain' },
    { name: 'claim', awaiting: 'operator', description: 'The customer complained, staff resolve it' },
    { name: 'closed', terminal: true, description: 'Finished, the provider payout is scheduled' },
    { name: 'cancelled', terminal: true, description: 'Cancelled by staff, or not paid in time' },
  ],
  transitions: [
    {
      name: 'create',
      description: 'The customer pre-orders with an access code (or staff add a paper order); a free order needs no payment.',
      from: [START],
      to: [{ when: 'nothing_to_pay', to: 'collection' }, { to: 'payment' }],
      actors: ['customer', 'operator'],
    },
    {
      name: 'pay',
      description: 'Pay up front: account credit first when asked, the rest by card.',
      from: ['payment'],
      to: 'collection',
      actors: ['customer', 'operator'],
      actions: ['collect_payment'],
    },
    {
      name: 'expire_payment',
      description: 'Not paid in time.',
      from: ['payment'],
      to: 'cancelled',
      actors: ['system'],
      at: prepayPaymentDeadline,
      actions: ['cancel_selected_lines', 'record_cancellation'],
      reasonCode: 'payment_expired',
    },
    {
      name: 'populate_photos',
      description: "The job's photos for the order's access code (and its group's pictures) were attached to it.",
      from: ['collection', 'revision'],
      to: SAME,
      actors: STAFF,
    },
    {
      name: 'place',
      description: "Place the order: it joins the job's open batch.",
      from: ['collection'],
      to: 'batch',
      actors: STAFF,
    },
    {
      name: 'place_for_revision',
      description: 'Place the order into manual revision first (the job asks for it, e.g. for memory mates).',
      from: ['collection'],
      to: 'revision',
      actors: STAFF,
    },
    {
      name: 'release_revision',
      description: "Revised: release it to the job's open batch.",
      from: ['revision'],
      to: 'batch',
      actors: STAFF,
    },
    {
      name: 'release',
      description: 'Staff release the batch to production.',
      from: ['batch'],
      to: 'production',
      actors: STAFF,
    },
    {
      name: 'auto_release',
      description: "The job's batch shipping deadline passed: the batch goes to production.",
      from: ['batch'],
      to: 'production',
      actors: ['system'],
      scheduledBy: 'job_batch_release',
      reasonCode: 'batch_shipping_deadline',
    },
    {
      name: 'confirm_execution',
      description: 'The customer confirms receipt; the order closes.',
      from: ['production'],
      to: 'closed',
      actors: ['customer', 'operator'],
      actions: ['complete_open_lines', ...CLOSE],
    },
    {
      name: 'open_claim',
      description: 'The customer complains or gives feedback about the order; it is held for staff.',
      from: ['production'],
      to: 'claim',
      actors: ['customer', 'operator'],
      actions: ['record_claim'],
    },
    {
      name: 'auto_close',
      description: 'Neither confirmed nor complained about in time: closed automatically.',
      from: ['production'],
      to: 'closed',
      actors: ['system'],
      at: executionConfirmationDeadline,
      actions: ['complete_open_lines', ...CLOSE],
      reasonCode: 'execution_confirmation_window_elapsed',
    },
    {
      name: 'resolve_claim',
      description: 'Staff refund (full or partial, to card or account) or reject the complaint, and close.',
      from: ['claim'],
      to: 'closed',
      actors: ['operator'],
      actions: ['resolve_claim', 'complete_open_lines', ...CLOSE],
    },
    {
      name: 'cancel',
      description: "Cancel the order before production (the seed's Delete): it leaves the collection or batch, stays searchable, and is refunded in the same step.",
      from: BEFORE_PRODUCTION,
      to: 'cancelled',
      actors: STAFF,
      actions: ['cancel_selected_lines', 'refund_cancelled_lines', 'record_cancellation', ...CLOSE],
    },
    refundTransition(['collection', 'revision', 'batch', 'production', 'claim'], ALSO_FROM_PAYOUT),
    {
      name: 'refund_to_card',
      description: 'Staff move money this order returned to account credit back to its card.',
      from: ['collection', 'revision', 'batch', 'production', 'claim', 'closed', 'cancelled'],
      to: SAME,
      actors: ['operator'],
      guards: ['within_card_refundable'],
      actions: ['refund_card_payment'],
    },
  ],
});

export type PrepayProcess = typeof prepayProcess;
