// Races on booking orders. On PostgreSQL the requests really run in parallel through the
// pool, so row locks, the deadline re-check and conditional seat updates are what keep
// the outcome right; on PGlite the single connection interleaves them. In every race
// exactly one conflicting transition wins, the losers get a 409 (or the rule's 422), the
// money matches the winner and the ledger proof stays clean.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS, type Settings } from '../../src/domain/settings.js';
import { sql } from 'kysely';
import { startHarness, type Harness, type Res } from '../helpers/harness.js';
import { TEST_DB } from '../helpers/db.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ poolSize: 20 });
  await setClock('2030-09-02T08:00:00.000Z');
});
afterAll(() => h.close());

type Party = { id: string; key: string };
type OrderBody = { id: string; lines: { id: string }[]; deadline: { at: string; action: string } | null };

const SECOND = 1000;
const HOUR = 3600 * SECOND;
const DAY = 24 * HOUR;

let clockMs = 0;
async function setClock(iso: string): Promise<void> {
  const r = await h.post('/v1/test/clock', { to: iso });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  clockMs = new Date(r.body.now).getTime();
}
const iso = (ms: number) => new Date(ms).toISOString();

async function withSettings<T>(patch: Partial<Settings>, fn: () => Promise<T>): Promise<T> {
  expect((await h.patch('/v1/settings', patch)).status).toBe(200);
  try {
    return await fn();
  } finally {
    const restore = Object.fromEntries(Object.keys(patch).map((k) => [k, DEFAULT_SETTINGS[k as keyof Settings]]));
    expect((await h.patch('/v1/settings', restore)).status).toBe(200);
  }
}

async function ok(r: Promise<Res>, what: string): Promise<Res> {
  const res = await r;
  expect(res.status, `${what}: ${JSON.stringify(res.body)}`).toBe(200);
  return res;
}

async function book(customer: Party, provider: Party, startMs: number, endMs: number, unitAmount = 10_000): Promise<OrderBody> {
  const r = await ok(
    h.post(
      '/v1/orders',
      {
        process: 'booking',
        customerId: customer.id,
        providerId: provider.id,
        currency: 'USD',
        lines: [{ description: 'Session', quantity: 1, unitAmount, startsAt: iso(startMs), endsAt: iso(endMs) }],
      },
      { key: customer.key },
    ),
    'book',
  );
  return r.body;
}

const getOrder = async (id: string) => (await h.get(`/v1/orders/${id}`)).body;

