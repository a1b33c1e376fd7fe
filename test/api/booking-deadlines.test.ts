// Every deadline of the booking process on the sandbox test clock, at its boundaries to
// the second: confirmation (24 h, 5 h same day in the business time zone, capped by the
// start), payment (12 h, capped by the start), auto-done (end + 72 h), auto-close (5 days),
// payout (14 days after close); the customer's cancellation window; and deadlines missed
// while "down" firing in order at their due times. The clock only moves forward, so the
// tests below run on one timeline, each at later dates than the one before.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS, type Settings } from '../../src/domain/settings.js';
import { startHarness, type Harness } from '../helpers/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
  await setClock('2030-06-03T08:00:00.000Z');
});
afterAll(() => h.close());

type Party = { id: string; key: string };
interface Parties {
  customer: Party;
  provider: Party;
}

async function setClock(iso: string): Promise<void> {
  const r = await h.post('/v1/test/clock', { to: iso });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  expect(r.body.now).toBe(new Date(iso).toISOString());
}

async function getOrder(id: string) {
  const r = await h.get(`/v1/orders/${id}`);
  expect(r.status).toBe(200);
  return r.body;
}

async function parties(credit = 0): Promise<Parties> {
  return { customer: await h.customer({ credit }), provider: await h.provider() };
}

/** Settings are snapshotted onto each order when it is created: change them, book, restore. */
async function withSettings<T>(patch: Partial<Settings>, fn: () => Promise<T>): Promise<T> {
  if (Object.keys(patch).length === 0) return fn();
  expect((await h.patch('/v1/settings', patch)).status).toBe(200);
  try {
    return await fn();
  } finally {
    const restore = Object.fromEntries(Object.keys(patch).map((k) => [k, DEFAULT_SETTINGS[k as keyof Settings]]));
    expect((await h.patch('/v1/settings', restore)).status).toBe(200);
  }
}

async function book(p: Parties, startsAt: string, endsAt: string, opts: { unitAmount?: number; key?: string } = {}) {
  const r = await h.post(
    '/v1/orders',
    {
      process: 'booking',
      customerId: p.customer.id,
      providerId: p.provider.id,
      currency: 'USD',
      lines: [{ description: 'Session', quantity: 1, unitAmount: opts.unitAmount ?? 10_000, startsAt, endsAt }],
    },
    { key: opts.key ?? p.customer.key },
  );
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body;
}

async function confirmAndPay(p: Parties, id: string, payment: Record<string, unknown> = { useAccountCredit: true }) {
  expect((await h.post(`/v1/orders/${id}/confirm`, {}, { key: p.provider.key })).status).toBe(200);
  const paid = await h.post(`/v1/orders/${id}/pay`, payment, { key: p.customer.key });
  expect(paid.status, JSON.stringify(paid.body)).toBe(200);
  return paid.body;
}

async function payable(providerId: string): Promise<number> {
  return (await h.get(`/v1/providers/${providerId}`)).body.payableBalances?.USD ?? 0;
}

/** The order's deadline is `at` for `action`; one second before it nothing happened, at it the order moved. */
async function expectBoundary(id: string, at: string, action: string, before: string, after: string) {
  const o = await getOrder(id);
  expect(o.deadline).toEqual({ at: new Date(at).toISOString(), action });
  await setClock(new Date(new Date(at).getTime() - 1000).toISOString());
  expect((await getOrder(id)).state, `${action} one second early`).toBe(before);
  await setClock(at);
  const moved = await getOrder(id);
  expect(moved.state, action).toBe(after);
  expect(moved.events.at(-1)).toMatchObject({ transition: action, actor: 'system', from: before, to: after, createdAt: new Date(at).toISOString() });
  return moved;
}

async function expectClean() {
  expect((await h.check()).problems).toEqual([]);
}

