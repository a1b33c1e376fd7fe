// `node --import tsx bench/pglitebench.ts [--charges 2000]`
// A charge's SQL on PGlite without HTTP: the statements the server sends (see
// bench/charge-sql.ts) run one charge after another in this process on a migrated
// on-disk PGlite, as the server's single PGlite connection does; next to `select 1`
// (the fixed cost of one PGlite query) and to the charge as one statement. Shows the
// ceiling PGlite puts on charges/s before any HTTP work (BENCHMARKS.md, "Where the time goes").
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { PGlite } from '@electric-sql/pglite';
import { chargeValues, IDEM, INSERT_CHARGE, LEDGER_POST, ONE_STATEMENT, positional, SETUP } from './charge-sql.js';
import { ROOT } from './server.js';
import { round, summarize } from './stats.js';

const { values: args } = parseArgs({ options: { charges: { type: 'string', default: '2000' }, 'shared-buffers': { type: 'string' }, memory: { type: 'boolean', default: false } } });
const count = Number(args.charges);
const dir = mkdtempSync(path.join(os.tmpdir(), 'settle-pglitebench-'));
const log = (m: string) => process.stderr.write(`[pglitebench] ${m}\n`);

async function dumpDir(dataDir: string): Promise<Blob> {
  const disk = await PGlite.create({ dataDir });
  const blob = (await disk.dumpDataDir('none')) as Blob;
  await disk.close();
  return blob;
}

async function main() {
  const migrate = spawnSync(process.execPath, [path.join(ROOT, 'bin/settle.js'), 'migrate'], { env: { ...process.env, SETTLE_DATA_DIR: dir, DATABASE_URL: '', LOG_LEVEL: 'warn' }, encoding: 'utf8' });
  if (migrate.status !== 0) throw new Error(`settle migrate failed: ${migrate.stderr}`);
  const rss0 = process.memoryUsage().rss;
  const t0 = performance.now();
  // --memory: the same database loaded into an in-memory PGlite, to see what the files cost.
  const db = await PGlite.create({
    ...(args.memory ? { loadDataDir: await dumpDir(dir) } : { dataDir: dir }),
    ...(args['shared-buffers'] ? { postgresqlconf: [`shared_buffers=${args['shared-buffers']}`] } : {}) });
  const openMs = performance.now() - t0;
  await db.exec(SETUP);
  const statements = [INSERT_CHARGE, LEDGER_POST, IDEM].map((s) => positional(s.replace(/;$/, '')));
  const one = positional(ONE_STATEMENT.replace(/;$/, ''));
  const args_ = (p: { names: string[] }, v: Record<string, number>) => p.names.map((n) => v[n]);

  const variants: Record<string, (i: number) => Promise<void>> = {
    'select 1': async () => {
      await db.query('select 1');
    },
    'balance read (the 2 queries of GET /v1/customers/:id)': async () => {
      const c = Math.floor(Math.random() * 1000);
      await db.query('select "id", "email", "name", "created_at" from "customers" where "id" = $1', [`cus_b${c}`]);
      await db.query(
        'select "a"."currency", sum("b"."balance") as "balance" from "accounts" as "a" inner join "account_balances" as "b" on "b"."account_id" = "a"."id" where "a"."kind" = $1 and "a"."owner_id" = $2 group by "a"."currency" order by "a"."currency"',
        ['customer_credit', `cus_b${c}`],
      );
    },
    today: async (i) => {
      const v = chargeValues(i, 8);
      await db.query('begin');
      for (const s of statements) await db.query(s.text, args_(s, v));
      await db.query('commit');
    },
    'one statement in begin/commit': async (i) => {
      const v = chargeValues(i, 64);
      await db.query('begin');
      await db.query(one.text, args_(one, v));
      await db.query('commit');
    },
    'one statement, autocommit': async (i) => {
      await db.query(one.text, args_(one, chargeValues(i, 64)));
    },
  };
  const results: Record<string, unknown> = {};
  let n = 1;
  for (const [name, fn] of Object.entries(variants)) {
    for (let i = 0; i < 100; i++) await fn(n++); // warm-up
    const lat: number[] = [];
    const c0 = process.cpuUsage();
    const w0 = performance.now();
    for (let i = 0; i < count; i++) {
      const s = performance.now();
      await fn(n++);
      lat.push(performance.now() - s);
    }
    const wall = performance.now() - w0;
    const cpu = process.cpuUsage(c0);
    results[name] = { perS: round((count * 1000) / wall, 1), cpuMsPer: round((cpu.user + cpu.system) / 1000 / count, 3), latency: summarize(lat) };
    log(`${name}: ${round((count * 1000) / wall, 1)}/s`);
  }
  const rss = process.memoryUsage();
  await db.close();
  process.stdout.write(
    `${JSON.stringify({ storage: args.memory ? 'memory' : 'disk', charges: count, openMs: round(openMs), rssMb: { beforeOpen: round(rss0 / 1048576, 1), end: round(rss.rss / 1048576, 1), external: round(rss.external / 1048576, 1) }, results, loadavg: os.loadavg() }, null, 2)}\n`,
  );
}

main()
  .catch((err) => {
    log(String((err as Error).stack ?? err));
    process.exitCode = 1;
  })
  .finally(() => rmSync(dir, { recursive: true, force: true }));
