// Runs pending migrations in order, each in its own transaction. On PostgreSQL an
// advisory lock makes concurrent starts (several servers and workers) take turns.
import { sql } from 'kysely';
import type { Store } from './db.js';
import { migrations } from './migrations/index.js';

const MIGRATION_LOCK_ID = 7_240_001;

export async function migrate(store: Store): Promise<string[]> {
  const applied: string[] = [];
  await store.db.connection().execute(async (conn) => {
    if (store.kind === 'postgres') await sql`select pg_advisory_lock(${MIGRATION_LOCK_ID})`.execute(conn);
    try {
      await sql`create table if not exists settle_migrations (name text primary key, applied_at timestamptz not null)`.execute(conn);
      const done = new Set((await conn.selectFrom('settle_migrations').select('name').execute()).map((r) => r.name));
      for (const migration of migrations) {
        if (done.has(migration.name)) continue;
        await conn.transaction().execute(async (trx) => {
          await sql.raw(migration.up).execute(trx);
          await trx.insertInto('settle_migrations').values({ name: migration.name, applied_at: new Date() }).execute();
        });
        applied.push(migration.name);
      }
    } finally {
      if (store.kind === 'postgres') await sql`select pg_advisory_unlock(${MIGRATION_LOCK_ID})`.execute(conn);
    }
  });
  return applied;
}