describe('confirmation deadline', () => {
  it('24 h after the create, and after each edit: at 24 h − 1 s still open, at 24 h cancelled (confirmation_expired)', async () => {
    const p = await parties();
    const untouched = await book(p, '2030-06-06T10:00:00Z', '2030-06-06T11:00:00Z');
    expect(untouched.deadline).toEqual({ at: '2030-06-04T08:00:00.000Z', action: 'expire_confirmation' });
    const edited = await book(p, '2030-06-06T10:00:00Z', '2030-06-06T11:00:00Z');
    await setClock('2030-06-03T20:00:00Z');
    const e = await h.post(`/v1/orders/${edited.id}/edit`, { comment: 'Bring a tripod' }, { key: p.provider.key });
    expect(e.body).toMatchObject({ awaiting: 'customer', deadline: { at: '2030-06-04T20:00:00.000Z', action: 'expire_confirmation' } });

    const expired = await expectBoundary(edited.id, '2030-06-04T20:00:00.000Z', 'expire_confirmation', 'confirmation', 'cancelled');
    expect(expired).toMatchObject({ deadline: null, cancellation: { reason: 'confirmation_expired', by: 'system' } });
    expect(expired.events.at(-1).reason).toBe('confirmation_expired');
    // The untouched one expired in the same late sweep, recorded at its own due time.
    const first = await getOrder(untouched.id);
    expect(first.state).toBe('cancelled');
    expect(first.events.at(-1)).toMatchObject({ transition: 'expire_confirmation', createdAt: '2030-06-04T08:00:00.000Z' });
  });

  it('5 h when the service starts the same calendar day in the business time zone, across its midnight', async () => {
    const p = await parties();
    // 19:00 in Tokyo, 10:00 UTC. A start at 05:00 Tokyo next day is the same UTC day but not the same Tokyo day.
    await setClock('2030-06-10T10:00:00Z');
    const tokyoNextDay = await withSettings({ timeZone: 'Asia/Tokyo' }, () => book(p, '2030-06-10T20:00:00Z', '2030-06-10T21:00:00Z'));
    const utcSameDay = await book(p, '2030-06-10T20:00:00Z', '2030-06-10T21:00:00Z');
    expect(tokyoNextDay.policies.timeZone).toBe('Asia/Tokyo');
    expect(tokyoNextDay.deadline.at).toBe('2030-06-10T20:00:00.000Z'); // 24 h, capped by the start
    expect(utcSameDay.deadline.at).toBe('2030-06-10T15:00:00.000Z'); // 5 h

    // 01:00 in Tokyo (16:00 UTC the day before). 23:59:59 Tokyo is the same day; 00:00:00 is not.
    await setClock('2030-06-10T16:00:00Z');
    const [beforeMidnight, atMidnight, utcOther] = await withSettings({ timeZone: 'Asia/Tokyo' }, async () => [
      await book(p, '2030-06-11T14:59:59Z', '2030-06-11T15:30:00Z'),
      await book(p, '2030-06-11T15:00:00Z', '2030-06-11T15:30:00Z'),
      await book(p, '2030-06-11T14:00:00Z', '2030-06-11T15:00:00Z'),
    ]);
    const utcSame = await book(p, '2030-06-11T14:00:00Z', '2030-06-11T15:00:00Z');
    expect(beforeMidnight.deadline.at).toBe('2030-06-10T21:00:00.000Z'); // same Tokyo day: 5 h
    expect(atMidnight.deadline.at).toBe('2030-06-11T15:00:00.000Z'); // next Tokyo day: 24 h, capped by the start
    expect(utcOther.deadline.at).toBe('2030-06-10T21:00:00.000Z'); // same Tokyo day, another UTC day
    expect(utcSame.deadline.at).toBe('2030-06-11T14:00:00.000Z'); // UTC: another day, so 24 h capped by the start

    await expectBoundary(beforeMidnight.id, '2030-06-10T21:00:00.000Z', 'expire_confirmation', 'confirmation', 'cancelled');
    // Both deadlines passed on the way were fired at their own times.
    for (const [o, at] of [
      [utcSameDay, '2030-06-10T15:00:00.000Z'],
      [tokyoNextDay, '2030-06-10T20:00:00.000Z'],
    ] as const) {
      expect((await getOrder(o.id)).events.at(-1)).toMatchObject({ transition: 'expire_confirmation', createdAt: at });
    }
    expect((await getOrder(atMidnight.id)).state).toBe('confirmation');

    // Los Angeles (UTC−7 in June): 01:00 local. 23:59:59 local is the same day, 00:00 the next.
    await setClock('2030-06-12T08:00:00Z');
    const [laSame, laNext] = await withSettings({ timeZone: 'America/Los_Angeles' }, async () => [
      await book(p, '2030-06-13T06:59:59Z', '2030-06-13T07:30:00Z'),
      await book(p, '2030-06-13T07:00:00Z', '2030-06-13T07:30:00Z'),
    ]);
    expect(laSame.deadline.at).toBe('2030-06-12T13:00:00.000Z');
    expect(laNext.deadline.at).toBe('2030-06-13T07:00:00.000Z');
    expect((await h.get('/v1/settings')).body.timeZone).toBe('UTC');
    await expectBoundary(laSame.id, '2030-06-12T13:00:00.000Z', 'expire_confirmation', 'confirmation', 'cancelled');
  });

  it('never later than the service start', async () => {
    const p = await parties();
    await setClock('2030-06-15T08:00:00Z');
    const soon = await book(p, '2030-06-15T10:00:00Z', '2030-06-15T11:00:00Z'); // same day: min(13:00, 10:00)
    const tomorrow = await book(p, '2030-06-16T06:00:00Z', '2030-06-16T07:00:00Z'); // next day: min(08:00 tomorrow, 06:00)
    expect(tomorrow.deadline.at).toBe('2030-06-16T06:00:00.000Z');
    const expired = await expectBoundary(soon.id, '2030-06-15T10:00:00.000Z', 'expire_confirmation', 'confirmation', 'cancelled');
    expect(expired.cancellation.reason).toBe('confirmation_expired');
  });
});

