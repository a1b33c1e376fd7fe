// Changes to what was ordered: edits in confirmation, provider proposals and their
// acceptance, session line edits (time slot, participant), and the seats that follow
// the lines. Amounts are recomputed from the lines and the order's policy snapshot.
import { badRequest, conflict, notFound, ruleRefused } from '../../domain/errors.js';
import { newId } from '../../domain/ids.js';
import { addMinor, percentOfMinor, percentToBasisPoints } from '../../domain/money.js';
import type { Settings } from '../../domain/settings.js';
import type { LineChange, TermsChange, TransitionContext } from './context.js';
import { policiesOf, serviceTimes, type LineRow } from './records.js';
import { totalOf } from './money.js';

export function serviceFeeFor(subtotalMinor: number, policies: Settings): number {
  if (subtotalMinor === 0) return 0;
  return addMinor(policies.serviceFee.fixed, percentOfMinor(subtotalMinor, percentToBasisPoints(policies.serviceFee.percent)));
}

export function lineAmount(unitAmountMinor: number, quantity: number): number {
  const amount = unitAmountMinor * quantity;
  if (!Number.isSafeInteger(amount)) throw badRequest('amount_invalid', 'A line amount (unitAmount × quantity) is too large.', { param: 'lines' });
  return amount;
}

/** The lines as they would be after `change` (new objects; the working copy is untouched). */
export function linesAfter(lines: LineRow[], change: TermsChange): LineRow[] {
  let next = lines.map((l) => ({ ...l }));
  if (change.startsAt !== undefined) {
    const target = parseTime(change.startsAt, 'startsAt');
    const { startsAt } = serviceTimes(next);
    if (!startsAt) throw badRequest('parameter_invalid', 'This order has no service time to move; edit its lines instead.', { param: 'startsAt' });
    const shiftMs = target.getTime() - startsAt.getTime();
    next = next.map((l) => (l.starts_at && l.status === 'open' ? { ...l, starts_at: new Date(l.starts_at.getTime() + shiftMs), ends_at: l.ends_at ? new Date(l.ends_at.getTime() + shiftMs) : null } : l));
    if (change.endsAt !== undefined) {
      const timed = next.filter((l) => l.starts_at && l.status === 'open');
      if (timed.length !== 1) throw badRequest('parameter_invalid', 'endsAt can be set for a single timed line only; edit the lines instead.', { param: 'endsAt' });
      timed[0]!.ends_at = parseTime(change.endsAt, 'endsAt');
    }
  }
  for (const lc of change.lines ?? []) {
    const line = next.find((l) => l.id === lc.id);
    if (!line) throw notFound('line', lc.id);
    if (line.status !== 'open') throw conflict('line_not_open', `Line ${lc.id} is ${line.status}.`, { lineId: lc.id });
    applyLineChange(line, lc);
  }
  for (const l of next) {
    if (l.starts_at && l.ends_at && l.ends_at <= l.starts_at) throw badRequest('parameter_invalid', `Line ${l.id} must end after it starts.`, { param: 'endsAt' });
  }
  return next;
}

function applyLineChange(line: LineRow, lc: LineChange): void {
  if (lc.description !== undefined) line.description = lc.description;
  if (lc.quantity !== undefined) line.quantity = lc.quantity;
  if (lc.unitAmount !== undefined) line.unit_amount = lc.unitAmount;
  if (lc.startsAt !== undefined) line.starts_at = parseTime(lc.startsAt, 'startsAt');
  if (lc.endsAt !== undefined) line.ends_at = parseTime(lc.endsAt, 'endsAt');
  if (lc.participantName !== undefined) line.participant_name = lc.participantName;
  if (lc.slotId !== undefined) line.slot_id = lc.slotId;
  line.amount = lineAmount(Number(line.unit_amount), line.quantity);
}

function parseTime(value: string, param: string): Date {
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) throw badRequest('parameter_invalid', `${param} must be an ISO 8601 time.`, { param });
  return d;
}

export function amountsFor(lines: LineRow[], policies: Settings): { subtotal: number; serviceFee: number; total: number } {
  const subtotal = addMinor(...lines.map((l) => Number(l.amount)));
  const serviceFee = serviceFeeFor(subtotal, policies);
  return { subtotal, serviceFee, total: addMinor(subtotal, serviceFee) };
}

/**
 * Moves seats for lines whose slot changes (old slot freed, new slot taken: refused if
 * full). Slot times become the line's times; the new slot must be of the same service.
 */