/** Interleaves the launches so no kind of request always starts first. */
function shuffled<T>(items: T[], seed: number): T[] {
  const out = [...items];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

const codeOf = (r: Res) => `${r.status} ${r.body?.error?.code ?? ''}`.trim();

describe('the customer cancels while the deadline fires while the provider marks done', () => {
  it('exactly one wins, the others get 409, and the money follows the winner', async () => {
    const tally = { cancel: 0, mark_done: 0, auto_done: 0 };
    for (let round = 0; round < 3; round++) {
      const customer = await h.customer({ credit: 80_000 });
      const provider = await h.provider();
      // Full refund for the customer right up to the start, so a winning cancel returns everything.
      const start = clockMs + 2 * DAY;
      const end = start + HOUR;
      const orders = await withSettings({ noRefundWithinHours: 0 }, async () => {
        const out = [];
        for (let i = 0; i < 8; i++) out.push(await book(customer, provider, start, end));
        return out;
      });
      await Promise.all(
        orders.map(async (o) => {
          await ok(h.post(`/v1/orders/${o.id}/confirm`, {}, { key: provider.key }), 'confirm');
          await ok(h.post(`/v1/orders/${o.id}/pay`, { useAccountCredit: true }, { key: customer.key }), 'pay');
        }),
      );
      // One second before the start: only the cancel is possible. The clock then jumps to
      // exactly end + 72 h, where mark-done is allowed and auto_done is due.
      await setClock(iso(start - SECOND));
      const due = end + 72 * HOUR;
      expect((await getOrder(orders[0]!.id)).deadline).toEqual({ at: iso(due), action: 'auto_done' });
      type Shot = { kind: 'cancel' | 'mark_done' | 'clock'; orderId?: string; run: () => Promise<Res> };
      const shots: Shot[] = [
        { kind: 'clock', run: () => h.post('/v1/test/clock', { to: iso(due) }) },
        ...orders.flatMap((o): Shot[] => [
          { kind: 'cancel', orderId: o.id, run: () => h.post(`/v1/orders/${o.id}/cancel`, { reason: 'Changed my mind' }, { key: customer.key }) },
          { kind: 'mark_done', orderId: o.id, run: () => h.post(`/v1/orders/${o.id}/mark-done`, {}, { key: provider.key }) },
        ]),
      ];
      const order = shuffled(shots, round + 7);
      const results = await Promise.all(order.map(async (s) => ({ ...s, res: await s.run() })));
      clockMs = due;
      expect(results.find((r) => r.kind === 'clock')!.res.status).toBe(200);

      let refundedTotal = 0;
      for (const o of orders) {
        const mine = results.filter((r) => r.orderId === o.id);
        const cancel = mine.find((r) => r.kind === 'cancel')!.res;
        const done = mine.find((r) => r.kind === 'mark_done')!.res;
        const after = await getOrder(o.id);
        const leftExecution = after.events.filter((e: { from: string }) => e.from === 'execution');
        expect(leftExecution, JSON.stringify(after.events)).toHaveLength(1);
        const winner = leftExecution[0].transition as 'cancel' | 'mark_done' | 'auto_done';
        tally[winner]++;
        // The losers: a 409, whichever way they lost (too late, too early, or already moved).
        for (const [kind, res] of [
          ['cancel', cancel],
          ['mark_done', done],
        ] as const) {
          if (kind === winner) expect(res.status, JSON.stringify(res.body)).toBe(200);
          else expect(['409 invalid_state_transition', '409 service_started', '409 service_not_started', '409 deadline_passed'], `${kind} lost to ${winner}`).toContain(codeOf(res));
        }
        if (winner === 'cancel') {
          expect(after).toMatchObject({ state: 'cancelled', deadline: null, amounts: { paid: 10_000, refunded: 10_000, refundable: 0 } });
          refundedTotal += 10_000;
        } else {
          expect(after).toMatchObject({ state: 'execution_confirmation', deadline: { action: 'auto_close' }, amounts: { paid: 10_000, refunded: 0 } });
          expect(after.lines[0].status).toBe('done');
          if (winner === 'auto_done') expect(leftExecution[0]).toMatchObject({ actor: 'system', createdAt: iso(due) });
        }
      }
      expect(await h.balance(customer.id)).toBe(80_000 - 8 * 10_000 + refundedTotal);
      // A refused or stale deadline fired nothing twice: one auto_done at most per order.
      const autoDone = (await h.get(`/v1/events?type=order.auto_done&limit=100`)).body.data.filter((e: { orderId: string }) =>
        orders.some((o) => o.id === e.orderId),
      );
      expect(autoDone.length).toBe(orders.filter((o) => results.every((r) => r.orderId !== o.id || r.res.status !== 200)).length);
      expect((await h.check()).problems).toEqual([]);
      await setClock(iso(due + HOUR));
    }
    expect(tally.cancel + tally.mark_done + tally.auto_done).toBe(24);
    console.log(h.kind, 'winners', tally);
  });
});

describe('user transitions racing a deadline that keeps its time', () => {
  it('a staff refund racing the clock past auto-close: the clock answers only once every due deadline has fired', async () => {
    const customer = await h.customer({ credit: 80_000 });
    const provider = await h.provider();
    const start = clockMs + HOUR;
    const orders: OrderBody[] = [];
    for (let i = 0; i < 8; i++) orders.push(await book(customer, provider, start, start + HOUR));
    await Promise.all(
      orders.map(async (o) => {
        await ok(h.post(`/v1/orders/${o.id}/confirm`, {}, { key: provider.key }), 'confirm');
        await ok(h.post(`/v1/orders/${o.id}/pay`, { useAccountCredit: true }, { key: customer.key }), 'pay');
      }),
    );
    await setClock(iso(start));
    await Promise.all(orders.map((o) => ok(h.post(`/v1/orders/${o.id}/mark-done`, {}, { key: provider.key }), 'mark-done')));
    const due = start + 5 * DAY;
    expect((await getOrder(orders[0]!.id)).deadline).toEqual({ at: iso(due), action: 'auto_close' });
    await setClock(iso(due - SECOND));
    // A refund keeps the order in execution_confirmation, so it rewrites the same deadline
    // (holding its row) — or it comes after the close and is refused.
    let statesWhenClockAnswered: string[] = [];
    const shots = [
      {
        orderId: null,
        run: async () => {
          const r = await h.post('/v1/test/clock', { to: iso(due) });
          statesWhenClockAnswered = await Promise.all(orders.map(async (o) => (await getOrder(o.id)).state));
          return r;
        },
      },
      ...orders.map((o) => ({ orderId: o.id, run: () => h.post(`/v1/orders/${o.id}/refunds`, { amount: 1_000, destination: 'account_credit' }) })),
    ];
    const results = await Promise.all(shuffled(shots, 1).map(async (s) => ({ ...s, res: await s.run() })));
    clockMs = due;
    expect(statesWhenClockAnswered).toEqual(orders.map(() => 'closed'));
    let refunded = 0;
    for (const o of orders) {
      const res = results.find((r) => r.orderId === o.id)!.res;
      const after = await getOrder(o.id);
      expect(after.events.filter((e: { transition: string }) => e.transition === 'auto_close')).toMatchObject([{ createdAt: iso(due) }]);
      if (res.status === 200) {
        expect(after.amounts.refunded).toBe(1_000);
        refunded += 1_000;
      } else {
        // Lost: either after the deadline fired, or refused because it was already due.
        expect(['409 invalid_state_transition', '409 deadline_passed']).toContain(codeOf(res));
        expect(after.amounts.refunded).toBe(0);
      }
    }
    expect(await h.balance(customer.id)).toBe(refunded);
    expect((await h.check()).problems).toEqual([]);
  });

  // PostgreSQL only: on PGlite's single connection a held transaction blocks every request.
  it.runIf(TEST_DB === 'postgres')('the clock waits for a due deadline whose row another transaction holds (SKIP LOCKED passed it over)', async () => {
    const customer = await h.customer();
    const provider = await h.provider();
    const o = await book(customer, provider, clockMs + 3 * DAY, clockMs + 3 * DAY + HOUR);
    const due = clockMs + DAY;
    expect(o.deadline).toEqual({ at: iso(due), action: 'expire_confirmation' });
    let release!: () => void;
    let locked!: () => void;
    const isLocked = new Promise<void>((resolve) => (locked = resolve));
    const holder = h.app.services.store.db.transaction().execute(async (trx) => {
      await sql`select order_id from deadlines where order_id = ${o.id} for update`.execute(trx);
      locked();
      await new Promise<void>((resolve) => (release = resolve));
    });
    await isLocked;
    let answered = false;
    const clock = h.post('/v1/test/clock', { to: iso(due) }).then((r) => {
      answered = true;
      return r;
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(answered, 'the clock answered with a due deadline unfired').toBe(false);
    release();
    await holder;
    expect((await clock).status).toBe(200);
    clockMs = due;
    const after = await getOrder(o.id);
    expect(after).toMatchObject({ state: 'cancelled', deadline: null });
    expect(after.events.at(-1)).toMatchObject({ transition: 'expire_confirmation', createdAt: iso(due) });
  });
});

describe('slots are never overbooked', () => {
  it('30 concurrent bookings of a 10-seat slot: exactly 10 succeed, the rest are refused slot_full', async () => {
    const provider = await h.provider();
    const customers = await Promise.all(Array.from({ length: 5 }, () => h.customer()));
    const service = await ok(
      h.post('/v1/services', {
        name: 'Group class',
        providerId: provider.id,
        unitAmount: 2_500,
        currency: 'USD',
        slots: [{ startsAt: iso(clockMs + 3 * DAY), endsAt: iso(clockMs + 3 * DAY + HOUR), capacity: 10 }],
      }),
      'service',
    );
    const slotId = service.body.slots[0].id;
    const attempt = (c: Party, i: number) =>
      h.post(
        '/v1/orders',
        { process: 'booking', customerId: c.id, providerId: provider.id, currency: 'USD', lines: [{ slotId, quantity: 1, participantName: `Guest ${i}` }] },
        { key: c.key },
      );
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => attempt(customers[i % 5]!, i)));
    const won = results.filter((r) => r.status === 200);
    expect(won).toHaveLength(10);
    expect(results.filter((r) => r.status !== 200).map(codeOf)).toEqual(Array(20).fill('422 slot_full'));
    const slot = async () => (await h.get(`/v1/services/${service.body.id}`)).body.slots[0];
    expect(await slot()).toMatchObject({ capacity: 10, booked: 10, available: 0 });
    const live = await h.get(`/v1/orders?providerId=${provider.id}&limit=100`);
    expect(live.body.data).toHaveLength(10);

    // Cancellations freeing seats race new bookings: the count always equals the live bookings.
    const cancels = won.slice(0, 5).map((r) => {
      const c = customers.find((x) => x.id === r.body.customerId)!;
      return () => h.post(`/v1/orders/${r.body.id}/cancel`, { reason: 'Cannot come' }, { key: c.key });
    });
    const rebooks = Array.from({ length: 10 }, (_, i) => () => attempt(customers[i % 5]!, 100 + i));
    const second = await Promise.all(shuffled([...cancels, ...rebooks], 3).map((f) => f()));
    expect(second.filter((r) => r.body.state === 'cancelled')).toHaveLength(5);
    expect(second.filter((r) => r.status !== 200).every((r) => codeOf(r) === '422 slot_full')).toBe(true);
    const rebooked = second.filter((r) => r.status === 200 && r.body.state === 'confirmation').length;
    const all = (await h.get(`/v1/orders?providerId=${provider.id}&limit=100`)).body.data;
    const holding = all.filter((o: { state: string }) => o.state !== 'cancelled');
    expect(holding.length).toBeLessThanOrEqual(10);
    expect(await slot()).toMatchObject({ booked: holding.length });
    expect(holding.length).toBe(5 + rebooked);
    expect((await h.check()).problems).toEqual([]);
  });
});

describe('pay races cancel', () => {
  it('either the payment lands first and the cancel refunds it, or the cancel wins and nothing is charged', async () => {
    const customer = await h.customer({ credit: 60_000 });
    const provider = await h.provider();
    const start = clockMs + 3 * DAY;
    const orders: OrderBody[] = [];
    for (let i = 0; i < 10; i++) orders.push(await book(customer, provider, start, start + HOUR, 10_000));
    await Promise.all(orders.map((o) => ok(h.post(`/v1/orders/${o.id}/confirm`, {}, { key: provider.key }), 'confirm')));
    // Half pay with account credit, half by card (the cancel then sends the refund back to the card).
    const byCard = (i: number) => i % 2 === 1;
    const shots = orders.flatMap((o, i) => [
      {
        kind: 'pay',
        i,
        run: () => h.post(`/v1/orders/${o.id}/pay`, byCard(i) ? { paymentMethod: 'pm_card_visa' } : { useAccountCredit: true }, { key: customer.key }),
      },
      {
        kind: 'cancel',
        i,
        run: () =>
          h.post(`/v1/orders/${o.id}/cancel`, { reason: 'Double booked', refundDestination: byCard(i) ? 'card' : 'account_credit' }, { key: i % 3 === 0 ? provider.key : customer.key }),
      },
    ]);
    const results = await Promise.all(shuffled(shots, 11).map(async (s) => ({ ...s, res: await s.run() })));
    for (const [i, o] of orders.entries()) {
      const pay = results.find((r) => r.i === i && r.kind === 'pay')!.res;
      const cancel = results.find((r) => r.i === i && r.kind === 'cancel')!.res;
      const after = await getOrder(o.id);
      // The cancel is allowed in payment and in execution, so it always succeeds.
      expect(cancel.status, JSON.stringify(cancel.body)).toBe(200);
      expect(after.state).toBe('cancelled');
      if (pay.status === 200) {
        expect(after.amounts).toMatchObject({ paid: 10_000, refunded: 10_000, refundable: 0 });
        expect(after.events.map((e: { transition: string }) => e.transition)).toEqual(['create', 'confirm', 'pay', 'cancel']);
        if (byCard(i)) expect(after.refunds.filter((r: { destination: string; status: string }) => r.destination === 'card' && r.status === 'succeeded')).toHaveLength(1);
      } else {
        expect(codeOf(pay)).toBe('409 invalid_state_transition');
        expect(after.amounts).toMatchObject({ paid: 0, refunded: 0 });
        expect(after.payments).toEqual([]);
      }
    }
    // Whatever the interleaving, the customer ends where they started.
    expect(await h.balance(customer.id)).toBe(60_000);
    expect((await h.check()).problems).toEqual([]);
  });

  it('two payments of one order at once: one charge, the other 409', async () => {
    const customer = await h.customer({ credit: 10_000 });
    const provider = await h.provider();
    const o = await book(customer, provider, clockMs + 3 * DAY, clockMs + 3 * DAY + HOUR);
    await ok(h.post(`/v1/orders/${o.id}/confirm`, {}, { key: provider.key }), 'confirm');
    const results = await Promise.all([
      h.post(`/v1/orders/${o.id}/pay`, { useAccountCredit: true }, { key: customer.key }),
      h.post(`/v1/orders/${o.id}/pay`, { paymentMethod: 'pm_card_visa' }, { key: customer.key }),
      h.post(`/v1/orders/${o.id}/pay`, { useAccountCredit: true }),
    ]);
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.status !== 200).map(codeOf)).toEqual(['409 invalid_state_transition', '409 invalid_state_transition']);
    const after = await getOrder(o.id);
    expect(after.amounts).toMatchObject({ paid: 10_000 });
    expect(after.payments).toHaveLength(1);
    expect((await h.check()).problems).toEqual([]);
  });
});

