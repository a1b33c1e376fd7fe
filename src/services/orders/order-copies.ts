// Copies of the orders this process wrote last, so the next transition on one of them needs
// no read: it starts from the copy and its first statement (sent with the transition's
// next one, not waited for) locks the order and checks the row is still the version the
// copy was made from. Anything that changes an order, its lines, payments, deadline,
// refunds or events gives the order row a new version (the rule in order-version.ts), so
// an equal version means an equal order. A different one (another process, a deadline
// firing) raises a serialization failure: the transaction is rolled back and run again
// (retryOnConflict), and the copy is gone by then, so it reads the order. A transition's own
// card refunds settle after its commit and touch the order: its copy is held until then and
// put back at the last settle's version, if each settle found the version the one before
// left (putAfterSettles).
//
// A copy is taken out while a transition uses it (a second request on the same order reads
// and waits on the lock as before) and put back only after that transaction committed.
// Bounded in number and in age; the version is the row's xmin, which a copy must not
// outlive by anything near the 2^32 transactions it takes to come round again.
import { sql } from 'kysely';
import type { Trx } from '../../store/db.js';
import { deferredMark } from '../../store/pipeline-marks.js';
import type { OrderExtras, OrderRecord } from './records.js';
import type { SentRefund } from '../card-refunds.js';

export type OrderCopy = OrderRecord & { extras: OrderExtras };

export interface OrderCopiesOptions {
  maxCopies: number;
  maxAgeMs: number;
}

const DEFAULTS: OrderCopiesOptions = { maxCopies: 1_024, maxAgeMs: 5 * 60_000 };

export class OrderCopies {
  private readonly copies = new Map<string, { version: string; copy: OrderCopy; storedAtMs: number }>();
  private readonly options: OrderCopiesOptions;
  /**
   * Counters for tests: copies used; used but found stale (run again); payments from credit
   * taken without a check that the credit then did not cover (run again, see money.ts).
   */
  readonly counts = { used: 0, stale: 0, shortcutsUndone: 0 };

  constructor(options: Partial<OrderCopiesOptions> = {}) {
    this.options = { ...DEFAULTS, ...options };
    if (!(this.options.maxCopies >= 0 && this.options.maxAgeMs >= 0)) throw new Error('OrderCopies: limits must be ≥ 0');
  }

  /** The copy of the order, taken out (the caller owns it now), if there is a fresh one. */
  take(orderId: string, nowMs = Date.now()): { version: string; copy: OrderCopy } | undefined {
    const entry = this.copies.get(orderId);
    if (!entry) return undefined;
    this.copies.delete(orderId);
    if (nowMs - entry.storedAtMs > this.options.maxAgeMs) return undefined;
    this.counts.used++;
    return { version: entry.version, copy: entry.copy };
  }

  /** Keeps a copy of the order as a committed transaction left it (`version`: the row's xmin then). */
  put(orderId: string, version: string, copy: OrderCopy, nowMs = Date.now()): void {
    if (this.options.maxCopies === 0) return;
    this.copies.delete(orderId);
    while (this.copies.size >= this.options.maxCopies) {
      const oldest = this.copies.keys().next().value as string;
      this.copies.delete(oldest);
    }
    // A copy of its own: the request's answer and history may share the objects it was made from.
    this.copies.set(orderId, { version, copy: cloneRows(copy), storedAtMs: nowMs });
  }

  drop(orderId: string): void {
    this.copies.delete(orderId);
  }

  has(orderId: string): boolean {
    return this.copies.has(orderId);
  }

  get size(): number {
    return this.copies.size;
  }
}

/** A transition's copy of the order, held back until its card refunds have settled. */
export interface HeldCopy {
  version: string;
  copy: OrderCopy;
}

