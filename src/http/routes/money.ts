// Account credit: top-ups (card → credit), their card refunds, charges (credit →
// provider), charge refunds, balance corrections and reversals.
import { Type } from '@sinclair/typebox';
import { requireAdmin, requireCustomerAccess, requireOwnCustomerThing } from '../auth.js';
import {
  Charge,
  Currency,
  errorResponses,
  Id,
  IdParams,
  ListOf,
  PageQuery,
  PositiveAmountMinor,
  Refund,
  SignedAmountMinor,
  Text,
  TopUp,
  Transaction,
} from '../schemas.js';
import { forbidden, notFound } from '../../domain/errors.js';
import { getTransaction } from '../../services/transactions.js';
import type { Actor } from '../../services/context.js';
import { pageOf, type RouteModule } from './route-module.js';

const CreateTopUp = Type.Object(
  {
    amount: PositiveAmountMinor(),
    currency: Currency,
    paymentMethod: Type.String({ minLength: 1, maxLength: 100, description: 'Card payment-method token (sandbox: pm_card_visa, pm_card_declined, pm_card_refund_fails).' }),
  },
  { additionalProperties: false },
);
const RefundRequest = Type.Object(
  { amount: Type.Optional(PositiveAmountMinor('Amount to refund; all that is left when omitted.')), reason: Type.Optional(Text(500)) },
  { additionalProperties: false },
);
const CreateCharge = Type.Object(
  {
    customerId: Id('cus'),
    providerId: Id('prv'),
    amount: PositiveAmountMinor(),
    currency: Currency,
    description: Text(500),
  },
  { additionalProperties: false },
);
const Correction = Type.Object(
  { amount: SignedAmountMinor, currency: Currency, memo: Text(500) },
  { additionalProperties: false },
);
const Reverse = Type.Object({ memo: Type.Optional(Text(500)) }, { additionalProperties: false });

/** A charge may be made by staff, or by the customer spending their own credit. */
function requireChargeAccess(actor: Actor, customerId: string): void {
  if (actor.role === 'admin') return;
  if (actor.role === 'customer' && actor.customerId === customerId) return;
  throw actor.role === 'customer' ? notFound('customer', customerId) : forbidden();
}

