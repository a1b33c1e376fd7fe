// The API docs: GET /v1/openapi.json (the OpenAPI document) and /docs (Swagger UI).
//
// @fastify/swagger and @fastify/swagger-ui (with @fastify/static, yaml, …) cost ~0.2 s of
// every start, and most servers never show their docs. So they are loaded at the first
// request for either: the server records every route it registers (method, URL, schema),
// and that first request builds a small separate Fastify instance with the two plugins
// and the same routes (schemas only, handlers never called), into which /docs requests
// are forwarded. The document and the pages are the same as with the plugins registered
// on the server itself.
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest, type RouteOptions } from 'fastify';
import type {} from '@fastify/swagger'; // the `swagger()` decorator's type
import type { HttpServerLike } from './routes/types.js';

const DOCS_PREFIX = '/docs';
/** Response headers that belong to one HTTP connection, not to the forwarded answer. */
const HOP_HEADERS = new Set(['connection', 'keep-alive', 'transfer-encoding', 'date']);

type RecordedRoute = Pick<RouteOptions, 'method' | 'url' | 'schema' | 'config'>;

export interface DocsOptions {
  /** The server's handlers, so that the docs' errors and 404s answer as the server's do. */
  errorHandler: (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => unknown;
  notFoundHandler: (request: FastifyRequest, reply: FastifyReply) => unknown;
}

/**
 * Call before any route is registered: records the routes from then on. Registers
 * GET /v1/openapi.json and GET /docs, /docs/*.
 */
export function registerLazyDocs(server: HttpServerLike, options: DocsOptions): void {
  const routes: RecordedRoute[] = [];
  server.addHook('onRoute', (route) => {
    routes.push({ method: route.method, url: route.url, schema: route.schema, config: route.config });
  });

  let built: Promise<FastifyInstance> | null = null;
  const docs = () => {
    built ??= buildDocs(routes, options).catch((err: unknown) => {
      built = null; // try again at the next request
      throw err;
    });
    return built;
  };

  server.get('/v1/openapi.json', { schema: { hide: true } }, async () => (await docs()).swagger());

  const forward = async (request: FastifyRequest, reply: FastifyReply) => {
    const res = await (await docs()).inject({ method: request.method as 'GET' | 'HEAD', url: request.url, headers: request.headers });
    reply.code(res.statusCode);
    for (const [name, value] of Object.entries(res.headers)) {
      if (value !== undefined && !HOP_HEADERS.has(name)) reply.header(name, value);
    }
    // An empty answer (a redirect, HEAD) is sent as one, without a content type.
    return res.rawPayload.length > 0 ? reply.send(res.rawPayload) : reply.send();
  };
  // HEAD explicitly, so the docs' own answer (its content-length) is forwarded as it is.
  for (const url of [DOCS_PREFIX, `${DOCS_PREFIX}/*`]) server.route({ method: ['GET', 'HEAD'], url, schema: { hide: true }, handler: forward });
}

async function buildDocs(routes: readonly RecordedRoute[], options: DocsOptions): Promise<FastifyInstance> {
  const [{ default: swagger }, { default: swaggerUi }] = await Promise.all([import('@fastify/swagger'), import('@fastify/swagger-ui')]);
  const docs = Fastify({ logger: false, exposeHeadRoutes: true });
  // The routes are here for their schemas only: nothing is validated or serialized.
  docs.setValidatorCompiler(() => () => true);
  docs.setSerializerCompiler(() => (data) => JSON.stringify(data));
  docs.setErrorHandler(options.errorHandler);
  docs.setNotFoundHandler(options.notFoundHandler);
  await docs.register(swagger, {
    openapi: {
      info: { title: 'Settle API', version: '1', description: 'Orders, deadlines, refunds and a double-entry ledger for services paid in advance.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });
  await docs.register(swaggerUi, { routePrefix: DOCS_PREFIX });
  const neverCalled = async () => {
    throw new Error('a documentation-only route was called');
  };
  for (const route of routes) {
    // Hidden routes are not in the document (and the web pages' GET /* would shadow the docs' 404s).
    if ((route.schema as { hide?: boolean } | undefined)?.hide === true) continue;
    const { method, url, schema, config } = route;
    docs.route({ method, url, ...(schema ? { schema } : {}), ...(config ? { config } : {}), exposeHeadRoute: false, handler: neverCalled });
  }
  await docs.ready();
  return docs;
}
