// The PostgreSQL connection pool (imported only when Settle runs on PostgreSQL).
import pg from 'pg';
import { statementName } from './statement-names.js';

const INT8 = 20;
const NUMERIC = 1700;

/**
 * Every parameterised statement becomes a named (prepared) statement (statement-names.ts):
 * measured, half the database CPU of a charge was parsing and planning.
 */
class PreparingClient extends pg.Client {
  // pg's overloads are many; Kysely calls query(text, values) and uses the promise.
  override query(...args: unknown[]): never {
    const [text, values, callback] = args;
    if (typeof text === 'string' && Array.isArray(values) && values.length > 0 && callback === undefined) {
      const name = statementName(text);
      if (name) return (super.query as (c: unknown) => never)({ name, text, values });
    }
    return (super.query as (...a: unknown[]) => never)(...args);
  }
}

let typesConfigured = false;

/** A pool whose bigint/numeric columns come back as safe JS numbers (`toSafeNumber` throws beyond 2^53). */
export function openPool(url: string, max: number, toSafeNumber: (text: string) => number): pg.Pool {
  if (!typesConfigured) {
    pg.types.setTypeParser(INT8, toSafeNumber);
    pg.types.setTypeParser(NUMERIC, (v: string) => (/^-?\d+$/.test(v) ? toSafeNumber(v) : Number(v)));
    typesConfigured = true;
  }
  // Generic plans always: Settle's statements are written so the generic plan is the right
  // one (primary-key lookups, range joins in writes.ts, no value-dependent filters), and in
  // the default mode PostgreSQL kept re-planning some of them on every call once a table's
  // statistics changed (measured: up to half the runs of the two hottest statements
  // planned again, ~0.2 ms each; cancel-and-refund flows 62 → 70-89 /s with this).
  // (Set on each new connection; the client runs its queries in order, so it comes first.)
  const pool = new pg.Pool({ connectionString: url, max, Client: PreparingClient });
  pool.on('connect', (client) => {
    client.query('set plan_cache_mode = force_generic_plan').catch(() => undefined);
  });
  // An idle connection the server closed (restart, failover, admin command) must not
  // crash the process: the pool drops it and opens a new one when needed.
  pool.on('error', (err: Error & { code?: string }) => {
    process.emitWarning(`PostgreSQL connection closed by the server (${err.code ?? 'no code'}): ${err.message}`);
  });
  return pool;
}