describe('accept races decline', () => {
  it('one answer to a proposal wins, the other finds no pending proposal', async () => {
    const customer = await h.customer({ credit: 80_000 });
    const provider = await h.provider();
    const start = clockMs + 3 * DAY;
    const orders: OrderBody[] = [];
    for (let i = 0; i < 8; i++) orders.push(await book(customer, provider, start, start + HOUR));
    await Promise.all(
      orders.map(async (o) => {
        await ok(h.post(`/v1/orders/${o.id}/confirm`, {}, { key: provider.key }), 'confirm');
        await ok(h.post(`/v1/orders/${o.id}/pay`, { useAccountCredit: true }, { key: customer.key }), 'pay');
        await ok(h.post(`/v1/orders/${o.id}/proposal`, { lines: [{ id: o.lines[0]!.id, unitAmount: 7_000 }] }, { key: provider.key }), 'propose');
      }),
    );
    const shots = orders.flatMap((o, i) => [
      { kind: 'accept', i, run: () => h.post(`/v1/orders/${o.id}/proposal/accept`, {}, { key: customer.key }) },
      // Staff decline some, the customer (from another tab) others.
      { kind: 'decline', i, run: () => h.post(`/v1/orders/${o.id}/proposal/decline`, {}, i % 2 ? { key: customer.key } : {}) },
    ]);
    const results = await Promise.all(shuffled(shots, 5).map(async (s) => ({ ...s, res: await s.run() })));
    let refunded = 0;
    for (const [i, o] of orders.entries()) {
      const mine = results.filter((r) => r.i === i);
      const winners = mine.filter((r) => r.res.status === 200);
      expect(winners, JSON.stringify(mine.map((r) => [r.kind, codeOf(r.res)]))).toHaveLength(1);
      const loser = mine.find((r) => r.res.status !== 200)!;
      expect(codeOf(loser.res)).toBe('409 no_pending_proposal');
      const after = await getOrder(o.id);
      expect(after.proposal).toBeNull();
      if (winners[0]!.kind === 'accept') {
        expect(after.amounts).toMatchObject({ total: 7_000, paid: 10_000, refunded: 3_000, refundable: 7_000 });
        refunded += 3_000;
      } else {
        expect(after.amounts).toMatchObject({ total: 10_000, paid: 10_000, refunded: 0 });
      }
    }
    expect(await h.balance(customer.id)).toBe(refunded);
    expect((await h.check()).problems).toEqual([]);
  });
});
