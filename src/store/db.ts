// The database factory: one Kysely code path over embedded PGlite or PostgreSQL.
//   memory://               in-memory PGlite (tests, demos)
//   file path / undefined   PGlite on disk (default ./.settle)
//   postgres://…            PostgreSQL through a pg pool
import { mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { Kysely, PostgresDialect, sql, type RawBuilder, type Transaction } from 'kysely';
import { PGlite } from '@electric-sql/pglite';
import { PGliteDialect } from './pglite-dialect.js';
import { pgliteStartParams, precompiledPGlite } from './pglite-start.js';
import type { Database } from './schema.js';

export type StoreKind = 'pglite' | 'postgres';
export type Db = Kysely<Database>;
export type Trx = Transaction<Database>;

export interface Store {
  readonly kind: StoreKind;
  readonly db: Db;
  /** Connections it holds at most (PGlite: one). */
  readonly connections: number;
  /** A database transaction; retried on deadlock or serialization failure (PostgreSQL). */
  transaction<T>(fn: (trx: Trx) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

const afterCommitCallbacks = new WeakMap<Trx, Array<() => void>>();

/** A moment as a timestamptz parameter: the same instant on both drivers, whatever their time zone. */
export const timestamptz = (d: Date): RawBuilder<Date> => sql<Date>`${d.toISOString()}::timestamptz`;

const attempts = new WeakMap<Trx, number>();

/**
 * Which run of its transaction `trx` is: 1, or more when store.transaction runs it again
 * (a serialization failure, a deadlock, runAgain). 1 for a transaction begun elsewhere.
 */
export function transactionAttempt(trx: Trx): number {
  return attempts.get(trx) ?? 1;
}

/** Runs `callback` once the transaction `trx` has committed (never if it rolls back). */
export function afterCommit(trx: Trx, callback: () => void): void {
  const callbacks = afterCommitCallbacks.get(trx);
  if (callbacks) callbacks.push(callback);
  else afterCommitCallbacks.set(trx, [callback]);
}

export interface StoreOptions {
  url?: string;
  dataDir?: string;
  poolSize?: number;
}

/** bigint columns and sums come back as JS numbers; anything beyond 2^53 is a bug, so fail loudly. */
function toSafeNumber(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new Error(`integer out of safe range: ${text}`);
  return n;
}
const INT8 = 20;
const NUMERIC = 1700;
const SERIALIZATION_FAILURE = '40001';
const RETRYABLE_CODES = new Set([SERIALIZATION_FAILURE, '40P01']); // and deadlock
const MAX_TX_ATTEMPTS = 5;

/**
 * An error that says nothing about the work itself — the database was busy, unreachable
 * or shutting down — so the same work may well succeed later (SQLSTATE classes 08, 40 and
 * 53, 57P* shutdowns, lock_not_available, and socket errors). A cancelled statement
 * (57014, e.g. a statement timeout) is not: the same work would likely time out again.
 */
export function isTransientDbError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string') {
    if (/^(08|40|53|57P)/.test(code) || code === '55P03') return true;
    if (['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT'].includes(code)) return true;
  }
  const message = err instanceof Error ? err.message : '';
  return /Connection terminated|connection timeout|Client has encountered a connection error/i.test(message);
}

/**
 * PostgreSQL connections per process unless SETTLE_DB_POOL says otherwise: twice the cores,
 * at least 4. One Node thread keeps only a few transactions in flight (most are one round
 * trip), and every connection beyond what the database's cores can run adds contention, not
 * throughput. Measured on two cores with PostgreSQL alongside, 4 against the old default of 20
 * (interleaved pairs): PostgreSQL CPU per charge −16 to −18 %, per booking lifecycle −4 to −34 %,
 * lifecycles/s ahead in 5 of 6 pairs (BENCHMARKS.md, session 12). Counted from this machine's cores,
 * which is right when the database runs beside it, as measured; per process, so N servers and
 * workers open N times as many. The deadline runner's default lanes leave two of them free.
 */
export const DEFAULT_POOL_SIZE = Math.max(4, 2 * availableParallelism());

export async function openStore(options: StoreOptions = {}): Promise<Store> {
  const url = options.url ?? '';
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    // Loaded only for PostgreSQL: pg pulls in undici, ~50–100 ms of every PGlite start.
    const { openPool } = await import('./postgres.js');
    const connections = options.poolSize ?? DEFAULT_POOL_SIZE;
    const pool = openPool(url, connections, toSafeNumber);
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    return makeStore('postgres', db, connections);
  }
  const inMemory = url === 'memory://';
  const dataDir = inMemory ? undefined : options.dataDir ?? (url.startsWith('file://') ? url.slice(7) : url || './.settle');
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  const unlock = dataDir ? lockDataDir(dataDir) : () => {};
  let pglite: PGlite;
  try {
    // Durability (docs/durability.md): PGlite writes the WAL to the data dir at every
    // commit, so a commit survives the process being killed (kill -9, OOM), but it never
    // fsyncs (it runs with fsync=off and its Node file system has no fsync), so it does
    // not promise to survive a power loss or OS crash. `relaxedDurability` changes
    // nothing on Node's file system; it only matters for IndexedDB/OPFS in browsers.
    // A smaller shared_buffers (pglite-start.ts) and the WebAssembly module compiled ahead.
    const pgliteWasmModule = await precompiledPGlite();
    pglite = await PGlite.create({
      ...(dataDir ? { dataDir } : {}),
      ...(pgliteWasmModule ? { pgliteWasmModule } : {}),
      startParams: pgliteStartParams(PGlite.defaultStartParams),
      parsers: { [INT8]: toSafeNumber, [NUMERIC]: (v: string) => (/^-?\d+$/.test(v) ? toSafeNumber(v) : Number(v)) },
    });
  } catch (err) {
    unlock();
    throw err;
  }
  const db = new Kysely<Database>({ dialect: new PGliteDialect(pglite) });
  return makeStore('pglite', db, 1, unlock);
}

