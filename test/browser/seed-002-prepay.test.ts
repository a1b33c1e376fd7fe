// Seed 002 in the browser ("How to Fulfill Prepay Orders"): staff create the picture-day job
// and its names list with access codes; a parent pre-orders with the code from the QR card
// and pays; staff record the photos under the codes (I. Photo Upload), "Populate photos" and
// "Place order(s) now" (II.), release the open batch to production (III. Batch Shipping), the
// parent confirms receipt, and the job switches to Selling (IV.). Parents pre-order from the
// job's price list (the provider's products, set up on the job's page), at its prices. Then
// the article's questions: a paper order with "Add order" on a blank card, photos under the
// wrong code, a student missing on picture day, cancelling before release, a complaint, and
// manual revision (memory mates, a job made on the pages with its price list).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { clockTo, customerWithLogin, expectFeedback, login, newPage, ok, pageErrors, screenshot, startWeb, type Web } from './harness.js';

let web: Web;
const T0 = '2031-05-04T08:00:00.000Z';
beforeAll(async () => {
  web = await startWeb();
  await clockTo(web, T0);
});
afterAll(() => web?.close());

// The studios' products (services without slots), in USD.
const PACKAGE_A = { name: 'Package A: 2 prints 5x7, 8 wallets', unitAmount: 3_500 };
const GROUP_PRINT = { name: 'Class group print 8x10', unitAmount: 1_200 };
const MEMORY_MATE = { name: 'Memory mate 8x10', unitAmount: 2_500 };

type Product = { serviceId: string; name: string; unitAmount: number };

/** The provider's products, made through the API (admin). */
async function products(providerId: string, list: { name: string; unitAmount: number; currency?: string; slots?: unknown[] }[]): Promise<string[]> {
  const ids = [];
  for (const p of list) ids.push((await ok(web.api.post('/v1/services', { providerId, currency: 'USD', ...p }))).id as string);
  return ids;
}

/** A job with a names list and a price list (Package A, group print), made through the API (the other tests make theirs on the pages). */
async function jobWithNames(name: string, opts: { names: { name: string; groupName?: string }[]; blankCards?: number }) {
  const provider = await ok(web.api.post('/v1/providers', { name: `${name} Photography`, email: `${name.toLowerCase().replace(/[^a-z]+/g, '.')}@example.com` }));
  const productIds = await products(provider.id, [PACKAGE_A, GROUP_PRINT]);
  const job = await ok(web.api.post('/v1/jobs', { name, providerId: provider.id, currency: 'USD', productIds, pictureDay: '2031-05-10T00:00:00.000Z' }));
  const subjects = (await ok(web.api.post(`/v1/jobs/${job.id}/subjects`, { subjects: opts.names, blankCards: opts.blankCards ?? 0 }))).data as { name: string | null; accessCode: string }[];
  const code = (n: string | null) => subjects.find((s) => s.name === n)!.accessCode;
  return { provider, job, subjects, code };
}

/** A line for the price list's product called `name`. */
const item = (job: { products: Product[] }, name: string, quantity = 1) => ({ serviceId: job.products.find((p) => p.name === name)!.serviceId, quantity });

/** A parent's paid pre-order from the price list, made through the API (account credit). */
async function paidPreOrder(accessCode: string, customer: { id: string }, lines: { serviceId: string; quantity: number }[]) {
  const jo = await ok(web.api.post('/v1/pre-orders', { accessCode, customerId: customer.id, lines }));
  return ok(web.api.post(`/v1/orders/${jo.orderId}/pay`, { useAccountCredit: true }));
}

/** The row of an order in a table of the job page. */
const orderRow = (scope: ReturnType<Page['getByRole']>, number: string) => scope.locator(`tr[data-order="${number}"]`);

