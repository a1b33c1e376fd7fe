// The PostgreSQL connection pool (imported only when Settle runs on PostgreSQL).
import pg from 'pg';
import { AFTER_LAST_STATEMENT, isDeferred, isLastStatement, refuseUnlessCommitted } from './pipeline-marks.js';
import { statementName } from './statement-names.js';

const INT8 = 20;
const NUMERIC = 1700;

type QueryResultLike = { command: string; rowCount: number | null; rows: unknown[] };

/** The names `begin` and `commit` are prepared under (statement-names.ts never hands these out). */
const BEGIN_STATEMENT = 'settle_begin';
const COMMIT_STATEMENT = 'settle_commit';

type Statement = { name: string; text: string; values: unknown[] };

/**
 * A named query sent after statements whose answers nobody waits for (the transaction's
 * `begin`, deferred writes) and/or before its `commit`: all go out in one write and come back
 * in one round trip (one Sync). If any of them fails, PostgreSQL skips the rest up to the
 * Sync: a failed statement is never committed, and the failure is this query's. pg's Query
 * reads one result per statement: [begin?, ...ahead, statement, commit?].
 */
class PipelinedQuery extends pg.Query {
  /** Statements whose Parse this query sent, in order, until PostgreSQL confirms each (PreparingClient). */
  readonly parses: { name: string; text: string }[] = [];

  constructor(
    private readonly statement: Statement,
    private readonly withBegin: boolean,
    private readonly ahead: Statement[],
    private readonly withCommit: boolean,
    callback: (err: Error | undefined, result: unknown) => void,
  ) {
    // Text and values, the name set after: given a config object, pg's Query copies it through
    // property descriptors first (~1 % of the server's CPU here).
    super(statement.text, statement.values, callback);
    (this as unknown as { name: string }).name = statement.name;
  }

  prepare(connection: PgConnection): void {
    // Every Parse first: a statement that fails when it runs makes PostgreSQL skip the rest
    // up to the Sync, and a skipped Parse would leave pg believing the statement prepared.
    const parse = (name: string, text: string) => {
      if (connection.parsedStatements[name] !== undefined || connection.submittedNamedStatements[name] !== undefined) return;
      connection.parse({ name, text, types: [] });
      connection.submittedNamedStatements[name] = text;
      this.parses.push({ name, text });
    };
    if (this.withBegin) parse(BEGIN_STATEMENT, 'begin');
    for (const s of this.ahead) parse(s.name, s.text);
    parse(this.statement.name, this.statement.text);
    if (this.withCommit) parse(COMMIT_STATEMENT, 'commit');

    if (this.withBegin) runPrepared(connection, BEGIN_STATEMENT);
    for (const statement of this.ahead) {
      const part = new AheadPart(statement);
      queryInternals.prepare.call(part, connection);
      // Its values are mapped already (preparedValues), so building its Bind cannot fail.
      if (part.failed) throw new Error(`postgres.ts: a statement ahead in a pipeline could not be sent: ${part.failed.message}`);
    }
    queryInternals.prepare.call(this, connection);
  }

  /** Statements whose Parse PostgreSQL skipped after the failure are not prepared on this connection. */
  handleError(err: Error, connection: PgConnection): void {
    for (const p of this.parses.splice(0)) delete connection.submittedNamedStatements[p.name];
    queryInternals.handleError.call(this, err, connection);
  }

  // pg's Query ends its messages with Sync here; the commit goes in before it.
  _getRows(connection: PgConnection, rows: number | undefined): void {
    if (!this.withCommit || rows) return queryInternals._getRows.call(this, connection, rows);
    connection.execute({ portal: '' });
    runPrepared(connection, COMMIT_STATEMENT);
    connection.sync();
  }
}

/** The methods of pg's Query (untyped) that PipelinedQuery builds on. */
const queryInternals = pg.Query.prototype as unknown as {
  prepare(this: pg.Query, c: PgConnection): void;
  handleError(this: pg.Query, err: Error, c: PgConnection): void;
  _getRows(this: pg.Query, c: PgConnection, rows: number | undefined): void;
};

const pgPrepareValue = (pg as unknown as { utils: { prepareValue(value: unknown): unknown } }).utils.prepareValue;

/**
 * The values as pg sends them (pg maps them again, which leaves these as they are), mapped
 * before anything goes out: pg builds a Bind only when the statement's turn comes, and a
 * value it cannot map (circular JSON, say) would then close the statement halfway through
 * a pipeline and leave pg's record of what is prepared on the connection wrong.
 */
