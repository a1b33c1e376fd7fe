// The short deterministic simulation run by `npm test` (see sim.ts): two seeds of 150
// steps each on the database this project runs (PGlite on disk, or PostgreSQL), and a
// check that a seed replays exactly. A failure prints its seed and step; replay it with
//   SIM_SEED=<seed> SIM_STEPS=<step> npx vitest run test/simulation   (SIM_TRACE=1 prints each step)
// Longer runs on demand: npm run simulate -- --seeds 50 --steps 2000.
import { afterAll, describe, expect, it } from 'vitest';
import { TEST_DB } from '../helpers/db.js';
import { disposeSimulations, runSimulation, type SimResult } from './sim.js';

const SEEDS = process.env.SIM_SEED ? [Number(process.env.SIM_SEED)] : [1, 2];
const STEPS = Number(process.env.SIM_STEPS ?? 150);
const TRACE = process.env.SIM_TRACE === '1';
const REPLAY_STEPS = 30;

describe(`deterministic simulation of the booking, direct and prepay processes (${TEST_DB})`, () => {
  const results = new Map<number, SimResult>();
  afterAll(() => disposeSimulations());

  for (const seed of SEEDS) {
    it(`seed ${seed}: ${STEPS} steps keep every invariant`, async () => {
      const result = await runSimulation({ seed, steps: STEPS, db: TEST_DB, checkEvery: 10, ...(TRACE ? { log: (l) => console.log(l) } : {}) });
      results.set(seed, result);
      expect(result.orders).toBeGreaterThan(0);
      console.log(
        `simulation seed ${seed} (${TEST_DB}): ${STEPS} steps in ${result.ms} ms, ${result.orders} orders ${JSON.stringify(result.states)}, ` +
          `${result.deadlinesFired} deadline firings, ${result.restarts} restarts, ${result.replays} replays, statuses ${JSON.stringify(result.statuses)}, trace ${result.traceHash}`,
      );
    }, 180_000);
  }

  it(`the same seed replays the same run (first ${REPLAY_STEPS} steps of seed ${SEEDS[0]})`, async ({ skip }) => {
    const first = results.get(SEEDS[0]!);
    if (!first || STEPS < REPLAY_STEPS) return skip();
    const again = await runSimulation({ seed: SEEDS[0]!, steps: REPLAY_STEPS, db: TEST_DB, checkEvery: REPLAY_STEPS });
    const prefix = first.trace.filter((line) => Number(/^#(\d+)/.exec(line)?.[1]) <= REPLAY_STEPS);
    expect(again.trace).toEqual(prefix);
  }, 120_000);
});
