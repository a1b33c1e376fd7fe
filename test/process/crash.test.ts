// Crash: `kill -9` a Settle server while it is under load (charges, top-ups, charge
// refunds, corrections and card refunds of top-ups, 16 in flight), restart it on the
// same database, and prove that
//   - every request that got a 2xx is there (looked up by id) with what it said;
//   - each request that got no answer had all of its effect or none of it: re-sent with
//     the same Idempotency-Key it either replays its stored response (it had committed)
//     or runs now (it had not), and after that every balance equals the sum of the
//     acknowledged operations — an effect without its idempotency record, or a record
//     without its effect, would show up as a difference;
//   - `check` is clean (HTTP, then the CLI once the server has stopped).
// Two crashes in a row (the second one during load on the recovered database). Runs on
// PostgreSQL (SETTLE_TEST_DB=postgres) and on PGlite on disk (SETTLE_TEST_DB=pglite); see
// docs/durability.md for what each one promises.
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, TEST_DB, type TestDatabase } from '../helpers/db.js';
import { Client, prng, runCli, startServerProcess, stopAllServers, type Res, type ServerProcess } from '../helpers/process.js';

const SEED = Number(process.env.SETTLE_TEST_SEED ?? Math.floor(Math.random() * 2 ** 31));
const CUSTOMERS = 4;
const PROVIDERS = 2;
const CONCURRENCY = 16;
const CRASHES = 2;
// Typically 15–30 s per database; the limit leaves room for a machine busy with other work.
const TIME_LIMIT_MS = 120_000;

type Kind = 'top_up' | 'charge' | 'charge_refund' | 'correction' | 'top_up_refund';

/** One request of the load, with what it needs to be looked up and re-sent. */
interface Op {
  kind: Kind;
  customerId: string;
  path: string;
  body: Record<string, unknown>;
  key: string;
  /** The answer; status 0 = none (the server died first). */
  res?: Res;
  /** Set once a retry after the restart has given an answer. */
  replayed?: boolean;
}

