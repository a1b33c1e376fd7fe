// On PostgreSQL a transaction's `begin` is held back and sent with its first statement
// (src/store/postgres.ts). Whatever the first statement is, the transaction must be one:
// its statements see one transaction time, a lock taken by the first is held to the
// end, a rollback undoes the first statement too, and a transaction that sends nothing
// leaves the connection clean for the next one. Runs on PGlite as well (plain begin there).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { startHarness, type Harness } from '../helpers/harness.js';
import { TEST_DB } from '../helpers/db.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ poolSize: 2 });
});
afterAll(() => h?.close());

describe('a transaction begun with its first statement', () => {
  it('is one transaction from its first statement (named or not) to its commit', async () => {
    const store = h.app.services.store;
    for (const first of [sql`select now() as t, ${1}::int as n`, sql`select now() as t, 1 as n`]) {
      const [a, b] = await store.transaction(async (trx) => {
        const x = (await first.execute(trx)).rows[0] as { t: Date };
        await sql`select pg_sleep(0.02)`.execute(trx);
        const y = (await sql<{ t: Date }>`select now() as t, ${2}::int as n`.execute(trx)).rows[0]!;
        return [x.t, y.t];
      });
      expect(a.getTime()).toBe(b.getTime());
    }
  });

  it('undoes its first statement on rollback', async () => {
    const store = h.app.services.store;
    const customer = await h.customer();
    await expect(
      store.transaction(async (trx) => {
        await sql`update customers set name = ${'Changed, then rolled back'} where id = ${customer.id}`.execute(trx);
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    const row = await sql<{ name: string }>`select name from customers where id = ${customer.id}`.execute(store.db);
    expect(row.rows[0]!.name).not.toBe('Changed, then rolled back');
  });

  it('holds a lock taken by its first statement until it ends', async () => {
    const store = h.app.services.store;
    const customer = await h.customer();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let locked!: () => void;
    const isLocked = new Promise<void>((r) => (locked = r));
    const holder = store.transaction(async (trx) => {
      await sql`select id from customers where id = ${customer.id} for update`.execute(trx);
      locked();
      await gate;
    });
    await isLocked;
    if (TEST_DB !== 'pglite') {
      // Another connection cannot take the row while the first transaction is open.
      const probe = await store.transaction(async (trx) => (await sql<{ id: string }>`select id from customers where id = ${customer.id} for update skip locked`.execute(trx)).rows);
      expect(probe).toEqual([]);
    }
    release();
    await holder;
  });

  it('leaves the connection clean when it ends before sending anything', async () => {
    const store = h.app.services.store;
    for (let i = 0; i < 4; i++) {
      await store.transaction(async () => undefined);
      await expect(store.transaction(async () => Promise.reject(new Error('nothing sent')))).rejects.toThrow('nothing sent');
    }
    const after = await store.transaction(async (trx) => (await sql<{ n: number }>`select ${7}::int as n`.execute(trx)).rows[0]!.n);
    expect(after).toBe(7);
  });
});
