// The demo business seeded on first start in sandbox mode: customers with credit,
// providers, charges, a refund, a correction and a reversal — seed 001 to try at once.
import type { App } from './app.js';
import type { Actor } from '../services/context.js';
import { generateSecret } from '../services/api-keys.js';
import { ensureDemoWebUsers, type DemoWebLogin } from '../services/auth/demo-users.js';

export interface DemoLogin {
  role: 'customer' | 'provider';
  name: string;
  id: string;
  key: string;
}

export interface DemoInfo {
  adminKey: string;
  logins: DemoLogin[];
  seeded: boolean;
  /** Web logins (e-mail + the sandbox-only password settle-demo-password) with fresh password-set links. */
  webLogins: DemoWebLogin[];
}

const CUSTOMERS = [
  { name: 'Ada Lovelace', email: 'ada@example.com', topUp: 10_000 },
  { name: 'Grace Hopper', email: 'grace@example.com', topUp: 5_000 },
  { name: 'Alan Turing', email: 'alan@example.com', topUp: 2_500 },
];
const PROVIDERS = [
  { name: 'Studio Lumen (photographer)', email: 'lumen@example.com' },
  { name: 'Mia Stage (performer)', email: 'mia@example.com' },
];

/** Returns the demo info, seeding the business first if the database is empty. */
export async function ensureDemo(app: App, adminKeyFromEnv: string | undefined): Promise<DemoInfo> {
  const info = await ensureDemoBusiness(app, adminKeyFromEnv);
  return { ...info, webLogins: await ensureDemoWebUsers(app.services.store, app.webAuth) };
}

async function ensureDemoBusiness(app: App, adminKeyFromEnv: string | undefined): Promise<Omit<DemoInfo, 'webLogins'>> {
  const { store } = app.services;
  const existing = await store.db.selectFrom('sandbox_demo').selectAll().executeTakeFirst();
  if (existing) return { adminKey: adminKeyFromEnv ?? existing.admin_key, logins: existing.logins as DemoLogin[], seeded: false };
  const anyCustomer = await store.db.selectFrom('customers').select('id').limit(1).executeTakeFirst();
  const adminKey = adminKeyFromEnv ?? generateSecret('admin', 'sandbox');
  if (!adminKeyFromEnv) await app.apiKeys.ensureAdminKey(store.db, adminKey, 'demo admin');
  if (anyCustomer) {
    await store.db.insertInto('sandbox_demo').values({ admin_key: adminKey, logins: '[]' }).onConflict((oc) => oc.doNothing()).execute();
    return { adminKey, logins: [], seeded: false };
  }
  const logins = await seedDemoBusiness(app);
  await store.db
    .insertInto('sandbox_demo')
    .values({ admin_key: adminKey, logins: JSON.stringify(logins) })
    .onConflict((oc) => oc.doNothing())
    .execute();
  return { adminKey, logins, seeded: true };
}

