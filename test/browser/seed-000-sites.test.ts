// Seed 000 in the browser: Sites tab → search the property → Site Summary → delete a line
// and "Cancel All Undone Lines" (each after the refund quote) → the pencil next to
// "Paid (Card)" → Refund Money with the amount pre-filled → Site Activation → archive.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { customerWithLogin, expectFeedback, login, newPage, ok, pageErrors, screenshot, startWeb, type Web } from './harness.js';

let web: Web;
beforeAll(async () => {
  web = await startWeb();
});
afterAll(() => web?.close());

async function scene() {
  const rita = await customerWithLogin(web, { name: 'Rita Realtor', email: 'rita.realtor@example.com', credit: 10_000 });
  const provider = await ok(web.api.post('/v1/providers', { name: 'Sky High Media', email: 'sky@example.com' }));
  const site = await ok(web.api.post('/v1/sites', { address: '12 Rue Éclair, Montréal', customerId: rita.id }));
  const order = await ok(
    web.api.post('/v1/orders', {
      process: 'direct',
      customerId: rita.id,
      providerId: provider.id,
      currency: 'USD',
      siteId: site.id,
      lines: [
        { description: 'Photography (25 photos)', quantity: 1, unitAmount: 20_000 },
        { description: 'Drone video', quantity: 1, unitAmount: 15_000 },
        { description: 'Floor plan', quantity: 1, unitAmount: 5_000 },
      ],
    }),
  );
  // $100 of account funds, the other $300 by card.
  const paid = await ok(web.api.post(`/v1/orders/${order.id}/pay`, { useAccountCredit: true, paymentMethod: 'pm_card_visa' }));
  return { rita, site, order: paid };
}

