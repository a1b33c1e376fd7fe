// Seed 002 (school/event photography, "How to Fulfill Prepay Orders"): pre-orders with
// access codes before picture day, photos populated into the orders, orders without photos
// split off, manual revision, batches released to production by hand or at the batch
// shipping deadline, Prepay → Selling, cancelling (still findable, refunded with the fee
// as the settings say), complaints. Each test is named after the seed's paragraph.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { startHarness, type Harness } from '../helpers/harness.js';
import { advance, DAY, freezeClock, HOUR } from '../helpers/booking.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
  await freezeClock(h, '2031-05-04T08:00:00.000Z');
  // A service fee, so cancelling shows what happens to it (the seed's pain point).
  const s = await h.patch('/v1/settings', { serviceFee: { fixed: 150, percent: 0 } });
  expect(s.status, JSON.stringify(s.body)).toBe(200);
});
afterAll(() => h.close());

// The price list every test job offers (the provider's products, created per job).
const PRODUCTS = [
  { name: 'Package A: 2 prints 5x7, 8 wallets', unitAmount: 3_500 },
  { name: 'Class group print 8x10', unitAmount: 1_200 },
  { name: 'Memory mate 8x10', unitAmount: 2_500 },
];
type JobLike = { products: { serviceId: string; name: string; unitAmount: number }[] };
/** A line for the n-th product of the job's price list (0: Package A, 1: group print, 2: memory mate). */
const item = (j: JobLike, n = 0, quantity = 1) => ({ serviceId: j.products[n]!.serviceId, quantity });
/** A line staff write themselves on a paper order. */
const PAPER_LINE = { description: 'Package A (paper form)', quantity: 1, unitAmount: 3_500 };

async function job(opts: { manualRevision?: boolean; batchReleaseAt?: string; names?: { name: string; groupName?: string }[]; blankCards?: number } = {}) {
  const provider = await h.provider();
  const productIds = [];
  for (const p of PRODUCTS) {
    const svc = await h.post('/v1/services', { name: p.name, providerId: provider.id, unitAmount: p.unitAmount, currency: 'USD' });
    expect(svc.status, JSON.stringify(svc.body)).toBe(200);
    productIds.push(svc.body.id);
  }
  const created = await h.post('/v1/jobs', {
    productIds,
    name: 'Lincoln Elementary – Fall Picture Day',
    providerId: provider.id,
    currency: 'USD',
    manualRevision: opts.manualRevision ?? false,
    pictureDay: '2031-05-10T08:00:00.000Z',
    ...(opts.batchReleaseAt ? { batchReleaseAt: opts.batchReleaseAt } : {}),
  });
  expect(created.status, JSON.stringify(created.body)).toBe(200);
  const names = opts.names ?? [
    { name: 'Ava Brown', groupName: 'Class 3B' },
    { name: 'Ben Carter', groupName: 'Class 3B' },
    { name: 'Cleo Diaz', groupName: 'Class 4A' },
  ];
  const subjects = await h.post(`/v1/jobs/${created.body.id}/subjects`, { subjects: names, blankCards: opts.blankCards ?? 0 });
  expect(subjects.status, JSON.stringify(subjects.body)).toBe(200);
  return { provider, job: created.body, subjects: subjects.body.data as { id: string; name: string | null; accessCode: string; groupName: string | null }[] };
}

/** A parent pre-orders for the subject with `code` and pays (account credit, or a card). */
async function preOrder(j: JobLike, code: string, opts: { credit?: boolean; lines?: unknown[]; pay?: boolean } = {}) {
  const customer = await h.customer({ credit: opts.credit ? 20_000 : 0, name: 'Pat Parent' });
  const ordered = await h.post('/v1/pre-orders', { accessCode: code, customerId: customer.id, lines: opts.lines ?? [item(j)] }, { key: customer.key });
  expect(ordered.status, JSON.stringify(ordered.body)).toBe(200);
  expect(ordered.body.order).toMatchObject({ process: 'prepay', state: 'payment' });
  if (opts.pay === false) return { customer, order: ordered.body.order, jobOrder: ordered.body };
  const paid = await h.post(
    `/v1/orders/${ordered.body.orderId}/pay`,
    opts.credit ? { useAccountCredit: true } : { useAccountCredit: false, paymentMethod: 'pm_card_visa' },
    { key: customer.key },
  );
  expect(paid.status, JSON.stringify(paid.body)).toBe(200);
  expect(paid.body.state).toBe('collection');
  return { customer, order: paid.body, jobOrder: ordered.body };
}

async function uploadPhotos(jobId: string, photos: { accessCode?: string; groupName?: string; fileName: string }[]) {
  const r = await h.post(`/v1/jobs/${jobId}/photos`, { photos });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body.data as { id: string; fileName: string }[];
}

async function state(orderId: string): Promise<string> {
  return (await h.get(`/v1/orders/${orderId}`)).body.state;
}