describe('payment deadline', () => {
  it('12 h after entering payment: at 12 h − 1 s still payable, at 12 h cancelled (payment_expired) and the seats freed', async () => {
    const p = await parties(10_000);
    await setClock('2030-06-17T08:00:00Z');
    const service = await h.post('/v1/services', {
      name: 'Studio',
      providerId: p.provider.id,
      unitAmount: 10_000,
      currency: 'USD',
      slots: [{ startsAt: '2030-06-20T10:00:00Z', endsAt: '2030-06-20T11:00:00Z', capacity: 3 }],
    });
    const slotId = service.body.slots[0].id;
    const bookSlot = () =>
      h.post('/v1/orders', { process: 'booking', customerId: p.customer.id, providerId: p.provider.id, currency: 'USD', lines: [{ slotId, quantity: 1 }] }, { key: p.customer.key });
    const [unpaid, paidInTime] = [(await bookSlot()).body, (await bookSlot()).body];
    expect((await h.get(`/v1/services/${service.body.id}`)).body.slots[0]).toMatchObject({ booked: 2 });
    await setClock('2030-06-17T09:00:00Z');
    for (const o of [unpaid, paidInTime]) {
      const c = await h.post(`/v1/orders/${o.id}/confirm`, {}, { key: p.provider.key });
      expect(c.body.deadline).toEqual({ at: '2030-06-17T21:00:00.000Z', action: 'expire_payment' });
    }
    await setClock('2030-06-17T20:59:59Z');
    expect((await h.post(`/v1/orders/${paidInTime.id}/pay`, { useAccountCredit: true }, { key: p.customer.key })).body.state).toBe('execution');
    const expired = await expectBoundary(unpaid.id, '2030-06-17T21:00:00.000Z', 'expire_payment', 'payment', 'cancelled');
    expect(expired.cancellation.reason).toBe('payment_expired');
    expect(expired.lines[0].status).toBe('cancelled');
    expect((await h.get(`/v1/services/${service.body.id}`)).body.slots[0]).toMatchObject({ booked: 1, available: 2 });
    // Too late to pay now.
    const late = await h.post(`/v1/orders/${unpaid.id}/pay`, { useAccountCredit: true }, { key: p.customer.key });
    expect([late.status, late.body.error.code]).toEqual([409, 'invalid_state_transition']);
    expect((await getOrder(paidInTime.id)).state).toBe('execution');
  });

  it('never later than the service start', async () => {
    const p = await parties(10_000);
    await setClock('2030-06-21T08:00:00Z');
    const o = await book(p, '2030-06-21T14:00:00Z', '2030-06-21T15:00:00Z');
    expect(o.deadline.at).toBe('2030-06-21T13:00:00.000Z'); // same day: 5 h
    await setClock('2030-06-21T09:00:00Z');
    const c = await h.post(`/v1/orders/${o.id}/confirm`, {}, { key: p.provider.key });
    expect(c.body.deadline).toEqual({ at: '2030-06-21T14:00:00.000Z', action: 'expire_payment' }); // min(21:00, 14:00)
    await expectBoundary(o.id, '2030-06-21T14:00:00.000Z', 'expire_payment', 'payment', 'cancelled');
    expect(await h.balance(p.customer.id)).toBe(10_000);
  });
});

