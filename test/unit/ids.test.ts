import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { encode128, hasPrefix, newId } from '../../src/domain/ids.js';

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

describe('encode128', () => {
  // The base32 of a 128-bit number, computed the slow and obvious way.
  const reference = (bytes: Uint8Array) => {
    let n = 0n;
    for (const byte of bytes) n = (n << 8n) | BigInt(byte);
    let out = '';
    for (let i = 0; i < 26; i++) {
      out = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'[Number(n & 31n)] + out;
      n >>= 5n;
    }
    return out;
  };
  it('is the base32 of the 128-bit number the bytes spell, for any bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (bytes) => encode128(bytes) === reference(bytes)), { numRuns: 2_000 });
    expect(encode128(new Uint8Array(16).fill(255))).toBe(reference(new Uint8Array(16).fill(255)));
    expect(encode128(new Uint8Array(16))).toBe('0'.repeat(26));
    expect(() => encode128(new Uint8Array(15))).toThrow(/16 bytes/);
  });
});