describe('seed 002: I. Photo Upload, II. Photo Population and Order Creation, III. Batch Shipping', () => {
  it('names list with access codes, pre-orders paid up front, photos populated (own and group), orders placed into the open batch, the batch released by hand, receipt confirmed, payout scheduled', async () => {
    const { job: j, subjects } = await job();
    // The names list: sorted by name, each with its own code.
    const listed = await h.get('/v1/jobs?limit=3');
    expect(listed.body.data.map((x: any) => x.products.map((p: any) => p.name))).toEqual(listed.body.data.map(() => PRODUCTS.map((p) => p.name)));
    const list = await h.get(`/v1/jobs/${j.id}/subjects?limit=10`);
    expect(list.body.data.map((s: any) => s.name)).toEqual(['Ava Brown', 'Ben Carter', 'Cleo Diaz']);
    expect(new Set(subjects.map((s) => s.accessCode)).size).toBe(3);
    // Found by a piece of the name or by the code; % and _ are just characters.
    expect((await h.get(`/v1/jobs/${j.id}/subjects?q=carter`)).body.data.map((s: any) => s.name)).toEqual(['Ben Carter']);
    expect((await h.get(`/v1/jobs/${j.id}/subjects?q=${subjects[2]!.accessCode.toLowerCase()}`)).body.data.map((s: any) => s.name)).toEqual(['Cleo Diaz']);
    expect((await h.get(`/v1/jobs/${j.id}/subjects?q=%25`)).body.data).toEqual([]);
    for (const s of subjects) expect(s.accessCode).toMatch(/^[23456789A-HJKMNP-Z]{8}$/);
    const [ava, ben, cleo] = subjects;

    // Before picture day parents look the code up and pre-order; card and account credit both work.
    const lookup = await h.get(`/v1/access-codes/${ava!.accessCode.toLowerCase()}`, { key: (await h.customer()).key });
    expect(lookup.body).toMatchObject({ jobId: j.id, subjectName: 'Ava Brown', status: 'prepay', currency: 'USD' });
    const a = await preOrder(j, ava!.accessCode, { lines: [item(j, 0), item(j, 1)] });
    const b = await preOrder(j, ben!.accessCode, { credit: true });
    const c = await preOrder(j, cleo!.accessCode);
    expect(a.order.amounts).toMatchObject({ subtotal: 4_700, serviceFee: 150, total: 4_850, paid: 4_850 });
    expect(a.order.lines.map((l: any) => l.participantName)).toEqual(['Ava Brown', 'Ava Brown']);

    // Upload: one portrait per student, one group picture for class 3B.
    await uploadPhotos(j.id, [
      { accessCode: ava!.accessCode, fileName: 'IMG_0001.jpg' },
      { accessCode: ben!.accessCode, fileName: 'IMG_0002.jpg' },
      { accessCode: cleo!.accessCode, fileName: 'IMG_0003.jpg' },
      { groupName: 'Class 3B', fileName: 'GROUP_3B.jpg' },
    ]);

    // "Review and Create" → "Populate photos".
    const populated = await h.post(`/v1/jobs/${j.id}/collections/${j.collectionId}/populate`, {});
    expect(populated.status, JSON.stringify(populated.body)).toBe(200);
    expect(populated.body.withoutPhotos).toEqual([]);
    const photosOf = Object.fromEntries(populated.body.populated.map((p: any) => [p.orderId, p.photos]));
    expect(photosOf).toEqual({ [a.order.id]: 2, [b.order.id]: 2, [c.order.id]: 1 });
    const aJob = await h.get(`/v1/orders/${a.order.id}/job`, { key: a.customer.key });
    expect(aJob.body.photos.map((p: any) => p.fileName)).toEqual(['IMG_0001.jpg', 'GROUP_3B.jpg']);
    expect(aJob.body.subject).toMatchObject({ name: 'Ava Brown', accessCode: ava!.accessCode });

    // "Place order(s) now": they join the open batch, not the lab yet.
    const placed = await h.post(`/v1/jobs/${j.id}/collections/${j.collectionId}/place`, {});
    expect(placed.status, JSON.stringify(placed.body)).toBe(200);
    expect(placed.body.placed).toHaveLength(3);
    expect(placed.body.withoutPhotos).toEqual([]);
    for (const o of [a, b, c]) expect(await state(o.order.id)).toBe('batch');
    const summary = await h.get(`/v1/jobs/${j.id}`);
    expect(summary.body.batches).toEqual([expect.objectContaining({ id: placed.body.batchId, status: 'open', orders: 3, releaseAt: null })]);

    // III. Batch Shipping: released to production by hand.
    const released = await h.post(`/v1/jobs/${j.id}/batches/${placed.body.batchId}/release`, {});
    expect(released.status, JSON.stringify(released.body)).toBe(200);
    expect(released.body.orders).toHaveLength(3);
    for (const o of [a, b, c]) expect(await state(o.order.id)).toBe('production');
    const again = await h.post(`/v1/jobs/${j.id}/batches/${placed.body.batchId}/release`, {});
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('batch_released');

    // The parent confirms receipt: closed, the provider's payout scheduled (paid − fee).
    const closed = await h.post(`/v1/orders/${a.order.id}/confirm-execution`, {}, { key: a.customer.key });
    expect(closed.status, JSON.stringify(closed.body)).toBe(200);
    expect(closed.body.state).toBe('closed');
    const payouts = await h.get(`/v1/payouts?providerId=${j.providerId}`);
    expect(payouts.body.data).toEqual([expect.objectContaining({ orderId: a.order.id, amount: 4_700, status: 'scheduled' })]);
    // The others close by themselves after the confirmation window.
    await advance(h, 5 * DAY + 60);
    for (const o of [b, c]) expect(await state(o.order.id)).toBe('closed');
    const history = (await h.get(`/v1/orders/${b.order.id}`)).body.events.map((e: any) => e.transition);
    expect(history).toEqual(['create', 'pay', 'populate_photos', 'place', 'release', 'auto_close']);
    expect((await h.check()).ok).toBe(true);
  });

  it('the open batch goes to production by itself at the batch shipping deadline, at that time, then closes 5 days later', async () => {
    const start = new Date((await h.get('/v1/test/clock')).body.now);
    const deadline = new Date(start.getTime() + 3 * DAY * 1000).toISOString();
    const { job: j, subjects } = await job({ batchReleaseAt: deadline });
    const a = await preOrder(j, subjects[0]!.accessCode);
    await uploadPhotos(j.id, [{ accessCode: subjects[0]!.accessCode, fileName: 'A.jpg' }]);
    expect((await h.post(`/v1/jobs/${j.id}/collections/${j.collectionId}/populate`, {})).status).toBe(200);
    const placed = await h.post(`/v1/jobs/${j.id}/collections/${j.collectionId}/place`, {});
    expect((await h.get(`/v1/jobs/${j.id}`)).body.batches[0]).toMatchObject({ id: placed.body.batchId, releaseAt: deadline, status: 'open' });
    // The parent sees when the order goes to production.
    expect((await h.get(`/v1/orders/${a.order.id}/job`, { key: a.customer.key })).body).toMatchObject({
      jobName: 'Lincoln Elementary – Fall Picture Day',
      batch: { id: placed.body.batchId, status: 'open', releaseAt: deadline, releasedAt: null },
    });

    await advance(h, 3 * DAY - 1);
    expect(await state(a.order.id)).toBe('batch');
    // Jumping well past the deadline: released at the deadline itself, closed 5 days after it.
    await advance(h, 6 * DAY);
    const order = (await h.get(`/v1/orders/${a.order.id}`)).body;
    expect(order.state).toBe('closed');
    const release = order.events.find((e: any) => e.transition === 'auto_release');
    expect(release).toMatchObject({ actor: 'system', reason: 'batch_shipping_deadline', createdAt: deadline });
    const close = order.events.find((e: any) => e.transition === 'auto_close');
    expect(close.createdAt).toBe(new Date(Date.parse(deadline) + 5 * DAY * 1000).toISOString());
    expect((await h.get(`/v1/jobs/${j.id}`)).body.batches[0]).toMatchObject({ status: 'released', releasedAt: deadline, releasedBy: 'system' });
    expect((await h.get(`/v1/orders/${a.order.id}/job`)).body.batch).toMatchObject({ status: 'released', releasedAt: deadline });
  });
});

