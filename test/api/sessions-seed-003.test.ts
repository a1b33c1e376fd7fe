// Seed 003 (venue sessions): customers edit or cancel their own booked sessions online,
// as the business's settings allow, with "refund upon cancellation, but no refund within
// X hours of the session".
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../helpers/harness.js';
import { advance, DAY, freezeClock, HOUR, isoIn, now, parties } from '../helpers/booking.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
  await freezeClock(h, '2030-05-06T09:00:00.000Z');
});
afterAll(() => h.close());

/** A class with three weekly sessions, 8 seats each, and a customer who booked all three and paid. */
async function bookedSessions(credit = 30_000) {
  const p = await parties(h, credit);
  const base = await now(h);
  const slots = [2, 9, 16].map((d) => ({ startsAt: isoIn(base, d * DAY), endsAt: isoIn(base, d * DAY + HOUR), capacity: 8 }));
  const service = await h.post('/v1/services', { name: 'Pottery class', providerId: p.provider.id, unitAmount: 9_000, currency: 'USD', slots }, { key: p.provider.key });
  expect(service.status).toBe(200);
  const [s1, s2, s3] = service.body.slots;
  const order = await h.post(
    '/v1/orders',
    {
      process: 'booking',
      customerId: p.customer.id,
      providerId: p.provider.id,
      currency: 'USD',
      lines: [
        { slotId: s1.id, quantity: 1, participantName: 'Maya' },
        { slotId: s2.id, quantity: 1, participantName: 'Maya' },
        { slotId: s3.id, quantity: 1, participantName: 'Maya' },
      ],
    },
    { key: p.customer.key },
  );
  expect(order.status, JSON.stringify(order.body)).toBe(200);
  await h.post(`/v1/orders/${order.body.id}/confirm`, {}, { key: p.provider.key });
  const paid = await h.post(`/v1/orders/${order.body.id}/pay`, { useAccountCredit: true }, { key: p.customer.key });
  expect(paid.body.state).toBe('execution');
  return { ...p, service: service.body, order: paid.body };
}

describe('seed 003: customers edit, cancel and get refunds for their sessions online', () => {
  it('the customer sees their transactions and receipts, and only their own', async () => {
    const { customer, order } = await bookedSessions();
    const mine = await h.get('/v1/orders', { key: customer.key });
    expect(mine.body.data.map((o: any) => o.id)).toEqual([order.id]);
    const receipt = await h.get(`/v1/orders/${order.id}`, { key: customer.key });
    expect(receipt.body).toMatchObject({ number: order.number, amounts: { total: 27_000, paid: 27_000 } });
    const txns = await h.get(`/v1/customers/${customer.id}/transactions`, { key: customer.key });
    expect(txns.body.data[0]).toMatchObject({ type: 'order_payment', amount: -27_000, orderId: order.id });
    const stranger = await h.customer();
    expect((await h.get(`/v1/orders/${order.id}`, { key: stranger.key })).status).toBe(404);
  });

  it('"Edit Session": another date/time slot with free seats, or another participant', async () => {
    const { customer, service, order } = await bookedSessions();
    const base = await now(h);
    const extra = await h.post(`/v1/services/${service.id}/slots`, { slots: [{ startsAt: isoIn(base, 3 * DAY), endsAt: isoIn(base, 3 * DAY + HOUR), capacity: 1 }] });
    const newSlot = extra.body.slots.find((s: any) => s.capacity === 1);
    const line = order.lines[0];
    const moved = await h.patch(`/v1/orders/${order.id}/lines/${line.id}`, { slotId: newSlot.id, participantName: 'Maya R.' }, { key: customer.key });
    expect(moved.status, JSON.stringify(moved.body)).toBe(200);
    expect(moved.body.lines[0]).toMatchObject({ slotId: newSlot.id, participantName: 'Maya R.', startsAt: newSlot.startsAt });
    const slots = (await h.get(`/v1/services/${service.id}`)).body.slots;
    expect(slots.find((s: any) => s.id === line.slotId).booked).toBe(0);
    expect(slots.find((s: any) => s.id === newSlot.id).booked).toBe(1);
    // That slot is now full: another guest of the same class cannot move into it.
    const other = await h.customer({ credit: 9_000 });
    const theirs = await h.post(
      '/v1/orders',
      { process: 'booking', customerId: other.id, providerId: order.providerId, currency: 'USD', lines: [{ slotId: line.slotId, quantity: 1, participantName: 'Ben' }] },
      { key: other.key },
    );
    await h.post(`/v1/orders/${theirs.body.id}/confirm`, {});
    await h.post(`/v1/orders/${theirs.body.id}/pay`, { useAccountCredit: true }, { key: other.key });
    const full = await h.patch(`/v1/orders/${theirs.body.id}/lines/${theirs.body.lines[0].id}`, { slotId: newSlot.id }, { key: other.key });
    expect(full.status).toBe(422);
    expect(full.body.error.code).toBe('slot_full');
    // A slot of another class is refused too.
    const elsewhere = await bookedSessions();
    const wrong = await h.patch(`/v1/orders/${theirs.body.id}/lines/${theirs.body.lines[0].id}`, { slotId: elsewhere.order.lines[0].slotId }, { key: other.key });
    expect(wrong.body.error.code).toBe('slot_of_other_service');
  });

  it('"Allow Guest to Modify Sessions" off: customers cannot edit; staff still can', async () => {
    const { customer, order } = await bookedSessions();
    await h.patch('/v1/settings', { allowCustomerEdits: false });
    try {
      const later = await bookedSessions(); // created under the new setting
      const refused = await h.patch(`/v1/orders/${later.order.id}/lines/${later.order.lines[0].id}`, { participantName: 'Noah' }, { key: later.customer.key });
      expect(refused.status).toBe(422);
      expect(refused.body.error.code).toBe('customer_edits_not_allowed');
      expect((await h.patch(`/v1/orders/${later.order.id}/lines/${later.order.lines[0].id}`, { participantName: 'Noah' })).status).toBe(200);
      // An order created before the change keeps the terms it was sold under.
      expect((await h.patch(`/v1/orders/${order.id}/lines/${order.lines[0].id}`, { participantName: 'Noah' }, { key: customer.key })).status).toBe(200);
    } finally {
      await h.patch('/v1/settings', { allowCustomerEdits: true });
    }
  });

  it('"Cancel Session(s)" → "Confirm Cancellations": each session judged by its own start, no refund within X hours', async () => {
    await h.patch('/v1/settings', { noRefundWithinHours: 48 });
    try {
      const { customer, order } = await bookedSessions();
      // 30 h later: the first session is 18 h away (inside 48 h), the others 6 and 13 days away.
      await advance(h, 30 * HOUR);
      const [first, second, third] = order.lines;
      const quote = await h.post(`/v1/orders/${order.id}/cancellation-quote`, { lineIds: [first.id, second.id] }, { key: customer.key });
      expect(quote.status).toBe(200);
      expect(quote.body.lines).toMatchObject([
        { lineId: first.id, refund: 0, rule: 'late_cancellation', hoursBeforeStart: 18 },
        { lineId: second.id, refund: 9_000, rule: 'full_refund_before_window', hoursBeforeStart: 186 },
      ]);
      expect(quote.body.total).toBe(9_000);
      const balanceBefore = await h.balance(customer.id);
      const done = await h.post(`/v1/orders/${order.id}/cancel`, { lineIds: [first.id, second.id], reason: 'Travelling' }, { key: customer.key });
      expect(done.status, JSON.stringify(done.body)).toBe(200);
      // The same numbers as the quote, and the refund keeps the explanation.
      expect(done.body.lines.map((l: any) => [l.status, l.refunded])).toEqual([
        ['cancelled', 0],
        ['cancelled', 9_000],
        ['open', 0],
      ]);
      expect(done.body.state).toBe('execution');
      expect(done.body.refunds[0].explanation.lines).toEqual(quote.body.lines);
      expect(await h.balance(customer.id)).toBe(balanceBefore + 9_000);
      // The freed seats are bookable again.
      expect(third.status).toBe('open');
      // Cancelling the last session cancels the order.
      const last = await h.post(`/v1/orders/${order.id}/cancel`, { lineIds: [third.id], reason: 'Travelling' }, { key: customer.key });
      expect(last.body.state).toBe('cancelled');
      expect((await h.check()).problems).toEqual([]);
    } finally {
      await h.patch('/v1/settings', { noRefundWithinHours: 24 });
    }
  });

  it('a session that has started can no longer be cancelled or edited by the customer', async () => {
    const { customer, order } = await bookedSessions();
    await advance(h, 2 * DAY);
    const r = await h.post(`/v1/orders/${order.id}/cancel`, { lineIds: [order.lines[0].id] }, { key: customer.key });
    expect(r.status).toBe(409);
    expect(r.body.error.code).toBe('service_started');
    const e = await h.patch(`/v1/orders/${order.id}/lines/${order.lines[0].id}`, { participantName: 'X' }, { key: customer.key });
    expect(e.status).toBe(409);
  });
});

