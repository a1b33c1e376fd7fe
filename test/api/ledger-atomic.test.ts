// A ledger write that is a statement on its own (ledger.post `atomic`, used by charges):
// no transaction rolls it back, so when it is refused the statement must undo itself
// (settle_refuse, migration 008). Each way of being refused — the guard, a balance, a
// companion row not written — must leave every balance, transaction and row as it was.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { customerCredit, platform, providerPayable } from '../../src/ledger/accounts.js';
import { startHarness, type Harness } from '../helpers/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h?.close());

/** A ledger write moving `amountMinor` from the customer's credit to `to`. */
function fromCreditTo(customerId: string, type: 'correction' | 'card_refund', to: ReturnType<typeof platform>, amountMinor: number, id: string) {
  return {
    type,
    currency: 'USD',
    postings: [
      { account: customerCredit(customerId, 'USD'), amountMinor: -amountMinor },
      { account: to, amountMinor },
    ],
    actor: 'test',
    cause: { type: 'test', id },
    createdAt: new Date(),
  };
}

async function snapshot() {
  const db = h.app.services.store.db;
  const counts = await sql<{ txns: number; postings: number; balances: string }>`
    select (select count(*)::int from ledger_transactions) as txns, (select count(*)::int from postings) as postings,
      (select string_agg(account_id || ':' || shard || '=' || balance, ',' order by account_id, shard) from account_balances) as balances`.execute(db);
  return counts.rows[0];
}

describe('a ledger write that is its own statement', () => {
  it('writes everything, or nothing when refused by its guard, a balance or a companion', async () => {
    const customer = await h.customer({ credit: 1_000 });
    const provider = await h.provider();
    const { ledger, store } = h.app.services;
    const write = (amountMinor: number) => ({
      type: 'charge' as const,
      currency: 'USD',
      postings: [
        { account: customerCredit(customer.id, 'USD'), amountMinor: -amountMinor },
        { account: providerPayable(provider.id, 'USD'), amountMinor: amountMinor - 10 },
        { account: platform('platform_fees', 'USD'), amountMinor: 10 },
      ],
      actor: 'test',
      cause: { type: 'test', id: `t_${amountMinor}` },
      createdAt: new Date(),
    });
    // The first write opens the provider's account (in a transaction), the next ones are one statement each.
    await ledger.post(store.db, write(100), { atomic: true });
    const before = await snapshot();

    // A balance that would go below zero.
    await expect(ledger.post(store.db, write(5_000), { atomic: true })).rejects.toMatchObject({ code: 'insufficient_funds' });
    expect(await snapshot()).toEqual(before);

    // A guard that does not hold.
    const guarded = ledger.post(store.db, write(100), { atomic: true, guard: { condition: sql`false`, error: () => new Error('guard said no') as never } });
    await expect(guarded).rejects.toThrow('guard said no');
    expect(await snapshot()).toEqual(before);

    // A companion that writes no row (a key already taken): nothing stays, and the caller is told.
    const taken = sql`insert into settle_migrations (name, applied_at) values ('001_foundation', now()) on conflict do nothing`;
    const posted = await ledger.post(store.db, write(100), { atomic: true, companions: [taken] });
    expect(posted.companionRows).toEqual([0]);
    expect(await snapshot()).toEqual(before);

    // And one that goes through writes all of it.
    await ledger.post(store.db, write(200), { atomic: true });
    const after = await snapshot();
    expect(after!.txns).toBe(before!.txns + 1);
    expect(after!.postings).toBe(before!.postings + 3);
    expect((await h.check()).ok).toBe(true);
  });

  it('with a claim, writes once: of many writers claiming one row, exactly one moves the money', async () => {
    const customer = await h.customer({ credit: 1_000, name: 'Unclaimed' });
    const { ledger, store } = h.app.services;
    const write = fromCreditTo(customer.id, 'correction', platform('adjustments', 'USD'), 10, 'claimed');
    const claim = () => ({ claim: sql`update customers set name = 'Claimed' where id = ${customer.id} and name = 'Unclaimed' returning 1` });
    const before = await snapshot();
    const results = await Promise.all(Array.from({ length: 12 }, () => ledger.post(store.db, write, { ...claim(), atomic: true })));
    expect(results.filter((r) => r.claimed)).toHaveLength(1);
    const after = await snapshot();
    expect(after!.txns).toBe(before!.txns + 1);
    expect(await h.balance(customer.id)).toBe(990);
    // Claimed already: no refusal, nothing written.
    const again = await ledger.post(store.db, write, { ...claim(), atomic: true });
    expect(again.claimed).toBe(false);
    expect(await snapshot()).toEqual(after);
    expect((await h.check()).ok).toBe(true);
  });

  it('is refused inside a transaction, and a transaction write outside one', async () => {
    const { ledger, store } = h.app.services;
    const input = { type: 'charge' as const, currency: 'USD', postings: [], actor: 'test', cause: { type: 'test', id: 'x' }, createdAt: new Date() };
    await expect(store.transaction((trx) => ledger.post(trx, input, { atomic: true }))).rejects.toThrow('atomic writes take the database');
    await expect(ledger.post(store.db, input)).rejects.toThrow('atomic writes take the database');
  });
});

describe('a deferred ledger write with a claim (a card refund reserved under the order lock)', () => {
  it('is written with its claim when the claim is met, and fails the transaction when it is not', async () => {
    const customer = await h.customer({ credit: 1_000 });
    const { ledger, store } = h.app.services;
    const write = (id: string) => fromCreditTo(customer.id, 'card_refund', platform('refunds_in_transit', 'USD'), 100, id);
    const rename = (name: string) => sql`update customers set name = ${name} where id = ${customer.id} returning 1`;
    // Met: the claim's row and the money move together, committed with what follows.
    await store.transaction(async (trx) => {
      await ledger.post(trx, write('met'), { deferred: true, claim: rename('Claimed') });
      await sql`select 1 where ${'next statement'}::text is not null`.execute(trx);
    });
    expect(await h.balance(customer.id)).toBe(900);
    const before = await snapshot();
    // Not met (the claim finds no row): only a bug gets here, and nothing of it stays.
    const missed = store.transaction(async (trx) => {
      await ledger.post(trx, write('missed'), { deferred: true, claim: sql`update customers set name = 'x' where id = ${'cus_none'} returning 1` });
      await sql`select 1 where ${'next statement'}::text is not null`.execute(trx);
    });
    await expect(missed).rejects.toThrow(/unclaimed|claim was not met/);
    expect(await snapshot()).toEqual(before);
    expect((await h.get(`/v1/customers/${customer.id}`)).body.name).toBe('Claimed');
  });
});