describe(`kill -9 under load, restart on the same database (${TEST_DB})`, () => {
  const adminKey = `sk_test_admin_${randomUUID()}`;
  let database: TestDatabase | undefined;
  let dataDir: string | undefined;
  const where = () => (TEST_DB === 'postgres' ? { databaseUrl: database!.url } : { dataDir: dataDir! });
  const clients: Client[] = [];

  beforeAll(async () => {
    if (TEST_DB === 'postgres') database = await createTestDatabase('postgres');
    else dataDir = mkdtempSync(join(tmpdir(), 'settle-crash-'));
  });

  afterEach(() => stopAllServers());
  afterAll(async () => {
    clients.forEach((c) => c.close());
    await stopAllServers();
    await database?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  async function start(): Promise<{ server: ServerProcess; client: Client; startMs: number }> {
    const t0 = Date.now();
    const server = await startServerProcess({ ...where(), adminKey });
    const client = new Client(server.url, adminKey, { maxSockets: CONCURRENCY });
    clients.push(client);
    return { server, client, startMs: Date.now() - t0 };
  }

  it(`keeps every acknowledged request and a clean ledger across ${CRASHES} kill -9s (seed ${SEED})`, async () => {
    const rnd = prng(SEED);
    const ops: Op[] = [];
    const first = await start();
    let { server, client } = first;
    const timings: Record<string, number> = { firstStartMs: first.startMs };
    let mark = Date.now();
    const lap = (name: string) => {
      timings[name] = Date.now() - mark;
      mark = Date.now();
    };

    const customers: string[] = [];
    const providers: string[] = [];
    for (let i = 0; i < CUSTOMERS; i++) {
      const res = await client.post('/v1/customers', { email: `crash-${i}-${randomUUID()}@example.com`, name: `Customer ${i}` });
      expect(res.status).toBe(200);
      customers.push(res.body.id);
    }
    for (let i = 0; i < PROVIDERS; i++) {
      const res = await client.post('/v1/providers', { email: `crash-p${i}-${randomUUID()}@example.com`, name: `Provider ${i}` });
      expect(res.status).toBe(200);
      providers.push(res.body.id);
    }
    lap('setupMs');

    const acked = (kind: Kind) => ops.filter((o) => o.kind === kind && o.res?.status === 200);
    /** The next request of the load (built from what has been acknowledged so far). */
    function nextOp(): Op {
      const roll = rnd.int(1, 100);
      const customerId = rnd.pick(customers);
      const key = randomUUID();
      if (roll <= 20) {
        return { kind: 'top_up', customerId, key, path: `/v1/customers/${customerId}/top-ups`, body: { amount: rnd.int(500, 3_000), currency: 'USD', paymentMethod: 'pm_card_visa' } };
      }
      const charges = acked('charge');
      if (roll <= 32 && charges.length > 0) {
        const charge = rnd.pick(charges);
        return {
          kind: 'charge_refund',
          customerId: charge.customerId,
          key,
          path: `/v1/charges/${charge.res!.body.id}/refunds`,
          body: { amount: rnd.int(1, Math.ceil(charge.res!.body.amount / 3)) },
        };
      }
      const topUps = acked('top_up');
      if (roll <= 40 && topUps.length > 0) {
        const topUp = rnd.pick(topUps);
        return { kind: 'top_up_refund', customerId: topUp.customerId, key, path: `/v1/top-ups/${topUp.res!.body.id}/refunds`, body: { amount: rnd.int(1, 300) } };
      }
      if (roll <= 60) {
        const amount = (rnd.next() < 0.6 ? 1 : -1) * rnd.int(50, 800);
        return { kind: 'correction', customerId, key, path: `/v1/customers/${customerId}/balance-corrections`, body: { amount, currency: 'USD', memo: 'crash test' } };
      }
      return {
        kind: 'charge',
        customerId,
        key,
        path: '/v1/charges',
        body: { customerId, providerId: rnd.pick(providers), amount: rnd.int(100, 1_200), currency: 'USD', description: 'Private chat' },
      };
    }

    for (let crash = 1; crash <= CRASHES; crash++) {
      // Load until `killAfter` more requests have been acknowledged, then kill -9 with
      // CONCURRENCY requests in flight.
      const killAfter = rnd.int(80, 160);
      const ackedBefore = ops.filter((o) => o.res?.status === 200).length;
      let killed = false;
      const t0 = Date.now();
      const c = client;
      const s = server;
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (!killed) {
            const op = nextOp();
            ops.push(op);
            op.res = await c.post(op.path, op.body, op.key);
            if (op.res.status === 0) return; // the server is gone
            if (!killed && ops.filter((o) => o.res?.status === 200).length - ackedBefore >= killAfter) {
              killed = true;
              s.child.kill('SIGKILL');
            }
          }
        }),
      );
      await s.exited;
      const loadMs = Date.now() - t0;
      const unanswered = ops.filter((o) => o.res?.status === 0);
      // Really mid-load: requests were in flight when it died.
      expect(unanswered.length).toBeGreaterThan(0);
      expect(s.output(), 'server output').not.toMatch(/"level":(50|60)/); // no error logs before the kill

      // PGlite leaves its postmaster.pid (pid -42) and Settle its settle.pid behind: both
      // must be recognised as stale.
      const staleLocks = dataDir ? ['postmaster.pid', 'settle.pid'].filter((f) => existsSync(join(dataDir!, f))) : [];
      if (dataDir) {
        expect(staleLocks).toContain('settle.pid');
        expect(Number(readFileSync(join(dataDir, 'settle.pid'), 'utf8'))).toBe(s.pid);
      }

      lap(`load${crash}Ms`);
      const restarted = await start();
      server = restarted.server;
      client = restarted.client;
      lap(`restart${crash}Ms`);

      // 1. Every acknowledged request is there, as it was acknowledged.
      await inParallel(ops.filter((o) => o.res?.status === 200), 8, (op) => expectStored(client, op));

      // 2. Requests without an answer had all or nothing: re-send with the same key.
      let replays = 0;
      for (const op of unanswered) {
        const res = await client.post(op.path, op.body, op.key);
        expect([200, 409, 422], `${op.kind} retry: ${res.status} ${JSON.stringify(res.body)}`).toContain(res.status);
        op.replayed = res.headers['idempotent-replayed'] === 'true';
        if (op.replayed) replays++;
        op.res = res;
        if (res.status === 200) await expectStored(client, op);
      }
      console.info(
        `crash ${crash} (${TEST_DB}, seed ${SEED}): killed after ${loadMs} ms of load, ` +
          `${ops.filter((o) => o.res?.status === 200).length} acknowledged in all, ${unanswered.length} unanswered ` +
          `(${replays} had committed, ${unanswered.length - replays} had not), restart ${restarted.startMs} ms` +
          (dataDir ? `, stale lock files: ${staleLocks.join(', ') || 'none'}` : ''),
      );

      // 3. Balances are the sum of what was acknowledged; the ledger proves itself.
      await expectBalances(client, customers, ops);
      const check = await client.get('/v1/ledger/check');
      expect(check.body.problems).toEqual([]);
      expect(check.body.ok).toBe(true);
      lap(`verify${crash}Ms`);
    }

    // Card refunds cut off by a crash are finished by the restarted server.
    for (const op of acked('top_up_refund')) {
      const status = await waitFor(async () => (await client.get(`/v1/refunds/${op.res!.body.id}`)).body.status, (st) => st !== 'pending');
      expect(status).toBe('succeeded');
    }
    expect((await client.get('/v1/ledger/check')).body).toMatchObject({ ok: true, pendingRefunds: 0 });

    if (dataDir) {
      // A second process on the data dir the server is using is refused (two PGlite
      // instances on one data dir lose acknowledged writes), and the server is unharmed.
      const second = await runCli(['check'], where());
      expect(second.code).toBe(1);
      expect(second.stderr).toContain(`in use by process ${server.pid}`);
      expect(Number(readFileSync(join(dataDir, 'settle.pid'), 'utf8'))).toBe(server.pid);
      expect((await client.get('/v1/ledger/check')).body.ok).toBe(true);
    }

    // A clean stop, then the operator's proof from the command line.
    expect(await server.stop()).toBe(0);
    if (dataDir) expect(existsSync(join(dataDir, 'settle.pid'))).toBe(false);
    const cli = await runCli(['check'], where());
    expect(cli.code, cli.stdout + cli.stderr).toBe(0);
    expect(JSON.parse(cli.stdout)).toMatchObject({ ok: true, problems: [] });
    lap('finishMs');
    console.info(`crash test timings (${TEST_DB})`, timings);
  }, TIME_LIMIT_MS);
});

