// Scratch PostgreSQL databases for the bench (created and dropped here) and pgbench.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { CpuTracker, isBackendOf } from './server.js';
import { runChild } from './child.js';

// TCP to 127.0.0.1 by default, as the machines' PostgreSQL is set up. For its Unix socket:
// SETTLE_BENCH_POSTGRES_URL='postgres://postgres@localhost:5432/postgres?host=/var/run/postgresql'
// (pgbench then connects the same way, so the ratio still compares like with like; an A/B
// on 2026-11-27 showed no clear difference for charges, BENCHMARKS.md).
const DEFAULT_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
export const PG_ADMIN_URL = process.env.SETTLE_BENCH_POSTGRES_URL ?? DEFAULT_URL;
/** How the bench reaches PostgreSQL: `unix:DIR` or `tcp:HOST:PORT`. */
export const PG_TRANSPORT = ((u: URL) => (u.searchParams.get('host')?.startsWith('/') ? `unix:${u.searchParams.get('host')}` : `tcp:${u.hostname}:${u.port || '5432'}`))(new URL(PG_ADMIN_URL));

const created = new Set<string>();

export function databaseUrl(name: string): string {
  const u = new URL(PG_ADMIN_URL);
  u.pathname = `/${name}`;
  return u.toString();
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 5000 });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end().catch(() => {});
  }
}

export async function postgresReachable(): Promise<string | null> {
  try {
    return await admin(async (c) => (await c.query<{ v: string }>('select version() as v')).rows[0]?.v ?? 'unknown');
  } catch {
    return null;
  }
}

export async function createDatabase(label: string): Promise<{ name: string; url: string }> {
  const name = `settle_bench_${label}_${randomBytes(4).toString('hex')}`;
  await admin((c) => c.query(`create database ${name}`));
  created.add(name);
  return { name, url: databaseUrl(name) };
}

export async function dropDatabase(name: string): Promise<void> {
  await admin((c) => c.query(`drop database if exists ${name} with (force)`));
  created.delete(name);
}

/** Drops every scratch database this process created and has not dropped yet. */
export async function dropAllDatabases(): Promise<void> {
  for (const name of [...created]) await dropDatabase(name).catch(() => {});
}

/** A client on one scratch database (for bulk loading and statistics). */
export async function withDatabase<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end().catch(() => {});
  }
}

/** pgbench/psql arguments for the server PG_ADMIN_URL names. */
export function connArgs(): string[] {
  const u = new URL(PG_ADMIN_URL);
  return ['-h', u.searchParams.get('host') ?? u.hostname, '-p', u.port || '5432', '-U', decodeURIComponent(u.username || 'postgres')];
}

export async function pgbenchInit(dbName: string, scale: number): Promise<void> {
  const r = await runChild('pgbench', ['-i', '-q', '-s', String(scale), ...connArgs(), dbName]);
  if (r.code !== 0) throw new Error(`pgbench -i failed: ${r.stderr}`);
}

export interface PgbenchResult {
  clients: number;
  threads: number;
  durationS: number;
  tps: number;
  latencyAvgMs: number | null;
  transactions: number | null;
  /** CPU ms per transaction: PostgreSQL backends, and the pgbench client itself. */
  cpuMsPerTxn: { postgres: number; pgbench: number } | null;
  walPerTxn: WalTotals | null;
}

/** `pgbench -N` (simple updates: no branch/teller updates) for `seconds`. */
export async function pgbenchRun(dbName: string, o: { clients: number; threads: number; seconds: number }): Promise<PgbenchResult> {
  let pgbenchPid = -1;
  const backends = new CpuTracker(isBackendOf(dbName));
  const client = new CpuTracker((pid) => pid === pgbenchPid);
  const wal0 = await walTotals();
  const r = await runChild('pgbench', ['-N', '-n', '-c', String(o.clients), '-j', String(o.threads), '-T', String(o.seconds), ...connArgs(), dbName], { onSpawn: (pid) => (pgbenchPid = pid) });
  const backendsMs = backends.stop();
  const clientMs = client.stop();
  const wal1 = await walTotals();
  if (r.code !== 0) throw new Error(`pgbench failed: ${r.stderr}\n${r.stdout}`);
  const tps = /tps = ([\d.]+) \(without initial connection time\)/.exec(r.stdout) ?? /tps = ([\d.]+)/.exec(r.stdout);
  if (!tps) throw new Error(`could not read pgbench output:\n${r.stdout}`);
  const lat = /latency average = ([\d.]+) ms/.exec(r.stdout);
  const txns = /number of transactions actually processed: (\d+)/.exec(r.stdout);
  return {
    clients: o.clients,
    threads: o.threads,
    durationS: o.seconds,
    tps: Math.round(Number(tps[1]) * 10) / 10,
    latencyAvgMs: lat ? Number(lat[1]) : null,
    transactions: txns ? Number(txns[1]) : null,
    cpuMsPerTxn: txns && Number(txns[1]) > 0 ? { postgres: round3(backendsMs / Number(txns[1])), pgbench: round3(clientMs / Number(txns[1])) } : null,
    walPerTxn: walPer(wal0, wal1, txns ? Number(txns[1]) : 0),
  };
}

const round3 = (n: number) => Math.round(n * 1000) / 1000;

/** WAL PostgreSQL has written since it started, the whole cluster's (pg_stat_wal, PostgreSQL ≥ 14). */
export interface WalTotals {
  records: number;
  bytes: number;
  fullPageImages: number;
}

export async function walTotals(): Promise<WalTotals | null> {
  try {
    return await admin(async (c) => {
      const r = (await c.query<{ records: string; bytes: string; fpi: string }>('select wal_records as records, wal_bytes as bytes, wal_fpi as fpi from pg_stat_wal')).rows[0];
      return r ? { records: Number(r.records), bytes: Number(r.bytes), fullPageImages: Number(r.fpi) } : null;
    });
  } catch {
    return null; // before PostgreSQL 14
  }
}

/**
 * WAL per unit of work between two readings: a measure of PostgreSQL's work that, unlike
 * its CPU time, does not change with the machine's speed (nothing else writes meanwhile).
 */
export function walPer(a: WalTotals | null, b: WalTotals | null, units: number): WalTotals | null {
  if (!a || !b || units <= 0) return null;
  const per = (x: number, y: number) => Math.round(((y - x) / units) * 10) / 10;
  return { records: per(a.records, b.records), bytes: Math.round((b.bytes - a.bytes) / units), fullPageImages: per(a.fullPageImages, b.fullPageImages) };
}
