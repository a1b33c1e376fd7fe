// `node --import tsx bench/sqlbench.ts [--seconds 8] [--rounds 2]`
// A charge's SQL without Node: pgbench replays the statements the server sends for one
// charge (bench/profile.ts lists them) on a migrated scratch database, next to
// `pgbench -N`, and next to variants that change how the charge is written. This
// separates what the database costs from what the HTTP server costs (BENCHMARKS.md,
// "Where the time goes"). Every variant uses 1,000 customers and 50 providers, 16
// clients, -j 2, the extended protocol with unnamed statements (as node-postgres does),
// unless the variant says "prepared".
import { spawn } from 'node:child_process';
import { runChild } from './child.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { connArgs, createDatabase, dropAllDatabases, pgbenchInit, pgbenchRun, withDatabase } from './pg.js';
import { CpuTracker, isBackendOf, ROOT } from './server.js';
import { round } from './stats.js';
import { IDEM, INSERT_CHARGE, LEDGER_POST, ONE_STATEMENT, SETUP, VARS } from './charge-sql.js';

const { values: args } = parseArgs({ options: { seconds: { type: 'string', default: '8' }, rounds: { type: 'string', default: '2' }, only: { type: 'string' }, 'drop-fks': { type: 'boolean', default: false } } });
const seconds = Number(args.seconds);
const work = mkdtempSync(path.join(os.tmpdir(), 'settle-sqlbench-'));
const log = (m: string) => process.stderr.write(`[sqlbench] ${m}\n`);

interface Variant {
  name: string;
  what: string;
  script: string;
  mode: 'extended' | 'prepared' | 'simple';
}

const VARIANTS: Variant[] = [
  { name: 'today', what: 'the server\'s statements today: begin, charge, ledger CTE, idempotency record, commit; 8 fee shards', script: `${VARS(8)}begin;\n${INSERT_CHARGE}\n${LEDGER_POST}\n${IDEM}\ncommit;\n`, mode: 'extended' },
  { name: 'today-prepared', what: 'today\'s statements as prepared statements (named, planned once per connection)', script: `${VARS(8)}begin;\n${INSERT_CHARGE}\n${LEDGER_POST}\n${IDEM}\ncommit;\n`, mode: 'prepared' },
  { name: 'today-64-shards', what: 'today\'s statements with 64 platform-fee shards', script: `${VARS(64)}begin;\n${INSERT_CHARGE}\n${LEDGER_POST}\n${IDEM}\ncommit;\n`, mode: 'extended' },
  { name: 'today-64-prepared', what: 'today\'s statements, 64 fee shards, prepared', script: `${VARS(64)}begin;\n${INSERT_CHARGE}\n${LEDGER_POST}\n${IDEM}\ncommit;\n`, mode: 'prepared' },
  { name: 'ledger-last-64', what: 'idempotency record and charge row first, the balance update last before commit; 64 shards', script: `${VARS(64)}begin;\n${IDEM}\n${INSERT_CHARGE}\n${LEDGER_POST}\ncommit;\n`, mode: 'extended' },
  { name: 'one-statement-64', what: 'begin; the whole charge as one statement; commit; 64 shards', script: `${VARS(64)}begin;\n${ONE_STATEMENT}\ncommit;\n`, mode: 'extended' },
  { name: 'one-statement-64-prepared', what: 'begin; the whole charge as one prepared statement; commit; 64 shards', script: `${VARS(64)}begin;\n${ONE_STATEMENT}\ncommit;\n`, mode: 'prepared' },
  { name: 'one-statement-autocommit-64', what: 'the whole charge as one autocommit statement (one round trip); 64 shards', script: `${VARS(64)}${ONE_STATEMENT}\n`, mode: 'extended' },
  { name: 'one-statement-autocommit-64-prepared', what: 'the same, as a prepared statement (no parse/plan per charge)', script: `${VARS(64)}${ONE_STATEMENT}\n`, mode: 'prepared' },
];

