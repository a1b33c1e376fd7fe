// Seed 004 in the browser, both sides: the provider confirms or edits (date, time, price,
// comment) within the deadline shown, the customer confirms the change and pays (a declined
// card first), the provider proposes a lower price that the customer accepts, marks the
// service done once it started (test clock), the customer confirms and reviews, the payout
// is paid 14 days later. A second order goes to a claim that staff resolve.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clockAdvance, clockTo, customerWithLogin, DAY, expectFeedback, HOUR, isoIn, login, newPage, ok, pageErrors, providerWithLogin, screenshot, startWeb, type Web } from './harness.js';

let web: Web;
const T0 = '2030-03-04T08:00:00.000Z';
beforeAll(async () => {
  web = await startWeb();
  await clockTo(web, T0);
});
afterAll(() => web?.close());

describe('seed 004: the prepaid order lifecycle on both sides', () => {
  it('Confirmation → Payment → Execution → Confirmation of execution → Closed → payout', async () => {
    const felix = await providerWithLogin(web, { name: 'Fix-It Felix', email: 'felix@example.com' });
    const cora = await customerWithLogin(web, { name: 'Cora Client', email: 'cora@example.com', credit: 5_000 });
    const order = await ok(
      web.api.post('/v1/orders', {
        process: 'booking',
        customerId: cora.id,
        providerId: felix.id,
        currency: 'USD',
        onBehalfOf: 'customer',
        lines: [{ description: 'Plumbing repair', quantity: 1, unitAmount: 12_000, startsAt: isoIn(T0, 3 * DAY), endsAt: isoIn(T0, 3 * DAY + 2 * HOUR) }],
      }),
    );
    expect(order).toMatchObject({ state: 'confirmation', awaiting: 'provider' });

    // The provider: the new order awaits their confirmation, with the deadline (24 h).
    const pro = await newPage(web);
    await login(pro.page, felix.email, felix.password);
    const awaiting = pro.page.getByRole('region', { name: 'Awaiting your confirmation' });
    await awaiting.getByRole('link', { name: order.number }).waitFor();
    await awaiting.getByText('Cancelled unless confirmed in 1 d 0 h 00 min').waitFor();
    await screenshot(pro.page, 'provider-orders');
    await awaiting.getByRole('link', { name: order.number }).click();

    // "Edit order": date and time, price, a comment → "Save changes" (bad price first).
    await pro.page.getByRole('button', { name: 'Edit order' }).click();
    const edit = pro.page.getByRole('form', { name: 'Edit order' });
    await edit.getByLabel('Price (USD)').fill('1OO');
    await edit.getByRole('button', { name: 'Save changes' }).click();
    await edit.getByText('Enter a number such as 12.50.').waitFor();
    await edit.getByLabel('Date and time (UTC)').fill('2030-03-09T10:00');
    await edit.getByLabel('Price (USD)').fill('100');
    await edit.getByLabel('Comment (optional)').fill('Moved to Saturday morning');
    await screenshot(pro.page, 'provider-edit-order');
    await edit.getByRole('button', { name: 'Save changes' }).click();
    await expectFeedback(pro.page, 'Changes saved. The customer now has to confirm them.');
    await pro.page.getByText('Confirmation · waiting for the customer').waitFor();

    // The customer confirms the change, then pays: a declined card changes nothing.
    const cust = await newPage(web);
    await login(cust.page, cora.email, cora.password);
    await cust.page.getByRole('link', { name: `View receipt ${order.number}` }).click();
    await cust.page.getByText('The provider changed this order: “Moved to Saturday morning”').waitFor();
    await cust.page.getByRole('button', { name: 'Confirm the order' }).click();
    await expectFeedback(cust.page, 'Confirmed. You can pay now.');
    const pay = cust.page.getByRole('form', { name: 'Pay this order' });
    await pay.getByText('Cancelled unless paid in 12 h 00 min 00 s').waitFor();
    await pay.getByLabel('Card for $50.00').selectOption('pm_card_declined');
    await screenshot(cust.page, 'customer-pay');
    await pay.getByRole('button', { name: 'Pay $100.00' }).click();
    const declined = pay.getByRole('alert');
    await declined.waitFor();
    expect(await declined.textContent()).toContain('(card_declined)');
    expect(await pay.getByLabel('Card for $50.00').inputValue()).toBe('pm_card_declined');
    await pay.getByLabel('Card for $50.00').selectOption('pm_card_visa');
    await pay.getByRole('button', { name: 'Pay $100.00' }).click();
    await expectFeedback(cust.page, 'Paid $100.00. Thank you!');
    await cust.page.getByText('Paid (Card)').waitFor();
    await cust.page.getByText('Paid (Account credit)').waitFor();

    // The provider proposes a lower price before the start (a higher one is refused here).
    await pro.page.reload();
    await pro.page.getByRole('button', { name: 'Edit order (propose a change)' }).click();
    const propose = pro.page.getByRole('form', { name: 'Propose a change' });
    await propose.getByLabel('Price (USD)').fill('120');
    await propose.getByRole('button', { name: 'Propose change' }).click();
    await propose.getByText('Once paid, the price can only go down.').waitFor();
    await propose.getByLabel('Price (USD)').fill('90');
    await propose.getByLabel('Comment (optional)').fill('Smaller job than expected');
    await propose.getByRole('button', { name: 'Propose change' }).click();
    await expectFeedback(pro.page, 'Change proposed. Nothing changes until the customer accepts.');
    await pro.page.getByTestId('proposal').waitFor();

    // The customer accepts it: the difference comes back.
    await cust.page.reload();
    const proposal = cust.page.getByTestId('proposal');
    await proposal.getByText('New total: $90.00 — you get $10.00 back when you accept').waitFor();
    await proposal.getByRole('button', { name: 'Accept the change' }).click();
    await expectFeedback(cust.page, 'Change accepted.');
    await cust.page.getByRole('region', { name: 'Refunds', exact: true }).getByText('$10.00').waitFor();

    // Not done before the start; once it started the provider marks it done.
    await clockTo(web, '2030-03-09T10:30:00.000Z');
    await pro.page.reload();
    await pro.page.getByRole('button', { name: 'Done', exact: true }).click();
    await expectFeedback(pro.page, 'Marked done. The customer is asked to confirm.');
    await pro.page.getByText('Confirmation of execution · waiting for the customer').waitFor();
    await screenshot(pro.page, 'provider-order');

    // The customer confirms the execution (an empty claim is refused first) and reviews.
    await cust.page.reload();
    const claim = cust.page.getByRole('form', { name: 'Open a claim' });
    await claim.getByRole('button', { name: 'Open a claim' }).click();
    await claim.getByText('Tell us what went wrong.').waitFor();
    await cust.page.getByRole('button', { name: 'Confirm the service was provided' }).click();
    await expectFeedback(cust.page, 'Thank you! The order is closed.');
    const review = cust.page.getByRole('form', { name: 'Leave a review' });
    await review.getByRole('button', { name: 'Send review' }).click();
    await review.getByText('Choose a rating from 1 to 5 stars.').waitFor();
    await review.getByLabel('Your review (optional)').fill('Quick and tidy.');
    await review.getByLabel('5 stars').check();
    await review.getByRole('button', { name: 'Send review' }).click();
    await expectFeedback(cust.page, 'Thank you for your review!');
    await cust.page.getByText('Your review: ★★★★★').waitFor();

    // A complaint after the close: staff refund part of it out of the provider payout, not yet paid.
    const staff = await newPage(web);
    await login(staff.page, 'admin@example.com');
    await staff.page.goto(`/admin/orders/${order.id}`);
    await staff.page.getByTestId('payout').getByText(/\$90\.00 due /).waitFor();
    await staff.page.getByText('Refund part of this order').click();
    const refund = staff.page.getByRole('form', { name: 'Refund part of the order' });
    await refund.getByText('Left in the provider payout: $90.00').waitFor();
    await refund.getByLabel('Refund amount (USD)').fill('15');
    await refund.getByLabel('Reason (optional)').fill('One room was missed');
    await refund.getByRole('button', { name: 'Refund' }).click();
    await expectFeedback(staff.page, 'Refunded $15.00 to account credit.');
    await staff.page.getByTestId('payout').getByText(/\$75\.00 due /).waitFor();
    expect(pageErrors(staff.page)).toEqual([]);
    await staff.context.close();

    // The payout is due 14 days after close, and paid then (less the refund).
    await pro.page.goto('/provider/payouts');
    await pro.page.getByRole('region', { name: 'Payouts', exact: true }).getByText('Scheduled').waitFor();
    await clockAdvance(web, 14 * DAY);
    await pro.page.reload();
    await pro.page.getByRole('region', { name: 'Payouts', exact: true }).getByText('Paid').first().waitFor();
    await pro.page.getByRole('region', { name: 'Payouts', exact: true }).getByText('$75.00').waitFor();
    await screenshot(pro.page, 'provider-payouts');
    expect(pageErrors(pro.page)).toEqual([]);
    expect(pageErrors(cust.page)).toEqual([]);
    await pro.context.close();
    await cust.context.close();
  });

  it('the customer opens a claim; staff resolve it with a partial refund on the order page', async () => {
    const now = (await ok(web.api.get('/v1/test/clock'))).now;
    const felix = await ok(web.api.post('/v1/providers', { name: 'Tile Tom', email: 'tom@example.com' }));
    const cora = await customerWithLogin(web, { name: 'Claire Claim', email: 'claire@example.com', credit: 20_000 });
    const order = await ok(
      web.api.post('/v1/orders', {
        process: 'booking',
        customerId: cora.id,
        providerId: felix.id,
        currency: 'USD',
        lines: [{ description: 'Bathroom tiling', quantity: 1, unitAmount: 15_000, startsAt: isoIn(now, 2 * DAY), endsAt: isoIn(now, 2 * DAY + 4 * HOUR) }],
      }),
    );
    await ok(web.api.post(`/v1/orders/${order.id}/confirm`, {}));
    await ok(web.api.post(`/v1/orders/${order.id}/pay`, { useAccountCredit: true }));
    await clockAdvance(web, 2 * DAY + HOUR);
    await ok(web.api.post(`/v1/orders/${order.id}/mark-done`, {}));

    const cust = await newPage(web);
    await login(cust.page, cora.email, cora.password);
    await cust.page.goto(`/portal/receipts/${order.id}`);
    await cust.page.getByRole('form', { name: 'Open a claim' }).getByLabel('What went wrong?').fill('Half the tiles are cracked');
    await cust.page.getByRole('button', { name: 'Open a claim' }).click();
    await expectFeedback(cust.page, 'Claim opened. Staff will look into it.');
    await cust.page.getByText('Waiting for staff to resolve it.').waitFor();

    const staff = await newPage(web);
    await login(staff.page, 'admin@example.com');
    await staff.page.goto(`/admin/orders?state=claim`);
    await staff.page.getByRole('link', { name: order.number }).click();
    const resolve = staff.page.getByRole('form', { name: 'Resolve the claim' });
    await resolve.getByText('“Half the tiles are cracked”').or(staff.page.getByText('“Half the tiles are cracked”')).first().waitFor();
    const amount = resolve.getByLabel('Refund amount (USD)');
    expect(await amount.inputValue()).toBe('150.00');
    await amount.fill('151');
    await resolve.getByRole('button', { name: 'Resolve claim' }).click();
    await resolve.getByText('At most $150.00 can be refunded.').waitFor();
    await amount.fill('60');
    await resolve.getByLabel('Note to the customer (optional)').fill('Partial refund for the cracked tiles');
    await resolve.getByRole('button', { name: 'Resolve claim' }).click();
    await expectFeedback(staff.page, 'Claim resolved with a refund; the order is closed.');
    await staff.page.getByText('Resolved: refund of $60.00 — Partial refund for the cracked tiles').waitFor();
    await screenshot(staff.page, 'admin-order-claim');

    await cust.page.reload();
    await cust.page.getByText('Resolved: refund of $60.00 — Partial refund for the cracked tiles').waitFor();
    expect((await ok(web.api.get(`/v1/customers/${cora.id}`))).balances.USD).toBe(20_000 - 15_000 + 6_000);
    await cust.context.close();
    await staff.context.close();
  });
});
