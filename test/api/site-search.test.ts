// Site search at scale (issue 4): only a bounded candidate set is ranked (the newest
// SEARCH_RECENT sites plus at most SEARCH_CANDIDATES older matches from the index). These
// tests fill more sites than both bounds together and check that the meaning holds: the
// strongest matches first, equally good ones newest first, archived ones only when asked,
// and, for a query matching no more than the bound, exactly the order of ranking them all.
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../src/app/app.js';
import { prefixQuery } from '../../src/domain/search.js';
import { SEARCH_CANDIDATES, SEARCH_RECENT, type ArchivedFilter } from '../../src/services/sites.js';
import { openStore, type Store } from '../../src/store/db.js';
import { migrate } from '../../src/store/migrate.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

const BULK = SEARCH_CANDIDATES + SEARCH_RECENT + 300;

let testDb: TestDatabase;
let store: Store;
let app: App;
const made: Record<string, string> = {};

/** The search as it was before the bounds: every match ranked. */
async function rankAll(q: string, archived: ArchivedFilter, limit: number): Promise<string[]> {
  const tsquery = prefixQuery(q) as string;
  const filter = archived === 'false' ? sql`and archived_at is null` : archived === 'true' ? sql`and archived_at is not null` : sql``;
  const { rows } = await sql<{ id: string }>`
    select id from sites where search_tsv @@ to_tsquery('simple', ${tsquery}) ${filter}
    order by ts_rank(search_tsv, to_tsquery('simple', ${tsquery})) desc, id desc limit ${limit}`.execute(store.db);
  return rows.map((r) => r.id);
}

async function search(q: string, archived: ArchivedFilter = 'false', limit = 20) {
  return app.sites.list(store.db, { q, archived }, { limit });
}

beforeAll(async () => {
  testDb = await createTestDatabase();
  store = await openStore({ url: testDb.url });
  await migrate(store);
  app = await createApp(store, { mode: 'sandbox' });
  // Older sites, all matching "cordoba" once (ids sort before every generated id); one in
  // ten archived; site 1234 also has a rare word.
  await sql`insert into customers (id, email, name, created_at) values ('cus_bulk', 'bulk@example.com', 'Bulk Realty', now())`.execute(store.db);
  await sql`
    with g as (select i, i::text || ' Córdoba Road, ' || case when i = 1234 then 'Zephyr' else 'Springwood' end as address
               from generate_series(1, ${BULK}::int) i)
    insert into sites (id, customer_id, address, archived_at, created_at, search_text, search_tsv)
    select 'site_0000' || lpad(i::text, 9, '0'), 'cus_bulk', address, case when i % 10 = 0 then now() end, now(),
           lower(translate(address, 'ó,', 'o ')) || ' bulk realty bulk@example.com',
           to_tsvector('simple', lower(translate(address, 'ó,', 'o ')) || ' bulk realty bulk@example.com')
    from g`.execute(store.db);
  // Newest sites, through the service: two strong matches (the word twice), one of them
  // archived, and a plain one.
  await store.transaction(async (trx) => {
    const customerId = (await app.parties.createCustomer(trx, { email: 'ana@example.com', name: 'Ana Núñez' })).id;
    made.strong = (await app.sites.create(trx, { address: '1 Córdoba Street, Córdoba', customerId })).id;
    made.plain = (await app.sites.create(trx, { address: '3 Oak Road, CÓRDOBA', customerId })).id;
    made.strongArchived = (await app.sites.create(trx, { address: '2 Córdoba Lane, Córdoba', customerId })).id;
  });
  await store.transaction((trx) => app.sites.archive(trx, made.strongArchived as string));
}, 120_000);

afterAll(async () => {
  await store?.close();
  await testDb?.drop();
});

describe('site search with more matches than the candidate bound', () => {
  it('ranks the strongest match first, then equally good ones newest first, and hides archived sites', async () => {
    const page = await search('cordoba');
    const ids = page.data.map((s) => s.id);
    expect(page.has_more).toBe(true);
    expect(ids).toHaveLength(20);
    expect(ids.slice(0, 2)).toEqual([made.strong, made.plain]);
    expect(page.data.every((s) => !s.archived)).toBe(true);
    // Among equals, newest first: the bulk sites follow in descending id order.
    const bulk = ids.slice(2);
    expect(bulk).toEqual([...bulk].sort().reverse());
    // Same answer as ranking every one of the matches.
    expect(ids).toEqual(await rankAll('cordoba', 'false', 20));
  });

  it('finds archived sites only when asked, still ranked', async () => {
    const archived = await search('Córdoba', 'true');
    expect(archived.data[0]?.id).toBe(made.strongArchived);
    expect(archived.data.every((s) => s.archived)).toBe(true);
    expect(archived.data.map((s) => s.id)).toEqual(await rankAll('cordoba', 'true', 20));

    const all = await search('cordoba', 'all', 50);
    expect(all.data.slice(0, 2).map((s) => s.id)).toEqual([made.strongArchived, made.strong]);
    expect(all.data.some((s) => s.archived) && all.data.some((s) => !s.archived)).toBe(true);
    expect(all.data.map((s) => s.id)).toEqual(await rankAll('cordoba', 'all', 50));
  });

  it('ranks every match exactly when a query matches no more than the bound', async () => {
    // "17 cordoba": 17, 170-179, 1700-1799 (and more) — a few hundred sites, old ones included.
    for (const [q, archived, limit] of [
      ['17 cordoba', 'false', 100],
      ['17 córdoba road', 'all', 100],
      ['17 cordoba', 'true', 20],
      ['zephyr', 'false', 20],
      ['Córdoba Street', 'false', 20],
    ] as const) {
      expect((await search(q, archived, limit)).data.map((s) => s.id), `${q} (${archived})`).toEqual(await rankAll(q, archived, limit));
    }
    expect((await search('zephyr')).data.map((s) => s.address)).toEqual(['1234 Córdoba Road, Zephyr']);
    expect((await search('1234 córd')).data.map((s) => s.address)).toContain('1234 Córdoba Road, Zephyr');
  });

  it('returns nothing for a query without words, and pages the plain list by cursor as before', async () => {
    expect(await search('  ,. ')).toEqual({ data: [], has_more: false });
    const first = await app.sites.list(store.db, { archived: 'false' }, { limit: 2 });
    expect(first.data.map((s) => s.id)).toEqual([made.plain, made.strong]);
    const next = await app.sites.list(store.db, { archived: 'false' }, { limit: 2, startingAfter: made.strong });
    expect(next.data.every((s) => (s.id as string) < (made.strong as string))).toBe(true);
  });
});
