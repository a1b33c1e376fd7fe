// Money is always an integer count of minor units plus an ISO 4217 currency.
// Arithmetic that can exceed 2^53 (percentages of large amounts) goes through BigInt.
import { currencyExponent } from './currencies.js';

export const MAX_AMOUNT_MINOR = Number.MAX_SAFE_INTEGER;
/** Percentages are stored as basis points (1% = 100 bp) so they stay integers. */
export const BASIS_POINTS_PER_PERCENT = 100;
export const FULL_BASIS_POINTS = 100 * BASIS_POINTS_PER_PERCENT;

export function isAmountMinor(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

export function isSignedAmountMinor(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value);
}

export function assertAmountMinor(value: number, what = 'amount'): void {
  if (!isAmountMinor(value)) throw new Error(`${what} must be a non-negative safe integer, got ${value}`);
}

/** Sum that refuses to leave the safe-integer range instead of silently losing cents. */
export function addMinor(...amounts: number[]): number {
  let total = 0;
  for (const a of amounts) {
    total += a;
    if (!Number.isSafeInteger(total)) throw new Error('amount overflow');
  }
  return total;
}

/**
 * amountMinor × basisPoints / 10000, rounded half away from zero.
 * Used for fees, commissions and partial refunds; exact for any safe amount.
 */
export function percentOfMinor(amountMinor: number, basisPoints: number): number {
  if (!Number.isSafeInteger(amountMinor)) throw new Error('amount must be a safe integer');
  if (!Number.isSafeInteger(basisPoints) || basisPoints < 0) throw new Error('basis points must be a non-negative integer');
  const sign = amountMinor < 0 ? -1n : 1n;
  const product = BigInt(Math.abs(amountMinor)) * BigInt(basisPoints);
  const full = BigInt(FULL_BASIS_POINTS);
  const rounded = (product + full / 2n) / full;
  return Number(sign * rounded);
}

/**
 * The share of `part/whole` of `amountMinor`, floored. Computing cumulative shares
 * (share(total so far) − share(total before)) guarantees that the pieces add up
 * exactly to the whole once everything has been taken.
 */
export function proportionalShareMinor(amountMinor: number, part: number, whole: number): number {
  if (whole <= 0) return 0;
  if (part < 0 || part > whole) throw new Error('part must be within 0..whole');
  return Number((BigInt(amountMinor) * BigInt(part)) / BigInt(whole));
}

/** Splits an amount over weights with the largest-remainder method; the parts sum exactly to the amount. */
export function allocateMinor(amountMinor: number, weights: readonly number[]): number[] {
  const totalWeight = weights.reduce((s, w) => s + BigInt(w), 0n);
  if (totalWeight === 0n) return weights.map(() => 0);
  const amount = BigInt(amountMinor);
  const parts = weights.map((w) => (amount * BigInt(w)) / totalWeight);
  const remainders = weights.map((w, i) => ({ i, r: (amount * BigInt(w)) % totalWeight }));
  let left = amount - parts.reduce((s, p) => s + p, 0n);
  remainders.sort((a, b) => (a.r === b.r ? a.i - b.i : a.r > b.r ? -1 : 1));
  for (const { i } of remainders) {
    if (left <= 0n) break;
    parts[i] = (parts[i] as bigint) + 1n;
    left -= 1n;
  }
  return parts.map(Number);
}

/** "15.00" for (1500, USD), "1500" for (1500, JPY): exact decimal text, no floats. */
export function formatMinor(amountMinor: number, currency: string): string {
  const exponent = currencyExponent(currency);
  const negative = amountMinor < 0;
  const digits = String(Math.abs(amountMinor)).padStart(exponent + 1, '0');
  const whole = exponent === 0 ? digits : digits.slice(0, -exponent);
  const frac = exponent === 0 ? '' : `.${digits.slice(-exponent)}`;
  return `${negative ? '-' : ''}${whole}${frac}`;
}

/** Percent given by a person (e.g. 2.5) → basis points (250); at most two decimals. */
export function percentToBasisPoints(percent: number): number {
  const bp = Math.round(percent * BASIS_POINTS_PER_PERCENT);
  if (Math.abs(bp - percent * BASIS_POINTS_PER_PERCENT) > 1e-6) throw new Error('percent has more than two decimals');
  return bp;
}
