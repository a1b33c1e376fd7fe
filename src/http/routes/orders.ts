// Orders: create, read, search, and one route per transition. Routes only translate
// HTTP to the order service; the declared process decides what is allowed.
import { Type, type TSchema } from '@sinclair/typebox';
import { requireAdmin } from '../auth.js';
import { Currency, errorResponses, Id, IdParams, ListOf, Order, PageQuery, PositiveAmountMinor, AmountMinor, Text } from '../schemas.js';
import type { TransitionParams } from '../../services/orders/context.js';
import { forbidden } from '../../domain/errors.js';
import { pageOf, type RouteModule } from './route-module.js';

const Time = Type.String({ format: 'date-time', description: 'ISO 8601 time, e.g. 2026-12-01T10:00:00Z' });
const Reason = Text(1000);
const Destination = Type.Union([Type.Literal('account_credit'), Type.Literal('card')]);
const LineIds = Type.Array(Id('li'), { minItems: 1, maxItems: 100, uniqueItems: true });

export const LineInput = Type.Object(
  {
    description: Type.Optional(Text(500)),
    serviceId: Type.Optional(Id('svc')),
    slotId: Type.Optional(Id('slot')),
    quantity: Type.Integer({ minimum: 1, maximum: 10_000, default: 1 }),
    unitAmount: Type.Optional(AmountMinor('Price of one unit in minor units (defaults to the service price).')),
    startsAt: Type.Optional(Time),
    endsAt: Type.Optional(Time),
    participantName: Type.Optional(Text(200)),
  },
  { additionalProperties: false },
);

const CreateOrder = Type.Object(
  {
    process: Type.Union([Type.Literal('booking'), Type.Literal('direct')]),
    customerId: Id('cus'),
    providerId: Id('prv'),
    currency: Currency,
    lines: Type.Array(LineInput, { minItems: 1, maxItems: 100 }),
    siteId: Type.Optional(Id('site')),
    comment: Type.Optional(Text(2000)),
    onBehalfOf: Type.Optional(Type.Union([Type.Literal('customer'), Type.Literal('provider')])),
  },
  { additionalProperties: false },
);

const LineChange = Type.Object(
  {
    id: Id('li'),
    description: Type.Optional(Text(500)),
    quantity: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
    unitAmount: Type.Optional(AmountMinor()),
    startsAt: Type.Optional(Time),
    endsAt: Type.Optional(Time),
    slotId: Type.Optional(Id('slot')),
    participantName: Type.Optional(Text(200)),
  },
  { additionalProperties: false },
);

const TermsChange = Type.Object(
  {
    startsAt: Type.Optional(Time),
    endsAt: Type.Optional(Time),
    lines: Type.Optional(Type.Array(LineChange, { maxItems: 100 })),
    comment: Type.Optional(Text(2000)),
    onBehalfOf: Type.Optional(Type.Union([Type.Literal('customer'), Type.Literal('provider')])),
  },
  { additionalProperties: false },
);

const Empty = Type.Object({ reason: Type.Optional(Reason) }, { additionalProperties: false });
/** Answering a proposal: `proposalId` names the one the customer saw (409 proposal_changed if it was replaced). */
const AnswerProposal = Type.Object(
  { reason: Type.Optional(Reason), proposalId: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'The id of the proposal you are answering (proposal.id).' })) },
  { additionalProperties: false },
);

