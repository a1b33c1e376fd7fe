import { describe, expect, it } from 'vitest';
import { hasPrefix, newId } from '../../src/domain/ids.js';

describe('ids', () => {
  it('are prefixed and 26 chars of Crockford base32 after the prefix', () => {
    const id = newId('customer');
    expect(id).toMatch(/^cus_[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(hasPrefix(id, 'customer')).toBe(true);
    expect(hasPrefix(id, 'provider')).toBe(false);
  });
  it('sort in creation order, also within one millisecond', () => {
    const ids = Array.from({ length: 5000 }, () => newId('transaction'));
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
