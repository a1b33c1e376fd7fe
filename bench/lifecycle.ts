// Issue 3 speed: full booking lifecycles (create → confirm → pay → mark-done →
// confirm-execution) and paid → cancel → refund flows over HTTP at 16 clients, against
// the built server on a scratch PostgreSQL database and on PGlite. Prints JSON.
// `--quick` runs a few seconds each. Staff (operator) drive every step, as the engine
// allows; bookings without a service time so "mark done" is allowed at once.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { Client } from './load.js';
import { startServer } from './server.js';
import { createDatabase, dropDatabase, postgresReachable } from './pg.js';
import { summarize } from './stats.js';

const quick = process.argv.includes('--quick');
const CLIENTS = 16;
const SECONDS = quick ? 3 : 15;
const ADMIN = `sk_bench_admin_${randomUUID()}`;

type Step = { method: 'POST'; path: string; body: unknown };

async function setup(c: Client) {
  const providers = [];
  for (let i = 0; i < CLIENTS; i++) providers.push((await c.json({ method: 'POST', path: '/v1/providers', body: { email: `p${i}-${randomUUID()}@x.test`, name: `P${i}` } })).id);
  const customers = [];
  for (let i = 0; i < CLIENTS * 4; i++) {
    const cus = await c.json({ method: 'POST', path: '/v1/customers', body: { email: `c${i}-${randomUUID()}@x.test`, name: `C${i}` } });
    await c.json({ method: 'POST', path: `/v1/customers/${cus.id}/top-ups`, body: { amount: 900_000_000, currency: 'USD', paymentMethod: 'pm_card_visa' } });
    customers.push(cus.id);
  }
  return { providers, customers };
}

async function run(c: Client, flow: (client: number, n: number) => AsyncGenerator<Step>) {
  const latencies: number[] = [];
  let flows = 0;
  let errors = 0;
  const stopAt = Date.now() + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: CLIENTS }, async (_, client) => {
      for (let n = 0; Date.now() < stopAt; n++) {
        try {
          for await (const step of flow(client, n)) void step;
          flows++;
        } catch {
          errors++;
        }
      }
    }),
  );
  return { latencies, flows, errors };
}

async function measure(port: number) {
  const c = new Client(port, ADMIN, CLIENTS * 2);
  const { providers, customers } = await setup(c);
  const calls: number[] = [];
  const call = async (path: string, body: unknown) => {
    const t0 = performance.now();
    const r = await c.json({ method: 'POST', path, body, headers: { 'idempotency-key': randomUUID() } });
    calls.push(performance.now() - t0);
    return r;
  };
  const lifecycle = async function* (client: number, n: number): AsyncGenerator<Step> {
    const order = await call('/v1/orders', {
      process: 'booking',
      customerId: customers[(client * 4 + (n % 4)) % customers.length],
      providerId: providers[client],
      currency: 'USD',
      onBehalfOf: 'customer',
      lines: [{ description: 'Session', quantity: 1, unitAmount: 10_000 }],
    });
    for (const step of ['confirm', 'pay', 'mark-done', 'confirm-execution']) {
      await call(`/v1/orders/${order.id}/${step}`, step === 'pay' ? { useAccountCredit: true } : {});
      yield { method: 'POST', path: step, body: {} };
    }
  };
  const t0 = performance.now();
  const life = await run(c, lifecycle);
  const lifeSeconds = (performance.now() - t0) / 1000;
  const lifeCalls = summarize([...calls].sort((a, b) => a - b));
  calls.length = 0;
  const day = 86_400_000;
  const cancelFlow = async function* (client: number, n: number): AsyncGenerator<Step> {
    const base = Date.now() + 3 * day;
    const order = await call('/v1/orders', {
      process: 'booking',
      customerId: customers[(client * 4 + (n % 4)) % customers.length],
      providerId: providers[client],
      currency: 'USD',
      onBehalfOf: 'customer',
      lines: [0, 1].map((i) => ({ description: `Session ${i}`, quantity: 1, unitAmount: 5_000, startsAt: new Date(base + i * day).toISOString(), endsAt: new Date(base + i * day + 3_600_000).toISOString() })),
    });
    await call(`/v1/orders/${order.id}/confirm`, {});
    const paid = await call(`/v1/orders/${order.id}/pay`, { useAccountCredit: false, paymentMethod: 'pm_card_visa' });
    await call(`/v1/orders/${order.id}/cancel`, { lineIds: [paid.lines[0].id], reason: 'bench', refundDestination: 'card' });
    await call(`/v1/orders/${order.id}/cancel`, { reason: 'bench', refundDestination: 'card' });
    yield { method: 'POST', path: 'done', body: {} };
  };
  const t1 = performance.now();
  const cancel = await run(c, cancelFlow);
  const cancelSeconds = (performance.now() - t1) / 1000;
  const cancelCalls = summarize([...calls].sort((a, b) => a - b));
  c.close();
  return {
    lifecycle: { perSecond: +(life.flows / lifeSeconds).toFixed(1), flows: life.flows, errors: life.errors, callLatencyMs: lifeCalls },
    cancelRefundFlow: { perSecond: +(cancel.flows / cancelSeconds).toFixed(1), flows: cancel.flows, errors: cancel.errors, callLatencyMs: cancelCalls },
  };
}

const out: Record<string, unknown> = { clients: CLIENTS, secondsEach: SECONDS, targets: { lifecyclePostgres: 250, lifecyclePglite: 120, cancelFlowPostgres: 160 } };
if (await postgresReachable()) {
  const db = await createDatabase('lifecycle');
  const server = await startServer({ env: { DATABASE_URL: db.url, SETTLE_ADMIN_KEY: ADMIN, LOG_LEVEL: 'warn' }, logFile: path.join(os.tmpdir(), 'settle-bench-lifecycle-pg.log') });
  try {
    out.postgres = await measure(server.port);
  } finally {
    await server.stop();
    await dropDatabase(db.name);
  }
}
const dir = mkdtempSync(path.join(os.tmpdir(), 'settle-bench-lifecycle-'));
const server = await startServer({ env: { SETTLE_DATA_DIR: dir, SETTLE_ADMIN_KEY: ADMIN, LOG_LEVEL: 'warn' }, logFile: path.join(os.tmpdir(), 'settle-bench-lifecycle-pglite.log') });
try {
  out.pglite = await measure(server.port);
} finally {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
}
console.log(JSON.stringify({ bookingFlows: out }, null, 2));