describe('after payment: auto-done, auto-close, payout', () => {
  it('done automatically at end + 72 h, closed 5 days later, paid out 14 days after the close', async () => {
    const p = await parties(20_000);
    await setClock('2030-06-22T08:00:00Z');
    const auto = await book(p, '2030-06-23T10:00:00Z', '2030-06-23T12:00:00Z');
    const manual = await book(p, '2030-06-23T10:00:00Z', '2030-06-23T12:00:00Z');
    const paid = await confirmAndPay(p, auto.id);
    await confirmAndPay(p, manual.id);
    expect(paid.deadline).toEqual({ at: '2030-06-26T12:00:00.000Z', action: 'auto_done' });
    // Marked done after the start: the 5 days run from then.
    await setClock('2030-06-23T11:00:00Z');
    const done = await h.post(`/v1/orders/${manual.id}/mark-done`, {}, { key: p.provider.key });
    expect(done.body).toMatchObject({ state: 'execution_confirmation', deadline: { at: '2030-06-28T11:00:00.000Z', action: 'auto_close' } });

    const autoDone = await expectBoundary(auto.id, '2030-06-26T12:00:00.000Z', 'auto_done', 'execution', 'execution_confirmation');
    expect(autoDone.events.at(-1).reason).toBe('completion_window_elapsed');
    expect(autoDone.lines[0].status).toBe('done');
    expect(autoDone.deadline).toEqual({ at: '2030-07-01T12:00:00.000Z', action: 'auto_close' });

    const closed = await expectBoundary(auto.id, '2030-07-01T12:00:00.000Z', 'auto_close', 'execution_confirmation', 'closed');
    const closedManual = await getOrder(manual.id); // passed on the way, at its own due time
    expect(closedManual.state).toBe('closed');
    expect(closedManual.events.at(-1)).toMatchObject({ transition: 'auto_close', createdAt: '2030-06-28T11:00:00.000Z' });
    expect(closed.events.at(-1).reason).toBe('execution_confirmation_window_elapsed');
    expect(closed).toMatchObject({ closedAt: '2030-07-01T12:00:00.000Z', deadline: { at: '2030-07-15T12:00:00.000Z', action: 'payout' } });
    expect(await payable(p.provider.id)).toBe(20_000);

    // The manual one's payout (due 07-12 11:00) passed on the way to the boundary below.
    await setClock('2030-07-15T11:59:59Z');
    const payouts = async () => (await h.get(`/v1/payouts?providerId=${p.provider.id}`)).body.data;
    expect((await payouts()).map((x: { orderId: string; status: string; paidAt: string | null }) => [x.orderId, x.status, x.paidAt]).sort()).toEqual(
      [
        [auto.id, 'scheduled', null],
        [manual.id, 'paid', '2030-07-12T11:00:00.000Z'],
      ].sort(),
    );
    expect(await payable(p.provider.id)).toBe(10_000);
    await setClock('2030-07-15T12:00:00Z');
    expect((await payouts()).every((x: { status: string }) => x.status === 'paid')).toBe(true);
    const final = await getOrder(auto.id);
    expect(final.deadline).toBeNull();
    expect(final.events.at(-1)).toMatchObject({ type: 'payout.paid', createdAt: '2030-07-15T12:00:00.000Z' });
    expect(await payable(p.provider.id)).toBe(0);
    await expectClean();
  });
});

