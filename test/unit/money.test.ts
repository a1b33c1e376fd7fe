import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  addMinor,
  allocateMinor,
  formatMinor,
  isAmountMinor,
  percentOfMinor,
  percentToBasisPoints,
  proportionalShareMinor,
} from '../../src/domain/money.js';
import { currencyExponent, isCurrency } from '../../src/domain/currencies.js';

describe('currencies', () => {
  it('knows the exponents of ISO 4217', () => {
    expect(currencyExponent('USD')).toBe(2);
    expect(currencyExponent('EUR')).toBe(2);
    expect(currencyExponent('JPY')).toBe(0);
    expect(currencyExponent('KRW')).toBe(0);
    expect(currencyExponent('KWD')).toBe(3);
    expect(currencyExponent('BHD')).toBe(3);
    expect(currencyExponent('CLF')).toBe(4);
  });
  it('refuses what is not a currency', () => {
    for (const c of ['usd', 'ZZZ', 'US', 'USDD', '', 'XXX']) expect(isCurrency(c)).toBe(false);
    expect(() => currencyExponent('ZZZ')).toThrow();
  });
});

describe('amounts', () => {
  it('accepts only safe non-negative integers', () => {
    for (const ok of [0, 1, 1500, Number.MAX_SAFE_INTEGER]) expect(isAmountMinor(ok)).toBe(true);
    for (const bad of [-1, 1.5, 0.1 + 0.2, Number.MAX_SAFE_INTEGER + 1, NaN, Infinity, '1500', null]) expect(isAmountMinor(bad)).toBe(false);
  });
  it('refuses to overflow instead of losing cents', () => {
    expect(addMinor(1, 2, 3)).toBe(6);
    expect(() => addMinor(Number.MAX_SAFE_INTEGER, 1)).toThrow('overflow');
  });
  it('formats by the currency exponent, exactly', () => {
    expect(formatMinor(1500, 'USD')).toBe('15.00');
    expect(formatMinor(5, 'USD')).toBe('0.05');
    expect(formatMinor(-5, 'USD')).toBe('-0.05');
    expect(formatMinor(1500, 'JPY')).toBe('1500');
    expect(formatMinor(1500, 'KWD')).toBe('1.500');
    expect(formatMinor(Number.MAX_SAFE_INTEGER, 'USD')).toBe('90071992547409.91');
  });
});

describe('percentages', () => {
  it('rounds half away from zero in basis points', () => {
    expect(percentOfMinor(999, 1250)).toBe(125); // 124.875
    expect(percentOfMinor(1000, 1250)).toBe(125);
    expect(percentOfMinor(1, 5000)).toBe(1); // 0.5 → 1
    expect(percentOfMinor(-1, 5000)).toBe(-1);
    expect(percentOfMinor(0, 10000)).toBe(0);
    expect(percentOfMinor(Number.MAX_SAFE_INTEGER, 10000)).toBe(Number.MAX_SAFE_INTEGER);
  });
  it('turns percents with up to two decimals into basis points', () => {
    expect(percentToBasisPoints(12.5)).toBe(1250);
    expect(percentToBasisPoints(0.01)).toBe(1);
    expect(percentToBasisPoints(33.33)).toBe(3333);
    expect(() => percentToBasisPoints(1.005)).toThrow();
  });
  it('never exceeds the amount and is exact at 0% and 100%', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), fc.integer({ min: 0, max: 10000 }), (a, bp) => {
        const p = percentOfMinor(a, bp);
        return Number.isSafeInteger(p) && p >= 0 && p <= a && percentOfMinor(a, 0) === 0 && percentOfMinor(a, 10000) === a;
      }),
    );
  });
});

describe('splitting money', () => {
  it('allocates exactly, largest remainder first', () => {
    expect(allocateMinor(100, [1, 1, 1])).toEqual([34, 33, 33]);
    expect(allocateMinor(5, [0, 0])).toEqual([0, 0]);
    expect(allocateMinor(10, [3, 7])).toEqual([3, 7]);
  });
  it('allocations always sum to the amount', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10 ** 12 }), fc.array(fc.integer({ min: 0, max: 10 ** 6 }), { minLength: 1, maxLength: 20 }), (a, w) => {
        const parts = allocateMinor(a, w);
        const total = parts.reduce((s, p) => s + p, 0);
        return w.every((x) => x > 0) ? total === a : total === a || w.every((x) => x === 0);
      }),
    );
  });
  it('cumulative proportional shares add up to the whole after everything is taken', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10 ** 9 }), fc.integer({ min: 0, max: 10 ** 6 }), fc.array(fc.integer({ min: 1, max: 1000 }), { maxLength: 30 }), (whole, commissionRaw, steps) => {
        const commission = Math.min(commissionRaw, whole);
        let taken = 0;
        let sum = 0;
        for (const s of steps) {
          const next = Math.min(whole, taken + s);
          sum += proportionalShareMinor(commission, next, whole) - proportionalShareMinor(commission, taken, whole);
          taken = next;
        }
        sum += proportionalShareMinor(commission, whole, whole) - proportionalShareMinor(commission, taken, whole);
        return sum === commission;
      }),
    );
  });
});