describe('seed 002: How to Fulfill Prepay Orders', () => {
  it('I. Photo Upload, II. Photo Population and Order Creation, III. Batch Shipping, IV. Switch Job to Selling — with a parent pre-ordering by access code and confirming receipt', async () => {
    const studio = await ok(web.api.post('/v1/providers', { name: 'Maple Photo Co', email: 'maple.photo@example.com' }));
    // The studio's catalogue: two products in USD, a session with slots and a product in EUR (neither can be on a USD job's price list).
    await products(studio.id, [
      PACKAGE_A,
      MEMORY_MATE,
      { name: 'Mini session', unitAmount: 5_000, slots: [{ startsAt: '2031-06-01T10:00:00.000Z', endsAt: '2031-06-01T11:00:00.000Z', capacity: 4 }] },
      { name: 'Package A (euro)', unitAmount: 3_000, currency: 'EUR' },
    ]);
    const pat = await customerWithLogin(web, { name: 'Pat Parent', email: 'pat.parent@example.com' });
    const sam = await customerWithLogin(web, { name: 'Sam Sterling', email: 'sam.sterling@example.com', credit: 10_000 });

    // Staff: Jobs → a new prepay job for the photographer.
    const staff = await newPage(web);
    const admin = staff.page;
    await login(admin, 'admin@example.com');
    await admin.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Jobs' }).click();
    await admin.getByRole('heading', { name: 'Prepay jobs' }).waitFor();
    const newJob = admin.getByRole('form', { name: 'New job' });
    await newJob.getByRole('button', { name: 'Create job' }).click();
    await newJob.getByText('Enter the job name.').waitFor();
    await newJob.getByText('Choose the provider (photographer).').waitFor();
    await newJob.getByLabel('Job name').fill('Maple Grove Elementary – Spring Picture Day');
    await newJob.getByLabel('Provider').selectOption({ label: 'Maple Photo Co (maple.photo@example.com)' });
    await newJob.getByLabel('Picture day').fill('2031-05-10');
    // The price list offers the studio's USD products only; none is chosen yet (the job's page asks for them).
    const offered = newJob.getByRole('group', { name: 'Price list' });
    await offered.getByLabel('Package A: 2 prints 5x7, 8 wallets — $35.00').waitFor();
    expect(await offered.locator('.checkbox label').allTextContents()).toEqual(['Memory mate 8x10 — $25.00', 'Package A: 2 prints 5x7, 8 wallets — $35.00']);
    await newJob.getByRole('button', { name: 'Create job' }).click();
    await expectFeedback(admin, 'Job Maple Grove Elementary – Spring Picture Day created.');
    await admin.getByRole('heading', { name: 'Maple Grove Elementary – Spring Picture Day', level: 1 }).waitFor();
    const jobId = new URL(admin.url()).pathname.split('/').pop()!;
    const settings = admin.getByRole('region', { name: 'Job settings' });
    await settings.getByText('Sat, May 10, 2031').waitFor();
    await settings.getByText('None: batches are released by hand').waitFor();
    const priceList = admin.getByRole('region', { name: 'Price list' });
    await priceList.getByText("Parents cannot pre-order with this job's access codes until it offers products.").waitFor();

    // The names list: students with their class, and a blank card for paper orders; sorted by name.
    const names = admin.getByRole('region', { name: 'Names list and access codes' });
    await names.getByLabel('Names (one per line)').fill('Ben Carter\nAva Brown');
    await names.getByLabel('Group (optional)').fill('Class 3B');
    await names.getByLabel('Blank cards').fill('1');
    await names.getByRole('button', { name: 'Add to names list' }).click();
    await expectFeedback(admin, 'Added 2 names and 1 blank card with new access codes.');
    const rows = names.getByRole('region', { name: 'Names list' }).locator('tbody tr');
    await rows.nth(2).waitFor();
    expect(await rows.locator('td:first-child').allTextContents()).toEqual(['Ava Brown', 'Ben Carter', 'Blank card']);
    const codeOf = async (i: number) => (await rows.nth(i).locator('.code').textContent())!;
    const [ava, ben] = [await codeOf(0), await codeOf(1)];
    expect(ava).toMatch(/^[23456789A-HJKMNP-Z]{8}$/);
    // Found by code, typed the way people type it.
    await names.getByLabel('Find a name, group or access code').fill(`${ben.slice(0, 4).toLowerCase()}-${ben.slice(4).toLowerCase()}`);
    await expect(rows.count()).resolves.toBe(1);
    await rows.first().getByText('Ben Carter').waitFor();
    await names.getByLabel('Find a name, group or access code').fill('');

    // A parent pre-orders before picture day with the code on Ava's QR card, and pays by card.
    const parent = await newPage(web);
    const portal = parent.page;
    await login(portal, pat.email, pat.password);
    await portal.getByRole('link', { name: 'Pre-order with an access code' }).click();
    await portal.getByRole('heading', { name: 'Pre-order photos' }).waitFor();
    await portal.getByLabel('Access code', { exact: true }).fill('nope');
    await portal.getByRole('button', { name: 'Look up' }).click();
    await portal.getByRole('alert').getByText('There is no job with the access code NOPE. Check the code on the QR card and try again.').waitFor();
    await portal.getByLabel('Access code', { exact: true }).fill(` ${ava.slice(0, 4).toLowerCase()}-${ava.slice(4)} `);
    await portal.getByRole('button', { name: 'Look up' }).click();
    const offer = portal.getByRole('region', { name: 'Maple Grove Elementary – Spring Picture Day' });
    await offer.getByText('Ava Brown').waitFor();
    await offer.getByText('Sat, May 10, 2031').waitFor();
    // No price list yet: nothing to pre-order.
    await offer.getByText('The studio has not published prices for this job yet').waitFor();
    await expect(offer.getByRole('button', { name: 'Pre-order' }).count()).resolves.toBe(0);

    // Staff set up the price list on the job's page: a product of the studio's, a new one
    // created here, one added and removed again, and the order they are offered in.
    await priceList.getByRole('button', { name: 'Set up the price list' }).click();
    const pick = priceList.getByRole('form', { name: 'Add a product' });
    await pick.locator('option', { hasText: 'Memory mate 8x10' }).waitFor({ state: 'attached' });
    expect(await pick.getByLabel('Add a product').locator('option').allTextContents()).toEqual(['Choose…', 'Memory mate 8x10 — $25.00', 'Package A: 2 prints 5x7, 8 wallets — $35.00']);
    const create = priceList.getByRole('form', { name: 'New product' });
    await create.getByRole('button', { name: 'Create product' }).click();
    await create.getByText('Name the product.').waitFor();
    await create.getByLabel('New product').fill('Class group print 8x10');
    await create.getByLabel('Price (USD)').fill('12');
    await create.getByRole('button', { name: 'Create product' }).click();
    await expectFeedback(admin, 'Product Class group print 8x10 created and added to the list (save the list to offer it).');
    for (const label of ['Package A: 2 prints 5x7, 8 wallets — $35.00', 'Memory mate 8x10 — $25.00']) {
      await pick.getByLabel('Add a product').selectOption({ label });
      await pick.getByRole('button', { name: 'Add to the list' }).click();
    }
    const editing = priceList.getByRole('list', { name: 'Products offered' });
    await editing.locator('li[data-product="Memory mate 8x10"]').waitFor();
    await expect(editing.locator('.product-name').allTextContents()).resolves.toEqual(['Class group print 8x10', 'Package A: 2 prints 5x7, 8 wallets', 'Memory mate 8x10']);
    await editing.getByRole('button', { name: 'Remove Memory mate 8x10' }).click();
    await editing.getByRole('button', { name: 'Move Package A: 2 prints 5x7, 8 wallets up' }).click();
    await editing.locator('li[data-product="Memory mate 8x10"]').waitFor({ state: 'detached' });
    await editing.locator('li:first-child[data-product="Package A: 2 prints 5x7, 8 wallets"]').waitFor();
    await expect(editing.locator('.product-name').allTextContents()).resolves.toEqual(['Package A: 2 prints 5x7, 8 wallets', 'Class group print 8x10']);
    await priceList.getByRole('button', { name: 'Save price list' }).click();
    await expectFeedback(admin, 'Price list saved: 2 products.');
    const offeredRows = priceList.getByRole('region', { name: 'Products offered' }).locator('tbody tr');
    await offeredRows.nth(1).waitFor();
    await expect(offeredRows.allInnerTexts()).resolves.toEqual(['Package A: 2 prints 5x7, 8 wallets\t$35.00', 'Class group print 8x10\t$12.00']);
    const job = await ok(web.api.get(`/v1/jobs/${jobId}`));
    expect(job.products.map((p: Product) => [p.name, p.unitAmount])).toEqual([
      [PACKAGE_A.name, 3_500],
      [GROUP_PRINT.name, 1_200],
    ]);

    // The parent looks the code up again and sees the price list: quantities of its products, at its prices.
    await portal.getByRole('button', { name: 'Look up' }).click();
    const prices = offer.getByRole('region', { name: 'Price list' });
    await prices.locator('tbody tr').nth(1).waitFor();
    await expect(prices.locator('tbody tr').allInnerTexts()).resolves.toEqual([
      expect.stringMatching(/^Package A: 2 prints 5x7, 8 wallets\t\$35\.00\t/),
      expect.stringMatching(/^Class group print 8x10\t\$12\.00\t/),
    ]);
    await offer.getByRole('button', { name: 'Pre-order' }).click();
    await offer.getByText('Choose at least one product (a quantity of 1 or more).').waitFor();
    await prices.getByRole('button', { name: 'One more: Package A: 2 prints 5x7, 8 wallets' }).click();
    await prices.getByLabel('Quantity: Class group print 8x10').fill('x');
    await offer.getByRole('button', { name: 'Pre-order' }).click();
    await prices.getByText('A whole number from 0 to 10000.').waitFor();
    await prices.getByLabel('Quantity: Class group print 8x10').fill('2');
    await prices.getByTestId('products-total').getByText('$59.00').waitFor();
    await prices.getByRole('button', { name: 'One fewer: Class group print 8x10' }).click();
    await prices.getByTestId('products-total').getByText('$47.00').waitFor();
    await screenshot(portal, 'customer-pre-order');
    await offer.getByRole('button', { name: 'Pre-order' }).click();
    await expectFeedback(portal, /^Pre-order SO-\d+ created\. Please pay to confirm it\./);
    await portal.getByRole('heading', { name: /^Receipt SO-\d+$/ }).waitFor();
    const number = (await portal.getByRole('heading', { level: 1 }).textContent())!.replace('Receipt ', '');
    const pictureDay = portal.getByRole('region', { name: 'Picture day' });
    await pictureDay.getByTestId('access-code').getByText(ava).waitFor();
    await pictureDay.getByText('Not populated yet (after picture day)').waitFor();
    const order = (await ok(web.api.get(`/v1/orders?q=${number}`))).data[0];
    expect(order).toMatchObject({ process: 'prepay', state: 'payment', amounts: { subtotal: 4_700 } });
    expect(order.lines.map((l: { serviceId: string; participantName: string; unitAmount: number }) => [l.serviceId, l.unitAmount, l.participantName])).toEqual([
      [job.products[0].serviceId, 3_500, 'Ava Brown'],
      [job.products[1].serviceId, 1_200, 'Ava Brown'],
    ]);
    await portal.getByRole('button', { name: /^Pay \$/ }).click();
    await expectFeedback(portal, /^Paid \$.+\. Thank you!/);
    await portal.getByText('Paid (Card)').waitFor();
    await portal.getByText('Paid · photos follow picture day').first().waitFor();
    // Another family pays from account credit (through the API).
    const benOrder = await paidPreOrder(ben, sam, [item(job, PACKAGE_A.name)]);

    // I. Photo Upload: the photos are recorded under the access codes, the group picture under the class.
    await admin.getByRole('button', { name: 'Refresh' }).click();
    const photos = admin.getByRole('region', { name: 'Photos', exact: true });
    const record = photos.getByRole('form', { name: 'Record photos' });
    await record.getByRole('button', { name: 'Record photos' }).click();
    await record.getByText('Choose the access code.').waitFor();
    await record.getByLabel('Access code', { exact: true }).selectOption({ label: `Ava Brown — ${ava}` });
    await record.getByLabel('File names (one per line)').fill('IMG_0001.jpg');
    await record.getByRole('button', { name: 'Record photos' }).click();
    await expectFeedback(admin, 'Recorded 1 photo.');
    await record.getByLabel('Access code', { exact: true }).selectOption({ label: `Ben Carter — ${ben}` });
    await record.getByLabel('File names (one per line)').fill('IMG_0002.jpg');
    await record.getByRole('button', { name: 'Record photos' }).click();
    await photos.locator('tr[data-photo="IMG_0002.jpg"]').waitFor();
    await record.getByLabel('Tag with').selectOption({ label: 'A group (group picture)' });
    await record.getByLabel('Group name').fill('Class 3B');
    await record.getByLabel('File names (one per line)').fill('GROUP_3B.jpg');
    await record.getByRole('button', { name: 'Record photos' }).click();
    await photos.locator('tr[data-photo="GROUP_3B.jpg"]').getByText('Group: Class 3B').waitFor();

    // II. The job's order collection: "Populate photos", then "Place order(s) now".
    const collection = admin.getByRole('region', { name: 'Order collection: Maple Grove Elementary – Spring Picture Day – prepay orders', exact: true });
    await orderRow(collection, number).getByText('Ava Brown').waitFor();
    await orderRow(collection, number).getByText('In order collection').waitFor();
    await orderRow(collection, number).getByText('not populated').waitFor();
    await collection.getByRole('button', { name: 'Populate photos' }).click();
    await expectFeedback(admin, 'Photos populated into 2 orders.');
    await orderRow(collection, number).getByTestId('photos').getByText('2: IMG_0001.jpg, GROUP_3B.jpg').waitFor();
    await orderRow(collection, benOrder.number).getByTestId('photos').getByText('2: IMG_0002.jpg, GROUP_3B.jpg').waitFor();
    await collection.getByRole('button', { name: 'Place order(s) now' }).click();
    await expectFeedback(admin, 'Placed 2 orders.');
    await collection.getByTestId('placement').getByText('2 orders placed into the open batch — not at the lab yet').waitFor();
    await orderRow(collection, number).getByText('In batch').waitFor();
    await screenshot(admin, 'admin-job');

    // III. Batch Shipping: the open batch is released to production by hand.
    const batch = admin.getByRole('region', { name: 'Batches' }).getByRole('group', { name: 'Batch 1' });
    await batch.getByText('Open', { exact: true }).waitFor();
    await batch.getByText('No shipping deadline: release it by hand.').waitFor();
    await batch.getByRole('button', { name: 'Release to production' }).click();
    const release = admin.getByRole('dialog', { name: 'Release Batch 1 to production?' });
    await release.getByRole('button', { name: 'Release now' }).click();
    await expectFeedback(admin, 'Batch 1 released to production: 2 orders.');
    await batch.getByText('Released to production', { exact: true }).waitFor();
    await orderRow(batch, number).getByText('In production').waitFor();
    expect((await ok(web.api.get(`/v1/orders/${order.id}`))).state).toBe('production');

    // The order page (from the order number): a prepay order, with the access code it was ordered with.
    await orderRow(batch, number).getByRole('link', { name: number }).click();
    await admin.getByRole('heading', { name: `Order ${number}` }).waitFor();
    await admin.getByText('Prepay order (picture day)').waitFor();
    const jobFacts = admin.getByRole('region', { name: 'Prepay job' });
    await jobFacts.getByTestId('access-code').getByText(ava).waitFor();
    await jobFacts.getByText('Batch 1 (released to production)').waitFor();
    await jobFacts.getByText(`/portal/receipts/${order.id}`).waitFor();
    await admin.getByRole('button', { name: 'Confirm receipt for the customer' }).waitFor();
    await admin.getByRole('list', { name: 'Event timeline' }).getByText('Populate photos').waitFor();

    // The parent: the order is in production; they confirm receipt, and it closes.
    await portal.reload();
    await portal.getByText('In production').first().waitFor();
    await portal.getByRole('region', { name: 'Picture day' }).getByText('IMG_0001.jpg, GROUP_3B.jpg').waitFor();
    await portal.getByRole('button', { name: 'Confirm receipt' }).click();
    await expectFeedback(portal, 'Thank you! The order is closed.');
    await portal.getByRole('heading', { name: 'Review' }).waitFor();
    const closed = await ok(web.api.get(`/v1/orders/${order.id}`));
    expect(closed).toMatchObject({ state: 'closed', payout: { status: 'scheduled' } });
    expect(closed.providerId).toBe(studio.id);
    await portal.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Transactions and receipts' }).click();
    await portal.getByRole('link', { name: `View receipt ${number}` }).waitFor();

    // IV. Switch Job to Selling: after a confirm step; pre-orders with its codes end.
    await admin.goto(`/admin/jobs/${jobId}`);
    await settings.getByRole('button', { name: 'Switch to Selling…' }).click();
    const confirm = admin.getByRole('dialog', { name: 'Switch the job to Selling?' });
    await confirm.getByText('this cannot be undone').waitFor();
    await confirm.getByRole('button', { name: 'Switch to Selling', exact: true }).click();
    await expectFeedback(admin, 'The job sells now; pre-orders with its access codes have ended.');
    await settings.getByText('Selling since').waitFor();
    await expect(collection.getByRole('button', { name: 'Add order' }).isDisabled()).resolves.toBe(true);
    await portal.goto(`/portal/pre-order?code=${ben}`);
    await portal.getByText('Pre-orders for this job have closed: its photos are on sale now.').waitFor();

    expect(pageErrors(admin)).toEqual([]);
    expect(pageErrors(portal)).toEqual([]);
    expect((await ok(web.api.get('/v1/ledger/check'))).ok).toBe(true);
    await parent.context.close();
    await staff.context.close();
  });

  it('Q: paper orders with "Add order", the error populating photos (photos under the wrong code), a student missing on picture day, cancelling before release, and a complaint', async () => {
    const { job, code } = await jobWithNames('Oak Ridge Middle School', {
      names: [
        { name: 'Ava Stone', groupName: 'Class 5A' },
        { name: 'Ben Reed', groupName: 'Class 5A' },
        { name: 'Cleo Park', groupName: 'Class 5B' },
      ],
      blankCards: 1,
    });
    const ana = await customerWithLogin(web, { name: 'Ana Stone', email: 'ana.stone@example.com', credit: 10_000 });
    const bo = await customerWithLogin(web, { name: 'Bo Reed', email: 'bo.reed@example.com', credit: 10_000 });
    const cy = await customerWithLogin(web, { name: 'Cy Park', email: 'cy.park@example.com', credit: 10_000 });
    await customerWithLogin(web, { name: 'Dana Fox', email: 'dana.fox@example.com', credit: 5_000 });
    const packageA = [item(job, PACKAGE_A.name)];
    const avaOrder = await paidPreOrder(code('Ava Stone'), ana, packageA);
    const benOrder = await paidPreOrder(code('Ben Reed'), bo, packageA);
    const cleoOrder = await paidPreOrder(code('Cleo Park'), cy, packageA);
    const blank = code(null);

    const { page, context } = await newPage(web);
    await login(page, 'admin@example.com');
    await page.goto(`/admin/jobs/${job.id}`);
    const collection = page.getByRole('region', { name: 'Order collection: Oak Ridge Middle School – prepay orders', exact: true });

    // Q: paper orders — "Add order" in the job's collection, on a blank card named as on the
    // form, from the price list and a line of staff's own, paid from the customer's credit.
    await collection.getByRole('button', { name: 'Add order' }).click();
    const paper = page.getByRole('dialog', { name: 'Add a paper order' });
    await paper.getByRole('button', { name: 'Add order' }).click();
    await paper.getByText('Choose the customer (who pays).').waitFor();
    await paper.getByText('Choose a product of the price list, or write a line of your own.').waitFor();
    await paper.getByLabel('Customer').selectOption({ label: 'Dana Fox (dana.fox@example.com)' });
    await paper.getByLabel('Access code').selectOption({ label: `Blank card — ${blank}` });
    await paper.getByLabel("Student's name (blank card, optional)").fill('Eve Fox');
    const paperPrices = paper.getByRole('region', { name: 'Price list' });
    await paperPrices.getByLabel('Quantity: Class group print 8x10').fill('2');
    await paper.getByRole('button', { name: 'Add a line of your own' }).click();
    await paper.getByLabel('Line 1', { exact: true }).fill('Package B: 1 print 8x10');
    await paper.getByLabel('Price each 1 (USD)').fill('20');
    await paperPrices.getByTestId('products-total').getByText('$24.00').waitFor();
    await paper.getByTestId('order-total').getByText('$44.00').waitFor();
    await paper.getByRole('button', { name: 'Add order' }).click();
    await expectFeedback(page, /^Order SO-\d+ added to the collection and paid\./);
    const paperOrder = (await ok(web.api.get(`/v1/jobs/${job.id}/orders?collectionId=${job.collectionId}`))).data.find((o: any) => o.subject.accessCode === blank);
    expect(paperOrder.subject.name).toBe('Eve Fox');
    expect(paperOrder.order.state).toBe('collection');
    expect(paperOrder.order.lines.map((l: any) => [l.serviceId, l.description, l.quantity, l.unitAmount, l.participantName])).toEqual([
      [item(job, GROUP_PRINT.name).serviceId, GROUP_PRINT.name, 2, 1_200, 'Eve Fox'],
      [null, 'Package B: 1 print 8x10', 1, 2_000, 'Eve Fox'],
    ]);
    await orderRow(collection, paperOrder.order.number).getByText('Dana Fox').waitFor();
    await orderRow(collection, paperOrder.order.number).getByText('Eve Fox').waitFor();
    // The blank card now carries the name written on the form.
    const nameRows = page.getByRole('region', { name: 'Names list', exact: true }).locator('tbody tr');
    await nameRows.getByText('Eve Fox').waitFor();
    await expect(nameRows.locator('td:first-child').allTextContents()).resolves.toEqual(['Ava Stone', 'Ben Reed', 'Cleo Park', 'Eve Fox']);

    // Q: cancel before release (no pictures of Cleo): Delete from the order page — refunded in the same step.
    await orderRow(collection, cleoOrder.number).getByRole('link', { name: cleoOrder.number }).click();
    await page.getByRole('heading', { name: `Order ${cleoOrder.number}` }).waitFor();
    await page.getByRole('button', { name: 'Cancel order' }).click();
    const cancel = page.getByRole('dialog', { name: `Cancel order ${cleoOrder.number}` });
    await cancel.getByText('Cancelled by staff: full refund.').waitFor();
    await cancel.getByLabel('Reason (optional)').fill('No pictures taken of this student');
    await cancel.getByRole('button', { name: 'Confirm cancellation' }).click();
    await expectFeedback(page, `Order ${cleoOrder.number} cancelled. Refund: $35.00.`);
    expect((await ok(web.api.get(`/v1/customers/${cy.id}`))).balances.USD).toBe(10_000);
    await page.goBack();
    await collection.getByText('1 cancelled order left the collection').waitFor();
    await expect(orderRow(collection, cleoOrder.number).count()).resolves.toBe(0);

    // Photos: Ava's went under Cleo's code by mistake; Ben missed picture day; the blank card's is right.
    const photos = page.getByRole('region', { name: 'Photos', exact: true });
    const record = photos.getByRole('form', { name: 'Record photos' });
    for (const [label, file] of [
      [`Cleo Park — ${code('Cleo Park')}`, 'AVA_STONE.jpg'],
      [`Eve Fox — ${blank}`, 'EVE_FOX.jpg'],
    ] as const) {
      await record.getByLabel('Access code', { exact: true }).selectOption({ label });
      await record.getByLabel('File names (one per line)').fill(file);
      await record.getByRole('button', { name: 'Record photos' }).click();
      await photos.locator(`tr[data-photo="${file}"]`).waitFor();
    }
    await collection.getByRole('button', { name: 'Populate photos' }).click();
    await expectFeedback(page, 'Photos populated into 1 order; 2 orders without photos.');
    const missing = collection.getByTestId('without-photos');
    await missing.getByText('Error populating photos: 2 orders without photos.').waitFor();
    await missing.getByText(`${avaOrder.number} — Ava Stone (code ${code('Ava Stone')})`).waitFor();
    await missing.getByText(`${benOrder.number} — Ben Reed (code ${code('Ben Reed')})`).waitFor();

    // The fix: the photo moves to the code Ava's parent ordered with; populating again finds it.
    await photos.getByRole('button', { name: 'Re-tag AVA_STONE.jpg' }).click();
    const retag = page.getByRole('dialog', { name: 'Re-tag AVA_STONE.jpg' });
    await retag.getByLabel('Access code').selectOption({ label: `Ava Stone — ${code('Ava Stone')}` });
    await retag.getByRole('button', { name: 'Save tag' }).click();
    await expectFeedback(page, `AVA_STONE.jpg is now tagged with ${code('Ava Stone')}.`);
    await photos.locator('tr[data-photo="AVA_STONE.jpg"]').getByText('Ava Stone').waitFor();
    await collection.getByRole('button', { name: 'Populate photos' }).click();
    await expectFeedback(page, 'Photos populated into 2 orders; 1 order without photos.');
    await expect(missing.getByRole('listitem').allTextContents()).resolves.toEqual([`${benOrder.number} — Ben Reed (code ${code('Ben Reed')})`]);

    // Q: the student was not there — place anyway: Ben's order moves into a new collection.
    await collection.getByRole('button', { name: 'Place order(s) now' }).click();
    await expectFeedback(page, 'Placed 2 orders; 1 order without photos split off.');
    const placement = collection.getByTestId('placement');
    await placement.getByText('2 orders placed into the open batch').waitFor();
    await placement.getByText('1 order without photos moved to a new order collection').waitFor();
    const retakes = page.getByRole('region', { name: 'Order collection: Oak Ridge Middle School – prepay orders – without photos', exact: true });
    await orderRow(retakes, benOrder.number).getByText('none found').waitFor();

    // Retakes: Ben's photo comes in; his collection is populated and placed into the same open batch.
    await record.getByLabel('Access code', { exact: true }).selectOption({ label: `Ben Reed — ${code('Ben Reed')}` });
    await record.getByLabel('File names (one per line)').fill('BEN_RETAKE.jpg');
    await record.getByRole('button', { name: 'Record photos' }).click();
    await photos.locator('tr[data-photo="BEN_RETAKE.jpg"]').waitFor();
    await retakes.getByRole('button', { name: 'Populate photos' }).click();
    await expectFeedback(page, 'Photos populated into 1 order.');
    await retakes.getByRole('button', { name: 'Place order(s) now' }).click();
    await expectFeedback(page, 'Placed 1 order.');
    const batch = page.getByRole('region', { name: 'Batches' }).getByRole('group', { name: 'Batch 1' });
    await batch.getByText('3 orders.').waitFor();
    await batch.getByRole('button', { name: 'Release to production' }).click();
    await page.getByRole('dialog', { name: 'Release Batch 1 to production?' }).getByRole('button', { name: 'Release now' }).click();
    await expectFeedback(page, 'Batch 1 released to production: 3 orders.');

    // Q: a complaint — Ben's parent opens one on their order overview; staff refund part and close it.
    const parent = await newPage(web);
    await login(parent.page, bo.email, bo.password);
    await parent.page.getByRole('link', { name: `View receipt ${benOrder.number}` }).click();
    await parent.page.getByRole('button', { name: 'Open a complaint' }).click();
    await parent.page.getByText('Tell us what went wrong.').waitFor();
    await parent.page.getByLabel('What is wrong, or your feedback').fill('The retake prints came out too dark');
    await parent.page.getByRole('button', { name: 'Open a complaint' }).click();
    await expectFeedback(parent.page, 'Complaint sent. Staff will look into it.');
    await parent.page.getByRole('region', { name: 'Your complaint' }).getByText('Waiting for staff to resolve it.').waitFor();
    await parent.page.getByText('Complaint open').first().waitFor();
    expect(pageErrors(parent.page)).toEqual([]);
    await parent.context.close();

    await page.goto(`/admin/orders/${benOrder.id}`);
    const claim = page.getByRole('region', { name: 'Claim', exact: true });
    await claim.getByText('“The retake prints came out too dark”').waitFor();
    await claim.getByLabel('Refund amount (USD)').fill('10');
    await claim.getByRole('button', { name: 'Resolve claim' }).click();
    await expectFeedback(page, 'Claim resolved with a refund; the order is closed.');
    expect(await ok(web.api.get(`/v1/orders/${benOrder.id}`))).toMatchObject({ state: 'closed', amounts: { refunded: 1_000 } });
    expect(pageErrors(page)).toEqual([]);
    await context.close();
  });

  it('Q: group photos and memory mates — manual revision: placed orders wait, staff replace the image and release them one by one into the batch', async () => {
    // The job is made on the pages, its price list chosen with it: the studio's memory mate only.
    const studio = await ok(web.api.post('/v1/providers', { name: 'Birch Hill Photography', email: 'birch.hill@example.com' }));
    await products(studio.id, [PACKAGE_A, MEMORY_MATE]);
    const { page, context } = await newPage(web);
    await login(page, 'admin@example.com');
    await page.goto('/admin/jobs');
    const newJob = page.getByRole('form', { name: 'New job' });
    await newJob.getByLabel('Job name').fill('Birch Hill Academy');
    await newJob.getByLabel('Provider').selectOption({ label: 'Birch Hill Photography (birch.hill@example.com)' });
    await newJob.getByRole('group', { name: 'Price list' }).getByLabel('Memory mate 8x10 — $25.00').check();
    await newJob.getByLabel('Manual revision').check();
    await newJob.getByRole('button', { name: 'Create job' }).click();
    await expectFeedback(page, 'Job Birch Hill Academy created.');
    await page.getByRole('heading', { name: 'Birch Hill Academy', level: 1 }).waitFor();
    const job = await ok(web.api.get(`/v1/jobs/${new URL(page.url()).pathname.split('/').pop()}`));
    expect(job.products.map((p: Product) => p.name)).toEqual([MEMORY_MATE.name]);
    await page.getByRole('region', { name: 'Price list' }).getByRole('region', { name: 'Products offered' }).getByText('Memory mate 8x10').waitFor();
    await page.getByRole('region', { name: 'Job settings' }).getByText('On: placed orders wait for revision').waitFor();

    const subjects = (await ok(web.api.post(`/v1/jobs/${job.id}/subjects`, { subjects: [{ name: 'Mia Lane', groupName: 'Class 2C' }] }))).data as { accessCode: string }[];
    const mia = subjects[0]!.accessCode;
    const mom = await customerWithLogin(web, { name: 'Mo Lane', email: 'mo.lane@example.com', credit: 5_000 });
    const order = await paidPreOrder(mia, mom, [item(job, MEMORY_MATE.name)]);
    await ok(web.api.post(`/v1/jobs/${job.id}/photos`, { photos: [{ accessCode: mia, fileName: 'MIA_DRAFT.jpg' }, { groupName: 'Class 2C', fileName: 'CLASS_2C.jpg' }] }));
    await page.getByRole('button', { name: 'Refresh' }).click();
    const collection = page.getByRole('region', { name: 'Order collection: Birch Hill Academy – prepay orders', exact: true });
    await collection.getByRole('button', { name: 'Populate photos' }).click();
    await expectFeedback(page, 'Photos populated into 1 order.');
    await collection.getByRole('button', { name: 'Place order(s) now' }).click();
    await collection.getByTestId('placement').getByText('1 order went to manual revision: revise and release them one by one.').waitFor();
    await expect(page.getByRole('region', { name: 'Batches' }).getByText('No batch yet').count()).resolves.toBe(1);

    // The final memory-mate image is uploaded; it replaces the populated ones.
    await ok(web.api.post(`/v1/jobs/${job.id}/photos`, { photos: [{ accessCode: mia, fileName: 'MIA_MEMORY_MATE_FINAL.jpg' }] }));
    await page.getByRole('button', { name: 'Refresh' }).click();
    const revision = page.getByRole('region', { name: 'Manual revision' });
    const photos = revision.getByRole('group', { name: `Photos of ${order.number}` });
    await expect(photos.getByLabel('MIA_DRAFT.jpg').isChecked()).resolves.toBe(true);
    await expect(revision.getByRole('button', { name: 'Release to batch' }).isEnabled()).resolves.toBe(true);
    await photos.getByLabel('MIA_DRAFT.jpg').uncheck();
    await photos.getByLabel('CLASS_2C.jpg').uncheck();
    await photos.getByLabel('MIA_MEMORY_MATE_FINAL.jpg').check();
    await revision.getByText('Save the photo choice first.').waitFor();
    await revision.getByRole('button', { name: 'Replace photos' }).click();
    await expectFeedback(page, `Photos of ${order.number} replaced.`);
    await revision.getByRole('button', { name: 'Release to batch' }).click();
    await expectFeedback(page, `${order.number} released to the open batch.`);
    await revision.getByText('No orders in manual revision.').waitFor();
    const batch = page.getByRole('region', { name: 'Batches' }).getByRole('group', { name: 'Batch 1' });
    await orderRow(batch, order.number).getByTestId('photos').getByText('1: MIA_MEMORY_MATE_FINAL.jpg').waitFor();
    expect((await ok(web.api.get(`/v1/orders/${order.id}`))).state).toBe('batch');
    expect(pageErrors(page)).toEqual([]);
    await context.close();
  });
});
