// Web logins for browsers (customer portal, provider pages, admin backend): users with
// scrypt passwords, single-use password-set links, sessions and login throttling.
//
// - Session and link tokens are 32 random bytes, given out once and stored as SHA-256
//   hashes (like API keys: long random secrets need no slow hash).
// - Sessions last 12 h after the last use (sliding), at most 7 days after login; each
//   carries a random CSRF token that cookie-authenticated writes must echo.
// - Throttling: 5 failed logins for one e-mail, or 20 from one IP address, within 15
//   minutes → 429 with Retry-After. Attempts are rows, so this holds across processes;
//   an attempt is recorded as failed before its password is checked, so parallel guesses
//   cannot slip past the limit.
// - Unknown e-mail, no password set yet and wrong password look the same, and take the
//   same time (a dummy hash is checked when there is no real one).
// Time is real time (not the sandbox test clock: moving that by days must not log the
// browser out); tests may swap `clock`.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { sql, type RawBuilder } from 'kysely';
import type { Db, Store, Trx } from '../../store/db.js';
import { systemClock, type Clock } from '../../scheduler/clock.js';
import { badRequest, conflict, SettleError } from '../../domain/errors.js';
import { ulid } from '../../domain/ids.js';
import type { Actor } from '../context.js';
import { DEFAULT_SCRYPT, hashPassword, needsRehash, verifyPassword, type ScryptParams } from './passwords.js';

export type WebRole = 'admin' | 'provider' | 'customer';

export const SESSION_COOKIE = 'settle_session';
export const CSRF_HEADER = 'x-csrf-token';
export const SESSION_IDLE_MS = 12 * 60 * 60 * 1000;
export const SESSION_ABSOLUTE_MS = 7 * 24 * 60 * 60 * 1000;
/** A session's expiry is pushed forward (one write) at most this often. */
const SESSION_SLIDE_STEP_MS = 5 * 60 * 1000;
export const PASSWORD_LINK_TTL_MS = 24 * 60 * 60 * 1000;
/** The web page that takes a password-set link: `${PASSWORD_LINK_PATH}#token=<token>`. */
export const PASSWORD_LINK_PATH = '/set-password';
export const MIN_PASSWORD_LENGTH = 10;
export const MAX_PASSWORD_LENGTH = 1024;
export const LOGIN_WINDOW_MS = 15 * 60 * 1000;
export const MAX_FAILURES_PER_EMAIL = 5;
export const MAX_FAILURES_PER_IP = 20;
/** Sandbox only: the password of the demo logins seeded on first start. */
export const DEMO_PASSWORD = 'settle-demo-password';
export const DEMO_ADMIN_EMAIL = 'admin@example.com';

const PURGE_EVERY_MS = 10 * 60 * 1000;
const KEEP_ATTEMPTS_MS = 24 * 60 * 60 * 1000;
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export interface WebUser {
  id: string;
  object: 'web_user';
  role: WebRole;
  email: string;
  name: string;
  customerId: string | null;
  providerId: string | null;
}

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

export interface PasswordLink {
  id: string;
  object: 'password_link';
  userId: string;
  email: string;
  role: WebRole;
  token: string;
  /** Path of the web page that sets the password, with the token in the fragment. */
  path: string;
  expiresAt: string;
}

