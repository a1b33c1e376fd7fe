// Customers and providers, and a customer's ledger entries.
import { Type } from '@sinclair/typebox';
import { requireAdmin, requireCustomerAccess, requireProviderAccess } from '../auth.js';
import { Currency, Customer, Email, errorResponses, IdParams, ListOf, PageQuery, Provider, Text, Transaction } from '../schemas.js';
import { listCustomerTransactions } from '../../services/transactions.js';
import { pageOf, type RouteModule } from './route-module.js';

const CreateParty = Type.Object({ email: Email, name: Text(200) }, { additionalProperties: false });
const ListQuery = Type.Composite([PageQuery, Type.Object({ email: Type.Optional(Type.String({ maxLength: 254 })) })], {
  additionalProperties: false,
});

export const partyRoutes: RouteModule = (server, app, idem) => {
  const db = app.services.store.db;

  server.post(
    '/v1/customers',
    { schema: { tags: ['customers'], summary: 'Create a customer (admin).', body: CreateParty, response: { 200: Customer, ...errorResponses } } },
    async (req, reply) => {
      requireAdmin(req.actor);
      return idem.run(req, reply, async (trx) => ({ body: await app.parties.createCustomer(trx, req.body) }));
    },
  );

  server.get(
    '/v1/customers',
    { schema: { tags: ['customers'], querystring: ListQuery, response: { 200: ListOf(Customer), ...errorResponses } } },
    async (req) => {
      requireAdmin(req.actor);
      return app.parties.listCustomers(db, pageOf(req.query), req.query.email);
    },
  );

  server.get(
    '/v1/customers/:id',
    { schema: { tags: ['customers'], params: IdParams('cus'), response: { 200: Customer, ...errorResponses } } },
    async (req) => {
      requireCustomerAccess(req.actor, req.params.id);
      return app.parties.getCustomer(db, req.params.id);
    },
  );

  server.get(
    '/v1/customers/:id/transactions',
    {
      schema: {
        tags: ['customers'],
        summary: "The customer's account-credit entries, newest first.",
        params: IdParams('cus'),
        querystring: Type.Composite([PageQuery, Type.Object({ currency: Type.Optional(Currency) })], { additionalProperties: false }),
        response: { 200: ListOf(Transaction), ...errorResponses },
      },
    },
    async (req) => {
      requireCustomerAccess(req.actor, req.params.id);
      await app.parties.assertCustomer(db, req.params.id);
      return listCustomerTransactions(db, req.params.id, pageOf(req.query), req.query.currency);
    },
  );

  server.post(
    '/v1/providers',
    { schema: { tags: ['providers'], summary: 'Create a provider (admin).', body: CreateParty, response: { 200: Provider, ...errorResponses } } },
    async (req, reply) => {
      requireAdmin(req.actor);
      return idem.run(req, reply, async (trx) => ({ body: await app.parties.createProvider(trx, req.body) }));
    },
  );

  server.get(
    '/v1/providers',
    { schema: { tags: ['providers'], querystring: ListQuery, response: { 200: ListOf(Provider), ...errorResponses } } },
    async (req) => {
      requireAdmin(req.actor);
      return app.parties.listProviders(db, pageOf(req.query), req.query.email);
    },
  );

  server.get(
    '/v1/providers/:id',
    { schema: { tags: ['providers'], params: IdParams('prv'), response: { 200: Provider, ...errorResponses } } },
    async (req) => {
      requireProviderAccess(req.actor, req.params.id);
      return app.parties.getProvider(db, req.params.id);
    },
  );
};