/** One route per transition: path suffix, process transition, body schema, summary. */
const TRANSITIONS: { path: string; transition: string | ((body: Record<string, unknown>) => string); body: TSchema; summary: string }[] = [
  { path: 'confirm', transition: 'confirm', body: Empty, summary: 'The awaited party confirms the order.' },
  { path: 'edit', transition: 'edit', body: TermsChange, summary: 'Edit date/time, price or comment in confirmation; the other party is awaited again.' },
  { path: 'proposal', transition: 'propose', body: TermsChange, summary: 'Provider proposes a new time or a lower price before the start.' },
  { path: 'proposal/accept', transition: 'accept_proposal', body: AnswerProposal, summary: 'Customer accepts the proposal (a lower price refunds the difference); send its proposalId to be sure it is the one you saw.' },
  { path: 'proposal/decline', transition: 'decline_proposal', body: AnswerProposal, summary: 'Customer declines the proposal; send its proposalId to be sure it is the one you saw.' },
  {
    path: 'pay',
    transition: 'pay',
    body: Type.Object(
      { useAccountCredit: Type.Boolean({ default: false }), paymentMethod: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })) },
      { additionalProperties: false },
    ),
    summary: 'Pay: account credit first if asked, the rest by card. A declined card changes nothing.',
  },
  { path: 'mark-done', transition: 'mark_done', body: Empty, summary: 'Provider marks the service done: once every open line has started (orders created under booking 1.0.0: once the first has); otherwise 409 service_not_started with the lineId to wait for.' },
  { path: 'confirm-execution', transition: 'confirm_execution', body: Empty, summary: 'Customer confirms the service was provided; the order closes.' },
  { path: 'claims', transition: 'open_claim', body: Type.Object({ reason: Reason }, { additionalProperties: false }), summary: 'Customer opens a claim.' },
  {
    path: 'claims/resolve',
    transition: 'resolve_claim',
    body: Type.Object(
      {
        outcome: Type.Union([Type.Literal('refund'), Type.Literal('reject')]),
        amount: Type.Optional(PositiveAmountMinor('Refund amount; all that is refundable when omitted.')),
        destination: Type.Optional(Destination),
        reason: Type.Optional(Reason),
      },
      { additionalProperties: false },
    ),
    summary: 'Staff resolve a claim with a refund or a rejection; the order closes.',
  },
  {
    path: 'reviews',
    transition: 'review',
    body: Type.Object({ rating: Type.Integer({ minimum: 1, maximum: 5 }), comment: Type.Optional(Text(4000)) }, { additionalProperties: false }),
    summary: 'Customer reviews the closed order, once.',
  },
  {
    path: 'cancel',
    transition: (b) => (Array.isArray(b.lineIds) && b.lineIds.length ? 'cancel_lines' : 'cancel'),
    body: Type.Object(
      { lineIds: Type.Optional(LineIds), undoneLines: Type.Optional(Type.Boolean()), reason: Type.Optional(Reason), refundDestination: Type.Optional(Destination) },
      { additionalProperties: false },
    ),
    summary: 'Cancel the order, some lines (lineIds), or all undone lines; refunds follow the policy.',
  },
  {
    path: 'refunds',
    transition: 'refund',
    body: Type.Object({ amount: PositiveAmountMinor(), destination: Type.Optional(Destination), reason: Type.Optional(Reason) }, { additionalProperties: false }),
    summary:
      "Staff refund part of the order's money to account credit or the card: from what it holds, or once it has ended (booking 1.2.0, direct 1.1.0) out of the provider's payout while that is still scheduled (409 payout_already_paid after).",
  },
];

function toParams(body: Record<string, unknown> | undefined): TransitionParams {
  return { ...(body ?? {}) } as TransitionParams;
}