async function moveSeats(ctx: TransitionContext, before: LineRow[], after: LineRow[]): Promise<void> {
  for (const next of after) {
    const prev = before.find((l) => l.id === next.id) as LineRow;
    if (next.slot_id === prev.slot_id) {
      // Same slot, other quantity: take or free the difference.
      if (next.slot_id && next.quantity > prev.quantity) await ctx.catalog.takeSeats(ctx.trx, next.slot_id, next.quantity - prev.quantity);
      if (next.slot_id && next.quantity < prev.quantity) await ctx.catalog.releaseSeats(ctx.trx, next.slot_id, prev.quantity - next.quantity);
      continue;
    }
    if (!next.slot_id) throw badRequest('parameter_invalid', 'A session line cannot drop its slot.', { param: 'slotId' });
    const slot = await ctx.catalog.getSlot(ctx.trx, next.slot_id);
    // A line without a service cannot take a seat either (any slot, of any provider, at its own price).
    if (slot.serviceId !== prev.service_id) {
      throw ruleRefused('slot_of_other_service', 'The new slot must belong to the same service.', { param: 'slotId' });
    }
    if (prev.slot_id) await ctx.catalog.releaseSeats(ctx.trx, prev.slot_id, prev.quantity);
    await ctx.catalog.takeSeats(ctx.trx, next.slot_id, next.quantity);
    next.starts_at = new Date(slot.startsAt);
    next.ends_at = new Date(slot.endsAt);
  }
}

/** Writes changed lines back and recomputes the order's amounts and service time. */
async function commitLines(ctx: TransitionContext, next: LineRow[]): Promise<void> {
  for (const line of next) {
    await ctx.trx
      .updateTable('order_lines')
      .set({
        description: line.description,
        quantity: line.quantity,
        unit_amount: line.unit_amount,
        amount: line.amount,
        starts_at: line.starts_at,
        ends_at: line.ends_at,
        participant_name: line.participant_name,
        slot_id: line.slot_id,
      })
      .where('id', '=', line.id)
      .execute();
  }
  ctx.rec.lines = next;
  const { order } = ctx.rec;
  const amounts = amountsFor(next, policiesOf(order));
  order.subtotal = amounts.subtotal;
  order.service_fee = amounts.serviceFee;
  const times = serviceTimes(next);
  order.starts_at = times.startsAt;
  order.ends_at = times.endsAt;
}

/** The terms change a transition carries: the request (edit), the stored proposal, or one line's edit. */
function changeOf(ctx: TransitionContext): TermsChange {
  if (ctx.transition.name === 'accept_proposal') return ctx.rec.order.proposal as TermsChange;
  if (ctx.transition.name === 'edit_line') {
    const change: LineChange = { id: (ctx.selected[0] as LineRow).id };
    if (ctx.params.participantName !== undefined) change.participantName = ctx.params.participantName;
    if (ctx.params.slotId !== undefined) change.slotId = ctx.params.slotId;
    if (ctx.params.startsAt !== undefined) change.startsAt = ctx.params.startsAt;
    if (ctx.params.endsAt !== undefined) change.endsAt = ctx.params.endsAt;
    return { lines: [change] };
  }
  return { startsAt: ctx.params.startsAt, endsAt: ctx.params.endsAt, lines: ctx.params.lines, comment: ctx.params.comment };
}

/**
 * Customers and providers book what is still ahead: a line may not start at or before
 * `now` unless it already did (`before`, for a change). Staff may record an order after
 * the fact. Slot lines are checked after their slot's time is known.
 */
export function refusePastStarts(lines: LineRow[], before: LineRow[] | null, now: Date, role: string): void {
  if (role !== 'customer' && role !== 'provider') return;
  for (const l of lines) {
    if (l.status !== 'open' || !l.starts_at || l.starts_at.getTime() > now.getTime()) continue;
    const prev = before?.find((b) => b.id === l.id);
    if (prev && prev.starts_at?.getTime() === l.starts_at.getTime()) continue;
    throw ruleRefused('starts_in_past', `Line ${l.position} would start at ${l.starts_at.toISOString()}, which is not ahead of now (${now.toISOString()}).`, {
      param: before ? 'startsAt' : `lines.${l.position}.startsAt`,
    });
  }
}

/** The lines as the transition's change leaves them (refused if a person moves one into the past). */
function changedLines(ctx: TransitionContext): LineRow[] {
  const next = linesAfter(ctx.rec.lines, changeOf(ctx));
  refusePastStarts(next, ctx.rec.lines, ctx.now, ctx.role);
  return next;
}

