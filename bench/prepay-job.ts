// A picture-day job's bulk steps (seed 002), in process (no HTTP): N students, each
// pre-ordered and paid from credit, one photo each; then the times of "Populate photos",
// "Place order(s) now" and the batch release over all N orders, on PGlite and (when
// reachable) PostgreSQL. These are staff actions that run one transaction over the whole
// collection, so what matters is that a school-sized job takes seconds, not minutes.
// Prints JSON.
//
//   npx tsx bench/prepay-job.ts [--orders N]   (default 500)
import os from 'node:os';
import { openStore, type Store, type Trx } from '../src/store/db.js';
import { migrate } from '../src/store/migrate.js';
import { createApp } from '../src/app/app.js';
import type { Actor } from '../src/services/context.js';
import { createDatabase, dropDatabase, postgresReachable } from './pg.js';
import { round } from './stats.js';

const argv = process.argv.slice(2);
const at = argv.indexOf('--orders');
const ORDERS = at >= 0 ? Math.max(1, Number(argv[at + 1])) : 500;
const ADMIN: Actor = { role: 'admin', keyId: 'bench' };

async function run(store: Store) {
  await migrate(store);
  const app = await createApp(store, { mode: 'sandbox' });
  const tx = <T>(fn: (trx: Trx) => Promise<T>) => store.transaction(fn);
  const provider = await tx((trx) => app.parties.createProvider(trx, { name: 'Bench Studio', email: 'studio@bench.example' }));
  const product = await tx((trx) => app.catalog.createService(trx, { providerId: provider.id, name: 'Package A', unitAmountMinor: 3_500, currency: 'USD' }));
  const job = await tx((trx) => app.jobs.create(trx, { name: 'Bench School', providerId: provider.id, currency: 'USD', productIds: [product.id] }));
  const subjects = await tx((trx) => app.jobs.addSubjects(trx, job.id, { subjects: Array.from({ length: ORDERS }, (_, i) => ({ name: `Student ${i}`, groupName: `Class ${i % 20}` })) }));

  const t0 = performance.now();
  for (const [i, s] of subjects.entries()) {
    const customer = await tx((trx) => app.parties.createCustomer(trx, { email: `parent${i}@bench.example`, name: `Parent ${i}` }));
    await tx((trx) => app.topUps.create(trx, { customerId: customer.id, amountMinor: 5_000, currency: 'USD', paymentMethod: 'pm_card_visa', actor: ADMIN, idempotencyKey: `tu-${i}` }));
    const actor: Actor = { role: 'customer', keyId: 'bench', customerId: customer.id };
    const pre = await tx((trx) => app.jobOrders.preOrder(trx, { accessCode: s.accessCode, customerId: customer.id, lines: [{ serviceId: product.id, quantity: 1 }] }, actor, `pre-${i}`));
    await tx((trx) => app.orders.transition(trx, pre.orderId, 'pay', actor, { useAccountCredit: true }, `pay-${i}`));
  }
  const setupMs = performance.now() - t0;
  await tx((trx) => app.jobs.addPhotos(trx, job.id, subjects.map((s) => ({ accessCode: s.accessCode, fileName: `${s.accessCode}.jpg` }))));

  const timed = async <T>(fn: () => Promise<T>) => {
    const t = performance.now();
    const out = await fn();
    return { ms: round(performance.now() - t, 1), out };
  };
  const populate = await timed(() => tx((trx) => app.jobOrders.populate(trx, job.id, job.collectionId, ADMIN, 'bench-populate')));
  const place = await timed(() => tx((trx) => app.jobOrders.place(trx, job.id, job.collectionId, ADMIN, 'bench-place')));
  const release = await timed(() => tx((trx) => app.jobOrders.releaseBatch(trx, job.id, place.out.batchId!, ADMIN, 'bench-release')));
  if (populate.out.populated.length !== ORDERS || place.out.placed.length !== ORDERS || release.out.orders.length !== ORDERS) throw new Error('not every order went through');
  await app.deadlines.stop();
  return {
    preOrderAndPayPerSecond: round((ORDERS * 1000) / setupMs, 1),
    populateMs: populate.ms,
    placeMs: place.ms,
    releaseMs: release.ms,
    perOrderMs: { populate: round(populate.ms / ORDERS, 2), place: round(place.ms / ORDERS, 2), release: round(release.ms / ORDERS, 2) },
  };
}

const result: Record<string, unknown> = { bench: 'prepay-job', orders: ORDERS, cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, node: process.version, date: new Date().toISOString() };
{
  const store = await openStore({ url: 'memory://' });
  try {
    result.pglite = await run(store);
  } finally {
    await store.close();
  }
}
if (await postgresReachable()) {
  const db = await createDatabase('prepay_job');
  const store = await openStore({ url: db.url });
  try {
    result.postgres = await run(store);
  } finally {
    await store.close();
    await dropDatabase(db.name);
  }
}
console.log(JSON.stringify(result, null, 2));
