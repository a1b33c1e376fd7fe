// The order engine: runs one transition of the order's declared process — lock the
// order, check who may do it and in which state, run the guards, run the actions in
// order, choose the target state, write the event (history and outbox) and the next
// deadline — all in the caller's database transaction. It knows no state names.
import { sql, type RawBuilder } from 'kysely';
import { SettleError } from '../../domain/errors.js';
import { newId } from '../../domain/ids.js';
import {
  START,
  awaitingParty,
  chooseBranch,
  deadlineFor,
  getProcess,
  isTerminal,
  requireTransition,
  type ConditionName,
  type ProcessActor,
} from '../../domain/process/index.js';
import { afterCommit, isSerializationFailure, runAgain, transactionAttempt, type Trx } from '../../store/db.js';
import { AFTER_LAST_STATEMENT } from '../../store/pipeline-marks.js';
import { isBalanceRefusal } from '../../ledger/ledger.js';
import { actorLabel, type Actor } from '../context.js';
import type { TransitionContext, TransitionDeps, TransitionParams } from './context.js';
import { GUARD_IMPLEMENTATIONS } from './guards.js';
import { ACTION_IMPLEMENTATIONS } from './actions.js';
import { loadOrder, loadOrderForView, PAYOUT_DEADLINE, policiesOf, type LineRow, type OrderExtras, type OrderRecord } from './records.js';
import type { EventRow } from './views.js';
import { totalOf } from './money.js';
import { writeTransitions, type TransitionWrite } from './writes.js';
import { assertCopyCurrent, lockAtVersion, type OrderCopy } from './order-copies.js';

/** Tests set it: every copy used is compared with the order read under its lock (read per use, so a test can turn it off). */
const verifyCopies = () => process.env.SETTLE_VERIFY_ORDER_COPIES === '1';

export { PAYOUT_DEADLINE };

const CONDITION_IMPLEMENTATIONS: Record<ConditionName, (ctx: TransitionContext) => boolean> = {
  nothing_to_pay: (ctx) => totalOf(ctx.rec.order) === 0,
  all_lines_cancelled: (ctx) => ctx.rec.lines.every((l) => l.status === 'cancelled'),
  no_open_lines: (ctx) => ctx.rec.lines.every((l) => l.status !== 'open'),
};

export function processActorOf(actor: Actor, order: { customer_id: string; provider_id: string }): ProcessActor {
  if (actor.role === 'admin') return 'operator';
  if (actor.role === 'system') return 'system';
  if (actor.role === 'customer' && actor.customerId === order.customer_id) return 'customer';
  if (actor.role === 'provider' && actor.providerId === order.provider_id) return 'provider';
  throw new SettleError(404, 'not_found_error', 'resource_missing', 'No such order.');
}

export interface TransitionRequest {
  orderId: string;
  transition: string;
  actor: Actor;
  params: TransitionParams;
  idempotencyKey: string;
  /** Deadline firings run at their due time, so a late sweep gives the same history. */
  now?: Date;
  dryRun?: boolean;
  /**
   * Load what the order's view needs too (refunds, events), kept current in ctx.extras,
   * and write `companion` (e.g. the request's idempotency record, made from the response)
   * in the transition's own statement (IdempotencyKeyTaken if it wrote none). `last`: the
   * caller commits right after, so the commit may go with the write (pipeline-marks.ts).
   */
  respond?: { companion: (ctx: TransitionContext) => RawBuilder<unknown> | null; last?: boolean };
  /** The order as already locked and loaded (or just written, for create) in this transaction. */
  record?: OrderRecord & { extras?: OrderExtras };
  /**
   * Collect the transition's write here instead of writing it (a batch of deadline firings
   * writes all of them in one statement at the end, see writes.ts).
   */
  defer?: TransitionWrite[];
}

export async function runTransition(deps: TransitionDeps, trx: Trx, req: TransitionRequest): Promise<TransitionContext> {
  // A request answering with the order may start from this process's copy (order-copies.ts).
  // Only on a transaction's first run: one run again (a stale copy, a shortcut undone) reads.
  const taken = req.respond && !req.record && !req.dryRun && transactionAttempt(trx) === 1 ? deps.orderCopies.take(req.orderId) : undefined;
  const running: Running = { fromCopy: taken !== undefined };
  try {
    return await transitionOn(deps, trx, req, await lockedRecord(trx, req, taken), running);
  } catch (err) {
    if (running.ctx?.againOnBalanceRefusal && isBalanceRefusal(err)) {
      deps.orderCopies.counts.shortcutsUndone++;
      throw runAgain('a payment from credit without a check first was refused');
    }
    if (!taken) throw err;
    const stale = isSerializationFailure(err) ? err : await staleCopy(trx);
    if (stale) deps.orderCopies.counts.stale++;
    throw stale ?? err;
  }
}

/**
 * A refusal worked out from a copy (wrong state, a rule) may come before any statement went
 * out, and with it the copy's deferred check: it is the answer only if the copy was current.
 * Sends the check now, and gives the serialization failure it raises for a stale copy (the
 * transaction then runs again on the stored order), any other error that left the copy
 * unconfirmed, or null. If a statement already failed, the check went out ahead of it and
 * passed (else that failure would be the check's): nothing more to learn.
 */
