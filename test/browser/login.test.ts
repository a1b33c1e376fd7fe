// Signing in: the first page lists the demo logins (sandbox), a wrong password is refused
// without losing what was typed, each role lands on its own pages, a customer cannot open
// another customer's receipt, staff can sign in with an admin API key, and sign-out works.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, customerWithLogin, expectFeedback, login, newPage, ok, pageErrors, providerWithLogin, screenshot, startWeb, type Web } from './harness.js';

let web: Web;
beforeAll(async () => {
  web = await startWeb();
});
afterAll(() => web?.close());

describe('login and authorisation', () => {
  it('the first page lists the demo logins; a wrong password keeps the e-mail; the right one opens the portal', async () => {
    const { page, context } = await newPage(web);
    await page.goto('/');
    await page.getByRole('heading', { name: 'Sign in to Settle' }).waitFor();
    const demo = page.getByRole('region', { name: 'Demo logins' });
    for (const email of ['admin@example.com', 'ada@example.com', 'grace@example.com', 'lumen@example.com']) await expect(demo.getByText(email)).toBeTruthy();
    await expect(demo.getByRole('cell', { name: 'ada@example.com' }).count()).resolves.toBe(1);
    await expect(page.getByText('settle-demo-password').count()).resolves.toBe(1);
    await screenshot(page, 'login');

    // Bad input: empty form, then a wrong password. The e-mail stays as typed.
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('alert').getByText('Enter your e-mail and password.').waitFor();
    await page.getByLabel('E-mail', { exact: true }).fill('ada@example.com');
    await page.getByLabel('Password', { exact: true }).fill('not the password');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/e-mail or password/i);
    expect(await page.getByLabel('E-mail', { exact: true }).inputValue()).toBe('ada@example.com');

    // "Use Ada" fills in the demo password.
    await page.getByRole('button', { name: 'Use Ada' }).click();
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.waitForURL('**/portal');
    await page.getByRole('heading', { name: 'Transactions and receipts' }).waitFor();
    await expectFeedback(page, 'Signed in as Ada Lovelace.');
    // Seeded: Ada's top-up and the partly refunded chat are in her transactions.
    await page.getByRole('region', { name: 'Transactions' }).getByText('Private chat, 15 minutes').first().waitFor();

    // Customer pages only: the admin backend is not part of a customer's account.
    await page.goto('/admin/orders');
    await page.getByRole('heading', { name: 'Page not found' }).waitFor();
    const res = await page.request.get('/v1/customers');
    expect(res.status()).toBe(403);

    // Sign out, and the session is gone.
    await page.goto('/portal');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL('**/login');
    expect((await page.request.get('/v1/auth/session')).status()).toBe(401);
    await page.goto('/portal');
    await page.waitForURL('**/login?next=%2Fportal');
    expect(pageErrors(page)).toEqual([]);
    await context.close();
  });

  it("a customer cannot open another customer's receipt", async () => {
    const rita = await customerWithLogin(web, { name: 'Rita Realtor', email: 'rita@example.com', credit: 50_000 });
    const sam = await customerWithLogin(web, { name: 'Sam Seller', email: 'sam@example.com', credit: 10_000 });
    const provider = await ok(web.api.post('/v1/providers', { name: 'Snap Photo', email: 'snap@example.com' }));
    const order = await ok(
      web.api.post('/v1/orders', { process: 'direct', customerId: rita.id, providerId: provider.id, currency: 'USD', lines: [{ description: 'Photography', quantity: 1, unitAmount: 20_000 }] }),
    );
    const { page, context } = await newPage(web);
    await login(page, sam.email, sam.password);
    await page.goto(`/portal/receipts/${order.id}`);
    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toContain("No such order");
    await expect(page.getByText('Photography').count()).resolves.toBe(0);
    await context.close();

    // Rita sees it, and pays it there.
    const own = await newPage(web);
    await login(own.page, rita.email, rita.password);
    await own.page.goto(`/portal/receipts/${order.id}`);
    await own.page.getByRole('heading', { name: `Receipt ${order.number}` }).waitFor();
    await own.page.getByRole('button', { name: 'Pay $200.00' }).click();
    await expectFeedback(own.page, 'Paid $200.00. Thank you!');
    await own.page.getByText('Paid (Account credit)').waitFor();
    await own.context.close();
  });

  it('staff sign in with an admin API key; a customer key or a bad key is refused', async () => {
    await providerWithLogin(web, { name: 'Key Test Provider', email: 'kp@example.com' });
    const { page, context } = await newPage(web);
    await page.goto('/login');
    await page.getByRole('textbox', { name: 'API key' }).fill('sk_test_nope');
    await page.getByRole('button', { name: 'Sign in with key' }).click();
    await page.getByRole('alert').getByText('That API key is not valid (or was revoked).').waitFor();
    expect(await page.getByRole('textbox', { name: 'API key' }).inputValue()).toBe('sk_test_nope');
    await page.getByRole('textbox', { name: 'API key' }).fill(ADMIN_KEY);
    await page.getByRole('button', { name: 'Sign in with key' }).click();
    await page.waitForURL('**/admin/orders');
    await page.getByRole('heading', { name: 'Orders', exact: true }).waitFor();
    await context.close();
  });

  it('staff sign in with e-mail and password; the provider lands on their orders', async () => {
    const admin = await newPage(web);
    await login(admin.page, 'admin@example.com');
    await admin.page.waitForURL('**/admin/orders');
    await admin.context.close();
    const provider = await newPage(web);
    await login(provider.page, 'lumen@example.com');
    await provider.page.waitForURL('**/provider');
    await provider.page.getByRole('heading', { name: 'Awaiting your confirmation' }).waitFor();
    await provider.context.close();
  });

  it('the password-set page checks the password before sending it, and then signs in', async () => {
    await ok(web.api.post('/v1/customers', { name: 'Lina Link', email: 'lina@example.com' }));
    const link = await ok(web.api.post('/v1/password-links', { email: 'lina@example.com', role: 'customer' }));
    const { page, context } = await newPage(web);
    await page.goto(new URL(link.url).pathname + new URL(link.url).hash);
    await page.getByLabel('New password').fill('short');
    await page.getByLabel('Repeat the password').fill('short');
    await page.getByRole('button', { name: 'Set password' }).click();
    await page.getByText('Use at least 10 characters.').waitFor();
    await page.getByLabel('New password').fill('a long enough secret');
    await page.getByLabel('Repeat the password').fill('a long enough secret');
    await page.getByRole('button', { name: 'Set password' }).click();
    await page.waitForURL('**/portal');
    await page.getByText('Signed in as Lina Link').waitFor();
    await context.close();
  });
});