export interface ClientInfo {
  ip: string;
  userAgent?: string | undefined;
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const newToken = () => randomBytes(32).toString('base64url');
const at = (d: Date): RawBuilder<Date> => sql<Date>`${d.toISOString()}::timestamptz`;

export const invalidCredentials = () =>
  new SettleError(401, 'authentication_error', 'invalid_credentials', 'Incorrect e-mail or password.');

export function loginThrottled(retryAfterSeconds: number): SettleError {
  const minutes = Math.max(1, Math.ceil(retryAfterSeconds / 60));
  return new SettleError(
    429,
    'invalid_request_error',
    'too_many_login_attempts',
    `Too many failed logins. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}, or ask for a password-set link.`,
    { retryAfter: retryAfterSeconds },
  );
}

const linkInvalid = (code: string, message: string) => new SettleError(400, 'invalid_request_error', code, message, { param: 'token' });

/** The password rules: at least 10 characters, at most 1024, and not the e-mail address. */
export function checkPasswordPolicy(password: string, email: string): void {
  const length = [...password].length;
  if (length < MIN_PASSWORD_LENGTH) {
    throw badRequest('password_too_short', `The password must be at least ${MIN_PASSWORD_LENGTH} characters long.`, { param: 'password' });
  }
  if (length > MAX_PASSWORD_LENGTH) {
    throw badRequest('password_too_long', `The password must be at most ${MAX_PASSWORD_LENGTH} characters long.`, { param: 'password' });
  }
  if (password.trim().toLowerCase() === email.trim().toLowerCase()) {
    throw badRequest('password_is_email', 'The password must not be your e-mail address.', { param: 'password' });
  }
}

interface UserRow {
  id: string;
  email: string;
  role: WebRole;
  customer_id: string | null;
  provider_id: string | null;
  name: string | null;
  password_hash: string | null;
  disabled_at: Date | null;
  customer_name: string | null;
  provider_name: string | null;
}

function toUser(row: UserRow): WebUser {
  return {
    id: row.id,
    object: 'web_user',
    role: row.role,
    email: row.email,
    name: row.customer_name ?? row.provider_name ?? row.name ?? row.email,
    customerId: row.customer_id,
    providerId: row.provider_id,
  };
}

export function actorForUser(user: Pick<WebUser, 'id' | 'role' | 'customerId' | 'providerId'>): Actor {
  // keyId scopes Idempotency-Keys and is written into history: one per web user.
  return { role: user.role, keyId: `session:${user.id}`, customerId: user.customerId, providerId: user.providerId };
}

export class WebAuthService {
  /** Real time by default; tests swap it to walk through windows and expiries. */
  clock: Clock;
  private params: ScryptParams;
  private dummyHash: Promise<string> | null = null;
  private lastPurgeMs = 0;

  constructor(
    private readonly store: Store,
    options: { clock?: Clock; scrypt?: ScryptParams } = {},
  ) {
    this.clock = options.clock ?? systemClock;
    this.params = options.scrypt ?? DEFAULT_SCRYPT;
  }

  /** The scrypt cost for new hashes; older hashes are upgraded at their next login. */
  get scrypt(): ScryptParams {
    return this.params;
  }

  set scrypt(params: ScryptParams) {
    this.params = params;
    this.dummyHash = null;
  }

  private users(db: Db | Trx) {
    return db
      .selectFrom('web_users as u')
      .leftJoin('customers as c', 'c.id', 'u.customer_id')
      .leftJoin('providers as p', 'p.id', 'u.provider_id')
      .select([
        'u.id',
        'u.email',
        'u.role',
        'u.customer_id',
        'u.provider_id',
        'u.name',
        'u.password_hash',
        'u.disabled_at',
        'c.name as customer_name',
        'p.name as provider_name',
      ]);
  }

  private async userByEmail(db: Db | Trx, email: string): Promise<UserRow | undefined> {
    return this.users(db)
      .where(sql<boolean>`lower(u.email) = ${email.trim().toLowerCase()}`)
      .executeTakeFirst() as Promise<UserRow | undefined>;
  }

  async getUser(db: Db | Trx, id: string): Promise<WebUser | null> {
    const row = (await this.users(db).where('u.id', '=', id).executeTakeFirst()) as UserRow | undefined;
    return row ? toUser(row) : null;
  }

  async findUserByEmail(db: Db | Trx, email: string): Promise<WebUser | null> {
    const row = await this.userByEmail(db, email);
    return row ? toUser(row) : null;
  }