describe("the customer's cancellation window", () => {
  /** Books and pays an order starting at `startsAt` under `policies`. */
  async function paidOrder(p: Parties, startsAt: string, policies: Partial<Settings> = {}, unitAmount = 10_000) {
    const end = new Date(new Date(startsAt).getTime() + 3600_000).toISOString();
    const o = await withSettings(policies, () => book(p, startsAt, end, { unitAmount }));
    await confirmAndPay(p, o.id);
    return o;
  }
  const cancel = (p: Parties, id: string, key = p.customer.key) => h.post(`/v1/orders/${id}/cancel`, { reason: 'Plans changed' }, { key });
  const quote = (p: Parties, id: string) => h.post(`/v1/orders/${id}/cancellation-quote`, {}, { key: p.customer.key });

  it('exactly 24 h before the start is a full refund; one second less is late (lateCancellationRefundPercent 0 and 50)', async () => {
    const p = await parties(40_000);
    await setClock('2030-07-16T08:00:00Z');
    const start = '2030-07-20T10:00:00Z';
    const exact0 = await paidOrder(p, start);
    const late0 = await paidOrder(p, start);
    const exact50 = await paidOrder(p, start, { lateCancellationRefundPercent: 50 });
    const late50 = await paidOrder(p, start, { lateCancellationRefundPercent: 50 });
    expect(await h.balance(p.customer.id)).toBe(0);

    await setClock('2030-07-19T10:00:00Z');
    for (const o of [exact0, exact50]) {
      expect((await quote(p, o.id)).body).toMatchObject({ total: 10_000, lines: [{ rule: 'full_refund_before_window', hoursBeforeStart: 24, refund: 10_000 }] });
      expect((await cancel(p, o.id)).body).toMatchObject({ state: 'cancelled', amounts: { refunded: 10_000 } });
    }
    await setClock('2030-07-19T10:00:01Z');
    expect((await quote(p, late0.id)).body).toMatchObject({ total: 0, lines: [{ rule: 'late_cancellation', hoursBeforeStart: 23, refund: 0 }] });
    expect((await quote(p, late50.id)).body).toMatchObject({ total: 5_000, lines: [{ rule: 'late_cancellation', refund: 5_000 }] });
    const c0 = await cancel(p, late0.id);
    expect(c0.body).toMatchObject({ state: 'cancelled', amounts: { refunded: 0 } });
    const c50 = await cancel(p, late50.id);
    expect(c50.body).toMatchObject({ state: 'cancelled', amounts: { refunded: 5_000 } });
    expect(c50.body.refunds[0].explanation).toMatchObject({ total: 5_000, lines: [{ rule: 'late_cancellation', hoursBeforeStart: 23 }] });
    // 10,000 + 10,000 + 5,000 back; the 15,000 kept reaches the provider, paid out 14 days later.
    expect(await h.balance(p.customer.id)).toBe(25_000);
    expect(await payable(p.provider.id)).toBe(15_000);
    expect((await getOrder(late50.id)).deadline).toEqual({ at: '2030-08-02T10:00:01.000Z', action: 'payout' });
    await expectClean();
  });

  it('service fee: refunded with a full refund only if refundServiceFeeOnCancellation; kept on a late one; a provider always returns it', async () => {
    const p = await parties(200_000);
    await setClock('2030-07-21T08:00:00Z');
    const start = '2030-07-25T10:00:00Z';
    const fee = { serviceFee: { fixed: 300, percent: 10 } };
    const feeBack = await paidOrder(p, start, fee);
    expect(feeBack.amounts).toMatchObject({ subtotal: 10_000, serviceFee: 1_300, total: 11_300 });
    const feeKept = await paidOrder(p, start, { ...fee, refundServiceFeeOnCancellation: false });
    const byProvider = await paidOrder(p, start, { ...fee, refundServiceFeeOnCancellation: false });
    const late = await paidOrder(p, start, { ...fee, lateCancellationRefundPercent: 50 });
    const platformBefore = (await h.get(`/v1/providers/${p.provider.id}`)).body;
    expect(platformBefore.payableBalances?.USD ?? 0).toBe(0);

    await setClock('2030-07-23T10:00:00Z'); // 48 h ahead
    const q = (await quote(p, feeKept.id)).body;
    expect(q).toMatchObject({ total: 10_000, serviceFee: { amount: 1_300, refund: 0, rule: 'kept_by_policy' } });
    expect((await cancel(p, feeBack.id)).body.amounts).toMatchObject({ refunded: 11_300, refundable: 0 });
    // The kept fee went to the platform when the order ended, and no payout holds any of it.
    expect((await cancel(p, feeKept.id)).body).toMatchObject({ amounts: { refunded: 10_000, refundable: 0 }, payout: null });
    expect((await cancel(p, byProvider.id, p.provider.key)).body.amounts).toMatchObject({ refunded: 11_300 });
    await setClock('2030-07-25T09:00:00Z'); // 1 h ahead: late, half the lines, no fee
    const lateQuote = (await quote(p, late.id)).body;
    expect(lateQuote).toMatchObject({ total: 5_000, serviceFee: { refund: 0, rule: 'kept_not_full_refund' } });
    expect((await cancel(p, late.id)).body.amounts).toMatchObject({ refunded: 5_000 });
    // Kept: the fee 1,300 (platform) on feeKept; 5,000 to the provider and 1,300 fee on late.
    expect(await h.balance(p.customer.id)).toBe(200_000 - 4 * 11_300 + 11_300 + 10_000 + 11_300 + 5_000);
    expect(await payable(p.provider.id)).toBe(5_000);
    await expectClean();
  });

  it('noRefundWithinHours moves the boundary (48 h; 0 h = full refund until the start)', async () => {
    const p = await parties(30_000);
    await setClock('2030-07-26T08:00:00Z');
    const start = '2030-07-29T10:00:00Z';
    const w48exact = await paidOrder(p, start, { noRefundWithinHours: 48 });
    const w48late = await paidOrder(p, start, { noRefundWithinHours: 48 });
    const w0 = await paidOrder(p, start, { noRefundWithinHours: 0 });
    await setClock('2030-07-27T10:00:00Z');
    expect((await quote(p, w48exact.id)).body).toMatchObject({ total: 10_000, lines: [{ rule: 'full_refund_before_window', hoursBeforeStart: 48 }] });
    expect((await cancel(p, w48exact.id)).body.amounts.refunded).toBe(10_000);
    await setClock('2030-07-27T10:00:01Z');
    expect((await quote(p, w48late.id)).body).toMatchObject({ total: 0, lines: [{ rule: 'late_cancellation', hoursBeforeStart: 47 }] });
    await setClock('2030-07-29T09:59:59Z');
    expect((await quote(p, w48late.id)).body.total).toBe(0);
    expect((await quote(p, w0.id)).body).toMatchObject({ total: 10_000, lines: [{ rule: 'full_refund_before_window', hoursBeforeStart: 0 }] });
    expect((await cancel(p, w0.id)).body.amounts.refunded).toBe(10_000);
    // At the start nobody can cancel any more.
    await setClock('2030-07-29T10:00:00Z');
    const tooLate = await cancel(p, w48late.id);
    expect([tooLate.status, tooLate.body.error.code]).toEqual([409, 'service_started']);
    await expectClean();
  });
});