describe('seed 002: the questions', () => {
  it('Q: paper orders — names added by hand and blank QR cards; staff "Add order" joins the collection', async () => {
    const { job: j } = await job({ names: [{ name: 'Dan Evans' }], blankCards: 2 });
    const late = await h.post(`/v1/jobs/${j.id}/subjects`, { subjects: [{ name: 'Eve Fox', groupName: 'Class 3B' }] });
    expect(late.body.data).toEqual([expect.objectContaining({ name: 'Eve Fox', groupName: 'Class 3B' })]);
    const list = (await h.get(`/v1/jobs/${j.id}/subjects?limit=10`)).body.data;
    expect(list.map((s: any) => s.name)).toEqual(['Dan Evans', 'Eve Fox', null, null]);
    const blank = list[2];
    // Parents buy from the price list at its prices; a line of their own is staff's privilege.
    const parentKey = (await h.customer()).key;
    const lookup = await h.get(`/v1/access-codes/${blank.accessCode}`, { key: parentKey });
    expect(lookup.body.products.map((p: any) => [p.name, p.unitAmount])).toEqual(PRODUCTS.map((p) => [p.name, p.unitAmount]));
    // The paper form came with cash: staff add the order for the parent and pay it from credit.
    const parent = await h.customer({ credit: 5_000 });
    const added = await h.post('/v1/pre-orders', { accessCode: blank.accessCode, customerId: parent.id, lines: [PAPER_LINE], subjectName: 'Finn Garcia' });
    expect(added.status, JSON.stringify(added.body)).toBe(200);
    expect(added.body).toMatchObject({ jobId: j.id, collectionId: j.collectionId, subject: { id: blank.id, name: 'Finn Garcia' } });
    expect(added.body.order.lines[0].participantName).toBe('Finn Garcia');
    // The blank card now carries the name written on the form; a named card keeps its own.
    expect((await h.get(`/v1/jobs/${j.id}/subjects?q=finn`)).body.data.map((s: any) => s.id)).toEqual([blank.id]);
    const rename = await h.post('/v1/pre-orders', { accessCode: blank.accessCode, customerId: parent.id, lines: [PAPER_LINE], subjectName: 'Someone Else' });
    expect(rename.status).toBe(409);
    expect(rename.body.error.code).toBe('subject_named');
    // A typo on the form is corrected on the names list; the code stays.
    const fixed = await h.patch(`/v1/jobs/${j.id}/subjects/${blank.id}`, { name: 'Finn García', groupName: 'Class 3B' });
    expect(fixed.body).toMatchObject({ id: blank.id, name: 'Finn García', groupName: 'Class 3B', accessCode: blank.accessCode });
    const elsewhere = await h.patch(`/v1/jobs/${(await job()).job.id}/subjects/${blank.id}`, { name: 'Not here' });
    expect(elsewhere.status).toBe(404);
    const paid = await h.post(`/v1/orders/${added.body.orderId}/pay`, { useAccountCredit: true });
    expect(paid.body.state).toBe('collection');
    const inCollection = await h.get(`/v1/jobs/${j.id}/orders?collectionId=${j.collectionId}`);
    expect(inCollection.body.data.map((o: any) => o.orderId)).toEqual([added.body.orderId]);
  });

  it('Q: a student missed picture day — populating lists the orders without photos, placing moves them to a new collection, the retakes are populated and placed later', async () => {
    const { job: j, subjects } = await job();
    const [ava, ben] = subjects;
    const a = await preOrder(j, ava!.accessCode);
    const b = await preOrder(j, ben!.accessCode);
    // Ben was absent: his class picture exists, his portrait does not.
    await uploadPhotos(j.id, [
      { accessCode: ava!.accessCode, fileName: 'AVA.jpg' },
      { groupName: 'Class 3B', fileName: 'GROUP_3B.jpg' },
    ]);
    const populated = await h.post(`/v1/jobs/${j.id}/collections/${j.collectionId}/populate`, {});
    expect(populated.body.withoutPhotos).toEqual([{ orderId: b.order.id, number: b.order.number, accessCode: ben!.accessCode, subjectName: 'Ben Carter' }]);
    expect((await h.get(`/v1/orders/${b.order.id}/job`)).body.photos).toEqual([]);
    const placed = await h.post(`/v1/jobs/${j.id}/collections/${j.collectionId}/place`, {});
    expect(placed.body.placed.map((o: any) => o.orderId)).toEqual([a.order.id]);
    expect(placed.body.withoutPhotos.map((o: any) => o.orderId)).toEqual([b.order.id]);
    const split = placed.body.splitCollectionId;
    expect(split).toMatch(/^col_/);
    expect((await h.get(`/v1/orders/${b.order.id}/job`)).body).toMatchObject({ collectionId: split, batchId: null });
    expect(await state(b.order.id)).toBe('collection');

    // Placed again before the retakes, he stays in that collection: no third one.
    const early = await h.post(`/v1/jobs/${j.id}/collections/${split}/place`, {});
    expect(early.body).toMatchObject({ placed: [], withoutPhotos: [expect.objectContaining({ orderId: b.order.id })], splitCollectionId: null });
    expect((await h.get(`/v1/orders/${b.order.id}/job`)).body.collectionId).toBe(split);
    // Retakes: Ben's photo arrives; his collection is populated and placed into the same open batch.
    await uploadPhotos(j.id, [{ accessCode: ben!.accessCode, fileName: 'BEN_RETAKE.jpg' }]);
    expect((await h.post(`/v1/jobs/${j.id}/collections/${split}/populate`, {})).body.populated).toEqual([expect.objectContaining({ orderId: b.order.id, photos: 2 })]);
    const second = await h.post(`/v1/jobs/${j.id}/collections/${split}/place`, {});
    expect(second.body).toMatchObject({ batchId: placed.body.batchId, splitCollectionId: null });
    const summary = (await h.get(`/v1/jobs/${j.id}`)).body;
    expect(summary.collections.map((c: any) => c.kind)).toEqual(['prepay', 'without_photos']);
    expect(summary.batches).toEqual([expect.objectContaining({ orders: 2 })]);
  });

  it('error populating photos: photos uploaded under the wrong code are moved to the right one, then populated', async () => {
    const { job: j, subjects } = await job();
    const [ava, ben] = subjects;
    const a = await preOrder(j, ava!.accessCode);
    const [wrong] = await uploadPhotos(j.id, [{ accessCode: ben!.accessCode, fileName: 'AVA_BUT_TAGGED_BEN.jpg' }]);
    const first = await h.post(`/v1/jobs/${j.id}/collections/${j.collectionId}/populate`, {});
    expect(first.body.withoutPhotos.map((o: any) => o.orderId)).toEqual([a.order.id]);
    // The order's job view shows the code the customer ordered with.
    expect((await h.get(`/v1/orders/${a.order.id}/job`, { key: a.customer.key })).body.subject.accessCode).toBe(ava!.accessCode);
    const moved = await h.patch(`/v1/jobs/${j.id}/photos/${wrong!.id}`, { accessCode: ava!.accessCode });
    expect(moved.status, JSON.stringify(moved.body)).toBe(200);
    const retry = await h.post(`/v1/jobs/${j.id}/collections/${j.collectionId}/populate`, {});
    expect(retry.body.populated).toEqual([expect.objectContaining({ orderId: a.order.id, photos: 1 })]);
    // A code of another job is refused, and nothing changes.
    const other = await job();
    const refused = await h.patch(`/v1/jobs/${j.id}/photos/${wrong!.id}`, { accessCode: other.subjects[0]!.accessCode });
    expect(refused.status).toBe(422);
    expect(refused.body.error.code).toBe('access_code_unknown');
    expect((await h.get(`/v1/jobs/${j.id}/photos?accessCode=${ava!.accessCode}`)).body.data).toHaveLength(1);
  });

  it('Q: group photos and memory mates — manual revision: placed orders wait, staff replace the image and release them one by one into the batch', async () => {
    const { job: j, subjects } = await job({ manualRevision: true });
    const [ava] = subjects;
    const a = await preOrder(j, ava!.accessCode, { lines: [item(j, 2)] });
    const [draft] = await uploadPhotos(j.id, [{ accessCode: ava!.accessCode, fileName: 'AVA_DRAFT.jpg' }]);
    await h.post(`/v1/jobs/${j.id}/collections/${j.collectionId}/populate`, {});
    const placed = await h.post(`/v1/jobs/${j.id}/collections/${j.collectionId}/place`, {});
    expect(placed.body).toMatchObject({ batchId: null, placed: [], toRevision: [expect.objectContaining({ orderId: a.order.id })] });
    expect(await state(a.order.id)).toBe('revision');
    const [final] = await uploadPhotos(j.id, [{ accessCode: ava!.accessCode, fileName: 'AVA_MEMORY_MATE_FINAL.jpg' }]);
    const revised = await h.post(`/v1/jobs/${j.id}/orders/${a.order.id}/photos`, { photoIds: [final!.id] });
    expect(revised.status, JSON.stringify(revised.body)).toBe(200);
    expect(revised.body.photos).toEqual([{ id: final!.id, fileName: 'AVA_MEMORY_MATE_FINAL.jpg' }]);
    expect(draft!.id).not.toBe(final!.id);
    const released = await h.post(`/v1/jobs/${j.id}/orders/${a.order.id}/release`, {});
    expect(released.status, JSON.stringify(released.body)).toBe(200);
    expect(released.body.batchId).toMatch(/^bat_/);
    expect(released.body.order.state).toBe('batch');
    // Released from revision once: a second release is refused by the process.
    const twice = await h.post(`/v1/jobs/${j.id}/orders/${a.order.id}/release`, {});
    expect(twice.status).toBe(409);
  });

  it('Q: cancel a prepay order before release (no pictures taken) — refunded in the same step, with the service fee as the settings say, and still found by search', async () => {
    const { job: j, subjects } = await job();
    const a = await preOrder(j, subjects[0]!.accessCode, { credit: true });
    const b = await preOrder(j, subjects[1]!.accessCode);
    const before = await h.balance(a.customer.id);
    const cancelled = await h.post(`/v1/orders/${a.order.id}/cancel`, { reason: 'No pictures taken of this student' });
    expect(cancelled.status, JSON.stringify(cancelled.body)).toBe(200);
    expect(cancelled.body).toMatchObject({ state: 'cancelled', amounts: { paid: 3_650, refunded: 3_650 } });
    expect(await h.balance(a.customer.id)).toBe(before + 3_650);
    // Still found with the search, though no longer in the collection's work.
    const found = await h.get(`/v1/orders?q=${encodeURIComponent(a.order.number)}`);
    expect(found.body.data.map((o: any) => o.id)).toEqual([a.order.id]);
    await uploadPhotos(j.id, subjects.slice(0, 2).map((s) => ({ accessCode: s.accessCode, fileName: `${s.name}.jpg` })));
    const populated = await h.post(`/v1/jobs/${j.id}/collections/${j.collectionId}/populate`, {});
    expect(populated.body.populated.map((p: any) => p.orderId)).toEqual([b.order.id]);
    // The card-paid one, with the fee kept: the business chose not to refund fees.
    expect((await h.patch('/v1/settings', { refundServiceFeeOnCancellation: false })).status).toBe(200);
    const c = await preOrder(j, subjects[2]!.accessCode);
    const kept = await h.post(`/v1/orders/${c.order.id}/cancel`, { reason: 'Moved away', refundDestination: 'card' });
    expect(kept.body).toMatchObject({ state: 'cancelled', amounts: { paid: 3_650, refunded: 3_500 } });
    expect(kept.body.refunds).toEqual([expect.objectContaining({ amount: 3_500, destination: 'card', status: 'succeeded' })]);
    expect((await h.patch('/v1/settings', { refundServiceFeeOnCancellation: true })).status).toBe(200);
    // A customer cannot cancel a prepay order themselves; staff do.
    const own = await h.post(`/v1/orders/${b.order.id}/cancel`, { reason: 'changed my mind' }, { key: b.customer.key });
    expect(own.status).toBe(403);
    expect((await h.check()).ok).toBe(true);
  });

  it('Q: complaints — the customer opens one on the order in production, staff refund part of it, the order closes and the payout shrinks', async () => {
    const { job: j, subjects } = await job();
    const a = await preOrder(j, subjects[0]!.accessCode, { credit: true });
    await uploadPhotos(j.id, [{ accessCode: subjects[0]!.accessCode, fileName: 'A.jpg' }]);
    await h.post(`/v1/jobs/${j.id}/collections/${j.collectionId}/populate`, {});
    const placed = await h.post(`/v1/jobs/${j.id}/collections/${j.collectionId}/place`, {});
    await h.post(`/v1/jobs/${j.id}/batches/${placed.body.batchId}/release`, {});
    const claim = await h.post(`/v1/orders/${a.order.id}/claims`, { reason: 'Prints arrived with a colour cast' }, { key: a.customer.key });
    expect(claim.status, JSON.stringify(claim.body)).toBe(200);
    expect(claim.body.state).toBe('claim');
    const before = await h.balance(a.customer.id);
    const resolved = await h.post(`/v1/orders/${a.order.id}/claims/resolve`, { outcome: 'refund', amount: 1_000, destination: 'account_credit' });
    expect(resolved.status, JSON.stringify(resolved.body)).toBe(200);
    expect(resolved.body).toMatchObject({ state: 'closed', amounts: { refunded: 1_000 } });
    expect(await h.balance(a.customer.id)).toBe(before + 1_000);
    const payout = (await h.get(`/v1/payouts?providerId=${j.providerId}`)).body.data[0];
    expect(payout).toMatchObject({ orderId: a.order.id, amount: 2_500 });
    expect((await h.check()).ok).toBe(true);
  });

  it('IV. Switch Job to Selling — pre-orders end, placed orders go on, and there is no way back', async () => {
    const { job: j, subjects } = await job();
    const a = await preOrder(j, subjects[0]!.accessCode);
    const selling = await h.patch(`/v1/jobs/${j.id}`, { status: 'selling' });
    expect(selling.status, JSON.stringify(selling.body)).toBe(200);
    expect(selling.body).toMatchObject({ status: 'selling', sellingAt: expect.any(String) });
    const customer = await h.customer();
    const refused = await h.post('/v1/pre-orders', { accessCode: subjects[1]!.accessCode, customerId: customer.id, lines: [item(j)] }, { key: customer.key });
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('job_not_prepay');
    const back = await h.patch(`/v1/jobs/${j.id}`, { status: 'prepay' });
    expect(back.status).toBe(409);
    expect(back.body.error.code).toBe('job_already_selling');
    await uploadPhotos(j.id, [{ accessCode: subjects[0]!.accessCode, fileName: 'A.jpg' }]);
    await h.post(`/v1/jobs/${j.id}/collections/${j.collectionId}/populate`, {});
    const placed = await h.post(`/v1/jobs/${j.id}/collections/${j.collectionId}/place`, {});
    expect(placed.body.placed.map((o: any) => o.orderId)).toEqual([a.order.id]);
  });
});