  /**
   * The web user for `email`, created on first use: for an admin (role "admin"), or for the
   * customer or provider with that e-mail (role tells which when the e-mail is both).
   */
  async ensureUser(trx: Trx, input: { email: string; role?: WebRole | undefined; name?: string | undefined }): Promise<WebUser> {
    const email = input.email.trim();
    const existing = await this.userByEmail(trx, email);
    if (existing) {
      if (input.role && input.role !== existing.role) {
        throw conflict('web_user_role_mismatch', `The login ${email} already exists as ${existing.role}.`, { param: 'role' });
      }
      return toUser(existing);
    }
    const lower = email.toLowerCase();
    let values: { role: WebRole; customer_id: string | null; provider_id: string | null; name: string | null; email: string };
    if (input.role === 'admin') {
      values = { role: 'admin', customer_id: null, provider_id: null, name: input.name ?? 'Admin', email };
    } else {
      const customer =
        input.role === 'provider'
          ? undefined
          : await trx.selectFrom('customers').select(['id', 'email']).where(sql<boolean>`lower(email) = ${lower}`).executeTakeFirst();
      const provider =
        input.role === 'customer'
          ? undefined
          : await trx.selectFrom('providers').select(['id', 'email']).where(sql<boolean>`lower(email) = ${lower}`).executeTakeFirst();
      if (customer && provider) {
        throw badRequest('email_ambiguous', `${email} is both a customer and a provider; send role "customer" or "provider".`, { param: 'role' });
      }
      if (customer) values = { role: 'customer', customer_id: customer.id, provider_id: null, name: null, email: customer.email };
      else if (provider) values = { role: 'provider', customer_id: null, provider_id: provider.id, name: null, email: provider.email };
      else {
        const what = input.role ?? 'customer or provider';
        throw new SettleError(404, 'not_found_error', 'resource_missing', `No ${what} has the e-mail ${email}.`, { param: 'email' });
      }
    }
    const id = `usr_${ulid()}`;
    const inserted = await trx
      .insertInto('web_users')
      .values({ id, ...values, password_hash: null, password_changed_at: null, created_at: this.clock.now(), disabled_at: null })
      .onConflict((oc) => oc.doNothing())
      .returning('id')
      .executeTakeFirst();
    if (inserted) return (await this.getUser(trx, id)) as WebUser;
    // Created meanwhile by another request, or the party already has a login under an earlier e-mail.
    const row = (await this.users(trx)
      .where((eb) =>
        eb.or([
          eb(sql<string>`lower(u.email)`, '=', lower),
          ...(values.customer_id ? [eb('u.customer_id', '=', values.customer_id)] : []),
          ...(values.provider_id ? [eb('u.provider_id', '=', values.provider_id)] : []),
        ]),
      )
      .executeTakeFirstOrThrow()) as UserRow;
    if (row.role !== values.role) throw conflict('web_user_role_mismatch', `The login ${email} already exists as ${row.role}.`, { param: 'role' });
    return toUser(row);
  }

  /** A new single-use link to set the password (24 h); earlier unused links stop working. */
  async createPasswordLink(
    trx: Trx,
    input: { email: string; role?: WebRole | undefined; name?: string | undefined; createdBy: string },
  ): Promise<PasswordLink> {
    const user = await this.ensureUser(trx, input);
    const now = this.clock.now();
    await trx
      .updateTable('password_links')
      .set({ revoked_at: now })
      .where('user_id', '=', user.id)
      .where('used_at', 'is', null)
      .where('revoked_at', 'is', null)
      .execute();
    const token = newToken();
    const id = `pwl_${ulid()}`;
    const expiresAt = new Date(now.getTime() + PASSWORD_LINK_TTL_MS);
    await trx
      .insertInto('password_links')
      .values({ id, token_hash: sha256(token), user_id: user.id, created_by: input.createdBy, created_at: now, expires_at: expiresAt, used_at: null, revoked_at: null })
      .execute();
    return {
      id,
      object: 'password_link',
      userId: user.id,
      email: user.email,
      role: user.role,
      token,
      path: `${PASSWORD_LINK_PATH}#token=${token}`,
      expiresAt: expiresAt.toISOString(),
    };
  }

  /** Uses a password-set link: sets the password, ends the user's other sessions and logs in. */
  async setPasswordWithLink(token: string, password: string, client: ClientInfo): Promise<NewSession> {
    const invalid = () => linkInvalid('password_link_invalid', 'This password link is not valid. Ask for a new one.');
    if (!TOKEN_PATTERN.test(token)) throw invalid();
    const db = this.store.db;
    const link = await db
      .selectFrom('password_links as l')
      .innerJoin('web_users as u', 'u.id', 'l.user_id')
      .select(['l.id', 'l.user_id', 'l.expires_at', 'l.used_at', 'l.revoked_at', 'u.email', 'u.disabled_at'])
      .where('l.token_hash', '=', sha256(token))
      .executeTakeFirst();
    const now = this.clock.now();
    if (!link || link.disabled_at) throw invalid();
    if (link.used_at) throw linkInvalid('password_link_used', 'This password link was already used. Ask for a new one.');
    if (link.revoked_at) throw linkInvalid('password_link_invalid', 'This password link was replaced by a newer one. Use the latest link.');
    if (link.expires_at.getTime() <= now.getTime()) throw linkInvalid('password_link_expired', 'This password link has expired. Ask for a new one.');
    checkPasswordPolicy(password, link.email);
    // Hashing takes a while: not inside the transaction (on PGlite it would hold the database).
    const hash = await hashPassword(password, this.params);
    return this.store.transaction(async (trx) => {
      const used = await trx
        .updateTable('password_links')
        .set({ used_at: now })
        .where('id', '=', link.id)
        .where('used_at', 'is', null)
        .where('revoked_at', 'is', null)
        .returning('id')
        .executeTakeFirst();
      if (!used) throw linkInvalid('password_link_used', 'This password link was already used. Ask for a new one.');
      await trx.updateTable('web_users').set({ password_hash: hash, password_changed_at: now }).where('id', '=', link.user_id).execute();
      await trx.deleteFrom('web_sessions').where('user_id', '=', link.user_id).execute();
      // Whoever holds the link owns the address: earlier failed guesses no longer count.
      await trx.deleteFrom('login_attempts').where('email', '=', link.email.trim().toLowerCase()).where('succeeded', '=', false).execute();
      return this.createSession(trx, link.user_id, client, now);
    });
  }

