// Browser sessions: a cookie holding a random token, and a CSRF token that cookie-authenticated
// writes must echo in a header.
// - Tokens are 32 random bytes, given out once and stored as SHA-256 hashes (like API keys:
//   long random secrets need no slow hash).
// - A session lasts 12 h after its last use (sliding), at most 7 days after login.
import { hash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Trx } from '../../store/db.js';
import { ulid } from '../../domain/ids.js';
import type { Actor } from '../context.js';
import type { WebUser } from './web-auth.js';

export const SESSION_COOKIE = 'settle_session';
export const CSRF_HEADER = 'x-csrf-token';
export const SESSION_IDLE_MS = 12 * 60 * 60 * 1000;
export const SESSION_ABSOLUTE_MS = 7 * 24 * 60 * 60 * 1000;
/** A session's expiry is pushed forward (one write) at most this often. */
const SESSION_SLIDE_STEP_MS = 5 * 60 * 1000;
/** What newToken gives: anything else cannot be a session or link token, and is not looked up. */
export const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export interface SessionView {
  user: WebUser;
  csrfToken: string;
  expiresAt: string;
}

/** A new session: the view plus the cookie's secret (never stored, never in a body). */
export interface NewSession extends SessionView {
  token: string;
}

export interface AuthenticatedSession extends SessionView {
  sessionId: string;
  actor: Actor;
  /** The expiry moved forward on this request: send the cookie again with the new Max-Age. */
  refreshed: boolean;
}

export interface ClientInfo {
  ip: string;
  userAgent?: string | undefined;
}

/** A secret token (sessions, password-set links) and the hash it is stored and found by. */
export const newToken = () => randomBytes(32).toString('base64url');
export const tokenHash = (token: string) => hash('sha256', token, 'hex');

/** Writes a new session for the user; the token is given back once, for the cookie. */
export async function insertSession(trx: Trx, userId: string, client: ClientInfo, now: Date): Promise<{ token: string; csrfToken: string; expiresAt: Date }> {
  const token = newToken();
  const csrfToken = newToken();
  const expiresAt = new Date(now.getTime() + SESSION_IDLE_MS);
  await trx
    .insertInto('web_sessions')
    .values({
      id: `ses_${ulid()}`,
      token_hash: tokenHash(token),
      user_id: userId,
      csrf_token: csrfToken,
      created_at: now,
      expires_at: expiresAt,
      ip: client.ip || null,
      user_agent: client.userAgent?.slice(0, 500) ?? null,
    })
    .execute();
  return { token, csrfToken, expiresAt };
}

/**
 * The expiry a session used now gets: 12 h from now, never past 7 days after login, and only
 * moved (`refreshed`) when that gains at least the slide step — most requests write nothing.
 */
export function slidExpiry(session: { createdAt: Date; expiresAt: Date }, nowMs: number): { expiresAt: Date; refreshed: boolean } {
  const slid = new Date(Math.min(nowMs + SESSION_IDLE_MS, session.createdAt.getTime() + SESSION_ABSOLUTE_MS));
  const refreshed = slid.getTime() - session.expiresAt.getTime() >= SESSION_SLIDE_STEP_MS;
  return refreshed ? { expiresAt: slid, refreshed } : { expiresAt: session.expiresAt, refreshed };
}

/** Constant-time comparison of a CSRF header with the session's token. */
export function csrfMatches(sent: string | string[] | undefined, expected: string): boolean {
  if (typeof sent !== 'string' || sent.length === 0) return false;
  const a = Buffer.from(sent);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
