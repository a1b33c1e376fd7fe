// Browser tests: a real Settle server (fresh in-memory database, demo business seeded) on a
// free port, Debian's Chromium driven by playwright-core, an admin API client to set the
// scene, and screenshots for the README written to docs/screenshots/.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { tmpdir } from 'node:os';
import { expect, onTestFailed } from 'vitest';
import { Client, ROOT, startServerProcess, type ServerProcess } from '../helpers/process.js';

export const CHROMIUM = '/usr/bin/chromium';
export const DEMO_PASSWORD = 'settle-demo-password';
export const ADMIN_KEY = 'sk_test_browser_admin_key_0123456789';
const SHOTS = path.join(ROOT, 'docs', 'screenshots');
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-quic',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
];

export interface Web {
  server: ServerProcess;
  url: string;
  api: Client;
  browser: Browser;
  close(): Promise<void>;
}

/** Starts the server (demo business seeded) and the browser. */
export async function startWeb(env: Record<string, string> = {}): Promise<Web> {
  const server = await startServerProcess({ databaseUrl: 'memory://', adminKey: ADMIN_KEY, env: { SETTLE_SEED_DEMO: '1', ...env }, startTimeoutMs: 120_000 });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS, headless: true });
  const api = new Client(server.url, ADMIN_KEY);
  return {
    server,
    url: server.url,
    api,
    browser,
    async close() {
      await browser.close().catch(() => undefined);
      api.close();
      await server.stop();
    },
  };
}

/** A fresh browser context (its own cookies): en-US, UTC, desktop or phone width. */
export async function newPage(web: Web, opts: { phone?: boolean } = {}): Promise<{ context: BrowserContext; page: Page }> {
  const context = await web.browser.newContext({
    baseURL: web.url,
    locale: 'en-US',
    timezoneId: 'America/Los_Angeles', // the browser's zone must not matter: pages show the business zone
    viewport: opts.phone ? { width: 390, height: 844 } : { width: 1280, height: 900 },
    ...(opts.phone ? { isMobile: true, hasTouch: true, deviceScaleFactor: 2 } : {}),
  });
  context.setDefaultTimeout(30_000);
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(e.message));
  // A failing test leaves a picture of where it stopped.
  onTestFailed(async ({ task }) => {
    const file = path.join(tmpdir(), 'settle-browser-failures', `${task.name.replace(/[^a-z0-9]+/gi, '-').slice(0, 80)}-${Date.now()}.png`);
    mkdirSync(path.dirname(file), { recursive: true });
    await page.screenshot({ path: file, fullPage: true }).then(
      () => console.error(`screenshot of the failure: ${file}`),
      () => undefined,
    );
  });
  (page as Page & { problems?: string[] }).problems = problems;
  return { context, page };
}

export function pageErrors(page: Page): string[] {
  return (page as Page & { problems?: string[] }).problems ?? [];
}

/** Signs in through the login form and waits for the start page of that role. */
export async function login(page: Page, email: string, password = DEMO_PASSWORD): Promise<void> {
  await page.goto('/login');
  await page.getByLabel('E-mail', { exact: true }).fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.waitForURL((u) => !u.pathname.startsWith('/login'));
}

/** A picture for the README; `dialog`: just the viewport, so the backdrop covers it all. */
export async function screenshot(page: Page, name: string, opts: { dialog?: boolean } = {}): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  await page.evaluate(() => document.fonts?.ready);
  // The feedback toasts come and go: leave them out of the pictures.
  // (Through the CSSOM: the pages' Content-Security-Policy refuses injected <style>.)
  const toasts = (show: boolean) => page.evaluate((on) => document.querySelectorAll<HTMLElement>('.toasts').forEach((el) => (el.style.display = on ? '' : 'none')), show);
  await toasts(false);
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: !opts.dialog, animations: 'disabled' });
  await toasts(true);
}

/** The feedback region (every action's outcome) says `text`. */
export async function expectFeedback(page: Page, text: string | RegExp): Promise<void> {
  await page.getByTestId('feedback').getByText(text).first().waitFor();
}

export async function ok<T = any>(p: Promise<{ status: number; body: T }>): Promise<T> {
  const r = await p;
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body;
}

/** A customer with account credit and a web login (password set through a password-set link). */
export async function customerWithLogin(web: Web, opts: { name: string; email: string; credit?: number; password?: string }) {
  const customer = await ok(web.api.post('/v1/customers', { name: opts.name, email: opts.email }));
  if (opts.credit) await ok(web.api.post(`/v1/customers/${customer.id}/top-ups`, { amount: opts.credit, currency: 'USD', paymentMethod: 'pm_card_visa' }));
  const password = opts.password ?? 'correct horse battery';
  await setPassword(web, opts.email, 'customer', password);
  return { ...customer, password };
}

export async function providerWithLogin(web: Web, opts: { name: string; email: string; password?: string }) {
  const provider = await ok(web.api.post('/v1/providers', { name: opts.name, email: opts.email }));
  const password = opts.password ?? 'correct horse battery';
  await setPassword(web, opts.email, 'provider', password);
  return { ...provider, password };
}

async function setPassword(web: Web, email: string, role: string, password: string): Promise<void> {
  const link = await ok(web.api.post('/v1/password-links', { email, role }));
  const res = await fetch(`${web.url}/v1/auth/set-password`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: link.token, password }) });
  expect(res.status).toBe(200);
}

/** Sets or moves the sandbox test clock (it then stands still). */
export async function clockTo(web: Web, iso: string): Promise<void> {
  await ok(web.api.post('/v1/test/clock', { to: iso }));
}

export async function clockAdvance(web: Web, seconds: number): Promise<string> {
  return (await ok(web.api.post('/v1/test/clock', { advanceSeconds: seconds }))).now;
}

export const HOUR = 3600;
export const DAY = 24 * HOUR;
export const isoIn = (base: string, seconds: number) => new Date(Date.parse(base) + seconds * 1000).toISOString();
