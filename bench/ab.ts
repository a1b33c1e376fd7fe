// Paired A/B of two builds on one machine whose speed drifts by ±15 % within minutes (and
// by 2× between phases): both servers run at once, each on its own scratch PostgreSQL
// database, and short rounds of one booking flow alternate between them (A B, B A, …), so
// each pair of rounds sees the same machine. Reports, per round and as medians, flows/s and
// CPU per flow (server + its PostgreSQL backends), and B against A pair by pair.
//
//   npx tsx bench/ab.ts --base /tmp/old [--flow lifecycle|cancel] [--rounds 8] [--seconds 4]
//     [--a-node-args=…] [--b-node-args=…]   (the same build twice with other flags: --base .)
//     [--a-env=NAME=VALUE,…] [--b-env=…]     (or other settings, e.g. --b-env=SETTLE_DB_POOL=8;
//                                             values without commas; DATABASE_URL, SETTLE_ADMIN_KEY
//                                             and LOG_LEVEL stay the bench's)
//
// A is the checkout at --base (with its own node_modules, or a link to these, and its dist/
// built: `npx tsc -p tsconfig.build.json`), B is this checkout's dist/. Both servers get this
// checkout's `npm start` node flags. Prints JSON. Databases dropped afterwards. A side waits
// two rounds between its turns: keep --seconds under 5, or the pool's idle connections
// (10 s) close and its next round opens and prepares them again.
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import path from 'node:path';
import os from 'node:os';
import { Client } from './load.js';
import { bookingFlows, runFlows, setupParties, type Flow } from './booking-flows.js';
import { cpuMs, killAllServers, postgresBackendsCpuMs, ROOT, startServer, type Server } from './server.js';
import { createDatabase, dropAllDatabases, postgresReachable } from './pg.js';

const { values: args } = parseArgs({
  options: {
    base: { type: 'string' },
    flow: { type: 'string', default: 'lifecycle' },
    rounds: { type: 'string', default: '8' },
    seconds: { type: 'string', default: '4' },
    warmup: { type: 'string', default: '5' },
    clients: { type: 'string', default: '16' },
    // Extra node flags for one side only, e.g. `--b-node-args=--max-semi-space-size=32`.
    'a-node-args': { type: 'string', default: '' },
    'b-node-args': { type: 'string', default: '' },
    // Extra environment for one side's server, e.g. `--b-env=SETTLE_DB_POOL=8`.
    'a-env': { type: 'string', default: '' },
    'b-env': { type: 'string', default: '' },
  },
});
if (!args.base) throw new Error('bench/ab.ts: --base DIR (a checkout with dist/ built) is required');
if (args.flow !== 'lifecycle' && args.flow !== 'cancel') throw new Error('bench/ab.ts: --flow is lifecycle or cancel');
if (!(await postgresReachable())) throw new Error('bench/ab.ts: PostgreSQL is not reachable');
const flowName = args.flow;
const rounds = Number(args.rounds);
if (!(rounds >= 1)) throw new Error('bench/ab.ts: --rounds must be at least 1');
const seconds = Number(args.seconds);
const clients = Number(args.clients);
const ADMIN = `sk_bench_admin_${randomUUID()}`;

interface Side {
  label: 'A' | 'B';
  root: string;
  server: Server;
  db: string;
  client: Client;
  flow: Flow;
  rounds: { perSecond: number; cpuMsPerFlow: number; serverMs: number; postgresMs: number; errors: number }[];
}

