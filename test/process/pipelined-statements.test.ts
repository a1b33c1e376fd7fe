// Statements sent together (src/store/pipeline-marks.ts; postgres.ts and pglite-dialect.ts):
// a transaction's last statement carries the commit, and a deferred write goes out with the
// transaction's next statement or its commit. These tests try to break what that must keep:
// a failed last statement commits nothing (not even what came before it), nothing can run in
// the transaction after it, an order transition whose idempotency record cannot be written
// leaves no trace; a deferred write is applied in order before anything after it, its
// failure is the failure of the statement it went with, and a rollback drops it.
// Both stores honour the marks; only what another connection sees is checked on PostgreSQL alone
// (PGlite is one connection).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { randomUUID } from 'node:crypto';
import { startHarness, type Harness } from '../helpers/harness.js';
import { TEST_DB } from '../helpers/db.js';
import { deferredMark, lastStatementMark } from '../../src/store/pipeline-marks.js';
import { IdempotencyKeyTaken } from '../../src/domain/errors.js';
import { book, parties } from '../helpers/booking.js';
import type { Actor } from '../../src/services/context.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ poolSize: 3 });
});
afterAll(() => h?.close());

const nameOf = async (id: string) => (await sql<{ name: string }>`select name from customers where id = ${id}`.execute(h.app.services.store.db)).rows[0]!.name;

