// The long simulation run, on demand:
//   npm run simulate -- --seeds 50 --steps 2000 [--from 1000] [--db pglite|postgres] [--check-every 25]
//   npm run simulate -- --seed 1234 --steps 480 --trace      (replay one seed, print every step)
// Environment equivalents: SIM_SEEDS, SIM_STEPS, SIM_SEED, SIM_DB, SIM_CHECK_EVERY, SIM_TRACE=1;
// SIM_EVENTS=1 also prints each seed's order events by process (e.g. prepay:auto_release),
// SIM_PROFILE=1 where the time went.
// Seeds default to consecutive numbers from a random start (printed), so every run explores
// new ground and any failure can be replayed from its seed. PostgreSQL uses
// SETTLE_TEST_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/postgres).
import { parseArgs } from 'node:util';
import { randomInt } from 'node:crypto';
import { disposeSimulations, profile, runSimulation, SimulationFailure, type SimDb } from './sim.js';

const { values } = parseArgs({
  options: {
    seeds: { type: 'string' },
    seed: { type: 'string' },
    from: { type: 'string' },
    steps: { type: 'string' },
    db: { type: 'string' },
    'check-every': { type: 'string' },
    trace: { type: 'boolean' },
    'keep-going': { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  },
});

if (values.help) {
  console.log(`usage: npm run simulate -- [--seeds N] [--from SEED] [--steps N] [--db pglite|postgres] [--check-every N] [--keep-going]
       npm run simulate -- --seed SEED --steps N --trace      (replay one seed, print every step)
The booking, direct and prepay processes (see test/simulation/sim.ts). Environment: SIM_SEEDS, SIM_STEPS, SIM_SEED, SIM_DB,
SIM_CHECK_EVERY, SIM_TRACE=1; SIM_EVENTS=1 prints the order events by process, SIM_PROFILE=1 where the time went.`);
  process.exit(0);
}

const env = process.env;
const db = (values.db ?? env.SIM_DB ?? 'pglite') as SimDb;
if (db !== 'pglite' && db !== 'postgres') throw new Error('--db must be pglite or postgres');
if (db === 'postgres') env.SETTLE_TEST_POSTGRES_URL ??= 'postgres://postgres@127.0.0.1:5432/postgres';
const steps = Number(values.steps ?? env.SIM_STEPS ?? 2000);
const checkEvery = Number(values['check-every'] ?? env.SIM_CHECK_EVERY ?? 25);
const one = values.seed ?? env.SIM_SEED;
const count = Number(values.seeds ?? env.SIM_SEEDS ?? 10);
const from = Number(values.from ?? randomInt(1, 2 ** 31 - count));
const seeds = one !== undefined ? [Number(one)] : Array.from({ length: count }, (_, i) => from + i);
const trace = values.trace || env.SIM_TRACE === '1';

console.log(`simulating ${seeds.length} seed(s) × ${steps} steps on ${db}${one === undefined ? `, seeds ${from}..${from + count - 1}` : ''}`);
let failures = 0;
const started = Date.now();
for (const seed of seeds) {
  try {
    const r = await runSimulation({ seed, steps, db, checkEvery, ...(trace ? { log: (l: string) => console.log(l) } : {}) });
    console.log(
      `seed ${seed}: ok in ${(r.ms / 1000).toFixed(1)} s — ${r.orders} orders ${JSON.stringify(r.states)}, ${r.deadlinesFired} deadline firings, ` +
        `${r.restarts} restarts, ${r.replays} replays, statuses ${JSON.stringify(r.statuses)}, trace ${r.traceHash}` +
        (env.SIM_EVENTS === '1' ? `\n  events ${JSON.stringify(r.events)}` : ''),
    );
  } catch (err) {
    failures++;
    console.error(err instanceof SimulationFailure ? err.message : err);
    if (!values['keep-going']) break;
  }
}
if (env.SIM_PROFILE === '1') for (const [k, v] of Object.entries(profile)) console.log(`  ${k}: ${v.n} × ${(v.ms / v.n).toFixed(1)} ms = ${(v.ms / 1000).toFixed(1)} s`);
console.log(`${failures ? `${failures} FAILED` : 'all passed'} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
await disposeSimulations();
process.exit(failures ? 1 : 0);
