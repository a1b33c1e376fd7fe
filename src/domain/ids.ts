// Prefixed, time-ordered ids (Stripe-style prefix, ULID-style body) so that
// "newest first" and cursor pagination are an index scan on the id alone.
import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'; // Crockford base32, sorts like the bytes
let lastMs = 0;
let lastRandom: Uint8Array = new Uint8Array(10);

function encode128(bytes: Uint8Array): string {
  let n = 0n;
  for (const byte of bytes) n = (n << 8n) | BigInt(byte);
  let out = '';
  for (let i = 0; i < 26; i++) {
    out = ALPHABET[Number(n & 31n)] + out;
    n >>= 5n;
  }
  return out;
}

/** 26 chars: 48-bit millisecond time + 80 random bits, monotonic within this process. */
export function ulid(nowMs = Date.now()): string {
  let random: Uint8Array;
  if (nowMs <= lastMs) {
    random = Uint8Array.from(lastRandom);
    for (let i = random.length - 1; i >= 0; i--) {
      random[i] = ((random[i] as number) + 1) & 0xff;
      if (random[i] !== 0) break;
    }
    nowMs = lastMs;
  } else {
    random = randomBytes(10);
  }
  lastMs = nowMs;
  lastRandom = random;
  const time = new Uint8Array(6);
  let t = nowMs;
  for (let i = 5; i >= 0; i--) {
    time[i] = t % 256;
    t = Math.floor(t / 256);
  }
  const bytes = new Uint8Array(16);
  bytes.set(time, 0);
  bytes.set(random, 6);
  return encode128(bytes);
}

export const ID_PREFIXES = {
  customer: 'cus',
  provider: 'prv',
  apiKey: 'key',
  transaction: 'txn',
  topUp: 'tu',
  charge: 'ch',
  refund: 're',
  payment: 'pay',
  payout: 'po',
  account: 'acct',
  order: 'ord',
  line: 'li',
  service: 'svc',
  slot: 'slot',
  site: 'site',
  event: 'evt',
  proposal: 'prop',
} as const;

export type IdKind = keyof typeof ID_PREFIXES;

export function newId(kind: IdKind): string {
  return `${ID_PREFIXES[kind]}_${ulid()}`;
}

export function hasPrefix(id: string, kind: IdKind): boolean {
  return id.startsWith(`${ID_PREFIXES[kind]}_`);
}