export const moneyRoutes: RouteModule = (server, app, idem) => {
  const db = app.services.store.db;

  server.post(
    '/v1/customers/:id/top-ups',
    {
      schema: {
        tags: ['account credit'],
        summary: 'Add account credit by card.',
        params: IdParams('cus'),
        body: CreateTopUp,
        response: { 200: TopUp, 402: errorResponses[400], ...errorResponses },
      },
    },
    async (req, reply) => {
      requireCustomerAccess(req.actor, req.params.id);
      return idem.run(req, reply, async (trx, ctx) => ({
        body: await app.topUps.create(trx, {
          customerId: req.params.id,
          amountMinor: req.body.amount,
          currency: req.body.currency,
          paymentMethod: req.body.paymentMethod,
          actor: req.actor,
          idempotencyKey: ctx.idempotencyKey,
        }),
      }));
    },
  );

  server.get(
    '/v1/customers/:id/top-ups',
    { schema: { tags: ['account credit'], params: IdParams('cus'), querystring: PageQuery, response: { 200: ListOf(TopUp), ...errorResponses } } },
    async (req) => {
      requireCustomerAccess(req.actor, req.params.id);
      return app.topUps.list(db, req.params.id, pageOf(req.query));
    },
  );

  server.get(
    '/v1/top-ups/:id',
    { schema: { tags: ['account credit'], params: IdParams('tu'), response: { 200: TopUp, ...errorResponses } } },
    async (req) => {
      const topUp = await app.topUps.get(db, req.params.id);
      requireOwnCustomerThing(req.actor, topUp.customerId, 'top-up', req.params.id);
      return topUp;
    },
  );

  server.post(
    '/v1/top-ups/:id/refunds',
    {
      schema: {
        tags: ['account credit'],
        summary: 'Refund (part of) a top-up to its card (admin). Capped by what is left of the top-up and by the balance.',
        params: IdParams('tu'),
        body: RefundRequest,
        response: { 200: Refund, ...errorResponses },
      },
    },
    async (req, reply) => {
      requireAdmin(req.actor);
      return idem.run(req, reply, async (trx) => {
        const refund = await app.topUps.refund(trx, req.params.id, { amountMinor: req.body.amount, reason: req.body.reason ?? null, actor: req.actor });
        return { body: refund, after: () => app.cardRefunds.send(refund.id) };
      });
    },
  );

  server.get(
    '/v1/refunds/:id',
    { schema: { tags: ['refunds'], params: IdParams('re'), response: { 200: Refund, ...errorResponses } } },
    async (req) => {
      const refund = await app.cardRefunds.get(db, req.params.id);
      requireOwnCustomerThing(req.actor, refund.customerId, 'refund', req.params.id);
      return refund;
    },
  );

  server.post(
    '/v1/refunds/:id/retry',
    {
      schema: {
        tags: ['refunds'],
        summary: 'Retry a failed card refund (admin).',
        params: IdParams('re'),
        body: Type.Optional(Type.Object({}, { additionalProperties: false })),
        response: { 200: Refund, ...errorResponses },
      },
    },
    async (req, reply) => {
      requireAdmin(req.actor);
      return idem.run(req, reply, async (trx) => {
        const refund = await app.cardRefunds.retry(trx, req.params.id, req.actor);
        return { body: refund, after: () => app.cardRefunds.send(refund.id) };
      });
    },
  );

  server.post(
    '/v1/charges',
    {
      schema: {
        tags: ['charges'],
        summary: "Spend a customer's account credit with a provider (e.g. minutes of a private chat).",
        body: CreateCharge,
        response: { 200: Charge, ...errorResponses },
      },
    },
    async (req, reply) => {
      requireChargeAccess(req.actor, req.body.customerId);
      return idem.runStatement(req, reply, async (db, ctx) => ({
        body: await app.charges.create(db, {
          customerId: req.body.customerId,
          providerId: req.body.providerId,
          amountMinor: req.body.amount,
          currency: req.body.currency,
          description: req.body.description,
          actor: req.actor,
          recordInsert: ctx.recordInsert,
        }),
        recorded: true,
      }));
    },
  );

  server.get(
    '/v1/charges',
    {
      schema: {
        tags: ['charges'],
        querystring: Type.Composite([PageQuery, Type.Object({ customerId: Type.Optional(Id('cus')), providerId: Type.Optional(Id('prv')) })], {
          additionalProperties: false,
        }),
        response: { 200: ListOf(Charge), ...errorResponses },
      },
    },
    async (req) => {
      const actor = req.actor;
      const filter = {
        customerId: actor.role === 'customer' ? (actor.customerId as string) : req.query.customerId,
        providerId: actor.role === 'provider' ? (actor.providerId as string) : req.query.providerId,
      };
      return app.charges.list(db, filter, pageOf(req.query));
    },
  );

  server.get(
    '/v1/charges/:id',
    { schema: { tags: ['charges'], params: IdParams('ch'), response: { 200: Charge, ...errorResponses } } },
    async (req) => {
      const charge = await app.charges.get(db, req.params.id);
      const a = req.actor;
      const own = a.role === 'admin' || (a.role === 'customer' && a.customerId === charge.customerId) || (a.role === 'provider' && a.providerId === charge.providerId);
      if (!own) throw notFound('charge', req.params.id);
      return charge;
    },
  );

  server.post(
    '/v1/charges/:id/refunds',
    {
      schema: {
        tags: ['charges'],
        summary: "Refund all or part of a charge to the customer's account credit (admin, or the charge's provider).",
        params: IdParams('ch'),
        body: RefundRequest,
        response: { 200: Refund, ...errorResponses },
      },
    },
    async (req, reply) => {
      const a = req.actor;
      if (a.role === 'customer') throw forbidden('Ask the business for a refund.');
      if (a.role === 'provider') {
        const charge = await app.charges.get(db, req.params.id);
        if (charge.providerId !== a.providerId) throw notFound('charge', req.params.id);
      }
      return idem.run(req, reply, async (trx) => ({
        body: await app.charges.refund(trx, req.params.id, { amountMinor: req.body.amount, reason: req.body.reason ?? null, actor: a }),
      }));
    },
  );

  server.post(
    '/v1/customers/:id/balance-corrections',
    {
      schema: {
        tags: ['account credit'],
        summary: 'Correct a balance (admin): a signed amount with a memo; never below zero.',
        params: IdParams('cus'),
        body: Correction,
        response: { 200: Transaction, ...errorResponses },
      },
    },
    async (req, reply) => {
      requireAdmin(req.actor);
      return idem.run(req, reply, async (trx) => ({
        body: await app.adjustments.correct(trx, {
          customerId: req.params.id,
          amountMinor: req.body.amount,
          currency: req.body.currency,
          memo: req.body.memo,
          actor: req.actor,
        }),
      }));
    },
  );

  server.get(
    '/v1/transactions/:id',
    { schema: { tags: ['ledger'], params: IdParams('txn'), response: { 200: Transaction, ...errorResponses } } },
    async (req) => {
      const txn = await getTransaction(db, req.params.id);
      if (req.actor.role !== 'admin') {
        if (req.actor.role !== 'customer' || txn.customerId !== req.actor.customerId) throw notFound('transaction', req.params.id);
        const { postings: _hidden, ...own } = txn;
        return own;
      }
      return txn;
    },
  );

  server.post(
    '/v1/transactions/:id/reverse',
    {
      schema: {
        tags: ['ledger'],
        summary: 'Reverse a transaction (admin): a new linked transaction that undoes it, at most once.',
        params: IdParams('txn'),
        body: Reverse,
        response: { 200: Transaction, ...errorResponses },
      },
    },
    async (req, reply) => {
      requireAdmin(req.actor);
      return idem.run(req, reply, async (trx) => ({
        body: await app.adjustments.reverse(trx, req.params.id, { memo: req.body.memo ?? null, actor: req.actor }),
      }));
    },
  );
};
