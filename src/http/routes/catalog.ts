// Services and their slots (what is sold, and the seats of sessions).
import { Type } from '@sinclair/typebox';
import { requireProviderAccess } from '../auth.js';
import { AmountMinor, Currency, errorResponses, Id, IdParams, ListOf, PageQuery, Text } from '../schemas.js';
import { pageOf, type RouteModule } from './route-module.js';

const Time = Type.String({ format: 'date-time' });
const SlotInput = Type.Object({ startsAt: Time, endsAt: Time, capacity: Type.Integer({ minimum: 1, maximum: 100_000 }) }, { additionalProperties: false });
const Slot = Type.Object({
  id: Type.String(),
  object: Type.Literal('slot'),
  serviceId: Type.String(),
  startsAt: Type.String(),
  endsAt: Type.String(),
  capacity: Type.Integer(),
  booked: Type.Integer(),
  available: Type.Integer(),
});
const Service = Type.Object({
  id: Type.String(),
  object: Type.Literal('service'),
  providerId: Type.String(),
  name: Type.String(),
  unitAmount: Type.Integer(),
  currency: Type.String(),
  slots: Type.Array(Slot),
  createdAt: Type.String(),
});

export const catalogRoutes: RouteModule = (server, app, idem) => {
  const db = app.services.store.db;
  server.post(
    '/v1/services',
    {
      schema: {
        tags: ['services'],
        summary: 'Create a service (admin or its provider), optionally with slots (start, end, capacity).',
        body: Type.Object(
          { name: Text(200), providerId: Id('prv'), unitAmount: AmountMinor(), currency: Currency, slots: Type.Optional(Type.Array(SlotInput, { maxItems: 500 })) },
          { additionalProperties: false },
        ),
        response: { 200: Service, ...errorResponses },
      },
    },
    async (req, reply) => {
      requireProviderAccess(req.actor, req.body.providerId);
      return idem.run(req, reply, async (trx) => ({
        body: await app.catalog.createService(trx, { providerId: req.body.providerId, name: req.body.name, unitAmountMinor: req.body.unitAmount, currency: req.body.currency, slots: req.body.slots }),
      }));
    },
  );
  server.post(
    '/v1/services/:id/slots',
    {
      schema: {
        tags: ['services'],
        params: IdParams('svc'),
        body: Type.Object({ slots: Type.Array(SlotInput, { minItems: 1, maxItems: 500 }) }, { additionalProperties: false }),
        response: { 200: Service, ...errorResponses },
      },
    },
    async (req, reply) => {
      const service = await app.catalog.getService(db, req.params.id);
      requireProviderAccess(req.actor, service.providerId);
      return idem.run(req, reply, async (trx) => {
        await app.catalog.addSlots(trx, req.params.id, req.body.slots);
        return { body: await app.catalog.getService(trx, req.params.id) };
      });
    },
  );
  server.get('/v1/services/:id', { schema: { tags: ['services'], params: IdParams('svc'), response: { 200: Service, ...errorResponses } } }, async (req) =>
    app.catalog.getService(db, req.params.id),
  );
  server.get(
    '/v1/services',
    {
      schema: {
        tags: ['services'],
        querystring: Type.Composite([PageQuery, Type.Object({ providerId: Type.Optional(Id('prv')) })], { additionalProperties: false }),
        response: { 200: ListOf(Service), ...errorResponses },
      },
    },
    async (req) => app.catalog.listServices(db, { providerId: req.query.providerId }, pageOf(req.query)),
  );
};
