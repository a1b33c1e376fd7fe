// The admin orders list (filters and search), the provider's cancel-with-a-reason, keyboard
// use with visible focus, and pages that fit a phone-width screen.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { customerWithLogin, DAY, expectFeedback, HOUR, isoIn, login, newPage, ok, pageErrors, providerWithLogin, screenshot, startWeb, type Web } from './harness.js';

let web: Web;
beforeAll(async () => {
  web = await startWeb();
});
afterAll(() => web?.close());

async function noSidewaysScroll(page: Page): Promise<void> {
  // Against the screen's width (on a phone the layout viewport grows with the content).
  const width = page.viewportSize()?.width ?? 0;
  const scroll = await page.evaluate(() => document.documentElement.scrollWidth);
  expect(scroll, 'the page must not scroll sideways').toBeLessThanOrEqual(width);
}

describe('admin orders, provider cancellation, keyboard and phone', () => {
  it('staff filter and search the orders list', async () => {
    const rita = await customerWithLogin(web, { name: 'Rita Realtor', email: 'rita@example.com', credit: 100_000 });
    const bo = await customerWithLogin(web, { name: 'Bo Booker', email: 'bo@example.com', credit: 100_000 });
    const lens = await providerWithLogin(web, { name: 'Lens Lab', email: 'lenslab@example.com' });
    const site = await ok(web.api.post('/v1/sites', { address: '221B Baker Street', customerId: rita.id }));
    const now = new Date().toISOString();
    const direct = await ok(web.api.post('/v1/orders', { process: 'direct', customerId: rita.id, providerId: lens.id, currency: 'USD', siteId: site.id, lines: [{ description: 'Photos', quantity: 1, unitAmount: 30_000 }] }));
    const booking = await ok(
      web.api.post('/v1/orders', { process: 'booking', customerId: bo.id, providerId: lens.id, currency: 'EUR', lines: [{ description: 'Portrait session', quantity: 1, unitAmount: 8_000, startsAt: isoIn(now, 5 * DAY), endsAt: isoIn(now, 5 * DAY + HOUR) }] }),
    );
    const { page, context } = await newPage(web);
    await login(page, 'admin@example.com');
    const table = page.getByRole('region', { name: 'Orders', exact: true });
    await table.getByRole('link', { name: direct.number }).waitFor();
    await table.getByRole('link', { name: booking.number }).waitFor();
    // Amounts in each order's own currency.
    await table.getByText('€80.00').waitFor();

    await page.getByLabel('Search').fill('rita');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.waitForURL('**/admin/orders?q=rita');
    await table.getByRole('link', { name: direct.number }).waitFor();
    await expect.poll(() => table.getByRole('link', { name: booking.number }).count()).toBe(0);

    await page.getByRole('button', { name: 'Clear' }).click();
    await page.getByLabel('Process').selectOption('booking');
    await page.getByLabel('Provider').selectOption({ label: 'Lens Lab' });
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await table.getByRole('link', { name: booking.number }).waitFor();
    await expect.poll(() => table.getByRole('link', { name: direct.number }).count()).toBe(0);

    await page.getByRole('button', { name: 'Clear' }).click();
    await page.getByLabel('Site').selectOption({ label: '221B Baker Street' });
    await page.getByLabel('State').selectOption('payment');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await table.getByRole('link', { name: direct.number }).waitFor();
    await expect.poll(() => table.locator('tbody tr').count()).toBe(1);
    await screenshot(page, 'admin-orders');

    // A search that finds nothing says so; the filters stay as chosen.
    await page.getByLabel('Search').fill('nobody-at-all');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.getByText('No orders match these filters.').waitFor();
    expect(await page.getByLabel('State').inputValue()).toBe('payment');
    expect(pageErrors(page)).toEqual([]);
    await context.close();
  });

  it('the provider cancels an order only with a reason', async () => {
    const pia = await providerWithLogin(web, { name: 'Pia Painter', email: 'pia@example.com' });
    const cust = await customerWithLogin(web, { name: 'Carl Canvas', email: 'carl@example.com' });
    const now = new Date().toISOString();
    const order = await ok(
      web.api.post('/v1/orders', { process: 'booking', customerId: cust.id, providerId: pia.id, currency: 'USD', onBehalfOf: 'customer', lines: [{ description: 'Wall mural', quantity: 1, unitAmount: 50_000, startsAt: isoIn(now, 4 * DAY), endsAt: isoIn(now, 4 * DAY + 3 * HOUR) }] }),
    );
    const { page, context } = await newPage(web);
    await login(page, pia.email, pia.password);
    await page.getByRole('link', { name: order.number }).click();
    await page.getByRole('button', { name: 'Cancel order' }).click();
    const dialog = page.getByRole('dialog', { name: `Cancel order ${order.number}` });
    await dialog.getByText('Nothing was paid for this order yet.').waitFor();
    await dialog.getByRole('button', { name: 'Confirm cancellation' }).click();
    await dialog.getByText('Give the customer a reason for cancelling.').waitFor();
    await dialog.getByLabel('Reason (required)').fill('Fully booked that week, sorry');
    await dialog.getByRole('button', { name: 'Confirm cancellation' }).click();
    await expectFeedback(page, `Order ${order.number} cancelled. No refund.`);
    await page.getByText('Cancelled', { exact: true }).first().waitFor();
    const events = (await ok(web.api.get(`/v1/orders/${order.id}`))).events;
    expect(events.at(-1)).toMatchObject({ transition: 'cancel', reason: 'Fully booked that week, sorry' });
    await context.close();
  });

  it('staff add a customer (a bad e-mail is caught), refund part of an order; the customer declines a proposal', async () => {
    const { page, context } = await newPage(web);
    await login(page, 'admin@example.com');
    await page.goto('/admin/customers');
    const form = page.getByRole('region', { name: 'New customer' });
    await form.getByLabel('Name').fill('Nora New');
    await form.getByLabel('E-mail').fill('nora-at-example');
    await form.getByRole('button', { name: 'Add customer' }).click();
    await form.getByText('Enter an e-mail address such as name@example.com.').waitFor();
    expect(await form.getByLabel('Name').inputValue()).toBe('Nora New');
    await form.getByLabel('E-mail').fill('nora@example.com');
    await form.getByRole('button', { name: 'Add customer' }).click();
    await expectFeedback(page, 'Nora New added.');
    await page.getByRole('link', { name: 'Nora New' }).waitFor();
    // The same e-mail again: the server refuses, and says so.
    await form.getByLabel('Name').fill('Nora Again');
    await form.getByLabel('E-mail').fill('nora@example.com');
    await form.getByRole('button', { name: 'Add customer' }).click();
    await form.getByRole('alert').getByText('(email_taken)').waitFor();

    // A booking being performed: staff refund part of it (more than it holds is caught first).
    const nora = (await ok(web.api.get('/v1/customers?email=nora@example.com'))).data[0];
    await ok(web.api.post(`/v1/customers/${nora.id}/top-ups`, { amount: 20_000, currency: 'USD', paymentMethod: 'pm_card_visa' }));
    const pro = await providerWithLogin(web, { name: 'Dee Decorator', email: 'dee@example.com' });
    const now = new Date().toISOString();
    const order = await ok(
      web.api.post('/v1/orders', { process: 'booking', customerId: nora.id, providerId: pro.id, currency: 'USD', lines: [{ description: 'Room styling', quantity: 1, unitAmount: 12_000, startsAt: isoIn(now, 3 * DAY), endsAt: isoIn(now, 3 * DAY + HOUR) }] }),
    );
    await ok(web.api.post(`/v1/orders/${order.id}/confirm`, {}));
    await ok(web.api.post(`/v1/orders/${order.id}/pay`, { useAccountCredit: true }));
    await page.goto(`/admin/orders/${order.id}`);
    await page.getByText('Refund part of this order').click();
    const refund = page.getByRole('form', { name: 'Refund part of the order' });
    await refund.getByLabel('Refund amount (USD)').fill('130');
    await refund.getByRole('button', { name: 'Refund' }).click();
    await refund.getByText('At most $120.00 can be refunded.').waitFor();
    await refund.getByLabel('Refund amount (USD)').fill('20');
    await refund.getByLabel('Reason (optional)').fill('Goodwill: late start');
    await refund.getByRole('button', { name: 'Refund' }).click();
    await expectFeedback(page, 'Refunded $20.00 to account credit.');
    await page.getByRole('region', { name: 'Refunds', exact: true }).getByText('Goodwill: late start').waitFor();
    await context.close();

    // The provider proposes another time; the customer declines it and nothing changes.
    await ok(web.api.post(`/v1/orders/${order.id}/proposal`, { startsAt: isoIn(now, 4 * DAY), comment: 'Could we do Friday?' }));
    await ok(web.api.post('/v1/password-links', { email: 'nora@example.com', role: 'customer' })).then(async (link) => {
      await fetch(`${web.url}/v1/auth/set-password`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: link.token, password: 'nora password 1' }) });
    });
    const cust = await newPage(web);
    await login(cust.page, 'nora@example.com', 'nora password 1');
    await cust.page.goto(`/portal/receipts/${order.id}`);
    const proposal = cust.page.getByTestId('proposal');
    await proposal.getByText('Comment: “Could we do Friday?”').waitFor();
    await proposal.getByRole('button', { name: 'Decline' }).click();
    await expectFeedback(cust.page, 'Change declined; the order stays as it was.');
    await proposal.waitFor({ state: 'detached' });
    expect((await ok(web.api.get(`/v1/orders/${order.id}`))).startsAt).toBe(order.startsAt);
    await cust.context.close();
  });

  it('works with the keyboard alone, with a visible focus', async () => {
    const { page, context } = await newPage(web);
    await page.goto('/login');
    await page.getByRole('heading', { name: 'Sign in to Settle' }).waitFor();
    await page.keyboard.press('Tab');
    const skip = page.getByRole('link', { name: 'Skip to content' });
    expect(await skip.evaluate((el) => el === document.activeElement)).toBe(true);
    const outline = await skip.evaluate((el) => getComputedStyle(el).outlineStyle);
    expect(outline).not.toBe('none');
    // Tab to the e-mail field, type, Tab to the password, Enter submits.
    for (let i = 0; i < 10 && !(await page.getByLabel('E-mail', { exact: true }).evaluate((el) => el === document.activeElement)); i++) await page.keyboard.press('Tab');
    await page.keyboard.type('grace@example.com');
    await page.keyboard.press('Tab');
    await page.keyboard.type('settle-demo-password');
    await page.keyboard.press('Enter');
    await page.waitForURL('**/portal');
    // Each page moves focus to its title.
    expect(await page.getByRole('heading', { level: 1 }).evaluate((el) => el === document.activeElement)).toBe(true);
    // A dialog keeps focus inside and Escape closes it, giving focus back.
    const grace = (await ok(web.api.get('/v1/customers?email=grace@example.com'))).data[0];
    const lumen = (await ok(web.api.get('/v1/providers?email=lumen@example.com'))).data[0];
    const now = new Date().toISOString();
    const order = await ok(
      web.api.post('/v1/orders', { process: 'booking', customerId: grace.id, providerId: lumen.id, currency: 'USD', onBehalfOf: 'provider', lines: [{ description: 'Headshots', quantity: 1, unitAmount: 4_000, startsAt: isoIn(now, 6 * DAY), endsAt: isoIn(now, 6 * DAY + HOUR) }] }),
    );
    await page.goto(`/portal/receipts/${order.id}`);
    const cancel = page.getByRole('button', { name: 'Cancel order' });
    await cancel.focus();
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: `Cancel order ${order.number}` });
    await dialog.getByTestId('quote-total').waitFor();
    expect(await dialog.evaluate((el) => el.contains(document.activeElement))).toBe(true);
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    expect(await cancel.evaluate((el) => el === document.activeElement)).toBe(true);
    await context.close();
  });

  it('fits a phone-width screen', async () => {
    const { page, context } = await newPage(web, { phone: true });
    await page.goto('/login');
    await page.getByRole('heading', { name: 'Sign in to Settle' }).waitFor();
    await noSidewaysScroll(page);
    await login(page, 'ada@example.com');
    await page.getByRole('heading', { name: 'Transactions and receipts' }).waitFor();
    await noSidewaysScroll(page);
    await screenshot(page, 'phone-portal');
    await context.close();
    const admin = await newPage(web, { phone: true });
    await login(admin.page, 'admin@example.com');
    await admin.page.getByRole('region', { name: 'Orders', exact: true }).waitFor();
    await noSidewaysScroll(admin.page);
    await admin.page.goto('/admin/settings');
    await admin.page.getByRole('button', { name: 'Save' }).waitFor();
    await noSidewaysScroll(admin.page);
    await admin.context.close();
  });
});