export const orderRoutes: RouteModule = (server, app, idem) => {
  const db = app.services.store.db;
  const orders = app.orders;
  const withAfter = (outcome: Awaited<ReturnType<typeof orders.transition>>) => ({
    body: outcome.view,
    recorded: true, // the service wrote the record with the transition (ctx.recordInsert)
    ...(outcome.after ? { after: outcome.after } : {}),
  });

  server.post(
    '/v1/orders',
    { schema: { tags: ['orders'], summary: 'Create an order (booking or direct).', body: CreateOrder, response: { 200: Order, ...errorResponses } } },
    async (req, reply) =>
      idem.run(req, reply, async (trx, ctx) => {
        return { body: await orders.create(trx, req.body, req.actor, ctx), recorded: true };
      }),
  );

  server.get(
    '/v1/orders',
    {
      schema: {
        tags: ['orders'],
        summary: 'Search orders (newest first): by state, process, customer, provider, site, or q (number, customer name or e-mail).',
        querystring: Type.Composite(
          [
            PageQuery,
            Type.Object({
              state: Type.Optional(Type.String({ maxLength: 50 })),
              process: Type.Optional(Type.String({ maxLength: 50 })),
              customerId: Type.Optional(Id('cus')),
              providerId: Type.Optional(Id('prv')),
              siteId: Type.Optional(Id('site')),
              q: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
            }),
          ],
          { additionalProperties: false },
        ),
        response: { 200: ListOf(Order), ...errorResponses },
      },
    },
    async (req) => orders.list(db, req.query, pageOf(req.query), req.actor),
  );

  server.get(
    '/v1/orders/:id',
    { schema: { tags: ['orders'], params: IdParams('ord'), response: { 200: Order, ...errorResponses } } },
    async (req) => orders.get(db, req.params.id, req.actor),
  );

  for (const t of TRANSITIONS) {
    server.post(
      `/v1/orders/:id/${t.path}`,
      { schema: { tags: ['order transitions'], summary: t.summary, params: IdParams('ord'), body: t.body, response: { 200: Order, ...errorResponses } } },
      async (req, reply) => {
        const body = (req.body ?? {}) as Record<string, unknown>;
        const name = typeof t.transition === 'string' ? t.transition : t.transition(body);
        return idem.run(req, reply, async (trx, ctx) => withAfter(await orders.transition(trx, req.params.id, name, req.actor, toParams(body), ctx)));
      },
    );
  }

  server.post(
    '/v1/orders/:id/cancellation-quote',
    {
      schema: {
        tags: ['order transitions'],
        summary: 'Dry run of a cancellation: exactly what would be refunded, line by line, and why. Changes nothing.',
        params: IdParams('ord'),
        body: Type.Object({ lineIds: Type.Optional(LineIds), refundDestination: Type.Optional(Destination) }, { additionalProperties: false }),
        response: { 200: Type.Object({ object: Type.Literal('cancellation_quote'), total: Type.Integer() }, { additionalProperties: true }), ...errorResponses },
      },
    },
    async (req) => orders.quoteCancellation(req.params.id, req.actor, toParams(req.body as Record<string, unknown>)),
  );

  server.post(
    '/v1/orders/:id/lines/:lineId/done',
    {
      schema: {
        tags: ['order transitions'],
        summary: 'Mark one line delivered (direct orders); the last open line closes the order.',
        params: Type.Object({ id: Id('ord'), lineId: Id('li') }, { additionalProperties: false }),
        body: Type.Optional(Empty),
        response: { 200: Order, ...errorResponses },
      },
    },
    async (req, reply) =>
      idem.run(req, reply, async (trx, ctx) =>
        withAfter(await orders.transition(trx, req.params.id, 'mark_line_done', req.actor, { lineIds: [req.params.lineId] }, ctx)),
      ),
  );

  server.patch(
    '/v1/orders/:id/lines/:lineId',
    {
      schema: {
        tags: ['order transitions'],
        summary: "Edit a session line: another slot or time, or the participant's name (customers when the business allows it).",
        params: Type.Object({ id: Id('ord'), lineId: Id('li') }, { additionalProperties: false }),
        body: Type.Object(
          { startsAt: Type.Optional(Time), endsAt: Type.Optional(Time), participantName: Type.Optional(Text(200)), slotId: Type.Optional(Id('slot')) },
          { additionalProperties: false, minProperties: 1 },
        ),
        response: { 200: Order, ...errorResponses },
      },
    },
    async (req, reply) =>
      idem.run(req, reply, async (trx, ctx) =>
        withAfter(await orders.transition(trx, req.params.id, 'edit_line', req.actor, { ...req.body, lineIds: [req.params.lineId] }, ctx)),
      ),
  );

  server.get(
    '/v1/orders/:id/card-refundable',
    {
      schema: {
        tags: ['orders'],
        summary: 'For each card payment of the order, the most that can go back to it now (the pre-filled refund amount).',
        params: IdParams('ord'),
        response: {
          200: Type.Object({
            data: Type.Array(Type.Object({ paymentId: Type.String(), amount: Type.Integer(), refunded: Type.Integer(), maxRefundable: Type.Integer() })),
          }),
          ...errorResponses,
        },
      },
    },
    async (req) => ({ data: await orders.cardRefundables(req.params.id, req.actor) }),
  );

  server.post(
    '/v1/orders/:id/payments/:paymentId/refunds',
    {
      schema: {
        tags: ['order transitions'],
        summary: "Seed 000's Refund Money: send money this order returned to account credit back to the card (admin).",
        params: Type.Object({ id: Id('ord'), paymentId: Id('pay') }, { additionalProperties: false }),
        body: Type.Object({ amount: Type.Optional(PositiveAmountMinor('Defaults to the most the card can take back.')), reason: Type.Optional(Reason) }, { additionalProperties: false }),
        response: { 200: Order, ...errorResponses },
      },
    },
    async (req, reply) => {
      requireAdmin(req.actor);
      return idem.run(req, reply, async (trx, ctx) =>
        withAfter(await orders.transition(trx, req.params.id, 'refund_to_card', req.actor, { ...req.body, paymentId: req.params.paymentId }, ctx)),
      );
    },
  );

  server.get(
    '/v1/events',
    {
      schema: {
        tags: ['events'],
        summary: 'The outbox: every order event, oldest first; pass the last id you processed as starting_after (admin).',
        querystring: Type.Composite([PageQuery, Type.Object({ orderId: Type.Optional(Id('ord')), type: Type.Optional(Type.String({ maxLength: 100 })) })], {
          additionalProperties: false,
        }),
      },
    },
    async (req) => {
      requireAdmin(req.actor);
      return orders.listEvents(db, req.query, pageOf(req.query));
    },
  );

  server.get(
    '/v1/payouts',
    {
      schema: {
        tags: ['payouts'],
        summary:
          "Provider payouts, newest first: one per ended order with something payable — scheduled (due payoutDelayDays after the end; refunds after the end shrink it), paid, or cancelled (refunded in full first). A provider sees its own.",
        querystring: Type.Composite([PageQuery, Type.Object({ providerId: Type.Optional(Id('prv')) })], { additionalProperties: false }),
      },
    },
    async (req) => {
      const a = req.actor;
      if (a.role === 'customer') throw forbidden();
      const providerId = a.role === 'provider' ? (a.providerId as string) : req.query.providerId;
      return orders.listPayouts(db, { providerId }, pageOf(req.query));
    },
  );
};
