// A Kysely dialect for PGlite. PGlite is one connection, so every query and every
// transaction goes through one FIFO queue: a transaction holds the connection until it
// commits or rolls back, and nothing interleaves with it.
import { protocol, type messages, type PGlite } from '@electric-sql/pglite';
import { statementName } from './statement-names.js';
import { MAX_PARAMETERS, pipelineMessage, type WireRun, type WireValue } from './pglite-wire.js';
import { AnswerBytes, decodeRows, scanRun } from './pglite-results.js';
import { AFTER_LAST_STATEMENT, isDeferred, isLastStatement, refuseUnlessCommitted } from './pipeline-marks.js';
import {
  CompiledQuery,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type Kysely,
  type QueryResult,
  type TransactionSettings,
} from 'kysely';

const serialize = protocol.serialize;
type ParameterDescriptionMessage = messages.ParameterDescriptionMessage;

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Kysely's result from one of PGlite's own (exec or query). */
function queryResult<R>(result: { rows: unknown[]; affectedRows?: number }): QueryResult<R> {
  return { rows: result.rows as R[], ...(result.affectedRows !== undefined ? { numAffectedRows: BigInt(result.affectedRows) } : {}) };
}

class Queue {
  private tail: Promise<void> = Promise.resolve();
  acquire(): Promise<() => void> {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const ready = this.tail.then(() => release);
    this.tail = this.tail.then(() => held);
    return ready;
  }
}

/** The names `begin` and `commit` are prepared under (statement-names.ts never hands these out). */
const BEGIN_STATEMENT = 'settle_begin';
const COMMIT_STATEMENT = 'settle_commit';

/** A prepared statement's run, its values serialised already (so sending it cannot fail). */
interface Run {
  name: string;
  values: WireValue[];
}

type Done = { ok: boolean; error?: unknown };

/**
 * PGlite's query() parses, describes, binds and executes a statement in five calls into
 * the WebAssembly PostgreSQL and plans it every time. Here a parameterised statement is
 * prepared once (named as on PostgreSQL, statement-names.ts; its parameter types read
 * once) and then each run is one call: bind, describe, execute, sync (measured: 0.22 →
 * 0.05 ms for a one-row read). Values are serialised and rows parsed with PGlite's own
 * type serialisers and parsers, as query() does; the answer's bytes are read here
 * (pglite-results.ts), not turned into PGlite's message objects first.
 *
 * Each call into PGlite costs ~0.1 ms however little it runs (measured: a `begin` 0.12 ms,
 * a `commit` 0.17 ms, ~16 % of a booking lifecycle's server time), so the pipeline marks
 * (pipeline-marks.ts) are honoured as on PostgreSQL (postgres.ts): a transaction's `begin` is
 * held back and goes with its first statement (a transaction that ends before any statement
 * sends nothing); a deferred write is answered at once and goes ahead of the transaction's
 * next statement or its commit (a rollback drops it); a statement marked last carries the
 * `commit`, and anything but commit or rollback after it is refused.
 */
class PGliteConnection implements DatabaseConnection {
  /** Prepared statement name → its parameter type OIDs. */
  private readonly prepared = new Map<string, number[]>();
  private inTransaction = false;
  private beginHeld = false;
  /** Deferred writes not sent yet, in order. */
  private held: Run[] = [];
  /** Set once a last statement went out with its commit, until the transaction ends. */
  private lastSent: Done | null = null;

  constructor(private readonly pg: PGlite) {}