/** `NAME=VALUE,NAME=VALUE` as an environment. */
function envOf(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of text.split(',').filter(Boolean)) {
    const eq = pair.indexOf('=');
    if (eq < 1) throw new Error(`bench/ab.ts: --a-env/--b-env take NAME=VALUE pairs, got ${JSON.stringify(pair)}`);
    env[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return env;
}

async function side(label: 'A' | 'B', root: string, nodeArgs: string, extraEnv: string): Promise<Side> {
  const db = await createDatabase(`ab_${label.toLowerCase()}`);
  const server = await startServer({ root, nodeArgs: nodeArgs.split(/\s+/).filter(Boolean), env: { ...envOf(extraEnv), DATABASE_URL: db.url, SETTLE_ADMIN_KEY: ADMIN, LOG_LEVEL: 'warn' }, logFile: path.join(os.tmpdir(), `settle-bench-ab-${label}.log`) });
  const client = new Client(server.port, ADMIN, clients * 2);
  const flows = bookingFlows(client, await setupParties(client, clients));
  return { label, root, server, db: db.name, client, flow: flowName === 'cancel' ? flows.cancel : flows.lifecycle, rounds: [] };
}

async function round(s: Side, secondsEach: number): Promise<void> {
  const before = { server: cpuMs(s.server.pid) ?? 0, pg: postgresBackendsCpuMs(s.db) };
  const t0 = performance.now();
  const r = await runFlows(clients, secondsEach, s.flow);
  if (r.flows === 0) throw new Error(`bench/ab.ts: side ${s.label} completed no flow in ${secondsEach} s (${r.errors} failed); see its log`);
  const elapsedS = (performance.now() - t0) / 1000;
  const serverMs = ((cpuMs(s.server.pid) ?? 0) - before.server) / r.flows;
  const postgresMs = (postgresBackendsCpuMs(s.db) - before.pg) / r.flows;
  s.rounds.push({ perSecond: +(r.flows / elapsedS).toFixed(1), cpuMsPerFlow: +(serverMs + postgresMs).toFixed(3), serverMs: +serverMs.toFixed(3), postgresMs: +postgresMs.toFixed(3), errors: r.errors });
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return +(s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2).toFixed(3);
};

const sides: Side[] = [];
try {
  const a = await side('A', path.resolve(args.base), args['a-node-args'], args['a-env']);
  sides.push(a);
  const b = await side('B', ROOT, args['b-node-args'], args['b-env']);
  sides.push(b);
  // Warm-up (V8 compiles the hot paths), not measured; then drop those rounds.
  for (const s of [a, b]) await round(s, Number(args.warmup));
  for (const s of [a, b]) s.rounds.length = 0;
  for (let r = 0; r < rounds; r++) for (const s of r % 2 === 0 ? [a, b] : [b, a]) await round(s, seconds);
  const pairs = a.rounds.map((ra, i) => ({ perSecond: (b.rounds[i]?.perSecond ?? 0) / ra.perSecond, cpu: (b.rounds[i]?.cpuMsPerFlow ?? 0) / ra.cpuMsPerFlow }));
  const summary = (s: Side) => ({
    root: s.root,
    perSecondMedian: median(s.rounds.map((x) => x.perSecond)),
    cpuMsPerFlowMedian: median(s.rounds.map((x) => x.cpuMsPerFlow)),
    serverMsMedian: median(s.rounds.map((x) => x.serverMs)),
    postgresMsMedian: median(s.rounds.map((x) => x.postgresMs)),
    errors: s.rounds.reduce((t, x) => t + x.errors, 0),
    rounds: s.rounds,
  });
  console.log(
    JSON.stringify(
      {
        ab: {
          flow: flowName,
          clients,
          rounds,
          secondsEach: seconds,
          A: summary(a),
          B: summary(b),
          bAgainstA: {
            perSecondRatioMedian: median(pairs.map((p) => p.perSecond)),
            cpuPerFlowRatioMedian: median(pairs.map((p) => p.cpu)),
            bFasterInPairs: pairs.filter((p) => p.perSecond > 1).length,
            bCheaperInPairs: pairs.filter((p) => p.cpu < 1).length,
          },
        },
      },
      null,
      2,
    ),
  );
} finally {
  for (const s of sides) {
    s.client.close();
    await s.server.stop();
  }
  killAllServers();
  await dropAllDatabases();
}