/** move_seats: works out the new lines and moves their seats; the apply_* action writes them. */
export async function moveSeatsForChange(ctx: TransitionContext): Promise<void> {
  const next = changedLines(ctx);
  await moveSeats(ctx, ctx.rec.lines, next);
  // A new slot brings its own time: check again now that it is known.
  refusePastStarts(next, ctx.rec.lines, ctx.now, ctx.role);
  ctx.pendingLines = next;
}

function pendingLines(ctx: TransitionContext): LineRow[] {
  return ctx.pendingLines ?? changedLines(ctx);
}

/** An edit in confirmation: applies at once and the other party is awaited again. */
export async function applyEdit(ctx: TransitionContext): Promise<void> {
  await commitLines(ctx, pendingLines(ctx));
  if (ctx.params.comment !== undefined) ctx.rec.order.comment = ctx.params.comment;
  ctx.rec.order.last_edit_at = ctx.now;
  ctx.rec.order.last_edit_by = partyLabel(ctx);
  ctx.event.edit = { ...changeOf(ctx), total: totalOf(ctx.rec.order) };
}

function partyLabel(ctx: TransitionContext): string {
  const { role } = ctx;
  if (role === 'customer' || role === 'provider') return role;
  return ctx.params.onBehalfOf ?? (ctx.rec.order.awaiting === 'provider' ? 'provider' : 'customer');
}

/** A provider's proposal in execution: stored, nothing applied (the guard refused a higher price). */
export function recordProposal(ctx: TransitionContext): void {
  const change = changeOf(ctx);
  if (change.startsAt === undefined && !change.lines?.length && change.comment === undefined) {
    throw badRequest('parameter_missing', 'Propose a new date/time (startsAt), new line prices (lines) or a comment.');
  }
  const next = linesAfter(ctx.rec.lines, change);
  const proposed = amountsFor(next, policiesOf(ctx.rec.order)).total;
  const currentTotal = totalOf(ctx.rec.order);
  const times = serviceTimes(next);
  ctx.rec.order.proposal = {
    ...change,
    // Its own id, so an answer can name the proposal it saw (another made in the same second differs).
    id: newId('proposal'),
    proposedAt: ctx.now.toISOString(),
    proposedBy: ctx.role,
    total: proposed,
    startsAtAfter: times.startsAt?.toISOString() ?? null,
    priceDifference: currentTotal - proposed,
  };
  ctx.event.proposal = ctx.rec.order.proposal;
}

export async function applyProposal(ctx: TransitionContext): Promise<void> {
  const proposal = ctx.rec.order.proposal as TermsChange;
  const previousTotal = totalOf(ctx.rec.order);
  await commitLines(ctx, pendingLines(ctx));
  if (proposal.comment !== undefined) ctx.rec.order.comment = proposal.comment;
  ctx.event.acceptedProposal = { ...proposal, previousTotal };
  ctx.event.priceDifference = previousTotal - totalOf(ctx.rec.order);
}

/** Seed 003's "Edit session": another slot (with free seats) or another participant. */
export async function applyLineEdit(ctx: TransitionContext): Promise<void> {
  const next = pendingLines(ctx);
  const edited = next.find((l) => l.id === (ctx.selected[0] as LineRow).id) as LineRow;
  if (edited.starts_at && ctx.now.getTime() >= edited.starts_at.getTime()) {
    throw conflict('service_started', 'The new time must be in the future.', { param: 'startsAt' });
  }
  await commitLines(ctx, next);
  ctx.event.lineEdit = changeOf(ctx).lines?.[0];
}

export async function reserveSeats(ctx: TransitionContext): Promise<void> {
  for (const line of ctx.rec.lines) if (line.slot_id && line.status === 'open') await ctx.catalog.takeSeats(ctx.trx, line.slot_id, line.quantity);
}

/** Frees the seats of the lines this transition cancelled. */
export async function releaseSeats(ctx: TransitionContext): Promise<void> {
  for (const line of ctx.cancelled) if (line.slot_id) await ctx.catalog.releaseSeats(ctx.trx, line.slot_id, line.quantity);
}

/** Proposed totals for the guard (price_not_increased) without recording anything. */
export function proposedTotal(ctx: TransitionContext): number {
  return amountsFor(changedLines(ctx), policiesOf(ctx.rec.order)).total;
}
