// The proof must catch what it claims to: each kind of damage, made by hand in SQL
// (bypassing the services), shows up in `check` with its kind. Foreign keys no longer
// guard postings and charges (migration 005), so the orphans are checked here too.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { startHarness, type Harness } from '../helpers/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

async function kinds(): Promise<string[]> {
  return [...new Set((await h.check()).problems.map((p) => p.kind))].sort();
}

describe('settle check finds damage', () => {
  it('is clean after real traffic, and each kind of damage is reported (and goes away when repaired)', async () => {
    const db = h.app.services.store.db;
    const customer = await h.customer({ credit: 5_000 });
    const provider = await h.provider();
    const charge = await h.post('/v1/charges', { customerId: customer.id, providerId: provider.id, amount: 1_000, currency: 'USD', description: 'd' });
    expect(charge.status).toBe(200);
    expect(await kinds()).toEqual([]);

    // A kept balance that disagrees with its postings.
    const credit = `acct_customer_credit_${customer.id}_USD`;
    await sql`update account_balances set balance = balance + 1 where account_id = ${credit}`.execute(db);
    expect(await kinds()).toEqual(['balance_mismatch']);
    await sql`update account_balances set balance = balance - 1 where account_id = ${credit}`.execute(db);
    expect(await kinds()).toEqual([]);

    // A charge whose provider does not exist.
    await sql`update charges set provider_id = 'prv_0000000000GONE' where id = ${charge.body.id}`.execute(db);
    expect(await kinds()).toEqual(['orphan_charge']);
    await sql`update charges set provider_id = ${provider.id} where id = ${charge.body.id}`.execute(db);

    // A posting to an account that does not exist, in a transaction that does not exist.
    await sql`insert into postings (transaction_id, account_id, amount) values ('txn_0000000000GONE', 'acct_nowhere', 5)`.execute(db);
    expect(await kinds()).toEqual(['orphan_posting']);
  });
});