describe('a transaction whose last statement carries the commit', () => {
  it('is committed by that statement, with everything before it', async () => {
    const store = h.app.services.store;
    const a = await h.customer();
    const b = await h.customer();
    let seenInside: string[] = [];
    await store.transaction(async (trx) => {
      await sql`update customers set name = ${'First write'} where id = ${a.id}`.execute(trx);
      await sql`update customers set name = ${'Last write'} where id = ${b.id} ${lastStatementMark()}`.execute(trx);
      // Before Kysely's commit, another connection already sees both (PostgreSQL: the commit went out with the write).
      if (TEST_DB === 'postgres') seenInside = [await nameOf(a.id), await nameOf(b.id)];
    });
    if (TEST_DB === 'postgres') expect(seenInside).toEqual(['First write', 'Last write']);
    expect([await nameOf(a.id), await nameOf(b.id)]).toEqual(['First write', 'Last write']);
  });

  it('commits nothing when the last statement fails, also when it is the first', async () => {
    const store = h.app.services.store;
    const a = await h.customer({ name: 'Unchanged A' });
    const b = await h.customer({ name: 'Unchanged B' });
    await expect(
      store.transaction(async (trx) => {
        await sql`update customers set name = ${'Written, then undone'} where id = ${a.id}`.execute(trx);
        await sql`with u as (update customers set name = ${'Never'} where id = ${b.id} returning 1)
          select settle_refuse(${'refused'}::text) from u ${lastStatementMark()}`.execute(trx);
      }),
    ).rejects.toThrow(/settle_refused:refused/);
    await expect(
      store.transaction(async (trx) => {
        await sql`with u as (update customers set name = ${'Never'} where id = ${b.id} returning 1)
          select settle_refuse(${'refused'}::text) from u ${lastStatementMark()}`.execute(trx);
      }),
    ).rejects.toThrow(/settle_refused:refused/);
    expect([await nameOf(a.id), await nameOf(b.id)]).toEqual(['Unchanged A', 'Unchanged B']);
    // The connections are clean afterwards: a new transaction works and is one.
    const n = await store.transaction(async (trx) => (await sql<{ n: number }>`select ${5}::int as n`.execute(trx)).rows[0]!.n);
    expect(n).toBe(5);
  });

  it('refuses a statement after the last one (it would run outside the transaction)', async () => {
    const store = h.app.services.store;
    const a = await h.customer({ name: 'Before' });
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on('warning', onWarning);
    try {
      await expect(
        store.transaction(async (trx) => {
          await sql`update customers set name = ${'Committed by the last statement'} where id = ${a.id} ${lastStatementMark()}`.execute(trx);
          await sql`update customers set name = ${'Outside the transaction'} where id = ${a.id}`.execute(trx);
        }),
      ).rejects.toThrow(/after the transaction's last statement/);
      await new Promise((r) => setImmediate(r));
    } finally {
      process.off('warning', onWarning);
    }
    // The last statement had committed; the statement after it never ran; the late rollback is reported.
    expect(await nameOf(a.id)).toBe('Committed by the last statement');
    expect(warnings).toContain('SettleLateRollback');
    const n = await store.transaction(async (trx) => (await sql<{ n: number }>`select ${6}::int as n`.execute(trx)).rows[0]!.n);
    expect(n).toBe(6);
  });

  it('refuses to call committed a transaction an earlier failure aborted (PostgreSQL answers its commit with ROLLBACK)', async () => {
    const store = h.app.services.store;
    const a = await h.customer({ name: 'Kept' });
    const b = await h.customer({ name: 'Kept too' });
    const swallowed = (trx: Parameters<Parameters<typeof store.transaction>[0]>[0]) =>
      sql`select settle_refuse(${'refused'}::text)`.execute(trx).catch(() => undefined); // a bug: a failure caught and ignored
    for (const end of ['commit', 'deferred write and commit', 'last statement'] as const) {
      await expect(
        store.transaction(async (trx) => {
          await sql`update customers set name = ${'Lost'} where id = ${a.id}`.execute(trx);
          await swallowed(trx);
          if (end === 'deferred write and commit') await sql`update customers set name = ${'Lost too'} where id = ${b.id} ${deferredMark()}`.execute(trx);
          if (end === 'last statement') await sql`update customers set name = ${'Lost too'} where id = ${b.id} ${lastStatementMark()}`.execute(trx);
        }),
        end,
      ).rejects.toThrow(end === 'commit' ? /rolled back at its commit/ : /current transaction is aborted/);
      expect([await nameOf(a.id), await nameOf(b.id)], end).toEqual(['Kept', 'Kept too']);
    }
    const n = await store.transaction(async (trx) => (await sql<{ n: number }>`select ${9}::int as n`.execute(trx)).rows[0]!.n);
    expect(n).toBe(9);
  });

  it('leaves no trace of a transition whose idempotency record cannot be written', async () => {
    const store = h.app.services.store;
    const p = await parties(h);
    const order = await book(h, p, { startsInSeconds: 5 * 24 * 3600 });
    const scope = `test_scope_${randomUUID()}`;
    const key = 'taken';
    await sql`insert into idempotency_keys (scope, key, request_hash, status_code, response)
      values (${scope}, ${key}, ${'another request'}, ${200}, ${JSON.stringify({})})`.execute(store.db);
    const before = await h.get(`/v1/orders/${order.id}`);
    const provider: Actor = { role: 'provider', providerId: p.provider.id, keyId: 'test' };
    await expect(
      store.transaction((trx) =>
        h.app.orders.transition(trx, order.id, 'confirm', provider, {}, {
          idempotencyKey: `${scope}:${key}`,
          recordInsert: (body) => sql`insert into idempotency_keys (scope, key, request_hash, status_code, response)
            values (${scope}, ${key}, ${'this request'}, ${200}, ${JSON.stringify(body)}) on conflict (scope, key) do nothing`,
          commitWithWrite: true,
        }),
      ),
    ).rejects.toBeInstanceOf(IdempotencyKeyTaken);
    const after = await h.get(`/v1/orders/${order.id}`);
    expect(after.body.state).toBe(before.body.state);
    expect(after.body.events).toEqual(before.body.events);
    expect(after.body.deadline).toEqual(before.body.deadline);
  });
});

describe('a deferred write', () => {
  const setName = (id: string, name: string) => sql`update customers set name = ${name} where id = ${id} ${deferredMark()}`;
  const refuse = (id: string) => sql`with u as (update customers set name = ${'Never'} where id = ${id} returning 1)
    select settle_refuse(${'refused'}::text) from u ${deferredMark()}`;

  it('is applied before the statements after it, named or not, and committed with the transaction', async () => {
    const store = h.app.services.store;
    const a = await h.customer({ name: 'Before' });
    const seen = await store.transaction(async (trx) => {
      const held = await setName(a.id, 'Deferred 1').execute(trx);
      // It is answered at once, not sent yet (a sent update reports its row).
      expect(held.numAffectedRows).toBeUndefined();
      const named = (await sql<{ name: string }>`select name from customers where id = ${a.id}`.execute(trx)).rows[0]!.name;
      await setName(a.id, 'Deferred 2').execute(trx);
      await setName(a.id, 'Deferred 3').execute(trx);
      const unnamed = (await sql.raw<{ name: string }>(`select name from customers where id = '${a.id}'`).execute(trx)).rows[0]!.name;
      await setName(a.id, 'Deferred last, sent with the commit').execute(trx);
      return [named, unnamed];
    });
    expect(seen).toEqual(['Deferred 1', 'Deferred 3']);
    expect(await nameOf(a.id)).toBe('Deferred last, sent with the commit');
  });

  it('goes out ahead of a last statement, both committed by it', async () => {
    const store = h.app.services.store;
    const a = await h.customer({ name: 'A' });
    const b = await h.customer({ name: 'B' });
    await store.transaction(async (trx) => {
      await setName(a.id, 'Deferred').execute(trx);
      await sql`update customers set name = ${'Last'} where id = ${b.id} ${lastStatementMark()}`.execute(trx);
    });
    expect([await nameOf(a.id), await nameOf(b.id)]).toEqual(['Deferred', 'Last']);
  });

  it('that fails fails the statement it went with (or the commit), and nothing of the transaction stays', async () => {
    const store = h.app.services.store;
    const a = await h.customer({ name: 'Unchanged A' });
    const b = await h.customer({ name: 'Unchanged B' });
    for (const next of ['statement', 'last statement', 'commit'] as const) {
      await expect(
        store.transaction(async (trx) => {
          await sql`update customers set name = ${'Written, then undone'} where id = ${a.id}`.execute(trx);
          await refuse(b.id).execute(trx);
          if (next === 'statement') await sql`select ${1}::int as n`.execute(trx);
          if (next === 'last statement') await sql`update customers set name = ${'Never either'} where id = ${a.id} ${lastStatementMark()}`.execute(trx);
        }),
      ).rejects.toThrow(/settle_refused:refused/);
      expect([await nameOf(a.id), await nameOf(b.id)], next).toEqual(['Unchanged A', 'Unchanged B']);
    }
    const n = await store.transaction(async (trx) => (await sql<{ n: number }>`select ${8}::int as n`.execute(trx)).rows[0]!.n);
    expect(n).toBe(8);
  });

  it('is dropped by a rollback', async () => {
    const store = h.app.services.store;
    const a = await h.customer({ name: 'Kept' });
    await expect(
      store.transaction(async (trx) => {
        await setName(a.id, 'Dropped').execute(trx);
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect(await nameOf(a.id)).toBe('Kept');
  });
});

describe('a pipeline that fails', () => {
  // One connection, so what a failure leaves behind meets the next transaction. Statement
  // shapes are new to the connection (a unique alias): their Parse goes in the pipeline.
  let one: Harness;
  beforeAll(async () => {
    one = await startHarness({ poolSize: 1 });
  });
  afterAll(() => one?.close());
  const alias = (prefix: string) => sql.raw(`${prefix}_${randomUUID().replaceAll('-', '')}`);

  it('leaves the connection able to prepare and run what the failure skipped', async () => {
    const store = one.app.services.store;
    const a = await one.customer({ name: 'A' });
    // A failing last statement: its commit (parsed in the same pipeline) is skipped.
    const r = alias('r');
    await expect(
      store.transaction(async (trx) => {
        await sql`update customers set name = ${'Undone'} where id = ${a.id}`.execute(trx);
        await sql`select settle_refuse(${'refused'}::text) as ${r} ${lastStatementMark()}`.execute(trx);
      }),
    ).rejects.toThrow(/settle_refused:refused/);
    await store.transaction(async (trx) => {
      await sql`update customers set name = ${'Committed'} where id = ${a.id} ${lastStatementMark()}`.execute(trx);
    });
    // A failing deferred write ahead of a statement never run on this connection.
    const fresh = alias('fresh');
    await expect(
      store.transaction(async (trx) => {
        await sql`select settle_refuse(${'refused'}::text) ${deferredMark()}`.execute(trx);
        await sql`select ${1}::int as ${fresh}`.execute(trx);
      }),
    ).rejects.toThrow(/settle_refused:refused/);
    const n = await store.transaction(async (trx) => (await sql<Record<string, number>>`select ${2}::int as ${fresh}`.execute(trx)).rows[0]);
    expect(Object.values(n!)).toEqual([2]);
    const name = (await sql<{ name: string }>`select name from customers where id = ${a.id}`.execute(store.db)).rows[0]!.name;
    expect(name).toBe('Committed');
  });

  it('refuses a value the driver cannot send before anything goes out, and the connection goes on', async () => {
    const store = one.app.services.store;
    const a = await one.customer({ name: 'A' });
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    const fresh = alias('fresh');
    await expect(
      store.transaction(async (trx) => {
        await sql`update customers set name = ${'Deferred, then dropped'} where id = ${a.id} ${deferredMark()}`.execute(trx);
        await sql`select ${circular}::jsonb as ${fresh}`.execute(trx);
      }),
    ).rejects.toThrow(/circular/i);
    // Begin, a deferred write, a statement shape new to the connection and the commit all still work.
    const n = await store.transaction(async (trx) => {
      await sql`update customers set name = ${'After'} where id = ${a.id} ${deferredMark()}`.execute(trx);
      return (await sql<Record<string, number>>`select ${3}::int as ${fresh}`.execute(trx)).rows[0];
    });
    expect(Object.values(n!)).toEqual([3]);
    const name = (await sql<{ name: string }>`select name from customers where id = ${a.id}`.execute(store.db)).rows[0]!.name;
    expect(name).toBe('After');
  });
});