describe('seed 003: a booking of several sessions is done when its last session has begun', () => {
  // Last in the file: it moves the test clock two days on.
  it('marking done waits for every open session (booking 1.1.0); orders created under 1.0.0 keep their rule', async () => {
    const current = await bookedSessions();
    const legacy = await bookedSessions();
    expect(current.order.processVersion).toBe('1.2.0');
    await h.app.services.store.db.updateTable('orders').set({ process_version: '1.0.0' }).where('id', '=', legacy.order.id).execute();
    await advance(h, 2 * DAY + 60); // the first session has begun, the next two are a week and two ahead

    const early = await h.post(`/v1/orders/${current.order.id}/mark-done`, {}, { key: current.provider.key });
    expect([early.status, early.body.error?.code, early.body.error?.lineId], JSON.stringify(early.body)).toEqual([409, 'service_not_started', current.order.lines[2].id]);
    // So the sessions still ahead stay the customer's to cancel, with their refund.
    const [, second, third] = current.order.lines;
    const cancelled = await h.post(`/v1/orders/${current.order.id}/cancel`, { lineIds: [second.id, third.id], reason: 'Moving away' }, { key: current.customer.key });
    expect(cancelled.status, JSON.stringify(cancelled.body)).toBe(200);
    expect(cancelled.body.amounts).toMatchObject({ paid: 27_000, refunded: 18_000 });
    const done = await h.post(`/v1/orders/${current.order.id}/mark-done`, {}, { key: current.provider.key });
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    expect(done.body.lines.map((l: { status: string }) => l.status)).toEqual(['done', 'cancelled', 'cancelled']);

    // 1.0.0 allowed it after the first start and completed every open line.
    const old = await h.post(`/v1/orders/${legacy.order.id}/mark-done`, {}, { key: legacy.provider.key });
    expect(old.status, JSON.stringify(old.body)).toBe(200);
    expect(old.body).toMatchObject({ processVersion: '1.0.0', state: 'execution_confirmation' });
    expect(old.body.lines.map((l: { status: string }) => l.status)).toEqual(['done', 'done', 'done']);
    expect((await h.check()).problems).toEqual([]);
  });
});