/**
 * Puts back a copy held while its card refunds settled (each settle touches the order, so
 * gives it a new version), with those refunds as settled. Only if every one succeeded and
 * each settle found the order at the version the write before it left: then nothing else
 * wrote the order in between, and the copy at the last settle's version is the stored
 * order. Otherwise the next transition reads the order. A copy there now was put by a
 * later transition in this process (the held one's was dropped at its commit): it stays.
 */
export function putAfterSettles(copies: OrderCopies, held: HeldCopy, sent: SentRefund[], nowMs = Date.now()): boolean {
  const orderId = held.copy.order.id;
  if (copies.has(orderId)) return false;
  let version = held.version;
  for (const s of sent) {
    if (s.refund.status !== 'succeeded' || !s.orderVersions || s.orderVersions.before !== version) return false;
    version = s.orderVersions.after;
  }
  const settled = new Map(sent.map((s) => [s.refund.id, s.refund]));
  const refunds = held.copy.extras.refunds.map((r) => settled.get(r.id) ?? r);
  if (refunds.filter((r) => settled.has(r.id)).length !== settled.size) return false; // not all of them in the copy: a bug, but no reason to fail
  copies.put(orderId, version, { ...held.copy, extras: { ...held.copy.extras, refunds } }, nowMs);
  return true;
}

/** Deeper than any order record nests; beyond it (a cycle?) structuredClone decides. */
const MAX_CLONE_DEPTH = 32;

/**
 * A deep copy of rows as the database gives them: plain objects, arrays, Dates, primitives.
 * ~4× faster than structuredClone for an order's copy (measured: 24–37 against 114–138 µs),
 * which was ~4.6 % of the server's CPU in booking lifecycles. Anything else (a class
 * instance, a typed array, a Map) and anything nested deeper than MAX_CLONE_DEPTH goes to
 * structuredClone. Shared objects come out as separate copies, which a copy may well have.
 */
export function cloneRows<T>(value: T, depth = 0): T {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'function') throw new TypeError('cloneRows: a function is not row data');
    return value;
  }
  if (depth >= MAX_CLONE_DEPTH) return structuredClone(value);
  if (value instanceof Date) return new Date(value.getTime()) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => cloneRows(v, depth + 1)) as T;
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return structuredClone(value);
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) out[key] = cloneRows((value as Record<string, unknown>)[key], depth + 1);
  return out as T;
}

/**
 * Locks the order and raises a serialization failure unless its row is still `version`.
 * Deferred: it goes out ahead of the transaction's next statement, which its failure fails.
 * The lock is taken in a CTE, so the version compared is the locked (newest) row's.
 */
export async function lockAtVersion(trx: Trx, orderId: string, version: string, options: { deferred: boolean }): Promise<void> {
  await sql`with locked as (select o.xmin::text as version from orders o where o.id = ${orderId} for update)
    select settle_retry_unless((select version from locked) = ${version}::text)
    ${options.deferred ? deferredMark() : sql``}`.execute(trx);
}

/**
 * A check for tests (SETTLE_VERIFY_ORDER_COPIES=1): the copy must equal the order as read
 * under its lock — anything that changed the order without a new version, or a transition
 * that changed its working copy differently from what it wrote, shows up here.
 */
export function assertCopyCurrent(copy: OrderCopy, read: OrderCopy): void {
  const a = canonical(copy);
  const b = canonical(read);
  if (a === b) return;
  let at = 0;
  while (at < a.length && a[at] === b[at]) at++;
  throw new Error(`order copy differs from the stored order ${read.order.id} at …${a.slice(Math.max(0, at - 80), at + 80)}… vs …${b.slice(Math.max(0, at - 80), at + 80)}…`);
}

function canonical(value: unknown): string {
  return JSON.stringify(value, function (this: unknown, key: string, v: unknown) {
    const raw = (this as Record<string, unknown>)[key];
    if (raw instanceof Date) return raw.toISOString();
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      return Object.fromEntries(Object.keys(v).sort().map((k) => [k, (v as Record<string, unknown>)[k]]));
    }
    return v;
  });
}