const lockedDataDirs = new Set<string>();

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * One process at a time on a PGlite data dir. PGlite's own postmaster.pid does not stop
 * a second one (every PGlite backend has pid 42, so the file always looks stale), and two
 * processes writing one data dir lose acknowledged writes and corrupt it. The lock file
 * holds our pid; one left by a dead process (kill -9) is taken over.
 */
function lockDataDir(dataDir: string): () => void {
  const dir = resolve(dataDir);
  if (lockedDataDirs.has(dir)) throw new Error(`The PGlite data directory ${dir} is already open in this process.`);
  const file = join(dir, 'settle.pid');
  for (let attempt = 1; ; attempt++) {
    try {
      writeFileSync(file, `${process.pid}\n`, { flag: 'wx' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 5) throw err;
    }
    let holder = 0;
    try {
      holder = Number.parseInt(readFileSync(file, 'utf8'), 10);
    } catch {
      continue; // removed meanwhile: try again
    }
    if (holder > 0 && holder !== process.pid && processIsAlive(holder)) {
      throw new Error(
        `The PGlite data directory ${dir} is in use by process ${holder} (${file}). ` +
          'Stop that process first (for a running server, use its HTTP API, e.g. GET /v1/ledger/check), ' +
          'or delete the file if no Settle process is using the directory.',
      );
    }
    try {
      unlinkSync(file); // left by a process that is gone
    } catch {
      /* another process took it over first; the next attempt will see */
    }
  }
  lockedDataDirs.add(dir);
  let held = true;
  return () => {
    if (!held) return;
    held = false;
    lockedDataDirs.delete(dir);
    try {
      if (Number.parseInt(readFileSync(file, 'utf8'), 10) === process.pid) unlinkSync(file);
    } catch {
      /* already gone */
    }
  };
}

/**
 * An error that makes store.transaction run the transaction again, as a serialization
 * failure does: for a transaction that took a shortcut which turned out not to hold.
 */
export function runAgain(reason: string): Error {
  return Object.assign(new Error(`run the transaction again: ${reason}`), { code: SERIALIZATION_FAILURE });
}

/** A serialization failure (PostgreSQL's, or runAgain's): store.transaction runs the transaction again. */
export function isSerializationFailure(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === SERIALIZATION_FAILURE;
}

/** Runs `fn` (a transaction, or a statement that is its own) again on deadlock or serialization failure. */
export async function retryOnConflict<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code && RETRYABLE_CODES.has(code) && attempt < MAX_TX_ATTEMPTS) continue;
      throw err;
    }
  }
}

function makeStore(kind: StoreKind, db: Db, connections: number, onClose: () => void = () => {}): Store {
  return {
    kind,
    db,
    connections,
    async transaction<T>(fn: (trx: Trx) => Promise<T>): Promise<T> {
      let attempt = 0;
      return retryOnConflict(async () => {
        let committed: Trx | undefined;
        attempt++;
        const result = await db.transaction().execute(async (trx) => {
          committed = trx;
          attempts.set(trx, attempt);
          return fn(trx);
        });
        for (const callback of (committed && afterCommitCallbacks.get(committed)) ?? []) callback();
        return result;
      });
    },
    async close() {
      try {
        await db.destroy();
      } finally {
        onClose();
      }
    },
  };
}
