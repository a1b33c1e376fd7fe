// cloneRows (src/services/orders/order-copies.ts): the copy an order copy keeps must equal
// what it was made from and share nothing with it, or a later request would change it.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cloneRows } from '../../src/services/orders/order-copies.js';

/** Every object and array reachable from `v`. */
function containers(v: unknown, out = new Set<object>()): Set<object> {
  if (v !== null && typeof v === 'object' && !out.has(v)) {
    out.add(v);
    for (const child of Object.values(v)) containers(child, out);
  }
  return out;
}

const rowValue = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.double({ noNaN: true }),
    fc.string(),
    fc.date({ noInvalidDate: true }),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.string({ maxLength: 6 }), tie('value'), { maxKeys: 5 }),
  ),
})).value;

describe('cloneRows', () => {
  it('gives an equal value that shares no object with the original', () => {
    fc.assert(
      fc.property(rowValue, (value) => {
        const copy = cloneRows(value);
        expect(copy).toEqual(value);
        const mine = containers(copy);
        for (const theirs of containers(value)) expect(mine.has(theirs)).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps Dates as Dates, hands what is not row data to structuredClone, refuses functions', () => {
    const at = new Date('2030-05-06T08:00:00.000Z');
    const row = { at, nested: { list: [at, { n: 1 }] }, tags: new Map([['a', 1]]) };
    const copy = cloneRows(row);
    expect(copy.at).toBeInstanceOf(Date);
    expect(copy.at).not.toBe(at);
    expect(copy.at.getTime()).toBe(at.getTime());
    expect(copy.tags).toBeInstanceOf(Map);
    expect(copy.tags).not.toBe(row.tags);
    expect(copy.tags.get('a')).toBe(1);
    expect(() => cloneRows({ f: () => 1 })).toThrow(TypeError);
  });

  it('survives a cycle (beyond its depth limit structuredClone takes over)', () => {
    const a: Record<string, unknown> = { name: 'a' };
    a.self = a;
    const copy = cloneRows(a) as Record<string, unknown>;
    expect(copy.name).toBe('a');
    expect(copy.self).not.toBe(a);
  });
});
