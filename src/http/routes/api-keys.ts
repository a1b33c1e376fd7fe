import { Type } from '@sinclair/typebox';
import { requireAdmin } from '../auth.js';
import { errorResponses, Id, Text } from '../schemas.js';
import type { RouteModule } from './route-module.js';

const CreateKey = Type.Object(
  {
    role: Type.Union([Type.Literal('admin'), Type.Literal('provider'), Type.Literal('customer')]),
    customerId: Type.Optional(Id('cus')),
    providerId: Type.Optional(Id('prv')),
    label: Type.Optional(Text(200)),
  },
  { additionalProperties: false },
);

export const apiKeyRoutes: RouteModule = (server, app, idem) => {
  server.post(
    '/v1/api-keys',
    {
      schema: {
        tags: ['api keys'],
        summary: 'Create an API key (admin). The secret is shown only in this response.',
        body: CreateKey,
        response: {
          200: Type.Object({
            id: Type.String(),
            object: Type.Literal('api_key'),
            key: Type.Union([Type.String(), Type.Null()], { description: 'The secret; null when an idempotent replay (it is never stored).' }),
            role: Type.String(),
            customerId: Type.Union([Type.String(), Type.Null()]),
            providerId: Type.Union([Type.String(), Type.Null()]),
            label: Type.Union([Type.String(), Type.Null()]),
            createdAt: Type.String(),
          }),
          ...errorResponses,
        },
      },
    },
    async (req, reply) => {
      requireAdmin(req.actor);
      return idem.run(req, reply, async (trx) => ({ body: await app.apiKeys.create(trx, req.body) }), {
        storedBody: (body) => ({ ...body, key: null }),
      });
    },
  );
};