async function staleCopy(trx: Trx): Promise<unknown> {
  try {
    await sql`select ${'copy confirmed'}::text as confirmed`.execute(trx);
    return null;
  } catch (err) {
    // Aborted by the failure being answered, or already committed by its last statement:
    // the check went out before it. Anything else (a timeout, a lost connection) left the
    // copy unconfirmed, so that error is the answer, not a refusal worked out from the copy.
    const e = err as { code?: string; message?: string };
    if (e.code === IN_FAILED_TRANSACTION || e.message?.startsWith(AFTER_LAST_STATEMENT)) return null;
    return err;
  }
}

const IN_FAILED_TRANSACTION = '25P02';

/** What runTransition needs to know of a transition while it runs. */
interface Running {
  fromCopy: boolean;
  ctx?: TransitionContext;
}

/** The order under its lock: given, from the copy (its version checked), or read. */
async function lockedRecord(trx: Trx, req: TransitionRequest, taken: { version: string; copy: OrderCopy } | undefined): Promise<OrderRecord & { extras?: OrderExtras }> {
  if (req.record) return req.record;
  if (!taken) return req.respond ? loadOrderForView(trx, req.orderId, { lock: true, events: true }) : loadOrder(trx, req.orderId, { lock: true });
  // The check goes out with the transition's next statement, except before a card charge:
  // a card must not be charged for a copy that may turn out stale.
  await lockAtVersion(trx, req.orderId, taken.version, { deferred: !req.params.paymentMethod });
  if (verifyCopies()) assertCopyCurrent(taken.copy, await loadOrderForView(trx, req.orderId, { lock: true, events: true }));
  return taken.copy;
}

async function transitionOn(
  deps: TransitionDeps,
  trx: Trx,
  req: TransitionRequest,
  rec: OrderRecord & { extras?: OrderExtras },
  running: Running,
): Promise<TransitionContext> {
  const { order } = rec;
  const process = getProcess(order.process, order.process_version);
  if (!process) throw new Error(`order ${order.id} runs unknown process ${order.process}@${order.process_version}`);
  const role = processActorOf(req.actor, order);
  const transition = requireTransition(process, order.state, req.transition, role);
  // A transition given its own time (a schedule firing late: a deadline, a batch release)
  // runs at that time, but never before the order's last step, so history never runs backwards.
  const now = req.now ? new Date(Math.max(req.now.getTime(), order.updated_at.getTime())) : deps.s.clock.now();
  if (role !== 'system') refuseIfDeadlinePassed(rec, now);
  // Every field named, in one order, and no spread: on Node 20 an object begun with
  // `{ ...deps, … }` costs ~1 µs per property added after the spread (V8 gives the clone a
  // map each new property has to copy) — ~45 µs for this one, measured, 3–6 % of the
  // server's CPU in booking lifecycles. Listed, it is one allocation (~0.2 µs).
  const ctx: TransitionContext = {
    s: deps.s,
    catalog: deps.catalog,
    cardRefunds: deps.cardRefunds,
    orderNumbers: deps.orderNumbers,
    orderCopies: deps.orderCopies,
    trx,
    rec,
    process,
    transition,
    actor: req.actor,
    role,
    now,
    params: req.params,
    idempotencyKey: req.idempotencyKey,
    selected: selectLines(rec.lines, req),
    cancelled: [],
    quote: null,
    pendingLines: null,
    refunds: [],
    afterCommit: [],
    lineWrites: [],
    payoutWrites: [],
    event: {},
    dryRun: req.dryRun ?? false,
    fromCopy: running.fromCopy,
    againOnBalanceRefusal: false,
    nextDeadline: undefined,
    extras: req.respond ? (rec.extras ?? { refunds: [], events: [] }) : undefined,
    heldCopy: undefined,
  } satisfies Record<keyof TransitionContext, unknown>; // every field named, optional ones too
  running.ctx = ctx;
  for (const guard of transition.guards ?? []) await GUARD_IMPLEMENTATIONS[guard](ctx);
  for (const action of transition.actions ?? []) await ACTION_IMPLEMENTATIONS[action](ctx);
  const from = order.state;
  const branch = chooseBranch(transition, from, (c) => CONDITION_IMPLEMENTATIONS[c](ctx));
  for (const action of branch.actions) await ACTION_IMPLEMENTATIONS[action](ctx);

  if (branch.to !== from) {
    order.state = branch.to;
    order.entered_state_at = now;
    if (isTerminal(process, branch.to)) order.closed_at = now;
  }
  order.awaiting = awaitingParty(process, order.state, lastParty(order.last_edit_by, order.created_by));
  order.updated_at = now;
  ctx.nextDeadline = nextDeadline(ctx);
  const next = ctx.nextDeadline;
  rec.deadline = next ? { transition: next.transition, due_at: next.at } : null;
  const event = eventRow(ctx, from);
  if (ctx.extras) {
    ctx.extras.refunds.push(...ctx.refunds);
    ctx.extras.events.push(event);
  }
  const write: TransitionWrite = { order, event, deadline: next ?? null, lines: ctx.lineWrites, payouts: ctx.payoutWrites };
  if (req.defer) req.defer.push(write);
  else {
    const version = await writeTransitions(trx, [write], req.respond?.companion(ctx) ?? null, { last: req.respond?.last ?? false });
    if (req.respond && version) keepCopy(deps, trx, ctx, version);
  }
  return ctx;
}

