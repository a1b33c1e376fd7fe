// Login throttling: 5 failed logins for one e-mail, or 20 from one IP address, within 15
// minutes → 429 with Retry-After. Attempts are rows (login_attempts), so the limit holds
// across processes; the login records an attempt as failed before it checks the password,
// so parallel guesses cannot slip past the limit.
import { sql } from 'kysely';
import { timestamptz, type StoreKind, type Trx } from '../../store/db.js';
import { SettleError } from '../../domain/errors.js';

export const LOGIN_WINDOW_MS = 15 * 60 * 1000;
export const MAX_FAILURES_PER_EMAIL = 5;
export const MAX_FAILURES_PER_IP = 20;

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

/**
 * Makes the logins of one e-mail, and of one IP address, take turns until the transaction
 * ends, so each counts the attempts of the ones before it. PGlite runs one transaction at a
 * time anyway.
 */
export async function takeTurns(trx: Trx, kind: StoreKind, emailKey: string, ip: string): Promise<void> {
  if (kind !== 'postgres') return;
  // Email first, then IP, always: two logins never wait on each other in a cycle.
  await sql`select pg_advisory_xact_lock(hashtextextended(${`settle-login-email:${emailKey}`}, 0))`.execute(trx);
  await sql`select pg_advisory_xact_lock(hashtextextended(${`settle-login-ip:${ip}`}, 0))`.execute(trx);
}

/** The newest `limit` attempts by this e-mail or IP after `after`, failed or good, newest first. */
function attempts(trx: Trx, by: 'email' | 'ip', value: string, succeeded: boolean, after: Date, limit: number) {
  return trx
    .selectFrom('login_attempts')
    .select('created_at')
    .where(by, '=', value)
    .where('succeeded', '=', succeeded)
    .where('created_at', '>', timestamptz(after))
    .orderBy('created_at', 'desc')
    .limit(limit)
    .execute();
}

/** Seconds until another login may be tried, or null when it may be tried now. */
export async function retryAfterSeconds(trx: Trx, emailKey: string, ip: string, now: Date): Promise<number | null> {
  const since = new Date(now.getTime() - LOGIN_WINDOW_MS);
  // A success for the e-mail clears its earlier failures (not the IP's).
  const [lastSuccess] = await attempts(trx, 'email', emailKey, true, since, 1);
  const emailFrom = lastSuccess && lastSuccess.created_at > since ? lastSuccess.created_at : since;
  const emailFailures = await attempts(trx, 'email', emailKey, false, emailFrom, MAX_FAILURES_PER_EMAIL);
  const ipFailures = await attempts(trx, 'ip', ip, false, since, MAX_FAILURES_PER_IP);
  // Blocked until the oldest failure that keeps the count at the limit leaves the window.
  const waits: number[] = [];
  if (emailFailures.length >= MAX_FAILURES_PER_EMAIL) waits.push((emailFailures.at(-1) as { created_at: Date }).created_at.getTime());
  if (ipFailures.length >= MAX_FAILURES_PER_IP) waits.push((ipFailures.at(-1) as { created_at: Date }).created_at.getTime());
  if (waits.length === 0) return null;
  const freeAtMs = Math.max(...waits) + LOGIN_WINDOW_MS;
  return Math.max(1, Math.ceil((freeAtMs - now.getTime()) / 1000));
}
