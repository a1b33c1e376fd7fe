// Seed 003 in the browser: staff enable "Allow customers to modify sessions" and "Refund upon
// cancellation, but no refund within X hours"; the customer opens Transactions and
// Receipts → View Receipt → Edit Session(s): moves a session to another slot and renames the
// participant, then ticks two sessions → Cancel Session(s) → Confirm Cancellations, and sees
// "Cancelled · Refunded $90.00" next to one and "no refund, within 48 hours" next to the other.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clockAdvance, clockTo, customerWithLogin, DAY, expectFeedback, HOUR, isoIn, login, newPage, ok, pageErrors, providerWithLogin, screenshot, startWeb, type Web } from './harness.js';

let web: Web;
const T0 = '2030-05-06T07:00:00.000Z'; // 09:00 in Berlin
beforeAll(async () => {
  web = await startWeb();
  await clockTo(web, T0);
});
afterAll(() => web?.close());

/** The customer's booking of one seat in each slot, for one participant (made through the API, as the customer). */
function bookSessions(customerId: string, providerId: string, slotIds: string[], participantName: string) {
  return ok(
    web.api.post('/v1/orders', {
      process: 'booking',
      customerId,
      providerId,
      currency: 'USD',
      onBehalfOf: 'customer',
      lines: slotIds.map((slotId) => ({ slotId, quantity: 1, participantName })),
    }),
  );
}

