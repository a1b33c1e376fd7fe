// What a transition works with while it runs: the locked order, who acts and when, the
// request's parameters, and what the actions have done so far (for the event and the
// response).
import type { Trx } from '../../store/db.js';
import type { ProcessActor, ProcessDefinition, TransitionDef } from '../../domain/process/index.js';
import type { CancellationQuote } from '../../domain/cancellation.js';
import type { Actor, Services } from '../context.js';
import type { CatalogService } from '../catalog.js';
import type { AlsoWrite, CardRefundService, SentRefund } from '../card-refunds.js';
import type { RefundView } from '../refund-records.js';
import type { OrderNumbers } from './order-numbers.js';
import type { HeldCopy, OrderCopies } from './order-copies.js';
import type { PayoutRow } from './writes.js';
import type { LineRow, OrderExtras, OrderRecord } from './records.js';

export type RefundDestination = 'card' | 'account_credit';

export interface LineChange {
  id: string;
  description?: string | undefined;
  quantity?: number | undefined;
  unitAmount?: number | undefined;
  startsAt?: string | undefined;
  endsAt?: string | undefined;
  slotId?: string | undefined;
  participantName?: string | undefined;
}

/** A change of the order's terms: an edit in confirmation, or a provider's proposal. */
export interface TermsChange {
  startsAt?: string | undefined;
  endsAt?: string | undefined;
  lines?: LineChange[] | undefined;
  comment?: string | undefined;
}

export interface TransitionParams extends TermsChange {
  reason?: string | undefined;
  lineIds?: string[] | undefined;
  /** cancel: every line not done yet (seed 000's "Cancel all undone lines"). */
  undoneLines?: boolean | undefined;
  refundDestination?: RefundDestination | undefined;
  useAccountCredit?: boolean | undefined;
  paymentMethod?: string | undefined;
  outcome?: 'refund' | 'reject' | undefined;
  amount?: number | undefined;
  destination?: RefundDestination | undefined;
  rating?: number | undefined;
  /** accept/decline a proposal: the id of the proposal the customer saw. */
  proposalId?: string | undefined;
  paymentId?: string | undefined;
  /** An operator acting on behalf of one party (for create and edits). */
  onBehalfOf?: 'customer' | 'provider' | undefined;
  participantName?: string | undefined;
  slotId?: string | undefined;
}

export interface TransitionDeps {
  s: Services;
  catalog: CatalogService;
  cardRefunds: CardRefundService;
  orderNumbers: OrderNumbers;
  orderCopies: OrderCopies;
}

export interface TransitionContext extends TransitionDeps {
  trx: Trx;
  rec: OrderRecord;
  process: ProcessDefinition;
  transition: TransitionDef;
  actor: Actor;
  role: ProcessActor;
  now: Date;
  params: TransitionParams;
  idempotencyKey: string;
  /** Lines the request is about (to cancel, mark done or edit). */
  selected: LineRow[];
  /** Lines this transition cancelled. */
  cancelled: LineRow[];
  quote: CancellationQuote | null;
  /** The lines as a terms change will leave them, computed (and seats moved) by move_seats. */
  pendingLines: LineRow[] | null;
  refunds: RefundView[];
  /** Lines the transition changed (status, refunded); written with the order at the end of the transition. */
  lineWrites: LineRow[];
  /** Payouts scheduled by the transition; written with the order at the end. */
  payoutWrites: PayoutRow[];
  /**
   * Card refunds to send once the transaction has committed; each gives the settled refund
   * and may write something with its settle (the request's stored answer).
   */
  afterCommit: Array<(alsoWrite?: AlsoWrite) => Promise<SentRefund>>;
  /** Details recorded in the event (history and outbox). */
  event: Record<string, unknown>;
  dryRun: boolean;
  /** The order came from this process's copy (order-copies.ts), not from a read. */
  fromCopy: boolean;
  /**
   * A shortcut was taken that a balance refusal proves wrong (paying from credit without
   * checking it first): such a refusal runs the transaction again, the long way.
   */
  againOnBalanceRefusal: boolean;
  /** The order's deadline after this transition, as the engine stored it. */
  nextDeadline?: { transition: string; at: Date } | null;
  /** Refunds and events for the response (kept current), when the request answers with the view. */
  extras?: OrderExtras;
  /**
   * After commit, the order's copy as this transition left it, held back while its card
   * refunds settle (order-copies.ts putAfterSettles).
   */
  heldCopy?: HeldCopy;
}

/** The party an actor speaks for in the order: operators act for someone. */
export function partyOf(ctx: Pick<TransitionContext, 'role' | 'params' | 'rec'>): 'customer' | 'provider' {
  if (ctx.role === 'customer' || ctx.role === 'provider') return ctx.role;
  if (ctx.params.onBehalfOf) return ctx.params.onBehalfOf;
  // Staff act for the awaited party by default, so an edit by staff flips who is awaited.
  return ctx.rec.order.awaiting === 'provider' ? 'provider' : 'customer';
}
