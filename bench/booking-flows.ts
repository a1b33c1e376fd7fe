// The booking flows the issue-3 benchmarks drive over HTTP (bench/lifecycle.ts, bench/ab.ts):
// the full lifecycle (create → confirm → pay → mark-done → confirm-execution) and the paid →
// cancel → refund flow (2-line booking → confirm → card payment → cancel one line ≥ 24 h
// ahead → cancel the rest, all refunded). Staff (operator) drive every step, as the engine
// allows; lifecycle bookings have no service time, so "mark done" is allowed at once.
import { randomUUID } from 'node:crypto';
import type { Client } from './load.js';

export type Flow = (client: number, n: number) => Promise<void>;

export interface BookingParties {
  providers: string[];
  customers: string[];
}

/** One provider per client and four customers per client, each with credit for any run. */
export async function setupParties(c: Client, clients: number): Promise<BookingParties> {
  const providers = [];
  for (let i = 0; i < clients; i++) providers.push((await c.json({ method: 'POST', path: '/v1/providers', body: { email: `p${i}-${randomUUID()}@x.test`, name: `P${i}` } })).id);
  const customers = [];
  for (let i = 0; i < clients * 4; i++) {
    const cus = await c.json({ method: 'POST', path: '/v1/customers', body: { email: `c${i}-${randomUUID()}@x.test`, name: `C${i}` } });
    await c.json({ method: 'POST', path: `/v1/customers/${cus.id}/top-ups`, body: { amount: 900_000_000, currency: 'USD', paymentMethod: 'pm_card_visa' } });
    customers.push(cus.id);
  }
  return { providers, customers };
}

/** The two flows; `onCall` gets each call's latency (ms). Every call has its own idempotency key. */
export function bookingFlows(c: Client, parties: BookingParties, onCall: (ms: number) => void = () => undefined): { lifecycle: Flow; cancel: Flow } {
  const { providers, customers } = parties;
  /** A call whose 2xx answer the flow reads on (parsed) or only checks (`parse` false). */
  const call = async (path: string, body: unknown, parse = false) => {
    const t0 = performance.now();
    const text = await c.ok({ method: 'POST', path, body, headers: { 'idempotency-key': randomUUID() } });
    onCall(performance.now() - t0);
    return parse ? JSON.parse(text) : undefined;
  };
  /** A booking made by staff for the client's n-th customer with its provider. */
  const book = (client: number, n: number, lines: unknown[]) =>
    call('/v1/orders', {
      process: 'booking',
      customerId: customers[(client * 4 + (n % 4)) % customers.length],
      providerId: providers[client % providers.length],
      currency: 'USD',
      onBehalfOf: 'customer',
      lines,
    }, true);
  const lifecycle: Flow = async (client, n) => {
    const order = await book(client, n, [{ description: 'Session', quantity: 1, unitAmount: 10_000 }]);
    for (const step of ['confirm', 'pay', 'mark-done', 'confirm-execution']) {
      await call(`/v1/orders/${order.id}/${step}`, step === 'pay' ? { useAccountCredit: true } : {});
    }
  };
  const day = 86_400_000;
  const cancel: Flow = async (client, n) => {
    const base = Date.now() + 3 * day;
    const order = await book(
      client,
      n,
      [0, 1].map((i) => ({ description: `Session ${i}`, quantity: 1, unitAmount: 5_000, startsAt: new Date(base + i * day).toISOString(), endsAt: new Date(base + i * day + 3_600_000).toISOString() })),
    );
    await call(`/v1/orders/${order.id}/confirm`, {});
    const paid = await call(`/v1/orders/${order.id}/pay`, { useAccountCredit: false, paymentMethod: 'pm_card_visa' }, true);
    await call(`/v1/orders/${order.id}/cancel`, { lineIds: [paid.lines[0].id], reason: 'bench', refundDestination: 'card' });
    await call(`/v1/orders/${order.id}/cancel`, { reason: 'bench', refundDestination: 'card' });
  };
  return { lifecycle, cancel };
}

/** `clients` closed loops running `flow` for `seconds`: flows completed and flows that failed. */
export async function runFlows(clients: number, seconds: number, flow: Flow): Promise<{ flows: number; errors: number }> {
  let flows = 0;
  let errors = 0;
  const stopAt = Date.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: clients }, async (_, client) => {
      for (let n = 0; Date.now() < stopAt; n++) {
        try {
          await flow(client, n);
          flows++;
        } catch {
          errors++;
        }
      }
    }),
  );
  return { flows, errors };
}