describe('seed 000: cancel an order on a site and refund to the card', () => {
  it('walks through the help article step by step', async () => {
    const { rita, order } = await scene();
    const { page, context } = await newPage(web);
    await login(page, 'admin@example.com');

    // Steps 1-2: the Sites tab, search for the property (accents and case do not matter).
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Sites' }).click();
    await page.getByLabel('Search by address or customer').fill('eclair montreal');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('link', { name: '12 Rue Éclair, Montréal' }).waitFor();
    await screenshot(page, 'admin-sites');
    await page.getByRole('link', { name: '12 Rue Éclair, Montréal' }).click();

    // Step 3: the Site Summary lists the order (newest first) with its lines.
    await page.getByRole('heading', { name: 'Site Summary' }).waitFor();
    const orderCard = page.getByRole('region', { name: `Order ${order.number}` });
    await orderCard.getByText('Paid (Card)').waitFor();
    // The photos were delivered.
    await orderCard.getByRole('button', { name: 'Done: Photography (25 photos)' }).click();
    await expectFeedback(page, '"Photography (25 photos)" marked done.');
    await orderCard.locator(`[data-line="${order.lines[0].id}"] [data-testid=line-status]`).getByText('Done').waitFor();

    // Step 4: the delete button of one product; the refund is shown before confirming.
    await orderCard.getByRole('button', { name: 'Delete (cancel) Drone video' }).click();
    const dialog = page.getByRole('dialog', { name: 'Cancel "Drone video"' });
    await dialog.getByTestId('quote-total').getByText('$150.00').waitFor();
    await dialog.getByText('Cancelled by staff: full refund.').waitFor();
    await dialog.getByRole('button', { name: 'Confirm cancellation' }).click();
    await orderCard.locator(`[data-line="${order.lines[1].id}"]`).getByText('Cancelled · Refunded $150.00').waitFor();

    // ...or "Cancel All Undone Lines": only the floor plan is still open.
    await orderCard.getByRole('button', { name: 'Cancel all undone lines' }).click();
    const all = page.getByRole('dialog', { name: 'Cancel all undone lines' });
    await all.getByTestId('quote-total').getByText('$50.00').waitFor();
    await all.getByLabel('Reason (optional)').fill('Home sold before the shoot');
    await all.getByRole('button', { name: 'Confirm cancellation' }).click();
    await orderCard.locator(`[data-line="${order.lines[2].id}"]`).getByText('Cancelled · Refunded $50.00').waitFor();
    await orderCard.getByText('Closed').first().waitFor();
    // By default the money went back to the account: $200 now.
    expect((await ok(web.api.get(`/v1/customers/${rita.id}`))).balances.USD).toBe(20_000);
    await screenshot(page, 'admin-site-summary');

    // Refunding to the card: the pencil next to "Paid (Card)" → Payment Details → Refund Money.
    await orderCard.getByRole('button', { name: 'Edit card payment (refund to card)' }).click();
    const details = page.getByRole('dialog', { name: 'Payment Details' });
    await details.getByRole('button', { name: 'Refund Money' }).click();
    const amount = details.getByLabel('Amount to Refund (USD)');
    // Pre-filled with the most the card can take back now: what the order returned ($200), not the $300 charged.
    expect(await amount.inputValue()).toBe('200.00');
    await screenshot(page, 'admin-refund-money', { dialog: true });

    // Bad input, checked here first: not a number, too many decimals, more than the card can take.
    await amount.fill('abc');
    await details.getByRole('button', { name: 'Refund', exact: true }).click();
    await details.getByText('Enter a number such as 12.50.').waitFor();
    await amount.fill('12.345');
    await details.getByRole('button', { name: 'Refund', exact: true }).click();
    await details.getByText('Use at most 2 decimal places for USD.').waitFor();
    await amount.fill('250');
    await details.getByRole('button', { name: 'Refund', exact: true }).click();
    await details.getByText('You cannot refund more to the card than $200.00 (what it can take back now).').waitFor();
    expect(await amount.inputValue()).toBe('250');

    // ...and by the server: another refund happens meanwhile, so $150 is now too much.
    const card = order.payments.find((p: any) => p.method === 'card');
    await ok(web.api.post(`/v1/orders/${order.id}/payments/${card.id}/refunds`, { amount: 12_000 }));
    const refused = await web.api.post(`/v1/orders/${order.id}/payments/${card.id}/refunds`, { amount: 15_000 });
    expect(refused.status).toBe(422);
    await amount.fill('150');
    await details.getByRole('button', { name: 'Refund', exact: true }).click();
    const alert = details.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toBe(`${refused.body.error.message} (refund_exceeds_refundable)`);
    expect(await amount.inputValue()).toBe('150');

    // A partial refund of what is left.
    await amount.fill('80');
    await details.getByRole('button', { name: 'Refund', exact: true }).click();
    await expectFeedback(page, 'Refund of $80.00 to the card: succeeded.');
    expect((await ok(web.api.get(`/v1/customers/${rita.id}`))).balances.USD).toBe(0);

    // The order page: payments, refunds with their status, the event timeline.
    await orderCard.getByRole('link', { name: 'Open order page' }).click();
    await page.getByRole('heading', { name: `Order ${order.number}` }).waitFor();
    const refunds = page.getByRole('region', { name: 'Refunds', exact: true });
    await expect(refunds.getByText('Succeeded').count()).resolves.toBe(4);
    await page.getByRole('list', { name: 'Event timeline' }).getByText('Cancel lines').waitFor();
    await page.getByText('refunded to card $200.00').waitFor();
    await screenshot(page, 'admin-order');

    // Steps 5-6: Site Activation → "Go" under Archived (Deleted).
    await page.goBack();
    await page.getByRole('heading', { name: 'Site Activation' }).waitFor();
    await page.getByRole('button', { name: 'Go — archive this site' }).click();
    await expectFeedback(page, /Site archived/);
    await page.getByRole('button', { name: 'Restore' }).waitFor();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Sites' }).click();
    await page.getByLabel('Search by address or customer').fill('eclair');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByText('No sites found for “eclair”.').waitFor();
    await page.getByLabel('Show').selectOption('true');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('link', { name: '12 Rue Éclair, Montréal' }).waitFor();
    expect(pageErrors(page)).toEqual([]);
    await context.close();
  });

  it('a site with an open paid line cannot be archived: the server says why, on the page', async () => {
    const rita = await customerWithLogin(web, { name: 'Otto Owner', email: 'otto@example.com', credit: 30_000 });
    const provider = await ok(web.api.post('/v1/providers', { name: 'Lens Co', email: 'lens@example.com' }));
    const site = await ok(web.api.post('/v1/sites', { address: '7 Harbour View', customerId: rita.id }));
    const order = await ok(
      web.api.post('/v1/orders', { process: 'direct', customerId: rita.id, providerId: provider.id, currency: 'USD', siteId: site.id, lines: [{ description: 'Twilight photos', quantity: 1, unitAmount: 9_900 }] }),
    );
    await ok(web.api.post(`/v1/orders/${order.id}/pay`, { useAccountCredit: true }));
    const { page, context } = await newPage(web);
    await login(page, 'admin@example.com');
    await page.goto(`/admin/sites/${site.id}`);
    await page.getByRole('button', { name: 'Go — archive this site' }).click();
    const alert = page.getByRole('region', { name: 'Site Activation' }).getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toContain('(site_has_open_paid_lines)');

    // A new site: bad input is caught before sending, and what was typed stays.
    await page.goto('/admin/sites');
    await page.getByLabel('Address', { exact: true }).fill('9 New Road');
    await page.getByRole('button', { name: 'Create site' }).click();
    await page.getByText('Choose the customer.').waitFor();
    expect(await page.getByLabel('Address', { exact: true }).inputValue()).toBe('9 New Road');
    await page.getByLabel('Customer', { exact: true }).selectOption({ label: 'Otto Owner (otto@example.com)' });
    await page.getByRole('button', { name: 'Create site' }).click();
    await expectFeedback(page, 'Site 9 New Road created.');
    await context.close();
  });
});