describe('seed 003: customers edit and cancel their sessions online', () => {
  it('staff set the policy; the customer edits a session, then cancels two with the refund window', async () => {
    // Staff: Configure → the two options, and the business time zone.
    const staff = await newPage(web);
    await login(staff.page, 'admin@example.com');
    await staff.page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Settings' }).click();
    const settings = staff.page.getByRole('form').or(staff.page.locator('form.settings-form'));
    await expect(staff.page.getByLabel('Allow customers to modify sessions').isChecked()).resolves.toBe(true);
    await expect(staff.page.getByLabel('Refund upon cancellation, but no refund within X hours').isChecked()).resolves.toBe(true);
    const hours = staff.page.getByLabel('X: no refund within this many hours of the start');
    // Bad input first: not a number, and a zone that does not exist.
    await hours.fill('two days');
    await staff.page.getByLabel('Time zone').fill('Mars/Olympus');
    await staff.page.getByRole('button', { name: 'Save' }).click();
    await staff.page.getByText('Enter a whole number from 0 to 8760.').waitFor();
    await staff.page.getByText('Use an IANA time zone such as Europe/Berlin or America/New_York.').waitFor();
    expect(await hours.inputValue()).toBe('two days');
    await hours.fill('48');
    await staff.page.getByLabel('Time zone').fill('Europe/Berlin');
    await staff.page.getByRole('button', { name: 'Save' }).click();
    await expectFeedback(staff.page, 'Settings saved. New orders use them; existing orders keep theirs.');
    await staff.page.getByText('Times are shown in the business time zone, Europe/Berlin.').waitFor();
    await screenshot(staff.page, 'admin-settings');
    expect(settings).toBeTruthy();
    const saved = await ok(web.api.get('/v1/settings'));
    expect(saved).toMatchObject({ noRefundWithinHours: 48, timeZone: 'Europe/Berlin', allowCustomerEdits: true });

    // A class with three weekly sessions (8 seats each) and one extra session with one seat.
    const studio = await providerWithLogin(web, { name: 'Clay Studio', email: 'clay@example.com' });
    const slots = [2, 9, 16].map((d) => ({ startsAt: isoIn(T0, d * DAY), endsAt: isoIn(T0, d * DAY + HOUR), capacity: 8 }));
    const service = await ok(web.api.post('/v1/services', { name: 'Pottery class', providerId: studio.id, unitAmount: 9_000, currency: 'USD', slots: [...slots, { startsAt: isoIn(T0, 3 * DAY), endsAt: isoIn(T0, 3 * DAY + HOUR), capacity: 1 }] }));
    const pat = await customerWithLogin(web, { name: 'Pat Potter', email: 'pat@example.com', credit: 30_000 });
    const order = await bookSessions(pat.id, studio.id, slots.map((w) => service.slots.find((s: any) => s.startsAt === w.startsAt).id), 'Maya');
    await ok(web.api.post(`/v1/orders/${order.id}/confirm`, {}));

    // The customer: Transactions and Receipts → View Receipt → pay with account credit.
    const { page, context } = await newPage(web);
    await login(page, pat.email, pat.password);
    await page.getByRole('link', { name: `View receipt ${order.number}` }).click();
    await page.getByRole('heading', { name: `Receipt ${order.number}` }).waitFor();
    await page.getByRole('button', { name: 'Pay $270.00' }).click();
    await expectFeedback(page, 'Paid $270.00. Thank you!');
    await page.getByText('Paid (Account credit)').waitFor();
    // Times are in the business zone, with the zone named.
    await page.getByRole('cell', { name: /Wed, May 8, 2030 · 9:00 AM – 10:00 AM GMT\+2/ }).waitFor();

    // Edit Session(s) → Edit → another slot with free seats, another participant → Save Changes.
    await page.getByRole('button', { name: 'Edit session(s)' }).click();
    const popup = page.getByRole('dialog', { name: 'Your sessions' });
    await popup.getByRole('button', { name: /^Edit Pottery class, Wed, May 8, 2030/ }).click();
    const edit = page.getByRole('dialog', { name: 'Edit session' });
    await edit.getByRole('button', { name: 'Save Changes' }).click();
    await edit.getByText('Nothing changed: choose another time slot or change the participant.').waitFor();
    const slotSelect = edit.getByLabel('Date and time slot');
    await slotSelect.selectOption({ label: 'Thu, May 9, 2030 · 9:00 AM – 10:00 AM GMT+2 — 1 seat free' });
    await edit.getByLabel('Participant name').fill('Maya R.');
    await edit.getByRole('button', { name: 'Save Changes' }).click();
    await expectFeedback(page, 'Session changed.');
    const firstLine = page.locator(`[data-line="${order.lines[0].id}"]`);
    await firstLine.getByText('Thu, May 9, 2030 · 9:00 AM – 10:00 AM GMT+2').waitFor();
    await firstLine.getByText('Maya R.').waitFor();

    // 30 hours later the moved session is 42 h away (inside 48 h), the next one 7 days.
    await clockAdvance(web, 30 * HOUR);
    await page.reload();
    await page.getByRole('button', { name: 'Edit session(s)' }).click();
    const sessions = page.getByRole('dialog', { name: 'Your sessions' });
    await sessions.getByRole('button', { name: 'Cancel session(s)' }).click();
    await sessions.getByText('Tick the session(s) you want to cancel.').waitFor();
    await sessions.getByRole('checkbox', { name: /Thu, May 9, 2030/ }).check();
    await sessions.getByRole('checkbox', { name: /Wed, May 15, 2030/ }).check();
    await sessions.getByRole('button', { name: 'Cancel session(s)' }).click();

    // The confirm step: the server's quote, line by line.
    const confirm = page.getByRole('dialog', { name: 'Cancel 2 sessions' });
    await confirm.getByTestId('quote-total').getByText('$90.00').waitFor();
    await confirm.getByText('No refund within 48 h of the start.').waitFor();
    await confirm.getByText('Cancelled at least 48 h before the start: full refund.').waitFor();
    await confirm.getByText('(42 h before)').waitFor();
    await screenshot(page, 'customer-cancel-sessions', { dialog: true });
    await confirm.getByRole('button', { name: 'Confirm cancellations' }).click();
    await expectFeedback(page, /cancelled\. Refund: \$90\.00\./);
    await firstLine.getByText('Cancelled · no refund, within 48 hours').waitFor();
    await page.locator(`[data-line="${order.lines[1].id}"]`).getByText('Cancelled · Refunded $90.00').waitFor();
    await page.locator(`[data-line="${order.lines[2].id}"]`).getByText('Open').waitFor();
    expect((await ok(web.api.get(`/v1/customers/${pat.id}`))).balances.USD).toBe(30_000 - 27_000 + 9_000);
    await screenshot(page, 'customer-receipt');
    expect(pageErrors(page)).toEqual([]);
    await context.close();
    await staff.context.close();
  });

  it('with "Allow customers to modify sessions" off, the customer can no longer edit (staff still can)', async () => {
    await ok(web.api.patch('/v1/settings', { allowCustomerEdits: false }));
    const studio = await ok(web.api.post('/v1/providers', { name: 'Glaze Lab', email: 'glaze@example.com' }));
    const base = (await ok(web.api.get('/v1/test/clock'))).now;
    const service = await ok(web.api.post('/v1/services', { name: 'Wheel basics', providerId: studio.id, unitAmount: 5_000, currency: 'USD', slots: [{ startsAt: isoIn(base, 5 * DAY), endsAt: isoIn(base, 5 * DAY + HOUR), capacity: 4 }] }));
    const kim = await customerWithLogin(web, { name: 'Kim Kiln', email: 'kim@example.com', credit: 5_000 });
    const order = await bookSessions(kim.id, studio.id, [service.slots[0].id], 'Kim');
    await ok(web.api.post(`/v1/orders/${order.id}/confirm`, {}));
    await ok(web.api.post(`/v1/orders/${order.id}/pay`, { useAccountCredit: true }));
    const { page, context } = await newPage(web);
    await login(page, kim.email, kim.password);
    await page.goto(`/portal/receipts/${order.id}`);
    await page.getByText('This business does not allow changing sessions online; you can still cancel.').waitFor();
    await page.getByRole('button', { name: 'Edit session(s)' }).click();
    await expect(page.getByRole('dialog', { name: 'Your sessions' }).getByRole('button', { name: /^Edit / }).count()).resolves.toBe(0);
    await context.close();
    await ok(web.api.patch('/v1/settings', { allowCustomerEdits: true }));
  });

  it('the studio marks a course done only once its last session has begun, cancelling one that will not take place', async () => {
    const studio = await providerWithLogin(web, { name: 'Kiln Works', email: 'kiln@example.com' });
    const base = (await ok(web.api.get('/v1/test/clock'))).now;
    const slots = [1, 8].map((d) => ({ startsAt: isoIn(base, d * DAY), endsAt: isoIn(base, d * DAY + HOUR), capacity: 6 }));
    const service = await ok(web.api.post('/v1/services', { name: 'Glazing course', providerId: studio.id, unitAmount: 7_000, currency: 'USD', slots }));
    const lee = await customerWithLogin(web, { name: 'Lee Glaze', email: 'lee@example.com', credit: 14_000 });
    const order = await bookSessions(lee.id, studio.id, service.slots.map((slot: { id: string }) => slot.id), 'Lee');
    await ok(web.api.post(`/v1/orders/${order.id}/confirm`, {}));
    await ok(web.api.post(`/v1/orders/${order.id}/pay`, { useAccountCredit: true }));
    await clockAdvance(web, DAY + HOUR / 2); // the first session is under way, the second a week ahead

    const { page, context } = await newPage(web);
    await login(page, studio.email, studio.password);
    await page.goto(`/provider/orders/${order.id}`);
    await page.getByTestId('done-later').getByText('You can mark this order done once every session has started').waitFor();
    await expect(page.getByRole('button', { name: 'Done', exact: true }).count()).resolves.toBe(0);
    // Staff acting as operator meet the same rule: no "Mark done" yet, and when it will be possible.
    const staff = await newPage(web);
    await login(staff.page, 'admin@example.com');
    await staff.page.goto(`/admin/orders/${order.id}`);
    await staff.page.getByTestId('staff-done-later').getByText(/Can be marked done from .+, once the open lines have started/).waitFor();
    await expect(staff.page.getByRole('button', { name: 'Mark done' }).count()).resolves.toBe(0);
    expect(pageErrors(staff.page)).toEqual([]);
    await staff.context.close();
    // The second session will not take place: the studio cancels it (full refund: a provider cancels).
    await page.getByRole('button', { name: 'Cancel "Glazing course"' }).click();
    const dialog = page.getByRole('dialog', { name: 'Cancel "Glazing course"' });
    await dialog.getByLabel('Reason (required)').fill('Kiln repair that week');
    await dialog.getByRole('button', { name: 'Confirm cancellation' }).click();
    await expectFeedback(page, /cancelled\. Refund: \$70\.00\./);
    await page.getByRole('button', { name: 'Done', exact: true }).click();
    await expectFeedback(page, 'Marked done. The customer is asked to confirm.');
    const done = await ok(web.api.get(`/v1/orders/${order.id}`));
    expect(done).toMatchObject({ state: 'execution_confirmation', amounts: { paid: 14_000, refunded: 7_000 } });
    expect(done.lines.map((l: { status: string }) => l.status)).toEqual(['done', 'cancelled']);
    expect(pageErrors(page)).toEqual([]);
    await context.close();
  });
});
