// Web logins (issue 5, "Customer portal"): e-mail + password → an HttpOnly session cookie
// that acts as the customer, provider or admin; CSRF tokens on cookie writes; login
// throttling kept in the database; single-use password-set links; the sandbox demo logins.
// Driven with Fastify's inject and real Cookie headers, as a browser would send them.
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { startHarness, type Harness } from '../helpers/harness.js';
import { systemClock } from '../../src/scheduler/clock.js';
import { DEFAULT_SCRYPT } from '../../src/services/auth/passwords.js';
import { ensureDemo } from '../../src/app/demo.js';
import { printBanner } from '../../src/cli/banner.js';
import type { RunningServer, ServerConfig } from '../../src/app/server.js';

const MIN = 60 * 1000;
const HOUR = 60 * MIN;

interface WebRes {
  status: number;
  body: any;
  headers: Record<string, unknown>;
  cookies: string[];
}

interface WebOpts {
  cookie?: string | undefined;
  csrf?: string | undefined;
  body?: unknown;
  idem?: string;
  ip?: string;
  headers?: Record<string, string>;
}

let h: Harness;

/** A request as the browser makes it: no Authorization header, the session cookie if any. */
async function web(method: 'GET' | 'POST', url: string, o: WebOpts = {}): Promise<WebRes> {
  const headers: Record<string, string> = { ...(o.headers ?? {}) };
  if (o.cookie) headers.cookie = `theme=dark; settle_session=${o.cookie}`;
  if (o.csrf) headers['x-csrf-token'] = o.csrf;
  if (o.idem) headers['idempotency-key'] = o.idem;
  let payload: string | undefined;
  if (method === 'POST') {
    payload = JSON.stringify(o.body ?? {});
    headers['content-type'] = 'application/json';
  }
  const res = await h.http.inject({ method, url, headers, remoteAddress: o.ip ?? '127.0.0.1', ...(payload !== undefined ? { payload } : {}) });
  const raw = res.headers['set-cookie'];
  const cookies = raw === undefined ? [] : Array.isArray(raw) ? raw : [String(raw)];
  let body: unknown = res.body;
  try {
    body = JSON.parse(res.body);
  } catch {
    /* not JSON */
  }
  return { status: res.statusCode, body, headers: res.headers, cookies };
}

function sessionCookieValue(res: WebRes): string {
  const c = res.cookies.find((s) => s.startsWith('settle_session='));
  if (!c) throw new Error(`no session cookie in ${JSON.stringify(res.cookies)}`);
  return (c.split(';')[0] as string).slice('settle_session='.length);
}

function cookieAttributes(res: WebRes): string[] {
  const c = res.cookies.find((s) => s.startsWith('settle_session=')) as string;
  return c.split(';').slice(1).map((s) => s.trim());
}

function expectError(r: { status: number; body: any }, status: number, code: string): void {
  expect(r.status, JSON.stringify(r.body)).toBe(status);
  expect(r.body).toMatchObject({ error: { type: expect.any(String), code, message: expect.any(String) } });
}

/** Stops time for the web-auth service (sessions, links, throttling) at `ms`; returns a setter. */
function freezeAuthClock(ms: number): (next: number) => void {
  let t = ms;
  h.app.webAuth.clock = { now: () => new Date(t) };
  return (next) => {
    t = next;
  };
}

let seq = 0;
/** A customer with a web login whose password is set through a link. */
async function customerWithLogin(password = 'correct horse battery'): Promise<{ id: string; key: string; email: string; password: string }> {
  const email = `portal-${++seq}-${randomUUID().slice(0, 8)}@example.com`;
  const c = await h.post('/v1/customers', { email, name: `Portal Customer ${seq}` });
  expect(c.status).toBe(200);
  const key = (await h.post('/v1/api-keys', { role: 'customer', customerId: c.body.id })).body.key;
  const link = await h.post('/v1/password-links', { email });
  expect(link.status, JSON.stringify(link.body)).toBe(200);
  const set = await web('POST', '/v1/auth/set-password', { body: { token: link.body.token, password } });
  expect(set.status, JSON.stringify(set.body)).toBe(200);
  return { id: c.body.id, key, email, password };
}

