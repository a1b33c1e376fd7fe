// Orders as use cases: create, read, search, take a transition, quote a cancellation,
// fire a due deadline, pay out. Routes call these; the engine does the work.
import type { Db, Store, Trx } from '../../store/db.js';
import type { RawBuilder } from 'kysely';
import { notFound } from '../../domain/errors.js';
import { newId } from '../../domain/ids.js';
import type { DueDeadline } from '../../scheduler/deadlines.js';
import type { Actor, AnswerRecorder } from '../context.js';
import { toPage, type Page, type PageRequest } from '../pagination.js';
import type { TransitionContext, TransitionDeps, TransitionParams } from './context.js';
import { createOrder, type CreateOrderInput } from './create.js';
import { processActorOf, runTransition } from './engine.js';
import { buildView, eventView, listOrderIds, orderView, type EventView, type OrderView } from './views.js';
import { loadOrder, policiesOf, type OrderExtras } from './records.js';
import { DeadlineFiring } from './firing.js';
import { cardRefundable } from './money.js';
import type { SentRefund } from '../card-refunds.js';
import type { RefundView } from '../refund-records.js';
import { putAfterSettles } from './order-copies.js';

/**
 * Who asks: the request's idempotency key and, from the HTTP layer, the INSERT of its
 * record made from the answer (see Idempotency); when given, the record is always written
 * with the transition (or IdempotencyKeyTaken is thrown). A plain string is just the key.
 */
export interface OrderRequest {
  idempotencyKey: string;
  recordInsert?: (body: unknown) => RawBuilder<unknown> | null;
  /** The caller commits as soon as this returns: the transition's write may carry the commit. */
  commitWithWrite?: boolean;
  /** A transition a schedule fires runs at its due time (as deadline firings do), so a late sweep gives the same history. */
  now?: Date;
}

/**
 * The answer to a request is the order's view as the transition leaves it, built just
 * before its write so the request's idempotency record goes into the same statement.
 */
function answering(asked: OrderRequest | string) {
  const request: OrderRequest = typeof asked === 'string' ? { idempotencyKey: asked } : asked;
  let view: OrderView | undefined;
  let last: TransitionContext | undefined;
  return {
    idempotencyKey: request.idempotencyKey,
    last: request.commitWithWrite ?? false,
    companion(ctx: TransitionContext): RawBuilder<unknown> | null {
      last = ctx;
      view = buildView(ctx.rec, ctx.extras as OrderExtras, true);
      return request.recordInsert?.(view) ?? null;
    },
    ctx: () => last as TransitionContext,
    answer(): OrderView {
      if (!view || !last) throw new Error('the transition wrote no answer');
      return view;
    },
  };
}

/** The order's view with these refunds as they are now (the rest as they were). */
function withRefunds(view: OrderView, refunds: RefundView[]): OrderView {
  const byId = new Map(refunds.map((r) => [r.id, r]));
  return { ...view, refunds: view.refunds.map((r) => byId.get(r.id) ?? r) };
}

export interface TransitionOutcome {
  view: OrderView;
  /** Card refunds to send after commit; resolves to the order as it is then (and may store it, see AnswerRecorder). */
  after: ((answer?: AnswerRecorder) => Promise<OrderView>) | undefined;
}

class DryRun extends Error {
  constructor(readonly ctx: TransitionContext) {
    super('dry run');
  }
}

export class OrderService {
  private readonly firing: DeadlineFiring;

  constructor(
    private readonly deps: TransitionDeps,
    onDeadlineError: (err: unknown, deadline: DueDeadline) => void = () => {},
  ) {
    this.firing = new DeadlineFiring(deps, onDeadlineError);
  }

  private get store(): Store {
    return this.deps.s.store;
  }

  async create(trx: Trx, input: CreateOrderInput, actor: Actor, request: OrderRequest | string): Promise<OrderView> {
    if (actor.role === 'customer' && actor.customerId !== input.customerId) throw notFound('customer', input.customerId);
    if (actor.role === 'provider' && actor.providerId !== input.providerId) throw notFound('provider', input.providerId);
    const respond = answering(request);
    await createOrder(this.deps, trx, input, actor, respond.idempotencyKey, respond);
    return respond.answer();
  }

  async get(db: Db | Trx, id: string, actor: Actor): Promise<OrderView> {
    const view = await orderView(db, id);
    this.assertCanSee(actor, view);
    return view;
  }

  assertCanSee(actor: Actor, order: { customerId: string; providerId: string; id: string }): void {
    processActorOf(actor.role === 'system' ? { ...actor, role: 'admin' } : actor, { customer_id: order.customerId, provider_id: order.providerId });
  }

  async list(
    db: Db,
    filter: { state?: string | undefined; customerId?: string | undefined; providerId?: string | undefined; siteId?: string | undefined; process?: string | undefined; q?: string | undefined },
    page: PageRequest,
    actor: Actor,
  ): Promise<Page<OrderView>> {
    const scoped = {
      ...filter,
      ...(actor.role === 'customer' ? { customerId: actor.customerId as string } : {}),
      ...(actor.role === 'provider' ? { providerId: actor.providerId as string } : {}),
    };
    const ids = await listOrderIds(db, scoped, page);
    const views: OrderView[] = [];
    for (const id of ids) views.push(await orderView(db, id, { events: false }));
    return toPage(views, page.limit);
  }

