// Issue 3's speed in `npm run bench`: the booking flows (bench/lifecycle.ts: full lifecycles
// and paid → cancel → refund flows at 16 clients, on PostgreSQL and PGlite, with the SQL
// statements per flow) and the deadline sweep (bench/deadline-sweep.ts: 100,000 overdue of
// 1,000,000 open orders fired on PostgreSQL, and the claim's time at 10,000 against
// 1,000,000 open). Each runs as its own process, as it does on its own; their JSON reports
// go into the bench's report as they are, with the targets judged from them.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from './server.js';
import { runChild } from './child.js';

export const BOOKING_TARGETS = { lifecyclesPostgres: 250, lifecyclesPglite: 120, cancelFlowsPostgres: 160, sweepWallMs: 60_000, claimRatio: 2 };

export interface BookingOptions {
  quick: boolean;
  skipPostgres: boolean;
  skipPglite: boolean;
  /** Where each script's stderr goes (a file per script). */
  workDir: string;
  log: (msg: string) => void;
}

type Json = Record<string, any>;

/**
 * Runs `bench/<script>` with tsx and gives its JSON report (its stdout). A script that found a
 * problem still prints its report and exits 1: the report is kept, `failed` says so. No report
 * at all is an error naming the script's stderr (kept with `--keep-logs`).
 */
async function runScript(script: string, args: string[], o: BookingOptions): Promise<{ report: Json; failed: boolean }> {
  const logFile = path.join(o.workDir, `${script}.log`);
  const { code, stdout: out, stderr: err } = await runChild(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bench', script), ...args], { cwd: ROOT });
  writeFileSync(logFile, err);
  try {
    return { report: JSON.parse(out) as Json, failed: code !== 0 };
  } catch {
    throw new Error(`bench/${script} printed no report (exit ${code}); its stderr (${logFile}, kept with --keep-logs) ends: ${err.slice(-500)}`);
  }
}

export interface BookingResult {
  bookingFlows: Json | null;
  deadlineSweep: Json | null;
  targets: { name: string; target: string; measured: number | null; met: boolean | null }[];
  problems: string[];
}

export async function benchBooking(o: BookingOptions): Promise<BookingResult> {
  const problems: string[] = [];
  const flags = [...(o.quick ? ['--quick'] : []), ...(o.skipPglite ? ['--skip-pglite'] : []), ...(o.skipPostgres ? ['--skip-postgres'] : [])];
  let flows: Json = {};
  o.log('booking flows (bench/lifecycle.ts)');
  try {
    const run = await runScript('lifecycle.ts', flags, o);
    flows = (run.report as { bookingFlows: Json }).bookingFlows;
    if (run.failed) problems.push('booking flows: bench/lifecycle.ts exited with an error (its report is kept)');
  } catch (err) {
    problems.push((err as Error).message);
  }
  for (const store of ['postgres', 'pglite'] as const) {
    for (const flow of ['lifecycle', 'cancelRefundFlow'] as const) {
      const r = flows[store]?.[flow] as { perSecond: number; flows: number; errors: number } | undefined;
      if (!r) continue;
      o.log(`  ${store} ${flow}: ${r.perSecond}/s, ${r.errors} failed`);
      if (r.errors > 0) problems.push(`booking flows: ${r.errors} ${flow} flows failed on ${store}`);
      if (r.flows === 0) problems.push(`booking flows: no ${flow} flow completed on ${store}`);
    }
  }
  let sweep: Json | null = null;
  if (!o.skipPostgres) {
    o.log(`deadline sweep (bench/deadline-sweep.ts${o.quick ? ' --quick' : ''})`);
    try {
      sweep = (await runScript('deadline-sweep.ts', o.quick ? ['--quick'] : [], o)).report;
      o.log(`  ${sweep.fire?.fired} fired in ${sweep.fire?.wallMs} ms; claim ratio ${sweep.claim?.ratio}; proof ${sweep.proof?.ok ? 'clean' : 'NOT clean'}`);
      if (!sweep.proof?.ok) problems.push(`deadline sweep: the proof found problems: ${JSON.stringify(sweep.proof).slice(0, 500)}`);
    } catch (err) {
      problems.push((err as Error).message);
    }
  }

  // --quick is a smoke run (a few seconds, 20,000 open orders): not judged.
  // "report" lines pass null: never judged, as in run.ts.
  const t = (name: string, target: string, measured: number | null | undefined, met: boolean | null) => ({ name, target, measured: measured ?? null, met: o.quick || measured == null ? null : met });
  const pg = flows.postgres as Json | undefined;
  const lite = flows.pglite as Json | undefined;
  const sql = flows.sqlOnPostgres as Json | undefined;
  const T = BOOKING_TARGETS;
  const targets = [
    pg && t('booking lifecycles/s on PostgreSQL (16 clients)', `>= ${T.lifecyclesPostgres}`, pg.lifecycle.perSecond, pg.lifecycle.perSecond >= T.lifecyclesPostgres),
    lite && t('booking lifecycles/s on PGlite (16 clients)', `>= ${T.lifecyclesPglite}`, lite.lifecycle.perSecond, lite.lifecycle.perSecond >= T.lifecyclesPglite),
    pg && t('paid → cancel → refund flows/s on PostgreSQL (16 clients)', `>= ${T.cancelFlowsPostgres}`, pg.cancelRefundFlow.perSecond, pg.cancelRefundFlow.perSecond >= T.cancelFlowsPostgres),
    sql && t('SQL statements per lifecycle (PostgreSQL)', 'report', sql.lifecycle.statementsPerFlow, null),
    sql && t('SQL statements per cancel flow (PostgreSQL)', 'report', sql.cancelRefundFlow.statementsPerFlow, null),
    sweep && t(`deadline sweep: ${sweep.fire?.fired} overdue of ${sweep.setup?.openOrders} open fired, ms`, `<= ${T.sweepWallMs}`, sweep.fire?.wallMs, sweep.fire?.wallMs <= T.sweepWallMs),
    sweep && t(`deadline claim time, ${sweep.claim?.large?.openOrders} ÷ ${sweep.claim?.small?.openOrders} open orders`, `<= ${T.claimRatio}`, sweep.claim?.ratio, sweep.claim?.ratio <= T.claimRatio),
  ].filter((x): x is NonNullable<typeof x> => Boolean(x));
  return { bookingFlows: flows, deadlineSweep: sweep, targets, problems };
}