async function login(email: string, password: string, ip?: string): Promise<{ cookie: string; csrf: string; res: WebRes }> {
  const res = await web('POST', '/v1/auth/login', { body: { email, password }, ...(ip ? { ip } : {}) });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return { cookie: sessionCookieValue(res), csrf: res.body.csrfToken, res };
}

// Cheap hashes keep this file fast; the real parameters are checked on the demo logins below.
const TEST_SCRYPT = { ln: 10, r: 8, p: 1 };

beforeAll(async () => {
  h = await startHarness();
  h.app.webAuth.scrypt = TEST_SCRYPT;
});
afterAll(() => h?.close());
afterEach(() => {
  h.app.webAuth.clock = systemClock;
});

describe('password-set links', () => {
  it('an admin creates a link for a customer; it sets the password once, checks the rules and logs in', async () => {
    const email = `Link.User.${randomUUID().slice(0, 6)}@Example.com`;
    const customer = await h.post('/v1/customers', { email, name: 'Link User' });
    const link = await h.post('/v1/password-links', { email: email.toLowerCase() });
    expect(link.status, JSON.stringify(link.body)).toBe(200);
    expect(link.body).toMatchObject({ object: 'password_link', role: 'customer', email, userId: expect.stringMatching(/^usr_/) });
    expect(link.body.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(link.body.url).toBe(`http://localhost:80/set-password#token=${link.body.token}`);
    expect(Date.parse(link.body.expiresAt) - Date.now()).toBeGreaterThan(23.9 * HOUR);

    // Only an admin may create links; customers and providers get 403.
    const other = await h.customer();
    expectError(await h.post('/v1/password-links', { email }, { key: other.key }), 403, 'forbidden');
    // The token is not kept in the idempotency record.
    const idem = randomUUID();
    const first = await h.post('/v1/password-links', { email }, { idem });
    const replay = await h.post('/v1/password-links', { email }, { idem });
    expect(first.body.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(replay.body.token).toBeNull();
    expect(replay.headers['idempotent-replayed']).toBe('true');

    // A newer link replaced the first one.
    expectError(await web('POST', '/v1/auth/set-password', { body: { token: link.body.token, password: 'long enough password' } }), 400, 'password_link_invalid');
    const token = first.body.token;
    const short = await web('POST', '/v1/auth/set-password', { body: { token, password: 'too short' } });
    expectError(short, 400, 'password_too_short');
    expectError(await web('POST', '/v1/auth/set-password', { body: { token, password: email.toUpperCase() } }), 400, 'password_is_email');
    // A refused password does not use up the link.
    const set = await web('POST', '/v1/auth/set-password', { body: { token, password: 'a long enough password' } });
    expect(set.status, JSON.stringify(set.body)).toBe(200);
    expect(set.body.user).toMatchObject({ role: 'customer', customerId: customer.body.id, providerId: null, name: 'Link User', email });
    expect(sessionCookieValue(set)).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // Single use.
    expectError(await web('POST', '/v1/auth/set-password', { body: { token, password: 'another long password' } }), 400, 'password_link_used');
    expectError(await web('POST', '/v1/auth/set-password', { body: { token: 'x'.repeat(43), password: 'another long password' } }), 400, 'password_link_invalid');
    // The password works (e-mail in any case).
    await login(email.toUpperCase(), 'a long enough password');
  });

  it('a link expires after 24 hours', async () => {
    const email = `expiring-${randomUUID().slice(0, 8)}@example.com`;
    await h.post('/v1/providers', { email, name: 'Expiring Provider' });
    const start = Date.now();
    const setTime = freezeAuthClock(start);
    const link = await h.post('/v1/password-links', { email });
    expect(link.body.role).toBe('provider');
    setTime(start + 24 * HOUR);
    expectError(await web('POST', '/v1/auth/set-password', { body: { token: link.body.token, password: 'long enough password' } }), 400, 'password_link_expired');
    setTime(start + 24 * HOUR - 1000);
    const ok = await web('POST', '/v1/auth/set-password', { body: { token: link.body.token, password: 'long enough password' } });
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect(ok.body.user.role).toBe('provider');
  });

  it('a link for an unknown e-mail is a 404; an admin login is created with role "admin"', async () => {
    expectError(await h.post('/v1/password-links', { email: 'nobody-here@example.com' }), 404, 'resource_missing');
    expectError(await h.post('/v1/password-links', { email: 'not-an-email' }), 400, 'parameter_invalid');
    const email = `staff-${randomUUID().slice(0, 8)}@example.com`;
    const link = await h.post('/v1/password-links', { email, role: 'admin', name: 'Staff Member' });
    expect(link.status, JSON.stringify(link.body)).toBe(200);
    expect(link.body.role).toBe('admin');
    // The same e-mail cannot become another role.
    expectError(await h.post('/v1/password-links', { email, role: 'customer' }), 409, 'web_user_role_mismatch');
    const set = await web('POST', '/v1/auth/set-password', { body: { token: link.body.token, password: 'staff password 123' } });
    expect(set.body.user).toMatchObject({ role: 'admin', name: 'Staff Member', customerId: null, providerId: null });
  });
});

describe('login, session, logout and the cookie', () => {
  it('logs in with a HttpOnly, SameSite=Lax, Path=/ cookie, reads the session, logs out', async () => {
    const c = await customerWithLogin();
    const { cookie, csrf, res } = await login(c.email, c.password);
    expect(res.body).toEqual({
      user: { id: expect.stringMatching(/^usr_/), object: 'web_user', role: 'customer', customerId: c.id, providerId: null, name: expect.any(String), email: c.email },
      csrfToken: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      expiresAt: expect.any(String),
    });
    expect(res.body).not.toHaveProperty('token');
    expect(JSON.stringify(res.body)).not.toContain(cookie);
    expect(cookieAttributes(res)).toEqual(['Path=/', 'Max-Age=43200', 'HttpOnly', 'SameSite=Lax']); // no Secure on http://localhost
    expect(res.headers['cache-control']).toBe('no-store');

    const session = await web('GET', '/v1/auth/session', { cookie });
    expect(session.status).toBe(200);
    expect(session.body).toMatchObject({ user: { customerId: c.id, role: 'customer' }, csrfToken: csrf });
    expectError(await web('GET', '/v1/auth/session'), 401, 'unauthenticated');
    expectError(await web('GET', '/v1/auth/session', { cookie: 'forged-cookie-value' }), 401, 'unauthenticated');

    // Logging out needs the CSRF token while the session is valid.
    expectError(await web('POST', '/v1/auth/logout', { cookie }), 403, 'csrf_token_invalid');
    const out = await web('POST', '/v1/auth/logout', { cookie, csrf });
    expect(out.status).toBe(200);
    expect(out.body).toEqual({ loggedOut: true });
    expect(out.cookies[0]).toMatch(/^settle_session=; Path=\/; Max-Age=0; /);
    expectError(await web('GET', '/v1/auth/session', { cookie }), 401, 'unauthenticated');
    const after = await web('GET', `/v1/customers/${c.id}`, { cookie });
    expectError(after, 401, 'unauthenticated');
    expect(after.cookies[0]).toMatch(/Max-Age=0/); // the dead cookie is cleared
    // Logging out again (no session) is harmless.
    expect((await web('POST', '/v1/auth/logout', { cookie })).status).toBe(200);
  });

  it('the cookie is Secure unless the request is plain http to localhost', async () => {
    const c = await customerWithLogin();
    for (const host of ['127.0.0.1:4000', 'localhost:4000', '[::1]:4000']) {
      const r = await web('POST', '/v1/auth/login', { body: { email: c.email, password: c.password }, headers: { host } });
      expect(cookieAttributes(r), host).not.toContain('Secure');
    }
    for (const host of ['settle.example.com', '192.168.1.20:4000']) {
      const r = await web('POST', '/v1/auth/login', { body: { email: c.email, password: c.password }, headers: { host } });
      expect(cookieAttributes(r), host).toContain('Secure');
      expect(cookieAttributes(r)).toEqual(expect.arrayContaining(['HttpOnly', 'SameSite=Lax', 'Path=/']));
    }
  });

  it('wrong password, unknown e-mail and a login without a password give the same 401', async () => {
    const c = await customerWithLogin();
    const wrong = await web('POST', '/v1/auth/login', { body: { email: c.email, password: 'not the password' } });
    const unknown = await web('POST', '/v1/auth/login', { body: { email: `ghost-${randomUUID()}@example.com`, password: 'not the password' } });
    const noPasswordYet = `nopw-${randomUUID().slice(0, 8)}@example.com`;
    await h.post('/v1/customers', { email: noPasswordYet, name: 'No Password' });
    await h.post('/v1/password-links', { email: noPasswordYet });
    const unset = await web('POST', '/v1/auth/login', { body: { email: noPasswordYet, password: 'not the password' } });
    for (const r of [wrong, unknown, unset]) {
      expectError(r, 401, 'invalid_credentials');
      expect(r.cookies).toEqual([]);
    }
    expect(unknown.body).toEqual(wrong.body);
    expect(unset.body).toEqual(wrong.body);
    expectError(await web('POST', '/v1/auth/login', { body: { email: c.email } }), 400, 'parameter_missing');
  });

  it('the session slides: 12 h after the last use, at most 7 days after login', async () => {
    const c = await customerWithLogin();
    const t0 = Date.now();
    const setTime = freezeAuthClock(t0);
    const { cookie } = await login(c.email, c.password);
    setTime(t0 + 11 * HOUR);
    const used = await web('GET', `/v1/customers/${c.id}`, { cookie });
    expect(used.status).toBe(200);
    expect(used.cookies[0]).toMatch(/^settle_session=[^;]+; Path=\/; Max-Age=43200; HttpOnly; SameSite=Lax$/); // sent again
    setTime(t0 + 22 * HOUR); // 11 h after the last use
    expect((await web('GET', '/v1/auth/session', { cookie })).status).toBe(200);
    setTime(t0 + 34 * HOUR + 1000); // 12 h and a second after the last use
    expectError(await web('GET', `/v1/customers/${c.id}`, { cookie }), 401, 'unauthenticated');

    const second = await login(c.email, c.password);
    for (let hours = 11; hours < 7 * 24; hours += 11) {
      setTime(t0 + 34 * HOUR + hours * HOUR);
      expect((await web('GET', '/v1/auth/session', { cookie: second.cookie })).status, `after ${hours} h`).toBe(200);
    }
    setTime(t0 + 34 * HOUR + 1000 + 7 * 24 * HOUR);
    expectError(await web('GET', '/v1/auth/session', { cookie: second.cookie }), 401, 'unauthenticated');
  });
});

describe('acting with the session cookie', () => {
  let A: { id: string; key: string; email: string; password: string };
  let B: { id: string; key: string; email: string; password: string };
  let provider: { id: string; key: string };
  let orderA: any;
  let orderB: any;

  beforeAll(async () => {
    A = await customerWithLogin();
    B = await customerWithLogin();
    await h.post(`/v1/customers/${A.id}/top-ups`, { amount: 5_000, currency: 'USD', paymentMethod: 'pm_card_visa' });
    provider = await h.provider();
    const order = (customerId: string) =>
      h.post('/v1/orders', {
        process: 'direct',
        customerId,
        providerId: provider.id,
        currency: 'USD',
        lines: [{ description: 'Photo shoot', quantity: 1, unitAmount: 1_000 }],
      });
    orderA = (await order(A.id)).body;
    orderB = (await order(B.id)).body;
    expect(orderA.id).toMatch(/^ord_/);
    expect(orderB.id).toMatch(/^ord_/);
  });

  it('a customer session sees only its own customer and orders; others are 404', async () => {
    const { cookie } = await login(A.email, A.password);
    const me = await web('GET', `/v1/customers/${A.id}`, { cookie });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ id: A.id, balances: { USD: 5_000 } });
    expectError(await web('GET', `/v1/customers/${B.id}`, { cookie }), 404, 'resource_missing');
    expectError(await web('GET', `/v1/customers/${B.id}/transactions`, { cookie }), 404, 'resource_missing');
    expect((await web('GET', `/v1/orders/${orderA.id}`, { cookie })).status).toBe(200);
    expectError(await web('GET', `/v1/orders/${orderB.id}`, { cookie }), 404, 'resource_missing');
    const list = await web('GET', '/v1/orders', { cookie });
    expect(list.status, JSON.stringify(list.body)).toBe(200);
    expect(list.body.data.map((o: any) => o.id)).toEqual([orderA.id]);
    // Admin-only things stay admin-only.
    expectError(await web('GET', '/v1/customers', { cookie }), 403, 'forbidden');
  });

  it('cookie writes need X-CSRF-Token; a refused one changes nothing; Bearer keys need none', async () => {
    const { cookie, csrf } = await login(A.email, A.password);
    const before = await h.balance(A.id);
    const topUp = { amount: 700, currency: 'USD', paymentMethod: 'pm_card_visa' };
    expectError(await web('POST', `/v1/customers/${A.id}/top-ups`, { cookie, body: topUp }), 403, 'csrf_token_invalid');
    expectError(await web('POST', `/v1/customers/${A.id}/top-ups`, { cookie, csrf: 'x'.repeat(43), body: topUp }), 403, 'csrf_token_invalid');
    const other = await login(B.email, B.password);
    expectError(await web('POST', `/v1/customers/${A.id}/top-ups`, { cookie, csrf: other.csrf, body: topUp }), 403, 'csrf_token_invalid');
    expect(await h.balance(A.id)).toBe(before);

    const ok = await web('POST', `/v1/customers/${A.id}/top-ups`, { cookie, csrf, body: topUp });
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect(await h.balance(A.id)).toBe(before + 700);
    // Not someone else's account, even with a valid token.
    expectError(await web('POST', `/v1/customers/${B.id}/top-ups`, { cookie, csrf, body: topUp }), 404, 'resource_missing');

    // API keys are unaffected by CSRF, also when a cookie is sent along.
    const byKey = await h.post(`/v1/customers/${A.id}/top-ups`, topUp, { key: A.key, headers: { cookie: `settle_session=${cookie}` } });
    expect(byKey.status).toBe(200);
    // A malformed Authorization header is not rescued by the cookie.
    const res = await h.http.inject({ method: 'GET', url: `/v1/customers/${A.id}`, headers: { authorization: 'Basic abc', cookie: `settle_session=${cookie}` } });
    expect(res.statusCode).toBe(401);
  });

  it('Idempotency-Keys are scoped per web user', async () => {
    const a = await login(A.email, A.password);
    const b = await login(B.email, B.password);
    const idem = `topup-${randomUUID()}`;
    const before = await h.balance(A.id);
    const first = await web('POST', `/v1/customers/${A.id}/top-ups`, { cookie: a.cookie, csrf: a.csrf, idem, body: { amount: 300, currency: 'USD', paymentMethod: 'pm_card_visa' } });
    expect(first.status).toBe(200);
    // The same user in another session (another tab or device) replays the first answer.
    const again = await login(A.email, A.password);
    const replay = await web('POST', `/v1/customers/${A.id}/top-ups`, { cookie: again.cookie, csrf: again.csrf, idem, body: { amount: 300, currency: 'USD', paymentMethod: 'pm_card_visa' } });
    expect(replay.status).toBe(200);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body.id).toBe(first.body.id);
    expect(await h.balance(A.id)).toBe(before + 300);
    // Another user's same key is a different request.
    const hisOwn = await web('POST', `/v1/customers/${B.id}/top-ups`, { cookie: b.cookie, csrf: b.csrf, idem, body: { amount: 300, currency: 'USD', paymentMethod: 'pm_card_visa' } });
    expect(hisOwn.status).toBe(200);
    expect(hisOwn.body.id).not.toBe(first.body.id);
  });

  it('a provider session acts as the provider; an admin session as an admin (with CSRF)', async () => {
    const pEmail = (await h.get(`/v1/providers/${provider.id}`)).body.email;
    const link = await h.post('/v1/password-links', { email: pEmail });
    const set = await web('POST', '/v1/auth/set-password', { body: { token: link.body.token, password: 'provider password' } });
    expect(set.body.user).toMatchObject({ role: 'provider', providerId: provider.id, customerId: null });
    const p = await login(pEmail, 'provider password');
    expect((await web('GET', `/v1/orders/${orderA.id}`, { cookie: p.cookie })).status).toBe(200);
    expectError(await web('GET', `/v1/customers/${A.id}`, { cookie: p.cookie }), 403, 'forbidden');

    const adminEmail = `boss-${randomUUID().slice(0, 8)}@example.com`;
    const adminLink = await h.post('/v1/password-links', { email: adminEmail, role: 'admin' });
    await web('POST', '/v1/auth/set-password', { body: { token: adminLink.body.token, password: 'admin password!' } });
    const admin = await login(adminEmail, 'admin password!');
    const created = await web('POST', '/v1/customers', { cookie: admin.cookie, csrf: admin.csrf, body: { email: `made-by-admin-${randomUUID()}@example.com`, name: 'Made In Browser' } });
    expect(created.status, JSON.stringify(created.body)).toBe(200);
    // The admin can mint links from the browser too.
    const viaBrowser = await web('POST', '/v1/password-links', { cookie: admin.cookie, csrf: admin.csrf, body: { email: created.body.email } });
    expect(viaBrowser.status).toBe(200);
    expect(viaBrowser.body.url).toContain('/set-password#token=');
  });

  it('a hash made with other scrypt parameters is replaced at the next login', async () => {
    const c = await customerWithLogin();
    const stored = () =>
      h.app.services.store.db.selectFrom('web_users').select('password_hash').where('customer_id', '=', c.id).executeTakeFirstOrThrow();
    expect((await stored()).password_hash).toMatch(/^scrypt\$ln=10,r=8,p=1\$/);
    h.app.webAuth.scrypt = DEFAULT_SCRYPT;
    try {
      await login(c.email, c.password);
      expect((await stored()).password_hash).toMatch(/^scrypt\$ln=15,r=8,p=1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
      await login(c.email, c.password);
    } finally {
      h.app.webAuth.scrypt = TEST_SCRYPT;
    }
  });

  it('setting a new password ends the user’s other sessions', async () => {
    const c = await customerWithLogin();
    const s = await login(c.email, c.password);
    const link = await h.post('/v1/password-links', { email: c.email });
    const set = await web('POST', '/v1/auth/set-password', { body: { token: link.body.token, password: 'brand new password' } });
    expect(set.status).toBe(200);
    expectError(await web('GET', '/v1/auth/session', { cookie: s.cookie }), 401, 'unauthenticated');
    expect((await web('GET', '/v1/auth/session', { cookie: sessionCookieValue(set) })).status).toBe(200);
    expectError(await web('POST', '/v1/auth/login', { body: { email: c.email, password: c.password } }), 401, 'invalid_credentials');
    await login(c.email, 'brand new password');
  });
});

