// The business every bench run works on: a commission setting, providers, and
// customers with account credit from a card top-up; and the charge request itself.
import { mapConcurrent, type BenchRequest, type Client } from './load.js';
import { round } from './stats.js';

export interface BusinessOptions {
  customers: number;
  providers: number;
  topUpMinor: number;
  commissionPercent: number;
  tag: string;
}

export interface Business {
  customers: string[];
  providers: string[];
  setupS: number;
}

/** Creates the business over HTTP (8 requests in flight). */
export async function setupBusiness(client: Client, o: BusinessOptions): Promise<Business> {
  const t0 = performance.now();
  const idem = (what: string, i: number) => ({ 'idempotency-key': `bench-${o.tag}-${what}-${i}` });
  await client.json({ method: 'PATCH', path: '/v1/settings', body: { providerCommissionPercent: o.commissionPercent }, headers: idem('settings', 0) });
  const providers = await mapConcurrent(Array.from({ length: o.providers }), 8, async (_, i) =>
    (await client.json<{ id: string }>({ method: 'POST', path: '/v1/providers', body: { name: `Provider ${i}`, email: `provider-${o.tag}-${i}@bench.example` }, headers: idem('prv', i) })).id,
  );
  const customers = await mapConcurrent(Array.from({ length: o.customers }), 8, async (_, i) => {
    const c = await client.json<{ id: string }>({ method: 'POST', path: '/v1/customers', body: { name: `Customer ${i}`, email: `customer-${o.tag}-${i}@bench.example` }, headers: idem('cus', i) });
    await client.json({ method: 'POST', path: `/v1/customers/${c.id}/top-ups`, body: { amount: o.topUpMinor, currency: 'USD', paymentMethod: 'pm_card_visa' }, headers: idem('tu', i) });
    return c.id;
  });
  return { customers, providers, setupS: round((performance.now() - t0) / 1000) };
}

export function pick<T>(list: readonly T[]): T {
  return list[Math.floor(Math.random() * list.length)] as T;
}

/** The i-th charge: a random customer spends 1.00–9.99 with a random provider. */
export function chargeRequest(b: Business, tag: string, i: number): BenchRequest {
  return {
    method: 'POST',
    path: '/v1/charges',
    headers: { 'idempotency-key': `bench-${tag}-charge-${i}` },
    body: { customerId: pick(b.customers), providerId: pick(b.providers), amount: 100 + (i % 900), currency: 'USD', description: `Private chat, ${1 + (i % 30)} minutes` },
  };
}