/**
 * Once the transaction committed, the order as it left it is this process's copy — unless
 * it was a dry run, or the order has ended (a review may still come, but rarely soon: a
 * copy of every closed order would only keep memory busy). With card refunds still to
 * settle (each gives the order a new version) the copy is held in ctx.heldCopy, for the
 * caller to put back once they have (order-copies.ts putAfterSettles).
 */
function keepCopy(deps: TransitionDeps, trx: Trx, ctx: TransitionContext, version: string): void {
  const extras = ctx.extras;
  if (ctx.dryRun || !extras) return;
  const { order, lines, payments, deadline, payout } = ctx.rec;
  afterCommit(trx, () => {
    if (isTerminal(ctx.process, order.state)) return deps.orderCopies.drop(order.id);
    // In the order a read gives them (by id): another server's clock may have made an
    // earlier id than the one appended here.
    const copy = { order, lines, payments: byId(payments), deadline, payout, extras: { refunds: byId(extras.refunds), events: byId(extras.events) } };
    if (ctx.afterCommit.length === 0) return deps.orderCopies.put(order.id, version, copy);
    deps.orderCopies.drop(order.id);
    ctx.heldCopy = { version, copy };
  });
}

function byId<T extends { id: string }>(rows: T[]): T[] {
  return [...rows].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/**
 * A person's transition never overtakes a deadline that is already due but not yet fired
 * (the sweep may lag by a moment): paying at 12 h 0 min 1 s is refused, not accepted.
 * The order's lock is held, so the sweep fires it right after.
 */
function refuseIfDeadlinePassed(rec: OrderRecord, now: Date): void {
  const due = rec.deadline?.transition === PAYOUT_DEADLINE ? null : rec.deadline;
  if (due && due.due_at.getTime() <= now.getTime()) {
    throw new SettleError(409, 'conflict_error', 'deadline_passed', `The deadline passed at ${due.due_at.toISOString()} (${due.transition}); the order is moving on.`, {
      deadline: { at: due.due_at.toISOString(), action: due.transition },
    });
  }
}

/** Which lines a request is about: the named ones, or for a whole-order cancel every open one. */
function selectLines(lines: LineRow[], req: TransitionRequest): LineRow[] {
  const ids = req.params.lineIds;
  if (ids?.length) return lines.filter((l) => ids.includes(l.id));
  const wholeOrder = ['cancel', 'expire_confirmation', 'expire_payment'];
  return wholeOrder.includes(req.transition) ? lines.filter((l) => l.status === 'open') : [];
}

function lastParty(lastEditBy: string | null, createdBy: string): 'customer' | 'provider' | undefined {
  const party = lastEditBy ?? createdBy;
  return party === 'customer' || party === 'provider' ? party : undefined;
}

function nextDeadline(ctx: TransitionContext): { transition: string; at: Date } | null {
  const { order } = ctx.rec;
  const deadline = deadlineFor(
    ctx.process,
    order.state,
    {
      enteredState: order.entered_state_at,
      createdAt: order.created_at,
      lastEditAt: order.last_edit_at,
      startsAt: order.starts_at,
      endsAt: order.ends_at,
      closedAt: order.closed_at,
    },
    policiesOf(order),
  );
  // A deadline already past when it is set (staff recording a booking whose start has
  // passed: the confirmation window is capped at the start) falls due now, not before the
  // transition that set it, so the order's history never runs backwards.
  if (deadline) return deadline.at.getTime() < ctx.now.getTime() ? { ...deadline, at: ctx.now } : deadline;
  // Otherwise the order's payout, if one is scheduled: just now, or earlier (its deadline row).
  const scheduled = ctx.event.payout as { dueAt: string } | undefined;
  if (scheduled) return { transition: PAYOUT_DEADLINE, at: new Date(scheduled.dueAt) };
  const pending = ctx.rec.deadline;
  return pending?.transition === PAYOUT_DEADLINE ? { transition: PAYOUT_DEADLINE, at: pending.due_at } : null;
}

function eventRow(ctx: TransitionContext, from: string): EventRow {
  const { order } = ctx.rec;
  return {
    id: newId('event'),
    order_id: order.id,
    type: `order.${ctx.transition.name}`,
    transition: ctx.transition.name,
    actor: actorLabel(ctx.actor),
    from_state: from === START ? null : from,
    to_state: order.state,
    reason: ctx.params.reason ?? ctx.transition.reasonCode ?? null,
    payload: {
      ...ctx.event,
      amounts: { total: totalOf(order), paid: order.paid, refunded: order.refunded },
      refunds: ctx.refunds.map((r) => ({ id: r.id, amount: r.amount, destination: r.destination, status: r.status })),
    },
    created_at: ctx.now,
  };
}
