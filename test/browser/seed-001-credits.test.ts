// Seed 001 in the browser: Customers → Transactions → Refund (full or partial, as a new
// linked entry) → Reverse a wrong entry → "Add credits to customer's account" with a
// negative amount and a memo, down to a zero balance.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectFeedback, login, newPage, ok, pageErrors, screenshot, startWeb, type Web } from './harness.js';

let web: Web;
beforeAll(async () => {
  web = await startWeb();
});
afterAll(() => web?.close());

describe('seed 001: refund credits, reverse a wrong entry, correct a balance', () => {
  it('walks through both examples of the help article', async () => {
    const chris = await ok(web.api.post('/v1/customers', { name: 'Chris Chatter', email: 'chris@example.com' }));
    await ok(web.api.post(`/v1/customers/${chris.id}/top-ups`, { amount: 5_000, currency: 'USD', paymentMethod: 'pm_card_visa' }));
    const performer = await ok(web.api.post('/v1/providers', { name: 'Cam Performer', email: 'cam@example.com' }));
    const charge = await ok(web.api.post('/v1/charges', { customerId: chris.id, providerId: performer.id, amount: 1_500, currency: 'USD', description: 'Private chat, 15 minutes' }));

    const { page, context } = await newPage(web);
    await login(page, 'admin@example.com');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Customers' }).click();
    await page.getByLabel('Find a customer').fill('chris');
    await page.getByRole('link', { name: 'Chris Chatter' }).click();
    await page.getByRole('heading', { name: 'Chris Chatter' }).waitFor();
    const balance = page.getByRole('region', { name: 'Balance' });
    await balance.getByText('$35.00').waitFor();

    // Example 1: "Refund" in the Actions column of the chat → the Refund transaction panel.
    const txns = page.getByRole('region', { name: 'Transactions', exact: true });
    await txns.getByRole('button', { name: 'Refund charge: Private chat, 15 minutes' }).click();
    const panel = page.getByRole('dialog', { name: 'Refund transaction' });
    const amount = panel.getByLabel('Amount to refund (USD)');
    expect(await amount.inputValue()).toBe('15.00');
    // Bad input: more than the charge, then nothing at all.
    await amount.fill('20');
    await panel.getByRole('button', { name: 'Refund', exact: true }).click();
    await panel.getByText('At most $15.00 is left to refund.').waitFor();
    await amount.fill('');
    await panel.getByRole('button', { name: 'Refund', exact: true }).click();
    await panel.getByText('Enter an amount.').waitFor();
    // 5 of the 15 minutes were lost to a broken webcam: refund those.
    await amount.fill('5.00');
    await panel.getByLabel('Reason (optional)').fill('Webcam broken for 5 minutes');
    await screenshot(page, 'admin-refund-transaction', { dialog: true });
    await panel.getByRole('button', { name: 'Refund', exact: true }).click();
    await expectFeedback(page, "Refunded $5.00 to the customer's account credit.");
    // A new entry, linked to the original.
    const refundRow = txns.locator('tr[data-type=charge_refund]');
    await refundRow.getByText('+$5.00').waitFor();
    await refundRow.getByText("for the charge “Private chat, 15 minutes”").waitFor();
    expect(charge.transactionId).toMatch(/^txn_/);
    await balance.getByText('$40.00').waitFor();

    // "If something went wrong, you can always remove the wrong entry": a visible reversal.
    await refundRow.getByRole('button', { name: /^Reverse charge refund/ }).click();
    const reverse = page.getByRole('dialog', { name: 'Reverse this entry' });
    await reverse.getByLabel('Memo').fill('Wrong entry: refund given twice');
    await reverse.getByRole('button', { name: 'Reverse', exact: true }).click();
    await expectFeedback(page, 'Entry reversed: a linked reversal was added.');
    await txns.locator('tr[data-type=reversal]').getByText('-$5.00').waitFor();
    await refundRow.getByText('Reversed').waitFor();
    await balance.getByText('$35.00').waitFor();

    // Example 2: the customer withdraws: a negative correction with a memo, to a zero balance.
    const form = page.getByRole('form', { name: 'Balance correction' });
    await form.getByLabel('Amount (USD)').fill('-35.00');
    await form.getByRole('button', { name: 'Add' }).click();
    await form.getByText('A memo is required: say why the balance changes.').waitFor();
    expect(await form.getByLabel('Amount (USD)').inputValue()).toBe('-35.00');
    await form.getByLabel('Memo (required)').fill('Withdrawal requested by customer; paid back by bank transfer');
    await form.getByRole('button', { name: 'Add' }).click();
    await expectFeedback(page, 'Correction of -$35.00 entered.');
    await balance.getByText('$0.00').waitFor();
    await txns.locator('tr[data-type=correction]').getByText('Withdrawal requested by customer; paid back by bank transfer').waitFor();

    // The balance never goes below zero: the server refuses, and its message is shown as it is.
    const refused = await web.api.post(`/v1/customers/${chris.id}/balance-corrections`, { amount: -100, currency: 'USD', memo: 'probe' });
    expect(refused.status).toBe(422);
    await form.getByLabel('Amount (USD)').fill('-1');
    await form.getByLabel('Memo (required)').fill('One more dollar');
    await form.getByRole('button', { name: 'Add' }).click();
    const alert = form.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toBe(`${refused.body.error.message} (${refused.body.error.code})`);
    expect(await form.getByLabel('Memo (required)').inputValue()).toBe('One more dollar');
    await screenshot(page, 'admin-customer');
    expect(pageErrors(page)).toEqual([]);
    await context.close();
  });
});
