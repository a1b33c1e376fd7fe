// Prepay jobs (seed 002): the job, its names list and photos (staff), pre-orders with an
// access code (customers; staff for paper orders), and the order collection's steps:
// populate photos, place, manual revision, batch release. Routes only translate HTTP.
import { Type } from '@sinclair/typebox';
import { requireAdmin } from '../auth.js';
import { Currency, errorResponses, Id, IdParams, ListOf, Order, PageQuery, Text } from '../schemas.js';
import { pageOf, type RouteModule } from './route-module.js';
import { LineInput } from './orders.js';

const Time = Type.String({ format: 'date-time', description: 'ISO 8601 time, e.g. 2026-12-01T10:00:00Z' });
const NullableTime = Type.Union([Time, Type.Null()]);
const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);
const AccessCode = Type.String({ minLength: 4, maxLength: 40, description: 'The access code on the QR card (case, spaces and dashes ignored).' });

const Product = Type.Object({ serviceId: Type.String(), name: Type.String(), unitAmount: Type.Integer() });

const Job = Type.Object({
  id: Type.String(),
  object: Type.Literal('job'),
  name: Type.String(),
  providerId: Type.String(),
  currency: Type.String(),
  status: Type.Union([Type.Literal('prepay'), Type.Literal('selling')]),
  manualRevision: Type.Boolean(),
  batchReleaseAt: Nullable(Type.String()),
  pictureDay: Nullable(Type.String()),
  sellingAt: Nullable(Type.String()),
  createdAt: Type.String(),
  collectionId: Type.String({ description: "The job's own order collection." }),
  products: Type.Array(Product, { description: 'The price list customers pre-order from.' }),
});

const JobSummary = Type.Composite([
  Job,
  Type.Object({
    collections: Type.Array(
      Type.Object({
        id: Type.String(),
        kind: Type.Union([Type.Literal('prepay'), Type.Literal('without_photos')]),
        name: Type.String(),
        createdAt: Type.String(),
        orders: Type.Record(Type.String(), Type.Integer(), { description: 'Orders of the collection per state.' }),
      }),
    ),
    batches: Type.Array(
      Type.Object({
        id: Type.String(),
        status: Type.Union([Type.Literal('open'), Type.Literal('released')]),
        releaseAt: Nullable(Type.String()),
        releasedAt: Nullable(Type.String()),
        releasedBy: Nullable(Type.String()),
        orders: Type.Integer(),
      }),
    ),
    subjects: Type.Integer(),
    photos: Type.Integer(),
  }),
]);

const Subject = Type.Object({
  id: Type.String(),
  object: Type.Literal('job_subject'),
  jobId: Type.String(),
  name: Nullable(Type.String()),
  groupName: Nullable(Type.String()),
  accessCode: Type.String(),
  createdAt: Type.String(),
});

const Photo = Type.Object({
  id: Type.String(),
  object: Type.Literal('job_photo'),
  jobId: Type.String(),
  accessCode: Nullable(Type.String()),
  groupName: Nullable(Type.String()),
  fileName: Type.String(),
  createdAt: Type.String(),
});

const PhotoRef = Type.Object({ id: Type.String(), fileName: Type.String() });

const JobOrder = Type.Object({
  object: Type.Literal('job_order'),
  jobId: Type.String(),
  jobName: Type.String(),
  orderId: Type.String(),
  subject: Type.Object({ id: Type.String(), name: Nullable(Type.String()), groupName: Nullable(Type.String()), accessCode: Type.String() }),
  collectionId: Type.String(),
  batchId: Nullable(Type.String()),
  batch: Type.Union(
    [
      Type.Object({
        id: Type.String(),
        status: Type.Union([Type.Literal('open'), Type.Literal('released')]),
        releaseAt: Nullable(Type.String()),
        releasedAt: Nullable(Type.String()),
      }),
      Type.Null(),
    ],
    { description: 'The batch the order is in: when it goes (or went) to production; releaseAt null means by hand.' },
  ),
  photos: Type.Array(PhotoRef),
  populatedAt: Nullable(Type.String()),
  order: Order,
});

