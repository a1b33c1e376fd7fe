// The Fastify app: JSON API under /v1 with schema validation, bearer auth,
// idempotency, Stripe-style errors, the generated OpenAPI document and /docs.
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Ajv, type ValidateFunction } from 'ajv';
import { createRequire } from 'node:module';
import type { Logger } from 'pino';
import { isCurrency } from '../domain/currencies.js';
import { errorHandler, sendError } from './errors.js';
import { badRequest } from '../domain/errors.js';
import { bearerToken, unauthenticated } from './auth.js';
import { Idempotency } from './idempotency.js';
import { sessionActor } from './web-session.js';
import type { App } from '../app/app.js';
import { registerRoutes } from './routes/index.js';
import { registerWeb } from './web.js';
import { registerLazyDocs } from './docs.js';

export const BODY_LIMIT_BYTES = 1024 * 1024;
// /v1/auth/* reads the session cookie itself (login, logout, session, set-password).
const PUBLIC_PATHS = ['/v1/health', '/v1/openapi.json', '/docs', '/v1/web/config', '/v1/auth'];

function makeAjv(coerceTypes: boolean): Ajv {
  // multipleOfPrecision: 1.13 / 0.01 is 112.99999999999999 in floating point; without a
  // tolerance a valid two-decimal percentage would be refused.
  const ajv = new Ajv({ coerceTypes, useDefaults: true, removeAdditional: false, allErrors: false, strict: false, multipleOfPrecision: 9 });
  ajv.addFormat('iso4217', { type: 'string', validate: isCurrency });
  // Deliberately simple: one @, something on each side, no spaces.
  ajv.addFormat('email', { type: 'string', validate: (s: string) => /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(s) });
  ajv.addFormat('date-time', { type: 'string', validate: (s: string) => !Number.isNaN(Date.parse(s)) && /^\d{4}-\d{2}-\d{2}T/.test(s) });
  return ajv;
}

// Schemas are compiled when a route first needs them, not at start: compiling every
// validator (Ajv) and response serializer (fast-json-stringify, also for each GET's HEAD
// twin) took ~0.8 s of CPU at every start, and most routes of a given server are never
// called. A route's first request pays a few ms instead.

type LazyValidator = ((data: unknown, context?: unknown) => boolean) & { errors?: ValidateFunction['errors']; schemaEnv?: unknown };

function lazyValidator(compile: () => ValidateFunction, eager: boolean): LazyValidator {
  let compiled: ValidateFunction | undefined = eager ? compile() : undefined;
  const validate: LazyValidator = (data, context) => {
    compiled ??= compile();
    const valid = compiled(data, context as Parameters<ValidateFunction>[1]) as boolean;
    validate.errors = compiled.errors;
    return valid;
  };
  // Fastify passes Ajv's data context ({ parentData, parentDataProperty }) only to
  // functions that look like Ajv's; keep it so a coerced root value is written back.
  validate.schemaEnv = true;
  return validate;
}

type Serialize = (data: unknown) => string;
type SerializerFactory = (externalSchemas: unknown, serializerOpts: unknown) => (routeSchema: { schema: object }) => Serialize;

/** Fastify's own serializer factory (fast-json-stringify), the one it uses when none is given. */
const defaultSerializerFactory: SerializerFactory = (() => {
  const fromFastify = createRequire(createRequire(import.meta.url).resolve('fastify'));
  const selector = fromFastify('@fastify/fast-json-stringify-compiler') as () => SerializerFactory;
  return selector();
})();

/** Fastify's default serializers, each compiled at its first use (or at once, if eager); one per schema object. */
const lazySerializerFactory =
  (eager: boolean): SerializerFactory =>
  (externalSchemas, serializerOpts) => {
    const build = defaultSerializerFactory(externalSchemas, serializerOpts);
    const bySchema = new WeakMap<object, Serialize>();
    return (routeSchema) => {
      let compiled: Serialize | undefined;
      const compile = (): Serialize => {
        const schema = routeSchema.schema;
        let built = bySchema.get(schema);
        if (!built) bySchema.set(schema, (built = build(routeSchema)));
        return built;
      };
      if (eager) compiled = compile();
      return (data) => (compiled ??= compile())(data);
    };
  };

// NUL and unpaired UTF-16 surrogates (with the u flag, a paired one is a single code
// point and does not match) cannot be stored in PostgreSQL text or jsonb.
const UNSTORABLE_TEXT = /[\u0000\uD800-\uDFFF]/u;

/**
 * The dotted path of the first string (or key) in `value` that the database cannot store.
 * Iterative, because it runs before validation on bodies that may be nested 100,000 deep.
 */