describe('login throttling', () => {
  it('after 5 failures for an e-mail within 15 minutes: 429 with Retry-After, even with the right password; allowed again after the window', async () => {
    const c = await customerWithLogin();
    const ip = '198.51.100.7';
    const t0 = Date.now();
    const setTime = freezeAuthClock(t0);
    for (let i = 0; i < 5; i++) {
      setTime(t0 + i * MIN);
      expectError(await web('POST', '/v1/auth/login', { body: { email: c.email, password: `wrong ${i}` }, ip }), 401, 'invalid_credentials');
    }
    setTime(t0 + 5 * MIN);
    const blocked = await web('POST', '/v1/auth/login', { body: { email: c.email, password: c.password }, ip });
    expectError(blocked, 429, 'too_many_login_attempts');
    expect(blocked.headers['retry-after']).toBe(String(10 * 60)); // the first failure leaves the window at t0 + 15 min
    expect(blocked.body.error.retryAfter).toBe(600);
    expect(blocked.cookies).toEqual([]);
    // Still blocked (for the e-mail, from any IP) (and not extended by blocked tries) a second before the first failure leaves.
    setTime(t0 + 15 * MIN - 1000);
    const stillBlocked = await web('POST', '/v1/auth/login', { body: { email: c.email, password: c.password }, ip: '203.0.113.99' });
    expectError(stillBlocked, 429, 'too_many_login_attempts');
    expect(stillBlocked.headers['retry-after']).toBe('1');
    setTime(t0 + 15 * MIN + 1000);
    const ok = await login(c.email, c.password, ip);
    expect(ok.res.body.user.customerId).toBe(c.id);
    // A success clears the e-mail's count.
    setTime(t0 + 16 * MIN);
    for (let i = 0; i < 4; i++) expectError(await web('POST', '/v1/auth/login', { body: { email: c.email, password: 'wrong' }, ip }), 401, 'invalid_credentials');
    await login(c.email, c.password, ip);
  });

  it('after 20 failures from one IP within 15 minutes: 429 for any e-mail from it; other IPs are fine', async () => {
    const c = await customerWithLogin();
    const ip = '198.51.100.20';
    const t0 = Date.now();
    const setTime = freezeAuthClock(t0);
    for (let i = 0; i < 20; i++) {
      expectError(await web('POST', '/v1/auth/login', { body: { email: `spray-${i}-${randomUUID()}@example.com`, password: 'password123' }, ip }), 401, 'invalid_credentials');
    }
    const blocked = await web('POST', '/v1/auth/login', { body: { email: c.email, password: c.password }, ip });
    expectError(blocked, 429, 'too_many_login_attempts');
    expect(Number(blocked.headers['retry-after'])).toBe(15 * 60);
    await login(c.email, c.password, '198.51.100.21');
    setTime(t0 + 15 * MIN + 1000);
    await login(c.email, c.password, ip);
  });

  it('parallel guesses cannot get past the limit', async () => {
    const c = await customerWithLogin();
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) => web('POST', '/v1/auth/login', { body: { email: c.email, password: `parallel guess ${i}` }, ip: `192.0.2.${i + 1}` })),
    );
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 401)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(7);
  });

  it('a burst of logins for one e-mail holds one connection at a time while other requests go on (login-gate.ts)', async () => {
    const c = await customerWithLogin();
    const gate = h.app.webAuth.gate;
    expect(gate.limit).toBe(Math.max(1, Math.floor(h.app.services.store.connections / 2)));
    // Counted here, not by the gate: logins inside their throttle transaction at once.
    let inside = 0;
    let mostActive = 0;
    const run = gate.run.bind(gate);
    const spy = vi.spyOn(gate, 'run').mockImplementation((keys, fn) =>
      run(keys, async () => {
        mostActive = Math.max(mostActive, ++inside);
        try {
          return await fn();
        } finally {
          inside--;
        }
      }),
    );
    const logins = Promise.all(
      Array.from({ length: 30 }, (_, i) => web('POST', '/v1/auth/login', { body: { email: c.email, password: `burst guess ${i}` }, ip: `203.0.113.${i + 1}` })),
    );
    const reads = Promise.all(Array.from({ length: 5 }, () => h.get(`/v1/customers/${c.id}`)));
    const [results, customers] = await Promise.all([logins, reads]).finally(() => spy.mockRestore());
    expect(customers.every((x) => x.status === 200 && x.body.id === c.id)).toBe(true);
    // One e-mail: one login inside at a time (the others wait in its line, with no connection).
    expect(mostActive).toBe(1);
    expect(gate.load).toEqual({ active: 0, waiting: 0, inGate: 0, lines: 0 });
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 401)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(25);
  });
});

