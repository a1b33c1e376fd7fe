// Web logins (customer portal, provider pages, admin backend): log in with e-mail and
// password to a session cookie, log out, read the session, set a password with a
// single-use link; admins create those links. /v1/auth/* reads the cookie itself (the
// auth hook skips it); /v1/password-links is an ordinary admin endpoint.
import { Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { requireAdmin, unauthenticated } from '../auth.js';
import { errorResponses, Text } from '../schemas.js';
import { SettleError } from '../../domain/errors.js';
import { MAX_PASSWORD_LENGTH } from '../../services/auth/web-auth.js';
import { csrfMatches, CSRF_HEADER, type NewSession } from '../../services/auth/sessions.js';
import { errorPayload } from '../errors.js';
import { clearSessionCookie, csrfInvalid, currentSession, sessionToken, setSessionCookie } from '../web-session.js';
import type { RouteModule } from './route-module.js';

const Role = Type.Union([Type.Literal('admin'), Type.Literal('provider'), Type.Literal('customer')]);
const Nullable = (s: ReturnType<typeof Type.String>) => Type.Union([s, Type.Null()]);

const WebUser = Type.Object({
  id: Type.String({ description: 'usr_…' }),
  object: Type.Literal('web_user'),
  role: Role,
  email: Type.String(),
  name: Type.String(),
  customerId: Nullable(Type.String()),
  providerId: Nullable(Type.String()),
});

const SessionBody = Type.Object({
  user: WebUser,
  csrfToken: Type.String({ description: 'Send as the X-CSRF-Token header on every non-GET request made with the session cookie.' }),
  expiresAt: Type.String({ description: 'When the session ends unless used again (12 h after the last use, at most 7 days after login).' }),
});

const Password = Type.String({ minLength: 1, maxLength: MAX_PASSWORD_LENGTH * 4 });
const LoginBody = Type.Object(
  { email: Type.String({ minLength: 1, maxLength: 254 }), password: Password },
  { additionalProperties: false },
);
const SetPasswordBody = Type.Object(
  { token: Type.String({ minLength: 1, maxLength: 200 }), password: Password },
  { additionalProperties: false },
);
const CreateLinkBody = Type.Object(
  {
    email: Type.String({ format: 'email', maxLength: 254 }),
    role: Type.Optional(Role),
    name: Type.Optional(Text(200)),
  },
  { additionalProperties: false },
);
const PasswordLinkBody = Type.Object({
  id: Type.String(),
  object: Type.Literal('password_link'),
  userId: Type.String(),
  email: Type.String(),
  role: Role,
  token: Nullable(Type.String({ description: 'The secret; null on an idempotent replay (it is never stored).' })),
  url: Nullable(Type.String({ description: 'The page to open to set the password (the token is in the #fragment).' })),
  expiresAt: Type.String(),
});

const authResponses = { ...errorResponses, 429: errorResponses[400] };

function client(request: FastifyRequest) {
  const ua = request.headers['user-agent'];
  return { ip: request.ip, userAgent: typeof ua === 'string' ? ua : undefined };
}

function origin(request: FastifyRequest): string {
  return `${request.protocol}://${request.host}`;
}

export const authRoutes: RouteModule = (server, app, idem) => {
  const auth = app.webAuth;
  const db = app.services.store.db;

  const startSession = (request: FastifyRequest, reply: FastifyReply, session: NewSession) => {
    setSessionCookie(request, reply, session.token, session.expiresAt, auth.clock.now().getTime());
    reply.header('cache-control', 'no-store');
    return { user: session.user, csrfToken: session.csrfToken, expiresAt: session.expiresAt };
  };

  server.post(
    '/v1/auth/login',
    {
      schema: {
        tags: ['web logins'],
        summary: 'Log in with e-mail and password; sets the settle_session cookie.',
        description:
          'Sets an HttpOnly, SameSite=Lax session cookie (Secure except over plain http to localhost). ' +
          'Unknown e-mail and wrong password give the same 401. After 5 failures for an e-mail or 20 from an IP ' +
          'within 15 minutes: 429 with Retry-After (also, for a second, when over 1,000 logins wait in one server process).',
        security: [],
        body: LoginBody,
        response: { 200: SessionBody, ...authResponses },
      },
    },
    async (req, reply) => {
      try {
        const session = await auth.login(req.body.email, req.body.password, client(req));
        return startSession(req, reply, session);
      } catch (err) {
        if (err instanceof SettleError && err.status === 429) {
          return reply.code(429).header('retry-after', String(err.details.retryAfter)).send(errorPayload(err));
        }
        throw err;
      }
    },
  );

  server.post(
    '/v1/auth/logout',
    {
      schema: {
        tags: ['web logins'],
        summary: 'End the session and clear the cookie (needs X-CSRF-Token while the session is valid).',
        security: [],
        response: { 200: Type.Object({ loggedOut: Type.Boolean() }), ...authResponses },
      },
    },
    async (req, reply) => {
      const token = sessionToken(req);
      if (token) {
        const session = await auth.authenticate(db, token);
        if (session && !csrfMatches(req.headers[CSRF_HEADER], session.csrfToken)) throw csrfInvalid();
        await auth.logout(db, token);
      }
      clearSessionCookie(req, reply);
      return { loggedOut: true };
    },
  );

  server.get(
    '/v1/auth/session',
    {
      schema: {
        tags: ['web logins'],
        summary: 'The logged-in web user and the CSRF token (401 without a valid session cookie).',
        security: [],
        response: { 200: SessionBody, ...authResponses },
      },
    },
    async (req, reply) => {
      const session = await currentSession(app, req, reply);
      reply.header('cache-control', 'no-store');
      if (!session) {
        if (sessionToken(req)) clearSessionCookie(req, reply);
        throw unauthenticated('Not logged in.');
      }
      return { user: session.user, csrfToken: session.csrfToken, expiresAt: session.expiresAt };
    },
  );

  server.post(
    '/v1/auth/set-password',
    {
      schema: {
        tags: ['web logins'],
        summary: 'Set the password with a password-set link token (single use, 24 h), then log in.',
        description: 'The password needs at least 10 characters and must not be the e-mail address. Ends the user’s other sessions.',
        security: [],
        body: SetPasswordBody,
        response: { 200: SessionBody, ...authResponses },
      },
    },
    async (req, reply) => startSession(req, reply, await auth.setPasswordWithLink(req.body.token, req.body.password, client(req))),
  );

  server.post(
    '/v1/password-links',
    {
      schema: {
        tags: ['web logins'],
        summary: 'Create a password-set link for a customer, provider or admin login (admin).',
        description:
          'Creates the web login for the e-mail on first use (the customer or provider with that e-mail; role "admin" for staff). ' +
          'The link is valid once, for 24 hours; a newer link replaces older unused ones. ' +
          'Settle sends no e-mail: the link is in the response for the admin to pass on.',
        body: CreateLinkBody,
        response: { 200: PasswordLinkBody, ...errorResponses },
      },
    },
    async (req, reply) => {
      requireAdmin(req.actor);
      return idem.run(
        req,
        reply,
        async (trx) => {
          const link = await auth.createPasswordLink(trx, { ...req.body, createdBy: req.actor.keyId });
          const { path, ...rest } = link;
          return { body: { ...rest, url: `${origin(req)}${path}` } };
        },
        { storedBody: (body) => ({ ...body, token: null, url: null }) },
      );
    },
  );
};