describe('prepay jobs: refusals change nothing', () => {
  it('unknown codes, placing before populating, empty batches, unpaid orders, and who may do what', async () => {
    const { job: j, subjects } = await job();
    const customer = await h.customer();
    const unknown = await h.post('/v1/pre-orders', { accessCode: 'ZZZZ2222', customerId: customer.id, lines: [item(j)] }, { key: customer.key });
    expect(unknown.status).toBe(404);
    // A customer pre-orders only for themselves.
    const other = await h.customer();
    const forOther = await h.post('/v1/pre-orders', { accessCode: subjects[0]!.accessCode, customerId: other.id, lines: [item(j)] }, { key: customer.key });
    expect(forOther.status).toBe(404);
    // A customer pre-orders from the price list at its prices: a line of their own, a price
    // of their own or another provider's product is refused, and nothing is created.
    const foreign = await h.post('/v1/services', { name: 'Someone else\'s package', providerId: (await h.provider()).id, unitAmount: 10, currency: 'USD' });
    for (const line of [PAPER_LINE, { ...item(j), unitAmount: 0 }, { ...item(j), description: 'Package A, cheap' }, { serviceId: foreign.body.id, quantity: 1 }]) {
      const r = await h.post('/v1/pre-orders', { accessCode: subjects[0]!.accessCode, customerId: customer.id, lines: [line] }, { key: customer.key });
      expect(r.status, JSON.stringify(line)).toBe(422);
      expect(r.body.error.code).toBe('not_on_price_list');
    }
    // The price list itself: the provider's own products, not sessions with slots.
    const session = await h.post('/v1/services', { name: 'Mini session', providerId: j.providerId, unitAmount: 5_000, currency: 'USD', slots: [{ startsAt: '2031-06-01T10:00:00.000Z', endsAt: '2031-06-01T11:00:00.000Z', capacity: 4 }] });
    const withSession = await h.patch(`/v1/jobs/${j.id}`, { productIds: [session.body.id] });
    expect(withSession.status).toBe(422);
    expect(withSession.body.error.code).toBe('product_has_slots');
    const withForeign = await h.patch(`/v1/jobs/${j.id}`, { productIds: [foreign.body.id] });
    expect(withForeign.body.error.code).toBe('service_of_other_provider');
    expect((await h.get(`/v1/jobs/${j.id}`)).body.products).toHaveLength(3);
    // Pre-order lines are products: no slot, no time; nothing is created.
    const timed = await h.post('/v1/pre-orders', { accessCode: subjects[0]!.accessCode, customerId: customer.id, lines: [{ ...item(j), startsAt: '2031-06-01T10:00:00.000Z' }] }, { key: customer.key });
    expect(timed.status).toBe(400);
    expect((await h.get(`/v1/jobs/${j.id}/orders`)).body.data).toEqual([]);
    // A batch shipping deadline must be ahead (a past one would back-date the release).
    const past = await h.patch(`/v1/jobs/${j.id}`, { batchReleaseAt: '2001-01-01T00:00:00.000Z' });
    expect(past.status).toBe(422);
    expect(past.body.error.code).toBe('batch_release_in_past');
    expect((await h.get(`/v1/jobs/${j.id}`)).body.batchReleaseAt).toBeNull();
    // Staff routes are staff only.
    expect((await h.post(`/v1/jobs/${j.id}/collections/${j.collectionId}/populate`, {}, { key: customer.key })).status).toBe(403);
    expect((await h.get(`/v1/jobs/${j.id}`, { key: customer.key })).status).toBe(403);

    const paid = await preOrder(j, subjects[0]!.accessCode);
    const unpaid = await preOrder(j, subjects[1]!.accessCode, { pay: false });
    const early = await h.post(`/v1/jobs/${j.id}/collections/${j.collectionId}/place`, {});
    expect(early.status).toBe(409);
    expect(early.body.error.code).toBe('photos_not_populated');
    expect(await state(paid.order.id)).toBe('collection');
    // Someone else's order is not visible through the job view.
    expect((await h.get(`/v1/orders/${paid.order.id}/job`, { key: customer.key })).status).toBe(404);

    await uploadPhotos(j.id, subjects.map((s) => ({ accessCode: s.accessCode, fileName: `${s.name}.jpg` })));
    const populated = await h.post(`/v1/jobs/${j.id}/collections/${j.collectionId}/populate`, {});
    expect(populated.body.populated.map((p: any) => p.orderId)).toEqual([paid.order.id]);
    const placed = await h.post(`/v1/jobs/${j.id}/collections/${j.collectionId}/place`, {});
    expect(placed.body.placed.map((p: any) => p.orderId)).toEqual([paid.order.id]);
    // The unpaid one stays in the collection, and expires after the payment window.
    expect(await state(unpaid.order.id)).toBe('payment');
    await advance(h, 12 * HOUR + 1);
    expect(await state(unpaid.order.id)).toBe('cancelled');

    await h.post(`/v1/jobs/${j.id}/batches/${placed.body.batchId}/release`, {});
    const summary = (await h.get(`/v1/jobs/${j.id}`)).body;
    expect(summary.batches[0].status).toBe('released');
    // A batch opened later is empty until something is placed in it: nothing to release.
    const { job: j2 } = await job();
    const noBatch = await h.post(`/v1/jobs/${j2.id}/batches/${placed.body.batchId}/release`, {});
    expect(noBatch.status).toBe(404);
  });
});