function preparedValues(values: unknown[]): unknown[] {
  return values.map((v) => pgPrepareValue(v));
}

const clientInternals = pg.Client.prototype as unknown as { _handleParseComplete(this: pg.Client): void };

/** A statement sent ahead of a PipelinedQuery's own: pg's parse/bind/describe/execute, no Sync. */
class AheadPart extends pg.Query {
  failed: Error | undefined;

  constructor(statement: Statement) {
    super(statement.text, statement.values, (err: Error | undefined) => {
      if (err) this.failed = err;
    });
    (this as unknown as { name: string }).name = statement.name; // as in PipelinedQuery
  }

  _getRows(connection: PgConnection): void {
    connection.execute({ portal: '' });
  }
}

/** Bind and execute a parameterless statement already parsed on this connection (begin, commit). */
function runPrepared(connection: PgConnection, name: string): void {
  connection.bind({ statement: name, values: [] });
  connection.execute({});
}

/** The parts of pg's (untyped) connection that PipelinedQuery uses. */
interface PgConnection {
  parsedStatements: Record<string, string>;
  submittedNamedStatements: Record<string, string>;
  parse(q: { name: string; text: string; types: number[] }): void;
  bind(q: { statement: string; values: unknown[] }): void;
  execute(q: { portal?: string }): void;
  sync(): void;
}

type Done = { ok: boolean; error?: Error };

/**
 * Every parameterised statement becomes a named (prepared) statement (statement-names.ts):
 * measured, half the database CPU of a charge was parsing and planning.
 *
 * Round trips are what a transaction costs most here (each costs both processes a write,
 * a read and a wake-up; measured: writes were ~40 % of the server's CPU in a lifecycle run):
 * - a transaction's `begin` is held back and sent with its first statement; a transaction
 *   that ends before any statement never reaches the database;
 * - a deferred write (pipeline-marks.ts) is held back too, answered at once (its caller
 *   reads nothing from it), and sent ahead of the transaction's next statement or commit;
 *   a rollback drops it unsent;
 * - a statement marked as the transaction's last carries the `commit`; Kysely's own
 *   `commit` then answers from here. Anything but commit or rollback after it is refused:
 *   it would run outside the transaction.
 */
class PreparingClient extends pg.Client {
  private beginHeld = false;
  private inTransaction = false;
  /** Deferred writes not sent yet, in order. */
  private held: Statement[] = [];
  /** Set once a last statement went out with its commit, until Kysely ends the transaction. */
  private lastSent: Done | null = null;

  /**
   * pg counts every ParseComplete as the running query's own; a pipeline sends several
   * Parses, so each one confirms the next statement it parsed (PipelinedQuery.parses).
   */
  _handleParseComplete(): void {
    const active = (this as unknown as { _activeQuery: unknown })._activeQuery;
    if (!(active instanceof PipelinedQuery)) return clientInternals._handleParseComplete.call(this);
    const parsed = active.parses.shift();
    if (!parsed) return;
    const connection = (this as unknown as { connection: PgConnection }).connection;
    connection.parsedStatements[parsed.name] = parsed.text;
    delete connection.submittedNamedStatements[parsed.name];
  }