  /** Sets a password directly (the sandbox demo logins); no link involved. */
  async setPassword(trx: Trx, userId: string, password: string, hash?: string): Promise<void> {
    await trx
      .updateTable('web_users')
      .set({ password_hash: hash ?? (await hashPassword(password, this.params)), password_changed_at: this.clock.now() })
      .where('id', '=', userId)
      .execute();
  }

  hashPassword(password: string): Promise<string> {
    return hashPassword(password, this.params);
  }

  /**
   * Checks the throttle, records the attempt as failed, then checks the password; on
   * success the attempt is marked good and a session starts.
   */
  async login(email: string, password: string, client: ClientInfo): Promise<NewSession> {
    const emailKey = email.trim().toLowerCase();
    const ip = client.ip || 'unknown';
    const now = this.clock.now();
    await this.purge(now);
    const attemptId = await this.store.transaction(async (trx) => {
      if (this.store.kind === 'postgres') {
        // Email first, then IP, always: two logins never wait on each other in a cycle.
        await sql`select pg_advisory_xact_lock(hashtextextended(${`settle-login-email:${emailKey}`}, 0))`.execute(trx);
        await sql`select pg_advisory_xact_lock(hashtextextended(${`settle-login-ip:${ip}`}, 0))`.execute(trx);
      }
      const retryAfter = await this.throttle(trx, emailKey, ip, now);
      if (retryAfter !== null) throw loginThrottled(retryAfter);
      const row = await trx
        .insertInto('login_attempts')
        .values({ email: emailKey, ip, succeeded: false, created_at: now })
        .returning('id')
        .executeTakeFirstOrThrow();
      return row.id;
    });
    const user = await this.userByEmail(this.store.db, emailKey);
    const real = user && !user.disabled_at && user.password_hash ? user.password_hash : null;
    const ok = await verifyPassword(password, real ?? (await this.dummy()));
    if (!ok || !real || !user) throw invalidCredentials();
    const rehash = needsRehash(real, this.params) ? await hashPassword(password, this.params) : null;
    return this.store.transaction(async (trx) => {
      await trx.updateTable('login_attempts').set({ succeeded: true }).where('id', '=', attemptId).execute();
      if (rehash) await trx.updateTable('web_users').set({ password_hash: rehash }).where('id', '=', user.id).where('password_hash', '=', real).execute();
      return this.createSession(trx, user.id, client, this.clock.now());
    });
  }

  /** Seconds until another login may be tried, or null when it may be tried now. */
  private async throttle(trx: Trx, emailKey: string, ip: string, now: Date): Promise<number | null> {
    const since = new Date(now.getTime() - LOGIN_WINDOW_MS);
    // A success for the e-mail clears its earlier failures (not the IP's).
    const lastSuccess = await trx
      .selectFrom('login_attempts')
      .select('created_at')
      .where('email', '=', emailKey)
      .where('succeeded', '=', true)
      .where('created_at', '>', at(since))
      .orderBy('created_at', 'desc')
      .limit(1)
      .executeTakeFirst();
    const emailFrom = lastSuccess && lastSuccess.created_at > since ? lastSuccess.created_at : since;
    const emailFailures = await trx
      .selectFrom('login_attempts')
      .select('created_at')
      .where('email', '=', emailKey)
      .where('succeeded', '=', false)
      .where('created_at', '>', at(emailFrom))
      .orderBy('created_at', 'desc')
      .limit(MAX_FAILURES_PER_EMAIL)
      .execute();
    const ipFailures = await trx
      .selectFrom('login_attempts')
      .select('created_at')
      .where('ip', '=', ip)
      .where('succeeded', '=', false)
      .where('created_at', '>', at(since))
      .orderBy('created_at', 'desc')
      .limit(MAX_FAILURES_PER_IP)
      .execute();
    // Blocked until the oldest failure that keeps the count at the limit leaves the window.
    const waits: number[] = [];
    if (emailFailures.length >= MAX_FAILURES_PER_EMAIL) waits.push((emailFailures.at(-1) as { created_at: Date }).created_at.getTime());
    if (ipFailures.length >= MAX_FAILURES_PER_IP) waits.push((ipFailures.at(-1) as { created_at: Date }).created_at.getTime());
    if (waits.length === 0) return null;
    const freeAtMs = Math.max(...waits) + LOGIN_WINDOW_MS;
    return Math.max(1, Math.ceil((freeAtMs - now.getTime()) / 1000));
  }

