// Helpers for order tests: a frozen clock, a customer/provider pair, booking creation.
import { expect } from 'vitest';
import type { Harness } from './harness.js';

export const HOUR = 3600;
export const DAY = 24 * HOUR;

/** Freezes the test clock at `iso` (each test file starts on a fresh database). */
export async function freezeClock(h: Harness, iso: string): Promise<void> {
  const r = await h.post('/v1/test/clock', { to: iso });
  expect(r.status).toBe(200);
}

export async function advance(h: Harness, seconds: number): Promise<string> {
  const r = await h.post('/v1/test/clock', { advanceSeconds: seconds });
  expect(r.status).toBe(200);
  return r.body.now;
}

export async function now(h: Harness): Promise<Date> {
  return new Date((await h.get('/v1/test/clock')).body.now);
}

export function isoIn(base: Date, seconds: number): string {
  return new Date(base.getTime() + seconds * 1000).toISOString();
}

export async function parties(h: Harness, credit = 0) {
  const customer = await h.customer({ credit });
  const provider = await h.provider();
  return { customer, provider };
}

export async function book(
  h: Harness,
  p: { customer: { id: string; key: string }; provider: { id: string } },
  opts: { startsInSeconds: number; durationSeconds?: number; unitAmount?: number; key?: string; lines?: number },
) {
  const base = await now(h);
  const lines = Array.from({ length: opts.lines ?? 1 }, (_, i) => ({
    description: `Session ${i + 1}`,
    quantity: 1,
    unitAmount: opts.unitAmount ?? 10_000,
    startsAt: isoIn(base, opts.startsInSeconds + i * DAY),
    endsAt: isoIn(base, opts.startsInSeconds + i * DAY + (opts.durationSeconds ?? HOUR)),
  }));
  const r = await h.post(
    '/v1/orders',
    { process: 'booking', customerId: p.customer.id, providerId: p.provider.id, currency: 'USD', lines },
    { key: opts.key ?? p.customer.key },
  );
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body;
}