describe('deadlines missed while down', () => {
  it('fire in order when the clock jumps past several at once, each recorded at its due time', async () => {
    const p = await parties(50_000);
    await setClock('2030-08-01T08:00:00Z');
    // An order whose service starts in an hour, paid, to be marked done after the start.
    const doneEarly = await book(p, '2030-08-01T09:00:00Z', '2030-08-01T10:00:00Z');
    await confirmAndPay(p, doneEarly.id);
    const closedEarly = await book(p, '2030-08-01T09:00:00Z', '2030-08-01T10:00:00Z');
    await confirmAndPay(p, closedEarly.id);
    await setClock('2030-08-01T09:00:00Z');
    await h.post(`/v1/orders/${doneEarly.id}/mark-done`, {}, { key: p.provider.key }); // auto_close 08-06 09:00
    await h.post(`/v1/orders/${closedEarly.id}/mark-done`, {}, { key: p.provider.key });
    await h.post(`/v1/orders/${closedEarly.id}/confirm-execution`, {}, { key: p.customer.key }); // payout 08-15 09:00
    const unconfirmed = await book(p, '2030-08-05T10:00:00Z', '2030-08-05T11:00:00Z'); // expires 08-02 09:00
    const unpaid = await book(p, '2030-08-05T10:00:00Z', '2030-08-05T11:00:00Z');
    await h.post(`/v1/orders/${unpaid.id}/confirm`, {}, { key: p.provider.key }); // expires 08-01 21:00
    const running = await book(p, '2030-08-02T10:00:00Z', '2030-08-02T12:00:00Z');
    await confirmAndPay(p, running.id); // auto_done 08-05 12:00, auto_close 08-10 12:00, payout 08-24 12:00

    const expectedFirings: [string, string, string][] = [
      [unpaid.id, 'order.expire_payment', '2030-08-01T21:00:00.000Z'],
      [unconfirmed.id, 'order.expire_confirmation', '2030-08-02T09:00:00.000Z'],
      [running.id, 'order.auto_done', '2030-08-05T12:00:00.000Z'],
      [doneEarly.id, 'order.auto_close', '2030-08-06T09:00:00.000Z'],
      [running.id, 'order.auto_close', '2030-08-10T12:00:00.000Z'],
      [closedEarly.id, 'payout.paid', '2030-08-15T09:00:00.000Z'],
      [doneEarly.id, 'payout.paid', '2030-08-20T09:00:00.000Z'],
      [running.id, 'payout.paid', '2030-08-24T12:00:00.000Z'],
    ];
    const ours = new Set([doneEarly.id, closedEarly.id, unconfirmed.id, unpaid.id, running.id]);
    const eventsOf = async (orderId: string) => (await h.get(`/v1/events?orderId=${orderId}&limit=100`)).body.data as { id: string; orderId: string; type: string; createdAt: string; actor: string }[];
    const seen = new Set<string>();
    for (const id of ours) for (const e of await eventsOf(id)) seen.add(e.id);

    // "Down" for 30 days: one jump.
    await setClock('2030-08-31T09:00:00Z');

    // The outbox order (event ids are time-ordered as written) is the firing order.
    const fired = (await Promise.all([...ours].map(eventsOf))).flat().filter((e) => !seen.has(e.id));
    fired.sort((a, b) => (a.id < b.id ? -1 : 1));
    expect(fired.every((e) => e.actor === 'system')).toBe(true);
    expect(fired.map((e) => [e.orderId, e.type, e.createdAt])).toEqual(expectedFirings);
    // Each order's own history is in time order, and nothing is left pending.
    for (const id of ours) {
      const o = await getOrder(id);
      const times = o.events.map((e: { createdAt: string }) => e.createdAt);
      expect(times, id).toEqual([...times].sort());
      expect(o.deadline, id).toBeNull();
      expect(['closed', 'cancelled']).toContain(o.state);
    }
    expect(await payable(p.provider.id)).toBe(0);
    await expectClean();
  });
});

