// Access codes: what a QR card carries and a customer types to pre-order. Eight characters
// from an alphabet without look-alikes (no 0/O, 1/I/L), so a code read off a printed card
// is typed right: 31^8 ≈ 8.5e11 codes, drawn from the system's CSPRNG (a code is the only
// thing between a stranger and a child's photos).
import { randomInt } from 'node:crypto';

const ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';
export const ACCESS_CODE_LENGTH = 8;

export function newAccessCode(): string {
  let code = '';
  for (let i = 0; i < ACCESS_CODE_LENGTH; i++) code += ALPHABET[randomInt(ALPHABET.length)];
  return code;
}

/** How people type a code: any case, spaces and dashes ignored. */
export function normalizeAccessCode(input: string): string {
  return input.replace(/[\s-]/g, '').toUpperCase();
}
