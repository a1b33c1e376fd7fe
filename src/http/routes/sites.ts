// Sites (seed 000): create, search, summary with orders, archive and restore (staff).
import { Type } from '@sinclair/typebox';
import { requireAdmin } from '../auth.js';
import { errorResponses, Id, IdParams, ListOf, Order, PageQuery, Text } from '../schemas.js';
import { pageOf, type RouteModule } from './route-module.js';

const Site = Type.Object({
  id: Type.String(),
  object: Type.Literal('site'),
  address: Type.String(),
  customerId: Type.String(),
  archived: Type.Boolean(),
  archivedAt: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String(),
});

export const siteRoutes: RouteModule = (server, app, idem) => {
  const db = app.services.store.db;
  server.post(
    '/v1/sites',
    {
      schema: {
        tags: ['sites'],
        summary: 'Create a site (a property orders are for) for a customer (admin).',
        body: Type.Object({ address: Text(500), customerId: Id('cus') }, { additionalProperties: false }),
        response: { 200: Site, ...errorResponses },
      },
    },
    async (req, reply) => {
      requireAdmin(req.actor);
      return idem.run(req, reply, async (trx) => ({ body: await app.sites.create(trx, req.body) }));
    },
  );
  server.get(
    '/v1/sites',
    {
      schema: {
        tags: ['sites'],
        summary: 'Search sites by any word of the address or the customer (case and accents ignored). Archived ones only with archived=true or all.',
        querystring: Type.Composite(
          [
            PageQuery,
            Type.Object({
              q: Type.Optional(Type.String({ maxLength: 200 })),
              archived: Type.Union([Type.Literal('false'), Type.Literal('true'), Type.Literal('all')], { default: 'false' }),
              customerId: Type.Optional(Id('cus')),
            }),
          ],
          { additionalProperties: false },
        ),
        response: { 200: ListOf(Site), ...errorResponses },
      },
    },
    async (req) => {
      requireAdmin(req.actor);
      return app.sites.list(db, { q: req.query.q, archived: req.query.archived, customerId: req.query.customerId }, pageOf(req.query));
    },
  );
  server.get(
    '/v1/sites/:id',
    {
      schema: {
        tags: ['sites'],
        summary: 'Site summary with its orders, newest first.',
        params: IdParams('site'),
        response: { 200: Type.Composite([Site, Type.Object({ orders: Type.Array(Order) })]), ...errorResponses },
      },
    },
    async (req) => {
      requireAdmin(req.actor);
      return app.sites.summary(db, req.params.id);
    },
  );
  for (const action of ['archive', 'restore'] as const) {
    server.post(
      `/v1/sites/:id/${action}`,
      {
        schema: {
          tags: ['sites'],
          summary: action === 'archive' ? 'Archive a site (refused while a paid line is open).' : 'Restore an archived site.',
          params: IdParams('site'),
          body: Type.Optional(Type.Object({}, { additionalProperties: false })),
          response: { 200: Site, ...errorResponses },
        },
      },
      async (req, reply) => {
        requireAdmin(req.actor);
        return idem.run(req, reply, async (trx) => ({ body: await app.sites[action](trx, req.params.id) }));
      },
    );
  }
};
