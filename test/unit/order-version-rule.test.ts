// Guards the rule the one-statement locked read of an order and the order copies rest on
// (src/services/orders/order-version.ts, order-copies.ts): whatever writes an order's child
// rows holds the order's lock and leaves the order row with a new version. Every place in src/ that
// writes those tables is listed here with why it keeps the rule; a new one fails this test
// until it is checked against the rule and added.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = path.resolve(import.meta.dirname, '../../src');
const CHILD_TABLES = ['order_lines', 'order_payments', 'order_events', 'refunds', 'deadlines', 'payouts'];
const WRITE = new RegExp(
  [
    `(insertInto|updateTable|deleteFrom)\\('(${CHILD_TABLES.join('|')})'\\)`,
    `\\b(insert into|update|delete from) (${CHILD_TABLES.join('|')})\\b`,
    'updateTable\\(capTable\\(', // card-refund caps: top_ups or order_payments
  ].join('|'),
);

/** file → why its writes keep the rule. */
const KEEPS_THE_RULE: Record<string, string> = {
  'services/orders/writes.ts': 'the transition write itself: rewrites the order row in the same statement',
  'services/orders/terms.ts': 'runs inside a transition',
  'services/orders/money.ts': 'runs inside a transition',
  'services/orders/create.ts': 'a new order nobody else can see yet; its transition writes the row',
  'services/orders/firing.ts': 'payouts and dropped deadlines call touchOrder first',
  'services/card-refunds.ts': 'order payments: lockOrderOf (touchOrder) first in send and retry; reserve runs inside a transition; other sources are top-ups and charges',
  'services/refund-records.ts': "insertRefund only builds the INSERT: it runs where card-refunds.ts and orders/money.ts put it (listed here)",
  'services/charges.ts': 'refunds of charges, not of orders',
  'services/adjustments.ts': 'reverses refunds of charges, not of orders',
  'scheduler/deadlines.ts': 'claim leases touch only lease columns; setDeadline is used by firing.ts after touchOrder',
};

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return name === 'migrations' ? [] : files(full);
    return full.endsWith('.ts') ? [full] : [];
  });
}

describe('order child rows are written only where the order-version rule is kept', () => {
  it('every writer of order_lines, order_payments, order_events, refunds or deadlines is a known one', () => {
    const writers = new Set<string>();
    for (const file of files(SRC)) {
      const rel = path.relative(SRC, file).split(path.sep).join('/');
      if (readFileSync(file, 'utf8').split('\n').some((line) => WRITE.test(line))) writers.add(rel);
    }
    const unknown = [...writers].filter((f) => !(f in KEEPS_THE_RULE));
    expect(unknown, `new writers of an order's child rows: check them against src/services/orders/order-version.ts, then list them here`).toEqual([]);
    // The list stays honest: each entry still writes those tables.
    expect(Object.keys(KEEPS_THE_RULE).filter((f) => !writers.has(f))).toEqual([]);
  });
});