const OrderRef = Type.Object({ orderId: Type.String(), number: Type.String(), accessCode: Type.String(), subjectName: Nullable(Type.String()) });

const Population = Type.Object({
  object: Type.Literal('photo_population'),
  jobId: Type.String(),
  collectionId: Type.String(),
  populated: Type.Array(Type.Composite([OrderRef, Type.Object({ photos: Type.Integer() })])),
  withoutPhotos: Type.Array(OrderRef, { description: 'Paid orders no photo was found for: check the access codes the photos were uploaded under, or place them to split them off.' }),
});

const Placement = Type.Object({
  object: Type.Literal('collection_placement'),
  jobId: Type.String(),
  collectionId: Type.String(),
  batchId: Nullable(Type.String()),
  placed: Type.Array(OrderRef),
  toRevision: Type.Array(OrderRef),
  withoutPhotos: Type.Array(OrderRef),
  splitCollectionId: Nullable(Type.String()),
});

const BatchRelease = Type.Object({
  object: Type.Literal('batch_release'),
  jobId: Type.String(),
  batchId: Type.String(),
  releasedAt: Type.String(),
  orders: Type.Array(OrderRef),
});

const CodeLookup = Type.Object({
  object: Type.Literal('access_code'),
  accessCode: Type.String(),
  jobId: Type.String(),
  providerId: Type.String(),
  products: Type.Array(Product, { description: "The job's price list: pre-order these by serviceId." }),
  jobName: Type.String(),
  status: Type.Union([Type.Literal('prepay'), Type.Literal('selling')]),
  currency: Type.String(),
  pictureDay: Nullable(Type.String()),
  subjectName: Nullable(Type.String()),
});

const Empty = Type.Object({}, { additionalProperties: false });
const ProductIds = Type.Array(Id('svc'), {
  maxItems: 100,
  description: "The price list: the provider's services without slots, in the job's currency, in the order offered (replaces the list).",
});