export async function seedDemoBusiness(app: App): Promise<DemoLogin[]> {
  const admin: Actor = { role: 'admin', keyId: 'demo-seed' };
  const tx = app.services.store.transaction.bind(app.services.store);
  const logins: DemoLogin[] = [];
  const customers = [];
  for (const c of CUSTOMERS) {
    const customer = await tx((trx) => app.parties.createCustomer(trx, { email: c.email, name: c.name }));
    await tx((trx) =>
      app.topUps.create(trx, {
        customerId: customer.id,
        amountMinor: c.topUp,
        currency: 'USD',
        paymentMethod: 'pm_card_visa',
        actor: admin,
        idempotencyKey: `demo-top-up-${customer.id}`,
      }),
    );
    const key = await tx((trx) => app.apiKeys.create(trx, { role: 'customer', customerId: customer.id, label: 'demo login' }));
    logins.push({ role: 'customer', name: c.name, id: customer.id, key: key.key });
    customers.push(customer);
  }
  const providers = [];
  for (const p of PROVIDERS) {
    const provider = await tx((trx) => app.parties.createProvider(trx, p));
    const key = await tx((trx) => app.apiKeys.create(trx, { role: 'provider', providerId: provider.id, label: 'demo login' }));
    logins.push({ role: 'provider', name: p.name, id: provider.id, key: key.key });
    providers.push(provider);
  }
  const [ada, grace, alan] = customers as [typeof customers[0], typeof customers[0], typeof customers[0]];
  const [lumen, mia] = providers as [typeof providers[0], typeof providers[0]];
  // Seed 001, example 1: a private chat whose webcam was broken, refunded in part.
  const chat = await app.charges.create(app.services.store.db, { customerId: ada.id, providerId: mia.id, amountMinor: 1_500, currency: 'USD', description: 'Private chat, 15 minutes', actor: admin });
  await tx((trx) => app.charges.refund(trx, chat.id, { amountMinor: 500, reason: 'Webcam broken for the first 5 minutes', actor: admin }));
  await app.charges.create(app.services.store.db, { customerId: grace.id, providerId: lumen.id, amountMinor: 2_000, currency: 'USD', description: 'Photo review session', actor: admin });
  // Seed 001, "delete a wrong entry": a correction made by mistake, then reversed.
  const wrong = await tx((trx) => app.adjustments.correct(trx, { customerId: alan.id, amountMinor: 1_000, currency: 'USD', memo: 'Goodwill credit (entered twice by mistake)', actor: admin }));
  await tx((trx) => app.adjustments.reverse(trx, wrong.id, { memo: 'Wrong entry: duplicate goodwill credit', actor: admin }));
  // Seed 001, example 2: a customer withdraws; a negative correction to zero.
  await tx((trx) => app.adjustments.correct(trx, { customerId: alan.id, amountMinor: -2_500, currency: 'USD', memo: 'Withdrawal requested by customer; paid back by bank transfer', actor: admin }));
  await seedDemoOrders(app, { ada, grace, alan, lumen, mia });
  return logins;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/**
 * Orders to look at on first start: sessions with seats (seed 003), bookings in several
 * states (seed 004), a site with a direct order half delivered (seed 000), and a picture-day
 * job with paid pre-orders waiting for their photos (seed 002).
 */
async function seedDemoOrders(app: App, p: Record<'ada' | 'grace' | 'alan' | 'lumen' | 'mia', { id: string }>): Promise<void> {
  const admin: Actor = { role: 'admin', keyId: 'demo-seed' };
  const tx = app.services.store.transaction.bind(app.services.store);
  const now = app.services.clock.now().getTime();
  // Whole hours, so the demo's times read well.
  const at = (ms: number) => new Date(Math.ceil((now + ms) / HOUR_MS) * HOUR_MS).toISOString();
  const key = (name: string) => `demo-${name}-${p.ada.id}`;
  const step = (orderId: string, transition: string, params: Record<string, unknown> = {}, actor: Actor = admin) =>
    tx((trx) => app.orders.transition(trx, orderId, transition, actor, params, key(`${transition}-${orderId}`)));

  const pottery = await tx((trx) =>
    app.catalog.createService(trx, {
      providerId: p.mia.id,
      name: 'Pottery class (2 h)',
      unitAmountMinor: 4_500,
      currency: 'USD',
      slots: [3, 10, 17].map((d) => ({ startsAt: at(d * DAY_MS), endsAt: at(d * DAY_MS + 2 * HOUR_MS), capacity: 8 })),
    }),
  );
  // Ada booked three pottery sessions and paid from her credit: she can edit or cancel them.
  const sessions = await tx((trx) =>
    app.orders.create(
      trx,
      {
        process: 'booking',
        customerId: p.ada.id,
        providerId: p.mia.id,
        currency: 'USD',
        lines: pottery.slots.map((slot) => ({ slotId: slot.id, quantity: 1, participantName: 'Ada Lovelace' })),
      },
      { role: 'customer', keyId: 'demo-seed', customerId: p.ada.id },
      key('sessions'),
    ),
  );
  await step(sessions.id, 'confirm', {}, { role: 'provider', keyId: 'demo-seed', providerId: p.mia.id });
  await step(sessions.id, 'pay', { useAccountCredit: true, paymentMethod: 'pm_card_visa' }, { role: 'customer', keyId: 'demo-seed', customerId: p.ada.id });

  // Grace asked Studio Lumen for a portrait shoot; the studio has not confirmed yet.
  await tx((trx) =>
    app.orders.create(
      trx,
      {
        process: 'booking',
        customerId: p.grace.id,
        providerId: p.lumen.id,
        currency: 'USD',
        lines: [{ description: 'Portrait shoot, 1 h', quantity: 1, unitAmount: 15_000, startsAt: at(2 * DAY_MS), endsAt: at(2 * DAY_MS + HOUR_MS) }],
        comment: 'Outdoor if the weather allows',
      },
      { role: 'customer', keyId: 'demo-seed', customerId: p.grace.id },
      key('portrait'),
    ),
  );

  // Seed 000: a listing on a site, paid up front, photos delivered, drone and floor plan to do.
  const site = await tx((trx) => app.sites.create(trx, { address: '1428 Elm Street, Springwood', customerId: p.alan.id }));
  const listing = await tx((trx) =>
    app.orders.create(
      trx,
      {
        process: 'direct',
        customerId: p.alan.id,
        providerId: p.lumen.id,
        currency: 'USD',
        siteId: site.id,
        lines: [
          { description: 'Listing photos (25)', quantity: 1, unitAmount: 20_000 },
          { description: 'Drone video', quantity: 1, unitAmount: 15_000 },
          { description: 'Floor plan', quantity: 1, unitAmount: 5_000 },
        ],
      },
      admin,
      key('listing'),
    ),
  );
  await step(listing.id, 'pay', { useAccountCredit: false, paymentMethod: 'pm_card_visa' });
  await step(listing.id, 'mark_line_done', { lineIds: [listing.lines[0]!.id] });

  // Seed 002: Studio Lumen's picture day at a school. Two parents pre-ordered and paid; the
  // photos are uploaded (Ben was absent: no photo yet), ready to populate and place.
  const priceList: { id: string }[] = [];
  for (const [name, unitAmountMinor] of [['Package A: 2 prints 5x7, 8 wallets', 3_500], ['Class group print 8x10', 1_200], ['Memory mate 8x10', 2_500]] as const) {
    priceList.push(await tx((trx) => app.catalog.createService(trx, { providerId: p.lumen.id, name, unitAmountMinor, currency: 'USD' })));
  }
  const job = await tx((trx) =>
    app.jobs.create(trx, {
      name: 'Lincoln Elementary – Fall Picture Day',
      providerId: p.lumen.id,
      currency: 'USD',
      pictureDay: at(-DAY_MS),
      batchReleaseAt: at(7 * DAY_MS),
      productIds: priceList.map((service) => service.id),
    }),
  );
  const students = await tx((trx) =>
    app.jobs.addSubjects(trx, job.id, {
      subjects: [
        { name: 'Ava Brown', groupName: 'Class 3B' },
        { name: 'Ben Carter', groupName: 'Class 3B' },
        { name: 'Cleo Diaz', groupName: 'Class 4A' },
      ],
      blankCards: 2,
    }),
  );
  const [ava, ben] = students as [(typeof students)[0], (typeof students)[0]];
  for (const [parent, student] of [[p.ada, ava], [p.grace, ben]] as const) {
    const customer: Actor = { role: 'customer', keyId: 'demo-seed', customerId: parent.id };
    const pre = await tx((trx) =>
      app.jobOrders.preOrder(
        trx,
        { accessCode: student.accessCode, customerId: parent.id, lines: [{ serviceId: priceList[0]!.id, quantity: 1 }, { serviceId: priceList[1]!.id, quantity: 1 }] },
        customer,
        key(`pre-order-${student.id}`),
      ),
    );
    await step(pre.orderId, 'pay', { useAccountCredit: true, paymentMethod: 'pm_card_visa' }, customer);
  }
  await tx((trx) =>
    app.jobs.addPhotos(trx, job.id, [
      { accessCode: ava.accessCode, fileName: 'IMG_0001.jpg' },
      { groupName: 'Class 3B', fileName: 'GROUP_3B.jpg' },
    ]),
  );
}