describe('days are calendar days in the business time zone', () => {
  it('auto-close "5 days later" across the end of daylight saving time in Los Angeles is 121 hours', async () => {
    const p = await parties(10_000);
    await setClock('2030-11-01T15:00:00Z');
    const o = await withSettings({ timeZone: 'America/Los_Angeles' }, () => book(p, '2030-11-01T16:00:00Z', '2030-11-01T17:00:00Z'));
    await confirmAndPay(p, o.id);
    await setClock('2030-11-01T17:00:00Z'); // 10:00 PDT
    const done = await h.post(`/v1/orders/${o.id}/mark-done`, {}, { key: p.provider.key });
    // 10:00 PST on Nov 6 (clocks went back on Nov 3).
    expect(done.body.deadline).toEqual({ at: '2030-11-06T18:00:00.000Z', action: 'auto_close' });
    const closed = await expectBoundary(o.id, '2030-11-06T18:00:00.000Z', 'auto_close', 'execution_confirmation', 'closed');
    expect(closed.deadline).toEqual({ at: '2030-11-20T18:00:00.000Z', action: 'payout' });
  });
});

describe('a person never overtakes a due deadline the sweep has not fired yet', () => {
  it('paying one second after the payment window closed is refused (409 deadline_passed) and the sweep then cancels', async () => {
    const customer = await h.customer({ credit: 10_000 });
    const provider = await h.provider();
    const start = new Date((await h.get('/v1/test/clock')).body.now);
    const order = await h.post(
      '/v1/orders',
      {
        process: 'booking',
        customerId: customer.id,
        providerId: provider.id,
        currency: 'USD',
        lines: [{ description: 'Shoot', quantity: 1, unitAmount: 5_000, startsAt: new Date(start.getTime() + 5 * 86_400_000).toISOString() }],
      },
      { key: customer.key },
    );
    await h.post(`/v1/orders/${order.body.id}/confirm`, {}, { key: provider.key });
    // Move the clock without sweeping, as if the sweep lagged behind.
    await h.app.sandboxClock!.setTo(new Date(start.getTime() + 12 * 3_600_000 + 1_000));
    const late = await h.post(`/v1/orders/${order.body.id}/pay`, { useAccountCredit: true }, { key: customer.key });
    expect(late.status).toBe(409);
    expect(late.body.error.code).toBe('deadline_passed');
    expect(await h.balance(customer.id)).toBe(10_000);
    await h.app.deadlines.runDue();
    expect((await h.get(`/v1/orders/${order.body.id}`)).body).toMatchObject({ state: 'cancelled', cancellation: { reason: 'payment_expired' } });
  });
});

