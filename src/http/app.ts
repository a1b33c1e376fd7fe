// The Fastify app: JSON API under /v1 with schema validation, bearer auth,
// idempotency, Stripe-style errors, the generated OpenAPI document and /docs.
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { Ajv } from 'ajv';
import type { Logger } from 'pino';
import { isCurrency } from '../domain/currencies.js';
import { errorHandler, sendError } from './errors.js';
import { bearerToken, unauthenticated } from './auth.js';
import { Idempotency } from './idempotency.js';
import type { App } from '../app/app.js';
import { registerRoutes } from './routes/index.js';

export const BODY_LIMIT_BYTES = 1024 * 1024;
const PUBLIC_PATHS = ['/v1/health', '/v1/openapi.json', '/docs'];

function makeAjv(coerceTypes: boolean): Ajv {
  const ajv = new Ajv({ coerceTypes, useDefaults: true, removeAdditional: false, allErrors: false, strict: false });
  ajv.addFormat('iso4217', { type: 'string', validate: isCurrency });
  // Deliberately simple: one @, something on each side, no spaces.
  ajv.addFormat('email', { type: 'string', validate: (s: string) => /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(s) });
  ajv.addFormat('date-time', { type: 'string', validate: (s: string) => !Number.isNaN(Date.parse(s)) && /^\d{4}-\d{2}-\d{2}T/.test(s) });
  return ajv;
}

export async function buildHttpApp(app: App, options: { logger: Logger | false }): Promise<FastifyInstance> {
  const common = { bodyLimit: BODY_LIMIT_BYTES, requestIdHeader: 'x-request-id', return503OnClosing: true } as const;
  const server = Fastify({
    ...common,
    loggerInstance: (options.logger || undefined) as FastifyBaseLogger | undefined,
  }).withTypeProvider<TypeBoxTypeProvider>();

  // Bodies are never coerced ("1500" is not an amount); query strings and params are.
  const bodyAjv = makeAjv(false);
  const queryAjv = makeAjv(true);
  server.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? bodyAjv : queryAjv).compile(schema));
  server.setErrorHandler(errorHandler);
  server.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ error: { type: 'invalid_request_error', code: 'route_not_found', message: `No route ${request.method} ${request.url.split('?')[0]}.` } }),
  );

  await server.register(swagger, {
    openapi: {
      info: { title: 'Settle API', version: '1', description: 'Orders, deadlines, refunds and a double-entry ledger for services paid in advance.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });
  await server.register(swaggerUi, { routePrefix: '/docs' });

  server.decorateRequest('actor', null as never);
  server.addHook('onRequest', async (request, reply) => {
    const path = request.url.split('?')[0] as string;
    if (!path.startsWith('/v1/') || PUBLIC_PATHS.some((p) => path === p || path.startsWith(`${p}/`))) return;
    const token = bearerToken(request);
    if (!token) return sendError(reply, unauthenticated('Send your API key as "Authorization: Bearer <key>".'));
    const actor = await app.apiKeys.authenticate(app.services.store.db, token);
    if (!actor) return sendError(reply, unauthenticated('That API key is not valid (or was revoked).'));
    request.actor = actor;
  });

  const idempotency = new Idempotency(app.services.store);
  await registerRoutes(server, app, idempotency);
  server.get('/v1/openapi.json', { schema: { hide: true } }, async () => server.swagger());
  return server;
}

export type HttpServer = Awaited<ReturnType<typeof buildHttpApp>>;