/** The acknowledged request can be read back by id, with the amounts it answered. */
async function expectStored(client: Client, op: Op): Promise<void> {
  const body = op.res!.body;
  const path = {
    top_up: `/v1/top-ups/${body.id}`,
    charge: `/v1/charges/${body.id}`,
    correction: `/v1/transactions/${body.id}`,
    charge_refund: `/v1/refunds/${body.id}`,
    top_up_refund: `/v1/refunds/${body.id}`,
  }[op.kind];
  const res = await client.get(path);
  expect(res.status, `${op.kind} ${body.id} acknowledged but not found: ${JSON.stringify(res.body)}`).toBe(200);
  expect(res.body).toMatchObject({ id: body.id, amount: body.amount, currency: 'USD' });
  if (op.kind === 'correction') expect(res.body.type).toBe('correction');
  else expect(res.body.customerId).toBe(op.customerId);
}

/** Every customer's balance equals the sum of the acknowledged operations on it. */
async function expectBalances(client: Client, customers: string[], ops: Op[]): Promise<void> {
  for (const customerId of customers) {
    let expected = 0;
    for (const op of ops) {
      if (op.customerId !== customerId || op.res?.status !== 200) continue;
      const amount = op.res.body.amount as number;
      if (op.kind === 'top_up' || op.kind === 'charge_refund' || op.kind === 'correction') expected += amount;
      else if (op.kind === 'charge') expected -= amount;
      else if (op.res.body.status !== 'failed') expected -= amount; // top-up refund: pending or succeeded
    }
    const res = await client.get(`/v1/customers/${customerId}`);
    expect(res.body.balances.USD ?? 0, `balance of ${customerId}`).toBe(expected);
    expect(res.body.balances.USD ?? 0).toBeGreaterThanOrEqual(0);
  }
}

async function inParallel<T>(items: T[], width: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

async function waitFor<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
}
