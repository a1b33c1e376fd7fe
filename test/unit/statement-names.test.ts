// Prepared-statement names (src/store/statement-names.ts): one name per statement text,
// however the text was built; never one name for two texts (a wrong name would run another
// statement); DDL unnamed; exactly MAX_PREPARED names at most. Each test has the module fresh.
import { beforeEach, describe, expect, it, vi } from 'vitest';

let statementName: (text: string) => string | undefined;
let MAX_PREPARED: number;
beforeEach(async () => {
  vi.resetModules();
  ({ statementName, MAX_PREPARED } = await import('../../src/store/statement-names.js'));
});

/** The text built piece by piece, as Kysely builds it: a new string each time. */
const built = (text: string) => text.split(' ').reduce((s, w, i) => (i === 0 ? w : `${s} ${w}`), '');

describe('statement names', () => {
  it('gives one text the same name however it was built, and texts of equal length their own', () => {
    const a = 'select a from t where id = $1';
    const b = 'select b from t where id = $1';
    expect(a.length).toBe(b.length);
    const nameA = statementName(built(a));
    const nameB = statementName(built(b));
    expect(nameA).toMatch(/^s\d+$/);
    expect(nameB).toMatch(/^s\d+$/);
    expect(nameB).not.toBe(nameA);
    expect(statementName(a)).toBe(nameA);
    expect(statementName(built(b))).toBe(nameB);
    expect(statementName(`${a} `)).not.toBe(nameA);
  });

  it('never names DDL', () => {
    expect(statementName('alter table t add column c int')).toBeUndefined();
    expect(statementName('  CREATE index i on t (c)')).toBeUndefined();
  });

  it('names exactly MAX_PREPARED texts, each its own, and keeps those names past the limit', () => {
    const names = Array.from({ length: MAX_PREPARED }, (_, i) => statementName(`select ${i} as n where $1::int > 0`));
    expect(names.every((n) => n !== undefined)).toBe(true);
    expect(new Set(names).size).toBe(MAX_PREPARED);
    expect(statementName('select 1 where $1::int > 0 /* after the limit */')).toBeUndefined();
    expect(statementName(built('select 7 as n where $1::int > 0'))).toBe(names[7]);
  });
});