  async transition(trx: Trx, id: string, name: string, actor: Actor, params: TransitionParams, request: OrderRequest | string): Promise<TransitionOutcome> {
    const respond = answering(request);
    const now = typeof request === 'string' ? undefined : request.now;
    await runTransition(this.deps, trx, { orderId: id, transition: name, actor, params, idempotencyKey: respond.idempotencyKey, respond, ...(now ? { now } : {}) });
    const view = respond.answer();
    const pending = respond.ctx().afterCommit;
    return {
      view,
      after: pending.length
        ? async (answer?: AnswerRecorder) => {
            // A card refund that went through changes only the refund itself (the order's
            // amounts already counted it): answer with it, without reading the order again;
            // the last one's settle also stores that answer if all went through.
            // One that failed put money back in credit and released its cap: read it all.
            const sentAll: SentRefund[] = [];
            // The answer the last settle was given to store: once it did (answer.recorded), it is
            // returned as it is, and the HTTP layer then sends the stored text.
            let answered: OrderView | null = null;
            for (const [i, send] of pending.entries()) {
              const settled = sentAll.map((s) => s.refund);
              const last = i === pending.length - 1 && settled.every((r) => r.status === 'succeeded');
              const sent = await send(
                last && answer ? (refund, onlyWith) => answer.update((answered = withRefunds(view, [...settled, refund])), onlyWith) : undefined,
              );
              sentAll.push(sent);
              if (sent.alsoWritten && answer) answer.recorded = true;
            }
            // The transition's copy of the order, with the refunds settled, if nothing else wrote the order meanwhile.
            const held = respond.ctx().heldCopy;
            if (held) putAfterSettles(this.deps.orderCopies, held, sentAll);
            const settled = sentAll.map((s) => s.refund);
            if (settled.some((r) => r.status !== 'succeeded')) return orderView(this.store.db, id);
            return answer?.recorded && answered ? answered : withRefunds(view, settled);
          }
        : undefined,
    };
  }

  /**
   * What a cancellation would refund, computed by running the real cancellation inside a
   * transaction that is then rolled back — the same code path, so the same numbers.
   */
  async quoteCancellation(id: string, actor: Actor, params: TransitionParams): Promise<{ object: 'cancellation_quote'; total: number; [k: string]: unknown }> {
    const name = params.lineIds?.length ? 'cancel_lines' : 'cancel';
    try {
      await this.store.transaction(async (trx) => {
        const ctx = await runTransition(this.deps, trx, { orderId: id, transition: name, actor, params, idempotencyKey: `quote:${newId('event')}`, dryRun: true });
        throw new DryRun(ctx);
      });
    } catch (err) {
      if (!(err instanceof DryRun)) throw err;
      const { ctx } = err;
      const toCard = ctx.refunds.filter((r) => r.destination === 'card').reduce((s, r) => s + r.amount, 0);
      const total = ctx.quote?.total ?? 0;
      return {
        object: 'cancellation_quote' as const,
        orderId: id,
        currency: ctx.rec.order.currency,
        transition: name,
        lines: ctx.quote?.lines ?? [],
        serviceFee: ctx.quote?.serviceFee ?? null,
        total,
        destination: { requested: params.refundDestination ?? policiesOf(ctx.rec.order).defaultRefundDestination, card: toCard, accountCredit: total - toCard },
        orderStateAfter: ctx.rec.order.state,
        computedAt: ctx.now.toISOString(),
      };
    }
    throw new Error('unreachable: dry run did not roll back');
  }

  /** For each card payment: the most that can go back to it now (seed 000's pre-filled amount). */
  async cardRefundables(id: string, actor: Actor): Promise<{ paymentId: string; amount: number; refunded: number; maxRefundable: number }[]> {
    return this.store.transaction(async (trx) => {
      const rec = await loadOrder(trx, id);
      this.assertCanSee(actor, { id, customerId: rec.order.customer_id, providerId: rec.order.provider_id });
      const ctx = { ...this.deps, trx, rec } as unknown as TransitionContext;
      const out = [];
      for (const p of rec.payments.filter((x) => x.method === 'card')) {
        out.push({ paymentId: p.id, amount: Number(p.amount), refunded: Number(p.refunded_amount), maxRefundable: await cardRefundable(ctx, p) });
      }
      return out;
    });
  }

  /** Fires one claimed deadline in its own transaction (see firing.ts). */
  fireDeadline(d: DueDeadline): Promise<DueDeadline | null> {
    return this.firing.fireOne(d);
  }

  /** Fires a batch of claimed deadlines in one transaction, or one by one if any fails (see firing.ts). */
  fireDeadlines(batch: DueDeadline[]): Promise<Array<DueDeadline | null>> {
    return this.firing.fireMany(batch);
  }

  async listEvents(db: Db, filter: { orderId?: string | undefined; type?: string | undefined }, page: PageRequest): Promise<Page<EventView>> {
    let q = db.selectFrom('order_events').selectAll().orderBy('id', 'asc').limit(page.limit + 1);
    if (filter.orderId) q = q.where('order_id', '=', filter.orderId);
    if (filter.type) q = q.where('type', '=', filter.type);
    if (page.startingAfter) q = q.where('id', '>', page.startingAfter);
    return toPage((await q.execute()).map(eventView), page.limit);
  }

  async listPayouts(db: Db, filter: { providerId?: string | undefined }, page: PageRequest) {
    let q = db.selectFrom('payouts').selectAll().orderBy('id', 'desc').limit(page.limit + 1);
    if (filter.providerId) q = q.where('provider_id', '=', filter.providerId);
    if (page.startingAfter) q = q.where('id', '<', page.startingAfter);
    const rows = await q.execute();
    return toPage(
      rows.map((p) => ({
        id: p.id,
        object: 'payout' as const,
        providerId: p.provider_id,
        orderId: p.order_id,
        amount: Number(p.amount),
        currency: p.currency,
        status: p.status,
        dueAt: p.due_at.toISOString(),
        paidAt: p.paid_at?.toISOString() ?? null,
        transactionId: p.transaction_id,
      })),
      page.limit,
    );
  }
}