  async executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    const text = compiled.sql;
    if (this.lastSent) throw new Error(`${AFTER_LAST_STATEMENT} (it is committed): ${text.slice(0, 80)}`);
    const name = compiled.parameters.length > 0 ? statementName(text) : undefined;
    if (!name) {
      await this.flushHeld();
      // Without parameters use the simple protocol, which also runs multi-statement scripts (migrations).
      if (compiled.parameters.length === 0) return queryResult<R>((await this.pg.exec(text)).at(-1) ?? { rows: [], affectedRows: 0 });
      return queryResult(await this.pg.query<R>(text, compiled.parameters as unknown[]));
    }
    const run = await this.prepare(name, text, compiled.parameters);
    if (this.inTransaction && isDeferred(text)) {
      this.held.push(run);
      return { rows: [] };
    }
    const last = this.inTransaction && isLastStatement(text);
    return (await this.pipelined(run, last ? 'last' : 'none')) as QueryResult<R>;
  }

  /** Opens a transaction: a plain `begin` is held back; one with settings goes out now. */
  async begin(text = 'begin'): Promise<void> {
    if (this.inTransaction) throw new Error('begin while a transaction is already open');
    if (text !== 'begin') await this.pg.exec(text);
    this.inTransaction = true;
    this.beginHeld = text === 'begin';
  }

  async commit(): Promise<void> {
    if (this.lastSent) return this.afterLast('commit');
    this.inTransaction = false;
    if (this.beginHeld && this.held.length === 0) {
      this.beginHeld = false; // nothing was sent: nothing to commit
      return;
    }
    await this.pipelined(null, 'now');
  }

  async rollback(): Promise<void> {
    this.held = []; // never sent: nothing to undo
    if (this.lastSent) return this.afterLast('rollback');
    this.inTransaction = false;
    if (this.beginHeld) {
      this.beginHeld = false;
      return;
    }
    await this.pg.exec('rollback');
  }

  /** The transaction ends after its last statement went out with the commit. */
  private async afterLast(end: 'commit' | 'rollback'): Promise<void> {
    const done = this.lastSent as Done;
    this.lastSent = null;
    this.inTransaction = false;
    // The last statement failed: its commit was skipped and the transaction is open, aborted.
    if (!done.ok) {
      await this.pg.exec('rollback');
      if (end === 'commit') throw done.error ?? new Error('commit after a failed last statement: rolled back');
      return;
    }
    // It succeeded, so it is committed, and code after it failed: nothing can be undone now.
    if (end === 'rollback') process.emitWarning('A transaction was rolled back after its last statement had committed it; the effect stays.', 'SettleLateRollback');
  }

  /** Sends the held begin and deferred writes on their own (before an unnamed statement). */
  private async flushHeld(): Promise<void> {
    if (this.beginHeld || this.held.length > 0) await this.pipelined(null, 'none');
  }

  /** Prepares the statement under `name` the first time, and serialises the run's values. */
  private async prepare(name: string, text: string, parameters: readonly unknown[]): Promise<Run> {
    // Refused here, at the statement's own call, not when a pipeline it is held for is built.
    if (parameters.length > MAX_PARAMETERS) throw new Error(`a statement takes at most ${MAX_PARAMETERS} parameters, not ${parameters.length}`);
    let types = this.prepared.get(name);
    if (!types) {
      const described = await this.pg.execProtocol(concat([serialize.parse({ name, text, types: [] }), serialize.describe({ type: 'S', name }), serialize.sync()]), {
        syncToFs: !this.inTransaction,
      });
      const params = described.messages.find((m) => m.name === 'parameterDescription') as ParameterDescriptionMessage | undefined;
      types = params ? params.dataTypeIDs : [];
      this.prepared.set(name, types);
    }
    const values = parameters.map((v, i): WireValue => {
      if (v === null || v === undefined) return null;
      const serializer = this.pg.serializers[types[i] as number];
      return serializer ? (serializer(v) as WireValue) : String(v);
    });
    return { name, values };
  }

  /**
   * `statement` (or none) with the held begin and deferred writes ahead of it and the commit
   * after it: none; 'last' (a last statement: the transaction's commit comes later and
   * answers from here); 'now' (this is the transaction's commit). One call into PGlite.
   */
  private async pipelined(statement: Run | null, commit: 'none' | 'last' | 'now'): Promise<{ rows: unknown[]; numAffectedRows?: bigint }> {
    const runs: WireRun[] = [];
    if (this.beginHeld) runs.push({ statement: (await this.prepare(BEGIN_STATEMENT, 'begin', [])).name, values: [], describe: false });
    for (const h of this.held) runs.push({ statement: h.name, values: h.values, describe: false });
    const at = statement ? runs.push({ statement: statement.name, values: statement.values, describe: true }) - 1 : -1;
    if (commit !== 'none') runs.push({ statement: (await this.prepare(COMMIT_STATEMENT, 'commit', [])).name, values: [], describe: false });
    // Built before the held state is let go: a message that cannot be built sent nothing.
    const message = pipelineMessage(runs);
    this.beginHeld = false;
    this.held = [];
    const done: Done = { ok: false };
    if (commit === 'last') this.lastSent = done;
    try {
      const answer = new AnswerBytes();
      await this.pg.execProtocolRawStream(message, { syncToFs: commit !== 'none' || !this.inTransaction, onRawData: answer.onRawData });
      const bytes = answer.bytes();
      const scanned = scanRun(bytes, at);
      if (commit !== 'none') refuseUnlessCommitted(scanned.lastCommand);
      // Done as PostgreSQL answered, whatever decoding the rows then says.
      done.ok = true;
      const rows = decodeRows(bytes, scanned, this.pg.parsers);
      return scanned.numAffectedRows === undefined ? { rows } : { rows, numAffectedRows: scanned.numAffectedRows };
    } catch (err) {
      if (!done.ok) done.error = err;
      throw err;
    }
  }

  // eslint-disable-next-line require-yield
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('PGlite dialect does not stream');
  }
}

class PGliteDriver implements Driver {
  private readonly queue = new Queue();
  private readonly releases = new WeakMap<DatabaseConnection, () => void>();
  private readonly connection: PGliteConnection;

  constructor(private readonly pg: PGlite) {
    this.connection = new PGliteConnection(pg);
  }

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    const release = await this.queue.acquire();
    // The same connection object is handed out one holder at a time.
    this.releases.set(this.connection, release);
    return this.connection;
  }

  async beginTransaction(_conn: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    const level = settings.isolationLevel ? ` isolation level ${settings.isolationLevel}` : '';
    const mode = settings.accessMode ? ` ${settings.accessMode}` : '';
    await this.connection.begin(`begin${level}${mode}`);
  }

  async commitTransaction(): Promise<void> {
    await this.connection.commit();
  }

  async rollbackTransaction(): Promise<void> {
    await this.connection.rollback();
  }

  async releaseConnection(conn: DatabaseConnection): Promise<void> {
    const release = this.releases.get(conn);
    this.releases.delete(conn);
    release?.();
  }

  async destroy(): Promise<void> {
    if (!this.pg.closed) await this.pg.close();
  }
}

export class PGliteDialect implements Dialect {
  constructor(private readonly pg: PGlite) {}
  createAdapter() {
    return new PostgresAdapter();
  }
  createDriver(): Driver {
    return new PGliteDriver(this.pg);
  }
  createQueryCompiler() {
    return new PostgresQueryCompiler();
  }
  createIntrospector(db: Kysely<unknown>) {
    return new PostgresIntrospector(db);
  }
}
