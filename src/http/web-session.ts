// Browser sessions over HTTP: the `settle_session` cookie (HttpOnly, SameSite=Lax, Path=/,
// Secure unless the request is plain http to localhost) and the CSRF check. A request
// without an Authorization header but with the cookie acts as that web user; every
// non-GET request made that way must carry X-CSRF-Token equal to the session's token.
// (The Cookie header is parsed here: @fastify/cookie 11 needs cookie@2, i.e. Node ≥ 22.)
import type { FastifyReply, FastifyRequest } from 'fastify';
import { SettleError } from '../domain/errors.js';
import type { App } from '../app/app.js';
import type { Actor } from '../services/context.js';
import { CSRF_HEADER, csrfMatches, SESSION_COOKIE, type AuthenticatedSession } from '../services/auth/sessions.js';
import { unauthenticated } from './auth.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export const csrfInvalid = () =>
  new SettleError(
    403,
    'permission_error',
    'csrf_token_invalid',
    'This request needs the X-CSRF-Token header with the csrfToken from login or GET /v1/auth/session.',
  );

/** Cookie header → name/value pairs (first one wins, as browsers send the most specific first). */
export function parseCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (!header) return out;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    let value = part.slice(eq + 1).trim();
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1);
    if (!name || out.has(name)) continue;
    try {
      out.set(name, decodeURIComponent(value));
    } catch {
      out.set(name, value);
    }
  }
  return out;
}

export function sessionToken(request: FastifyRequest): string | null {
  return parseCookies(request.headers.cookie).get(SESSION_COOKIE) ?? null;
}

function isLoopback(hostname: string): boolean {
  const h = hostname.toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h.endsWith('.localhost') || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h);
}

/** Secure, unless this is plain http to localhost (where browsers would drop a Secure cookie). */
export function cookieIsSecure(request: FastifyRequest): boolean {
  return !(request.protocol === 'http' && isLoopback(request.hostname));
}

function cookie(request: FastifyRequest, value: string, maxAgeSeconds: number): string {
  const parts = [`${SESSION_COOKIE}=${value}`, 'Path=/', `Max-Age=${maxAgeSeconds}`, 'HttpOnly', 'SameSite=Lax'];
  if (maxAgeSeconds === 0) parts.push('Expires=Thu, 01 Jan 1970 00:00:00 GMT');
  if (cookieIsSecure(request)) parts.push('Secure');
  return parts.join('; ');
}

export function setSessionCookie(request: FastifyRequest, reply: FastifyReply, token: string, expiresAt: string, nowMs: number): void {
  const maxAge = Math.max(1, Math.ceil((Date.parse(expiresAt) - nowMs) / 1000));
  reply.header('set-cookie', cookie(request, token, maxAge));
}

export function clearSessionCookie(request: FastifyRequest, reply: FastifyReply): void {
  reply.header('set-cookie', cookie(request, '', 0));
}

/** The session behind the request's cookie, sliding its expiry (and the cookie's) forward. */
export async function currentSession(app: App, request: FastifyRequest, reply: FastifyReply): Promise<AuthenticatedSession | null> {
  const token = sessionToken(request);
  if (!token) return null;
  const session = await app.webAuth.authenticate(app.services.store.db, token);
  if (session?.refreshed) setSessionCookie(request, reply, token, session.expiresAt, app.webAuth.clock.now().getTime());
  return session;
}

/**
 * For the auth hook: null when the request has no session cookie; otherwise the web user's
 * actor, or the refusal (expired session → 401 and the cookie cleared; missing or wrong
 * CSRF token on a write → 403).
 */
export async function sessionActor(app: App, request: FastifyRequest, reply: FastifyReply): Promise<Actor | SettleError | null> {
  if (!sessionToken(request)) return null;
  const session = await currentSession(app, request, reply);
  if (!session) {
    clearSessionCookie(request, reply);
    return unauthenticated('Your session has ended (logged out or expired). Log in again.');
  }
  if (!SAFE_METHODS.has(request.method) && !csrfMatches(request.headers[CSRF_HEADER], session.csrfToken)) return csrfInvalid();
  return session.actor;
}