  // pg's overloads are many; Kysely calls query(text, values) and uses the promise.
  override query(...args: unknown[]): never {
    const [text, values, callback] = args;
    if (typeof text !== 'string' || callback !== undefined) return (super.query as (...a: unknown[]) => never)(...args);
    if (this.lastSent) return this.afterLast(text) as never;
    if (text === 'begin') {
      // Kysely's plain begin (isolation levels come as `start transaction …` and go out as they are).
      if (this.inTransaction) return Promise.reject(new Error('begin while a transaction is already open')) as never;
      this.beginHeld = true;
      this.inTransaction = true;
      return answered('BEGIN') as never;
    }
    const name = Array.isArray(values) && values.length > 0 ? statementName(text) : undefined;
    let prepared: unknown[] = [];
    if (name) {
      try {
        prepared = preparedValues(values as unknown[]);
      } catch (err) {
        return Promise.reject(err) as never; // nothing was sent, nothing changed
      }
    }
    if (this.inTransaction && name !== undefined && isDeferred(text)) {
      this.held.push({ name, text, values: prepared });
      return answered('DEFERRED') as never;
    }
    if (text === 'rollback') this.held = []; // never sent: nothing to undo
    if (text === 'commit' && this.held.length > 0) {
      // Kysely's commit: the last deferred write goes with it (the others ahead).
      this.inTransaction = false;
      return this.pipelined(this.held.pop() as Statement, 'now') as never;
    }
    if (text === 'commit' || text === 'rollback') {
      this.inTransaction = false;
      if (this.beginHeld) {
        this.beginHeld = false;
        return answered(text.toUpperCase()) as never;
      }
      const sent = (super.query as (...a: unknown[]) => Promise<QueryResultLike>)(...args);
      return (text === 'commit' ? sent.then(committed) : sent) as never;
    }
    const last = this.inTransaction && name !== undefined && isLastStatement(text);
    if (name && (this.beginHeld || this.held.length > 0 || last)) return this.pipelined({ name, text, values: prepared }, last ? 'last' : 'none') as never;
    if (this.beginHeld || this.held.length > 0) {
      // An unnamed statement: what is held goes first, on its own.
      return this.flushHeld().then(() => (super.query as (...a: unknown[]) => Promise<unknown>)(...args)) as never;
    }
    if (name) return (super.query as (c: unknown) => never)({ name, text, values: prepared });
    return (super.query as (...a: unknown[]) => never)(...args);
  }

  /** Sends the held begin and deferred writes (before an unnamed statement). */
  private flushHeld(): Promise<unknown> {
    if (this.held.length === 0) {
      this.beginHeld = false;
      return super.query('begin') as unknown as Promise<unknown>;
    }
    return this.pipelined(this.held.pop() as Statement, 'none');
  }

  /** Kysely ends a transaction whose last statement already went out with its commit. */
  private afterLast(text: string): Promise<unknown> {
    const done = this.lastSent as Done;
    if (text !== 'commit' && text !== 'rollback') {
      return Promise.reject(new Error(`${AFTER_LAST_STATEMENT} (it is committed): ${text.slice(0, 80)}`));
    }
    this.lastSent = null;
    this.inTransaction = false;
    // The last statement failed: its commit was skipped and the transaction is open, aborted.
    if (!done.ok) {
      const rollback = super.query('rollback') as unknown as Promise<unknown>;
      return text === 'rollback' ? rollback : rollback.then(() => Promise.reject(done.error ?? new Error('commit after a failed last statement: rolled back')));
    }
    if (text === 'commit') return answered('COMMIT');
    // It succeeded, so it is committed, and code after it failed: nothing can be undone now.
    process.emitWarning('A transaction was rolled back after its last statement had committed it; the effect stays.', 'SettleLateRollback');
    return answered('ROLLBACK');
  }

  /**
   * `statement` with the held begin and deferred writes ahead of it and the commit after
   * it: none; 'last' (a last statement: Kysely's commit comes later and answers from
   * here); 'now' (this is Kysely's commit).
   */
  private pipelined(statement: Statement, commit: 'none' | 'last' | 'now'): Promise<QueryResultLike> {
    const withBegin = this.beginHeld;
    const ahead = this.held;
    const withCommit = commit !== 'none';
    this.beginHeld = false;
    this.held = [];
    const done: Done = { ok: false };
    if (commit === 'last') this.lastSent = done;
    return new Promise((resolve, reject) => {
      let settled = false; // pg may call back twice (an error in sending, then ReadyForQuery)
      const callback = (err: Error | undefined, result: unknown) => {
        if (settled) return;
        settled = true;
        if (err) {
          done.error = err;
          return reject(err);
        }
        const results = Array.isArray(result) ? (result as QueryResultLike[]) : [result as QueryResultLike];
        if (withCommit) {
          try {
            committed(results.at(-1) as QueryResultLike);
          } catch (e) {
            done.error = e as Error;
            return reject(e);
          }
        }
        done.ok = true;
        resolve(results[(withBegin ? 1 : 0) + ahead.length] as QueryResultLike);
      };
      (super.query as (q: unknown) => unknown)(new PipelinedQuery(statement, withBegin, ahead, withCommit, callback));
    });
  }
}

/** A commit's answer, refused unless it committed (pipeline-marks.ts). */
function committed(result: QueryResultLike): QueryResultLike {
  refuseUnlessCommitted(result.command);
  return result;
}

function answered(command: string): Promise<QueryResultLike> {
  return Promise.resolve({ command, rowCount: null, rows: [] });
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
