// Human order numbers (SO-000123) from the order_numbers sequence, taken in blocks: one
// statement gives this process the next BLOCK numbers, so creating an order reads nothing
// first and its insert can travel with the rest of its transaction (pipeline-marks.ts).
// This is what a sequence's own CACHE does: numbers are unique and increase within a
// process; with several processes they interleave by block, and numbers a process held
// when it stopped are never used (a sequence never promised no gaps: a rolled-back insert
// always skipped one).
import { sql } from 'kysely';
import type { Trx } from '../../store/db.js';

const BLOCK = 32;

export class OrderNumbers {
  private readonly free: number[] = [];

  /** The next number; on the transaction, so PGlite's single connection is not asked twice. */
  async next(trx: Trx): Promise<string> {
    if (this.free.length === 0) {
      const rows = await sql<{ n: string | number }>`select nextval('order_numbers') as n from generate_series(1, ${BLOCK}::int)`.execute(trx);
      // Two creates may both find the block empty and both take one: both go in, in order.
      this.free.push(...rows.rows.map((r) => Number(r.n)));
      this.free.sort((a, b) => a - b);
    }
    const n = this.free.shift();
    if (n === undefined || !Number.isSafeInteger(n) || n <= 0) throw new Error(`order_numbers gave ${String(n)}`);
    return `SO-${String(n).padStart(6, '0')}`;
  }
}
