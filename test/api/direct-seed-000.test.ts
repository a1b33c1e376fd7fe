// Seed 000 (real-estate photography): orders on property sites, cancel one line or all
// undone lines, refunds to account credit by default or to the card, archive the site.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../helpers/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

async function siteWithOrder(opts: { credit: number; address: string; pay?: { useAccountCredit: boolean; paymentMethod?: string } }) {
  const customer = await h.customer({ credit: opts.credit, name: 'Rita Realtor' });
  const provider = await h.provider();
  const site = await h.post('/v1/sites', { address: opts.address, customerId: customer.id });
  expect(site.status).toBe(200);
  const order = await h.post('/v1/orders', {
    process: 'direct',
    customerId: customer.id,
    providerId: provider.id,
    currency: 'USD',
    siteId: site.body.id,
    lines: [
      { description: 'Photography (25 photos)', quantity: 1, unitAmount: 20_000 },
      { description: 'Drone video', quantity: 1, unitAmount: 15_000 },
      { description: 'Floor plan', quantity: 1, unitAmount: 5_000 },
    ],
  });
  expect(order.status, JSON.stringify(order.body)).toBe(200);
  expect(order.body).toMatchObject({ state: 'payment', amounts: { total: 40_000 } });
  const paid = await h.post(`/v1/orders/${order.body.id}/pay`, opts.pay ?? { useAccountCredit: true });
  expect(paid.status, JSON.stringify(paid.body)).toBe(200);
  expect(paid.body.state).toBe('delivery');
  return { customer, provider, site: site.body, order: paid.body };
}

describe('seed 000: cancelling an order on a site', () => {
  it('search the site, cancel one line, then "Cancel all undone lines", refunds to the account, then archive the site', async () => {
    const { customer, site, order } = await siteWithOrder({ credit: 50_000, address: '1428 Élm Street, Springwood' });
    // Step 2: search for the property (accents and case do not matter).
    const found = await h.get(`/v1/sites?q=${encodeURIComponent('elm spring')}`);
    expect(found.body.data.map((s: any) => s.id)).toContain(site.id);
    // Step 3: the site summary lists its orders, newest first.
    const summary = await h.get(`/v1/sites/${site.id}`);
    expect(summary.body.orders[0].id).toBe(order.id);
    // The photos were delivered.
    const [photos, drone, plan] = order.lines;
    const delivered = await h.post(`/v1/orders/${order.id}/lines/${photos.id}/done`, {});
    expect(delivered.body.lines[0].status).toBe('done');
    // Step 4: delete one product...
    const quote = await h.post(`/v1/orders/${order.id}/cancellation-quote`, { lineIds: [drone.id] });
    expect(quote.body).toMatchObject({ total: 15_000, destination: { requested: 'account_credit', accountCredit: 15_000, card: 0 } });
    const one = await h.post(`/v1/orders/${order.id}/cancel`, { lineIds: [drone.id], reason: 'Agent lost the listing' });
    expect(one.body).toMatchObject({ state: 'delivery', amounts: { refunded: 15_000 } });
    expect(await h.balance(customer.id)).toBe(25_000);
    // ...or "Cancel All Undone Lines": done lines are never touched.
    const rest = await h.post(`/v1/orders/${order.id}/cancel`, { undoneLines: true, reason: 'Home sold' });
    expect(rest.status, JSON.stringify(rest.body)).toBe(200);
    expect(rest.body.lines.map((l: any) => l.status)).toEqual(['done', 'cancelled', 'cancelled']);
    expect(rest.body).toMatchObject({ state: 'closed', amounts: { refunded: 20_000, refundable: 20_000 } });
    expect(rest.body.refunds.every((r: any) => r.destination === 'account_credit')).toBe(true);
    expect(await h.balance(customer.id)).toBe(30_000);
    expect(plan.id).toBe(rest.body.lines[2].id);
    // Steps 5-6: archive the site: hidden by default, found when asked, orders still searchable.
    const archived = await h.post(`/v1/sites/${site.id}/archive`, {});
    expect(archived.body.archived).toBe(true);
    expect((await h.get(`/v1/sites?q=elm`)).body.data.map((s: any) => s.id)).not.toContain(site.id);
    expect((await h.get(`/v1/sites?q=elm&archived=true`)).body.data.map((s: any) => s.id)).toContain(site.id);
    expect((await h.get(`/v1/orders?q=${encodeURIComponent('1428 elm')}`)).body.data.map((o: any) => o.id)).toContain(order.id);
    expect((await h.post(`/v1/sites/${site.id}/restore`, {})).body.archived).toBe(false);
    expect((await h.check()).problems).toEqual([]);
  });

  it('a site with open paid lines cannot be archived until they are cancelled', async () => {
    const { site, order } = await siteWithOrder({ credit: 40_000, address: '7 Harbour View' });
    const refused = await h.post(`/v1/sites/${site.id}/archive`, {});
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('site_has_open_paid_lines');
    await h.post(`/v1/orders/${order.id}/cancel`, { undoneLines: true, reason: 'Listing withdrawn' });
    expect((await h.post(`/v1/sites/${site.id}/archive`, {})).status).toBe(200);
  });
});