  private dummy(): Promise<string> {
    return (this.dummyHash ??= hashPassword(randomBytes(18).toString('base64url'), this.params));
  }

  private async createSession(trx: Trx, userId: string, client: ClientInfo, now: Date): Promise<NewSession> {
    const token = newToken();
    const csrfToken = newToken();
    const expiresAt = new Date(now.getTime() + SESSION_IDLE_MS);
    await trx
      .insertInto('web_sessions')
      .values({
        id: `ses_${ulid()}`,
        token_hash: sha256(token),
        user_id: userId,
        csrf_token: csrfToken,
        created_at: now,
        expires_at: expiresAt,
        ip: client.ip || null,
        user_agent: client.userAgent?.slice(0, 500) ?? null,
      })
      .execute();
    const user = (await this.getUser(trx, userId)) as WebUser;
    return { user, csrfToken, expiresAt: expiresAt.toISOString(), token };
  }

  /** The session for a cookie's token, its expiry slid forward; null when unknown or expired. */
  async authenticate(db: Db, token: string): Promise<AuthenticatedSession | null> {
    if (!TOKEN_PATTERN.test(token)) return null;
    const row = await this.users(db)
      .innerJoin('web_sessions as s', 's.user_id', 'u.id')
      .select(['s.id as session_id', 's.csrf_token', 's.created_at as session_created_at', 's.expires_at'])
      .where('s.token_hash', '=', sha256(token))
      .executeTakeFirst();
    if (!row || row.disabled_at) return null;
    const nowMs = this.clock.now().getTime();
    if (row.expires_at.getTime() <= nowMs) return null;
    const user = toUser(row as UserRow);
    let expiresAt = row.expires_at;
    const slid = new Date(Math.min(nowMs + SESSION_IDLE_MS, row.session_created_at.getTime() + SESSION_ABSOLUTE_MS));
    const refreshed = slid.getTime() - expiresAt.getTime() >= SESSION_SLIDE_STEP_MS;
    if (refreshed) {
      await db.updateTable('web_sessions').set({ expires_at: slid }).where('id', '=', row.session_id).execute();
      expiresAt = slid;
    }
    return { sessionId: row.session_id, user, actor: actorForUser(user), csrfToken: row.csrf_token, expiresAt: expiresAt.toISOString(), refreshed };
  }

  /** Ends the session for this token (no error if there is none). */
  async logout(db: Db, token: string): Promise<void> {
    if (!TOKEN_PATTERN.test(token)) return;
    await db.deleteFrom('web_sessions').where('token_hash', '=', sha256(token)).execute();
  }

  /** Drops expired sessions, old links and old attempts, at most every 10 minutes per process. */
  private async purge(now: Date): Promise<void> {
    const nowMs = now.getTime();
    if (nowMs - this.lastPurgeMs < PURGE_EVERY_MS && nowMs >= this.lastPurgeMs) return;
    this.lastPurgeMs = nowMs;
    const db = this.store.db;
    await db.deleteFrom('web_sessions').where('expires_at', '<', at(now)).execute();
    await db.deleteFrom('password_links').where('expires_at', '<', at(new Date(nowMs - PASSWORD_LINK_TTL_MS))).execute();
    await db.deleteFrom('login_attempts').where('created_at', '<', at(new Date(nowMs - KEEP_ATTEMPTS_MS))).execute();
  }
}

/** Constant-time comparison of a CSRF header with the session's token. */
export function csrfMatches(sent: string | string[] | undefined, expected: string): boolean {
  if (typeof sent !== 'string' || sent.length === 0) return false;
  const a = Buffer.from(sent);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