describe('the test clock honours Idempotency-Key', () => {
  it('a retried "advance one day" moves the clock once and replays the first answer; another body with the key is 422', async () => {
    const before = new Date((await h.get('/v1/test/clock')).body.now).getTime();
    const first = await h.post('/v1/test/clock', { advanceSeconds: 86_400 }, { idem: 'clock-advance-once' });
    expect(first.status).toBe(200);
    expect(first.body.now).toBe(new Date(before + 86_400_000).toISOString());
    const retried = await h.post('/v1/test/clock', { advanceSeconds: 86_400 }, { idem: 'clock-advance-once' });
    expect(retried.status).toBe(200);
    expect(retried.headers['idempotent-replayed']).toBe('true');
    expect(retried.body).toEqual(first.body);
    expect((await h.get('/v1/test/clock')).body.now).toBe(first.body.now);
    const other = await h.post('/v1/test/clock', { advanceSeconds: 60 }, { idem: 'clock-advance-once' });
    expect(other.status).toBe(422);
    expect((await h.get('/v1/test/clock')).body.now).toBe(first.body.now);
    // A refused move (backwards) changes nothing and is refused again on retry.
    const back = await h.post('/v1/test/clock', { to: new Date(before).toISOString() }, { idem: 'clock-back' });
    expect(back.status).toBe(400);
    expect(back.body.error.code).toBe('clock_cannot_go_back');
    expect((await h.post('/v1/test/clock', { to: new Date(before).toISOString() }, { idem: 'clock-back' })).body).toEqual(back.body);
    expect((await h.get('/v1/test/clock')).body.now).toBe(first.body.now);
  });
});
