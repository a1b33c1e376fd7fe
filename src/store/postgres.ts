// The PostgreSQL connection pool (imported only when Settle runs on PostgreSQL).
import pg from 'pg';
import { statementName } from './statement-names.js';

const INT8 = 20;
const NUMERIC = 1700;

type QueryResultLike = { command: string; rowCount: number | null; rows: unknown[] };

/** The name the transaction-opening `begin` is prepared under (statement-names.ts never hands it out). */
const BEGIN_STATEMENT = 'settle_begin';

/**
 * A named query that opens the transaction first: `begin` and the statement go out in one
 * write and come back in one round trip (one Sync), `begin` itself prepared once per
 * connection. pg's Query reads the two results as a list; the caller gets the last one.
 */
class BeginThenQuery extends pg.Query {
  prepare(connection: PgConnection): void {
    if (!connection.parsedStatements[BEGIN_STATEMENT] && !connection.submittedNamedStatements[BEGIN_STATEMENT]) {
      connection.parse({ name: BEGIN_STATEMENT, text: 'begin', types: [] });
      connection.submittedNamedStatements[BEGIN_STATEMENT] = 'begin';
    }
    connection.bind({ statement: BEGIN_STATEMENT, values: [] });
    connection.execute({});
    (pg.Query.prototype as unknown as { prepare(c: PgConnection): void }).prepare.call(this, connection);
  }
}

/** The parts of pg's (untyped) connection that BeginThenQuery uses. */
interface PgConnection {
  parsedStatements: Record<string, string>;
  submittedNamedStatements: Record<string, string>;
  parse(q: { name: string; text: string; types: number[] }): void;
  bind(q: { statement: string; values: unknown[] }): void;
  execute(q: object): void;
}

/**
 * Every parameterised statement becomes a named (prepared) statement (statement-names.ts):
 * measured, half the database CPU of a charge was parsing and planning.
 *
 * A transaction's `begin` is held back and sent with its first statement (BeginThenQuery):
 * a round trip saved per transaction, and each round trip costs both processes a write,
 * a read and a wake-up (measured: writes were ~40 % of the server's CPU in a lifecycle
 * run). A transaction that ends before any statement never reaches the database.
 */
class PreparingClient extends pg.Client {
  private beginHeld = false;

  // pg's overloads are many; Kysely calls query(text, values) and uses the promise.
  override query(...args: unknown[]): never {
    const [text, values, callback] = args;
    if (typeof text !== 'string' || callback !== undefined) return (super.query as (...a: unknown[]) => never)(...args);
    if (text === 'begin') {
      // Kysely's plain begin (isolation levels come as `start transaction …` and go out as they are).
      if (this.beginHeld) return Promise.reject(new Error('begin while a transaction is already open')) as never;
      this.beginHeld = true;
      return Promise.resolve<QueryResultLike>({ command: 'BEGIN', rowCount: null, rows: [] }) as never;
    }
    const name = Array.isArray(values) && values.length > 0 ? statementName(text) : undefined;
    if (this.beginHeld) {
      this.beginHeld = false;
      if (text === 'commit' || text === 'rollback') {
        return Promise.resolve<QueryResultLike>({ command: text.toUpperCase(), rowCount: null, rows: [] }) as never;
      }
      if (name) return this.withBegin(name, text, values as unknown[]) as never;
      return (super.query('begin') as unknown as Promise<unknown>).then(() => (super.query as (...a: unknown[]) => Promise<unknown>)(...args)) as never;
    }
    if (name) return (super.query as (c: unknown) => never)({ name, text, values });
    return (super.query as (...a: unknown[]) => never)(...args);
  }

  private withBegin(name: string, text: string, values: unknown[]): Promise<QueryResultLike> {
    return new Promise((resolve, reject) => {
      const done = (err: Error | undefined, result: unknown) => {
        if (err) reject(err);
        else resolve(Array.isArray(result) ? (result[result.length - 1] as QueryResultLike) : (result as QueryResultLike));
      };
      const query = new BeginThenQuery({ name, text, values }, undefined, done);
      (super.query as (q: unknown) => unknown)(query);
    });
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
  const pool = new pg.Pool({ connectionString: url, max, Client: PreparingClient });
  // Set on each new connection (the client runs its queries in order, so this comes first):
  // - Generic plans always: Settle's statements are written so the generic plan is the
  //   right one (primary-key lookups, range joins in writes.ts, no value-dependent filters),
  //   and in the default mode PostgreSQL kept re-planning some of them on every call once a
  //   table's statistics changed (measured: up to half the runs of the two hottest statements
  //   planned again, ~0.2 ms each; cancel-and-refund flows 62 → 70-89 /s with this).
  // - No JIT: generic plans of the range joins carry huge row estimates (the planner cannot
  //   tell `id >= x.id and id <= x.id` finds one row), which with a million orders crossed
  //   jit_above_cost, and every execution of the plan compiled it again (measured: a
  //   deadline sweep went from 37 s to minutes). Settle's statements touch a few rows each.
  pool.on('connect', (client) => {
    client.query('set plan_cache_mode = force_generic_plan; set jit = off').catch(() => undefined);
  });
  // An idle connection the server closed (restart, failover, admin command) must not
  // crash the process: the pool drops it and opens a new one when needed.
  pool.on('error', (err: Error & { code?: string }) => {
    process.emitWarning(`PostgreSQL connection closed by the server (${err.code ?? 'no code'}): ${err.message}`);
  });
  return pool;
}