describe('prepay jobs under concurrency', () => {
  it('two "Place order(s) now" at once place each order once; a hand release racing the deadline sends each order once', async () => {
    const start = new Date((await h.get('/v1/test/clock')).body.now);
    const deadline = new Date(start.getTime() + DAY * 1000).toISOString();
    const names = Array.from({ length: 8 }, (_, i) => ({ name: `Student ${String(i).padStart(2, '0')}` }));
    const { job: j, subjects } = await job({ names, batchReleaseAt: deadline });
    const orders = [];
    for (const s of subjects) orders.push(await preOrder(j, s.accessCode, { credit: true }));
    await uploadPhotos(j.id, subjects.map((s) => ({ accessCode: s.accessCode, fileName: `${s.accessCode}.jpg` })));
    expect((await h.post(`/v1/jobs/${j.id}/collections/${j.collectionId}/populate`, {})).status).toBe(200);
    const both = await Promise.all([1, 2].map(() => h.post(`/v1/jobs/${j.id}/collections/${j.collectionId}/place`, {})));
    expect(both.map((r) => r.status)).toEqual([200, 200]);
    expect(both.map((r) => r.body.placed.length).sort()).toEqual([0, 8]);

    const batchId = both.find((r) => r.body.placed.length)!.body.batchId;
    const [byHand] = await Promise.all([
      h.post(`/v1/jobs/${j.id}/batches/${batchId}/release`, {}),
      h.post('/v1/test/clock', { advanceSeconds: DAY }),
    ]);
    expect([200, 409]).toContain(byHand.status);
    const ids = orders.map((o) => o.order.id);
    const events = await sql<{ n: number }>`
      select count(*)::int as n from order_events where order_id in (${sql.join(ids)}) and transition in ('release', 'auto_release')`.execute(h.app.services.store.db);
    expect(events.rows[0]!.n).toBe(8);
    for (const id of ids) expect(await state(id)).toBe('production');
    expect((await h.check()).ok).toBe(true);
  });

  it('a cancel racing "Place order(s) now" and the batch release: the order is refunded once, never sent to production after its refund', async () => {
    for (let round = 0; round < 4; round++) {
      const { job: j, subjects } = await job();
      const orders = [];
      for (const s of subjects) orders.push(await preOrder(j, s.accessCode, { credit: true }));
      await uploadPhotos(j.id, subjects.map((s) => ({ accessCode: s.accessCode, fileName: `${s.accessCode}.jpg` })));
      await h.post(`/v1/jobs/${j.id}/collections/${j.collectionId}/populate`, {});
      const victim = orders[round % orders.length]!;
      const before = await h.balance(victim.customer.id);
      const [cancel, place] = await Promise.all([
        h.post(`/v1/orders/${victim.order.id}/cancel`, { reason: 'Parent asked to cancel' }),
        h.post(`/v1/jobs/${j.id}/collections/${j.collectionId}/place`, {}),
      ]);
      expect(cancel.status, JSON.stringify(cancel.body)).toBe(200);
      expect(place.status, JSON.stringify(place.body)).toBe(200);
      if (place.body.batchId) {
        const release = await h.post(`/v1/jobs/${j.id}/batches/${place.body.batchId}/release`, {});
        expect(release.status, JSON.stringify(release.body)).toBe(200);
        expect(release.body.orders.map((o: any) => o.orderId)).not.toContain(victim.order.id);
      }
      const after = (await h.get(`/v1/orders/${victim.order.id}`)).body;
      expect(after).toMatchObject({ state: 'cancelled', amounts: { paid: 3_650, refunded: 3_650 } });
      expect(after.events.map((e: any) => e.transition)).not.toContain('release');
      expect(await h.balance(victim.customer.id)).toBe(before + 3_650);
      for (const o of orders) if (o !== victim) expect(await state(o.order.id)).toBe('production');
    }
    expect((await h.check()).ok).toBe(true);
  });

  it('a batch whose deadline passed before any sweep ran is released at its deadline before anything joins it, and history never runs backwards', async () => {
    const start = new Date((await h.get('/v1/test/clock')).body.now);
    const deadline = new Date(start.getTime() + HOUR * 1000).toISOString();
    const { job: j, subjects } = await job({ batchReleaseAt: deadline });
    const a = await preOrder(j, subjects[0]!.accessCode);
    await uploadPhotos(j.id, [{ accessCode: subjects[0]!.accessCode, fileName: 'A.jpg' }, { accessCode: subjects[1]!.accessCode, fileName: 'B.jpg' }]);
    await h.post(`/v1/jobs/${j.id}/collections/${j.collectionId}/populate`, {});
    const first = await h.post(`/v1/jobs/${j.id}/collections/${j.collectionId}/place`, {});
    // The clock passes the deadline with no sweep (a worker down, say): set directly, no deadline runs.
    await h.app.sandboxClock!.setTo(new Date(start.getTime() + 2 * HOUR * 1000));
    expect(await state(a.order.id)).toBe('batch');
    const b = await preOrder(j, subjects[1]!.accessCode);
    await h.post(`/v1/jobs/${j.id}/collections/${j.collectionId}/populate`, {});
    const second = await h.post(`/v1/jobs/${j.id}/collections/${j.collectionId}/place`, {});
    expect(second.status, JSON.stringify(second.body)).toBe(200);
    // A's batch went at its deadline first; B waits in a new one (no deadline left: by hand).
    expect(second.body.batchId).not.toBe(first.body.batchId);
    const events = (await h.get(`/v1/orders/${a.order.id}`)).body.events;
    expect(events.at(-1)).toMatchObject({ transition: 'auto_release', createdAt: deadline });
    const batches = (await h.get(`/v1/jobs/${j.id}`)).body.batches;
    expect(batches.map((x: any) => [x.id, x.status, x.releaseAt])).toEqual([
      [first.body.batchId, 'released', deadline],
      [second.body.batchId, 'open', null],
    ]);
    for (const o of [a, b]) {
      const times = (await h.get(`/v1/orders/${o.order.id}`)).body.events.map((e: any) => Date.parse(e.createdAt));
      expect(times).toEqual([...times].sort((x: number, y: number) => x - y));
    }
  });

  it('photos re-tagged or added after populating: the orders must be populated again before they are placed, and show no stale photo meanwhile', async () => {
    const { job: j, subjects } = await job();
    const [ava, ben] = subjects;
    const a = await preOrder(j, ava!.accessCode);
    const b = await preOrder(j, ben!.accessCode);
    // Ben's portrait was uploaded under Ava's code; populate gives it to Ava's order.
    const [benPhoto] = await uploadPhotos(j.id, [{ accessCode: ava!.accessCode, fileName: 'ACTUALLY_BEN.jpg' }]);
    await h.post(`/v1/jobs/${j.id}/collections/${j.collectionId}/populate`, {});
    expect((await h.get(`/v1/orders/${a.order.id}/job`)).body.photos.map((p: any) => p.fileName)).toEqual(['ACTUALLY_BEN.jpg']);
    // Staff move it to Ben's code: Ava's order no longer shows it, and placing waits for a new populate.
    expect((await h.patch(`/v1/jobs/${j.id}/photos/${benPhoto!.id}`, { accessCode: ben!.accessCode })).status).toBe(200);
    expect((await h.get(`/v1/orders/${a.order.id}/job`, { key: a.customer.key })).body).toMatchObject({ photos: [], populatedAt: null });
    const early = await h.post(`/v1/jobs/${j.id}/collections/${j.collectionId}/place`, {});
    expect(early.status).toBe(409);
    expect(early.body.error.code).toBe('photos_not_populated');
    const again = await h.post(`/v1/jobs/${j.id}/collections/${j.collectionId}/populate`, {});
    expect(again.body.populated.map((p: any) => p.orderId)).toEqual([b.order.id]);
    expect(again.body.withoutPhotos.map((p: any) => p.orderId)).toEqual([a.order.id]);
    const placed = await h.post(`/v1/jobs/${j.id}/collections/${j.collectionId}/place`, {});
    expect(placed.body.placed.map((p: any) => p.orderId)).toEqual([b.order.id]);
    // A photo on an order waiting in a batch cannot be moved away from under it.
    const moved = await h.patch(`/v1/jobs/${j.id}/photos/${benPhoto!.id}`, { accessCode: ava!.accessCode });
    expect(moved.status).toBe(409);
    expect(moved.body.error.code).toBe('photo_in_use');
  });

  it('a step taken while a batch waits past its deadline for a late sweep: the release is dated after it, never before', async () => {
    const start = new Date((await h.get('/v1/test/clock')).body.now);
    const deadline = new Date(start.getTime() + HOUR * 1000).toISOString();
    const { job: j, subjects } = await job({ batchReleaseAt: deadline });
    const a = await preOrder(j, subjects[0]!.accessCode, { credit: true });
    await uploadPhotos(j.id, [{ accessCode: subjects[0]!.accessCode, fileName: 'A.jpg' }]);
    await h.post(`/v1/jobs/${j.id}/collections/${j.collectionId}/populate`, {});
    await h.post(`/v1/jobs/${j.id}/collections/${j.collectionId}/place`, {});
    // Past the deadline with no sweep yet, staff refund part of the order (a system step would not wait).
    const late = new Date(start.getTime() + 2 * HOUR * 1000);
    await h.app.sandboxClock!.setTo(late);
    const refund = await h.post(`/v1/orders/${a.order.id}/refunds`, { amount: 500, destination: 'account_credit', reason: 'Retouching not offered' });
    expect(refund.status, JSON.stringify(refund.body)).toBe(200);
    await advance(h, 1);
    const events = (await h.get(`/v1/orders/${a.order.id}`)).body.events;
    expect(events.slice(-2).map((e: any) => [e.transition, e.createdAt])).toEqual([
      ['refund', late.toISOString()],
      ['auto_release', late.toISOString()],
    ]);
  });
});
