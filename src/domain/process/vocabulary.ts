// The words a process definition may use: who acts, which guards gate a transition,
// which conditions route it, and which actions the engine runs. The process only names
// them; the service layer implements each one. The meanings are kept as runtime strings
// (not only comments) so `settle process describe`, the docs and validation of a
// definition loaded from JSON all read the same contract.

/** Who may take a transition. `operator` is the business's staff (role admin) acting for anyone. */
export const ACTORS = ['customer', 'provider', 'operator', 'system'] as const;
export type ProcessActor = (typeof ACTORS)[number];

/**
 * Guards are checked before a transition runs, on the order as it is. A false guard refuses
 * the request (422 with the guard's code) and changes nothing.
 */
export const GUARDS = {
  actor_is_awaited:
    'The acting party is the one the order awaits (in confirmation: the party that did not make the last create/edit). An operator always passes.',
  before_start: "The order's service has not started: now < startsAt. Orders without a start pass.",
  after_start: "The order's service has started: now >= startsAt. Orders without a start pass.",
  open_lines_started: "Every open line has started: now >= the line's startsAt (the order's for an untimed line). Lines and orders without a start pass.",
  lines_selectable: 'Every selected line exists on the order and is open, and at least one is selected.',
  lines_before_start: "Every selected line's own start is still ahead (now < line.startsAt; the order's start for an untimed line). Lines and orders without a start pass.",
  has_open_lines: 'At least one line is open (for "cancel all undone lines").',
  customer_may_cancel:
    'A customer cancelling a paid order (or some of its lines) needs policies.allowCustomerCancellation; other actors pass.',
  customer_may_edit: 'A customer editing a line needs policies.allowCustomerEdits; other actors pass.',
  has_pending_proposal: 'A provider proposal is pending (to accept or decline).',
  price_not_increased: "The proposed price is not above the order's current price (a higher price is refused).",
  not_reviewed: 'The order has no review yet (one review per order).',
  within_refundable:
    "The requested amount is at most the order's refundable amount: what it holds, or once it has ended what its scheduled payout has left (409 payout_already_paid once that was paid).",
  within_card_refundable:
    "The requested amount is at most what the card payment can take back: its captured amount minus what was refunded to it, and no more than the customer's available credit.",
} as const satisfies Record<string, string>;
export type GuardName = keyof typeof GUARDS;

/**
 * Conditions route a transition with several possible targets. Unlike guards they are
 * evaluated after the actions ran, on the resulting order: the first branch whose
 * condition holds (or that has none) gives the target state.
 */
export const CONDITIONS = {
  nothing_to_pay: "The order's total is 0, so there is no payment to wait for.",
  all_lines_cancelled: 'Every line of the order is cancelled.',
  no_open_lines: 'No line is open any more (each is done or cancelled).',
} as const satisfies Record<string, string>;
export type ConditionName = keyof typeof CONDITIONS;

/**
 * Actions run in the declared order inside the transition's database transaction; if one
 * fails (a full slot, a declined card) the whole transition is rolled back. Recording the
 * event (history and outbox) and recomputing the deadline are done by the engine for every
 * transition and are therefore not actions.
 */
export const ACTIONS = {
  reserve_seats: 'Take a seat in the slot of every slot line (refused when a slot is full).',
  release_seats: 'Free the seats held by the lines being cancelled (all open lines when the whole order ends).',
  move_seats: 'Move seats from the old slots to the newly requested ones (refused when a new slot is full).',
  apply_edit:
    "Apply an edit of the order's terms (date/time, price, lines, comment), recompute amounts and set lastEditAt to now.",
  apply_line_edit: "Apply a line edit (time slot, participant) and recompute the order's startsAt/endsAt.",
  collect_payment:
    'Take account credit first when asked, then the rest by card, into the order escrow; a declined card aborts the transition.',
  record_proposal: "Store the provider's proposed change (date/time and/or a lower price) as pending; nothing else changes.",
  apply_proposal: "Apply the pending proposal to the order's terms and recompute amounts and service time.",
  refund_price_difference: 'Refund the difference when an accepted proposal lowered the price.',
  clear_proposal: 'Drop the pending proposal, if any.',
  cancel_selected_lines:
    'Mark the selected lines cancelled: the named ones, every undone one, or every open one when the whole order is cancelled.',
  refund_cancelled_lines:
    'Refund the lines just cancelled under the cancellation policy (the same computation as the quote) to the requested or default destination, keeping the explanation.',
  record_cancellation:
    "Record who cancelled what (some lines or the whole order), the reason given (or the transition's reasonCode) and when.",
  complete_open_lines: 'Mark every open line done.',
  complete_selected_line: 'Mark the selected line done.',
  record_claim: "Record the customer's claim and its reason.",
  resolve_claim: 'Apply the resolution: refund (full or partial, to card or account) or reject, and record it.',
  refund_order:
    "Refund an amount of the order's paid money to the requested destination: from what the order holds, or once it has ended (terminal state) out of its provider payout while that is still scheduled (the payout shrinks; refunded in full it is cancelled; 409 payout_already_paid once it was paid).",
  refund_card_payment: 'Move money this order already returned to account credit back to one of its card payments.',
  settle_escrow:
    'Move what is left in escrow to the provider payable (less commission) and the service fee and commission to the platform; nothing when the escrow is empty.',
  schedule_payout:
    "Create the provider's payout for this order, due at the process's `schedules.payout` time; none when nothing became payable.",
  record_review: "Store the customer's rating (1-5) and comment.",
} as const satisfies Record<string, string>;
export type ActionName = keyof typeof ACTIONS;

export const isGuardName = (name: string): name is GuardName => Object.hasOwn(GUARDS, name);
export const isConditionName = (name: string): name is ConditionName => Object.hasOwn(CONDITIONS, name);
export const isActionName = (name: string): name is ActionName => Object.hasOwn(ACTIONS, name);
export const isProcessActor = (name: string): name is ProcessActor => (ACTORS as readonly string[]).includes(name);