async function runScript(dbName: string, v: Variant) {
  const file = path.join(work, `${v.name}.sql`);
  writeFileSync(file, v.script);
  let pgbenchPid = -1;
  const backends = new CpuTracker(isBackendOf(dbName));
  const client = new CpuTracker((pid) => pid === pgbenchPid);
  const argv = ['-n', '-M', v.mode, '-c', '16', '-j', '2', '-T', String(seconds), '-f', file, ...connArgs(), dbName];
  const child = spawn('pgbench', argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  pgbenchPid = child.pid ?? -1;
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const pgMs = backends.stop();
  const clientMs = client.stop();
  if (code !== 0) throw new Error(`pgbench ${v.name} failed: ${stderr}\n${stdout}`);
  const tps = Number(/tps = ([\d.]+)/.exec(stdout)?.[1] ?? 0);
  const txns = Number(/number of transactions actually processed: (\d+)/.exec(stdout)?.[1] ?? 0);
  const failed = Number(/number of failed transactions: (\d+)/.exec(stdout)?.[1] ?? 0);
  return { variant: v.name, tps: round(tps, 1), failed, cpuMsPerTxn: { postgres: round(pgMs / txns, 3), pgbench: round(clientMs / txns, 3) } };
}

async function main() {
  const db = await createDatabase('sql');
  const migrate = await runChild(process.execPath, [path.join(ROOT, 'bin/settle.js'), 'migrate'], { env: { ...process.env, DATABASE_URL: db.url, LOG_LEVEL: 'warn' } });
  if (migrate.code !== 0) throw new Error(`settle migrate failed: ${migrate.stderr}`);
  await withDatabase(db.url, (c) => c.query(SETUP));
  if (args['drop-fks']) {
    // --drop-fks: what the foreign-key checks of a charge cost (5 immediate, 4 deferred).
    await withDatabase(db.url, (c) =>
      c.query(`do $$ declare r record; begin
        for r in select conrelid::regclass as t, conname from pg_constraint
          where contype = 'f' and conrelid::regclass::text in ('postings', 'charges', 'ledger_transactions')
        loop execute format('alter table %s drop constraint %I', r.t, r.conname); end loop; end $$`),
    );
  }
  const pgbenchDb = await createDatabase('sqlpgb');
  await pgbenchInit(pgbenchDb.name, 10);
  const variants = args.only ? VARIANTS.filter((v) => args.only!.split(',').includes(v.name)) : VARIANTS;
  const results: Record<string, unknown>[] = [];
  for (let r = 0; r < Number(args.rounds); r++) {
    const n = await pgbenchRun(pgbenchDb.name, { clients: 16, threads: 2, seconds });
    results.push({ round: r, variant: 'pgbench -N', tps: n.tps, cpuMsPerTxn: n.cpuMsPerTxn });
    log(`round ${r}: pgbench -N ${n.tps} tps`);
    for (const v of variants) {
      const res = await runScript(db.name, v);
      results.push({ round: r, ...res, loadavg: os.loadavg()[0] });
      log(`round ${r}: ${v.name} ${res.tps} tps (${res.failed} failed), cpu/txn ${JSON.stringify(res.cpuMsPerTxn)}`);
    }
  }
  const check = await runChild(process.execPath, [path.join(ROOT, 'bin/settle.js'), 'check'], { env: { ...process.env, DATABASE_URL: db.url, LOG_LEVEL: 'warn' } });
  const report = JSON.parse(check.stdout) as { ok: boolean; problems: unknown[]; transactions: number };
  process.stdout.write(`${JSON.stringify({ variants: VARIANTS.map(({ name, what, mode }) => ({ name, what, mode })), results, check: { ok: report.ok, transactions: report.transactions, problems: report.problems.slice(0, 3) } }, null, 2)}\n`);
}

main()
  .catch((err) => {
    log(String((err as Error).stack ?? err));
    process.exitCode = 1;
  })
  .finally(async () => {
    await dropAllDatabases();
    rmSync(work, { recursive: true, force: true });
  });