export const jobRoutes: RouteModule = (server, app, idem) => {
  const db = app.services.store.db;
  const { jobs, jobOrders } = app;

  server.post(
    '/v1/jobs',
    {
      schema: {
        tags: ['prepay jobs'],
        summary: 'Create a prepay job (picture day) for a provider, with its price list (admin). It starts in Prepay with its own order collection.',
        body: Type.Object(
          {
            name: Text(200),
            providerId: Id('prv'),
            currency: Currency,
            manualRevision: Type.Optional(Type.Boolean({ description: 'Placed orders go to manual revision before the batch (e.g. memory mates).' })),
            batchReleaseAt: Type.Optional(NullableTime),
            pictureDay: Type.Optional(NullableTime),
            productIds: Type.Optional(ProductIds),
          },
          { additionalProperties: false },
        ),
        response: { 200: Job, ...errorResponses },
      },
    },
    async (req, reply) => {
      requireAdmin(req.actor);
      return idem.run(req, reply, async (trx) => ({ body: await jobs.create(trx, req.body) }));
    },
  );

  server.get(
    '/v1/jobs',
    {
      schema: {
        tags: ['prepay jobs'],
        summary: 'List jobs, newest first (admin).',
        querystring: Type.Composite(
          [PageQuery, Type.Object({ status: Type.Optional(Type.Union([Type.Literal('prepay'), Type.Literal('selling')])), providerId: Type.Optional(Id('prv')) })],
          { additionalProperties: false },
        ),
        response: { 200: ListOf(Job), ...errorResponses },
      },
    },
    async (req) => {
      requireAdmin(req.actor);
      return jobs.list(db, req.query, pageOf(req.query));
    },
  );

  server.get(
    '/v1/jobs/:id',
    { schema: { tags: ['prepay jobs'], summary: 'A job with its collections (orders per state), batches and counts (admin).', params: IdParams('job'), response: { 200: JobSummary, ...errorResponses } } },
    async (req) => {
      requireAdmin(req.actor);
      return jobs.get(db, req.params.id);
    },
  );

  server.patch(
    '/v1/jobs/:id',
    {
      schema: {
        tags: ['prepay jobs'],
        summary: 'Change a job (admin): name, manual revision, batch shipping deadline (moves the open batch too), picture day, or status Prepay → Selling (ends pre-ordering; cannot be undone).',
        params: IdParams('job'),
        body: Type.Object(
          {
            name: Type.Optional(Text(200)),
            manualRevision: Type.Optional(Type.Boolean()),
            batchReleaseAt: Type.Optional(NullableTime),
            pictureDay: Type.Optional(NullableTime),
            status: Type.Optional(Type.Union([Type.Literal('prepay'), Type.Literal('selling')])),
            productIds: Type.Optional(ProductIds),
          },
          { additionalProperties: false },
        ),
        response: { 200: Job, ...errorResponses },
      },
    },
    async (req, reply) => {
      requireAdmin(req.actor);
      return idem.run(req, reply, async (trx) => ({ body: await jobs.update(trx, req.params.id, req.body) }));
    },
  );

  server.post(
    '/v1/jobs/:id/subjects',
    {
      schema: {
        tags: ['prepay jobs'],
        summary: 'Add names to the names list, each with a new access code, and blank cards (codes without a name, for paper orders) (admin).',
        params: IdParams('job'),
        body: Type.Object(
          {
            subjects: Type.Optional(Type.Array(Type.Object({ name: Text(200), groupName: Type.Optional(Text(200)) }, { additionalProperties: false }), { maxItems: 1000 })),
            blankCards: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ data: Type.Array(Subject) }), ...errorResponses },
      },
    },
    async (req, reply) => {
      requireAdmin(req.actor);
      return idem.run(req, reply, async (trx) => ({ body: { data: await jobs.addSubjects(trx, req.params.id, req.body) } }));
    },
  );

  server.get(
    '/v1/jobs/:id/subjects',
    {
      schema: {
        tags: ['prepay jobs'],
        summary: 'The names list sorted by name (blank cards last); q finds a name or an access code (admin).',
        params: IdParams('job'),
        querystring: Type.Composite([PageQuery, Type.Object({ q: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })) })], { additionalProperties: false }),
        response: { 200: ListOf(Subject), ...errorResponses },
      },
    },
    async (req) => {
      requireAdmin(req.actor);
      return jobs.listSubjects(db, req.params.id, { ...pageOf(req.query), q: req.query.q });
    },
  );

  server.patch(
    '/v1/jobs/:id/subjects/:subjectId',
    {
      schema: {
        tags: ['prepay jobs'],
        summary: 'Correct a name or group on the names list (null makes it blank again); the access code stays (admin). Orders already placed keep the name on their lines.',
        params: Type.Object({ id: Id('job'), subjectId: Id('sub') }, { additionalProperties: false }),
        body: Type.Object({ name: Type.Optional(Type.Union([Text(200), Type.Null()])), groupName: Type.Optional(Type.Union([Text(200), Type.Null()])) }, { additionalProperties: false }),
        response: { 200: Subject, ...errorResponses },
      },
    },
    async (req, reply) => {
      requireAdmin(req.actor);
      return idem.run(req, reply, async (trx) => ({ body: await jobs.updateSubject(trx, req.params.id, req.params.subjectId, req.body) }));
    },
  );

  server.post(
    '/v1/jobs/:id/photos',
    {
      schema: {
        tags: ['prepay jobs'],
        summary: "Record uploaded photos, each under an access code of the job or as a group picture (groupName) for that group's subjects (admin).",
        params: IdParams('job'),
        body: Type.Object(
          {
            photos: Type.Array(
              Type.Object({ accessCode: Type.Optional(AccessCode), groupName: Type.Optional(Text(200)), fileName: Text(500) }, { additionalProperties: false }),
              { minItems: 1, maxItems: 1000 },
            ),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ data: Type.Array(Photo) }), ...errorResponses },
      },
    },
    async (req, reply) => {
      requireAdmin(req.actor);
      return idem.run(req, reply, async (trx) => ({ body: { data: await jobs.addPhotos(trx, req.params.id, req.body.photos) } }));
    },
  );

  server.get(
    '/v1/jobs/:id/photos',
    {
      schema: {
        tags: ['prepay jobs'],
        summary: "The job's photos, optionally of one access code (admin).",
        params: IdParams('job'),
        querystring: Type.Composite([PageQuery, Type.Object({ accessCode: Type.Optional(AccessCode) })], { additionalProperties: false }),
        response: { 200: ListOf(Photo), ...errorResponses },
      },
    },
    async (req) => {
      requireAdmin(req.actor);
      return jobs.listPhotos(db, req.params.id, { accessCode: req.query.accessCode }, pageOf(req.query));
    },
  );

  server.patch(
    '/v1/jobs/:id/photos/:photoId',
    {
      schema: {
        tags: ['prepay jobs'],
        summary: "Move a photo to another access code (or group) — the seed's fix when photos were uploaded under the wrong code (admin).",
        params: Type.Object({ id: Id('job'), photoId: Id('pho') }, { additionalProperties: false }),
        body: Type.Object({ accessCode: Type.Optional(AccessCode), groupName: Type.Optional(Text(200)) }, { additionalProperties: false }),
        response: { 200: Photo, ...errorResponses },
      },
    },
    async (req, reply) => {
      requireAdmin(req.actor);
      return idem.run(req, reply, async (trx) => ({ body: await jobs.retagPhoto(trx, req.params.id, req.params.photoId, req.body) }));
    },
  );

  server.get(
    '/v1/access-codes/:code',
    {
      schema: {
        tags: ['prepay jobs'],
        summary: 'Whose access code this is and whether its job takes pre-orders (any key: the code is what the customer was given).',
        params: Type.Object({ code: AccessCode }, { additionalProperties: false }),
        response: { 200: CodeLookup, ...errorResponses },
      },
    },
    async (req) => {
      const s = await jobs.lookupCode(db, req.params.code);
      return {
        object: 'access_code' as const,
        accessCode: s.access_code,
        jobId: s.job_id,
        providerId: s.provider_id,
        products: await jobs.products(db, s.job_id),
        jobName: s.job_name,
        status: s.status,
        currency: s.currency,
        pictureDay: s.picture_day?.toISOString() ?? null,
        subjectName: s.name,
      };
    },
  );

  server.post(
    '/v1/pre-orders',
    {
      schema: {
        tags: ['prepay jobs'],
        summary:
          "Pre-order with an access code (a customer for themselves, from the job's price list; staff for a paper order, also with lines of their own; subjectName names a blank card). The order (process 'prepay') joins the job's collection; pay it with POST /v1/orders/{id}/pay. 409 job_not_prepay once the job sells.",
        body: Type.Object(
          {
            accessCode: AccessCode,
            customerId: Id('cus'),
            lines: Type.Array(LineInput, { minItems: 1, maxItems: 100, description: "Customers: products of the job's price list ({serviceId, quantity}); staff may also write their own lines." }),
            comment: Type.Optional(Text(2000)),
            subjectName: Type.Optional(Text(200)),
          },
          { additionalProperties: false },
        ),
        response: { 200: JobOrder, ...errorResponses },
      },
    },
    async (req, reply) => idem.run(req, reply, async (trx, ctx) => ({ body: await jobOrders.preOrder(trx, req.body, req.actor, ctx.idempotencyKey) })),
  );

  server.get(
    '/v1/orders/:id/job',
    { schema: { tags: ['prepay jobs'], summary: "A prepay order's place in its job: subject, access code, collection, batch and photos.", params: IdParams('ord'), response: { 200: JobOrder, ...errorResponses } } },
    async (req) => {
      const view = await jobOrders.get(db, req.params.id);
      app.orders.assertCanSee(req.actor, view.order);
      return view;
    },
  );

  server.get(
    '/v1/jobs/:id/orders',
    {
      schema: {
        tags: ['prepay jobs'],
        summary: "The job's orders, newest first, by collection, batch or order state (admin).",
        params: IdParams('job'),
        querystring: Type.Composite(
          [PageQuery, Type.Object({ collectionId: Type.Optional(Id('col')), batchId: Type.Optional(Id('bat')), state: Type.Optional(Type.String({ maxLength: 50 })) })],
          { additionalProperties: false },
        ),
        response: { 200: ListOf(JobOrder), ...errorResponses },
      },
    },
    async (req) => {
      requireAdmin(req.actor);
      return jobOrders.list(db, req.params.id, req.query, pageOf(req.query));
    },
  );

  server.post(
    '/v1/jobs/:id/collections/:collectionId/populate',
    {
      schema: {
        tags: ['prepay jobs'],
        summary: "Populate photos: every paid order of the collection gets the photos of its access code and its group's pictures; those left without are listed (admin).",
        params: Type.Object({ id: Id('job'), collectionId: Id('col') }, { additionalProperties: false }),
        body: Type.Optional(Empty),
        response: { 200: Population, ...errorResponses },
      },
    },
    async (req, reply) => {
      requireAdmin(req.actor);
      return idem.run(req, reply, async (trx, ctx) => ({ body: await jobOrders.populate(trx, req.params.id, req.params.collectionId, req.actor, ctx.idempotencyKey) }));
    },
  );

  server.post(
    '/v1/jobs/:id/collections/:collectionId/place',
    {
      schema: {
        tags: ['prepay jobs'],
        summary:
          "Place order(s) now: paid orders with photos join the job's open batch (or manual revision first), those without move to a new collection; 409 photos_not_populated before populating (admin).",
        params: Type.Object({ id: Id('job'), collectionId: Id('col') }, { additionalProperties: false }),
        body: Type.Optional(Empty),
        response: { 200: Placement, ...errorResponses },
      },
    },
    async (req, reply) => {
      requireAdmin(req.actor);
      return idem.run(req, reply, async (trx, ctx) => ({ body: await jobOrders.place(trx, req.params.id, req.params.collectionId, req.actor, ctx.idempotencyKey) }));
    },
  );

  server.post(
    '/v1/jobs/:id/orders/:orderId/photos',
    {
      schema: {
        tags: ['prepay jobs'],
        summary: "Manual revision: replace the order's photos with these photos of the job (admin).",
        params: Type.Object({ id: Id('job'), orderId: Id('ord') }, { additionalProperties: false }),
        body: Type.Object({ photoIds: Type.Array(Id('pho'), { minItems: 1, maxItems: 100, uniqueItems: true }) }, { additionalProperties: false }),
        response: { 200: JobOrder, ...errorResponses },
      },
    },
    async (req, reply) => {
      requireAdmin(req.actor);
      return idem.run(req, reply, async (trx, ctx) => ({ body: await jobOrders.setPhotos(trx, req.params.id, req.params.orderId, req.body.photoIds, req.actor, ctx.idempotencyKey) }));
    },
  );

  server.post(
    '/v1/jobs/:id/orders/:orderId/release',
    {
      schema: {
        tags: ['prepay jobs'],
        summary: "Manual revision done: release the order to the job's open batch (admin).",
        params: Type.Object({ id: Id('job'), orderId: Id('ord') }, { additionalProperties: false }),
        body: Type.Optional(Empty),
        response: { 200: JobOrder, ...errorResponses },
      },
    },
    async (req, reply) => {
      requireAdmin(req.actor);
      return idem.run(req, reply, async (trx, ctx) => ({ body: await jobOrders.releaseRevision(trx, req.params.id, req.params.orderId, req.actor, ctx.idempotencyKey) }));
    },
  );

  server.post(
    '/v1/jobs/:id/batches/:batchId/release',
    {
      schema: {
        tags: ['prepay jobs'],
        summary: 'Send the batch to production now (otherwise it goes at its batch shipping deadline); 409 batch_released, batch_empty (admin).',
        params: Type.Object({ id: Id('job'), batchId: Id('bat') }, { additionalProperties: false }),
        body: Type.Optional(Empty),
        response: { 200: BatchRelease, ...errorResponses },
      },
    },
    async (req, reply) => {
      requireAdmin(req.actor);
      return idem.run(req, reply, async (trx, ctx) => ({ body: await jobOrders.releaseBatch(trx, req.params.id, req.params.batchId, req.actor, ctx.idempotencyKey) }));
    },
  );
};