function findUnstorableText(value: unknown): string | null {
  const stack: Array<{ value: unknown; path: string }> = [{ value, path: '' }];
  while (stack.length > 0) {
    const { value: v, path } = stack.pop() as { value: unknown; path: string };
    if (typeof v === 'string') {
      if (UNSTORABLE_TEXT.test(v)) return path;
    } else if (v !== null && typeof v === 'object') {
      for (const [k, child] of Object.entries(v)) {
        const at = path ? `${path}.${k}` : k;
        if (UNSTORABLE_TEXT.test(k)) return at;
        stack.push({ value: child, path: at });
      }
    }
  }
  return null;
}

function notFoundHandler(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  return reply.code(404).send({ error: { type: 'invalid_request_error', code: 'route_not_found', message: `No route ${request.method} ${request.url.split('?')[0]}.` } });
}

/** One access-log line per request, when it completes (Fastify logs two: "incoming" and "completed"). */
class AccessLog extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    const line = { method: request.method, url: request.url, statusCode: reply.statusCode, responseTimeMs: Math.round(reply.elapsedTime * 10) / 10, keyId: request.actor?.keyId };
    if (error) reply.log.error({ ...line, err: error }, 'request errored');
    else reply.log.info(line, 'request');
  }
}

export interface HttpAppOptions {
  logger: Logger | false;
  /**
   * Compile every route's validators and serializers while the app is built instead of at
   * first use (slower start; a broken schema fails at ready() rather than as a 500 on its
   * first request). The schema test builds the app this way.
   */
  eagerSchemas?: boolean;
}

export async function buildHttpApp(app: App, options: HttpAppOptions): Promise<FastifyInstance> {
  const eager = options.eagerSchemas ?? false;
  const common = { bodyLimit: BODY_LIMIT_BYTES, requestIdHeader: 'x-request-id', return503OnClosing: true } as const;
  // Bodies are never coerced ("1500" is not an amount); query strings and params are.
  const bodyAjv = makeAjv(false);
  const queryAjv = makeAjv(true);
  const validatorCompiler = ({ schema, httpPart }: { schema: object; httpPart?: string }) =>
    lazyValidator(() => (httpPart === 'body' ? bodyAjv : queryAjv).compile(schema), eager);
  const server = Fastify({
    ...common,
    loggerInstance: (options.logger || undefined) as FastifyBaseLogger | undefined,
    logController: new AccessLog(),
    // Both given here, so Fastify does not load its default Ajv compiler at all.
    schemaController: { compilersFactory: { buildValidator: (() => validatorCompiler) as never, buildSerializer: lazySerializerFactory(eager) as never } },
  }).withTypeProvider<TypeBoxTypeProvider>();
  server.setValidatorCompiler(validatorCompiler);
  server.setErrorHandler(errorHandler);
  server.setNotFoundHandler((request, reply) => notFoundHandler(request, reply));

  // GET /v1/openapi.json and /docs; @fastify/swagger and its UI load at their first request.
  registerLazyDocs(server, { errorHandler, notFoundHandler });

  server.decorateRequest('actor', null as never);
  server.addHook('onRequest', async (request, reply) => {
    const path = request.url.split('?')[0] as string;
    if (!path.startsWith('/v1/') || PUBLIC_PATHS.some((p) => path === p || path.startsWith(`${p}/`))) return;
    const token = bearerToken(request);
    if (!token && request.headers.authorization === undefined) {
      // A browser logged in with e-mail and password: the session cookie (and CSRF token on writes).
      const session = await sessionActor(app, request, reply);
      if (session instanceof Error) return sendError(reply, session);
      if (session) {
        request.actor = session;
        return;
      }
    }
    if (!token) return sendError(reply, unauthenticated('Send your API key as "Authorization: Bearer <key>" (or log in: POST /v1/auth/login).'));
    const actor = await app.apiKeys.authenticate(app.services.store.db, token);
    if (!actor) return sendError(reply, unauthenticated('That API key is not valid (or was revoked).'));
    request.actor = actor;
  });

  // Such text would otherwise reach the database and fail there as a 500.
  server.addHook('preValidation', async (request) => {
    const param = findUnstorableText(request.body) ?? findUnstorableText(request.query) ?? findUnstorableText(request.params);
    if (param !== null) {
      throw badRequest('parameter_invalid', `Invalid ${param || 'body'}: text must not contain NUL characters or unpaired surrogates.`, { param: param || 'body' });
    }
  });

  const idempotency = new Idempotency(app.services.store);
  await registerRoutes(server, app, idempotency);
  registerWeb(server); // the web pages: every GET outside /v1 and /docs
  return server;
}

export type HttpServer = Awaited<ReturnType<typeof buildHttpApp>>;