describe('sandbox demo logins', () => {
  let d: Harness;
  beforeAll(async () => {
    d = await startHarness();
  });
  afterAll(() => d?.close());

  it('creates web logins for the demo customers, providers and admin@example.com, with links, and the banner prints them', async () => {
    const demo = await ensureDemo(d.app, undefined);
    expect(demo.seeded).toBe(true);
    expect(demo.webLogins.map((l) => [l.role, l.email])).toEqual([
      ['admin', 'admin@example.com'],
      ['customer', 'ada@example.com'],
      ['customer', 'grace@example.com'],
      ['customer', 'alan@example.com'],
      ['provider', 'lumen@example.com'],
      ['provider', 'mia@example.com'],
    ]);
    for (const l of demo.webLogins) {
      expect(l.password).toBe('settle-demo-password');
      expect(l.setPasswordPath).toMatch(/^\/set-password#token=[A-Za-z0-9_-]{43}$/);
    }
    // Real parameters, one salt per user, no plain text anywhere.
    const hashes = await d.app.services.store.db.selectFrom('web_users').select('password_hash').execute();
    expect(hashes).toHaveLength(6);
    for (const row of hashes) expect(row.password_hash).toMatch(/^scrypt\$ln=15,r=8,p=1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(new Set(hashes.map((r) => r.password_hash?.split('$')[2])).size).toBe(6);
    expect(JSON.stringify(hashes)).not.toContain('settle-demo-password');
    const inject = (url: string, body: unknown, headers: Record<string, string> = {}) =>
      d.http.inject({ method: 'POST', url, payload: JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers } });
    const ada = await inject('/v1/auth/login', { email: 'ada@example.com', password: 'settle-demo-password' });
    expect(ada.statusCode, ada.body).toBe(200);
    const adaId = demo.logins.find((l) => l.name === 'Ada Lovelace')?.id;
    expect(JSON.parse(ada.body).user).toMatchObject({ role: 'customer', name: 'Ada Lovelace', customerId: adaId });
    const admin = await inject('/v1/auth/login', { email: 'admin@example.com', password: 'settle-demo-password' });
    expect(JSON.parse(admin.body).user).toMatchObject({ role: 'admin', email: 'admin@example.com' });

    // Grace uses her link to choose her own password.
    const grace = demo.webLogins.find((l) => l.email === 'grace@example.com')!;
    const token = grace.setPasswordPath.split('#token=')[1];
    expect((await inject('/v1/auth/set-password', { token, password: 'grace chose this' })).statusCode).toBe(200);

    // The next start prints fresh links (the old ones stop working) and keeps Grace's password.
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      const restart = await ensureDemo(d.app, undefined);
      expect(restart.seeded).toBe(false);
      const oldMia = demo.webLogins.find((l) => l.email === 'mia@example.com')!.setPasswordPath.split('#token=')[1];
      expect(JSON.parse((await inject('/v1/auth/set-password', { token: oldMia, password: 'mia new password' })).body).error.code).toBe('password_link_invalid');
      expect((await inject('/v1/auth/login', { email: 'grace@example.com', password: 'grace chose this' })).statusCode).toBe(200);
      expect((await inject('/v1/auth/login', { email: 'grace@example.com', password: 'settle-demo-password' })).statusCode).toBe(401);

      const url = 'http://127.0.0.1:4000';
      printBanner({ url, demo: restart } as unknown as RunningServer, { mode: 'sandbox', dataDir: './.settle' } as ServerConfig, 5);
      const printed = log.mock.calls.map((c) => String(c[0])).join('\n');
      expect(printed).toContain('settle-demo-password');
      for (const l of restart.webLogins) {
        expect(printed).toContain(l.email);
        expect(printed).toContain(`${url}${l.setPasswordPath}`);
      }
    } finally {
      log.mockRestore();
    }
  });
});
