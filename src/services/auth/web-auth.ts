// Web logins for browsers (customer portal, provider pages, admin backend): users with
// scrypt passwords, single-use password-set links, login (throttled: login-throttle.ts)
// and sessions (sessions.ts).
//
// - Link tokens are like session tokens: 32 random bytes, given out once, stored hashed.
// - Unknown e-mail, no password set yet and wrong password look the same, and take the
//   same time (a dummy hash is checked when there is no real one).
// Time is real time (not the sandbox test clock: moving that by days must not log the
// browser out); tests may swap `clock`.
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { timestamptz, type Db, type Store, type Trx } from '../../store/db.js';
import { systemClock, type Clock } from '../../scheduler/clock.js';
import { badRequest, conflict, SettleError } from '../../domain/errors.js';
import { ulid } from '../../domain/ids.js';
import type { Actor } from '../context.js';
import { DEFAULT_SCRYPT, hashPassword, needsRehash, verifyPassword, type ScryptParams } from './passwords.js';
import { insertSession, newToken, slidExpiry, tokenHash, TOKEN_PATTERN, type AuthenticatedSession, type ClientInfo, type NewSession } from './sessions.js';
import { loginThrottled, retryAfterSeconds, takeTurns } from './login-throttle.js';
import { loginGateFor, type LoginGate } from './login-gate.js';

export type WebRole = 'admin' | 'provider' | 'customer';

export const PASSWORD_LINK_TTL_MS = 24 * 60 * 60 * 1000;
/** The web page that takes a password-set link: `${PASSWORD_LINK_PATH}#token=<token>`. */
export const PASSWORD_LINK_PATH = '/set-password';
export const MIN_PASSWORD_LENGTH = 10;
export const MAX_PASSWORD_LENGTH = 1024;
/** Sandbox only: the password of the demo logins seeded on first start. */
export const DEMO_PASSWORD = 'settle-demo-password';
export const DEMO_ADMIN_EMAIL = 'admin@example.com';

const PURGE_EVERY_MS = 10 * 60 * 1000;
const KEEP_ATTEMPTS_MS = 24 * 60 * 60 * 1000;

export interface WebUser {
  id: string;
  object: 'web_user';
  role: WebRole;
  email: string;
  name: string;
  customerId: string | null;
  providerId: string | null;
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

export const invalidCredentials = () =>
  new SettleError(401, 'authentication_error', 'invalid_credentials', 'Incorrect e-mail or password.');

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
  /** Bounds the logins holding a connection while they wait for their turn (login-gate.ts). */
  readonly gate: LoginGate;

  constructor(
    private readonly store: Store,
    options: { clock?: Clock; scrypt?: ScryptParams } = {},
  ) {
    this.clock = options.clock ?? systemClock;
    this.params = options.scrypt ?? DEFAULT_SCRYPT;
    this.gate = loginGateFor(store.connections);
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
      .values({ id, token_hash: tokenHash(token), user_id: user.id, created_by: input.createdBy, created_at: now, expires_at: expiresAt, used_at: null, revoked_at: null })
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
      .where('l.token_hash', '=', tokenHash(token))
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
    const attemptId = await this.gate.run([`email:${emailKey}`, `ip:${ip}`], () =>
      this.store.transaction(async (trx) => {
        await takeTurns(trx, this.store.kind, emailKey, ip);
        const at = this.clock.now(); // not `now`: this login may have waited at the gate
        const retryAfter = await retryAfterSeconds(trx, emailKey, ip, at);
        if (retryAfter !== null) throw loginThrottled(retryAfter);
        const row = await trx
          .insertInto('login_attempts')
          .values({ email: emailKey, ip, succeeded: false, created_at: at })
          .returning('id')
          .executeTakeFirstOrThrow();
        return row.id;
      }),
    );
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

  private dummy(): Promise<string> {
    return (this.dummyHash ??= hashPassword(randomBytes(18).toString('base64url'), this.params));
  }

  private async createSession(trx: Trx, userId: string, client: ClientInfo, now: Date): Promise<NewSession> {
    const { token, csrfToken, expiresAt } = await insertSession(trx, userId, client, now);
    const user = (await this.getUser(trx, userId)) as WebUser;
    return { user, csrfToken, expiresAt: expiresAt.toISOString(), token };
  }

  /** The session for a cookie's token, its expiry slid forward; null when unknown or expired. */
  async authenticate(db: Db, token: string): Promise<AuthenticatedSession | null> {
    if (!TOKEN_PATTERN.test(token)) return null;
    const row = await this.users(db)
      .innerJoin('web_sessions as s', 's.user_id', 'u.id')
      .select(['s.id as session_id', 's.csrf_token', 's.created_at as session_created_at', 's.expires_at'])
      .where('s.token_hash', '=', tokenHash(token))
      .executeTakeFirst();
    if (!row || row.disabled_at) return null;
    const nowMs = this.clock.now().getTime();
    if (row.expires_at.getTime() <= nowMs) return null;
    const user = toUser(row as UserRow);
    const { expiresAt, refreshed } = slidExpiry({ createdAt: row.session_created_at, expiresAt: row.expires_at }, nowMs);
    if (refreshed) await db.updateTable('web_sessions').set({ expires_at: expiresAt }).where('id', '=', row.session_id).execute();
    return { sessionId: row.session_id, user, actor: actorForUser(user), csrfToken: row.csrf_token, expiresAt: expiresAt.toISOString(), refreshed };
  }

  /** Ends the session for this token (no error if there is none). */
  async logout(db: Db, token: string): Promise<void> {
    if (!TOKEN_PATTERN.test(token)) return;
    await db.deleteFrom('web_sessions').where('token_hash', '=', tokenHash(token)).execute();
  }

  /** Drops expired sessions, old links and old attempts, at most every 10 minutes per process. */
  private async purge(now: Date): Promise<void> {
    const nowMs = now.getTime();
    if (nowMs - this.lastPurgeMs < PURGE_EVERY_MS && nowMs >= this.lastPurgeMs) return;
    this.lastPurgeMs = nowMs;
    const db = this.store.db;
    await db.deleteFrom('web_sessions').where('expires_at', '<', timestamptz(now)).execute();
    await db.deleteFrom('password_links').where('expires_at', '<', timestamptz(new Date(nowMs - PASSWORD_LINK_TTL_MS))).execute();
    await db.deleteFrom('login_attempts').where('created_at', '<', timestamptz(new Date(nowMs - KEEP_ATTEMPTS_MS))).execute();
  }
}