describe('seed 000: refunding to the client credit card', () => {
  it('an order paid partly from account funds: only the card part can go back to the card, in full or in part', async () => {
    // 10,000 of account funds + 30,000 by card.
    const { customer, order } = await siteWithOrder({ credit: 10_000, address: '12 Ocean Drive', pay: { useAccountCredit: true, paymentMethod: 'pm_card_visa' } });
    expect(order.payments.map((p: any) => [p.method, p.amount]).sort()).toEqual([
      ['account_credit', 10_000],
      ['card', 30_000],
    ]);
    expect(await h.balance(customer.id)).toBe(0);
    // Step 1: cancel the order. By default the refund goes to the client's account.
    const cancelled = await h.post(`/v1/orders/${order.id}/cancel`, { undoneLines: true, reason: 'Home sold before the shoot' });
    expect(cancelled.body).toMatchObject({ state: 'cancelled', amounts: { refunded: 40_000 } });
    expect(await h.balance(customer.id)).toBe(40_000);
    // Steps 2-4: the pencil next to "Paid (Card)": the amount is pre-filled with the whole card charge.
    const card = order.payments.find((p: any) => p.method === 'card');
    const refundable = await h.get(`/v1/orders/${order.id}/card-refundable`);
    expect(refundable.body.data).toEqual([{ paymentId: card.id, amount: 30_000, refunded: 0, maxRefundable: 30_000 }]);
    // "You cannot refund more to the card than what was charged."
    const over = await h.post(`/v1/orders/${order.id}/payments/${card.id}/refunds`, { amount: 30_001 });
    expect(over.status).toBe(422);
    expect(over.body.error).toMatchObject({ code: 'refund_exceeds_refundable', maxRefundable: 30_000 });
    // A partial refund, then the rest.
    const partial = await h.post(`/v1/orders/${order.id}/payments/${card.id}/refunds`, { amount: 12_000 });
    expect(partial.status, JSON.stringify(partial.body)).toBe(200);
    expect(await h.balance(customer.id)).toBe(28_000);
    const rest = await h.post(`/v1/orders/${order.id}/payments/${card.id}/refunds`, {});
    expect(rest.status).toBe(200);
    const after = (await h.get(`/v1/orders/${order.id}`)).body;
    expect(after.payments.find((p: any) => p.method === 'card')).toMatchObject({ refunded: 30_000 });
    expect(after.refunds.filter((r: any) => r.destination === 'card').map((r: any) => [r.amount, r.status])).toEqual([
      [12_000, 'succeeded'],
      [18_000, 'succeeded'],
    ]);
    // "The account funds will be placed back on their account for future use."
    expect(await h.balance(customer.id)).toBe(10_000);
    expect((await h.get(`/v1/orders/${order.id}/card-refundable`)).body.data[0].maxRefundable).toBe(0);
    expect((await h.check()).problems).toEqual([]);
  });

  it('a card refund that fails leaves the money in account credit and can be retried', async () => {
    const { customer, order } = await siteWithOrder({ credit: 0, address: '3 Fail Lane', pay: { useAccountCredit: false, paymentMethod: 'pm_card_refund_fails' } });
    await h.post(`/v1/orders/${order.id}/cancel`, { undoneLines: true, reason: 'x' });
    const card = order.payments[0];
    const r = await h.post(`/v1/orders/${order.id}/payments/${card.id}/refunds`, {});
    expect(r.status).toBe(200);
    const failed = r.body.refunds.find((x: any) => x.destination === 'card');
    expect(failed).toMatchObject({ status: 'failed', amount: 40_000 });
    expect(await h.balance(customer.id)).toBe(40_000);
    expect((await h.get(`/v1/orders/${order.id}/card-refundable`)).body.data[0].maxRefundable).toBe(40_000);
    expect((await h.post(`/v1/refunds/${failed.id}/retry`, {})).body.status).toBe('failed');
    expect(await h.balance(customer.id)).toBe(40_000);
    expect((await h.check()).problems).toEqual([]);
  });

  it('cancelling with refundDestination card sends the card part to the card at once, the rest to the account', async () => {
    const { customer, order } = await siteWithOrder({ credit: 10_000, address: '5 Split Road', pay: { useAccountCredit: true, paymentMethod: 'pm_card_visa' } });
    const quote = await h.post(`/v1/orders/${order.id}/cancellation-quote`, { refundDestination: 'card' });
    expect(quote.body.destination).toMatchObject({ requested: 'card', card: 30_000, accountCredit: 10_000 });
    const done = await h.post(`/v1/orders/${order.id}/cancel`, { undoneLines: true, refundDestination: 'card', reason: 'x' });
    expect(done.body.refunds.map((r: any) => [r.destination, r.amount]).sort()).toEqual([
      ['account_credit', 10_000],
      ['card', 30_000],
    ]);
    expect(await h.balance(customer.id)).toBe(10_000);
  });
});
